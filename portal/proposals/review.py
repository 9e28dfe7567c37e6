"""Review and decision: reviewers, their scores, returning to draft, approving or declining."""

import sqlalchemy as sa
from flask import abort, render_template, request, url_for
from flask_login import current_user, login_required

from portal import authz, paging
from portal.extensions import db
from portal.forms import filled
from portal.models import PartnerStatus, Proposal, Review
from portal.proposals.blueprint import bp, get_proposal, page_of
from portal.proposals.detail import render_detail
from portal.proposals.forms import DecisionForm, MyReviewsForm, ReasonForm, ReviewerForm, ScreenForm, review_form
from portal.services import DomainError, accounts, proposals
from portal.services.clock import long_date
from portal.views import run_change


def decision(proposal: Proposal, form: DecisionForm, change, success: str):
    """Approve, decline or return to draft: the note the team sees is required, and shown next to its field."""
    return run_change(form, lambda: change(form.note.data or ""), success=success, redirect_to=page_of(proposal),
                      render=lambda status: render_detail(proposal, status, decision_form=form))


@bp.post("/proposals/<int:proposal_id>/return")
@login_required
def return_to_draft(proposal_id: int):
    """An institute administrator returns a submitted proposal to draft with a note."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    return decision(proposal, DecisionForm(), lambda note: proposals.return_to_draft(current_user, proposal, note),
                    "The proposal is back in draft; the team has been told why.")


@bp.post("/proposals/<int:proposal_id>/decision")
@login_required
def decide(proposal_id: int):
    """Approve or decline, with a note the team sees."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    form = DecisionForm()
    pressed = form.pressed("approve", "decline")
    return decision(proposal, form, lambda note: proposals.decide(current_user, proposal, approve=pressed == "approve",
                                                                  note=note), f"The proposal has been {pressed}d.")


@bp.post("/proposals/<int:proposal_id>/reviewers")
@login_required
def assign(proposal_id: int):
    """Assign a reviewer (refused where there is a conflict of interest)."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    form = ReviewerForm()

    def assign_reviewer():
        reviewer = accounts.find_by_email(filled(form.email.data))
        if reviewer is None:
            raise DomainError("email", "No active account has that email address")
        return proposals.assign_reviewer(current_user, proposal, reviewer, due_on=form.due_on.data)

    return run_change(form, assign_reviewer,
                      success=lambda review: f"{review.reviewer.full_name} has been asked to review by "
                                             f"{long_date(review.due_on)}.",
                      redirect_to=page_of(proposal, "#review"), back=page_of(proposal),
                      render=lambda status: render_detail(proposal, status, reviewer_form=form))


@bp.get("/reviews")
@login_required
def my_reviews():
    """The reviews the signed-in person was asked for, newest first, a page at a time: to do, submitted or both."""
    form = MyReviewsForm(request.args)
    valid = form.validate()
    query = proposals.reviews_query(current_user, form.state.data or "") if valid else None
    page = paging.keyset(query, [Review.assigned_at, Review.id], lambda r: [r.assigned_at, r.id], descending=True)
    return render_template("proposals/my_reviews.html", form=form, page=page), 200 if valid else 422


@bp.route("/proposals/<int:proposal_id>/review", methods=["GET", "POST"])
@login_required
def review(proposal_id: int):
    """A reviewer scores each criterion 1 to 5 beside the proposal's abstract, team and plan; other reviews stay
    hidden until theirs is submitted. A refused submission shows the page again (422) with all that was typed."""
    proposal = db.get_or_404(Proposal, proposal_id)
    mine = proposals.review_of(current_user, proposal)
    if mine is None:
        abort(404 if not authz.can(current_user, "proposal.view", proposal) else 403)
    criteria = proposal.call.criteria
    form = review_form(criteria)()

    def render(status: int = 200):
        entries = (form.typed(criteria) if request.method == "POST"
                   else {s.criterion_id: (s.score, s.comment) for s in mine.scores})
        others = ([r for r in proposals.reviews_of(proposal) if r.id != mine.id and r.submitted_at]
                  if mine.submitted_at else [])
        scored = {c: s for c, (s, _) in entries.items() if s is not None}
        return render_template(
            "proposals/review.html", proposal=proposal, review=mine, criteria=criteria, entries=entries,
            errors=form.score_errors(criteria), others=others, form=form,
            actions=authz.proposal_actions(current_user, proposal),
            team=[p for p in proposal.partners if p.status == PartnerStatus.ACCEPTED],
            blocked_reason=proposals.conflict(current_user, proposal) if mine.submitted_at is None else None,
            total=proposals.weighted_total(scored, criteria)), status

    if request.method == "GET":
        return render()
    final = form.action.data == "submit"
    here = url_for("proposals.review", proposal_id=proposal.id)
    if mine.submitted_at:  # a page left open: whatever was typed, the service says it can no longer change
        return run_change(None, lambda: proposals.save_review(current_user, mine, {}, final=final),
                          success=None, redirect_to=here)
    return run_change(form, lambda: proposals.save_review(current_user, mine, form.entries(criteria), final=final),
                      success="Your review has been submitted." if final else "Your scores have been saved.",
                      redirect_to=here, render=lambda status: render(status if status >= 400 else 422))


@bp.post("/proposals/<int:proposal_id>/review/conflict")
@login_required
def declare_conflict(proposal_id: int):
    """A reviewer declares a conflict of interest and leaves the proposal."""
    proposal = db.get_or_404(Proposal, proposal_id)
    mine = proposals.review_of(current_user, proposal)
    if mine is None:
        abort(404 if not authz.can(current_user, "proposal.view", proposal) else 403)
    form = ReasonForm()
    here = url_for("proposals.review", proposal_id=proposal.id)
    return run_change(form, lambda: proposals.declare_conflict(current_user, mine, reason=form.reason.data or ""),
                      success="You have declared a conflict and no longer review this proposal; the institute "
                              "has been told.", redirect_to=url_for("auth.account"), back=here)


@bp.post("/proposals/<int:proposal_id>/reviewers/<int:review_id>/remove")
@login_required
def remove_reviewer(proposal_id: int, review_id: int):
    """An institute administrator removes a reviewer, with a reason the reviewer sees."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    review = db.first_or_404(sa.select(Review).where(Review.id == review_id, Review.proposal_id == proposal.id))
    form = ReasonForm()
    name = review.reviewer.full_name
    return run_change(form, lambda: proposals.remove_reviewer(current_user, review, reason=form.reason.data or ""),
                      success=f"{name} no longer reviews this proposal.", redirect_to=page_of(proposal, "#review"),
                      back=page_of(proposal, "#review"))


@bp.post("/proposals/<int:proposal_id>/screen-out")
@login_required
def screen_out(proposal_id: int):
    """An institute administrator declines a submitted proposal without review, with a reason the team sees."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    form = ScreenForm()
    return run_change(form, lambda: proposals.screen_out(current_user, proposal, reason=form.reason.data or ""),
                      success="The proposal has been screened out; the team has been told why.",
                      redirect_to=page_of(proposal), back=page_of(proposal, "#review"),
                      render=lambda status: render_detail(proposal, status, screen_form=form))
