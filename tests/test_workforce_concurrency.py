"""Fifty people signing up at once for the last three seats, and staff changing a session's seats while
people sign up, on PostgreSQL with real threads."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Notification, ProgramSession, Signup, SignupStatus, User
from portal.services import summary, workforce, workforce_changes
from portal.services.workforce import SessionInput
from tests.conftest import postgres_url
from tests.factories import make_institute, make_staff, make_user
from tests.test_concurrency import run_together
from tests.workforce_factories import program, session

PEOPLE = 50


class SignUp:
    def __init__(self, user_id, session_id):
        self.user_id, self.session_id = user_id, session_id

    def prepare(self):
        return db.session.get(User, self.user_id), db.session.get(ProgramSession, self.session_id)

    def act(self, prepared):
        user, sess = prepared
        workforce.sign_up(user, sess, "incumbent")


class ChangeSeats:
    def __init__(self, staff_id, session_id, capacity):
        self.staff_id, self.session_id, self.capacity = staff_id, session_id, capacity

    def prepare(self):
        return db.session.get(User, self.staff_id), db.session.get(ProgramSession, self.session_id)

    def act(self, prepared):
        staff, sess = prepared
        workforce_changes.edit_session(staff, sess, SessionInput(
            starts_at=sess.starts_at, ends_at=sess.ends_at, capacity=self.capacity, online=sess.online,
            place=sess.place, state=sess.state))


@pytest.fixture
def pg_app(make_app):
    url = postgres_url()
    # one connection per thread: the threads all hold one at the barrier
    return make_app(SQLALCHEMY_DATABASE_URI=url,
                    SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": PEOPLE + 2, "max_overflow": 5})


def test_fifty_people_at_once_for_the_last_three_seats_get_three_seats_and_a_waitlist(pg_app):
    app = pg_app
    with app.app_context():
        institute = make_institute(app)
        staff = make_staff(app, institute)
        sess = session(staff, program(staff, institute), capacity=10, starts_in=timedelta(days=2))
        for _ in range(7):
            workforce.sign_up(make_user(app), sess, "k12")
        db.session.commit()
        session_id = sess.id
    people = [make_user(app) for _ in range(PEOPLE)]

    results = run_together(app, [SignUp(p.id, session_id) for p in people])

    assert results == ["ok"] * PEOPLE, [r for r in results if r != "ok"][:3]
    with app.app_context():
        sess = db.session.get(ProgramSession, session_id)
        statuses = db.session.scalars(sa.select(Signup.status).where(
            Signup.session_id == session_id, Signup.user_id.in_([p.id for p in people]))).all()
        assert sorted(statuses).count(SignupStatus.CONFIRMED) == 3
        assert statuses.count(SignupStatus.WAITLISTED) == PEOPLE - 3
        assert sess.seats_taken == sess.capacity == 10
        confirmed = db.session.scalar(sa.select(sa.func.count(Signup.id)).where(
            Signup.session_id == session_id, Signup.status == SignupStatus.CONFIRMED))
        assert confirmed == 10
        waiting = db.session.scalars(sa.select(Signup).where(
            Signup.session_id == session_id, Signup.status == SignupStatus.WAITLISTED).order_by(Signup.id)).all()
        assert [workforce.waitlist_position(s) for s in waiting] == list(range(1, PEOPLE - 3 + 1))
        assert summary.problems() == []


def full_session_with_a_waitlist(app, capacity: int, waiting: int):
    """A session whose ``capacity`` seats are taken and ``waiting`` people wait, in the order returned."""
    with app.app_context():
        institute = make_institute(app)
        staff = make_staff(app, institute)
        sess = session(staff, program(staff, institute), capacity=capacity, starts_in=timedelta(days=2))
        for _ in range(capacity):
            workforce.sign_up(make_user(app), sess, "k12")
        queue = [workforce.sign_up(make_user(app), sess, "k12") for _ in range(waiting)]
        db.session.commit()
        return staff.id, sess.id, [s.user_id for s in queue]


def check_counts(session_id: int) -> tuple[ProgramSession, list[Signup]]:
    """No one over capacity, the seat counter agrees with the confirmed sign-ups, the waitlist numbered
    1, 2, 3... in the order people joined it; returns the session and its waitlist in order."""
    sess = db.session.get(ProgramSession, session_id)
    confirmed = db.session.scalar(sa.select(sa.func.count(Signup.id)).where(
        Signup.session_id == session_id, Signup.status == SignupStatus.CONFIRMED))
    assert confirmed == sess.seats_taken <= sess.capacity
    waiting = list(db.session.scalars(sa.select(Signup).where(
        Signup.session_id == session_id, Signup.status == SignupStatus.WAITLISTED).order_by(Signup.id)))
    assert [workforce.waitlist_position(s) for s in waiting] == list(range(1, len(waiting) + 1))
    if waiting:  # a free seat and someone waiting for it never last past a change
        assert sess.seats_taken == sess.capacity
    assert summary.problems() == []
    return sess, waiting


def test_more_seats_while_people_sign_up_go_to_those_waiting_first_in_order(pg_app):
    app = pg_app
    staff_id, session_id, queue = full_session_with_a_waitlist(app, capacity=5, waiting=5)
    newcomers = [make_user(app) for _ in range(30)]

    results = run_together(app, [ChangeSeats(staff_id, session_id, 8),
                                 *(SignUp(p.id, session_id) for p in newcomers)])

    assert results == ["ok"] * 31, [r for r in results if r != "ok"][:3]
    with app.app_context():
        sess, waiting = check_counts(session_id)
        assert sess.capacity == sess.seats_taken == 8
        status = dict(db.session.execute(sa.select(Signup.user_id, Signup.status).where(
            Signup.session_id == session_id)).all())
        # the three new seats went to the first three who were waiting, not to anyone who came later
        assert [status[u] for u in queue] == [SignupStatus.CONFIRMED] * 3 + [SignupStatus.WAITLISTED] * 2
        assert all(status[p.id] == SignupStatus.WAITLISTED for p in newcomers)
        assert [s.user_id for s in waiting][:2] == queue[3:]
        assert {s.user_id for s in waiting[2:]} == {p.id for p in newcomers}
        told = db.session.scalars(sa.select(Notification.user_id).where(
            Notification.message.like("A place opened%"))).all()
        assert sorted(told) == sorted(queue[:3])


def test_fewer_seats_while_people_sign_up_never_go_below_the_seats_taken(pg_app):
    app = pg_app
    with app.app_context():
        institute = make_institute(app)
        staff = make_staff(app, institute)
        sess = session(staff, program(staff, institute), capacity=10, starts_in=timedelta(days=2))
        for _ in range(6):
            workforce.sign_up(make_user(app), sess, "k12")
        db.session.commit()
        staff_id, session_id = staff.id, sess.id
    newcomers = [make_user(app) for _ in range(20)]

    results = run_together(app, [ChangeSeats(staff_id, session_id, 7),
                                 *(SignUp(p.id, session_id) for p in newcomers)])

    assert results[1:] == ["ok"] * 20
    with app.app_context():
        sess, waiting = check_counts(session_id)
        if results[0] == "ok":  # the change came first: one seat was left for the newcomers
            assert (sess.capacity, sess.seats_taken, len(waiting)) == (7, 7, 19)
        else:  # sign-ups came first and took more than 7 seats: the change is refused, nothing lost
            assert "places are taken" in str(results[0])
            assert (sess.capacity, sess.seats_taken, len(waiting)) == (10, 10, 16)
