"""Fifty people signing up at once for the last three seats, on PostgreSQL with real threads."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import ProgramSession, Signup, SignupStatus, User
from portal.services import summary, workforce
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
