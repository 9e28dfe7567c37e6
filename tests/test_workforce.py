"""Workforce services: programs, sessions, sign-ups and the waitlist, attendance, completion, credentials,
outreach; every rule refused with its field and nothing written."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Credential,
    Notification,
    OutreachEvent,
    Program,
    ProgramSession,
    Signup,
)
from portal.services import DomainError, summary, workforce, workforce_changes
from portal.services.workforce import ProgramInput, SessionInput
from tests.factories import make_institute, make_staff, make_user
from tests.workforce_factories import attended_and_completed, now, program, session, started


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def scene(app, ctx):
    institute = make_institute(app)
    staff = make_staff(app, institute)
    prog = program(staff, institute)
    sess = session(staff, prog, capacity=2)
    return institute, staff, prog, sess


def refused(field: str, action) -> DomainError:
    """``action`` raises a DomainError on ``field`` and writes nothing at all."""
    db.session.commit()  # what was done before stays; the refused change must add nothing to it
    before = {m: count(m) for m in (AuditEvent, Signup, Credential, ProgramSession, Program, OutreachEvent)}
    with pytest.raises(DomainError) as caught:
        action()
    db.session.rollback()
    assert caught.value.field == field, caught.value.message
    assert {m: count(m) for m in before} == before
    return caught.value


def test_publishing_a_program_and_session_is_audited(scene):
    _institute, _staff, prog, sess = scene
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["workforce.program_published", "workforce.session_scheduled"]
    assert sess.fiscal_year in (now().year, now().year + 1)
    assert [a.value for a in prog.audience_values] == sorted(
        ["k12", "postsecondary", "incumbent", "educator", "veteran"])


@pytest.mark.parametrize("change, field", [
    ({"ends_at": -timedelta(hours=1)}, "ends_at"),
    ({"ends_at": timedelta(0)}, "ends_at"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": -5}, "capacity"),
    ({"place": ""}, "place"),
    ({"starts_at": timedelta(days=5 * 365)}, "starts_at"),
])
def test_a_bad_session_is_refused_on_its_field(scene, change, field):
    _, staff, prog, _ = scene
    starts = now() + timedelta(days=3)
    data = {"starts_at": starts, "ends_at": starts + timedelta(hours=2), "capacity": 5, "place": "Hall", "state": "OH"}
    if "ends_at" in change:
        data["ends_at"] = starts + change["ends_at"]
    if "starts_at" in change:
        data["starts_at"] = now() + change["starts_at"]
        data["ends_at"] = data["starts_at"] + timedelta(hours=1)
    data.update({k: v for k, v in change.items() if k in ("capacity", "place")})
    refused(field, lambda: workforce.schedule_session(staff, prog, SessionInput(**data)))


def test_the_database_itself_refuses_more_confirmed_than_seats_and_an_end_before_the_start(scene):
    *_, sess = scene
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(sa.update(ProgramSession).where(ProgramSession.id == sess.id).values(seats_taken=3))
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(sa.update(ProgramSession).where(ProgramSession.id == sess.id)
                           .values(ends_at=sess.starts_at - timedelta(hours=1)))


def test_seats_then_a_waitlist_in_order_each_told(app, scene):
    *_, sess = scene
    people = [make_user(app) for _ in range(4)]
    signups = [workforce.sign_up(p, sess, "incumbent") for p in people]
    assert [s.status for s in signups] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [workforce.waitlist_position(s) for s in signups] == [None, None, 1, 2]
    assert sess.seats_taken == 2
    told = db.session.scalars(sa.select(Notification.message).where(Notification.user_id == people[3].id)).one()
    assert "number 2 on the waitlist" in told


def test_a_freed_seat_goes_to_the_first_waiting_who_is_told(app, scene):
    *_, sess = scene
    people = [make_user(app) for _ in range(4)]
    first, _, third, fourth = [workforce.sign_up(p, sess, "veteran") for p in people]
    workforce.cancel(people[0], first)
    assert (first.status, third.status, fourth.status) == ("cancelled", "confirmed", "waitlisted")
    assert sess.seats_taken == 2 and workforce.waitlist_position(fourth) == 1
    assert any("it is yours" in m for m in db.session.scalars(
        sa.select(Notification.message).where(Notification.user_id == people[2].id)))
    assert "workforce.promoted" in db.session.scalars(sa.select(AuditEvent.action)).all()


def test_sign_up_after_the_start_is_refused(app, ctx):
    institute = make_institute(app)
    staff = make_staff(app, institute)
    sess = session(staff, program(staff, institute), starts_in=-timedelta(hours=1))
    person = make_user(app)
    error = refused("session", lambda: workforce.sign_up(person, sess, "k12"))
    assert "already started" in error.message


def test_a_double_sign_up_is_refused_but_one_after_cancelling_is_allowed(app, scene):
    *_, sess = scene
    person = make_user(app)
    first = workforce.sign_up(person, sess, "k12")
    error = refused("session", lambda: workforce.sign_up(person, sess, "k12"))
    assert error.status == 409
    first = db.session.get(Signup, first.id)
    workforce.cancel(person, first)
    assert workforce.sign_up(person, db.session.get(ProgramSession, sess.id), "k12").status == "confirmed"


def test_a_category_the_program_is_not_for_is_refused(app, ctx):
    institute = make_institute(app)
    staff = make_staff(app, institute)
    sess = session(staff, program(staff, institute, audiences=["educator"]))
    refused("category", lambda: workforce.sign_up(make_user(app), sess, "k12"))


def test_staff_cancel_with_a_reason_and_the_participant_is_told_others_cannot(app, scene):
    _institute, staff, _, sess = scene
    person, stranger = make_user(app), make_user(app)
    signup = workforce.sign_up(person, sess, "k12")
    assert refused(None, lambda: workforce.cancel(stranger, signup)).status == 403
    refused("reason", lambda: workforce.cancel(staff, signup))
    workforce.cancel(staff, signup, reason="The room flooded")
    assert any("The room flooded" in m for m in db.session.scalars(
        sa.select(Notification.message).where(Notification.user_id == person.id)))


def test_attendance_only_for_confirmed_people_once_started(app, scene):
    _, staff, _, sess = scene
    people = [make_user(app) for _ in range(3)]
    confirmed, _, waiting = [workforce.sign_up(p, sess, "postsecondary") for p in people]
    stranger = make_user(app)
    refused("email", lambda: workforce.attendance_by_person(staff, sess, stranger, True, now=started(sess)))
    refused("attended", lambda: workforce.set_attendance(staff, waiting, True, now=started(sess)))
    refused("attended", lambda: workforce.set_attendance(staff, confirmed, True))  # before the start
    workforce.attendance_by_person(staff, sess, people[0], True, now=started(sess))
    assert db.session.get(Signup, confirmed.id).attended


def test_completion_needs_attendance_and_a_credential_needs_completion(app, scene):
    _institute, staff, _, sess = scene
    person = make_user(app)
    signup = workforce.sign_up(person, sess, "incumbent")
    refused("completed", lambda: workforce.complete(staff, signup, now=started(sess)))
    refused("credential", lambda: workforce.issue_credential(staff, signup))
    workforce.set_attendance(staff, signup, True, now=started(sess))
    refused("credential", lambda: workforce.issue_credential(staff, signup))
    workforce.complete(staff, signup, now=started(sess))
    credential = workforce.issue_credential(staff, signup)
    assert workforce.credential_by_code(credential.code.lower()).id == credential.id
    refused("credential", lambda: workforce.issue_credential(staff, signup))
    assert workforce.credential_by_code("AAAA-BBBB-CCCC") is None
    assert any(credential.code in m for m in db.session.scalars(
        sa.select(Notification.message).where(Notification.user_id == person.id)))


def test_a_program_without_a_credential_issues_none(app, ctx):
    institute = make_institute(app)
    staff = make_staff(app, institute)
    sess = session(staff, program(staff, institute, credential=""))
    signup = workforce.sign_up(make_user(app), sess, "k12")
    attended_and_completed(staff, sess, signup)
    refused("credential", lambda: workforce.issue_credential(staff, signup))


@pytest.mark.parametrize("counts, field", [({}, "k12"), ({"veteran": -1}, "veteran"), ({"k12": 200_000}, "k12")])
def test_outreach_counts_are_checked(scene, counts, field):
    institute, staff, *_ = scene
    refused(field, lambda: workforce.record_outreach(staff, institute, title="School day", held_on=now().date(),
                                                     counts=counts))


def test_outreach_dated_in_the_future_or_unnamed_is_refused(scene):
    institute, staff, *_ = scene
    refused("held_on", lambda: workforce.record_outreach(
        staff, institute, title="Fair", held_on=now().date() + timedelta(days=2), counts={"k12": 3}))
    refused("title", lambda: workforce.record_outreach(
        staff, institute, title=" ", held_on=now().date(), counts={"k12": 3}))


def test_every_change_keeps_the_summary_equal_to_a_recount(app, scene):
    institute, staff, _prog, sess = scene
    people = [make_user(app) for _ in range(3)]
    signups = [workforce.sign_up(p, sess, c) for p, c in zip(people, ["educator", "veteran", "k12"], strict=False)]
    workforce.set_attendance(staff, signups[0], True, now=started(sess))
    workforce.set_attendance(staff, signups[1], True, now=started(sess))
    workforce.set_attendance(staff, signups[1], False, now=started(sess))
    workforce.complete(staff, signups[0], now=started(sess))
    workforce.issue_credential(staff, signups[0])
    teach = session(staff, program(staff, institute, kind="educator_training", audiences=["educator"]))
    teacher = workforce.sign_up(people[2], teach, "educator")
    attended_and_completed(staff, teach, teacher)
    workforce.record_outreach(staff, institute, title="Manufacturing Day", held_on=now().date(),
                              counts={"k12": 300, "educator": 12})
    assert summary.problems() == []
    kept = {k: v for (scope, figure, k), v in summary.stored().items() if figure == "workforce"}
    year = sess.fiscal_year
    assert kept[f"{year}:educator"] == 1 + 1 + 12 and kept[f"{year}:k12"] == 300
    assert f"{year}:veteran" not in kept  # marked absent again
    assert kept[f"{teach.fiscal_year}:educators_trained"] == 1
    assert sum(v for k, v in kept.items() if k.endswith(":credentials")) == 1
    # staff change what they published: a program ceasing to be educator training, more seats, a cancellation
    workforce_changes.edit_program(staff, teach.program, ProgramInput(
        kind="course", title="Printing for teachers", format="in_person", audiences=["educator"]))
    full = session(staff, program(staff, institute), capacity=1)
    waiting = [workforce.sign_up(p, full, "k12") for p in people]
    workforce_changes.edit_session(staff, full, SessionInput(
        starts_at=full.starts_at, ends_at=full.ends_at, capacity=3, place=full.place, state=full.state))
    assert [w.status for w in waiting] == ["confirmed"] * 3 and full.seats_taken == 3
    workforce_changes.cancel_session(staff, full, "Hall closed")
    assert summary.problems() == []
    kept = {k: v for (scope, figure, k), v in summary.stored().items() if figure == "workforce"}
    assert f"{teach.fiscal_year}:educators_trained" not in kept
