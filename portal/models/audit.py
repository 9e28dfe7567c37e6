"""The append-only audit log shared by the whole portal."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, utcnow

if TYPE_CHECKING:  # for type checkers only: SQLAlchemy resolves these names itself, and importing them would loop
    from portal.models.user import User


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_subject", "subject_type", "subject_id"),
        # an institute's log, newest first, a page after an (occurred_at, id)
        sa.Index("ix_audit_events_institute_time", "institute_id", "occurred_at", "id"),
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

    actor: so.Mapped["User | None"] = so.relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.subject_type}:{self.subject_id}>"



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



def make_append_only(table: sa.Table) -> None:
    """On PostgreSQL, refuse UPDATE and DELETE on ``table`` whenever it is created."""
    sa.event.listen(table, "after_create", sa.DDL(APPEND_ONLY_FUNCTION).execute_if(dialect="postgresql"))
    sa.event.listen(table, "after_create",
                    sa.DDL(APPEND_ONLY_TRIGGER.format(table=table.name)).execute_if(dialect="postgresql"))


make_append_only(AuditEvent.__table__)
