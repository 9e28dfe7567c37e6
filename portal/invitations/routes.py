"""Invitations: the pages that send and withdraw them, and the link's page that accepts one (signed in, or by
registering with the invited address)."""

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from portal import authz
from portal.auth.routes import email_limits, limited, start_session
from portal.extensions import db
from portal.forms import confirmed, filled
from portal.invitations.forms import (
    ColleagueRegisterForm,
    InvitationForm,
    InvitedRegisterForm,
    PartnerInvitationForm,
    PartnerRegisterForm,
)
from portal.models import Institute, Invitation, InvitationKind, Organization
from portal.models.base import utcnow
from portal.proposals.blueprint import get_proposal
from portal.services import invitations
from portal.services.organizations import OrganizationChoice
from portal.services.wording import possessive
from portal.views import refusal, run_change

bp = Blueprint("invitations", __name__)


# Sending and withdrawing ----------------------------------------------------------------------------------

def render_invitations(status: int = 200, **page) -> ResponseReturnValue:
    return render_template("invitations/manage.html", now=utcnow(), what=invitations.what, **page), status


def _organization(org_id: int) -> Organization:
    organization = db.get_or_404(Organization, org_id)
    if not authz.can(current_user, "organization.view", organization):
        abort(404)
    authz.require(current_user, "organization.invite", organization)
    return organization


@bp.route("/organizations/<int:org_id>/invitations", methods=["GET", "POST"])
@limited(email_limits)  # each sends mail
@login_required
def organization(org_id: int):
    """An organization's admins invite colleagues by address, and see or withdraw what is pending."""
    organization = _organization(org_id)
    form = InvitationForm()
    here = url_for("invitations.organization", org_id=org_id)

    def render(status: int = 200) -> ResponseReturnValue:
        return render_invitations(status, heading=f"Invite colleagues to {organization.name}", back=(
            url_for("organizations.manage", org_id=org_id), organization.name), sections=[{
                "id": "colleague", "title": "Invite a colleague", "form": form, "action": here,
                "intro": "They join the organization as a member as soon as they accept.",
                "pending": invitations.pending_for(organization_id=organization.id)}])

    if request.method == "GET":
        return render()
    return run_change(form, lambda: invitations.invite_colleague(
        current_user, organization, filled(form.email.data), form.message.data or ""),
        success=lambda i: f"An invitation has been sent to {i.email}.", redirect_to=here,
        render=lambda status: render(status))


@bp.route("/institutes/<slug>/invitations", methods=["GET", "POST"])
@limited(email_limits)  # each sends mail
@login_required
def institute(slug: str):
    """Network administrators invite an institute's staff by address."""
    institute = db.first_or_404(sa.select(Institute).where(Institute.slug == slug))
    authz.require(current_user, "institute.invite_staff", institute)
    form = InvitationForm()
    here = url_for("invitations.institute", slug=slug)

    def render(status: int = 200) -> ResponseReturnValue:
        return render_invitations(status, heading=f"Invite {possessive(institute.acronym)} staff", back=(
            url_for("institute_admin.manage", slug=slug) + "#staff", f"{institute.acronym} administration"),
            sections=[{"id": "staff", "title": "Invite an administrator", "form": form, "action": here,
                       "intro": f"They administer {institute.acronym} as soon as they accept (and set up an "
                                "authenticator app).",
                       "pending": invitations.pending_for(institute_id=institute.id)}])

    if request.method == "GET":
        return render()
    return run_change(form, lambda: invitations.invite_staff(
        current_user, institute, filled(form.email.data), form.message.data or ""),
        success=lambda i: f"An invitation has been sent to {i.email}.", redirect_to=here,
        render=lambda status: render(status))


@bp.route("/proposals/<int:proposal_id>/invitations", methods=["GET", "POST"])
@limited(email_limits)  # each sends mail
@login_required
def proposal(proposal_id: int):
    """The institute's staff invite reviewers, and the lead's people invite partners' contacts, by address."""
    proposal = get_proposal(proposal_id, "proposal.view_full")
    may_review = authz.can(current_user, "proposal.invite_reviewer", proposal)
    may_partner = authz.can(current_user, "proposal.invite_partner", proposal)
    if not (may_review or may_partner):
        abort(403)
    reviewer_form = InvitationForm(prefix="reviewer-")
    partner_form = PartnerInvitationForm(prefix="partner-")
    here = url_for("invitations.proposal", proposal_id=proposal_id)

    def render(status: int = 200) -> ResponseReturnValue:
        pending = invitations.pending_for(proposal_id=proposal.id)
        sections = []
        if may_partner:
            sections.append({"id": "partner", "title": "Invite a partner's contact", "form": partner_form,
                             "action": here, "button": "partner",
                             "intro": "Your contact accepts for their organization (as one of its admins; a new "
                                      "organization is added when they register).",
                             "pending": [i for i in pending if i.kind == InvitationKind.PARTNER]})
        if may_review:
            sections.append({"id": "reviewer", "title": "Invite a reviewer", "form": reviewer_form, "action": here,
                             "button": "reviewer",
                             "intro": "Conflicts of interest are checked when they accept.",
                             "pending": [i for i in pending if i.kind == InvitationKind.REVIEWER]})
        return render_invitations(status, heading=f"Invitations for “{proposal.title}”", back=(
            url_for("proposals.detail", proposal_id=proposal.id), proposal.title), sections=sections)

    if request.method == "GET":
        return render()
    if request.form.get("kind") == "reviewer" and may_review:
        return run_change(reviewer_form, lambda: invitations.invite_reviewer(
            current_user, proposal, filled(reviewer_form.email.data), reviewer_form.message.data or ""),
            success=lambda i: f"An invitation to review has been sent to {i.email}.", redirect_to=here,
            render=lambda status: render(status))
    if request.form.get("kind") == "partner" and may_partner:
        return run_change(partner_form, lambda: invitations.invite_partner(
            current_user, proposal, filled(partner_form.organization.data), filled(partner_form.email.data),
            partner_form.message.data or ""),
            success=lambda i: f"An invitation has been sent to {i.email}.", redirect_to=here,
            render=lambda status: render(status))
    abort(400)


def _target_page(invitation: Invitation) -> str:
    if invitation.kind == InvitationKind.COLLEAGUE:
        return url_for("invitations.organization", org_id=invitation.organization_id)
    if invitation.kind == InvitationKind.STAFF:
        assert invitation.institute is not None
        return url_for("invitations.institute", slug=invitation.institute.slug)
    return url_for("invitations.proposal", proposal_id=invitation.proposal_id)


@bp.post("/invitations/<int:invitation_id>/withdraw")
@login_required
def withdraw(invitation_id: int):
    """Withdraw a pending invitation: its link stops working."""
    invitation = db.get_or_404(Invitation, invitation_id)
    if not authz.can(current_user, "invitation.withdraw", invitation):
        abort(404)  # whoever may not manage it is not told that it exists
    confirmed()
    back = _target_page(invitation)
    return run_change(None, lambda: invitations.withdraw(current_user, invitation),
                      success=f"The invitation to {invitation.email} has been withdrawn.", redirect_to=back)


# Answering ------------------------------------------------------------------------------------------------

def _invitation(token: str) -> Invitation:
    """The invitation the link names (404 for none), in whatever state; the page says what it is."""
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == invitations.digest(token)))
    if invitation is None:
        abort(404)
    return invitation


@bp.get("/invitations/<token>")
def show(token: str):
    """The invitation: what it asks and from whom; accept it (signed in) or register to accept it."""
    invitation = _invitation(token)
    problem = refusal(lambda: invitations.check_open(invitation))
    status = problem.status if problem is not None else 200
    return render_template("invitations/open.html", invitation=invitation, token=token, problem=problem,
                           what=invitations.what(invitation)), status


@bp.post("/invitations/<token>/accept")
@login_required
def accept(token: str):
    """Accept the invitation as the signed-in person (whose address it must be)."""
    _invitation(token)
    confirmed()
    return run_change(None, lambda: invitations.accept(current_user, token),
                      success=lambda i: f"Invitation accepted: you now {invitations.what(i)}.",
                      redirect_to=lambda i: _landing(i), back=url_for("invitations.show", token=token))


@bp.post("/invitations/<int:invitation_id>/accept")
@login_required
def accept_own(invitation_id: int):
    """Accept an invitation sent to the signed-in person's own address (listed on their home page)."""
    invitation = db.get_or_404(Invitation, invitation_id)
    if invitation.email != current_user.email:
        abort(404)  # someone else's invitation: not said to exist
    confirmed()
    return run_change(None, lambda: invitations.accept_own(current_user, invitation),
                      success=lambda i: f"Invitation accepted: you now {invitations.what(i)}.",
                      redirect_to=lambda i: _landing(i), back=url_for("auth.account"))


def _landing(invitation: Invitation) -> str:
    """Where the new role is exercised."""
    if invitation.kind == InvitationKind.COLLEAGUE:
        return url_for("organizations.detail", org_id=invitation.organization_id)
    if invitation.kind == InvitationKind.STAFF:
        assert invitation.institute is not None
        return url_for("institute_admin.manage", slug=invitation.institute.slug)
    if invitation.kind == InvitationKind.REVIEWER:
        return url_for("proposals.review", proposal_id=invitation.proposal_id)
    return url_for("proposals.detail", proposal_id=invitation.proposal_id)


REGISTER_FORMS = {InvitationKind.COLLEAGUE: ColleagueRegisterForm, InvitationKind.PARTNER: PartnerRegisterForm}


def _organization_choice(invitation: Invitation, form) -> OrganizationChoice | None:
    if invitation.kind == InvitationKind.COLLEAGUE:
        return None
    if invitation.kind == InvitationKind.PARTNER:
        return OrganizationChoice(name=invitation.organization_name, sector=form.sector.data or None,
                                  size=form.size.data or None, state=form.state.data or None)
    return form.organization_choice()


@bp.route("/invitations/<token>/register", methods=["GET", "POST"])
@limited(email_limits)  # each sends mail
def register(token: str):
    """Register with the invited address and accept at once: the link proves the address."""
    if current_user.is_authenticated:
        return redirect(url_for("invitations.show", token=token))
    invitation = _invitation(token)
    problem = refusal(lambda: invitations.check_open(invitation))
    if problem is not None:
        return redirect(url_for("invitations.show", token=token))
    form = REGISTER_FORMS.get(invitation.kind, InvitedRegisterForm)()

    def render(status: int = 200) -> ResponseReturnValue:
        return render_template("invitations/register.html", form=form, invitation=invitation, token=token,
                               what=invitations.what(invitation)), status

    if request.method == "GET":
        return render()

    def change():
        return invitations.register_and_accept(
            token, full_name=filled(form.full_name.data), password=filled(form.password.data),
            organization=_organization_choice(invitation, form))

    def signed_in(result) -> None:
        user, _ = result
        if user is not None:
            start_session(user)

    def said(result) -> str:
        user, problem = result
        if user is None:
            return "Check your email to continue."
        if problem:
            return f"Your account is ready, but the invitation could not be accepted: {problem}"
        return f"Your account is ready and you now {invitations.what(invitation)}."

    return run_change(form, change, then=signed_in, success=said,
        redirect_to=lambda result: (_landing(invitation) if result[0] and not result[1]
                                    else url_for("auth.account") if result[0] else url_for("auth.check_email")),
        render=lambda status: render(422 if status < 400 else status))

