"""Two people acting at once, on PostgreSQL with real threads."""

import threading

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Affiliation, AffiliationRole, AffiliationStatus, AuditEvent, Organization, User
from portal.services import DomainError, Repeat, organizations
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
            except (DomainError, Repeat) as error:
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


class DecideMembership:
    def __init__(self, staff_id, membership_id, approve):
        self.staff_id, self.membership_id, self.approve = staff_id, membership_id, approve

    def prepare(self):
        from portal.models import Membership

        return db.session.get(User, self.staff_id), db.session.get(Membership, self.membership_id)

    def act(self, prepared):
        from portal.services import memberships

        staff, membership = prepared
        if self.approve:
            memberships.approve(staff, membership)
        else:
            memberships.decline(staff, membership, reason="Full this year")


class Apply:
    def __init__(self, admin_id, organization_id, institute_id, tier_id):
        self.ids = admin_id, organization_id, institute_id, tier_id

    def prepare(self):
        from portal.models import Institute, Tier

        admin_id, organization_id, institute_id, tier_id = self.ids
        return (db.session.get(User, admin_id), db.session.get(Organization, organization_id),
                db.session.get(Institute, institute_id), db.session.get(Tier, tier_id))

    def act(self, prepared):
        from portal.services import memberships

        admin, organization, institute, tier = prepared
        memberships.apply(admin, organization, institute, tier, statement="Join", contact_name="A",
                          contact_email="a@example.com")


def test_two_institute_admins_deciding_one_application_at_once(pg_app):
    from portal.models import Membership, MembershipStatus
    from tests.factories import make_institute, make_membership, make_organization, make_staff, make_tier

    app = pg_app
    institute = make_institute(app)
    tier = make_tier(app, institute)
    first, second = make_staff(app, institute), make_staff(app, institute)
    pending = make_membership(app, make_organization(app), institute, tier, status="pending")

    results = run_together(app, [DecideMembership(first.id, pending.id, True),
                                 DecideMembership(second.id, pending.id, False)])

    assert sorted(r == "ok" for r in results) == [False, True], results
    loser = next(r for r in results if r != "ok")
    assert loser.status == 409 and "nothing was changed" in loser.message
    with app.app_context():
        decided = db.session.get(Membership, pending.id)
        if results[0] == "ok":
            assert (decided.status, decided.decided_by_id, decided.decision_reason) == (
                MembershipStatus.ACTIVE, first.id, None)
        else:
            assert (decided.status, decided.decided_by_id) == (MembershipStatus.DECLINED, second.id)
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action.in_(["membership.approved", "membership.declined"]))) == 1


def test_two_admins_of_one_organization_applying_at_once_file_one_application(pg_app):
    from portal.models import Membership
    from tests.factories import make_institute, make_tier

    app = pg_app
    institute = make_institute(app)
    tier = make_tier(app, institute)
    first, organization = org_admin(app)
    second, _ = org_admin(app, organization)

    results = run_together(app, [Apply(first.id, organization.id, institute.id, tier.id),
                                 Apply(second.id, organization.id, institute.id, tier.id)])

    assert sorted(r == "ok" for r in results) == [False, True], results
    loser = next(r for r in results if r != "ok")
    assert loser.status == 409 and "already has an application waiting" in loser.message
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 1


class Receipt:
    def __init__(self, staff_id, pledge_id, cents, key):
        self.staff_id, self.pledge_id, self.cents, self.key = staff_id, pledge_id, cents, key

    def prepare(self):
        from portal.models import Pledge

        return db.session.get(User, self.staff_id), db.session.get(Pledge, self.pledge_id)

    def act(self, prepared):
        from portal.services import ledger
        from portal.services.clock import today

        staff, pledge = prepared
        ledger.record_receipt(staff, pledge, amount_cents=self.cents, received_on=today(), key=self.key)


def _pledge_world(app, cents):
    from portal.models import Institute
    from portal.services import ledger
    from portal.services.clock import today
    from portal.services.ledger import PledgeInput
    from tests.factories import make_institute, make_membership, make_staff, make_tier

    institute = make_institute(app)
    tier = make_tier(app, institute)
    admin, organization = org_admin(app)
    make_membership(app, organization, institute, tier)
    staff = [make_staff(app, institute) for _ in range(4)]
    with app.app_context():
        pledge = ledger.record_pledge(
            db.session.get(User, admin.id), db.session.get(Organization, organization.id),
            db.session.get(Institute, institute.id),
            PledgeInput(amount_cents=cents, kind="cash", fiscal_year=ledger.fiscal_year_of(today())), key=None)
        db.session.commit()
        return pledge.id, staff


def test_parallel_receipts_cannot_overdraw_a_pledge(pg_app):
    from portal.models import LedgerEntry, Pledge

    app = pg_app
    pledge_id, staff = _pledge_world(app, 1_000_00)
    # four admins each record $400 at the same moment against a $1,000 pledge: only two fit
    results = run_together(app, [Receipt(s.id, pledge_id, 400_00, f"key-{n}") for n, s in enumerate(staff)])

    assert results.count("ok") == 2, results
    assert all(r.status in (409, 422) for r in results if r != "ok")
    with app.app_context():
        from portal.services import summary

        assert summary.problems() == []  # the snapshot's money moved by the two receipts that stood, exactly
        pledge = db.session.get(Pledge, pledge_id)
        assert (pledge.received_cents, pledge.remaining_cents) == (800_00, 200_00)
        receipts = db.session.scalar(sa.select(sa.func.sum(LedgerEntry.amount_cents)).where(
            LedgerEntry.pledge_id == pledge_id, LedgerEntry.kind == "receipt"))
        assert receipts == 800_00


def test_the_same_receipt_sent_twice_at_once_is_recorded_once(pg_app):
    from portal.models import LedgerEntry, Pledge

    app = pg_app
    pledge_id, staff = _pledge_world(app, 1_000_00)
    results = run_together(app, [Receipt(staff[0].id, pledge_id, 100_00, "same-key"),
                                 Receipt(staff[0].id, pledge_id, 100_00, "same-key")])
    assert results.count("ok") == 1, results
    with app.app_context():
        assert db.session.get(Pledge, pledge_id).received_cents == 100_00
        assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id)).where(
            LedgerEntry.idempotency_key == "same-key")) == 1


def test_one_organization_admitted_to_two_institutes_at_once_counts_once_in_the_network(pg_app):
    from portal.models import NETWORK, Figure, Summary
    from portal.services import summary
    from tests.factories import make_institute, make_membership, make_organization, make_staff, make_tier

    app = pg_app
    organization = make_organization(app, state="OH")
    decisions = []
    for n in (1, 2):
        institute = make_institute(app, slug=f"institute-{n}", acronym=f"I{n}")
        pending = make_membership(app, organization, institute, make_tier(app, institute), status="pending")
        decisions.append(DecideMembership(make_staff(app, institute).id, pending.id, True))

    assert run_together(app, decisions) == ["ok", "ok"]
    with app.app_context():
        network = db.session.scalar(sa.select(Summary.value).where(
            Summary.scope == NETWORK, Summary.figure == Figure.MEMBERS_BY_STATE, Summary.key == "OH"))
        assert network == 1  # the organization, not its two memberships
        assert summary.problems() == []


class Pledge:
    def __init__(self, admin_id, organization_id, institute_id, cents):
        self.ids, self.cents = (admin_id, organization_id, institute_id), cents

    def prepare(self):
        from portal.models import Institute

        admin_id, organization_id, institute_id = self.ids
        return (db.session.get(User, admin_id), db.session.get(Organization, organization_id),
                db.session.get(Institute, institute_id))

    def act(self, prepared):
        from portal.services import ledger
        from portal.services.clock import today
        from portal.services.ledger import PledgeInput

        admin, organization, institute = prepared
        ledger.record_pledge(admin, organization, institute, PledgeInput(
            amount_cents=self.cents, kind="cash", fiscal_year=ledger.fiscal_year_of(today())), key=None)


def test_two_first_pledges_of_one_organization_at_once_count_one_organization(pg_app):
    from portal.models import NETWORK, Figure, Summary
    from portal.services import summary
    from tests.factories import make_institute, make_membership, make_tier

    app = pg_app
    institute = make_institute(app)
    admin, organization = org_admin(app)
    make_membership(app, organization, institute, make_tier(app, institute))

    results = run_together(app, [Pledge(admin.id, organization.id, institute.id, 100_00),
                                 Pledge(admin.id, organization.id, institute.id, 250_00)])
    assert results == ["ok", "ok"]
    with app.app_context():
        pledgers = dict(db.session.execute(sa.select(Summary.scope, Summary.value).where(
            Summary.figure == Figure.PLEDGERS, Summary.key == "all")).all())
        assert pledgers == {NETWORK: 1, institute.id: 1}
        assert summary.problems() == []
