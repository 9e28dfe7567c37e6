"""Staff change what they published: a program's details, a session's dates, place and seats, or cancel a
session as a whole.

Each change keeps the rules of the first publication, and the figures the snapshot publishes move in the
same transaction when a change moves them (a program becoming educator training, or ceasing to be, moves
its completions). A session's seats never go below the seats taken; more seats go to the waitlist in
order, each person told; a cancelled session cancels every sign-up and tells everyone.
"""

from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Figure,
    Format,
    Program,
    ProgramAudience,
    ProgramKind,
    ProgramSession,
    Signup,
    SignupStatus,
    User,
)
from portal.services import DomainError, audit, clock, notifications, summary
from portal.services.ledger import fiscal_year_of
from portal.services.workforce import (
    ProgramInput,
    SessionInput,
    check_program,
    check_session,
    promote,
)
from portal.services.workforce_figures import EDUCATORS_TRAINED


def _completions_by_year(program: Program) -> Counter:
    rows = db.session.execute(
        sa.select(ProgramSession.fiscal_year, sa.func.count(Signup.id))
        .join(Signup, Signup.session_id == ProgramSession.id)
        .where(ProgramSession.program_id == program.id, Signup.completed_at.is_not(None))
        .group_by(ProgramSession.fiscal_year))
    return Counter(dict(rows.all()))


def edit_program(actor: User, program: Program, data: ProgramInput) -> Program:
    """Change a program's details; its sessions and sign-ups stay."""
    title, audiences = check_program(data)
    was_training = program.kind == ProgramKind.EDUCATOR_TRAINING
    now_training = data.kind == ProgramKind.EDUCATOR_TRAINING
    if was_training != now_training:  # its completions count as educators trained, or stop counting
        step = 1 if now_training else -1
        summary.add({(program.institute_id, Figure.WORKFORCE, f"{year}:{EDUCATORS_TRAINED}"): step * n
                     for year, n in _completions_by_year(program).items()})
    before = {"kind": str(program.kind), "title": program.title, "audiences": [str(a) for a in program.audience_values]}
    program.kind, program.title, program.format = ProgramKind(data.kind), title, Format(data.format)
    program.description, program.credential = data.description.strip(), data.credential.strip()
    program.cost_cents, program.partners = data.cost_cents, data.partners.strip()
    program.audiences = [ProgramAudience(audience=a) for a in audiences]
    db.session.flush()
    audit.record(actor, "workforce.program_edited", program, institute_id=program.institute_id,
                 details={"before": before, "kind": data.kind, "title": title, "audiences": audiences})
    return program


def _lock(session: ProgramSession) -> None:
    """One change to a session's seats at a time: sign-ups wait for it, as they wait for a cancellation."""
    db.session.refresh(session, with_for_update=True)


def edit_session(actor: User, session: ProgramSession, data: SessionInput, *, now: datetime | None = None
                 ) -> ProgramSession:
    """Change a session's dates, place and seats. Seats never go below the seats taken; new seats go to the
    waitlist in order. Once attendance is on record the dates stay (the figures count it under its year)."""
    now = now or clock.now()
    _lock(session)
    if session.cancelled_at is not None:
        raise DomainError(None, "This session is cancelled; it can no longer change", status=409)
    starts_at, ends_at = check_session(data, now=now if data.starts_at != session.starts_at else None)
    assert data.capacity is not None  # check_session refuses a missing capacity
    if data.capacity < session.seats_taken:
        raise DomainError("capacity", f"{session.seats_taken} places are taken; the seats cannot be fewer "
                                      "(cancel sign-ups first)")
    attended = db.session.scalar(sa.select(Signup.id).where(Signup.session_id == session.id, Signup.attended)
                                 .limit(1)) is not None
    moved = starts_at != session.starts_at or ends_at != session.ends_at
    if moved and attended:
        raise DomainError("starts_at", "Attendance is recorded for this session, so its dates stay as they are")
    before = {"starts_at": session.starts_at.isoformat(), "capacity": session.capacity}
    if starts_at != session.starts_at:  # a reminder of the old time told the wrong time
        session.reminded_at = None
        db.session.execute(sa.update(Signup).where(Signup.session_id == session.id).values(reminded_at=None))
    session.starts_at, session.ends_at = starts_at, ends_at
    session.fiscal_year = fiscal_year_of(starts_at.astimezone(UTC).date())
    session.online, session.place = data.online, "" if data.online else data.place.strip()
    session.state = "" if data.online else (data.state or "").strip().upper()
    session.capacity = data.capacity
    db.session.flush()
    audit.record(actor, "workforce.session_edited", session, institute_id=session.program.institute_id,
                 details={"before": before, "starts_at": starts_at.isoformat(), "capacity": data.capacity})
    if session.starts_at > now:
        while session.seats_taken < session.capacity and promote(actor, session) is not None:
            db.session.refresh(session)
    return session


def cancel_session(actor: User, session: ProgramSession, reason: str, *, now: datetime | None = None
                   ) -> int:
    """Cancel a session as a whole: every live sign-up is cancelled and its person told; returns how many."""
    now = now or clock.now()
    _lock(session)
    if session.cancelled_at is not None:
        raise DomainError(None, "This session is already cancelled", status=409)
    if not (reason or "").strip():
        raise DomainError("reason", "Give the participants the reason for cancelling")
    if db.session.scalar(sa.select(Signup.id).where(Signup.session_id == session.id, Signup.attended)
                         .limit(1)) is not None:
        raise DomainError(None, "Attendance is recorded for this session, so it cannot be cancelled", status=409)
    live = list(db.session.scalars(sa.select(Signup).where(
        Signup.session_id == session.id, Signup.status != SignupStatus.CANCELLED).order_by(Signup.id)))
    program = session.program
    for signup in live:
        was = signup.status
        signup.status, signup.cancelled_at = SignupStatus.CANCELLED, now
        audit.record(actor, "workforce.cancelled", signup, from_state=was, to_state=SignupStatus.CANCELLED,
                     reason=reason.strip(), institute_id=program.institute_id,
                     details={"session_id": session.id, "session_cancelled": True})
    session.seats_taken, session.cancelled_at = 0, now
    db.session.flush()
    people = [signup.user for signup in live if signup.user is not None]
    notifications.notify(people, f"{program.institute.acronym} cancelled {program.title} on "
                         f"{clock.long_date(session.starts_at)}: {reason.strip()}", "workforce.my_sessions")
    audit.record(actor, "workforce.session_cancelled", session, to_state="cancelled", reason=reason.strip(),
                 institute_id=program.institute_id, details={"signups": len(live)})
    return len(live)

