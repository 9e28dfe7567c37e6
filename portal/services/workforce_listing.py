"""What the workforce pages list: the public program finder, a program's sessions, rosters, my sessions."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    Credential,
    Institute,
    Program,
    ProgramAudience,
    ProgramSession,
    Signup,
    SignupStatus,
    User,
)
from portal.services import clock, csvfile
from portal.services.workforce import waitlist_position

SESSIONS_SHOWN = 3  # upcoming sessions shown beside each program in the finder


@dataclass(frozen=True)
class Filters:
    institute: str = ""  # slug
    state: str = ""
    audience: str = ""
    format: str = ""
    credential: bool = False
    starting: date | None = None


def _start_of(day: date | None) -> datetime:
    """Sessions from the start of ``day``, and never any that have already begun (sign-ups are closed)."""
    now = clock.now()
    return max(now, datetime.combine(day, time.min, tzinfo=UTC)) if day is not None else now


def find_programs(filters: Filters) -> tuple[sa.Select, list]:
    """Programs with a session matching the filters, soonest first: a select of (program, its soonest
    matching start) and the keys it is ordered by, for ``paging.keyset``."""
    sessions = sa.select(ProgramSession.program_id).where(ProgramSession.starts_at >= _start_of(filters.starting),
                                                          ProgramSession.cancelled_at.is_(None))
    if filters.state:
        sessions = sessions.where(ProgramSession.state == filters.state)
    soonest = (sessions.add_columns(sa.func.min(ProgramSession.starts_at).label("soonest"))
               .group_by(ProgramSession.program_id).subquery())
    query = (sa.select(Program, soonest.c.soonest).join(soonest, soonest.c.program_id == Program.id)
             .join(Program.institute).options(so.contains_eager(Program.institute)))
    if filters.institute:
        query = query.where(Institute.slug == filters.institute)
    if filters.audience:
        query = query.where(sa.select(ProgramAudience.program_id).where(
            ProgramAudience.program_id == Program.id, ProgramAudience.audience == filters.audience).exists())
    if filters.format:
        query = query.where(Program.format == filters.format)
    if filters.credential:
        query = query.where(Program.credential != "")
    return query, [soonest.c.soonest, Program.id]


def upcoming_by_program(program_ids: list[int], filters: Filters) -> dict[int, list[ProgramSession]]:
    """The next few matching sessions of each program, in one query."""
    if not program_ids:
        return {}
    query = (sa.select(ProgramSession).where(ProgramSession.program_id.in_(program_ids),
                                             ProgramSession.starts_at >= _start_of(filters.starting),
                                             ProgramSession.cancelled_at.is_(None))
             .order_by(ProgramSession.program_id, ProgramSession.starts_at))
    if filters.state:
        query = query.where(ProgramSession.state == filters.state)
    found: dict[int, list[ProgramSession]] = {}
    for session in db.session.scalars(query):
        shown = found.setdefault(session.program_id, [])
        if len(shown) < SESSIONS_SHOWN:
            shown.append(session)
    return found


def sessions_of(program: Program, *, upcoming_only: bool = False) -> list[ProgramSession]:
    query = sa.select(ProgramSession).where(ProgramSession.program_id == program.id)
    if upcoming_only:
        query = query.where(ProgramSession.starts_at > clock.now(), ProgramSession.cancelled_at.is_(None))
    return list(db.session.scalars(query.order_by(ProgramSession.starts_at)))


def programs_of(institute: Institute) -> list[Program]:
    return list(db.session.scalars(sa.select(Program).where(Program.institute_id == institute.id)
                                   .order_by(Program.created_at.desc(), Program.id.desc())))


def live_signups_of(user: User, session_ids: list[int]) -> dict[int, Signup]:
    """The person's live sign-ups among these sessions, by session."""
    if not session_ids:
        return {}
    return {s.session_id: s for s in db.session.scalars(sa.select(Signup).where(
        Signup.user_id == user.id, Signup.session_id.in_(session_ids), Signup.status != SignupStatus.CANCELLED))}


@dataclass
class RosterRow:
    signup: Signup
    credential: Credential | None
    position: int | None  # on the waitlist


def roster(session: ProgramSession) -> list[RosterRow]:
    """Everyone who signed up, confirmed first, then the waitlist in order, then cancellations."""
    signups = list(db.session.scalars(sa.select(Signup).where(Signup.session_id == session.id)
                                      .options(so.joinedload(Signup.user)).order_by(Signup.id)))
    credentials = {c.signup_id: c for c in db.session.scalars(
        sa.select(Credential).where(Credential.signup_id.in_([s.id for s in signups])))} if signups else {}
    order = {SignupStatus.CONFIRMED: 0, SignupStatus.WAITLISTED: 1, SignupStatus.CANCELLED: 2}
    rows, waiting = [], 0
    for signup in sorted(signups, key=lambda s: (order[s.status], s.id)):
        position = None
        if signup.status == SignupStatus.WAITLISTED:
            waiting += 1
            position = waiting
        rows.append(RosterRow(signup, credentials.get(signup.id), position))
    return rows


def my_signups(user: User) -> list[RosterRow]:
    """A participant's sign-ups, newest sessions first, with credentials and waitlist places."""
    signups = list(db.session.scalars(
        sa.select(Signup).where(Signup.user_id == user.id)
        .options(so.joinedload(Signup.session).joinedload(ProgramSession.program).joinedload(Program.institute))
        .join(Signup.session).order_by(ProgramSession.starts_at.desc(), Signup.id.desc())))
    ids = [s.id for s in signups]
    credentials = {c.signup_id: c for c in db.session.scalars(
        sa.select(Credential).where(Credential.signup_id.in_(ids)))} if ids else {}
    return [RosterRow(s, credentials.get(s.id), waitlist_position(s)) for s in signups]


ROSTER_COLUMNS = ["name", "email", "category", "status", "waitlist_position", "signed_up_at", "attended",
                  "completed_at", "credential_code"]


def roster_csv(session: ProgramSession) -> Iterator[str]:
    """The session's sign-ups as CSV text in pieces, read in batches, in the roster's order: confirmed, the
    waitlist in order (with each place), then cancellations. A deleted participant's row stays, unnamed."""
    order = sa.case({SignupStatus.CONFIRMED.value: 0, SignupStatus.WAITLISTED.value: 1}, value=Signup.status,
                    else_=2)
    query = (sa.select(User.full_name, User.email, Signup.category, Signup.status, Signup.created_at,
                       Signup.attended, Signup.completed_at, Credential.code)
             .select_from(Signup).outerjoin(User, User.id == Signup.user_id)
             .outerjoin(Credential, Credential.signup_id == Signup.id)
             .where(Signup.session_id == session.id).order_by(order, Signup.id))

    def rows() -> Iterator[list]:
        waiting = 0
        for name, email, category, status, created, attended, completed, code in csvfile.rows_of(query):
            position: int | str = ""
            if status == SignupStatus.WAITLISTED:
                waiting += 1
                position = waiting
            yield [name or "Deleted participant", email or "", str(category), str(status), position,
                   created.isoformat(timespec="seconds"), "yes" if attended else "no",
                   completed.isoformat(timespec="seconds") if completed else "", code or ""]

    return csvfile.stream(ROSTER_COLUMNS, rows())
