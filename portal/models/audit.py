"""The append-only audit log shared by the whole portal.

Each event carries the SHA-256 of the event before it (``prev_hash``) and of itself (``hash``, over its
content and ``prev_hash``): editing, removing or inserting an event anywhere breaks the chain from there
on, which ``flask audit verify`` finds. Appends are serialized (an advisory lock on PostgreSQL; SQLite
transactions that write already begin IMMEDIATE), so two transactions never fork the chain.
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, utcnow

GENESIS = "0" * 64
# The advisory lock that serializes appends to the chain on PostgreSQL (any fixed number).
CHAIN_LOCK = 7_418_001

if TYPE_CHECKING:  # for type checkers only: SQLAlchemy resolves these names itself, and importing them would loop
    from portal.models.user import User


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_subject", "subject_type", "subject_id"),
        # an institute's log, newest first, a page after an (occurred_at, id)
        sa.Index("ix_audit_events_institute_time", "institute_id", "occurred_at", "id"),
        # the log's filter by kind, ``action LIKE 'kind.%'``: PostgreSQL compares bytes for a prefix only with
        # the pattern operator class (https://www.postgresql.org/docs/15/indexes-opclass.html)
        sa.Index("ix_audit_events_action", "action", postgresql_ops={"action": "varchar_pattern_ops"}),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    occurred_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    institute_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    subject_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    subject_id: so.Mapped[int | None]
    from_state: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    to_state: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    details: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)

    actor: so.Mapped["User | None"] = so.relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.subject_type}:{self.subject_id}>"

    def content(self) -> dict[str, Any]:
        return {"occurred_at": self.occurred_at, "actor_id": self.actor_id, "institute_id": self.institute_id,
                "action": self.action, "subject_type": self.subject_type, "subject_id": self.subject_id,
                "from_state": self.from_state, "to_state": self.to_state, "reason": self.reason,
                "details": self.details}


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """The hash of an event: over the previous event's hash and the event's content, in a canonical form."""
    fields = dict(content)
    when = fields["occurred_at"]
    if isinstance(when, datetime):
        fields["occurred_at"] = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


def chain_tail(connection: sa.Connection) -> str:
    """The newest event's hash, after taking the chain's lock (held to the end of the transaction)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(CHAIN_LOCK)))
    table = AuditEvent.__table__
    tail = connection.scalar(sa.select(table.c.hash).order_by(table.c.id.desc()).limit(1))
    return tail or GENESIS


@sa.event.listens_for(AuditEvent, "before_insert")
def _link(_mapper, connection: sa.Connection, event: AuditEvent) -> None:
    """Chain each event to the one before it as it is written. Events written in one statement are chained
    in the order they are inserted; the tail is remembered only until they are."""
    if event.occurred_at is None:
        event.occurred_at = utcnow()
    prev = connection.info.get("audit_tail") or chain_tail(connection)
    event.prev_hash = prev
    event.hash = chain_hash(prev, event.content())
    connection.info["audit_tail"] = event.hash


@sa.event.listens_for(AuditEvent, "after_insert")
def _written(_mapper, connection: sa.Connection, _event: AuditEvent) -> None:
    connection.info.pop("audit_tail", None)


@sa.event.listens_for(sa.Engine, "rollback")
@sa.event.listens_for(sa.Engine, "commit")
def _forget_tail(connection: sa.Connection) -> None:
    """A flush that failed between linking and inserting must not leave its tail to the next transaction."""
    connection.info.pop("audit_tail", None)



# On PostgreSQL the database itself refuses to change or remove a recorded event.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused';
END;
$$
"""
APPEND_ONLY_TRIGGER = (
    "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
)
NO_TRUNCATE_TRIGGER = (
    "CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()"
)



def make_append_only(table: sa.Table) -> None:
    """On PostgreSQL, refuse UPDATE, DELETE and TRUNCATE on ``table`` whenever it is created."""
    sa.event.listen(table, "after_create", sa.DDL(APPEND_ONLY_FUNCTION).execute_if(dialect="postgresql"))
    for trigger in (APPEND_ONLY_TRIGGER, NO_TRUNCATE_TRIGGER):
        sa.event.listen(table, "after_create",
                        sa.DDL(trigger.format(table=table.name)).execute_if(dialect="postgresql"))


make_append_only(AuditEvent.__table__)
