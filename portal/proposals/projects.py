"""The project an approved proposal becomes: starting it, progress updates, milestones, completion."""

import sqlalchemy as sa
from flask_login import current_user, login_required

from portal.extensions import db
from portal.models import Milestone
from portal.proposals.blueprint import bp, get_proposal, page_of
from portal.proposals.detail import button, render_detail
from portal.proposals.forms import CompleteForm, UpdateForm
from portal.services import proposals
from portal.views import run_change


@bp.post("/proposals/<int:proposal_id>/start")
@login_required
def start_project(proposal_id: int):
    """The lead starts the approved project."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    return button(proposal, lambda: proposals.start_project(current_user, proposal), "The project is under way.")


@bp.post("/proposals/<int:proposal_id>/updates")
@login_required
def post_update(proposal_id: int):
    """The team posts a progress update."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    form = UpdateForm()
    return run_change(form, lambda: proposals.post_update(current_user, proposal, form.body.data or ""),
                      success="Your update has been posted.", redirect_to=page_of(proposal, "#project"),
                      back=page_of(proposal))


@bp.post("/proposals/<int:proposal_id>/milestones/<int:milestone_id>/done")
@login_required
def milestone_done(proposal_id: int, milestone_id: int):
    """The team marks a milestone done."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    milestone = db.first_or_404(sa.select(Milestone).where(Milestone.id == milestone_id,
                                                           Milestone.proposal_id == proposal.id))
    return button(proposal, lambda: proposals.complete_milestone(current_user, milestone),
                  f"“{milestone.title}” is done.", "#project")


@bp.post("/proposals/<int:proposal_id>/complete")
@login_required
def complete(proposal_id: int):
    """The team completes the project and records the readiness levels reached."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    form = CompleteForm()
    return run_change(form, lambda: proposals.complete(current_user, proposal, trl_reached=form.trl_reached.data,
                                                       mrl_reached=form.mrl_reached.data),
                      success="The project is complete.", redirect_to=page_of(proposal), back=page_of(proposal),
                      render=lambda status: render_detail(proposal, status, complete_form=form))
