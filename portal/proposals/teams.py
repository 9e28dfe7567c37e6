"""A proposal's team: inviting partners, answering an invitation, committing cost share."""

from flask import abort
from flask_login import current_user, login_required

from portal.extensions import db
from portal.forms import confirmed
from portal.models import Organization
from portal.proposals.blueprint import bp, get_partner, get_proposal, page_of
from portal.proposals.detail import render_detail
from portal.proposals.forms import CostShareForm, InviteForm
from portal.services import proposals
from portal.services.parsing import parse_cents
from portal.services.wording import possessive
from portal.views import run_change


@bp.post("/proposals/<int:proposal_id>/partners")
@login_required
def invite(proposal_id: int):
    """Invite a partner organization found with the finder."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    form = InviteForm()
    valid = form.validate_on_submit() and form.organization.data is not None
    organization = db.session.get(Organization, form.organization.data) if valid else None
    if organization is None:
        abort(400)
    return run_change(None, lambda: proposals.invite(current_user, proposal, organization),
                      success=f"{organization.name} has been invited.", redirect_to=page_of(proposal, "#team"),
                      back=page_of(proposal))


@bp.post("/proposals/<int:proposal_id>/partners/<int:partner_id>/answer")
@login_required
def answer(proposal_id: int, partner_id: int):
    """A partner organization's admin accepts or declines the invitation."""
    proposal = get_proposal(proposal_id, "proposal.view_full")
    partner = get_partner(proposal, partner_id)
    decision = confirmed().pressed("accept", "decline")
    return run_change(None, lambda: proposals.respond(current_user, partner, accept=decision == "accept"),
                      success=f"You {decision}ed the invitation.", redirect_to=page_of(proposal, "#team"),
                      back=page_of(proposal))


@bp.post("/proposals/<int:proposal_id>/partners/<int:partner_id>/cost-share")
@login_required
def cost_share(proposal_id: int, partner_id: int):
    """A team organization's admin commits its cost share: a pledge in the ledger tied to the proposal."""
    proposal = get_proposal(proposal_id, "proposal.view_full")
    partner = get_partner(proposal, partner_id)
    form = CostShareForm()
    return run_change(
        form, lambda: proposals.commit_cost_share(
            current_user, partner, amount_cents=parse_cents(form.amount.data, "amount"), kind=form.kind.data,
            in_kind_description=form.in_kind_description.data or "", key=form.key.data),
        success=f"{possessive(partner.organization.name)} cost share has been pledged.",
        redirect_to=page_of(proposal, "#team"),
        back=page_of(proposal), repeated_to=lambda _: page_of(proposal),
        render=lambda status: render_detail(proposal, status, cost_form=form))
