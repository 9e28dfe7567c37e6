"""Two people acting at once, on PostgreSQL with real threads."""

import threading

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Affiliation, AffiliationRole, AffiliationStatus, AuditEvent, Organization, User
from portal.services import DomainError, organizations
from portal.services.organizations import OrganizationChoice
from tests.conftest import postgres_url
from tests.factories import affiliate, make_user, org_admin


def run_together(app, actions):
    """Run each action in its own thread, app context and database session, released at once."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def worker(index, action):
        with app.app_context():
            try:
                prepared = action.prepare()
                barrier.wait(timeout=10)
                action.act(prepared)
                db.session.commit()
                results[index] = "ok"
            except DomainError as error:
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


class Decide:
    def __init__(self, admin_id, affiliation_id, approve):
        self.admin_id, self.affiliation_id, self.approve = admin_id, affiliation_id, approve

    def prepare(self):
        return db.session.get(User, self.admin_id), db.session.get(Affiliation, self.affiliation_id)

    def act(self, prepared):
        admin, affiliation = prepared
        organizations.decide_affiliation(admin, affiliation, approve=self.approve)


class Join:
    def __init__(self, user_id, name):
        self.user_id, self.name = user_id, name

    def prepare(self):
        user = db.session.get(User, self.user_id)
        assert organizations.find_by_name(self.name) is None  # both see no such organization yet
        return user

    def act(self, user):
        organizations.join_or_create(user, OrganizationChoice(name=self.name, sector="academic", state="PA"))


@pytest.fixture
def pg_app(app):
    postgres_url()
    return app


def test_two_admins_deciding_at_once_leave_exactly_one_decision(pg_app):
    app = pg_app
    first, organization = org_admin(app)
    second, _ = org_admin(app, organization)
    requester = make_user(app)
    request = affiliate(app, requester, organization, status=AffiliationStatus.PENDING)

    results = run_together(app, [Decide(first.id, request.id, True), Decide(second.id, request.id, False)])

    assert sorted(r == "ok" for r in results) == [False, True], results
    loser = next(r for r in results if r != "ok")
    assert loser.status == 409 and "already been decided" in loser.message
    with app.app_context():
        decided = db.session.get(Affiliation, request.id)
        winner = first if results[0] == "ok" else second
        assert decided.decided_by_id == winner.id
        assert decided.status == (AffiliationStatus.ACTIVE if results[0] == "ok" else AffiliationStatus.DECLINED)
        decisions = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action.in_(["affiliation.approved", "affiliation.declined"])))
        assert decisions == 1


def test_two_people_creating_the_same_new_organization_at_once(pg_app):
    app = pg_app
    one, two = make_user(app), make_user(app)

    results = run_together(app, [Join(one.id, "Carnegie Robotics Lab"), Join(two.id, "carnegie  robotics LAB")])

    assert results == ["ok", "ok"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 1
        roles = sorted((a.role, a.status) for a in db.session.scalars(sa.select(Affiliation)))
        assert roles == [(AffiliationRole.ADMIN, AffiliationStatus.ACTIVE),
                         (AffiliationRole.MEMBER, AffiliationStatus.PENDING)]
