"""Domain rules. Services take the acting user explicitly, flush but never commit."""

from typing import cast

import sqlalchemy as sa

from portal.extensions import db


def updated_rows(statement: sa.Update) -> int:
    """Run ``statement`` in the session and return how many rows it matched.

    Session.execute is typed as returning a Result, but for an UPDATE it is a CursorResult, which has the
    row count."""
    return cast(sa.CursorResult, db.session.execute(statement)).rowcount


class DomainError(Exception):
    """A rule was broken; ``field`` names the form field the message belongs to (or None)."""

    def __init__(self, field: str | None, message: str, *, status: int = 422):
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


class Repeat(Exception):
    """The form's one-time key was used already; ``entry`` is what the first submission made."""

    def __init__(self, entry):
        super().__init__("repeated submission")
        self.entry = entry
