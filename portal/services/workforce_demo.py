"""The demonstration's workforce programs: a course with a credential, educator training and an outreach day.

Made through the same services as the pages; sessions already held are signed up for as they would
have been, before they started.
"""

from datetime import timedelta

from portal.models import Institute, User
from portal.services import accounts, clock, workforce
from portal.services.workforce import ProgramInput, SessionInput

PARTICIPANTS = 14
CATEGORIES = ["postsecondary", "incumbent", "veteran"]


def _session(staff: User, program, *, days: int, capacity: int, online: bool = False):
    starts = (clock.now() + timedelta(days=days)).replace(hour=14, minute=0, second=0, microsecond=0)
    return workforce.schedule_session(staff, program, SessionInput(
        starts_at=starts, ends_at=starts + timedelta(hours=6), capacity=capacity, online=online,
        place="" if online else "America Makes, 236 West Boardman Street, Youngstown", state="OH"))


def load(staff: User, institute: Institute, domain: str, password: str) -> dict[str, int]:
    """Programs, sessions, sign-ups (with a waitlist), attendance, completions and credentials."""
    people = [accounts.create_verified_user(f"participant{n}@{domain}", password, f"Participant {n}")
              for n in range(1, PARTICIPANTS + 1)]
    course = workforce.publish_program(staff, institute, ProgramInput(
        kind="course", title="Additive manufacturing technician", format="in_person", audiences=CATEGORIES,
        description="Five days on metal powder-bed printers: safety, build preparation, post-processing.",
        credential="Additive Manufacturing Technician, Level 1", cost_cents=0,
        partners="Youngstown State University, Eastern Gateway Community College"))
    held = _session(staff, course, days=-30, capacity=12)
    before = held.starts_at - timedelta(days=7)
    signups = [workforce.sign_up(person, held, CATEGORIES[n % 3], now=before) for n, person in enumerate(people)]
    after = held.starts_at + timedelta(hours=1)
    credentials = 0
    for n, signup in enumerate(signups[:12]):
        if n < 10:
            workforce.set_attendance(staff, signup, True, now=after)
        if n < 8:
            workforce.complete(staff, signup, now=after)
            workforce.issue_credential(staff, signup)
            credentials += 1
    coming = _session(staff, course, days=21, capacity=12)
    workforce.sign_up(people[0], coming, "postsecondary")

    teaching = workforce.publish_program(staff, institute, ProgramInput(
        kind="educator_training", title="Teaching additive manufacturing", format="online", audiences=["educator"],
        description="For community-college and high-school teachers: a curriculum and a printer to take back."))
    taught = _session(staff, teaching, days=-10, capacity=30, online=True)
    teachers = [accounts.create_verified_user(f"teacher{n}@{domain}", password, f"Teacher {n}") for n in (1, 2, 3)]
    for teacher in teachers:
        signup = workforce.sign_up(teacher, taught, "educator", now=taught.starts_at - timedelta(days=3))
        workforce.set_attendance(staff, signup, True, now=taught.starts_at + timedelta(hours=1))
        workforce.complete(staff, signup, now=taught.starts_at + timedelta(hours=1))
    _session(staff, teaching, days=45, capacity=30, online=True)

    workforce.record_outreach(staff, institute, title="Manufacturing Day at Chaney High School",
                              held_on=clock.today() - timedelta(days=20),
                              counts={"k12": 250, "educator": 15})
    return {"programs": 2, "sessions": 4, "signups": len(signups) + 1 + len(teachers), "credentials": credentials}
