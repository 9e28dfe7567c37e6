"""Conflicts of interest are checked again after assignment; reviewers declare them; staff remove reviewers.
And institute staff never act for their own organization."""

import pytest
import sqlalchemy as sa

from portal import authz
from portal.extensions import db
from portal.models import AffiliationStatus, AuditEvent, Notification, ProposalStatus, Review
from portal.services import DomainError, ledger, memberships, organizations, proposals
from portal.services.clock import today
from tests.conftest import login
from tests.factories import affiliate, make_call, make_membership, make_pledge, make_proposal, make_staff


def told(user, text: str) -> bool:
    return any(text in m for m in db.session.scalars(sa.select(Notification.message)
                                                    .where(Notification.user_id == user.id)))


def refused(call, status: int | None = None, match: str | None = None) -> DomainError:
    with pytest.raises(DomainError, match=match) as caught:
        call()
    if status is not None:
        assert caught.value.status == status
    return caught.value


@pytest.fixture
def review_world(app, ctx, proposal_world):
    """Big Aero's proposal under review by Rev One, in a call where Tiny Parts may lead a rival one."""
    w = proposal_world
    call = make_call(app, w.staff, w.institute)
    proposal = make_proposal(app, w.engineer, call, w.lead)
    proposals._move(w.staff, proposal, ProposalStatus.SUBMITTED, [ProposalStatus.DRAFT])
    review = proposals.assign_reviewer(w.staff, proposal, w.reviewer_one)
    w.call, w.proposal, w.review = call, proposal, review
    return w


def scores(w):
    return {c.id: (4, "") for c in w.call.criteria}


def test_a_competitors_people_cannot_review(app, review_world):
    """The rule: an organization leading, or accepted on the team of, another proposal of the same call (not
    withdrawn) competes with this one; its people do not review it."""
    w = review_world
    rival = make_proposal(app, w.engineer, w.call, w.lead, title="Rival")  # Big Aero leads two
    partner = proposals.invite(w.engineer, rival, w.small)
    proposals.respond(w.small_admin, partner, accept=True)  # Tiny Parts joins the rival's team
    affiliate(app, w.reviewer_two, w.small)
    error = refused(lambda: proposals.assign_reviewer(w.staff, w.proposal, w.reviewer_two), 409)
    assert error.field == "email" and "another proposal in the same call" in error.message


def test_a_reviewer_who_joins_a_team_organization_is_blocked_and_staff_are_told(app, review_world):
    w = review_world
    request = affiliate(app, w.reviewer_one, w.lead, status=AffiliationStatus.PENDING)
    organizations.decide_affiliation(w.lead_admin, request, approve=True)
    assert told(w.staff, "Rev One's review of “A proposal” is blocked by a conflict of interest")
    assert "proposal.review_blocked" in set(db.session.scalars(sa.select(AuditEvent.action)))
    actions = authz.proposal_actions(w.reviewer_one, w.proposal)
    assert "review_blocked" in actions and "review" not in actions and "declare_conflict" in actions
    error = refused(lambda: proposals.save_review(w.reviewer_one, w.review, scores(w), final=True), 409)
    assert "blocked by a conflict of interest" in error.message
    assert w.review.submitted_at is None


def test_a_rival_proposal_started_after_assignment_blocks_its_peoples_reviews(app, review_world):
    w = review_world
    reviewer = w.reviewer_one
    affiliate(app, reviewer, w.small)
    rival = make_proposal(app, w.engineer, w.call, w.lead, title="Rival")
    partner = proposals.invite(w.engineer, rival, w.small)
    proposals.respond(w.small_admin, partner, accept=True)
    assert told(w.staff, "Rev One's review of “A proposal” is blocked")
    refused(lambda: proposals.save_review(reviewer, w.review, scores(w), final=False), 409)


def test_a_reviewer_declares_a_conflict_and_leaves_the_proposal(app, review_world):
    w = review_world
    refused(lambda: proposals.declare_conflict(w.reviewer_two, w.review, reason="Not mine"), 403)
    error = refused(lambda: proposals.declare_conflict(w.reviewer_one, w.review, reason="  "))
    assert error.field == "reason"
    proposals.declare_conflict(w.reviewer_one, w.review, reason="I advise Big Aero")
    assert db.session.scalar(sa.select(Review).where(Review.proposal_id == w.proposal.id)) is None
    assert told(w.staff, "Rev One declared a conflict of interest on “A proposal”")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "proposal.conflict_declared"))
    assert event.reason == "I advise Big Aero" and event.actor_id == w.reviewer_one.id


def test_staff_remove_a_reviewer_with_a_reason_the_reviewer_sees(client, app, review_world):
    w = review_world
    refused(lambda: proposals.remove_reviewer(w.lead_admin, w.review, reason="No"), 403)
    db.session.commit()
    login(client, w.staff.email)
    page = client.get(f"/proposals/{w.proposal.id}").data
    assert b"Remove<span" in page
    response = client.post(f"/proposals/{w.proposal.id}/reviewers/{w.review.id}/remove", data={"reason": ""},
                           follow_redirects=True)
    assert b"Give the reason for removing the reviewer" in response.data
    response = client.post(f"/proposals/{w.proposal.id}/reviewers/{w.review.id}/remove",
                           data={"reason": "Works for a rival"}, follow_redirects=True)
    assert b"Rev One no longer reviews this proposal." in response.data
    db.session.expire_all()
    assert db.session.scalar(sa.select(Review).where(Review.proposal_id == w.proposal.id)) is None
    assert told(w.reviewer_one, "Works for a rival")


# Impartiality ------------------------------------------------------------------------------------

def test_an_administrator_of_the_pledging_organization_neither_records_nor_verifies(app, ctx, ledger_world):
    w = ledger_world
    pledge = make_pledge(app, w.admin, w.organization, w.institute)
    affiliate(app, w.recorder, w.organization)  # the recorder also works for the member
    assert not authz.pledge_actions(w.recorder, pledge, []).record_receipt
    error = refused(lambda: ledger.record_receipt(w.recorder, pledge, amount_cents=100_00, received_on=today(),
                                                  key=None), 403, "another administrator of the institute")
    assert error.field is None
    receipt = ledger.record_receipt(w.checker, pledge, amount_cents=100_00, received_on=today(), key=None)
    third = make_staff(app, w.institute)
    entries = [receipt]
    assert authz.pledge_actions(w.recorder, pledge, entries).verify == frozenset()
    refused(lambda: ledger.verify_receipt(w.recorder, receipt, key=None), 403, "belong to")
    ledger.verify_receipt(third, receipt, key=None)


def test_an_administrator_does_not_decide_their_own_organizations_application(app, ctx, membership_world):
    w = membership_world
    membership = make_membership(app, w.organization, w.institute, w.tier, status="pending")
    affiliate(app, w.staff, w.organization)
    assert "decide" not in authz.membership_actions(w.staff, membership, today())
    refused(lambda: memberships.approve(w.staff, membership), 403, "decide its application")
    refused(lambda: memberships.decline(w.staff, membership, reason="No"), 403, "decide its application")
    other = make_staff(app, w.institute)
    assert "decide" in authz.membership_actions(other, membership, today())
    memberships.approve(other, membership)


def test_an_administrator_does_not_decide_or_sign_off_their_own_organizations_proposal(app, review_world):
    w = review_world
    proposals.save_review(w.reviewer_one, w.review, scores(w), final=True)
    affiliate(app, w.staff, w.lead)
    assert "decide" not in authz.proposal_actions(w.staff, w.proposal)
    refused(lambda: proposals.decide(w.staff, w.proposal, approve=True, note="Ours"), 403, "decide its proposal")
    other = make_staff(app, w.institute)
    proposals.decide(other, w.proposal, approve=True, note="Strong")
    proposals.start_project(w.engineer, w.proposal)
    assert "sign_off" not in authz.proposal_actions(w.staff, w.proposal)
    refused(lambda: proposals.complete(w.staff, w.proposal, trl_reached=5, mrl_reached=5), 403)
