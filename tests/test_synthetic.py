"""`flask demo --scale`: a deterministic synthetic network that obeys the portal's rules."""

import sqlalchemy as sa

from portal.extensions import db
from portal.models import LedgerEntry, Membership, Organization, User
from portal.services import audit, ledger, snapshot
from tests.conftest import login
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
        chain = audit.verify_chain()  # the bulk-written audit events are chained as the services' are
        assert chain.problem is None and chain.checked >= 3_000
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


def test_the_network_holds_what_the_services_would_have_written(runner, app):
    """Audit events for each change, notifications, staff, reviewers, administrators, every proposal state."""
    from portal.models import (
        AuditEvent,
        InstituteStaff,
        Notification,
        Pledge,
        Proposal,
        ProposalStatus,
        Review,
        Role,
    )

    result = runner.invoke(args=["demo", "--scale", "small"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        count = lambda query: db.session.scalar(query)  # noqa: E731
        events = dict(db.session.execute(
            sa.select(AuditEvent.action, sa.func.count()).group_by(AuditEvent.action)).all())
        entries = dict(db.session.execute(
            sa.select(LedgerEntry.kind, sa.func.count()).group_by(LedgerEntry.kind)).all())
        assert events["ledger.pledge"] == count(sa.select(sa.func.count(Pledge.id)))
        for kind in ("receipt", "verification", "cancellation"):
            assert events[f"ledger.{kind}"] == entries[kind]
        assert events["membership.applied"] == count(sa.select(sa.func.count(Membership.id)))
        assert events["user.registered"] == count(sa.select(sa.func.count(User.id)))
        assert events["organization.created"] == count(sa.select(sa.func.count(Organization.id)))
        states = set(db.session.scalars(sa.select(Proposal.status).distinct()))
        assert states == set(ProposalStatus)
        assert events["proposal.started"] == count(sa.select(sa.func.count(Proposal.id)))
        assert count(sa.select(sa.func.count(Review.id)).where(Review.submitted_at.isnot(None))) > 0
        assert count(sa.select(sa.func.count(Notification.id))) > count(sa.select(sa.func.count(Membership.id)))
        assert count(sa.select(sa.func.count(InstituteStaff.id))) >= 2 * 18
        assert count(sa.select(sa.func.count(User.id)).where(User.role == Role.NETWORK_ADMIN)) >= 1
        # after the seeded institutes, ids follow time, as they do when the services write them
        times = list(db.session.scalars(sa.select(AuditEvent.occurred_at).where(
            AuditEvent.action != "institute.created").order_by(AuditEvent.id)))
        assert times == sorted(times)


def test_the_load_prints_an_account_for_each_role_that_signs_in(runner, app, client):
    result = runner.invoke(args=["demo", "--scale", "small"])
    assert result.exit_code == 0, result.output
    password = result.output.split("password '")[1].split("'")[0]
    accounts = dict(line.strip().split(": ") for line in result.output.splitlines() if line.startswith("  "))
    assert [role.split(" (")[0].split(" of ")[0] for role in accounts] == [
        "network administrator", "institute administrator", "organization administrator", "organization member",
        "reviewer"]
    secret = result.output.split("setup key (time-based): ")[1].split()[0]
    for email in accounts.values():
        response = login(client, email, password, totp_secret=secret)  # administrators answer the second step
        assert response.status_code == 302, email
        assert client.get("/account").status_code == 200
        client.post("/logout")
