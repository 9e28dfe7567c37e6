"""Keyset pagination and capped counts for lists that grow without bound.

A page after the first starts where the one before ended (``WHERE (a, b) < (last a, last b)``) instead of
skipping rows with OFFSET, so page 500 costs what page 1 does; and the number of matches is counted only
up to a cap ("10,000+"), so a broad filter never costs a scan of the whole table.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import request

from portal.extensions import db
from portal.forms import has_control_characters
from portal.models.base import UTCDateTime

PER_PAGE = 50
COUNT_CAP = 10_000


@dataclass
class Page:
    items: list
    param: str  # the query-string parameter that carries the cursor
    after: str | None  # the cursor of the next page, or None on the last
    first: bool  # this is the first page
    total: "Capped"


@dataclass(frozen=True)
class Capped:
    """A count that stops at a cap; shows as '10,000+' when it reached it."""
    value: int
    cap: int

    @property
    def reached(self) -> bool:
        return self.value > self.cap

    @classmethod
    def exact(cls, value: int) -> "Capped":
        """A count known exactly (from the summary figures), shown whole however large."""
        return cls(value, max(value, COUNT_CAP))

    def __str__(self) -> str:
        return f"{self.cap:,}+" if self.reached else f"{self.value:,}"

    def __int__(self) -> int:
        return self.value


def capped_count(query: sa.Select, cap: int = COUNT_CAP) -> Capped:
    """How many rows ``query`` selects, counting no further than ``cap`` + 1."""
    limited = query.order_by(None).limit(cap + 1).subquery()
    return Capped(db.session.scalar(sa.select(sa.func.count()).select_from(limited)) or 0, cap)


def _cursor(text: str | None, keys: Sequence[Any]) -> list | None:
    """The values of ``keys`` a cursor names, typed like the keys; None for no cursor or a malformed one (which
    shows the first page), so that what reaches the database is always a value its column can hold."""
    if not text:
        return None
    try:
        values = json.loads(text)
        if not isinstance(values, list) or len(values) != len(keys):
            return None
        typed = [_typed(key, value) for key, value in zip(keys, values, strict=True)]
    except (ValueError, TypeError, RecursionError):
        return None
    return None if any(value is None for value in typed) else typed


def _typed(key: Any, value: Any) -> Any:
    """``value`` as ``key``'s column takes it: an aware datetime, an integer within the column's range, or text
    without control characters; None for anything else."""
    if isinstance(key.type, UTCDateTime):
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        return moment if moment is not None and moment.tzinfo is not None else None
    if isinstance(key.type, sa.Integer):
        bits = 63 if isinstance(key.type, sa.BigInteger) else 31  # INTEGER is 32 bits on PostgreSQL
        ok = isinstance(value, int) and not isinstance(value, bool) and -(2**bits) <= value < 2**bits
        return value if ok else None
    return value if isinstance(value, str) and not has_control_characters(value) else None


def keyset(query: sa.Select | None, keys: Sequence[Any], row_key: Callable[[Any], Sequence[Any]], *,
           descending: bool, per_page: int | None = None, scalars: bool = True,
           count: bool = True, param: str = "after", total: int | None = None, cursor: str | None = None) -> Page:
    """One page of ``per_page`` rows (PER_PAGE unless told) of ``query`` ordered by ``keys`` (all ascending or all
    descending; the last one unique), after the cursor in the query string's ``param``. ``row_key`` gives a row's
    values of ``keys`` (strings or integers, so the cursor survives a URL). A ``query`` of None is a filter that
    matches nothing. The page's total is ``total`` when the caller knows it without counting (from the summary
    figures), else a capped count of the matches if ``count``. ``cursor``: the cursor's text when it does not
    come from the query string (the JSON API's opaque cursors)."""
    per_page = per_page or PER_PAGE
    if query is None:  # a filter that can match nothing
        return Page(items=[], param=param, after=None, first=True, total=Capped(0, COUNT_CAP))
    values = _cursor(request.args.get(param) if cursor is None else cursor, keys)
    known = Capped.exact(total) if total is not None else None
    total_of_page = known or (capped_count(query) if count else Capped(0, 0))
    if values is not None:
        row = sa.tuple_(*keys)
        bound = sa.tuple_(*(sa.literal(v, type_=key.type) for key, v in zip(keys, values, strict=True)))
        query = query.where(row < bound if descending else row > bound)
    ordered = (query.order_by(None).order_by(*(key.desc() if descending else key.asc() for key in keys))
               .limit(per_page + 1))
    result = db.session.scalars(ordered) if scalars else db.session.execute(ordered)
    items = list(result.unique() if scalars else result)
    more = len(items) > per_page
    items = items[:per_page]
    after = json.dumps([_plain(v) for v in row_key(items[-1])], separators=(",", ":")) if more and items else None
    return Page(items=items, param=param, after=after, first=values is None, total=total_of_page)


def _plain(value: Any) -> str | int:
    if isinstance(value, datetime):
        return value.isoformat()
    return value if isinstance(value, int) else str(value)
