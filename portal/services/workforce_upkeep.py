"""Workforce upkeep: reminders before a session (daily), and a participant deleting their workforce records."""

from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import Program, ProgramSession, Signup, SignupStatus, User
from portal.services import audit, clock, notifications, workforce

REMIND_WITHIN = timedelta(days=2)


def remind(*, now: datetime | None = None, within: timedelta = REMIND_WITHIN) -> int:
    """Tell everyone with a confirmed place of a session starting within ``within`` who has not been told
    yet: once per person and session, so a place given after the session's reminder is reminded too."""
    now = now or clock.now()
    waiting = (sa.select(Signup.id).where(Signup.session_id == ProgramSession.id,
                                          Signup.status == SignupStatus.CONFIRMED, Signup.reminded_at.is_(None))
               .exists())
    sessions = db.session.scalars(
        sa.select(ProgramSession).where(ProgramSession.starts_at > now, ProgramSession.starts_at <= now + within,
                                        ProgramSession.cancelled_at.is_(None), waiting)
        .options(so.joinedload(ProgramSession.program).joinedload(Program.institute))
        .order_by(ProgramSession.starts_at).with_for_update(of=ProgramSession, skip_locked=True)).unique().all()
    told = 0
    for session in sessions:
        session.reminded_at = session.reminded_at or now
        told += remind_signups(session, now)
    return told


def remind_signups(session: ProgramSession, now: datetime) -> int:
    """Remind the confirmed people of ``session`` not yet reminded (the caller holds the session's lock)."""
    signups = db.session.scalars(sa.select(Signup).where(
        Signup.session_id == session.id, Signup.status == SignupStatus.CONFIRMED, Signup.reminded_at.is_(None))
        .options(so.joinedload(Signup.user))).all()
    for signup in signups:
        signup.reminded_at = now
    people = [signup.user for signup in signups if signup.user is not None]
    where = "online" if session.online else f"at {session.place}"
    for person in people:  # each reads the time in their own zone
        notifications.notify([person], f"Reminder: {session.program.title} ({session.program.institute.acronym}) "
                             f"starts on {clock.local_time(session.starts_at, person.time_zone)}, {where}.",
                             "workforce.my_sessions")
    return len(people)


def forget(actor: User, *, now: datetime | None = None) -> int:
    """Delete the actor's workforce records: places to come are cancelled (a waiting person moves up) and
    every sign-up is unlinked from the account. The rows stay, unnamed, so the published counts do not
    move; credentials stay verifiable by their code, which names nobody."""
    now = now or clock.now()
    signups = db.session.scalars(sa.select(Signup).where(Signup.user_id == actor.id)
                                 .options(so.joinedload(Signup.session))).unique().all()
    for signup in signups:
        if (signup.status != SignupStatus.CANCELLED and not signup.attended
                and signup.session.starts_at > now):
            workforce.cancel(actor, signup, now=now)
    ids = [s.id for s in signups]
    if ids:
        db.session.execute(sa.update(Signup).where(Signup.id.in_(ids)).values(user_id=None))
    audit.record(actor, "workforce.records_deleted", actor, details={"signups": len(ids)})
    db.session.expire_all()
    return len(ids)
