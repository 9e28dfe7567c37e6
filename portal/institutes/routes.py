"""The institute directory."""

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import current_user

from portal import authz, paging
from portal.extensions import db
from portal.institutes.forms import InstituteSearchForm
from portal.models import Institute, Organization
from portal.services import institutes, memberships
from portal.services.institutes import InstituteFilters

bp = Blueprint("institutes", __name__, url_prefix="/institutes")


@bp.get("/")
def index():
    """List institutes, filtered by agency, state and focus, with a text search; retired ones apart."""
    form = InstituteSearchForm(request.args, meta={"csrf": False})
    form.set_choices(institutes.filter_choices())
    filters = InstituteFilters()
    if form.validate():
        filters = InstituteFilters(q=form.q.data or "", agency=form.agency.data or "",
                                   state=form.state.data or "", focus=form.focus.data or "")
    results = institutes.search(filters)
    return render_template("institutes/index.html", form=form,
                           institutes=[i for i in results if not i.is_retired],
                           retired=[i for i in results if i.is_retired], filtered=any(vars(filters).values()))


def roster_page(institute: Institute, total: int | None = None) -> paging.Page:
    """One page of the members in force, by organization name (an organization has one at a time), with their
    number (``total`` when the caller has it) from the summary figures."""
    if total is None:
        total = sum(memberships.in_force_counts(institute).values())
    return paging.keyset(memberships.members_in_force_query(institute), [Organization.name, Organization.id],
                         lambda m: [m.organization.name, m.organization.id], descending=False, total=total)


@bp.get("/<slug>")
def detail(slug: str):
    """One institute's page."""
    institute = db.first_or_404(sa.select(Institute).where(Institute.slug == slug))
    member_access = memberships.access(current_user, institute)
    roster = memberships.public_roster(institute)
    return render_template(
        "institutes/detail.html", institute=institute, tiers=memberships.tiers_of(institute),
        roster=roster, access=member_access,
        members=roster_page(institute, roster.total) if member_access.sees_member_content else None,
        can_manage=authz.can(current_user, "institute.manage", institute),
    )
