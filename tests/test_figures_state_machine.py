"""Random sequences of service calls, and after each step every published figure against a recount.

The recount here is written from the raw tables and the rules alone (it shares nothing with
``portal.services.summary``): a pledge's totals come from its ledger entries, cost share counts only once its
proposal is approved and never after a release, money made of fewer than three organizations is suppressed.
After every step the snapshot (network and each institute), the match table and `flask ledger verify` must
agree with it.
"""

import statistics
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from typing import ClassVar

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from portal import create_app
from portal.extensions import db
from portal.geography import US_STATES
from portal.models import (
    FederalObligation,
    Institute,
    LedgerEntry,
    Membership,
    MembershipStatus,
    Organization,
    OrgSize,
    Partner,
    Pledge,
    ProjectCall,
    Proposal,
    ProposalStatus,
    Review,
    Role,
    Sector,
    StatusChange,
    Tier,
    User,
)
from portal.services import DomainError, Repeat, ledger, memberships, proposals, snapshot
from portal.services.clock import today
from portal.services.ledger import PledgeInput
from portal.services.proposals import DraftInput
from tests.factories import (
    make_call,
    make_institute,
    make_membership,
    make_organization,
    make_staff,
    make_tier,
    make_user,
    org_admin,
)

FY = ledger.fiscal_year_of(today())
PROJECTS = {"approved", "active", "completed"}
GROUPS = ("industry (small)", "industry (large)", "academic", "government", "nonprofit")
ORGANIZATIONS = [("Big Aero", Sector.INDUSTRY, OrgSize.LARGE, "OH"),
                 ("Tiny Parts", Sector.INDUSTRY, OrgSize.SMALL, "MI"),
                 ("State Tech", Sector.ACADEMIC, None, "OH"), ("Lab One", Sector.GOVERNMENT, None, "TX")]


# The independent recount ---------------------------------------------------------------------------

def _rows(query: str) -> list:
    return list(db.session.execute(sa.text(query)))


def _group(sector: str, size: str | None) -> str:
    if sector == "industry":
        return f"industry ({'small' if size == 'small' else 'large'})"
    return sector


def _suppress(organizations: int, *sums: int) -> list:
    if organizations == 0:
        return [0 for _ in sums]
    return [None for _ in sums] if organizations < 3 else list(sums)


def _ratio(numerator, denominator):
    return None if numerator is None or not denominator else round(numerator / denominator, 2)


def counted_pledges() -> dict[int, dict]:
    """Each pledge that counts, with its totals summed from its entries (a reversal takes from what it reverses)."""
    status = dict(_rows("SELECT id, status FROM proposals"))
    released = {pid for (pid,) in _rows("SELECT DISTINCT pledge_id FROM ledger_entries WHERE kind = 'release'")}
    kind_of = dict(_rows("SELECT id, kind FROM ledger_entries"))
    bucket = {"pledge": "pledged", "receipt": "received", "verification": "verified", "cancellation": "cancelled",
              "release": "cancelled"}
    pledges = {}
    for pid, org, institute, year, proposal in _rows(
            "SELECT id, organization_id, institute_id, fiscal_year, proposal_id FROM pledges"):
        if proposal is None or (status[proposal] in PROJECTS and pid not in released):
            pledges[pid] = {"org": org, "institute": institute, "year": year, "pledged": 0, "received": 0,
                            "verified": 0, "cancelled": 0}
    for pid, kind, amount, reverses in _rows("SELECT pledge_id, kind, amount_cents, reverses_id FROM ledger_entries"):
        if pid in pledges:
            pledges[pid][bucket[kind_of[reverses] if kind == "reversal" else kind]] += amount
    return pledges


def expected_snapshot(institute_id: int | None) -> dict:
    """Every table of the snapshot (network, or one institute), from the raw tables."""
    on = today()
    institutes = [(i, a) for i, a in _rows("SELECT id, acronym FROM institutes ORDER BY acronym")
                  if institute_id is None or i == institute_id]
    ids = {i for i, _ in institutes}
    members = {}
    for org, sector, size, state, inst, status, starts, ends in db.session.execute(
            sa.select(Organization.id, Organization.sector, Organization.size, Organization.state,
                      Membership.institute_id, Membership.status, Membership.starts_on, Membership.ends_on)
            .join(Membership, Membership.organization_id == Organization.id)):
        if inst in ids and status == "active" and starts <= on and ends is not None and ends >= on:
            members[org] = (_group(sector, size), state)
    groups = Counter(group for group, _ in members.values())
    states = Counter(state for _, state in members.values())
    total = len(members)
    industry = groups["industry (small)"] + groups["industry (large)"]

    proposals_ = [(p, s, area, ts, tr, ms, mr) for p, s, area, ts, tr, ms, mr, inst in _rows(
        "SELECT p.id, p.status, p.technology_area, p.trl_start, p.trl_reached, p.mrl_start, p.mrl_reached, "
        "c.institute_id FROM proposals p JOIN project_calls c ON c.id = p.call_id") if inst in ids]
    by_status = Counter(s for _, s, *_ in proposals_ if s != "draft")
    by_area = Counter((area or "not stated") for _, s, area, *_ in proposals_ if s in PROJECTS)
    done = [row for row in proposals_ if row[1] == "completed"]
    readiness = []
    for label, start, reached in (("TRL", 3, 4), ("MRL", 5, 6)):
        if not done:
            readiness.append([label, 0, None, None, None])
            continue
        mean_start = sum(r[start] or 0 for r in done) / len(done)
        mean_reached = sum(r[reached] for r in done) / len(done)
        readiness.append([label, len(done), round(mean_start, 1), round(mean_reached, 1),
                          round(mean_reached - mean_start, 1)])

    pledges = [p for p in counted_pledges().values() if p["institute"] in ids]
    federal = defaultdict(int)
    for inst, year, amount in _rows("SELECT institute_id, fiscal_year, amount_cents FROM federal_obligations"):
        if inst in ids:
            federal[(inst, year)] += amount
    coinvestment, all_verified = [], 0
    for inst, acronym in institutes:
        mine = [p for p in pledges if p["institute"] == inst]
        sums = {k: sum(p[k] for p in mine) for k in ("pledged", "received", "verified", "cancelled")}
        fed = sum(v for (i, _), v in federal.items() if i == inst)
        all_verified += sums["verified"]
        orgs = len({p["org"] for p in mine})
        pledged, received, verified = _suppress(orgs, sums["pledged"] - sums["cancelled"], sums["received"],
                                                sums["verified"])
        coinvestment.append([acronym, fed, orgs, pledged, received, verified, _ratio(verified, fed)])
    years = {p["year"] for p in pledges if any(p[k] for k in ("pledged", "received", "verified", "cancelled"))}
    years |= {year for (_, year), v in federal.items() if v}
    match = []
    for year in sorted(years):
        mine = [p for p in pledges if p["year"] == year]
        fed = sum(v for (_, y), v in federal.items() if y == year)
        orgs = len({p["org"] for p in mine})
        pledged, verified = _suppress(orgs, sum(p["pledged"] - p["cancelled"] for p in mine),
                                      sum(p["verified"] for p in mine))
        match.append([year, fed, orgs, pledged, verified, _ratio(verified, fed)])
    network_orgs = len({p["org"] for p in pledges})
    total_federal = sum(federal.values())

    def median_days(pairs) -> list:
        days = [(decided - started).days for started, decided in pairs]
        return [len(days), round(statistics.median(days), 1) if days else None]

    memberships_decided = [(a, d) for inst, a, d in db.session.execute(
        sa.select(Membership.institute_id, Membership.applied_at, Membership.decided_at)
        .where(Membership.decided_at.is_not(None))) if inst in ids]
    changes = db.session.execute(sa.select(StatusChange.proposal_id, ProjectCall.institute_id, StatusChange.to_status,
                                           StatusChange.at)
                                 .join(Proposal, Proposal.id == StatusChange.proposal_id).join(Proposal.call)
                                 .order_by(StatusChange.at, StatusChange.id)).all()
    first_submitted, proposal_decisions = {}, []
    for pid, inst, to, at in changes:
        if inst not in ids:
            continue
        if to == "submitted":
            first_submitted.setdefault(pid, at)
        elif to in ("approved", "declined") and pid in first_submitted:
            proposal_decisions.append((first_submitted[pid], at))

    return {
        "overview": [["institutes", len(institutes)], ["member organizations", total],
                     ["states and territories with members", len(states)],
                     ["projects (approved, active or completed)", sum(by_area.values())],
                     ["percent of members in industry", round(100 * industry / total, 1) if total else None],
                     ["percent of industry members that are small",
                      round(100 * groups["industry (small)"] / industry, 1) if industry else None],
                     ["network match ratio (verified non-federal over federal)",
                      _ratio(_suppress(network_orgs, all_verified)[0], total_federal)]],
        "members_by_sector": [[g, groups[g], round(groups[g] / total, 3) if total else None] for g in GROUPS],
        "members_by_state": [[s, US_STATES.get(s, s), n] for s, n in sorted(states.items())],
        "projects_by_status": [[s.value, by_status[s.value]] for s in ProposalStatus if s != ProposalStatus.DRAFT],
        "projects_by_area": sorted(([a, n] for a, n in by_area.items()), key=lambda r: (-r[1], r[0])),
        "readiness": readiness,
        "coinvestment_by_institute": coinvestment,
        "match_by_fiscal_year": match,
        "decision_times": [["membership applications", *median_days(memberships_decided)],
                           ["proposals", *median_days(proposal_decisions)]],
    }


def expected_match(fiscal_year: int | None) -> dict[int, tuple[int, int, int]]:
    """Per institute: federal, pledged less cancelled, verified (unsuppressed), as on the match page."""
    rows = {i: [0, 0, 0] for (i,) in _rows("SELECT id FROM institutes")}
    for inst, year, amount in _rows("SELECT institute_id, fiscal_year, amount_cents FROM federal_obligations"):
        if fiscal_year in (None, year):
            rows[inst][0] += amount
    for p in counted_pledges().values():
        if fiscal_year in (None, p["year"]):
            rows[p["institute"]][1] += p["pledged"] - p["cancelled"]
            rows[p["institute"]][2] += p["verified"]
    return {i: tuple(v) for i, v in rows.items()}


# The machine --------------------------------------------------------------------------------------

class Figures(RuleBasedStateMachine):
    apps: ClassVar[list] = []  # one app for every example (each on a fresh schema): its templates are compiled once

    def __init__(self):
        super().__init__()
        if not self.apps:
            self.apps.append(create_app("testing", CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}"))
        self.app = self.apps[0]
        self.context = self.app.app_context()
        self.context.push()
        db.create_all()
        app = self.app
        self.institutes, self.staff, self.tiers = [], {}, {}
        for acronym in ("AM", "LIFT"):
            institute = make_institute(app, slug=acronym.lower(), acronym=acronym)
            self.institutes.append(institute.id)
            self.tiers[institute.id] = make_tier(app, institute, may_lead=True).id
            self.staff[institute.id] = [make_staff(app, institute).id, make_staff(app, institute).id]
            make_call(app, db.session.get(User, self.staff[institute.id][0]), institute)
        self.admins = {}
        for name, sector, size, state in ORGANIZATIONS:
            admin, organization = org_admin(app, make_organization(app, name=name, sector=sector, size=size,
                                                                   state=state))
            self.admins[organization.id] = admin.id
        self.network = make_user(app, role=Role.NETWORK_ADMIN).id
        self.reviewer = make_user(app, full_name="Reviewer").id
        for org in list(self.admins)[:3]:  # three members of each institute from the start, so proposals begin early
            for institute_id in self.institutes:
                make_membership(app, db.session.get(Organization, org), db.session.get(Institute, institute_id),
                                db.session.get(Tier, self.tiers[institute_id]))
        db.session.commit()
        self.references = 0

    def teardown(self):
        db.session.rollback()
        db.session.remove()
        db.drop_all()
        self.context.pop()

    # helpers
    def user(self, user_id: int) -> User:
        return db.session.get(User, user_id)

    def pick(self, model, index: int, *where):
        rows = list(db.session.scalars(sa.select(model).where(*where).order_by(model.id)))
        return rows[index % len(rows)] if rows else None

    def run(self, change) -> None:
        try:
            change()
            db.session.commit()
        except (DomainError, Repeat):
            db.session.rollback()  # refused: nothing may have moved

    # memberships
    @rule(org=st.integers(0, 3), inst=st.integers(0, 1), days_ago=st.integers(0, 90))
    def join(self, org, inst, days_ago):
        organization = db.session.get(Organization, list(self.admins)[org])
        institute = db.session.get(Institute, self.institutes[inst])

        def change():
            membership = memberships.apply(self.user(self.admins[organization.id]), organization, institute,
                                           db.session.get(Tier, self.tiers[institute.id]), statement="We make.",
                                           contact_name="Pat", contact_email="pat@example.com")
            memberships.approve(self.user(self.staff[institute.id][0]), membership,
                                starts_on=today() - timedelta(days=days_ago))
        self.run(change)

    @rule(index=st.integers(0, 20))
    def end_membership(self, index):
        membership = self.pick(Membership, index, Membership.status == MembershipStatus.ACTIVE)
        if membership is not None:
            self.run(lambda: memberships.end(self.user(self.staff[membership.institute_id][0]), membership,
                                             reason="Dues unpaid"))

    # money
    @rule(index=st.integers(0, 20), dollars=st.integers(1, 500), year=st.integers(-1, 1))
    def pledge(self, index, dollars, year):
        membership = self.pick(Membership, index, Membership.status == MembershipStatus.ACTIVE)
        if membership is not None:
            self.run(lambda: ledger.record_pledge(
                self.user(self.admins[membership.organization_id]), membership.organization, membership.institute,
                PledgeInput(amount_cents=dollars * 1000_00, kind="cash", fiscal_year=FY + year), key=None))

    @rule(index=st.integers(0, 20), share=st.integers(1, 100))
    def receipt(self, index, share):
        pledge = self.pick(Pledge, index)
        if pledge is not None:
            amount = max(1, pledge.remaining_cents * share // 100)
            self.run(lambda: ledger.record_receipt(self.user(self.staff[pledge.institute_id][0]), pledge,
                                                   amount_cents=amount, received_on=today(), key=None))

    @rule(index=st.integers(0, 20))
    def verify(self, index):
        entry = self.pick(LedgerEntry, index, LedgerEntry.kind == "receipt")
        if entry is not None:
            self.run(lambda: ledger.verify_receipt(self.user(self.staff[entry.pledge.institute_id][1]), entry,
                                                   key=None))

    @rule(index=st.integers(0, 20))
    def reverse(self, index):
        entry = self.pick(LedgerEntry, index, LedgerEntry.kind.in_(["receipt", "verification", "cancellation",
                                                                    "release"]))
        if entry is not None:
            self.run(lambda: ledger.reverse(self.user(self.staff[entry.pledge.institute_id][1]), entry,
                                            reason="Mistake", key=None))

    @rule(index=st.integers(0, 20), by_organization=st.booleans())
    def cancel(self, index, by_organization):
        pledge = self.pick(Pledge, index)
        if pledge is not None:
            actor = self.admins[pledge.organization_id] if by_organization else self.staff[pledge.institute_id][0]
            self.run(lambda: ledger.cancel_remainder(self.user(actor), pledge, reason="Plans changed", key=None))

    @rule(inst=st.integers(0, 1), dollars=st.integers(-300, 900), repeat=st.booleans(), year=st.integers(-1, 0))
    def federal(self, inst, dollars, repeat, year):
        institute = db.session.get(Institute, self.institutes[inst])
        if dollars < 0 or repeat:
            original = self.pick(FederalObligation, dollars, FederalObligation.institute_id == institute.id,
                                 FederalObligation.corrects_id.is_(None))
            reference, year_of = (original.reference, original.fiscal_year) if original else ("none", FY)
        else:
            self.references += 1
            reference, year_of = f"AWD-{self.references}", FY + year
        self.run(lambda: ledger.record_federal_obligation(
            self.user(self.network), institute, fiscal_year=year_of, amount_cents=(dollars or 1) * 1000_00,
            reference=reference, note="Correction", key=None))

    # proposals
    @rule(inst=st.integers(0, 1), lead=st.integers(0, 3), partner=st.integers(0, 3), dollars=st.integers(1, 300))
    def propose(self, inst, lead, partner, dollars):
        call = self.pick(ProjectCall, 0, ProjectCall.institute_id == self.institutes[inst])
        lead_org = db.session.get(Organization, list(self.admins)[lead])
        partner_org = db.session.get(Organization, list(self.admins)[partner])

        def change():
            author = self.user(self.admins[lead_org.id])
            proposal = proposals.start(author, call, lead_org, "A project")
            proposals.save_draft(author, proposal, DraftInput(
                title="A project", abstract="Parts.", technical_plan="Print.", technology_area=f"Area {lead}",
                trl_start=3, trl_target=6, mrl_start=2, mrl_target=5, duration_months=12,
                federal_request_cents=100_000_00, milestones=[(6, "First", "A part")]))
            if partner_org.id != lead_org.id:
                invited = proposals.invite(author, proposal, partner_org)
                proposals.respond(self.user(self.admins[partner_org.id]), invited, accept=True)
                db.session.flush()
                self.run_inner(lambda: proposals.commit_cost_share(
                    self.user(self.admins[partner_org.id]), invited, amount_cents=dollars * 1000_00, kind="cash",
                    in_kind_description="", key=None))
        self.run(change)

    def run_inner(self, change) -> None:
        """Part of a step that may be refused on its own (a partner that is no member cannot pledge)."""
        try:
            with db.session.begin_nested():
                change()
        except DomainError:
            pass

    @rule(index=st.integers(0, 30), cost_share=st.integers(1, 200))
    def recommit(self, index, cost_share):
        partner = self.pick(Partner, index, Partner.is_lead.is_(False))
        if partner is not None:
            self.run(lambda: proposals.commit_cost_share(
                self.user(self.admins[partner.organization_id]), partner, amount_cents=cost_share * 1000_00,
                kind="cash", in_kind_description="", key=None))

    @rule(index=st.integers(0, 30),
          action=st.sampled_from(["submit", "review", "approve", "decline", "withdraw", "return", "start",
                                  "complete"]),
          trl=st.integers(1, 9), mrl=st.integers(1, 10))
    def move(self, index, action, trl, mrl):
        proposal = self.pick(Proposal, index)
        if proposal is None:
            return
        staff = self.user(self.staff[proposal.call.institute_id][0])
        lead = self.user(self.admins[proposal.lead_organization_id])

        def review():
            record = db.session.scalar(sa.select(Review).where(Review.proposal_id == proposal.id))
            if record is None:
                record = proposals.assign_reviewer(staff, proposal, self.user(self.reviewer))
            proposals.save_review(self.user(self.reviewer), record, {proposal.call.criteria[0].id: (4, "")},
                                  final=True)

        def complete():  # the team reports each milestone, the institute accepts it, then signs the project off
            for milestone in proposal.milestones:
                if milestone.reported_at is None:
                    proposals.report_milestone(lead, milestone)
                if milestone.accepted_at is None:
                    proposals.accept_milestone(staff, milestone)
            proposals.request_completion(lead, proposal, trl_reached=trl, mrl_reached=mrl)
            proposals.complete(staff, proposal, trl_reached=trl, mrl_reached=mrl)

        changes = {
            "submit": lambda: proposals.submit(lead, proposal),
            "review": review,
            "approve": lambda: proposals.decide(staff, proposal, approve=True, note="Yes"),
            "decline": lambda: proposals.decide(staff, proposal, approve=False, note="No"),
            "withdraw": lambda: proposals.withdraw(lead, proposal),
            "return": lambda: proposals.return_to_draft(staff, proposal, "Change it"),
            "start": lambda: proposals.start_project(lead, proposal),
            "complete": complete,
        }
        if action == "advance":  # the next step of a project's life, so runs reach approval and completion
            action = {ProposalStatus.DRAFT: "submit", ProposalStatus.SUBMITTED: "review",
                      ProposalStatus.UNDER_REVIEW: "approve", ProposalStatus.APPROVED: "start",
                      ProposalStatus.ACTIVE: "complete"}.get(proposal.status, "")
            if not action:
                return
        self.run(changes[action])

    @rule(trl=st.integers(1, 9), mrl=st.integers(1, 10))
    def advance(self, trl, mrl):
        """The next step in the life of the proposal furthest along (submit, review, approve, start, complete),
        so that runs reach approved cost share and completed projects."""
        order = [ProposalStatus.ACTIVE, ProposalStatus.APPROVED, ProposalStatus.UNDER_REVIEW,
                 ProposalStatus.SUBMITTED, ProposalStatus.DRAFT]
        ids = sorted(db.session.execute(sa.select(Proposal.id, Proposal.status)
                                        .where(Proposal.status.in_(order))).all(),
                     key=lambda row: (order.index(row.status), row.id))
        if ids:
            index = list(db.session.scalars(sa.select(Proposal.id).order_by(Proposal.id))).index(ids[0].id)
            self.move(index, "advance", trl, mrl)

    @rule(trl=st.integers(1, 9), mrl=st.integers(1, 10))
    def advance_again(self, trl, mrl):
        self.advance(trl, mrl)

    # after every step
    @invariant()
    def figures_agree_with_the_recount(self):
        for institute_id in [None, *self.institutes]:
            institute = db.session.get(Institute, institute_id) if institute_id else None
            tables = snapshot.compute(institute)["tables"]
            expected = expected_snapshot(institute_id)
            for name, rows in expected.items():
                assert tables[name]["rows"] == rows, f"{name} for {institute.acronym if institute else 'network'}"
        for year in (None, FY - 1, FY, FY + 1):
            rows, total = ledger.match_table(year)
            shown = {r.institute.id: (r.federal_cents, r.pledged_cents, r.verified_cents) for r in rows}
            assert shown == expected_match(year), f"match table for {year}"
            assert (total.federal_cents, total.pledged_cents, total.verified_cents) == tuple(
                map(sum, zip(*shown.values(), strict=True)))

    @invariant()
    def ledger_verify_agrees(self):
        db.session.commit()
        result = self.app.test_cli_runner().invoke(args=["ledger", "verify"])
        assert result.exit_code == 0, result.output


Figures.TestCase.settings = settings(max_examples=20, stateful_step_count=40, deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_every_figure_agrees_with_a_recount_after_every_step = Figures.TestCase
