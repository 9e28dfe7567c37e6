"""What an address carries besides a form: ids in the path and the query string, and the page number of a list.

None ever reaches the database as a number it cannot hold: an id beyond ``MAX_ID`` in the path matches no route
(404), one in the query string is ignored, and a page number that is not a plain positive number within
``MAX_PAGE`` is read as the first page.
"""

from flask import request
from werkzeug.routing import IntegerConverter, Map

from portal.forms import record_id
from portal.models.base import MAX_ID

# Far beyond any list the portal shows (a page of 50 rows each), and small enough that page times rows
# stays a number every database takes as an OFFSET.
MAX_PAGE = 1_000_000


class RecordIdConverter(IntegerConverter):
    """``<int:...>`` in every route: ASCII digits from 0 to ``MAX_ID``; anything larger names no row (404)."""

    regex = r"[0-9]+"

    def __init__(self, map: Map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def page_number() -> int:
    """The ``page`` asked for in the query string; missing or unreadable (text, zero, a huge number) is page 1."""
    text = request.args.get("page", "")
    if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_PAGE)) and 1 <= int(text) <= MAX_PAGE:
        return int(text)
    return 1


def query_id(name: str) -> int | None:
    """The id given as ``name`` in the query string; missing or not an id a row can have is None (ignored)."""
    try:
        return record_id(request.args.get(name, ""))
    except ValueError:
        return None
