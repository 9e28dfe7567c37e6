"""Writing to the audit log, and checking its hash chain. Entries are only ever added."""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, User
from portal.models.audit import GENESIS, chain_hash, chain_tail
from portal.models.base import utcnow

# Set on the session by every append, so a commit can tell it changed the log (see snapshot.version).
AUDITED = "audited"


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
    db.session.info[AUDITED] = True
    return event


def record_many(actor: User | None, action: str, subject_type: str, events: list[dict[str, Any]]) -> int:
    """Append one event per item of ``events`` (each a dict with ``subject_id`` and any of ``institute_id``,
    ``from_state``, ``to_state``, ``reason``, ``details``, ``action``), all by ``actor`` with ``action`` (unless the
    item names its own) on subjects of
    ``subject_type``, in one hash-chained append: the chain's lock and tail are taken once, each event's hash
    is worked out here in order, and the rows go in by multi-row INSERTs. The events are the ones
    ``record`` would write one by one, written by COPY on PostgreSQL (multi-row INSERTs elsewhere).
    Returns how many were written."""
    if not events:
        return 0
    db.session.flush()  # events the session holds are chained first
    connection = db.session.connection()
    prev = chain_tail(connection)
    now = utcnow()
    rows = []
    for item in events:
        row = {"occurred_at": now, "actor_id": actor.id if actor is not None else None,
               "institute_id": item.get("institute_id"), "action": item.get("action", action),
               "subject_type": subject_type, "subject_id": item["subject_id"],
               "from_state": _text(item.get("from_state")),
               "to_state": _text(item.get("to_state")), "reason": item.get("reason"),
               "details": item.get("details")}
        digest = chain_hash(prev, row)
        rows.append({**row, "prev_hash": prev, "hash": digest})
        prev = digest
    from portal.services.synthetic import bulk  # COPY on PostgreSQL; imported here, as only bulk appends need it

    columns = list(rows[0])
    bulk.insert_tuples(AuditEvent, columns, [tuple(row[c] for c in columns) for row in rows], lambda _n: None)
    db.session.info[AUDITED] = True
    return len(rows)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def head() -> AuditEvent | None:
    """The newest event: its hash vouches for the whole log before it (note it outside the portal)."""
    return db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head: str
    problem: str | None


def verify_chain(batch: int = 1000) -> ChainReport:
    """Walk the log oldest first, recomputing each event's hash; stop at the first break."""
    prev, checked = GENESIS, 0
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)
                                .execution_options(yield_per=batch))
    try:
        for event in events:
            if event.prev_hash != prev:
                return ChainReport(checked, prev, f"event {event.id} ({event.action}) does not follow the event "
                                                  "before it: an event was removed or inserted here")
            if chain_hash(prev, event.content()) != event.hash:
                return ChainReport(checked, prev, f"event {event.id} ({event.action}) does not match its hash: "
                                                  "it was edited")
            prev = event.hash
            checked += 1
    finally:
        events.close()  # a server-side cursor on PostgreSQL, left open when a break ends the walk early
    return ChainReport(checked, prev, None)
