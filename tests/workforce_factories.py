"""Workforce test data, made through the services (inside an app context)."""

from datetime import UTC, datetime, timedelta

from portal.models import ProgramSession
from portal.services import workforce
from portal.services.workforce import ProgramInput, SessionInput

ALL_AUDIENCES = ["k12", "postsecondary", "incumbent", "educator", "veteran"]


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def program(actor, institute, *, kind="course", credential="Certified Technician", audiences=None,
            format="in_person", title="Metal 3D printing basics"):
    return workforce.publish_program(actor, institute, ProgramInput(
        kind=kind, title=title, format=format, audiences=audiences or ALL_AUDIENCES, credential=credential,
        partners="Sinclair Community College"))


def session(actor, prog, *, capacity=10, starts_in=timedelta(days=7), hours=3, online=False, state="OH"):
    starts = now() + starts_in
    return workforce.schedule_session(actor, prog, SessionInput(
        starts_at=starts, ends_at=starts + timedelta(hours=hours), capacity=capacity, online=online,
        place="" if online else "Youngstown Business Incubator", state=state))


def started(sess: ProgramSession) -> datetime:
    """A moment just after the session started."""
    return sess.starts_at + timedelta(minutes=5)


def attended_and_completed(staff, sess, signup):
    workforce.set_attendance(staff, signup, True, now=started(sess))
    return workforce.complete(staff, signup, now=started(sess))
