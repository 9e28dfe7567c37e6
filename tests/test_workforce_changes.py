"""Staff change what they published: a program, a session and its seats, or cancel a session as a whole;
seats never below those taken, more seats go to the waitlist in order, everyone is told, counts stay right."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, Notification, ProgramSession, Signup, SignupStatus
from portal.services import DomainError, summary, workforce, workforce_changes, workforce_listing
from portal.services.workforce import ProgramInput, SessionInput
from portal.services.workforce_listing import Filters
from tests.conftest import login
from tests.factories import make_institute, make_staff, make_user
from tests.workforce_factories import attended_and_completed, program, session, started


@pytest.fixture
def scene(app, ctx):
    institute = make_institute(app)
    staff = make_staff(app, institute)
    prog = program(staff, institute)
    sess = session(staff, prog, capacity=2)
    people = [make_user(app) for _ in range(5)]
    signups = [workforce.sign_up(p, sess, "k12") for p in people]
    db.session.commit()
    return institute, staff, prog, sess, people, signups


def same_times(sess: ProgramSession, capacity: int) -> SessionInput:
    return SessionInput(starts_at=sess.starts_at, ends_at=sess.ends_at, capacity=capacity, online=sess.online,
                        place=sess.place, state=sess.state)


def told(person) -> list[str]:
    return list(db.session.scalars(sa.select(Notification.message).where(Notification.user_id == person.id)
                                   .order_by(Notification.id)))


def test_raising_the_seats_promotes_the_waitlist_in_order_and_tells_each(scene):
    _, staff, _, sess, people, signups = scene
    assert [s.status for s in signups] == ["confirmed"] * 2 + ["waitlisted"] * 3
    workforce_changes.edit_session(staff, sess, same_times(sess, 4))
    db.session.commit()
    assert [db.session.get(Signup, s.id).status for s in signups] == ["confirmed"] * 4 + ["waitlisted"]
    assert sess.seats_taken == 4
    assert any("it is yours" in m for m in told(people[2])) and any("it is yours" in m for m in told(people[3]))
    assert not any("it is yours" in m for m in told(people[4]))
    assert workforce.waitlist_position(signups[4]) == 1


def test_the_seats_never_go_below_those_taken_and_nothing_changes(scene):
    _, staff, _, sess, _, _ = scene
    with pytest.raises(DomainError) as caught:
        workforce_changes.edit_session(staff, sess, same_times(sess, 1))
    assert caught.value.field == "capacity" and "2 places are taken" in caught.value.message
    db.session.rollback()
    assert db.session.get(ProgramSession, sess.id).capacity == 2


def test_a_session_with_attendance_keeps_its_dates(scene):
    _, staff, _, sess, _, signups = scene
    workforce.set_attendance(staff, signups[0], True, now=started(sess))
    later = same_times(sess, 2)
    later.starts_at, later.ends_at = sess.starts_at + timedelta(days=400), sess.ends_at + timedelta(days=400)
    with pytest.raises(DomainError) as caught:
        workforce_changes.edit_session(staff, sess, later)
    assert caught.value.field == "starts_at"


def test_cancelling_a_session_cancels_every_signup_and_tells_everyone(scene):
    _, staff, prog, sess, people, signups = scene
    assert workforce_changes.cancel_session(staff, sess, "The instructor is ill") == 5
    db.session.commit()
    assert {db.session.get(Signup, s.id).status for s in signups} == {SignupStatus.CANCELLED}
    assert sess.seats_taken == 0 and sess.cancelled_at is not None
    for person in people:
        assert any("The instructor is ill" in m for m in told(person))
    with pytest.raises(DomainError) as caught:
        workforce.sign_up(people[0], sess, "k12")
    assert "cancelled" in caught.value.message
    db.session.rollback()
    assert prog.id not in {p.id for p in db.session.scalars(workforce_listing.find_programs(Filters())[0])}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "workforce.session_cancelled")) == 1
    with pytest.raises(DomainError) as caught:
        workforce_changes.cancel_session(staff, sess, "again")
    assert "already cancelled" in caught.value.message


def test_a_cancellation_needs_a_reason(scene):
    _, staff, _, sess, _, _ = scene
    with pytest.raises(DomainError) as caught:
        workforce_changes.cancel_session(staff, sess, "  ")
    assert caught.value.field == "reason"


def test_editing_a_program_to_educator_training_moves_its_completions_in_the_figures(app, scene):
    _institute, staff, prog, sess, _people, signups = scene
    attended_and_completed(staff, sess, signups[0])
    workforce_changes.edit_program(staff, prog, ProgramInput(
        kind="educator_training", title="Teaching metal printing", format="online", audiences=["educator"]))
    assert summary.problems() == []
    assert prog.title == "Teaching metal printing" and [str(a) for a in prog.audience_values] == ["educator"]
    workforce_changes.edit_program(staff, prog, ProgramInput(
        kind="course", title="Metal printing", format="online", audiences=["k12"]))
    assert summary.problems() == []
    with pytest.raises(DomainError) as caught:
        workforce_changes.edit_program(staff, prog, ProgramInput(kind="course", title=" ", format="online",
                                                                 audiences=["k12"]))
    assert caught.value.field == "title"


def test_staff_pages_edit_and_cancel_and_others_are_refused(app, client, scene):
    _institute, staff, prog, sess, people, _ = scene
    login(client, people[0].email)
    assert client.get(f"/sessions/{sess.id}/edit").status_code == 403
    assert client.post(f"/sessions/{sess.id}/cancel", data={"reason": "x"}).status_code in (400, 403)
    client.post("/logout")
    login(client, staff.email)
    page = client.get(f"/sessions/{sess.id}/edit")
    assert page.status_code == 200 and "Cancel the whole session" in page.text
    assert client.get(f"/programs/{prog.id}/edit").status_code == 200
    answer = client.post(f"/sessions/{sess.id}/cancel", data={"reason": ""})
    assert answer.status_code == 422 and "reason for cancelling" in answer.text
    answer = client.post(f"/sessions/{sess.id}/cancel", data={"reason": "Flooded hall"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(ProgramSession, sess.id).cancelled_at is not None


def test_the_roster_csv_lists_everyone_in_roster_order_for_staff_only(app, client, scene):
    _, staff, _, sess, people, signups = scene
    workforce.cancel(people[0], signups[0])  # people[2] moves up; people[3] and [4] wait
    db.session.commit()
    login(client, people[1].email)
    assert client.get(f"/sessions/{sess.id}/roster.csv").status_code == 403
    client.post("/logout")
    login(client, staff.email)
    answer = client.get(f"/sessions/{sess.id}/roster.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    lines = [line.split(",") for line in answer.get_data(as_text=True).splitlines()]
    assert lines[0][:5] == ["name", "email", "category", "status", "waitlist_position"]
    assert [(row[1], row[3], row[4]) for row in lines[1:]] == [
        (people[1].email, "confirmed", ""), (people[2].email, "confirmed", ""),
        (people[3].email, "waitlisted", "1"), (people[4].email, "waitlisted", "2"),
        (people[0].email, "cancelled", "")]


def test_the_roster_csv_goes_through_the_one_writer(app, ctx):
    """A name a spreadsheet would run as a formula is written with an apostrophe."""
    institute = make_institute(app)
    staff = make_staff(app, institute)
    sess = session(staff, program(staff, institute))
    workforce.sign_up(make_user(app, full_name="=HYPERLINK(1)"), sess, "k12")
    text = "".join(workforce_listing.roster_csv(sess))
    assert "'=HYPERLINK(1)" in text
