"""Project calls, proposals, their teams, review, decision and the projects they become."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal import authz
from portal.extensions import db
from portal.forms import show_domain_error
from portal.models import Institute, Milestone, Organization, Partner, PartnerStatus, ProjectCall, Proposal, ProposalStatus
from portal.proposals.forms import (
    CallForm,
    CompleteForm,
    CostShareForm,
    DecisionForm,
    DraftForm,
    FinderForm,
    InviteForm,
    NoteForm,
    ReviewerForm,
    StartForm,
    UpdateForm,
)
from portal.services import DomainError, Repeat, accounts, organizations, proposals
from portal.services.parsing import (
    eastern_to_utc,
    format_cents,
    parse_cents,
    parse_criteria,
    parse_milestones,
    parse_ratio_bp,
    utc_to_eastern_input,
)
from portal.services.proposals import CallInput, DraftInput

bp = Blueprint("proposals", __name__)


def get_institute(slug: str) -> Institute:
    return db.first_or_404(sa.select(Institute).where(Institute.slug == slug))


def get_call(call_id: int, action: str = "call.view") -> ProjectCall:
    call = db.get_or_404(ProjectCall, call_id)
    if not authz.can(current_user, "call.view", call):
        abort(404)
    authz.require(current_user, action, call)
    return call


def get_proposal(proposal_id: int, action: str) -> Proposal:
    """Load a proposal; 404 for anyone who may not even see it, 403 for a forbidden action."""
    proposal = db.get_or_404(Proposal, proposal_id)
    if not authz.can(current_user, "proposal.view", proposal):
        abort(404)
    authz.require(current_user, action, proposal)
    return proposal


def done(proposal: Proposal, message: str, anchor: str = ""):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("proposals.detail", proposal_id=proposal.id) + anchor)


def refused(proposal: Proposal, error: DomainError):
    db.session.rollback()
    flash(error.message, "error")
    return redirect(url_for("proposals.detail", proposal_id=proposal.id)), 303


# Calls ---------------------------------------------------------------------------------------

@bp.get("/projects")
def projects():
    """Every approved, active and completed project in the network; optionally of one institute (its slug),
    in one of those statuses, or in one technology area. A value that names nothing is left out and said so."""
    public = {status.value: status for status in (ProposalStatus.APPROVED, ProposalStatus.ACTIVE,
                                                   ProposalStatus.COMPLETED)}
    problems = []
    institute = None
    if slug := request.args.get("institute", ""):
        institute = db.session.scalar(sa.select(Institute).where(Institute.slug == slug))
        if institute is None:
            problems.append("There is no institute with that name, so projects of every institute are shown.")
    status = request.args.get("status", "")
    if status and status not in public:
        problems.append("Only approved, active and completed projects are listed publicly, "
                        "so projects in all three statuses are shown.")
        status = ""
    area = request.args.get("area", "")
    if len(area) > 200:
        problems.append("A technology area is at most 200 characters long, so every area is shown.")
        area = ""
    return render_template(
        "proposals/projects.html", problems=problems, institute=institute,
        status=public.get(status), area=area,
        projects=proposals.public_projects(institute, status=status or None, area=area or None))


@bp.get("/institutes/<slug>/calls")
def calls(slug: str):
    """An institute's project calls."""
    institute = get_institute(slug)
    can_manage = authz.can(current_user, "institute.manage", institute)
    return render_template("proposals/calls.html", institute=institute, can_manage=can_manage,
                           calls=proposals.calls_of(institute, include_drafts=can_manage),
                           projects=proposals.public_projects(institute), now=proposals.utcnow())


def call_input(form: CallForm) -> CallInput:
    return CallInput(
        title=form.title.data, description=form.description.data,
        opens_at=eastern_to_utc(form.opens_at.data), closes_at=eastern_to_utc(form.closes_at.data),
        max_federal_cents=parse_cents(form.max_federal.data, "max_federal"),
        min_cost_share_bp=parse_ratio_bp(form.min_cost_share.data), trl_min=form.trl_min.data,
        trl_max=form.trl_max.data, mrl_min=form.mrl_min.data, mrl_max=form.mrl_max.data,
        min_industry=form.min_industry.data, min_academic=form.min_academic.data,
        min_small_business=form.min_small_business.data, all_partners_members=form.all_partners_members.data,
        criteria=parse_criteria(form.criteria.data))


@bp.route("/institutes/<slug>/calls/new", methods=["GET", "POST"])
@login_required
def new_call(slug: str):
    """Institute administrators draft a project call."""
    institute = get_institute(slug)
    authz.require(current_user, "institute.manage", institute)
    form = CallForm()
    if request.method == "GET":
        form.criteria.data = "40 Technical merit\n30 Impact on US manufacturing\n30 Team and cost share"
        form.trl_min.data, form.trl_max.data, form.mrl_min.data, form.mrl_max.data = 4, 7, 4, 7
        form.min_industry.data, form.min_academic.data, form.min_small_business.data = 1, 1, 1
    status = 200
    if form.validate_on_submit():
        try:
            call = proposals.create_call(current_user, institute, call_input(form))
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
            status = error.status
        else:
            db.session.commit()
            flash("The call has been saved as a draft. Open it when it is ready.", "success")
            return redirect(url_for("proposals.call", call_id=call.id))
    elif request.method == "POST":
        status = 422
    return render_template("proposals/call_form.html", institute=institute, form=form, call=None), status


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
@login_required
def edit_call(call_id: int):
    """Change a call's rules (only while it has no proposals)."""
    call = get_call(call_id, "call.manage")
    form = CallForm(obj=call)
    if request.method == "GET":
        form.opens_at.data, form.closes_at.data = utc_to_eastern_input(call.opens_at), utc_to_eastern_input(call.closes_at)
        form.max_federal.data = format_cents(call.max_federal_cents).lstrip("$")
        form.min_cost_share.data = f"{call.min_cost_share_bp / 10_000:g}"
        form.criteria.data = "\n".join(f"{c.weight} {c.name}" for c in call.criteria)
    status = 200
    if form.validate_on_submit():
        try:
            proposals.update_call(current_user, call, call_input(form))
        except DomainError as error:
            db.session.rollback()
            if error.field is None:
                flash(error.message, "error")
                return redirect(url_for("proposals.call", call_id=call.id)), 303
            show_domain_error(form, error)
            status = error.status
        else:
            db.session.commit()
            flash("The call's rules have been saved.", "success")
            return redirect(url_for("proposals.call", call_id=call.id))
    elif request.method == "POST":
        status = 422
    return render_template("proposals/call_form.html", institute=call.institute, form=form, call=call), status


@bp.post("/calls/<int:call_id>/status")
@login_required
def call_status(call_id: int):
    """Open or close a call."""
    call = get_call(call_id, "call.manage")
    target = request.form.get("status")
    if target not in {"open", "closed"} or not NoteForm().validate_on_submit():
        abort(400)
    try:
        proposals.set_call_status(current_user, call, proposals.CallStatus(target))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"The call is now {target}.", "success")
    return redirect(url_for("proposals.call", call_id=call.id))


@bp.get("/calls/<int:call_id>")
def call(call_id: int):
    """A call: its rules and rubric, and for members who may lead, a way to start a proposal."""
    call = get_call(call_id)
    start_form = StartForm(formdata=None)
    leads = proposals.lead_organizations(current_user, call) if current_user.is_authenticated else []
    start_form.organization.choices = [SelectChoice(o.id, o.name) for o in leads]
    can_manage = authz.can(current_user, "call.manage", call)
    return render_template(
        "proposals/call.html", call=call, start_form=start_form, leads=leads, can_manage=can_manage,
        accepting=proposals.accepting(call), has_proposals=proposals.has_proposals(call),
        received=proposals.proposals_for_staff(call.institute) if can_manage else [],
        status_form=NoteForm(formdata=None))


@bp.post("/calls/<int:call_id>/proposals")
@login_required
def start(call_id: int):
    """Start a proposal for an open call."""
    call = get_call(call_id)
    form = StartForm()
    form.organization.choices = [SelectChoice(o.id, o.name) for o in proposals.lead_organizations(current_user, call)]
    if not form.validate_on_submit():
        flash("Choose your lead organization and a working title.", "error")
        return redirect(url_for("proposals.call", call_id=call.id)), 303
    try:
        proposal = proposals.start(current_user, call, db.get_or_404(Organization, form.organization.data),
                                   form.title.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("proposals.call", call_id=call.id)), 303
    return done(proposal, "Your draft proposal has been started.")


# A proposal ----------------------------------------------------------------------------------

def render_detail(proposal: Proposal, status: int = 200, **forms):
    full = authz.can(current_user, "proposal.view_full", proposal)
    if not full:
        return render_template("proposals/public.html", proposal=proposal,
                               partners=[p for p in proposal.partners if p.status == PartnerStatus.ACCEPTED]), status
    can_edit = authz.can(current_user, "proposal.edit", proposal)
    can_decide = authz.can(current_user, "proposal.decide", proposal)
    finder = forms.pop("finder", None) or FinderForm(request.args)
    finder.institute.choices = [SelectChoice("", "Any institute")] + [
        SelectChoice(i.id, i.acronym) for i in db.session.scalars(sa.select(Institute).order_by(Institute.acronym))]
    found = []
    if can_edit and proposal.status == ProposalStatus.DRAFT and request.args.get("find") and finder.validate():
        found = proposals.find_partners(proposal.call, q=finder.q.data or "", sector=finder.sector.data or "",
                                        state=finder.state.data or "", institute_id=finder.institute.data,
                                        exclude=proposals.team_org_ids(proposal))
    my_admin_orgs = {a.organization_id for a in organizations.affiliations_of(current_user) if a.is_active_admin}
    review = proposals.review_of(current_user, proposal)
    forms.setdefault("cost_form", CostShareForm(formdata=None))
    for name, cls in (("decision_form", DecisionForm), ("reviewer_form", ReviewerForm), ("update_form", UpdateForm),
                      ("complete_form", CompleteForm), ("invite_form", InviteForm)):
        forms.setdefault(name, cls(formdata=None))
    return render_template(
        "proposals/detail.html", proposal=proposal, can_edit=can_edit, can_decide=can_decide,
        rules=proposals.check_rules(proposal) if proposal.status == ProposalStatus.DRAFT else [],
        finder=finder, found=found, my_admin_orgs=my_admin_orgs, review=review,
        reviews=proposals.reviews_of(proposal) if can_decide else [],
        summary=proposals.review_summary(proposal) if can_decide else None,
        spans=proposals.time_in_states(proposal), updates=proposals.updates_of(proposal), **forms,
    ), status


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
        return redirect(url_for("proposals.detail", proposal_id=proposal.id)), 303
    form = DraftForm(obj=proposal)
    if request.method == "GET":
        form.federal_request.data = format_cents(proposal.federal_request_cents).lstrip("$") if proposal.federal_request_cents else ""
        form.milestones.data = "\n".join(f"{m.month} | {m.title} | {m.deliverable}" for m in proposal.milestones)
    status = 200
    if form.validate_on_submit():
        try:
            request_cents = parse_cents(form.federal_request.data, "federal_request") if (form.federal_request.data or "").strip() else None
            proposals.save_draft(current_user, proposal, DraftInput(
                title=form.title.data, abstract=form.abstract.data or "", technical_plan=form.technical_plan.data or "",
                technology_area=form.technology_area.data or "", trl_start=form.trl_start.data,
                trl_target=form.trl_target.data, mrl_start=form.mrl_start.data, mrl_target=form.mrl_target.data,
                duration_months=form.duration_months.data, federal_request_cents=request_cents,
                milestones=parse_milestones(form.milestones.data)))
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
            status = error.status
        else:
            return done(proposal, "The draft has been saved.", "#rules")
    elif request.method == "POST":
        status = 422
    return render_template("proposals/edit.html", proposal=proposal, form=form), status


@bp.post("/proposals/<int:proposal_id>/partners")
@login_required
def invite(proposal_id: int):
    """Invite a partner organization found with the finder."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    form = InviteForm()
    organization = db.session.get(Organization, int(form.organization.data)) if (form.organization.data or "").isdigit() else None
    if not form.validate_on_submit() or organization is None:
        abort(400)
    try:
        proposals.invite(current_user, proposal, organization)
    except DomainError as error:
        return refused(proposal, error)
    return done(proposal, f"{organization.name} has been invited.", "#team")


def get_partner(proposal: Proposal, partner_id: int) -> Partner:
    partner = db.first_or_404(sa.select(Partner).where(Partner.id == partner_id, Partner.proposal_id == proposal.id))
    authz.require(current_user, "partner.answer", partner)
    return partner


@bp.post("/proposals/<int:proposal_id>/partners/<int:partner_id>/answer")
@login_required
def answer(proposal_id: int, partner_id: int):
    """A partner organization's admin accepts or declines the invitation."""
    proposal = get_proposal(proposal_id, "proposal.view_full")
    partner = get_partner(proposal, partner_id)
    decision = request.form.get("decision")
    if decision not in {"accept", "decline"} or not NoteForm().validate_on_submit():
        abort(400)
    try:
        proposals.respond(current_user, partner, accept=decision == "accept")
    except DomainError as error:
        return refused(proposal, error)
    return done(proposal, f"You {decision}ed the invitation.", "#team")


@bp.post("/proposals/<int:proposal_id>/partners/<int:partner_id>/cost-share")
@login_required
def cost_share(proposal_id: int, partner_id: int):
    """A team organization's admin commits its cost share: a pledge in the ledger tied to the proposal."""
    proposal = get_proposal(proposal_id, "proposal.view_full")
    partner = get_partner(proposal, partner_id)
    form = CostShareForm()
    if not form.validate_on_submit():
        return render_detail(proposal, 422, cost_form=form)
    try:
        proposals.commit_cost_share(current_user, partner, amount_cents=parse_cents(form.amount.data, "amount"),
                                    kind=form.kind.data, in_kind_description=form.in_kind_description.data or "",
                                    key=form.key.data)
    except Repeat:
        db.session.rollback()
        flash("That was already recorded; it has not been recorded twice.", "info")
        return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    except DomainError as error:
        db.session.rollback()
        if error.field in {"amount", "kind", "in_kind_description"}:
            show_domain_error(form, error)
            return render_detail(proposal, error.status, cost_form=form)
        return refused(proposal, error)
    return done(proposal, f"{partner.organization.name}'s cost share has been pledged.", "#team")


@bp.post("/proposals/<int:proposal_id>/submit")
@login_required
def submit(proposal_id: int):
    """Submit the proposal; refused, with the unmet rules, until every rule is met."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    if not NoteForm().validate_on_submit():
        abort(400)
    try:
        proposals.submit(current_user, proposal)
    except DomainError as error:
        return refused(proposal, error)
    return done(proposal, "The proposal has been submitted. It can no longer be edited.")


@bp.post("/proposals/<int:proposal_id>/withdraw")
@login_required
def withdraw(proposal_id: int):
    """The lead withdraws the proposal before a decision."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    if not NoteForm().validate_on_submit():
        abort(400)
    try:
        proposals.withdraw(current_user, proposal)
    except DomainError as error:
        return refused(proposal, error)
    return done(proposal, "The proposal has been withdrawn.")


def _decision(proposal: Proposal, change, success: str):
    """Approve, decline or return to draft: the note the team sees is required, and shown next to its field."""
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        change(form.note.data or "")
    except DomainError as error:
        db.session.rollback()
        if error.field != "note":
            return refused(proposal, error)
        show_domain_error(form, error)
        return render_detail(proposal, error.status, decision_form=form)
    return done(proposal, success)


@bp.post("/proposals/<int:proposal_id>/return")
@login_required
def return_to_draft(proposal_id: int):
    """An institute administrator returns a submitted proposal to draft with a note."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    return _decision(proposal, lambda note: proposals.return_to_draft(current_user, proposal, note),
                     "The proposal is back in draft; the team has been told why.")


@bp.post("/proposals/<int:proposal_id>/reviewers")
@login_required
def assign(proposal_id: int):
    """Assign a reviewer (refused where there is a conflict of interest)."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    form = ReviewerForm()
    if not form.validate_on_submit():
        return render_detail(proposal, 422, reviewer_form=form)
    reviewer = accounts.find_by_email(form.email.data)
    try:
        if reviewer is None or not reviewer.active:
            raise DomainError("email", "No active account has that email address")
        proposals.assign_reviewer(current_user, proposal, reviewer)
    except DomainError as error:
        db.session.rollback()
        if error.field:
            show_domain_error(form, error)
            return render_detail(proposal, error.status, reviewer_form=form)
        return refused(proposal, error)
    return done(proposal, f"{reviewer.full_name} has been asked to review.", "#review")


@bp.post("/proposals/<int:proposal_id>/decision")
@login_required
def decide(proposal_id: int):
    """Approve or decline, with a note the team sees."""
    proposal = get_proposal(proposal_id, "proposal.decide")
    decision = request.form.get("decision")
    if decision not in {"approve", "decline"}:
        abort(400)
    return _decision(proposal, lambda note: proposals.decide(current_user, proposal, approve=decision == "approve",
                                                             note=note), f"The proposal has been {decision}d.")


@bp.post("/proposals/<int:proposal_id>/start")
@login_required
def start_project(proposal_id: int):
    """The lead starts the approved project."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    if not NoteForm().validate_on_submit():
        abort(400)
    try:
        proposals.start_project(current_user, proposal)
    except DomainError as error:
        return refused(proposal, error)
    return done(proposal, "The project is under way.")


@bp.post("/proposals/<int:proposal_id>/updates")
@login_required
def post_update(proposal_id: int):
    """The team posts a progress update."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    form = UpdateForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        proposals.post_update(current_user, proposal, form.body.data or "")
    except DomainError as error:
        return refused(proposal, error)
    return done(proposal, "Your update has been posted.", "#project")


@bp.post("/proposals/<int:proposal_id>/milestones/<int:milestone_id>/done")
@login_required
def milestone_done(proposal_id: int, milestone_id: int):
    """The team marks a milestone done."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    milestone = db.first_or_404(sa.select(Milestone).where(Milestone.id == milestone_id,
                                                           Milestone.proposal_id == proposal.id))
    if not NoteForm().validate_on_submit():
        abort(400)
    try:
        proposals.complete_milestone(current_user, milestone)
    except DomainError as error:
        return refused(proposal, error)
    return done(proposal, f"“{milestone.title}” is done.", "#project")


@bp.post("/proposals/<int:proposal_id>/complete")
@login_required
def complete(proposal_id: int):
    """The team completes the project and records the readiness levels reached."""
    proposal = get_proposal(proposal_id, "proposal.edit")
    form = CompleteForm()
    if not form.validate_on_submit():
        return render_detail(proposal, 422, complete_form=form)
    try:
        proposals.complete(current_user, proposal, trl_reached=form.trl_reached.data, mrl_reached=form.mrl_reached.data)
    except DomainError as error:
        db.session.rollback()
        if error.field:
            show_domain_error(form, error)
            return render_detail(proposal, error.status, complete_form=form)
        return refused(proposal, error)
    return done(proposal, "The project is complete.")


# Review --------------------------------------------------------------------------------------

@bp.route("/proposals/<int:proposal_id>/review", methods=["GET", "POST"])
@login_required
def review(proposal_id: int):
    """A reviewer scores each criterion 1 to 5; other reviews stay hidden until theirs is submitted."""
    proposal = db.get_or_404(Proposal, proposal_id)
    mine = proposals.review_of(current_user, proposal)
    if mine is None:
        abort(404 if not authz.can(current_user, "proposal.view", proposal) else 403)
    criteria = proposal.call.criteria
    errors: dict[int, str] = {}
    entries = {s.criterion_id: (s.score, s.comment) for s in mine.scores}
    status = 200
    if request.method == "POST":
        if not NoteForm().validate_on_submit():
            abort(400)
        entries = {}
        for criterion in criteria:
            raw = (request.form.get(f"score_{criterion.id}") or "").strip()
            comment = request.form.get(f"comment_{criterion.id}") or ""
            if not raw:
                continue
            if not raw.isdigit() or not 1 <= int(raw) <= 5:
                errors[criterion.id] = "Score each criterion from 1 to 5"
                continue
            entries[criterion.id] = (int(raw), comment)
        final = request.form.get("action") == "submit"
        if not errors:
            try:
                proposals.save_review(current_user, mine, entries, final=final)
            except DomainError as error:
                db.session.rollback()
                if error.field and error.field.startswith("score_"):
                    errors[int(error.field.split("_")[1])] = error.message
                else:
                    flash(error.message, "error")
                    return redirect(url_for("proposals.review", proposal_id=proposal.id)), 303
            else:
                db.session.commit()
                flash("Your review has been submitted." if final else "Your scores have been saved.", "success")
                return redirect(url_for("proposals.review", proposal_id=proposal.id))
        status = 422
    total = proposals.weighted_total({c: s for c, (s, _) in entries.items()}, criteria)
    others = [r for r in proposals.reviews_of(proposal) if r.id != mine.id and r.submitted_at] if mine.submitted_at else []
    return render_template("proposals/review.html", proposal=proposal, review=mine, criteria=criteria,
                           entries=entries, errors=errors, total=total, others=others,
                           form=NoteForm(formdata=None)), status
