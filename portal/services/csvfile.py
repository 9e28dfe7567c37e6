"""The one CSV writer every export uses: rosters, ledgers and the snapshot's tables.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return) as a formula, so
such a cell is written with a leading apostrophe. Numbers, negative ones included, are left as
they are.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from portal.extensions import db

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def safe_cell(value: Any) -> Any:
    """``value``, or text that a spreadsheet would run as a formula with an apostrophe in front."""
    if isinstance(value, str) and value[:1] in FORMULA_LEADS and not _NUMBER.match(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose rows have every cell made safe first."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        # safe_cell written out in place: an export of a million rows calls it for every cell
        self._writer.writerow([
            "'" + value if isinstance(value, str) and value[:1] in FORMULA_LEADS and not _NUMBER.match(value)
            else value for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out, **options) -> SafeWriter:
    return SafeWriter(out, **options)


def stream(columns: list[str], rows: Iterable[Iterable[Any]], batch: int = 500) -> Iterator[str]:
    """A header line, then the rows, as CSV text in pieces of ``batch`` rows: a response can send the
    header before the first row is read, and holds no more than a piece at a time."""
    out = io.StringIO()
    safe = writer(out)
    safe.writerow(columns)
    yield out.getvalue()
    count = 0
    out.seek(0)
    out.truncate()
    for row in rows:
        safe.writerow(row)
        count += 1
        if count == batch:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            count = 0
    if count:
        yield out.getvalue()


def rows_of(query, batch: int = 2_000) -> Iterator[Any]:
    """The rows ``query`` selects, read ``batch`` at a time (a server-side cursor on PostgreSQL). It holds
    on to the session that reads them: a streamed response is read after the request's own session is gone."""
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        # An export reads every row, so plan for all of them: a cursor is otherwise planned for its first
        # tenth (cursor_tuple_fraction), which at a million ledger entries walked them all in time order
        # through nested loops, ten times slower than joining and sorting the institute's own
        # (https://www.postgresql.org/docs/15/runtime-config-query.html#GUC-CURSOR-TUPLE-FRACTION).
        session.execute(sa.text("SET LOCAL cursor_tuple_fraction = 1.0"))
    if any(isinstance(column["expr"], type) for column in query.column_descriptions):  # whole objects
        yield from session.execute(query.execution_options(yield_per=batch))
    else:  # columns only: the connection's rows, without the ORM's work per row (a third of the CPU)
        yield from session.connection().execute(query.execution_options(yield_per=batch))


def to_csv(columns: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A header line and the rows, as CSV text."""
    return "".join(stream(columns, rows))

