"""Bulk writing for the synthetic network, and the audit log and notifications the services would write."""

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from enum import StrEnum
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, Notification
from portal.models.audit import chain_hash, chain_tail
from portal.models.encryption import EncryptedString, encrypt
from portal.services import outbox

CHUNK = 5_000

Tick = Callable[[int], None]
Rows = list[dict[str, Any]]  # rows for a bulk insert, one dict of column values each


def next_id(model) -> int:
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


def _copy_value(value):
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def insert(model, rows: Rows, tick: Tick) -> None:
    """Bulk insert: COPY on PostgreSQL, multi-row INSERTs elsewhere, in the session's transaction."""
    if rows:
        insert_tuples(model, list(rows[0]), [tuple(row.values()) for row in rows], tick)


def insert_tuples(model, columns: list[str], rows: list[tuple], tick: Tick) -> None:
    """``insert`` for rows given as tuples in the order of ``columns`` (a third of the memory of dicts)."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection  # psycopg's own connection, for COPY
        assert driver is not None  # a connection checked out of the pool always has one
        # COPY passes the types by: encrypted columns are encrypted here, as an INSERT would
        encrypted = {i for i, name in enumerate(columns) if isinstance(model.__table__.c[name].type, EncryptedString)}
        with (driver.cursor() as cursor,
              cursor.copy(f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy):
            for start in range(0, len(rows), CHUNK):
                for row in rows[start:start + CHUNK]:
                    copy.write_row([encrypt(value) if i in encrypted and value is not None else _copy_value(value)
                                    for i, value in enumerate(row)])
                tick(min(CHUNK, len(rows) - start))
        return
    for start in range(0, len(rows), CHUNK):
        batch = rows[start:start + CHUNK]
        db.session.execute(sa.insert(model), [dict(zip(columns, row, strict=True)) for row in batch])
        tick(len(batch))


class Link:
    """Absolute links for notifications, built once per endpoint (building each of a million costs seconds)."""

    _MARK = 987654321

    def __init__(self) -> None:
        self._made: dict[str, str] = {}

    def __call__(self, endpoint: str, key: str, value: int) -> str:
        if endpoint not in self._made:
            self._made[endpoint] = outbox.link(endpoint, **{key: self._MARK})
        return self._made[endpoint].replace(str(self._MARK), str(value))


AUDIT_COLUMNS = ["occurred_at", "actor_id", "institute_id", "action", "subject_type", "subject_id",
                 "from_state", "to_state", "reason", "details"]
NOTIFICATION_COLUMNS = ["created_at", "user_id", "message", "link", "read_at"]


class Activity:
    """What the services write beside each change: an audit event for it, and notifications to the people told.

    Collected while the network is made, then written in time order, so ids follow time as they do live.
    """

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.notifications: list[tuple] = []
        self.link = Link()

    def event(self, at: datetime, actor: int | None, action: str, subject_type: str, subject_id: int | None, *,
              institute: int | None = None, from_state: str | None = None, to_state: str | None = None,
              reason: str | None = None, details: dict | None = None) -> None:
        self.events.append((at, actor, institute, action, subject_type, subject_id, from_state, to_state,
                            reason, details))

    def notify(self, at: datetime, user_id: int, message: str, link: str, read_at: datetime | None) -> None:
        self.notifications.append((at, user_id, message, link, read_at))

    def write(self, tick: Tick) -> tuple[int, int]:
        """Insert everything collected, oldest first, after the ids already taken; returns the counts.
        Audit events are chained to the log's newest event and to each other, as the services' are."""
        self.events.sort(key=itemgetter(0))
        self.notifications.sort(key=itemgetter(0))
        start = next_id(AuditEvent)
        insert_tuples(AuditEvent, ["id", *AUDIT_COLUMNS, "prev_hash", "hash"],
                      [(start + n, *row) for n, row in enumerate(chained(self.events))], tick)
        start = next_id(Notification)
        insert_tuples(Notification, ["id", *NOTIFICATION_COLUMNS],
                      [(start + n, *row) for n, row in enumerate(self.notifications)], tick)
        return len(self.events), len(self.notifications)


def chained(events: list[tuple]) -> Iterator[tuple]:
    """Each event (in AUDIT_COLUMNS order) with the hash of the one before it and its own."""
    prev = chain_tail(db.session.connection())
    for row in events:
        digest = chain_hash(prev, dict(zip(AUDIT_COLUMNS, row, strict=True)))
        yield (*row, prev, digest)
        prev = digest
