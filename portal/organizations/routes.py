"""Organization profiles and their admins' page."""

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from portal import authz, paging
from portal.extensions import db
from portal.forms import ConfirmForm, confirmed, has_control_characters
from portal.models import Affiliation, AffiliationStatus, Institute, MembershipStatus, Organization
from portal.organizations.forms import DirectoryForm, OrganizationProfileForm
from portal.services import memberships, organizations
from portal.services.clock import today
from portal.services.wording import possessive
from portal.views import run_change

bp = Blueprint("organizations", __name__, url_prefix="/organizations")


def get_organization(org_id: int, action: str) -> Organization:
    """Load the organization (404) and check ``action`` on it (404 when it may not even be seen)."""
    organization = db.get_or_404(Organization, org_id)
    if not authz.can(current_user, "organization.view", organization):
        abort(404)
    authz.require(current_user, action, organization)
    return organization


@bp.get("/")
def index():
    """The directory of publicly listed organizations."""
    form = DirectoryForm(request.args)
    form.set_institutes(db.session.execute(sa.select(Institute.slug, Institute.acronym)
                                           .order_by(Institute.acronym)).all())
    valid = form.validate()  # a value not among the choices is shown as an error, and no filter applies
    query = organizations.directory_query(
        q=form.q.data or "" if valid else "", sector=form.sector.data or "" if valid else "",
        size=form.size.data or "" if valid else "", state=form.state.data or "" if valid else "",
        institute=form.institute.data or "" if valid else "",
        members_only=bool(form.members.data) if valid else False)
    page = paging.keyset(query, [Organization.name, Organization.id], lambda o: [o.name, o.id], descending=False)
    return render_template("organizations/index.html", form=form, page=page)


@bp.get("/suggest.json")
def suggest():
    """Up to ten names of listed organizations containing ``q``: suggestions for a filter's text box."""
    q = request.args.get("q", "")[:200]
    return jsonify([] if has_control_characters(q) else organizations.suggestions(q))  # no name holds one


@bp.get("/<int:org_id>")
def detail(org_id: int):
    """An organization's profile."""
    organization = get_organization(org_id, "organization.view")
    members = [a for a in organizations.members_of(organization) if a.status == AffiliationStatus.ACTIVE]
    mine = organizations.affiliation_of(current_user, organization) if current_user.is_authenticated else None
    insider = mine is not None and mine.status == AffiliationStatus.ACTIVE
    held = memberships.memberships_of(organization)
    if not insider:  # outsiders see only memberships in force
        held = [m for m in held if m.current_status(today()) == MembershipStatus.ACTIVE]
    return render_template(
        "organizations/detail.html", organization=organization, member_count=len(members), mine=mine,
        can_manage=authz.can(current_user, "organization.manage", organization),
        memberships=held, can_see_memberships=insider, today=today(),
    )


def render_manage(organization: Organization, form: OrganizationProfileForm, status: int = 200):
    return render_template(
        "organizations/manage.html", organization=organization, form=form,
        affiliations=organizations.members_of(organization), decision_form=ConfirmForm(formdata=None),
    ), status


@bp.route("/<int:org_id>/manage", methods=["GET", "POST"])
@login_required
def manage(org_id: int):
    """Edit the profile and decide requests to join (the organization's admins only)."""
    organization = get_organization(org_id, "organization.manage")
    form = OrganizationProfileForm(obj=organization)
    if request.method == "GET":
        return render_manage(organization, form)
    return run_change(
        form, lambda: organizations.update_profile(current_user, organization, **{
            name: form[name].data or "" for name in
            ("name", "sector", "size", "state", "city", "website", "description")
        }, listed=form.listed.data),
        success="The organization's profile has been saved.",
        redirect_to=url_for("organizations.manage", org_id=organization.id),
        render=lambda _status: render_manage(organization, form, 422))


@bp.post("/<int:org_id>/requests/<int:affiliation_id>")
@login_required
def decide(org_id: int, affiliation_id: int):
    """Approve or decline a request to join."""
    organization = get_organization(org_id, "organization.manage")
    affiliation = db.session.scalar(sa.select(Affiliation).where(
        Affiliation.id == affiliation_id, Affiliation.organization_id == organization.id))
    if affiliation is None:
        abort(404)
    decision = confirmed().pressed("approve", "decline")
    verb = "approved" if decision == "approve" else "declined"
    return run_change(
        None, lambda: organizations.decide_affiliation(current_user, affiliation, approve=decision == "approve"),
        success=f"You {verb} {possessive(affiliation.user.full_name)} request to join.",
        redirect_to=url_for("organizations.manage", org_id=organization.id))
