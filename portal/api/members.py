"""Member and staff actions with a token: the same loading, authorization and services as the pages.

Loading: a record the caller may not see answers 404 (no enumeration); one they see but may not act on, 403.
Every change goes through one service call in ``changes.run`` (or ``run_idempotent``)."""

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app
from flask.views import MethodView

from portal import authz, paging
from portal.api.auth import SECURITY, ApiBlueprint, caller, current_token, token_required
from portal.api.changes import decode_cursor, paged, refuse_field, run, run_idempotent, showing
from portal.api.schemas import (
    ApplyIn,
    CandidateOut,
    CandidateQuery,
    CostShareIn,
    DraftIn,
    EntryOut,
    MembershipDecisionIn,
    MembershipOut,
    MyProposalQuery,
    OrganizationOut,
    PartnerAnswerIn,
    PartnerIn,
    PartnerOut,
    PledgeIn,
    PledgeOut,
    ProposalDecisionIn,
    ProposalOut,
    ProposalStartIn,
    ReasonIn,
    ReceiptIn,
    ReviewerIn,
    ReviewIn,
    ReviewOut,
    ReviewQuery,
    TierChangeIn,
    TierDecisionIn,
    page_of,
)
from portal.extensions import db
from portal.models import (
    Institute,
    LedgerEntry,
    Membership,
    Organization,
    Partner,
    Pledge,
    ProjectCall,
    Proposal,
    Review,
    Tier,
    TokenScope,
)
from portal.services import DomainError, accounts, api_tokens, ledger, memberships, organizations, proposals
from portal.services.ledger import PledgeInput
from portal.services.proposals import DraftInput

bp = ApiBlueprint("api_members", __name__, url_prefix="/api/v1",
               description="Organizations' and institutes' work, with a personal access token.")

WRITE = TokenScope.WRITE
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                   "description": "the same key and body answer the first answer again; another body, 422"}


def load(model, record_id: int, view: str, action: str | None = None):
    """The record (404 when missing or not visible to the caller), checked for ``action`` (403)."""
    record = db.get_or_404(model, record_id)
    if not authz.can(caller(), view, record):
        abort(404)
    if action is not None:
        authz.require(caller(), action, record)
    return record


def institute_by_slug(slug: str) -> Institute:
    found = db.session.scalar(sa.select(Institute).where(Institute.slug == slug))
    if found is None:
        refuse_field("institute", "No institute has that slug")
    return found


# Organizations and memberships -----------------------------------------------------------------

@bp.get("/me/organizations")
@token_required()
@bp.doc(security=SECURITY)
@bp.response(200, OrganizationOut(many=True))
def my_organizations():
    """The organizations the token's owner belongs to (active), with their role."""
    rows = [a for a in organizations.affiliations_of(caller()) if a.status == "active"]
    return [{"id": a.organization.id, "name": a.organization.name, "sector": str(a.organization.sector),
             "state": a.organization.state, "role": str(a.role)} for a in rows]


@bp.post("/memberships")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(ApplyIn)
@bp.response(201, MembershipOut)
def apply_for_membership(data):
    """An organization's admin applies for one of an institute's tiers."""
    organization = db.get_or_404(Organization, data["organization_id"])
    authz.require(caller(), "organization.apply", organization)
    institute = institute_by_slug(data["institute"])
    tier = db.session.scalar(sa.select(Tier).where(Tier.id == data["tier_id"], Tier.institute_id == institute.id))
    if tier is None:
        refuse_field("tier_id", "That institute has no such tier")
    return run(lambda: memberships.apply(caller(), organization, institute, tier, statement=data["statement"],
                                         contact_name=data["contact_name"], contact_email=data["contact_email"]),
               MembershipOut().dump, 201)


@bp.get("/memberships/<int:membership_id>")
@token_required()
@bp.doc(security=SECURITY)
@bp.response(200, MembershipOut)
def membership_detail(membership_id: int):
    """A membership or application: the organization's people and the institute's staff see it."""
    return load(Membership, membership_id, "membership.view")


@bp.post("/memberships/<int:membership_id>/decision")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(MembershipDecisionIn)
@bp.response(200, MembershipOut)
def decide_membership(data, membership_id: int):
    """The institute's staff approve or decline an application."""
    found = load(Membership, membership_id, "membership.view", "membership.decide")

    def decide():
        if data["decision"] == "approve":
            memberships.approve(caller(), found, term_years=data["term_years"])
        else:
            memberships.decline(caller(), found, reason=data["reason"])
        return found

    return run(decide, MembershipOut().dump)


@bp.post("/memberships/<int:membership_id>/tier")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(TierChangeIn)
@bp.response(200, MembershipOut)
def request_tier_change(data, membership_id: int):
    """The organization's admin asks to move a membership in force to another of the institute's tiers; the
    institute's staff are told and decide (``requested_tier_id`` shows the request until then)."""
    found = load(Membership, membership_id, "membership.view", "membership.act")
    tier = db.session.scalar(sa.select(Tier).where(Tier.id == data["tier_id"], Tier.institute_id == found.institute_id))
    if tier is None:
        refuse_field("tier_id", "That institute has no such tier")
    return run(lambda: memberships.request_tier_change(caller(), found, tier), showing(found, MembershipOut()))


@bp.post("/memberships/<int:membership_id>/tier/decision")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(TierDecisionIn)
@bp.response(200, MembershipOut)
def decide_tier_change(data, membership_id: int):
    """The institute's staff approve or decline the change of tier asked for; the organization's admins are told."""
    found = load(Membership, membership_id, "membership.view", "membership.decide")
    return run(lambda: memberships.decide_tier_change(caller(), found, approve_change=data["decision"] == "approve"),
               showing(found, MembershipOut()))


@bp.post("/memberships/<int:membership_id>/withdraw")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(ReasonIn)
@bp.response(200, MembershipOut)
def withdraw_membership(data, membership_id: int):
    """The organization's admin withdraws its application, or its membership (the reason is optional)."""
    found = load(Membership, membership_id, "membership.view", "membership.act")

    return run(lambda: memberships.withdraw(caller(), found, reason=data["reason"]), showing(found, MembershipOut()))


# Pledges and receipts --------------------------------------------------------------------------

@bp.post("/pledges")
@token_required(WRITE)
@bp.doc(security=SECURITY, parameters=[IDEMPOTENCY_KEY])
@bp.arguments(PledgeIn)
@bp.response(201, PledgeOut)
def record_pledge(data):
    """An organization's admin pledges co-investment to an institute it is a member of."""
    organization = db.get_or_404(Organization, data["organization_id"])
    authz.require(caller(), "organization.pledge", organization)
    institute = institute_by_slug(data["institute"])
    entry = PledgeInput(amount_cents=data["amount_cents"], kind=data["kind"], fiscal_year=data["fiscal_year"],
                        in_kind_description=data["in_kind_description"], note=data["note"],
                        schedule=[(i["due_on"], i["amount_cents"]) for i in data["schedule"]])
    return run_idempotent(lambda: ledger.record_pledge(caller(), organization, institute, entry, key=None),
                          PledgeOut().dump, 201)


@bp.get("/pledges/<int:pledge_id>")
@token_required()
@bp.doc(security=SECURITY)
@bp.response(200, PledgeOut)
def pledge_detail(pledge_id: int):
    """A pledge: the organization's admins and the institute's staff see it (anyone else: 404)."""
    return load(Pledge, pledge_id, "pledge.view")


@bp.get("/pledges/<int:pledge_id>/entries")
@token_required()
@bp.doc(security=SECURITY)
@bp.response(200, EntryOut(many=True))
def pledge_entries(pledge_id: int):
    """The pledge's ledger entries, oldest first."""
    return ledger.entries_of(load(Pledge, pledge_id, "pledge.view"))


@bp.post("/pledges/<int:pledge_id>/receipts")
@token_required(WRITE)
@bp.doc(security=SECURITY, parameters=[IDEMPOTENCY_KEY])
@bp.arguments(ReceiptIn)
@bp.response(201, EntryOut)
def record_receipt(data, pledge_id: int):
    """The institute's staff record money received against a pledge."""
    found = load(Pledge, pledge_id, "pledge.view", "pledge.record")
    return run_idempotent(lambda: ledger.record_receipt(caller(), found, amount_cents=data["amount_cents"],
                                                        received_on=data["received_on"], note=data["note"],
                                                        key=None), EntryOut().dump, 201)


@bp.post("/pledges/<int:pledge_id>/receipts/<int:entry_id>/verification")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.response(201, EntryOut)
def verify_receipt(pledge_id: int, entry_id: int):
    """Another administrator of the institute verifies a receipt (never the one who recorded it). As the page
    asks for a second factor proved in the last 15 minutes, the API takes a write token made in the last 15
    minutes (making one asks for the second factor)."""
    found = load(Pledge, pledge_id, "pledge.view", "pledge.record")
    entry = db.first_or_404(sa.select(LedgerEntry).where(LedgerEntry.id == entry_id, LedgerEntry.pledge_id == found.id))
    token = current_token()
    assert token is not None
    if not api_tokens.may_verify(token, timedelta(seconds=current_app.config["STEP_UP_MAX_AGE"])):
        abort(403, description="Verifying a receipt needs a write token made in the last 15 minutes (making one "
                               "asks for your second factor), as the page asks for it again.")
    return run(lambda: ledger.verify_receipt(caller(), entry, key=None), EntryOut().dump, 201)


@bp.post("/pledges/<int:pledge_id>/cancel")
@token_required(WRITE)
@bp.doc(security=SECURITY, parameters=[IDEMPOTENCY_KEY])
@bp.arguments(ReasonIn)
@bp.response(201, EntryOut)
def cancel_pledge(data, pledge_id: int):
    """The institute's staff, or the pledging organization's admins, cancel what remains unreceived, with a
    reason (cost share of a proposal not yet approved is released instead)."""
    found = load(Pledge, pledge_id, "pledge.view", "pledge.cancel")
    return run_idempotent(lambda: ledger.cancel_remainder(caller(), found, reason=data["reason"], key=None),
                          EntryOut().dump, 201)


@bp.post("/pledges/<int:pledge_id>/entries/<int:entry_id>/reversal")
@token_required(WRITE)
@bp.doc(security=SECURITY, parameters=[IDEMPOTENCY_KEY])
@bp.arguments(ReasonIn)
@bp.response(201, EntryOut)
def reverse_entry(data, pledge_id: int, entry_id: int):
    """The institute's staff undo a receipt, a verification or a cancellation with a reversing entry, with a
    reason (a verified receipt once its verification is reversed)."""
    found = load(Pledge, pledge_id, "pledge.view", "pledge.record")
    entry = db.first_or_404(sa.select(LedgerEntry).where(LedgerEntry.id == entry_id, LedgerEntry.pledge_id == found.id))
    return run_idempotent(lambda: ledger.reverse(caller(), entry, reason=data["reason"], key=None),
                          EntryOut().dump, 201)


# Proposals -------------------------------------------------------------------------------------

@bp.post("/proposals")
@token_required(WRITE)
@bp.doc(security=SECURITY, parameters=[IDEMPOTENCY_KEY])
@bp.arguments(ProposalStartIn)
@bp.response(201, ProposalOut)
def start_proposal(data):
    """Start a draft proposal for an open call, led by one of the caller's organizations."""
    found = db.get_or_404(ProjectCall, data["call_id"])
    if not authz.can(caller(), "call.view", found):
        abort(404)
    organization = db.get_or_404(Organization, data["organization_id"])
    return run_idempotent(lambda: proposals.start(caller(), found, organization, data["title"]),
                          ProposalOut().dump, 201)


@bp.get("/me/proposals")
@token_required()
@bp.doc(security=SECURITY)
@bp.arguments(MyProposalQuery, location="query", as_kwargs=True)
@bp.response(200, page_of(ProposalOut, "ProposalPage"))
def my_proposals(cursor, limit, status: str):
    """The proposals of the token owner's organizations (led, joined, or invited to and not declined), newest
    first (as on /proposals)."""
    query = proposals.proposals_of_user_query(caller(), status)
    return paged(paging.keyset(query, [Proposal.id], lambda p: [p.id], descending=True, per_page=limit,
                               count=False, cursor=decode_cursor(cursor) or ""))


@bp.get("/proposals/<int:proposal_id>")
@token_required()
@bp.doc(security=SECURITY)
@bp.response(200, ProposalOut)
def proposal_detail(proposal_id: int):
    """A proposal: approved projects are public; drafts and proposals under review, their team, reviewers and
    institute only (anyone else: 404)."""
    return load(Proposal, proposal_id, "proposal.view")


@bp.put("/proposals/<int:proposal_id>/draft")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(DraftIn)
@bp.response(200, ProposalOut)
def save_draft(data, proposal_id: int):
    """Write the draft (the whole of it: a field left out is emptied)."""
    found = load(Proposal, proposal_id, "proposal.view", "proposal.edit")
    draft = DraftInput(**{**data, "milestones": [(m["month"], m["title"], m["deliverable"])
                                                 for m in data["milestones"]]})

    return run(lambda: proposals.save_draft(caller(), found, draft), showing(found, ProposalOut()))


@bp.post("/proposals/<int:proposal_id>/submit")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.response(200, ProposalOut)
def submit_proposal(proposal_id: int):
    """Submit the proposal; refused (422, naming the unmet rule) until every rule is met."""
    found = load(Proposal, proposal_id, "proposal.view", "proposal.edit")

    return run(lambda: proposals.submit(caller(), found), showing(found, ProposalOut()))


@bp.post("/proposals/<int:proposal_id>/withdraw")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.response(200, ProposalOut)
def withdraw_proposal(proposal_id: int):
    """The lead withdraws the proposal before a decision; the cost share committed to it is released."""
    found = load(Proposal, proposal_id, "proposal.view", "proposal.edit")

    return run(lambda: proposals.withdraw(caller(), found), showing(found, ProposalOut()))


@bp.post("/proposals/<int:proposal_id>/decision")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(ProposalDecisionIn)
@bp.response(200, ProposalOut)
def decide_proposal(data, proposal_id: int):
    """The institute's staff approve or decline a proposal, with a note the team sees."""
    found = load(Proposal, proposal_id, "proposal.view", "proposal.decide")

    return run(lambda: proposals.decide(caller(), found, approve=data["decision"] == "approve", note=data["note"]),
               showing(found, ProposalOut()))


# Reviews ---------------------------------------------------------------------------------------

@bp.post("/proposals/<int:proposal_id>/reviewers")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(ReviewerIn)
@bp.response(201, ReviewOut)
def assign_reviewer(data, proposal_id: int):
    """The institute's staff ask someone to review (refused where there is a conflict of interest)."""
    found = load(Proposal, proposal_id, "proposal.view", "proposal.decide")

    def assign():
        reviewer = accounts.find_by_email(data["email"])
        if reviewer is None:
            raise DomainError("email", "No active account has that email address")
        return proposals.assign_reviewer(caller(), found, reviewer, due_on=data["due_on"])

    return run(assign, ReviewOut().dump, 201)


@bp.get("/me/reviews")
@token_required()
@bp.doc(security=SECURITY)
@bp.arguments(ReviewQuery, location="query", as_kwargs=True)
@bp.response(200, page_of(ReviewOut, "ReviewPage"))
def my_reviews(cursor, limit, state: str):
    """The reviews the token's owner was asked for, the most recently asked first (as on /reviews)."""
    return paged(paging.keyset(proposals.reviews_query(caller(), state, with_scores=True),
                               [Review.assigned_at, Review.id], lambda r: [r.assigned_at, r.id], descending=True,
                               per_page=limit, count=False, cursor=decode_cursor(cursor) or ""))


def own_review(proposal_id: int) -> Review:
    """The caller's review of the proposal: 404 for a proposal they may not see, 403 if they are not its reviewer."""
    found = db.get_or_404(Proposal, proposal_id)
    mine = proposals.review_of(caller(), found)
    if mine is None:
        abort(404 if not authz.can(caller(), "proposal.view", found) else 403)
    return mine


@bp.put("/proposals/<int:proposal_id>/review")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(ReviewIn)
@bp.response(200, ReviewOut)
def save_review(data, proposal_id: int):
    """An assigned reviewer saves their scores (1 to 5 per criterion); ``final`` submits them."""
    mine = own_review(proposal_id)
    entries = {s["criterion_id"]: (s["score"], s["comment"]) for s in data["scores"]}

    return run(lambda: proposals.save_review(caller(), mine, entries, final=data["final"]), showing(mine, ReviewOut()))


@bp.post("/proposals/<int:proposal_id>/review/conflict")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(ReasonIn)
@bp.response(204)
def declare_conflict(data, proposal_id: int):
    """The assigned reviewer declares a conflict of interest, saying what it is (the institute sees it): they
    leave the proposal, with any scores, and the institute's staff are told."""
    mine = own_review(proposal_id)
    return run(lambda: proposals.declare_conflict(caller(), mine, reason=data["reason"]), lambda _: {}, 204)


# Proposal teams --------------------------------------------------------------------------------

def team_member(proposal: Proposal, partner_id: int, action: str) -> Partner:
    """A partner of the proposal (404 otherwise), checked for ``action`` (403), as the proposal's page does."""
    partner = db.first_or_404(sa.select(Partner).where(Partner.id == partner_id, Partner.proposal_id == proposal.id))
    authz.require(caller(), action, partner)
    return partner


@bp.route("/proposals/<int:proposal_id>/partners")
class ProposalTeam(MethodView):
    """One address for the team, read and added to: with two rules for one address, an id beyond what a row can
    have would answer 405 for the method of the other rule instead of 404."""

    @token_required()
    @bp.doc(security=SECURITY, operationId="proposal_team")
    @bp.response(200, PartnerOut(many=True))
    def get(self, proposal_id: int):
        """The proposal's team: the lead and each organization invited, with its answer and cost share. A partner
        organization's admin finds its own row here by ``organization_id``."""
        return load(Proposal, proposal_id, "proposal.view").partners

    @token_required(WRITE)
    @bp.doc(security=SECURITY, operationId="invite_partner")
    @bp.arguments(PartnerIn)
    @bp.response(201, PartnerOut)
    def post(self, data, proposal_id: int):
        """The lead invites a partner organization onto a draft's team; the organization's admins are told."""
        found = load(Proposal, proposal_id, "proposal.view", "proposal.edit")
        organization = db.session.get(Organization, data["organization_id"])
        if organization is None:
            refuse_field("organization_id", "No organization has that id")
        return run(lambda: proposals.invite(caller(), found, organization), PartnerOut().dump, 201)


@bp.get("/proposals/<int:proposal_id>/partner-candidates")
@token_required()
@bp.doc(security=SECURITY)
@bp.arguments(CandidateQuery, location="query", as_kwargs=True)
@bp.response(200, CandidateOut(many=True))
def partner_candidates(proposal_id: int, q: str, sector: str, state: str, institute: str):
    """The partner finder of the proposal's page: organizations with a membership in force (of any institute,
    or of ``institute``) that are not on the team yet, by name, at most 50; for the lead's people."""
    found = load(Proposal, proposal_id, "proposal.view", "proposal.edit")
    member_of = db.session.scalar(sa.select(Institute.id).where(Institute.slug == institute)) if institute else None
    if institute and member_of is None:
        refuse_field("institute", "No institute has that slug")
    return proposals.find_partners(found.call, q=q, sector=sector, state=state.upper(), institute_id=member_of,
                                   exclude=proposals.team_org_ids(found))


@bp.post("/proposals/<int:proposal_id>/partners/<int:partner_id>/withdraw")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.response(200, PartnerOut)
def withdraw_partner(proposal_id: int, partner_id: int):
    """The lead takes back an invitation that has not been answered yet."""
    found = load(Proposal, proposal_id, "proposal.view", "proposal.edit")
    partner = db.first_or_404(sa.select(Partner).where(Partner.id == partner_id, Partner.proposal_id == found.id,
                                                       Partner.is_lead.is_(False)))

    return run(lambda: proposals.withdraw_partner(caller(), partner), showing(partner, PartnerOut()))


@bp.post("/proposals/<int:proposal_id>/partners/<int:partner_id>/answer")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.arguments(PartnerAnswerIn)
@bp.response(200, PartnerOut)
def answer_invitation(data, proposal_id: int, partner_id: int):
    """The invited organization's admin accepts or declines joining the team."""
    found = load(Proposal, proposal_id, "proposal.view", "proposal.view_full")
    partner = team_member(found, partner_id, "partner.answer")

    return run(lambda: proposals.respond(caller(), partner, accept=data["decision"] == "accept"),
               showing(partner, PartnerOut()))


@bp.post("/proposals/<int:proposal_id>/partners/<int:partner_id>/cost-share")
@token_required(WRITE)
@bp.doc(security=SECURITY, parameters=[IDEMPOTENCY_KEY])
@bp.arguments(CostShareIn)
@bp.response(201, PartnerOut)
def commit_cost_share(data, proposal_id: int, partner_id: int):
    """A team organization's admin (the lead's too) commits its cost share: a pledge in the ledger tied to the
    proposal, counted once the proposal is approved and released if it is not."""
    found = load(Proposal, proposal_id, "proposal.view", "proposal.view_full")
    partner = team_member(found, partner_id, "partner.answer")

    def commit():
        proposals.commit_cost_share(caller(), partner, amount_cents=data["amount_cents"], kind=data["kind"],
                                    in_kind_description=data["in_kind_description"], key=None)
        return partner

    return run_idempotent(commit, PartnerOut().dump, 201)
