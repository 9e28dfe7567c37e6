"""The snapshot's summary figures move with every change, equal a recount from the tables, and are checked."""

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    NETWORK,
    FederalObligation,
    Figure,
    Institute,
    LedgerEntry,
    Membership,
    MembershipStatus,
    Organization,
    OrgSize,
    Pledge,
    ProjectCall,
    Proposal,
    ProposalStatus,
    Sector,
    Summary,
    Tier,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, Repeat, ledger, memberships, organizations, proposals, snapshot, summary
from portal.services.clock import today
from portal.services.ledger import PledgeInput
from tests.factories import make_institute, make_organization, make_staff, make_tier, org_admin

STATES = ("OH", "MI", "PA", "TX")
AREAS = ("", "additive manufacturing", "composites")
# where a proposal may go next, as the workflow allows (forward more often than back)
NEXT = {
    ProposalStatus.DRAFT: [ProposalStatus.SUBMITTED],
    ProposalStatus.SUBMITTED: [ProposalStatus.UNDER_REVIEW] * 3 + [ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN],
    ProposalStatus.UNDER_REVIEW: [ProposalStatus.APPROVED] * 3 + [ProposalStatus.DECLINED, ProposalStatus.DRAFT,
                                                                 ProposalStatus.WITHDRAWN],
    ProposalStatus.APPROVED: [ProposalStatus.ACTIVE],
    ProposalStatus.ACTIVE: [ProposalStatus.COMPLETED],
}


@pytest.fixture
def scene(app):
    """Two institutes with staff, and eight organizations with an admin each."""
    institutes = [make_institute(app, slug=f"institute-{n}", acronym=f"I{n}") for n in (1, 2)]
    tiers = [make_tier(app, institute) for institute in institutes]
    staff = [make_staff(app, institute) for institute in institutes]
    people = [org_admin(app, make_organization(app, sector=list(Sector)[n % 4], size=OrgSize.SMALL if n % 2 else
                                                OrgSize.LARGE, state=STATES[n % 4])) for n in range(8)]
    with app.app_context():
        calls = []
        for institute, person in zip(institutes, staff, strict=True):
            call = ProjectCall(institute_id=institute.id, title="Call", description="A call.",
                               opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=30),
                               max_federal_cents=1_000_000_00, min_cost_share_bp=0, trl_min=1, trl_max=9,
                               mrl_min=1, mrl_max=10, created_by_id=person.id)
            db.session.add(call)
            calls.append(call)
        db.session.commit()
        call_ids = [c.id for c in calls]
    return {"institutes": [i.id for i in institutes], "tiers": [t.id for t in tiers],
            "staff": [s.id for s in staff], "admins": [a.id for a, _ in people],
            "organizations": [o.id for _, o in people], "calls": call_ids}


def pick(rng, query):
    rows = list(db.session.scalars(query))
    return rng.choice(rows) if rows else None


def staff_of(scene, institute_id: int) -> User:
    return db.session.get(User, scene["staff"][scene["institutes"].index(institute_id)])


def admin_of(scene, organization_id: int) -> User:
    return db.session.get(User, scene["admins"][scene["organizations"].index(organization_id)])


def step(rng: random.Random, scene: dict) -> None:
    """One change a person (or the daily jobs, or time passing) could make."""
    action = rng.choice(["apply", "apply", "approve", "approve", "decline", "withdraw", "end", "time passes",
                         "expire", "profile", "pledge", "pledge", "receipt", "receipt", "verify", "cancel",
                         "reverse", "federal", "propose", "propose"] + ["move proposal"] * 6)
    if action == "apply":
        organization = db.session.get(Organization, rng.choice(scene["organizations"]))
        index = rng.randrange(2)
        institute = db.session.get(Institute, scene["institutes"][index])
        membership = memberships.apply(admin_of(scene, organization.id), organization, institute,
                                       db.session.get(Tier, scene["tiers"][index]), statement="We make parts.",
                                       contact_name="Pat", contact_email="pat@example.com")
        membership.applied_at = utcnow() - timedelta(days=rng.randrange(60))  # decisions take a while
    elif action in ("approve", "decline"):
        membership = pick(rng, sa.select(Membership).where(Membership.status == MembershipStatus.PENDING))
        if membership is None:
            return
        staff = staff_of(scene, membership.institute_id)
        if action == "approve":
            memberships.approve(staff, membership, starts_on=today() - timedelta(days=rng.randrange(300)))
        else:
            memberships.decline(staff, membership, reason="Not now")
    elif action == "withdraw":
        membership = pick(rng, sa.select(Membership).where(Membership.status.in_(["pending", "active"])))
        if membership is not None:
            memberships.withdraw(admin_of(scene, membership.organization_id), membership, reason="Moving on")
    elif action == "end":
        membership = pick(rng, sa.select(Membership).where(Membership.in_force(today())))
        if membership is not None:
            memberships.end(staff_of(scene, membership.institute_id), membership, reason="Dues unpaid")
    elif action == "time passes":  # a term runs out; nobody has recorded the lapse yet
        membership = pick(rng, sa.select(Membership).where(Membership.in_force(today()),
                                                           Membership.starts_on < today() - timedelta(days=1)))
        if membership is not None:
            membership.ends_on = today() - timedelta(days=1)
    elif action == "expire":
        memberships.expire()
    elif action == "profile":
        organization = db.session.get(Organization, rng.choice(scene["organizations"]))
        sector = rng.choice(list(Sector))
        organizations.update_profile(
            admin_of(scene, organization.id), organization, name=organization.name, sector=sector,
            size=rng.choice(list(OrgSize)) if sector == Sector.INDUSTRY else None, state=rng.choice(STATES),
            listed=organization.listed)
    elif action == "pledge":
        membership = pick(rng, sa.select(Membership).where(Membership.in_force(today())))
        if membership is not None:
            ledger.record_pledge(admin_of(scene, membership.organization_id), membership.organization,
                                 membership.institute,
                                 PledgeInput(amount_cents=rng.randint(1, 50) * 1_000_00, kind="cash",
                                             fiscal_year=ledger.fiscal_year_of(today()) - rng.randrange(2)),
                                 key=None)
    elif action == "receipt":
        pledge = pick(rng, sa.select(Pledge))
        if pledge is not None and pledge.remaining_cents:
            ledger.record_receipt(staff_of(scene, pledge.institute_id), pledge,
                                  amount_cents=rng.randint(1, pledge.remaining_cents), received_on=today(), key=None)
    elif action == "verify":
        entry = pick(rng, sa.select(LedgerEntry).where(LedgerEntry.kind == "receipt"))
        if entry is not None:
            other = next(i for i in scene["institutes"] if i != entry.pledge.institute_id)
            checker = make_staff_in_context(scene, entry.pledge.institute_id, other)
            ledger.verify_receipt(checker, entry, key=None)
    elif action == "cancel":
        pledge = pick(rng, sa.select(Pledge))
        if pledge is not None:
            ledger.cancel_remainder(staff_of(scene, pledge.institute_id), pledge, reason="Ended", key=None)
    elif action == "reverse":
        entry = pick(rng, sa.select(LedgerEntry).where(LedgerEntry.kind.in_(["receipt", "verification",
                                                                              "cancellation"])))
        if entry is not None:
            ledger.reverse(staff_of(scene, entry.pledge.institute_id), entry, reason="Mistake", key=None)
    elif action == "federal":
        institute = db.session.get(Institute, rng.choice(scene["institutes"]))
        year = ledger.fiscal_year_of(today())
        original = pick(rng, sa.select(FederalObligation).where(
            FederalObligation.institute_id == institute.id, FederalObligation.corrects_id.is_(None)))
        correct = original is not None and rng.random() < 0.3
        ledger.record_federal_obligation(staff_of(scene, institute.id), institute, fiscal_year=year,
                                         amount_cents=-rng.randint(1, 9) * 1_000_000_00 if correct
                                         else rng.randint(1, 9) * 1_000_000_00,
                                         reference=original.reference if correct else f"AWD-{rng.randrange(10**9)}",
                                         note="Correction", key=None)
    elif action == "propose":
        call_id = rng.choice(scene["calls"])
        db.session.add(Proposal(call_id=call_id, lead_organization_id=rng.choice(scene["organizations"]),
                                created_by_id=scene["admins"][0], title="A project", technology_area=rng.choice(AREAS),
                                trl_start=rng.randint(1, 5), mrl_start=rng.randint(1, 5)))
    elif action == "move proposal":
        proposal = pick(rng, sa.select(Proposal).where(Proposal.status.in_(list(NEXT))))
        if proposal is None:
            return
        to = rng.choice(NEXT[proposal.status])
        staff = staff_of(scene, proposal.call.institute_id)
        if to == ProposalStatus.COMPLETED:
            proposals.complete(staff, proposal, trl_reached=rng.randint(5, 9), mrl_reached=rng.randint(5, 10))
        else:
            proposals._move(staff, proposal, to, [proposal.status])


def make_staff_in_context(scene, institute_id: int, other_institute_id: int) -> User:
    """A second administrator of the institute (the recorder may not verify their own receipt)."""
    from portal.models import InstituteStaff

    checker = staff_of(scene, other_institute_id)
    if not memberships.is_staff(checker, db.session.get(Institute, institute_id)):
        db.session.add(InstituteStaff(institute_id=institute_id, user_id=checker.id))
        db.session.flush()
    return checker


def members_in_force_by_group(institute_id: int | None) -> dict[str, int]:
    """Straight from the tables: organizations with a membership in force today, by group."""
    query = sa.select(Organization.sector, Organization.size).where(Organization.id.in_(
        sa.select(Membership.organization_id).where(
            Membership.in_force(today()),
            *([Membership.institute_id == institute_id] if institute_id else []))))
    counts = dict.fromkeys(summary.GROUPS, 0)
    for sector, size in db.session.execute(query):
        counts[summary.group_of(sector, size)] += 1
    return counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_summary_equals_a_recount_after_a_random_series_of_changes(app, scene, seed):
    rng = random.Random(seed)
    with app.app_context():
        for n in range(200):
            try:
                step(rng, scene)
                db.session.commit()
            except (DomainError, Repeat):
                db.session.rollback()  # refused, as a person would be told; nothing may have moved
            if n % 50 == 49:  # along the way too, not only at the end
                assert summary.problems() == [], f"after step {n}"
        kept = summary.stored()
        assert kept == summary.recount()
        assert sum(v for (s, f, _), v in kept.items() if f == Figure.PROPOSALS_BY_STATUS and s == NETWORK) > 0
        assert sum(v for (_, f, _), v in kept.items() if f == Figure.MONEY) > 0
        # the snapshot read from the summary counts exactly the members in force, unrecorded lapses too
        for institute in [None, *db.session.scalars(sa.select(Institute))]:
            rows = snapshot.compute(institute)["tables"]["members_by_sector"]["rows"]
            assert {group: count for group, count, _ in rows} == members_in_force_by_group(
                institute.id if institute else None)


def test_an_organization_in_two_institutes_counts_once_in_the_network(app, scene):
    with app.app_context():
        organization = db.session.get(Organization, scene["organizations"][0])
        admin = admin_of(scene, organization.id)
        held = []
        for index, institute_id in enumerate(scene["institutes"]):
            membership = memberships.apply(admin, organization, db.session.get(Institute, institute_id),
                                           db.session.get(Tier, scene["tiers"][index]), statement="Join",
                                           contact_name="Pat", contact_email="pat@example.com")
            memberships.approve(staff_of(scene, institute_id), membership)
            held.append(membership)
        network = snapshot.compute()["tables"]
        assert dict(network["overview"]["rows"])["member organizations"] == 1
        for institute_id in scene["institutes"]:
            figures = snapshot.compute(db.session.get(Institute, institute_id))["tables"]["overview"]["rows"]
            assert dict(figures)["member organizations"] == 1
        memberships.end(staff_of(scene, scene["institutes"][0]), held[0], reason="Dues unpaid")
        assert dict(snapshot.compute()["tables"]["overview"]["rows"])["member organizations"] == 1
        memberships.end(staff_of(scene, scene["institutes"][1]), held[1], reason="Dues unpaid")
        assert dict(snapshot.compute()["tables"]["overview"]["rows"])["member organizations"] == 0
        assert summary.problems() == []


def test_ledger_verify_reports_a_summary_that_drifted_and_recount_repairs_it(app, scene, runner):
    with app.app_context():
        organization = db.session.get(Organization, scene["organizations"][1])
        institute = db.session.get(Institute, scene["institutes"][0])
        membership = memberships.apply(admin_of(scene, organization.id), organization, institute,
                                       db.session.get(Tier, scene["tiers"][0]), statement="Join",
                                       contact_name="Pat", contact_email="pat@example.com")
        memberships.approve(staff_of(scene, institute.id), membership)
        db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "summary figures agree" in result.output
    with app.app_context():  # a figure changed behind the portal's back
        db.session.execute(sa.update(Summary).where(Summary.scope == NETWORK, Summary.figure == Figure.MEMBERS_BY_STATE)
                           .values(value=Summary.value + 5))
        db.session.commit()
        state = db.session.get(Organization, scene["organizations"][1]).state
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert f"summary members.state [{state}] for the network: 6 kept but 1 recounted" in result.output
    result = runner.invoke(args=["ledger", "recount"])
    assert result.exit_code == 0 and "summary figure(s) recounted" in result.output
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_a_figure_cannot_go_below_zero(app, scene):
    with app.app_context():
        with pytest.raises(RuntimeError, match="nothing to take"):
            summary.add({(NETWORK, Figure.MEMBERS_BY_STATE, "OH"): -1})
        db.session.rollback()
        summary.add({(NETWORK, Figure.MEMBERS_BY_STATE, "OH"): 1})
        with pytest.raises(sa.exc.IntegrityError):
            summary.add({(NETWORK, Figure.MEMBERS_BY_STATE, "OH"): -2})
        db.session.rollback()


def test_median_decision_days_come_from_whole_days():
    assert snapshot._median({}) is None
    assert snapshot._median({3: 1}) == 3
    assert snapshot._median({1: 1, 4: 1}) == 2.5
    assert snapshot._median({0: 2, 10: 1}) == 0
    assert snapshot._median({2: 2, 7: 2}) == 4.5
