"""Writing to the audit log. Entries are only ever added."""

from typing import Any

from portal.extensions import db
from portal.models import AuditEvent, User


def record(
    actor: User | None,
    action: str,
    subject: Any,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    institute_id: int | None = None,
) -> AuditEvent:
    """Add an audit event for ``subject`` (a model instance, flushed so it has an id)."""
    if subject.id is None:
        db.session.flush()
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=subject.__tablename__,
        subject_id=subject.id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        details=details,
        institute_id=institute_id,
    )
    db.session.add(event)
    return event
