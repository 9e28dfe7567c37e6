"""Project calls as members see them, the public list of projects, and starting a proposal."""

import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user, login_required

from portal import authz, paging
from portal.extensions import db
from portal.forms import SelectChoice, filled, has_control_characters
from portal.models import Institute, Organization, ProjectCall, Proposal, ProposalStatus
from portal.models.base import utcnow
from portal.proposals.blueprint import bp, get_call, get_institute, page_of
from portal.proposals.forms import StartForm
from portal.services import proposals
from portal.views import run_change


@bp.get("/projects")
def projects():
    """Every approved, active and completed project in the network; optionally of one institute (its slug),
    in one of those statuses, or in one technology area. A value that names nothing is left out and said so."""
    public = {status.value: status for status in (ProposalStatus.APPROVED, ProposalStatus.ACTIVE,
                                                   ProposalStatus.COMPLETED)}
    problems = []
    institute = None
    if slug := request.args.get("institute", ""):
        if not has_control_characters(slug):
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
    elif has_control_characters(area):
        problems.append("A technology area has no control characters (such as a NUL byte), so every area is shown.")
        area = ""
    q = request.args.get("q", "")
    if len(q) > 200:
        problems.append("A search is at most 200 characters long, so nothing is searched for.")
        q = ""
    elif has_control_characters(q):
        problems.append("A search has no control characters (such as a NUL byte), so nothing is searched for.")
        q = ""
    query = proposals.public_projects_query(institute, status=status or None, area=area or None, q=q)
    known = proposals.public_projects_count(institute, status=status or None, area=area or None, q=q)
    return render_template(
        "proposals/projects.html", problems=problems, institute=institute,
        status=public.get(status), area=area, q=q,
        page=paging.keyset(query, [Proposal.id], lambda p: [p.id], descending=True, total=known))


@bp.get("/institutes/<slug>/calls")
def calls(slug: str):
    """An institute's project calls."""
    institute = get_institute(slug)
    can_manage = authz.can(current_user, "institute.manage", institute)
    calls = paging.keyset(proposals.calls_query(institute, include_drafts=can_manage),
                          [ProjectCall.closes_at, ProjectCall.id], lambda c: [c.closes_at, c.id], descending=True,
                          count=False)
    projects = paging.keyset(proposals.public_projects_query(institute), [Proposal.id], lambda p: [p.id],
                             descending=True, per_page=20, param="projects_after",
                             total=proposals.public_projects_count(institute))
    return render_template("proposals/calls.html", institute=institute, can_manage=can_manage,
                           calls=calls, projects=projects, now=utcnow())


@bp.get("/calls/<int:call_id>")
def call(call_id: int):
    """A call: its rules and rubric, and for members who may lead, a way to start a proposal."""
    return _call_page(get_call(call_id), StartForm(formdata=None))


def _call_page(call: ProjectCall, start_form: StartForm, status: int = 200):
    """The call's page, with ``start_form`` (and its errors, after a failed start)."""
    leads = proposals.lead_organizations(current_user, call) if current_user.is_authenticated else []
    start_form.organization.choices = [SelectChoice(o.id, o.name) for o in leads]
    can_manage = authz.can(current_user, "call.manage", call)
    return render_template(
        "proposals/call.html", call=call, start_form=start_form, leads=leads, can_manage=can_manage,
        accepting=proposals.accepting(call), has_proposals=proposals.has_proposals(call),
        received=paging.keyset(proposals.proposals_for_staff_query(call.institute),
                               [Proposal.status_changed_at, Proposal.id], lambda p: [p.status_changed_at, p.id],
                               descending=False, count=False) if can_manage else None), status


@bp.post("/calls/<int:call_id>/proposals")
@login_required
def start(call_id: int):
    """Start a proposal for an open call."""
    call = get_call(call_id)
    form = StartForm()
    form.organization.choices = [SelectChoice(o.id, o.name) for o in proposals.lead_organizations(current_user, call)]
    return run_change(
        form, lambda: proposals.start(current_user, call, db.get_or_404(Organization, form.organization.data),
                                      filled(form.title.data)),
        success="Your draft proposal has been started.", redirect_to=page_of,
        render=lambda status: _call_page(call, form, status))
