"""Attendance taken on paper, uploaded as CSV: checked whole first, then recorded all together or not at all.

``check`` reads the sheet and lists every row's problem with its row number (the header is row 1, as a
spreadsheet numbers it) without writing anything; ``record`` records every row in the caller's
transaction, and any rule that still fails raises, so the view rolls the whole sheet back.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.models import ProgramSession, Signup, SignupStatus, User
from portal.services import DomainError, clock, workforce

COLUMNS = ("email", "attended", "completed")
MAX_ROWS = 5000
MAX_BYTES = 1_000_000
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0", ""}


@dataclass
class Row:
    number: int
    signup: Signup
    attended: bool
    completed: bool


@dataclass
class Check:
    text: str
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _flag(value: str) -> bool | None:
    value = (value or "").strip().lower()
    return True if value in YES else False if value in NO else None


def check(session: ProgramSession, text: str, *, now: datetime | None = None) -> Check:
    """Every problem of the sheet, each with its row number; nothing is written."""
    now = now or clock.now()
    result = Check(text=text)
    if len(text.encode()) > MAX_BYTES:
        result.problems.append(f"The file is larger than {MAX_BYTES // 1_000_000} MB; split it")
        return result
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header) != COLUMNS:
        result.problems.append(f"Row 1: the columns must be {', '.join(COLUMNS)} (in that order), "
                               f"not {', '.join(header) or 'nothing'}")
        return result
    if session.starts_at > now:
        result.problems.append("The session has not started yet, so no attendance can be recorded")
    records = [(number, cells) for number, cells in enumerate(reader, start=2) if any(c.strip() for c in cells)]
    if len(records) > MAX_ROWS:
        result.problems.append(f"At most {MAX_ROWS:,} rows a sheet")
        return result
    emails = {cells[0].strip().lower() for _, cells in records if cells}
    users = {u.email: u for u in db.session.scalars(sa.select(User).where(User.email.in_(emails)))} if emails else {}
    signups = {s.user_id: s for s in db.session.scalars(sa.select(Signup).where(
        Signup.session_id == session.id, Signup.status != SignupStatus.CANCELLED,
        Signup.user_id.in_([u.id for u in users.values()])))} if users else {}
    seen: dict[str, int] = {}
    for number, cells in records:
        if len(cells) != len(COLUMNS):
            result.problems.append(f"Row {number}: {len(cells)} cells where there should be {len(COLUMNS)}")
            continue
        email, attended, completed = cells[0].strip().lower(), _flag(cells[1]), _flag(cells[2])
        problems = []
        if email in seen:
            problems.append(f"{email} is already on row {seen[email]}")
        seen.setdefault(email, number)
        user = users.get(email)
        signup = signups.get(user.id) if user else None
        if signup is None:
            problems.append(f"{email or 'the empty address'} is not signed up for this session")
        elif signup.status != SignupStatus.CONFIRMED:
            problems.append(f"{email} is on the waitlist, not confirmed")
        if attended is None:
            problems.append(f"attended must be yes or no, not {cells[1].strip()!r}")
        if completed is None:
            problems.append(f"completed must be yes or no, not {cells[2].strip()!r}")
        elif completed and attended is False:
            problems.append("someone who did not attend cannot have completed")
        elif signup is not None and signup.completed_at is not None and (attended is False or completed is False):
            problems.append(f"{email} has completed already; that cannot be undone here")
        if problems or signup is None:
            result.problems.append(f"Row {number}: " + "; ".join(problems))
        else:
            result.rows.append(Row(number, signup, bool(attended), bool(completed)))
    if not records and not result.problems:
        result.problems.append("The sheet has no rows under its header")
    return result


def record(actor: User, session: ProgramSession, text: str, *, now: datetime | None = None) -> int:
    """Check the sheet again and record every row; DomainError (and nothing kept) if any row fails."""
    checked = check(session, text, now=now)
    if checked.problems:
        raise DomainError("file", f"Nothing was recorded: {len(checked.problems)} problem(s); check the sheet again")
    for row in checked.rows:
        workforce.set_attendance(actor, row.signup, row.attended, now=now)
        if row.completed and row.signup.completed_at is None:
            workforce.complete(actor, row.signup, now=now)
    return len(checked.rows)
