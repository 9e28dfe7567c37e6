"""The project an approved proposal becomes: starting it, progress updates, milestones reported by the team and
accepted by the institute, completion asked for by the lead and signed off by the institute."""

import sqlalchemy as sa
from flask_login import current_user, login_required

from portal.extensions import db
from portal.models import Milestone, Proposal
from portal.proposals.blueprint import bp, get_proposal, page_of
from portal.proposals.detail import button, render_detail
from portal.proposals.forms import CompleteForm, ReasonForm, UpdateForm
from portal.services import proposals
from portal.views import run_change


def get_milestone(proposal: Proposal, milestone_id: int) -> Milestone:
    return db.first_or_404(sa.select(Milestone).where(Milestone.id == milestone_id,
                                                      Milestone.proposal_id == proposal.id))


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


@bp.post("/proposals/<int:proposal_id>/milestones/<int:milestone_id>/report")
@login_required
def milestone_report(proposal_id: int, milestone_id: int):
    """The team reports a milestone done; the institute accepts it."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    milestone = get_milestone(proposal, milestone_id)
    return button(proposal, lambda: proposals.report_milestone(current_user, milestone),
                  f"“{milestone.title}” is reported done; the institute has been asked to accept it.", "#milestones")


@bp.post("/proposals/<int:proposal_id>/milestones/<int:milestone_id>/accept")
@login_required
def milestone_accept(proposal_id: int, milestone_id: int):
    """The institute accepts a milestone the team reported done."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    milestone = get_milestone(proposal, milestone_id)
    return button(proposal, lambda: proposals.accept_milestone(current_user, milestone),
                  f"“{milestone.title}” is accepted.", "#milestones")


@bp.post("/proposals/<int:proposal_id>/milestones/<int:milestone_id>/send-back")
@login_required
def milestone_send_back(proposal_id: int, milestone_id: int):
    """The institute sends a reported milestone back to the team, saying what is missing."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    milestone = get_milestone(proposal, milestone_id)
    form = ReasonForm()
    return run_change(form, lambda: proposals.send_back_milestone(current_user, milestone,
                                                                  reason=form.reason.data or ""),
                      success=f"“{milestone.title}” has been sent back to the team.",
                      redirect_to=page_of(proposal, "#milestones"), back=page_of(proposal, "#milestones"))


@bp.post("/proposals/<int:proposal_id>/completion")
@login_required
def request_completion(proposal_id: int):
    """The lead asks the institute to sign the project off, with the readiness levels reached."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    form = CompleteForm()
    return run_change(form, lambda: proposals.request_completion(
        current_user, proposal, trl_reached=form.trl_reached.data, mrl_reached=form.mrl_reached.data),
        success="The institute has been asked to sign the project off.", redirect_to=page_of(proposal, "#project"),
        back=page_of(proposal), render=lambda status: render_detail(proposal, status, complete_form=form))


@bp.post("/proposals/<int:proposal_id>/complete")
@login_required
def complete(proposal_id: int):
    """The institute signs the project off as complete, with the readiness levels reached."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    form = CompleteForm()
    return run_change(form, lambda: proposals.complete(current_user, proposal, trl_reached=form.trl_reached.data,
                                                       mrl_reached=form.mrl_reached.data),
                      success="The project is signed off as complete.", redirect_to=page_of(proposal),
                      back=page_of(proposal), render=lambda status: render_detail(proposal, status, complete_form=form))
