"""Invitations by email with a token: the same services, authorization and mail limits as the invitation pages.

Each sending is limited per token like the pages' per address (EMAIL_LIMIT_PER_ADDRESS), on top of the API's
own limit, since each one mails a person outside the portal."""

from collections.abc import Callable
from typing import ClassVar

import sqlalchemy as sa
from flask import abort, current_app
from flask.views import MethodView

from portal import authz
from portal.api.auth import SECURITY, ApiBlueprint, caller, rate_key, token_required
from portal.api.changes import refuse_field, run, showing
from portal.api.members import WRITE, load
from portal.api.schemas import InvitationIn, InvitationOut, ProposalInvitationIn
from portal.extensions import db, limiter
from portal.models import Institute, Invitation, InvitationKind, Organization, Proposal
from portal.services import invitations

bp = ApiBlueprint("api_invitations", __name__, url_prefix="/api/v1",
                  description="Invitations by email to people outside the portal, with a personal access token.")


def mail_limit() -> str:
    return current_app.config["EMAIL_LIMIT_PER_ADDRESS"]


mailing = limiter.limit(mail_limit, key_func=rate_key, methods=["POST"])


def organization_to_invite_to(org_id: int) -> Organization:
    """The organization (404 when missing or not visible), whose admins invite colleagues (403 for others)."""
    return load(Organization, org_id, "organization.view", "organization.invite")


# One address per target, read and sent to (a MethodView): with two rules for one address, an id beyond what a row
# can have would answer 405 for the method of the other rule instead of 404. Only sending counts against the mail
# limit (``mailing`` is for POST).

@bp.route("/organizations/<int:org_id>/invitations")
class OrganizationInvitations(MethodView):
    decorators: ClassVar[list[Callable]] = [mailing]

    @token_required()
    @bp.doc(security=SECURITY, operationId="organization_invitations")
    @bp.response(200, InvitationOut(many=True))
    def get(self, org_id: int):
        """The organization's invitations not yet accepted or withdrawn, newest first (expired ones say so)."""
        return invitations.pending_for(organization_id=organization_to_invite_to(org_id).id)

    @token_required(WRITE)
    @bp.doc(security=SECURITY, operationId="invite_colleague")
    @bp.arguments(InvitationIn)
    @bp.response(201, InvitationOut)
    def post(self, data, org_id: int):
        """The organization's admin invites a colleague by address; they join as a member when they accept."""
        organization = organization_to_invite_to(org_id)
        return run(lambda: invitations.invite_colleague(caller(), organization, data["email"], data["message"]),
                   InvitationOut().dump, 201)


def institute_to_invite_to(slug: str) -> Institute:
    institute = db.first_or_404(sa.select(Institute).where(Institute.slug == slug))
    authz.require(caller(), "institute.invite_staff", institute)
    return institute


@bp.route("/institutes/<slug>/invitations")
class InstituteInvitations(MethodView):
    decorators: ClassVar[list[Callable]] = [mailing]

    @token_required()
    @bp.doc(security=SECURITY, operationId="institute_invitations")
    @bp.response(200, InvitationOut(many=True))
    def get(self, slug: str):
        """The institute's staff invitations not yet accepted or withdrawn (network administrators)."""
        return invitations.pending_for(institute_id=institute_to_invite_to(slug).id)

    @token_required(WRITE)
    @bp.doc(security=SECURITY, operationId="invite_staff")
    @bp.arguments(InvitationIn)
    @bp.response(201, InvitationOut)
    def post(self, data, slug: str):
        """A network administrator invites someone to administer the institute."""
        institute = institute_to_invite_to(slug)
        return run(lambda: invitations.invite_staff(caller(), institute, data["email"], data["message"]),
                   InvitationOut().dump, 201)


def kinds_for(proposal: Proposal) -> set[InvitationKind]:
    """The kinds of invitation the caller may send for the proposal: reviewers (its institute's staff) and
    partners' contacts (the lead's people)."""
    kinds = set()
    if authz.can(caller(), "proposal.invite_reviewer", proposal):
        kinds.add(InvitationKind.REVIEWER)
    if authz.can(caller(), "proposal.invite_partner", proposal):
        kinds.add(InvitationKind.PARTNER)
    return kinds


@bp.route("/proposals/<int:proposal_id>/invitations")
class ProposalInvitations(MethodView):
    decorators: ClassVar[list[Callable]] = [mailing]

    @token_required()
    @bp.doc(security=SECURITY, operationId="proposal_invitations")
    @bp.response(200, InvitationOut(many=True))
    def get(self, proposal_id: int):
        """The proposal's pending invitations of the kinds the caller sends (reviewers, partners' contacts)."""
        found = load(Proposal, proposal_id, "proposal.view_full")
        kinds = kinds_for(found)
        if not kinds:
            abort(403)
        return [i for i in invitations.pending_for(proposal_id=found.id) if i.kind in kinds]

    @token_required(WRITE)
    @bp.doc(security=SECURITY, operationId="invite_to_proposal")
    @bp.arguments(ProposalInvitationIn)
    @bp.response(201, InvitationOut)
    def post(self, data, proposal_id: int):
        """The institute's staff invite a reviewer to a submitted proposal (conflicts are checked when they
        accept); the lead's people invite a partner organization's contact to a draft (``organization_name``)."""
        found = load(Proposal, proposal_id, "proposal.view_full")
        kind = InvitationKind(data["kind"])
        if kind not in kinds_for(found):
            abort(403)
        if kind == InvitationKind.REVIEWER:
            return run(lambda: invitations.invite_reviewer(caller(), found, data["email"], data["message"]),
                       InvitationOut().dump, 201)
        if not data["organization_name"].strip():
            refuse_field("organization_name", "Enter the name of the partner organization")
        return run(lambda: invitations.invite_partner(caller(), found, data["organization_name"], data["email"],
                                                      data["message"]), InvitationOut().dump, 201)


@bp.post("/invitations/<int:invitation_id>/withdraw")
@token_required(WRITE)
@bp.doc(security=SECURITY)
@bp.response(200, InvitationOut)
def withdraw(invitation_id: int):
    """Withdraw a pending invitation the caller may manage: its link stops working (404 for anyone else)."""
    found = db.get_or_404(Invitation, invitation_id)
    if not authz.can(caller(), "invitation.withdraw", found):
        abort(404)
    return run(lambda: invitations.withdraw(caller(), found), showing(found, InvitationOut()))
