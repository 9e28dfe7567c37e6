"""Bulk writing for the synthetic network, and the audit log and notifications the services would write."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import JsonDumper

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
        with driver.cursor() as cursor:
            # a dict goes in as JSON text; a StrEnum is a str, written as its value
            cursor.adapters.register_dumper(dict, JsonDumper)
            with cursor.copy(f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy:
                for start in range(0, len(rows), CHUNK):
                    for row in rows[start:start + CHUNK]:
                        copy.write_row([encrypt(value) if i in encrypted and value is not None else value
                                        for i, value in enumerate(row)] if encrypted else row)
                    tick(min(CHUNK, len(rows) - start))
        return
    for start in range(0, len(rows), CHUNK):
        batch = rows[start:start + CHUNK]
        db.session.execute(sa.insert(model), [dict(zip(columns, row, strict=True)) for row in batch])
        tick(len(batch))


# Indexes, unique constraints and foreign keys of the tables a bulk load writes, as PostgreSQL describes them:
# (name, how to drop it, how to make it again). Primary keys stay (ids are written in order, cheap to index)
# and so does a unique constraint a foreign key relies on.
_SET_ASIDE = """
SELECT c.conname, 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
       'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' '
           || pg_get_constraintdef(c.oid), c.contype
FROM pg_constraint c
WHERE c.conrelid = ANY(CAST(:tables AS regclass[])) AND (c.contype = 'f' OR (c.contype = 'u' AND NOT EXISTS (
    SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)))
UNION ALL
SELECT i.indexrelid::regclass::text, 'DROP INDEX ' || i.indexrelid::regclass, pg_get_indexdef(i.indexrelid), 'i'
FROM pg_index i
WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
"""


@contextmanager
def indexes_afterwards(models: list) -> Iterator[None]:
    """On PostgreSQL, set aside the secondary indexes, unique constraints and foreign keys of these tables while
    the rows go in, and make them again afterwards in the same transaction: building an index from all its
    rows at once, and checking a foreign key with one join, is several times faster than doing either for
    each row. Every constraint is checked in the end all the same (a violation fails the load). Elsewhere
    nothing changes."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    tables = [model.__tablename__ for model in models]
    found = list(connection.execute(sa.text(_SET_ASIDE), {"tables": tables}).all())
    order = {"f": 0, "u": 1, "i": 2}  # foreign keys go first and come back last
    found.sort(key=lambda row: order[row[3]])
    for _name, drop, _make, _kind in found:
        connection.execute(sa.text(drop))
    yield
    connection.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
    for _name, _drop, make, _kind in reversed(found):
        connection.execute(sa.text(make))
    for table in tables:  # the planner's statistics, before anyone reads the new rows
        connection.execute(sa.text(f"ANALYZE {table}"))


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
