"""Reminders before a session (daily, once each), and a participant deleting their workforce records while
the published counts stay."""

from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, Credential, Notification, ProgramSession, Signup
from portal.services import summary, workforce, workforce_changes, workforce_upkeep
from portal.services.workforce import SessionInput
from tests.conftest import login
from tests.factories import make_institute, make_staff, make_user
from tests.workforce_factories import attended_and_completed, now, program, session


def messages_to(user) -> list[str]:
    return list(db.session.scalars(sa.select(Notification.message).where(Notification.user_id == user.id)))


def test_reminders_go_to_confirmed_people_of_sessions_within_two_days_once(app, ctx):
    institute = make_institute(app)
    staff = make_staff(app, institute)
    soon = session(staff, program(staff, institute), capacity=1, starts_in=timedelta(days=1))
    later = session(staff, program(staff, institute, title="Later"), starts_in=timedelta(days=9))
    seated, waiting, other = make_user(app), make_user(app), make_user(app)
    workforce.sign_up(seated, soon, "k12")
    workforce.sign_up(waiting, soon, "k12")
    workforce.sign_up(other, later, "k12")
    assert workforce_upkeep.remind() == 1
    assert any(m.startswith("Reminder: Metal 3D printing basics") for m in messages_to(seated))
    assert not any(m.startswith("Reminder") for m in messages_to(waiting) + messages_to(other))
    assert workforce_upkeep.remind() == 0  # a second run the same day tells nobody again
    assert workforce_upkeep.remind(now=now() + timedelta(days=8)) == 1  # the later one, in its turn


def test_a_place_given_after_the_reminder_is_reminded_too(app, ctx):
    """Promoted from the waitlist after the session's reminder went out: told at once with the time and
    place, and never twice; one who gets a place by more seats is told by the next daily run at the latest."""
    institute = make_institute(app)
    staff = make_staff(app, institute)
    soon = session(staff, program(staff, institute), capacity=1, starts_in=timedelta(days=1))
    seated, first, second = make_user(app), make_user(app), make_user(app)
    mine = workforce.sign_up(seated, soon, "k12")
    workforce.sign_up(first, soon, "k12")
    workforce.sign_up(second, soon, "k12")
    assert workforce_upkeep.remind() == 1
    workforce.cancel(seated, mine)  # first moves up after the reminder
    promoted = [m for m in messages_to(first) if "it is yours" in m]
    assert promoted and "starts on" in promoted[0] and "Youngstown" in promoted[0]
    assert workforce_upkeep.remind() == 0  # told once, with the promotion
    workforce_changes.edit_session(staff, soon, SessionInput(
        starts_at=soon.starts_at, ends_at=soon.ends_at, capacity=3, place=soon.place, state=soon.state))
    assert any("it is yours" in m and "starts on" in m for m in messages_to(second))  # more seats, same care
    late = make_user(app)
    workforce.sign_up(late, soon, "k12")  # a seat straight away, after the reminder went out
    assert workforce_upkeep.remind() == 1  # the next run reaches the one place not yet reminded
    assert sum(m.startswith("Reminder") for m in messages_to(late)) == 1
    assert sum(m.startswith("Reminder") for m in messages_to(first) + messages_to(second)) == 0


def test_the_daily_command_sends_reminders(app, runner):
    with app.app_context():
        institute = make_institute(app)
        staff = make_staff(app, institute)
        workforce.sign_up(make_user(app), session(staff, program(staff, institute), starts_in=timedelta(hours=20)),
                          "veteran")
        db.session.commit()
    result = runner.invoke(args=["workforce", "remind"])
    assert result.exit_code == 0 and "1 reminder(s) sent." in result.output


def test_deleting_my_records_keeps_the_counts_and_the_credential_but_not_my_name(app, ctx):
    institute = make_institute(app)
    staff = make_staff(app, institute)
    held = session(staff, program(staff, institute), capacity=5)
    coming = session(staff, program(staff, institute, title="Next"), capacity=1, starts_in=timedelta(days=20))
    me, next_in_line = make_user(app), make_user(app)
    past = workforce.sign_up(me, held, "veteran")
    attended_and_completed(staff, held, past)
    credential = workforce.issue_credential(staff, past)
    workforce.sign_up(me, coming, "veteran")
    waiting = workforce.sign_up(next_in_line, coming, "veteran")
    before = summary.stored()

    assert workforce_upkeep.forget(me) == 2
    assert db.session.scalars(sa.select(Signup.user_id)).all().count(None) == 2
    assert db.session.scalar(sa.select(sa.func.count(Signup.id)).where(Signup.user_id == me.id)) == 0
    assert db.session.get(Signup, waiting.id).status == "confirmed"  # my place went to the next in line
    assert db.session.get(ProgramSession, coming.id).seats_taken == 1
    assert workforce.credential_by_code(credential.code) is not None
    assert summary.stored() == before and summary.problems() == []
    assert "workforce.records_deleted" in db.session.scalars(sa.select(AuditEvent.action)).all()


def test_deleting_through_the_page_needs_the_box_ticked(app, client):
    me = make_user(app)
    with app.app_context():
        institute = make_institute(app)
        staff = make_staff(app, institute)
        workforce.sign_up(db.session.merge(me), session(staff, program(staff, institute)), "k12")
        db.session.commit()
    login(client, me.email)
    response = client.post("/my/sessions/delete", data={})
    assert response.status_code == 422 and 'id="confirm-error"' in response.get_data(as_text=True)
    response = client.post("/my/sessions/delete", data={"confirm": "y"}, follow_redirects=True)
    assert "Your workforce records are deleted" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Signup.user_id)) is None
        assert db.session.scalar(sa.select(sa.func.count(Credential.id))) == 0
