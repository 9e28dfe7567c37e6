"""A proposal's page, writing the draft, submitting and withdrawing it."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request
from flask_login import current_user, login_required

from portal import authz, paging
from portal.extensions import db
from portal.forms import SelectChoice, confirmed, filled
from portal.models import Institute, PartnerStatus, Proposal, ProposalStatus
from portal.proposals.blueprint import bp, get_proposal, page_of
from portal.proposals.forms import (
    CompleteForm,
    CostShareForm,
    DecisionForm,
    DraftForm,
    FinderForm,
    InviteForm,
    MyProposalsForm,
    ReasonForm,
    ReviewerForm,
    ScreenForm,
    UpdateForm,
)
from portal.services import proposals
from portal.services.clock import today
from portal.services.parsing import format_cents, parse_cents, parse_milestones
from portal.services.proposals import DraftInput
from portal.views import run_change


def render_detail(proposal: Proposal, status: int = 200, **forms):
    full = authz.can(current_user, "proposal.view_full", proposal)
    if not full:
        return render_template("proposals/public.html", proposal=proposal,
                               partners=[p for p in proposal.partners if p.status == PartnerStatus.ACCEPTED]), status
    actions = authz.proposal_actions(current_user, proposal)
    finder = forms.pop("finder", None) or FinderForm(request.args)
    finder.institute.choices = [SelectChoice("", "Any institute")] + [
        SelectChoice(i.id, i.acronym) for i in db.session.scalars(sa.select(Institute).order_by(Institute.acronym))]
    found = []
    if "invite" in actions and request.args.get("find") and finder.validate():
        found = proposals.find_partners(proposal.call, q=finder.q.data or "", sector=finder.sector.data or "",
                                        state=finder.state.data or "", institute_id=finder.institute.data,
                                        exclude=proposals.team_org_ids(proposal))
    review = proposals.review_of(current_user, proposal)
    reviews = proposals.reviews_of(proposal) if "see_reviews" in actions else []
    # pending reviews a conflict of interest now blocks, with the reason, for the institute to act on
    blocked = {r.id: reason for r in reviews if r.submitted_at is None and "remove_reviewer" in actions
               and (reason := proposals.conflict(r.reviewer, proposal))}
    forms.setdefault("cost_form", CostShareForm(formdata=None))
    # the institute's sign-off starts from the levels the lead asked for
    forms.setdefault("complete_form", CompleteForm(formdata=None, trl_reached=proposal.trl_requested,
                                                   mrl_reached=proposal.mrl_requested))
    for name, cls in (("decision_form", DecisionForm), ("reviewer_form", ReviewerForm), ("update_form", UpdateForm),
                      ("invite_form", InviteForm), ("reason_form", ReasonForm),
                      ("screen_form", ScreenForm)):
        forms.setdefault(name, cls(formdata=None))
    return render_template(
        "proposals/detail.html", proposal=proposal, actions=actions,
        rules=proposals.check_rules(proposal) if proposal.status == ProposalStatus.DRAFT else [],
        finder=finder, found=found, review=review,
        reviews=reviews, blocked=blocked,
        summary=proposals.review_summary(proposal) if "see_reviews" in actions else None,
        spans=proposals.time_in_states(proposal), updates=proposals.updates_of(proposal), today=today(), **forms,
    ), status


def button(proposal: Proposal, change, success: str, anchor: str = ""):
    """A button on the proposal's page: the change, then back to the page (a refusal flashed above it)."""
    confirmed()
    return run_change(None, change, success=success, redirect_to=page_of(proposal, anchor), back=page_of(proposal))


def draft_as_typed(proposal: Proposal) -> dict[str, object]:
    """The saved draft as its form shows it: the federal request in dollars, the milestones one a line."""
    values: dict[str, object] = {name: getattr(proposal, name) for name in (
        "title", "abstract", "technical_plan", "technology_area", "trl_start", "trl_target", "mrl_start",
        "mrl_target", "duration_months")}
    cents = proposal.federal_request_cents
    values["federal_request"] = format_cents(cents).lstrip("$") if cents else ""
    values["milestones"] = "\n".join(f"{m.month} | {m.title} | {m.deliverable}" for m in proposal.milestones)
    return values


@bp.get("/proposals")
@login_required
def my_proposals():
    """The proposals of the signed-in person's organizations, newest first, a page at a time, by status."""
    form = MyProposalsForm(request.args)
    valid = form.validate()
    query = proposals.proposals_of_user_query(current_user, form.status.data or "") if valid else None
    page = paging.keyset(query, [Proposal.id], lambda p: [p.id], descending=True)
    return render_template("proposals/mine.html", form=form, page=page), 200 if valid else 422


@bp.get("/proposals/<int:proposal_id>")
def detail(proposal_id: int):
    """The proposal's page: the full working page for its team, reviewers and institute; the public one otherwise."""
    return render_detail(get_proposal(proposal_id, "proposal.view"))


@bp.route("/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    """Write the draft."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    if proposal.status != ProposalStatus.DRAFT:
        flash(f"The proposal is {proposal.status.label.lower()}, so it can no longer be edited.", "error")
        return redirect(page_of(proposal)), 303
    form = DraftForm(data=draft_as_typed(proposal))  # a field left out of a submission keeps what is saved

    def render(status: int = 200):
        return render_template("proposals/edit.html", proposal=proposal, form=form), status

    if request.method == "GET":
        return render()

    def save():
        requested = form.federal_request.data or ""
        request_cents = parse_cents(requested, "federal_request") if requested.strip() else None
        proposals.save_draft(current_user, proposal, DraftInput(
            title=filled(form.title.data), abstract=form.abstract.data or "",
            technical_plan=form.technical_plan.data or "",
            technology_area=form.technology_area.data or "", trl_start=form.trl_start.data,
            trl_target=form.trl_target.data, mrl_start=form.mrl_start.data, mrl_target=form.mrl_target.data,
            duration_months=form.duration_months.data, federal_request_cents=request_cents,
            milestones=parse_milestones(form.milestones.data)))

    return run_change(form, save, success="The draft has been saved.", redirect_to=page_of(proposal, "#rules"),
                      render=render)


@bp.post("/proposals/<int:proposal_id>/submit")
@login_required
def submit(proposal_id: int):
    """Submit the proposal; refused, with the unmet rules, until every rule is met."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    return button(proposal, lambda: proposals.submit(current_user, proposal),
                  "The proposal has been submitted. It can no longer be edited.")


@bp.post("/proposals/<int:proposal_id>/withdraw")
@login_required
def withdraw(proposal_id: int):
    """The lead withdraws the proposal before a decision."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    return button(proposal, lambda: proposals.withdraw(current_user, proposal), "The proposal has been withdrawn.")
