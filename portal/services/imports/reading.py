"""Reading an import file, CSV or Excel (.xlsx), into rows of text keyed by column name."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath

from portal.services import DomainError

# An upload larger than this is refused before it is read (the web server refuses it with 413 too).
MAX_BYTES = 25 * 1024 * 1024
MAX_ROWS = 200_000
XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number as a spreadsheet shows it, cells)


def _cell(value) -> str:
    """An Excel cell as the text a person would have typed into a CSV."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_lines(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # imported here: only Excel uploads need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise DomainError("file", "The file could not be read as an Excel workbook (.xlsx)") from error
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in values]
    finally:
        workbook.close()


def _csv_lines(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DomainError("file", "The file is not UTF-8 text: save it as CSV UTF-8 or as .xlsx") from error
    if "\x00" in text:
        raise DomainError("file", "The file is not a CSV file: save it as CSV UTF-8 or as .xlsx")
    yield from csv.reader(io.StringIO(text, newline=""))


# What an import reads, by the file name's ending (a name without one is read by its content).
READABLE = (".csv", ".txt", ".xlsx")


def check_size(size: int) -> None:
    """A file larger than MAX_BYTES is refused before it is read."""
    if size > MAX_BYTES:
        raise DomainError("file", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB "
                                  f"({size / (1024 * 1024):,.0f} MB); split it into several files", status=413)


def check_file_name(filename: str) -> None:
    """Only CSV and Excel (.xlsx) files: a PDF, a Word file or an old .xls is named in the answer."""
    suffix = PurePath(filename).suffix.lower()
    if suffix and suffix not in READABLE:
        raise DomainError("file", f"A {suffix} file cannot be imported: save it as CSV UTF-8 (.csv) or as Excel "
                                  "(.xlsx)")


def read_table(data: bytes, filename: str) -> Table:
    """The header (lower-cased names) and the non-blank rows; DomainError for a file that cannot be read."""
    check_file_name(filename)
    if not data:
        raise DomainError("file", "The file is empty")
    check_size(len(data))
    excel = data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx")
    lines = _xlsx_lines(data) if excel else _csv_lines(data)
    try:
        header = [name.strip().lower() for name in next(lines)]
    except StopIteration:
        raise DomainError("file", "The file is empty") from None
    while header and not header[-1]:
        header.pop()
    if not any(header):
        raise DomainError("file", "Row 1 must name the columns; it is empty")
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise DomainError("file", f"The file has more than {MAX_ROWS:,} rows; split it into several files",
                              status=413)
        rows.append((number, {name: (cells[i].strip() if i < len(cells) else "")
                              for i, name in enumerate(header) if name}))
    return Table(header=header, rows=rows)
