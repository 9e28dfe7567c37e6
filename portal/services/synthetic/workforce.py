"""The synthetic network's workforce programs, written in bulk: programs, a year of sessions, sign-ups (with
waitlists), attendance, completions, credentials and outreach days, obeying the same rules as the services
(seats taken equal the confirmed sign-ups, one live sign-up per person and session, credentials only on
completion), each with the audit event and the notification the services would write."""

from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Audience,
    Credential,
    OutreachEvent,
    Program,
    ProgramAudience,
    ProgramKind,
    ProgramSession,
    Signup,
    User,
)
from portal.services import outbox
from portal.services.ledger import fiscal_year_of
from portal.services.synthetic.bulk import Rows, insert, next_id
from portal.services.workforce import CODE_ALPHABET

if TYPE_CHECKING:  # the package imports this module; the type is only for checkers
    import random

    from portal.services.synthetic import World

CAPACITY = 25
KINDS = [k.value for k in ProgramKind if k != ProgramKind.OUTREACH]


def load(w: "World", participants: int) -> dict[str, int]:
    """About ``participants`` sign-ups over the past year and the coming two months, by the network's people."""
    rng, now, activity = w.rng, w.now, w.activity
    user_ids = list(db.session.scalars(sa.select(User.id).where(User.email.like(f"person{w.seed}-%"))
                                       .order_by(User.id)))
    program_rows: Rows = []
    audience_rows: Rows = []
    program_id = next_id(Program)
    for institute_id in w.institute_ids:
        staff = w.staff[institute_id][0]
        for n in range(10):
            kind = KINDS[(institute_id + n) % len(KINDS)]
            audiences = (["educator"] if kind == "educator_training" else
                         rng.sample([a.value for a in Audience if a != Audience.EDUCATOR], k=rng.randint(1, 3)))
            published = w.days_ago(370, 500)
            program_rows.append({
                "id": program_id, "institute_id": institute_id, "kind": kind,
                "title": f"{kind.replace('_', ' ').capitalize()} {n + 1}", "description": "Synthetic",
                "format": rng.choice(["in_person", "online"]),
                "credential": f"Credential {program_id}" if rng.random() < 0.5 else "", "cost_cents": 0,
                "partners": "", "created_by_id": staff, "created_at": published})
            activity.event(published, staff, "workforce.program_published", "programs", program_id,
                           institute=institute_id, details={"kind": kind, "audiences": sorted(audiences)})
            audience_rows += [{"program_id": program_id, "audience": a} for a in audiences]
            program_id += 1
    by_id = {row["id"]: row for row in program_rows}
    audiences_of: dict[int, list[str]] = {}
    for row in audience_rows:
        audiences_of.setdefault(row["program_id"], []).append(row["audience"])

    session_rows: Rows = []
    signup_rows: Rows = []
    credential_rows: Rows = []
    session_id, signup_id, credential_id = next_id(ProgramSession), next_id(Signup), next_id(Credential)
    link = outbox.link("workforce.my_sessions")
    codes: set[str] = set()
    while len(signup_rows) < participants:
        program = by_id[rng.choice(program_rows)["id"]]
        institute_id = program["institute_id"]
        staff = w.staff[institute_id][0]
        starts = (now + timedelta(days=rng.randint(-360, 60), hours=rng.randint(0, 23))).replace(minute=0, second=0)
        held = starts < now
        scheduled = starts - timedelta(days=rng.randint(20, 40))
        people = rng.sample(user_ids, k=min(len(user_ids), rng.randint(CAPACITY - 10, CAPACITY + 5)))
        confirmed = people[:CAPACITY]
        in_person = program["format"] != "online"
        session_rows.append({
            "id": session_id, "program_id": program["id"], "starts_at": starts, "ends_at": starts + timedelta(hours=6),
            "fiscal_year": fiscal_year_of(starts.date()), "online": not in_person,
            "place": "Synthetic campus" if in_person else "", "state": "OH" if in_person else "",
            "capacity": CAPACITY, "seats_taken": len(confirmed), "reminded_at": None, "created_at": scheduled})
        activity.event(scheduled, staff, "workforce.session_scheduled", "program_sessions", session_id,
                       institute=institute_id, details={"program_id": program["id"], "capacity": CAPACITY})
        for position, user_id in enumerate(people):
            attended = held and position < len(confirmed) and rng.random() < 0.85
            completed = attended and rng.random() < 0.7
            status = "confirmed" if position < len(confirmed) else "waitlisted"
            signed = scheduled + timedelta(days=1 + position % 15, minutes=position)
            signup_rows.append({
                "id": signup_id, "session_id": session_id, "user_id": user_id,
                "category": rng.choice(audiences_of[program["id"]]), "status": status, "created_at": signed,
                "cancelled_at": None, "attended": attended,
                "completed_at": starts + timedelta(hours=6) if completed else None})
            activity.event(signed, user_id, "workforce.signup", "session_signups", signup_id,
                           institute=institute_id, to_state=status, details={"session_id": session_id})
            activity.notify(signed, user_id, "You have a place in a session." if status == "confirmed" else
                            "The session is full; you are on the waitlist.", link, w.read(signed))
            if attended:
                activity.event(starts + timedelta(hours=1), staff, "workforce.attendance", "session_signups",
                               signup_id, institute=institute_id, to_state="attended")
            if completed:
                activity.event(starts + timedelta(hours=6), staff, "workforce.completed", "session_signups",
                               signup_id, institute=institute_id, to_state="completed")
            if completed and program["credential"]:
                awarded = (starts + timedelta(days=1)).date()
                credential_rows.append({
                    "id": credential_id, "code": _code(rng, codes), "signup_id": signup_id,
                    "institute_id": institute_id, "name": program["credential"], "awarded_on": awarded,
                    "fiscal_year": fiscal_year_of(awarded), "issued_by_id": staff,
                    "issued_at": starts + timedelta(days=1)})
                activity.event(starts + timedelta(days=1), staff, "workforce.credential_issued", "credentials",
                               credential_id, institute=institute_id, details={"signup_id": signup_id})
                credential_id += 1
            signup_id += 1
        session_id += 1
    outreach_rows: Rows = []
    outreach_id = next_id(OutreachEvent)
    for institute_id in w.institute_ids:
        for _ in range(2):
            held_on = (now - timedelta(days=rng.randint(1, 360))).date()
            counts = {"k12": rng.randint(50, 400), "postsecondary": rng.randint(0, 40), "incumbent": 0,
                      "educator": rng.randint(0, 25), "veteran": 0}
            outreach_rows.append({
                "id": outreach_id, "institute_id": institute_id, "title": "Synthetic outreach day",
                "held_on": held_on, "fiscal_year": fiscal_year_of(held_on), **counts,
                "recorded_by_id": w.staff[institute_id][0], "recorded_at": now})
            activity.event(now, w.staff[institute_id][0], "workforce.outreach_recorded", "outreach_events",
                           outreach_id, institute=institute_id, details=counts)
            outreach_id += 1
    for model, rows in ((Program, program_rows), (ProgramAudience, audience_rows), (ProgramSession, session_rows),
                        (Signup, signup_rows), (Credential, credential_rows), (OutreachEvent, outreach_rows)):
        insert(model, rows, w.tick)
    return {"workforce_programs": len(program_rows), "workforce_sessions": len(session_rows),
            "workforce_signups": len(signup_rows), "workforce_credentials": len(credential_rows)}


def _code(rng: "random.Random", taken: set[str]) -> str:
    while True:
        code = "-".join("".join(rng.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3))
        if code not in taken:
            taken.add(code)
            return code


SEQUENCED = (Program, ProgramSession, Signup, Credential, OutreachEvent)
