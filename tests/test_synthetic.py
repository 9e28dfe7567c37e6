"""`flask demo --scale`: a deterministic synthetic network that obeys the portal's rules."""

import sqlalchemy as sa

from portal.extensions import db
from portal.models import LedgerEntry, Membership, Organization, User
from portal.services import ledger, snapshot
from tests.factories import make_user


def fingerprint(app):
    with app.app_context():
        return (db.session.scalar(sa.select(sa.func.sum(LedgerEntry.amount_cents))),
                tuple(db.session.scalars(sa.select(Organization.state).order_by(Organization.id).limit(50))))


def test_small_scale_loads_obeys_the_rules_and_is_deterministic(runner, app, make_app):
    result = runner.invoke(args=["demo", "--scale", "small"])
    assert result.exit_code == 0, result.output
    assert "300 organizations, 600 users, 450 memberships, 150 proposals" in result.output
    with app.app_context():
        assert ledger.reconcile() == []
        assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) >= 3_000
        live = db.session.execute(sa.select(Membership.organization_id, Membership.institute_id, sa.func.count())
                                  .where(Membership.status.in_(["pending", "active"]))
                                  .group_by(Membership.organization_id, Membership.institute_id)
                                  .having(sa.func.count() > 1)).all()
        assert live == []
        figures = dict(snapshot.compute()["tables"]["overview"]["rows"])
        assert figures["member organizations"] > 200
    again = runner.invoke(args=["demo", "--scale", "small"])
    assert "already loaded" in again.output
    other = make_app(SQLALCHEMY_DATABASE_URI="sqlite://")
    assert other.test_cli_runner().invoke(args=["demo", "--scale", "small"]).exit_code == 0
    assert fingerprint(other) == fingerprint(app)


def test_the_demo_refuses_a_database_with_real_accounts_unless_forced(runner, app):
    make_user(app, email="someone@real.example")
    result = runner.invoke(args=["demo", "--scale", "small"])
    assert result.exit_code != 0 and "holds real accounts" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    result = runner.invoke(args=["demo", "--scale", "small", "--force"])
    assert result.exit_code == 0, result.output
