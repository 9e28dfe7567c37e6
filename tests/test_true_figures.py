"""The published figures stay true: conditional cost share, award references, totals that mean something,
the match chart against 1:1, and the pledging organization ending its own pledge."""

import json
import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    NETWORK,
    EntryKind,
    FederalObligation,
    Figure,
    LedgerEntry,
    Notification,
    OutboxMessage,
    Pledge,
    PledgeStatus,
    ProjectCall,
    Role,
    Summary,
    User,
)
from portal.services import DomainError, ledger, proposals, snapshot, summary
from portal.services.clock import today
from tests.conftest import login
from tests.factories import make_call, make_pledge, make_proposal, make_user

FY = ledger.fiscal_year_of(today())
SHARE = 100_000_00


def told(user: User, words: str) -> bool:
    """``user`` was told of it in the portal and by mail (queued in the outbox)."""
    in_portal = db.session.scalar(sa.select(Notification.id).where(
        Notification.user_id == user.id, Notification.message.contains(words))) is not None
    by_mail = db.session.scalar(sa.select(OutboxMessage.id).where(
        OutboxMessage.to_address == user.email, OutboxMessage.body.contains(words))) is not None
    return in_portal and by_mail


def money(scope: int, total: str) -> int:
    key = f"{FY}:{total}"
    return db.session.scalar(sa.select(Summary.value).where(
        Summary.scope == scope, Summary.figure == Figure.MONEY, Summary.key == key)) or 0


def pledgers(scope: int) -> int:
    return db.session.scalar(sa.select(Summary.value).where(
        Summary.scope == scope, Summary.figure == Figure.PLEDGERS, Summary.key == "all")) or 0


def get(model, obj):
    return db.session.get(model, obj.id)


class Team:
    """A proposal of Big Aero with Tiny Parts committing cost share, driven through the services."""

    def __init__(self, app, w):
        self.w = w
        call = make_call(app, w.staff, w.institute)
        self.proposal = make_proposal(app, w.lead_admin, call, w.lead, title="Lattice wings", abstract="Wings.",
                                      technology_area="Additive", trl_start=3, trl_target=6, mrl_start=3,
                                      mrl_target=6, duration_months=12, federal_request_cents=500_000_00,
                                      technical_plan="Print them.", milestones=[(6, "First wing", "A wing")])
        self.partner = proposals.invite(get(User, w.lead_admin), self.proposal, w.small)
        proposals.respond(get(User, w.small_admin), self.partner, accept=True)
        self.commit()

    def commit(self):
        proposals.commit_cost_share(get(User, self.w.small_admin), self.partner, amount_cents=SHARE, kind="cash",
                                    in_kind_description="", key=None)
        db.session.flush()
        return self.partner.pledge

    def to_review(self):
        proposals.submit(get(User, self.w.lead_admin), self.proposal)
        review = proposals.assign_reviewer(get(User, self.w.staff), self.proposal, get(User, self.w.reviewer_one))
        criterion = db.session.get(ProjectCall, self.proposal.call_id).criteria[0]
        proposals.save_review(get(User, self.w.reviewer_one), review, {criterion.id: (4, "Good")}, final=True)

    def decide(self, approve: bool):
        self.to_review()
        proposals.decide(get(User, self.w.staff), self.proposal, approve=approve, note="Decided.")


def totals_agree(institute) -> ledger.Totals:
    """The institute's ledger page reads its totals from the summary figures: they equal the sums over its
    pledges, unfiltered and for one fiscal year, the conditional cost share included."""
    for filters in (ledger.LedgerFilters(), ledger.LedgerFilters(fiscal_year=FY),
                    ledger.LedgerFilters(fiscal_year=FY - 1)):
        assert ledger.institute_totals(institute, filters) == ledger.totals(
            ledger.pledges_query(institute=institute, filters=filters))
    return ledger.institute_totals(institute)


# 1. Cost share of a proposal counts once the proposal is approved -------------------------------

def test_cost_share_counts_nowhere_until_approved_and_a_decline_releases_it(app, ctx, proposal_world):
    w = proposal_world
    team = Team(app, w)
    pledge = team.partner.pledge
    assert pledge.proposal_id == team.proposal.id
    institute = w.institute
    # before any decision: in no institute, network or snapshot total, and no receipt against it
    assert money(institute.id, "pledged") == 0 and pledgers(institute.id) == 0 and pledgers(NETWORK) == 0
    [row] = [r for r in ledger.match_table(FY)[0] if r.institute.id == institute.id]
    assert row.pledged_cents == 0
    totals = totals_agree(institute)
    assert totals.pledged_cents == 0 and totals.conditional_cents == SHARE
    with pytest.raises(DomainError, match="not yet approved"):
        ledger.record_receipt(get(User, w.staff), pledge, amount_cents=1_00, received_on=today(), key=None)
    team.decide(approve=False)
    db.session.refresh(pledge)
    # declined: the remainder is released, append-only, with the reason, and the partner is told
    [release] = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.pledge_id == pledge.id,
                                                                 LedgerEntry.kind == EntryKind.RELEASE)).all()
    assert release.amount_cents == SHARE and "declined" in release.reason
    assert pledge.remaining_cents == 0 and pledge.status == PledgeStatus.CANCELLED
    assert told(w.small_admin, "is released")
    assert money(institute.id, "pledged") == 0 and money(institute.id, "cancelled") == 0
    assert summary.problems() == [] and ledger.reconcile() == []
    data = snapshot.compute()
    [coinvestment] = [r for r in data["tables"]["coinvestment_by_institute"]["rows"] if r[0] == institute.acronym]
    assert coinvestment[2:4] == [0, 0]  # no organizations with pledges, nothing pledged
    with pytest.raises(DomainError):  # a release is for good
        ledger.reverse(get(User, w.staff), release, reason="undo", key=None)


def test_approval_counts_the_cost_share_in_the_same_transaction(app, ctx, proposal_world):
    w = proposal_world
    team = Team(app, w)
    team.decide(approve=True)
    # approved: counted everywhere at once, and money may now be received against it
    assert money(w.institute.id, "pledged") == SHARE and pledgers(w.institute.id) == 1 and pledgers(NETWORK) == 1
    [row] = [r for r in ledger.match_table(FY)[0] if r.institute.id == w.institute.id]
    assert row.pledged_cents == SHARE
    assert summary.problems() == []
    pledge = team.partner.pledge
    ledger.record_receipt(get(User, w.staff), pledge, amount_cents=40_000_00, received_on=today(), key=None)
    assert money(w.institute.id, "received") == 40_000_00 and summary.problems() == []
    totals = totals_agree(w.institute)
    assert (totals.pledged_cents, totals.received_cents, totals.conditional_cents) == (SHARE, 40_000_00, 0)


def test_withdrawal_releases_and_a_return_to_draft_releases_until_committed_again(app, ctx, proposal_world):
    w = proposal_world
    team = Team(app, w)
    proposals.submit(get(User, w.lead_admin), team.proposal)
    proposals.return_to_draft(get(User, w.staff), team.proposal, "Add a milestone")
    first = team.partner.pledge
    db.session.refresh(first)
    assert first.remaining_cents == 0 and told(w.small_admin, "returned to draft")
    # committed again, resubmitted and approved: only the new commitment counts
    second = team.commit()
    assert second.id != first.id and second.remaining_cents == SHARE
    team.decide(approve=True)
    assert money(w.institute.id, "pledged") == SHARE and money(w.institute.id, "cancelled") == 0
    assert summary.problems() == []
    # another proposal, withdrawn under review: released too
    other = Team(app, w)
    proposals.submit(get(User, w.lead_admin), other.proposal)
    proposals.withdraw(get(User, w.lead_admin), other.proposal)
    db.session.refresh(other.partner.pledge)
    assert other.partner.pledge.remaining_cents == 0 and told(w.small_admin, "withdrawn")
    assert money(w.institute.id, "pledged") == SHARE and summary.problems() == []


def test_the_match_page_and_the_snapshot_say_which_figures_include_cost_share(client, app, proposal_world):
    network_admin = make_user(app, role=Role.NETWORK_ADMIN)
    login(client, network_admin.email)
    assert b"cost share committed to approved projects only" in client.get("/ledger/match").data
    data = json.loads(client.get("/snapshot.json").data)
    assert "cost share of approved projects only" in data["tables"]["coinvestment_by_institute"]["title"]
    assert "cost share of approved projects only" in data["tables"]["match_by_fiscal_year"]["title"]
    assert b"proposals not yet approved" in client.get("/snapshot").data


def test_the_page_counts_cost_share_once_approved(client, app, proposal_world):
    with app.app_context():
        team = Team(app, proposal_world)
        db.session.commit()
        pledge_id = team.partner.pledge.id
    login(client, proposal_world.staff.email)
    page = client.get(f"/institutes/{proposal_world.institute.slug}/ledger").data.decode()
    assert "$0</span> pledged" in page and "$100,000</strong> of cost share committed to proposals not yet" in page
    assert "counts once proposal #" in page
    pledge_page = client.get(f"/pledges/{pledge_id}").data
    assert b"Record a receipt" not in pledge_page and b"conditional" in pledge_page


# 3. Federal obligations carry an award reference -------------------------------------------------

def test_a_repeated_award_reference_is_refused_beside_the_field(client, app, ledger_world):
    network_admin = make_user(app, role=Role.NETWORK_ADMIN, full_name="Nat Admin")
    login(client, network_admin.email)
    data = {"federal-institute": ledger_world.institute.id, "federal-fiscal_year": FY, "federal-amount": "1,000,000",
            "federal-reference": "W911NF-26-2-0001", "federal-key": "a"}
    assert client.post("/ledger/federal", data=data).status_code == 302
    response = client.post("/ledger/federal", data={**data, "federal-key": "b"})
    assert response.status_code == 422
    assert re.search(rb'id="federal-reference-error"[^>]*>[^<]*W911NF-26-2-0001 is already recorded', response.data)
    missing = client.post("/ledger/federal", data={**data, "federal-reference": " ", "federal-key": "c"})
    assert missing.status_code == 422 and b"Enter the award reference" in missing.data
    # a correction names the obligation it corrects
    stray = client.post("/ledger/federal", data={**data, "federal-amount": "-10", "federal-reference": "NOPE",
                                                 "federal-note": "typo", "federal-key": "d"})
    assert stray.status_code == 422 and b"No obligation of TI is recorded under NOPE" in stray.data
    assert client.post("/ledger/federal", data={**data, "federal-amount": "-100,000", "federal-note": "overstated",
                                                "federal-key": "e"}).status_code == 302
    with app.app_context():
        original, correction = db.session.scalars(sa.select(FederalObligation).order_by(FederalObligation.id)).all()
        assert correction.corrects_id == original.id and correction.reference == original.reference
        assert ledger.federal_total(ledger_world.institute, FY) == 900_000_00
    # the list: reference, year, amount, who, corrections; linked from the match page
    assert b'href="/ledger/federal' in client.get("/ledger/match").data
    page = client.get("/ledger/federal").data.decode()
    assert "W911NF-26-2-0001" in page and f"FY{FY}" in page and "$1,000,000" in page and "Nat Admin" in page
    assert "Correction of W911NF-26-2-0001" in page and "-$100,000" in page and "$900,000" in page
    for institute in (str(ledger_world.institute.id), "99999999999999999999", "2147483648", "x"):  # others ignored
        page = client.get("/ledger/federal", query_string={"institute": institute})
        assert page.status_code == 200 and b"W911NF-26-2-0001" in page.data, institute
    client.post("/logout")
    login(client, ledger_world.recorder.email)
    assert client.get("/ledger/federal").status_code == 403


def test_the_database_refuses_a_second_original_under_one_reference(app, ctx, ledger_world):
    for _ in range(2):
        db.session.add(FederalObligation(institute_id=ledger_world.institute.id, fiscal_year=FY,
                                         amount_cents=1_00, reference="DUP"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


# 5. Figures that mean something -----------------------------------------------------------------

def test_the_ledgers_show_each_total_and_no_sum_of_unlike_entries(client, app, ledger_world):
    pledge = make_pledge(app, ledger_world.admin, ledger_world.organization, ledger_world.institute,
                         cents=1_000_000_00)
    with app.app_context():
        staff = get(User, ledger_world.recorder)
        receipt = ledger.record_receipt(staff, get(Pledge, pledge), amount_cents=300_000_00, received_on=today(),
                                        key=None)
        ledger.verify_receipt(get(User, ledger_world.checker), receipt, key=None)
        ledger.cancel_remainder(staff, get(Pledge, pledge), reason="Scope cut", key=None)
        db.session.commit()
    login(client, ledger_world.recorder.email)
    institute_page = client.get(f"/institutes/{ledger_world.institute.slug}/ledger").data.decode()
    client.post("/logout")
    login(client, ledger_world.admin.email)
    organization_page = client.get(f"/organizations/{ledger_world.organization.id}/ledger").data.decode()
    for page in (institute_page, organization_page):
        assert "Net of" not in page and "net of" not in page
        for figure, words in (("$1,000,000", "pledged"), ("$300,000", "received"), ("$300,000", "verified"),
                              ("$700,000", "cancelled"), ("$0", "still to come")):
            assert f"{figure}</span> {words}" in page


def test_the_match_chart_is_drawn_against_one_to_one(app, ctx):
    from flask import render_template_string

    svg = render_template_string('{% from "snapshot/_bars.html" import ratio_bars %}'
                                 '{{ ratio_bars("m", "Match", rows) }}', rows=[(2026, 0.1), (2027, 0.5)])
    widths = [float(w) for w in re.findall(r'<rect x="200" y="[\d.]+" width="([\d.]+)"', svg)]
    target = float(re.search(r'class="portal-chart__target" data-ratio="1"', svg) and
                   re.search(r'x1="([\d.]+)"[^>]*class="portal-chart__target"', svg).group(1))
    assert target == 600.0  # the axis runs to 1: the largest ratio, 0.5, does not fill the chart
    assert widths == [40.0, 200.0]  # 0.1 : 1 is a tenth of the way to the target
    over = render_template_string('{% from "snapshot/_bars.html" import ratio_bars %}'
                                  '{{ ratio_bars("m", "Match", rows) }}', rows=[(2026, 2.0), (2027, 1.0)])
    assert re.search(r'x1="400.0"[^>]*class="portal-chart__target"', over)  # 1:1 halfway on an axis to 2
    assert "1 : 1 target" in over


# 8. The pledging organization ends its own pledge; it is told of every change --------------------

def test_an_organization_admin_cancels_its_own_pledge_and_the_institute_is_told(client, app, ledger_world):
    pledge = make_pledge(app, ledger_world.admin, ledger_world.organization, ledger_world.institute,
                         cents=50_000_00)
    login(client, ledger_world.admin.email)
    page = client.get(f"/pledges/{pledge.id}").data
    assert b"Cancel the remaining $50,000" in page and b"Record a receipt" not in page
    refused = client.post(f"/pledges/{pledge.id}/cancel", data={"cancel-key": "k0", "cancel-reason": ""})
    assert refused.status_code == 422 and b"Give the reason for cancelling" in refused.data
    assert client.post(f"/pledges/{pledge.id}/cancel", data={"cancel-key": "k1",
                                                             "cancel-reason": "Budget withdrawn"}).status_code == 302
    with app.app_context():
        stored = db.session.get(Pledge, pledge.id)
        assert stored.cancelled_cents == 50_000_00 and stored.status == PledgeStatus.CANCELLED
        [entry] = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == EntryKind.CANCELLATION)).all()
        assert entry.reason == "Budget withdrawn" and entry.actor_id == ledger_world.admin.id
        for staff in (ledger_world.recorder, ledger_world.checker):
            assert told(get(User, staff), "Budget withdrawn")
        assert summary.problems() == []
    # someone else's pledge stays out of reach
    other_admin = make_user(app)
    client.post("/logout")
    login(client, other_admin.email)
    assert client.post(f"/pledges/{pledge.id}/cancel", data={"cancel-key": "k2",
                                                             "cancel-reason": "x"}).status_code == 403


def test_receipts_reversals_and_cancellations_tell_the_pledging_organization(app, ctx, ledger_world):
    pledge = make_pledge(app, ledger_world.admin, ledger_world.organization, ledger_world.institute,
                         cents=80_000_00)
    recorder, checker = get(User, ledger_world.recorder), get(User, ledger_world.checker)
    receipt = ledger.record_receipt(recorder, pledge, amount_cents=30_000_00, received_on=today(), key=None)
    assert told(ledger_world.admin, "recorded a receipt of $30,000")
    ledger.reverse(checker, receipt, reason="Bounced check", key=None)
    assert told(ledger_world.admin, "Bounced check")
    ledger.cancel_remainder(checker, pledge, reason="Programme closed", key=None)
    assert told(ledger_world.admin, "Programme closed")
    # staff are not told of what staff did
    assert not told(recorder, "Programme closed")
