"""Workforce and education: programs, sessions, sign-ups with a waitlist, attendance, completion,
credentials and outreach counts.

A session's seats are taken by a conditional UPDATE of its ``seats_taken`` (only while some are left),
which the database also bounds with a CHECK, so however many people sign up at once no session holds
more confirmed people than seats; the others wait in sign-up order. Every change is audited, and the
figures the snapshot publishes move in the same transaction (``workforce_figures``).
"""

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from portal import authz
from portal.extensions import db
from portal.geography import US_STATES
from portal.models import (
    Audience,
    Credential,
    Format,
    Institute,
    OutreachEvent,
    Program,
    ProgramAudience,
    ProgramKind,
    ProgramSession,
    Signup,
    SignupStatus,
    User,
)
from portal.services import DomainError, audit, clock, dates, notifications, summary, updated_rows, workforce_figures
from portal.services.ledger import fiscal_year_of

MAX_CAPACITY = 10_000
MAX_COST_CENTS = 100_000_00  # $100,000: more than any program of the network charges
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def _is_staff(actor: User, institute_id: int) -> bool:
    return authz.can_manage_institute(actor, db.session.get_one(Institute, institute_id))


# Programs and sessions -----------------------------------------------------------------------

@dataclass
class ProgramInput:
    kind: str
    title: str
    format: str
    audiences: list[str] = field(default_factory=list)
    description: str = ""
    credential: str = ""
    cost_cents: int = 0
    partners: str = ""


def check_program(data: ProgramInput) -> tuple[str, list[str]]:
    """A program's details as published or edited: its title and audiences, cleaned."""
    title = data.title.strip()
    if not title:
        raise DomainError("title", "Give the program a title")
    if data.kind not in set(ProgramKind):
        raise DomainError("kind", "Choose what kind of program this is")
    if data.format not in set(Format):
        raise DomainError("format", "Choose in person or online")
    audiences = sorted(set(data.audiences))
    if not audiences or any(a not in set(Audience) for a in audiences):
        raise DomainError("audiences", "Choose at least one audience")
    if not 0 <= data.cost_cents <= MAX_COST_CENTS:
        raise DomainError("cost", "Enter a cost from $0 to $100,000")
    return title, audiences


def publish_program(actor: User, institute: Institute, data: ProgramInput) -> Program:
    """Publish a program of the institute: it shows in the public finder at once."""
    title, audiences = check_program(data)
    program = Program(institute_id=institute.id, kind=data.kind, title=title, format=data.format,
                      description=data.description.strip(), credential=data.credential.strip(),
                      cost_cents=data.cost_cents, partners=data.partners.strip(), created_by_id=actor.id,
                      audiences=[ProgramAudience(audience=a) for a in audiences])
    db.session.add(program)
    db.session.flush()
    audit.record(actor, "workforce.program_published", program, institute_id=institute.id,
                 details={"kind": data.kind, "title": title, "audiences": audiences})
    return program


@dataclass
class SessionInput:
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int | None
    online: bool = False
    place: str = ""
    state: str = ""


def schedule_session(actor: User, program: Program, data: SessionInput, *,
                     now: datetime | None = None) -> ProgramSession:
    """Add a dated session to a program."""
    starts_at, ends_at = check_session(data, now=now or clock.now())
    session = ProgramSession(program_id=program.id, starts_at=starts_at, ends_at=ends_at,
                             fiscal_year=fiscal_year_of(starts_at.astimezone(UTC).date()),
                             online=data.online, place="" if data.online else data.place.strip(),
                             state="" if data.online else (data.state or "").strip().upper(),
                             capacity=data.capacity)
    db.session.add(session)
    db.session.flush()
    audit.record(actor, "workforce.session_scheduled", session, institute_id=program.institute_id,
                 details={"program_id": program.id, "starts_at": starts_at.isoformat(),
                          "capacity": data.capacity})
    return session


def check_session(data: SessionInput, *, now: datetime | None) -> tuple[datetime, datetime]:
    """A session's times, seats and place as scheduled or edited; ``now`` None leaves the start's window
    unchecked (an edit that keeps the start). Returns the start and end."""
    if data.starts_at is None or data.starts_at.tzinfo is None:
        raise DomainError("starts_at", "Enter when the session starts")
    if data.ends_at is None or data.ends_at.tzinfo is None:
        raise DomainError("ends_at", "Enter when the session ends")
    if now is not None:
        dates.check_session_times(data.starts_at, data.ends_at, now=now)
    elif data.ends_at <= data.starts_at:
        raise DomainError("ends_at", "The session must end after it starts")
    if data.capacity is None or data.capacity <= 0:
        raise DomainError("capacity", "Enter how many people can take part: at least 1")
    if data.capacity > MAX_CAPACITY:
        raise DomainError("capacity", f"At most {MAX_CAPACITY:,} people a session")
    place, state = data.place.strip(), (data.state or "").strip().upper()
    if not data.online and not place:
        raise DomainError("place", "Say where the session is held, or mark it online")
    if not data.online and state not in US_STATES:
        raise DomainError("state", "Choose the state or territory where it is held")
    return data.starts_at, data.ends_at


# Sign-ups and the waitlist -------------------------------------------------------------------

def _take_seat(session: ProgramSession) -> bool:
    """Take one seat if any is left: one conditional UPDATE, so concurrent sign-ups never overfill."""
    table = ProgramSession.__table__
    return updated_rows(sa.update(table).where(table.c.id == session.id, table.c.seats_taken < table.c.capacity)
                        .values(seats_taken=table.c.seats_taken + 1)) == 1


def _free_seat(session: ProgramSession) -> None:
    table = ProgramSession.__table__
    db.session.execute(sa.update(table).where(table.c.id == session.id).values(seats_taken=table.c.seats_taken - 1))


def waitlist_position(signup: Signup) -> int | None:
    """1 for the next person to get a seat; None if not waiting."""
    if signup.status != SignupStatus.WAITLISTED:
        return None
    return 1 + (db.session.scalar(sa.select(sa.func.count(Signup.id)).where(
        Signup.session_id == signup.session_id, Signup.status == SignupStatus.WAITLISTED,
        Signup.id < signup.id)) or 0)


def sign_up(actor: User, session: ProgramSession, category: str, *, now: datetime | None = None) -> Signup:
    """Sign ``actor`` up: a seat if one is left, otherwise a place on the waitlist."""
    now = now or clock.now()
    program = session.program
    if category not in set(Audience):
        raise DomainError("category", "Choose which of these describes you")
    if category not in program.audience_values:
        raise DomainError("category", "This program is for " + ", ".join(
            a.label.lower() for a in program.audience_values))
    if session.cancelled_at is not None:
        raise DomainError("session", "This session is cancelled; choose another", status=409)
    if session.starts_at <= now:
        raise DomainError("session", "This session has already started; sign-ups are closed", status=409)
    live = sa.select(Signup.id).where(Signup.session_id == session.id, Signup.user_id == actor.id,
                                      Signup.status != SignupStatus.CANCELLED)
    if db.session.scalar(live) is not None:
        raise DomainError("session", "You are already signed up for this session", status=409)
    signup = Signup(session_id=session.id, user_id=actor.id, category=category, status=SignupStatus.WAITLISTED)
    try:
        with db.session.begin_nested():
            db.session.add(signup)
    except IntegrityError as error:  # the same person, twice at the same moment
        raise DomainError("session", "You are already signed up for this session", status=409) from error
    if _take_seat(session):
        signup.status = SignupStatus.CONFIRMED
    db.session.flush()
    db.session.refresh(session)
    audit.record(actor, "workforce.signup", signup, to_state=signup.status, institute_id=program.institute_id,
                 details={"session_id": session.id, "category": category})
    when = f"{program.title} on {clock.long_date(session.starts_at)}"
    message = (f"You have a place in {when}." if signup.status == SignupStatus.CONFIRMED else
               f"{when} is full; you are number {waitlist_position(signup)} on the waitlist. "
               "We will tell you if a place opens.")
    notifications.notify([actor], message, "workforce.my_sessions")
    return signup


def cancel(actor: User, signup: Signup, *, reason: str = "", now: datetime | None = None) -> Signup:
    """The participant (before the start) or the institute's staff cancel a sign-up; a freed seat goes
    to the first person waiting."""
    now = now or clock.now()
    session = signup.session
    db.session.refresh(session, with_for_update=True)  # one cancellation at a time hands out the seat
    db.session.refresh(signup)
    institute_id = session.program.institute_id
    by_staff = signup.user_id != actor.id
    if by_staff and not _is_staff(actor, institute_id):
        raise DomainError(None, "Only the participant or the institute's staff can cancel this", status=403)
    if signup.status == SignupStatus.CANCELLED:
        raise DomainError(None, "This sign-up is already cancelled", status=409)
    if signup.attended:
        raise DomainError(None, "Attendance is recorded for this sign-up, so it cannot be cancelled", status=409)
    if not by_staff and session.starts_at <= now:
        raise DomainError(None, "The session has started; ask the institute to cancel", status=409)
    if by_staff and not reason.strip():
        raise DomainError("reason", "Give the participant the reason for cancelling")
    was = signup.status
    signup.status, signup.cancelled_at = SignupStatus.CANCELLED, now
    db.session.flush()
    audit.record(actor, "workforce.cancelled", signup, from_state=was, to_state=SignupStatus.CANCELLED,
                 reason=reason.strip() or None, institute_id=institute_id, details={"session_id": session.id})
    if by_staff and signup.user is not None:
        notifications.notify([signup.user], f"{session.program.institute.acronym} cancelled your place in "
                             f"{session.program.title} on {clock.long_date(session.starts_at)}: {reason.strip()}",
                             "workforce.my_sessions")
    if was == SignupStatus.CONFIRMED:
        _free_seat(session)
        if session.starts_at > now:
            promote(actor, session)
    db.session.refresh(session)
    return signup


def promote(actor: User | None, session: ProgramSession) -> Signup | None:
    """Give a free seat to the first person on the waitlist (the caller holds the session's lock)."""
    waiting = db.session.scalar(sa.select(Signup).where(
        Signup.session_id == session.id, Signup.status == SignupStatus.WAITLISTED).order_by(Signup.id).limit(1))
    if waiting is None or not _take_seat(session):
        return None
    waiting.status = SignupStatus.CONFIRMED
    reminder = ""
    if session.reminded_at is not None:  # the session's reminder went out before this place was given
        waiting.reminded_at = clock.now()
        where = "online" if session.online else f"at {session.place}"
        zone = waiting.user.time_zone if waiting.user is not None else None
        reminder = f" It starts on {clock.local_time(session.starts_at, zone)}, {where}."
    db.session.flush()
    audit.record(actor, "workforce.promoted", waiting, from_state=SignupStatus.WAITLISTED,
                 to_state=SignupStatus.CONFIRMED, institute_id=session.program.institute_id,
                 details={"session_id": session.id, "reminded": bool(reminder)})
    if waiting.user is not None:
        notifications.notify([waiting.user], f"A place opened in {session.program.title} on "
                             f"{clock.long_date(session.starts_at)} and it is yours.{reminder}",
                             "workforce.my_sessions")
    return waiting


# Attendance, completion and credentials ------------------------------------------------------

def set_attendance(actor: User, signup: Signup, attended: bool, *, now: datetime | None = None) -> Signup:
    """Record whether a confirmed participant attended (once the session has started)."""
    now = now or clock.now()
    session = signup.session
    if signup.status != SignupStatus.CONFIRMED:
        raise DomainError("attended", "Only people with a confirmed place can be marked as attending", status=409)
    if session.starts_at > now:
        raise DomainError("attended", "Attendance is recorded once the session has started", status=409)
    if signup.completed_at is not None and not attended:
        raise DomainError("attended", "This person completed the session; attendance stays recorded", status=409)
    if signup.attended == attended:
        return signup
    signup.attended = attended
    db.session.flush()
    summary.add(workforce_figures.attendance_moved(signup, +1 if attended else -1))
    audit.record(actor, "workforce.attendance", signup, to_state="attended" if attended else "absent",
                 institute_id=session.program.institute_id, details={"session_id": session.id})
    return signup


def signup_of(session: ProgramSession, user: User | None) -> Signup | None:
    """The person's live sign-up for the session, if any."""
    if user is None:
        return None
    return db.session.scalar(sa.select(Signup).where(
        Signup.session_id == session.id, Signup.user_id == user.id, Signup.status != SignupStatus.CANCELLED))


def attendance_by_person(actor: User, session: ProgramSession, user: User | None, attended: bool,
                         *, field_name: str = "email", now: datetime | None = None) -> Signup:
    signup = signup_of(session, user)
    if signup is None:
        raise DomainError(field_name, "That person is not signed up for this session")
    return set_attendance(actor, signup, attended, now=now)


def complete(actor: User, signup: Signup, *, now: datetime | None = None) -> Signup:
    """Record that an attending participant completed the session."""
    now = now or clock.now()
    if not signup.attended:
        raise DomainError("completed", "Record attendance first: only people who attended can complete", status=409)
    if signup.completed_at is not None:
        raise DomainError("completed", "Completion is already recorded", status=409)
    signup.completed_at = now
    db.session.flush()
    summary.add(workforce_figures.completed(signup))
    audit.record(actor, "workforce.completed", signup, to_state="completed",
                 institute_id=signup.session.program.institute_id, details={"session_id": signup.session_id})
    return signup


def _new_code() -> str:
    return "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3))


def issue_credential(actor: User, signup: Signup, *, on: date | None = None) -> Credential:
    """Issue the program's credential to a participant who completed; its code is checked publicly."""
    on = on or clock.today()
    program = signup.session.program
    if not program.credential:
        raise DomainError("credential", "This program offers no credential", status=409)
    if signup.completed_at is None:
        raise DomainError("credential", "Only a participant who completed the session can get its credential",
                          status=409)
    if db.session.scalar(sa.select(Credential.id).where(Credential.signup_id == signup.id)) is not None:
        raise DomainError("credential", "The credential has already been issued", status=409)
    credential = Credential(code=_new_code(), signup_id=signup.id, institute_id=program.institute_id,
                            name=program.credential, awarded_on=on, fiscal_year=fiscal_year_of(on),
                            issued_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(credential)
    except IntegrityError as error:  # issued by someone else at the same moment
        raise DomainError("credential", "The credential has already been issued", status=409) from error
    summary.add(workforce_figures.credential_issued(credential))
    audit.record(actor, "workforce.credential_issued", credential, institute_id=program.institute_id,
                 details={"signup_id": signup.id, "name": program.credential})
    if signup.user is not None:
        notifications.notify([signup.user], f"{program.institute.acronym} issued you the credential "
                             f"{program.credential}; its verification code is {credential.code}.",
                             "workforce.credential", code=credential.code)
    return credential


def credential_by_code(code: str) -> Credential | None:
    code = (code or "").strip().upper()
    return db.session.scalar(sa.select(Credential).where(Credential.code == code)
                             .options(so.joinedload(Credential.institute)))


OUTREACH_COUNT_MAX = 100_000

# Outreach ------------------------------------------------------------------------------------

def check_outreach_counts(counts: dict[str, int | None]) -> dict[str, int]:
    """People counted at an outreach event, per category: each 0 to 100,000 (empty is 0), at least one."""
    clean: dict[str, int] = {}
    for audience in Audience:
        value = counts.get(audience.value) or 0
        if value < 0 or value > OUTREACH_COUNT_MAX:
            raise DomainError(audience.value, f"Enter a count from 0 to {OUTREACH_COUNT_MAX:,}")
        clean[audience.value] = value
    if not any(clean.values()):
        raise DomainError(Audience.K12.value, "Count at least one person")
    return clean


def record_outreach(actor: User, institute: Institute, *, title: str, held_on: date | None,
                    counts: dict[str, int | None]) -> OutreachEvent:
    """An event where people are counted by category, never named."""
    title = (title or "").strip()
    if not title:
        raise DomainError("title", "Name the event")
    held_on = dates.check_outreach_day(held_on)
    clean = check_outreach_counts(counts)
    event = OutreachEvent(institute_id=institute.id, title=title, held_on=held_on, fiscal_year=fiscal_year_of(held_on),
                          recorded_by_id=actor.id, **clean)
    db.session.add(event)
    db.session.flush()
    summary.add(workforce_figures.outreach_recorded(event))
    audit.record(actor, "workforce.outreach_recorded", event, institute_id=institute.id, details=clean)
    return event
