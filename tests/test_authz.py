"""Who may do what: every permission a page names has a policy, and what a page offers matches the services."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest

from portal import authz
from portal.extensions import db
from portal.models import CallStatus, PartnerStatus, ProposalStatus
from portal.models.base import utcnow
from portal.services import DomainError, ledger, memberships, proposals
from portal.services.clock import today
from portal.services.ledger import PledgeInput
from portal.services.proposals import CallInput
from tests.factories import (
    affiliate,
    make_institute,
    make_membership,
    make_organization,
    make_staff,
    make_tier,
    make_user,
    org_admin,
)

PORTAL = Path(__file__).resolve().parent.parent / "portal"
ACTION = re.compile(r"[a-z_]+\.[a-z_]+")


def names_in(source: str, filename: str) -> list[tuple[str, int, str]]:
    """(file, line, name) for each permission named in ``source``: the action of ``authz.require(...)`` and
    ``authz.can(...)``, and the action handed to a loader that checks it (``get_proposal(id, "proposal.edit")``)."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "authz":
            if func.attr not in {"require", "can"}:
                continue
            assert len(node.args) >= 2, f"{filename}:{node.lineno} names no action"
            candidates = [node.args[1]]
        elif isinstance(func, ast.Name) and func.id.startswith("get_"):
            candidates = [*node.args, *(k.value for k in node.keywords if k.arg == "action")]
        else:
            continue
        for arg in candidates:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and ACTION.fullmatch(arg.value):
                found.append((filename, node.lineno, arg.value))
    return found


def permission_names() -> list[tuple[str, int, str]]:
    return [found for path in sorted(PORTAL.rglob("*.py"))
            for found in names_in(path.read_text(), str(path.relative_to(PORTAL)))]


def test_every_permission_a_page_asks_for_has_a_policy():
    names = permission_names()
    assert len(names) > 40  # the scan finds the checks (a scan that finds nothing proves nothing)
    assert {"pledge.record", "proposal.edit", "membership.decide", "call.manage"} <= {n for _, _, n in names}
    unknown = [f"{file}:{line} {name}" for file, line, name in names if name not in authz.POLICIES]
    assert unknown == []


def test_the_scan_catches_a_misspelt_permission():
    source = ('authz.require(current_user, "pledge.recrod", pledge)\n'
              'proposal = get_proposal(proposal_id, "proposal.edti")\n'
              'authz.can(current_user, "pledge.view", pledge)\n')
    names = names_in(source, "views.py")
    assert [(line, name) for _, line, name in names] == [(1, "pledge.recrod"), (2, "proposal.edti"), (3, "pledge.view")]
    assert [name for _, _, name in names if name not in authz.POLICIES] == ["pledge.recrod", "proposal.edti"]


# The two-person rule on a pledge -------------------------------------------------------------

@pytest.fixture
def money(app, ctx):
    institute = make_institute(app)
    admin, organization = org_admin(app, email="cfo@acme.example")
    make_membership(app, organization, institute, make_tier(app, institute))
    recorder = make_staff(app, institute, email="recorder@institute.example")
    checker = make_staff(app, institute, email="checker@institute.example")
    pledge = ledger.record_pledge(admin, organization, institute, PledgeInput(
        amount_cents=100_000_00, kind="cash", fiscal_year=ledger.fiscal_year_of(today())), key=None)
    receipt = ledger.record_receipt(recorder, pledge, amount_cents=40_000_00, received_on=today(),
                                    key=None)
    return type("Money", (), {"admin": admin, "recorder": recorder, "checker": checker, "pledge": pledge,
                              "receipt": receipt})


def actions(user, pledge):
    return authz.pledge_actions(user, pledge, ledger.entries_of(pledge))


def test_the_one_who_recorded_a_receipt_is_not_offered_to_verify_it(money):
    assert money.receipt.id not in actions(money.recorder, money.pledge).verify
    with pytest.raises(DomainError):  # and the service agrees
        ledger.verify_receipt(money.recorder, money.receipt, key=None)
    offered = actions(money.checker, money.pledge)
    assert money.receipt.id in offered.verify and money.receipt.id in offered.reverse
    assert offered.record_receipt and offered.cancel


def test_a_verified_receipt_offers_only_the_reversal_of_its_verification(money):
    verification = ledger.verify_receipt(money.checker, money.receipt, key=None)
    offered = actions(money.checker, money.pledge)
    assert money.receipt.id not in offered.verify | offered.reverse
    assert verification.id in offered.reverse
    with pytest.raises(DomainError):
        ledger.reverse(money.checker, money.receipt, reason="typo", key=None)
    ledger.reverse(money.checker, verification, reason="wrong account", key=None)
    offered = actions(money.recorder, money.pledge)
    assert money.receipt.id in offered.reverse and money.receipt.id not in offered.verify
    assert money.receipt.id in actions(money.checker, money.pledge).verify


def test_the_organization_may_only_cancel_and_a_fully_settled_pledge_offers_nothing(money):
    assert actions(money.admin, money.pledge) == authz.PledgeActions(cancel=True)
    ledger.cancel_remainder(money.checker, money.pledge, reason="plans changed", key=None)
    offered = actions(money.checker, money.pledge)
    assert not offered.record_receipt and not offered.cancel
    assert actions(money.admin, money.pledge) == authz.PledgeActions()


# A proposal's statuses -----------------------------------------------------------------------

@pytest.fixture
def proposal_world(app, ctx):
    institute = make_institute(app)
    staff = make_staff(app, institute, email="staff@institute.example")
    lead_admin, lead = org_admin(app, make_organization(app, name="Big Aero"), email="lead@bigaero.example")
    partner_admin, partner_org = org_admin(app, make_organization(app, name="Tiny Parts"), email="a@tiny.example")
    tier = make_tier(app, institute, may_lead=True)
    make_membership(app, lead, institute, tier)
    make_membership(app, partner_org, institute, tier)
    engineer = make_user(app, email="engineer@bigaero.example")
    affiliate(app, engineer, lead)
    call = proposals.create_call(staff, institute, CallInput(
        title="Brackets", description="Printed brackets", opens_at=utcnow() - timedelta(days=1),
        closes_at=utcnow() + timedelta(days=30), max_federal_cents=1_000_000_00, min_cost_share_bp=10_000,
        trl_min=3, trl_max=7, mrl_min=3, mrl_max=7, criteria=[("Merit", 100)]))
    proposals.set_call_status(staff, call, CallStatus.OPEN)
    proposal = proposals.start(lead_admin, call, lead, "Brackets")
    partner = proposals.invite(lead_admin, proposal, partner_org)
    outsider = make_user(app, email="outsider@example.com")
    return type("World", (), dict(**locals()))


EXPECTED = {  # status: (what the lead team is offered, what the institute is offered)
    ProposalStatus.DRAFT: ({"edit", "submit", "invite", "withdraw"}, {"see_reviews"}),
    # screening out (declining without review) is offered while no review has been submitted
    ProposalStatus.SUBMITTED: ({"withdraw"}, {"see_reviews", "assign_reviewer", "return_to_draft", "remove_reviewer",
                                             "screen_out"}),
    ProposalStatus.UNDER_REVIEW: ({"withdraw"}, {"see_reviews", "assign_reviewer", "return_to_draft", "remove_reviewer",
                                                "decide", "screen_out"}),
    ProposalStatus.APPROVED: ({"start"}, {"see_reviews"}),
    # no milestones, so none waits: the lead may ask for sign-off and the institute sign off
    ProposalStatus.ACTIVE: ({"post_update", "request_completion"}, {"see_reviews", "sign_off"}),
    ProposalStatus.COMPLETED: (set(), {"see_reviews"}),
    ProposalStatus.DECLINED: (set(), {"see_reviews"}),
}


@pytest.mark.parametrize("status", list(EXPECTED))
def test_what_a_proposal_offers_follows_its_status(proposal_world, status):
    w = proposal_world
    w.proposal.status = status
    team, institute = EXPECTED[status]
    assert set(authz.proposal_actions(w.engineer, w.proposal).names) == team
    assert set(authz.proposal_actions(w.lead_admin, w.proposal).names) == team
    assert set(authz.proposal_actions(w.staff, w.proposal).names) == institute
    assert set(authz.proposal_actions(w.outsider, w.proposal).names) == set()


def test_the_lead_team_is_refused_what_it_is_not_offered(proposal_world):
    w = proposal_world
    assert "start" not in authz.proposal_actions(w.lead_admin, w.proposal)
    with pytest.raises(DomainError):
        proposals.start_project(w.lead_admin, w.proposal)
    assert "decide" not in authz.proposal_actions(w.staff, w.proposal)
    with pytest.raises(DomainError):
        proposals.decide(w.staff, w.proposal, approve=True, note="Fine")


def test_a_partner_answers_its_invitation_then_commits_cost_share_while_in_draft(proposal_world):
    w = proposal_world
    assert authz.proposal_actions(w.partner_admin, w.proposal).partners[w.partner.id] == {"answer"}
    # the lead may take back an invitation not yet answered
    assert authz.proposal_actions(w.lead_admin, w.proposal).partners[w.partner.id] == {"withdraw"}
    proposals.respond(w.partner_admin, w.partner, accept=True)
    db.session.flush()
    assert w.partner.status == PartnerStatus.ACCEPTED
    assert authz.proposal_actions(w.lead_admin, w.proposal).partners[w.partner.id] == frozenset()
    assert authz.proposal_actions(w.partner_admin, w.proposal).partners[w.partner.id] == {"cost_share"}
    w.proposal.status = ProposalStatus.SUBMITTED
    assert authz.proposal_actions(w.partner_admin, w.proposal).partners[w.partner.id] == frozenset()


# A membership ---------------------------------------------------------------------------------

def test_what_a_membership_offers_its_organization_and_its_institute(app, ctx):
    institute = make_institute(app)
    staff = make_staff(app, institute)
    admin, organization = org_admin(app)
    membership = make_membership(app, organization, institute, make_tier(app, institute), status="pending")
    day = today()
    assert authz.membership_actions(staff, membership, day) == {"decide"}
    assert authz.membership_actions(admin, membership, day) == {"withdraw"}
    memberships.approve(staff, membership, starts_on=day, term_years=1)
    assert authz.membership_actions(staff, membership, day) == {"end"}
    assert authz.membership_actions(admin, membership, day) == {"renew", "change_tier", "withdraw"}
    assert authz.membership_actions(make_user(app), membership, day) == frozenset()


def test_an_answer_kept_for_the_transaction_is_asked_once_and_forgotten_after_a_change(app, ctx):
    from portal.models import InstituteStaff
    from tests.test_home import Counter

    institute = make_institute(app)
    person = make_user(app)
    db.session.commit()
    with Counter() as counter:
        asked = [authz.can_manage_institute(person, institute) for _ in range(3)]
    asked_staff = [s for s in counter.statements if "FROM institute_staff" in s]
    assert asked == [False] * 3 and len(asked_staff) == 1  # one query for the page's three questions
    db.session.add(InstituteStaff(institute_id=institute.id, user_id=person.id))
    db.session.flush()  # the change is judged by what is true now, not by the answer kept before it
    assert authz.can_manage_institute(person, institute)
    db.session.rollback()  # and a rollback forgets it again
    assert not authz.can_manage_institute(person, institute)
