"""Network administration: a landing page listing the tools; institutes added and retired; accounts listed,
disabled and enabled; organizations listed, verified, renamed and merged. Network administrators only: anyone
else gets 403 before anything is looked up, so these pages tell no one which accounts or organizations exist."""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required

from portal import authz, paging
from portal.auth.second_factor import step_up_needed
from portal.extensions import db
from portal.forms import confirmed, filled, has_control_characters
from portal.models import Institute, Organization, User
from portal.network.forms import InstituteForm, MergeForm, ReasonForm, RenameForm, RetireInstituteForm
from portal.services import DomainError, accounts, network, sessions
from portal.services.organizations import find_by_name
from portal.services.parsing import parse_cents
from portal.views import run_change

bp = Blueprint("network", __name__, url_prefix="/network")


@bp.before_request
@login_required
def only_network_admins():
    """Every page here: signed in (or to the sign-in page), then a network administrator (403)."""
    authz.require(current_user, "network.administer", None)


def search_text() -> str:
    """The list's search, at most 200 characters; text with control characters (a NUL byte, which PostgreSQL
    cannot compare) names nothing anyone typed, so the list is shown unsearched."""
    q = (request.args.get("q") or "").strip()[:200]
    return "" if has_control_characters(q) else q


@bp.get("/")
def index():
    """The network administrator's tools, one link each."""
    return render_template("network/index.html")


# Institutes ------------------------------------------------------------------------------------

def render_institutes(status: int = 200, form: InstituteForm | None = None):
    return render_template("network/institutes.html", institutes=network.institutes(),
                           form=form or InstituteForm(formdata=None)), status


@bp.get("/institutes")
def institutes():
    """Every institute, retired ones last, and the form to add one."""
    return render_institutes()


@bp.post("/institutes")
def add_institute():
    """Add an institute to the network."""
    if (ask := step_up_needed()) is not None:
        return ask
    form = InstituteForm()
    return run_change(form, lambda: network.add_institute(current_user, network.InstituteInput(
        name=filled(form.name.data), acronym=filled(form.acronym.data), agency=filled(form.agency.data),
        founded_year=filled(form.founded_year.data), city=filled(form.city.data), state=filled(form.state.data),
        focus=filled(form.focus.data), website=form.website.data or "", description=form.description.data or "",
        federal_base_award_cents=parse_cents(form.federal_base_award.data, "federal_base_award", allow_zero=True),
        default_tiers=bool(form.default_tiers.data))),
        success=lambda institute: f"{institute.acronym} is now an institute of the network.",
        redirect_to=lambda institute: url_for("network.institute", slug=institute.slug),
        render=lambda status: render_institutes(status, form))


def get_institute(slug: str) -> Institute:
    return db.first_or_404(sa.select(Institute).where(Institute.slug == slug))


def render_institute(institute: Institute, status: int = 200, form: RetireInstituteForm | None = None):
    return render_template("network/institute.html", institute=institute,
                           form=form or RetireInstituteForm(formdata=None)), status


@bp.get("/institutes/<slug>")
def institute(slug: str):
    """One institute: its facts, and retiring it."""
    return render_institute(get_institute(slug))


@bp.post("/institutes/<slug>/retire")
def retire_institute(slug: str):
    """Record the institute's last day in the network."""
    institute = get_institute(slug)
    if (ask := step_up_needed()) is not None:
        return ask
    form = RetireInstituteForm()
    return run_change(form, lambda: network.retire_institute(
        current_user, institute, retired_on=filled(form.retired_on.data), reason=filled(form.reason.data)),
        success=f"{institute.acronym} has been retired.", redirect_to=url_for("network.institute", slug=slug),
        render=lambda status: render_institute(institute, status, form), back=url_for("network.institute", slug=slug))


# Accounts --------------------------------------------------------------------------------------

@bp.get("/users")
def users():
    """Every account, by email address, a page at a time; searched by part of the address or name."""
    q = search_text()
    query = network.users_query(q).options(so.load_only(User.id, User.email, User.full_name, User.role,
                                                         User.active, User.totp_enrolled_at))
    page = paging.keyset(query, [User.email, User.id], lambda u: [u.email, u.id], descending=False)
    return render_template("network/users.html", page=page, q=q)


def get_user(user_id: int) -> User:
    return db.get_or_404(User, user_id)


def render_user(user: User, status: int = 200, form: ReasonForm | None = None):
    return render_template("network/user.html", user=user, sessions=len(sessions.of(user)),
                           form=form or ReasonForm(formdata=None)), status


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    """One account: its state, its sessions, and disabling or enabling it."""
    return render_user(get_user(user_id))


@bp.post("/users/<int:user_id>/<any(disable, enable):change>")
def change_user(user_id: int, change: str):
    """Disable an account (its sessions end) or enable it again."""
    user = get_user(user_id)
    if (ask := step_up_needed()) is not None:
        return ask
    form = ReasonForm()
    service = accounts.disable if change == "disable" else accounts.enable
    here = url_for("network.user", user_id=user_id)
    return run_change(form, lambda: service(current_user, user, reason=filled(form.reason.data)),
                      success=f"The account of {user.email} has been {change}d.", redirect_to=here, back=here,
                      render=lambda status: render_user(user, status, form))


# Organizations ---------------------------------------------------------------------------------

@bp.get("/organizations")
def organizations():
    """Every organization, listed publicly or not, by name, a page at a time."""
    q = search_text()
    query = network.organizations_query(q).options(so.load_only(
        Organization.id, Organization.name, Organization.name_key, Organization.sector, Organization.state,
        Organization.listed, Organization.verified_at))
    page = paging.keyset(query, [Organization.name_key, Organization.id], lambda o: [o.name_key, o.id],
                         descending=False)
    return render_template("network/organizations.html", page=page, q=q)


def get_organization(org_id: int) -> Organization:
    return db.get_or_404(Organization, org_id)


def render_organization(organization: Organization, status: int = 200, **forms):
    forms.setdefault("rename_form", RenameForm(formdata=None, prefix="rename"))
    forms.setdefault("merge_form", MergeForm(formdata=None, prefix="merge"))
    return render_template("network/organization.html", organization=organization,
                           counts=network.organization_counts(organization), **forms), status


@bp.get("/organizations/<int:org_id>")
def organization(org_id: int):
    """One organization: what refers to it, and verifying, renaming and merging a duplicate into it."""
    return render_organization(get_organization(org_id))


@bp.post("/organizations/<int:org_id>/verify")
def verify_organization(org_id: int):
    """Mark the organization verified."""
    organization = get_organization(org_id)
    confirmed()
    return run_change(None, lambda: network.verify_organization(current_user, organization),
                      success=f"{organization.name} is verified.",
                      redirect_to=url_for("network.organization", org_id=org_id))


@bp.post("/organizations/<int:org_id>/rename")
def rename_organization(org_id: int):
    """Give the organization a new name."""
    organization = get_organization(org_id)
    form = RenameForm(prefix="rename")
    return run_change(form, lambda: network.rename_organization(current_user, organization,
                                                                name=filled(form.name.data)),
                      success=lambda _: f"The organization is now called {organization.name}.",
                      redirect_to=url_for("network.organization", org_id=org_id),
                      render=lambda status: render_organization(organization, status, rename_form=form))


@bp.post("/organizations/<int:org_id>/merge")
def merge_organization(org_id: int):
    """Merge a duplicate organization into this one."""
    survivor = get_organization(org_id)
    if (ask := step_up_needed()) is not None:
        return ask
    form = MergeForm(prefix="merge")

    def merge():
        absorbed = find_by_name(filled(form.absorbed.data))
        if absorbed is None:
            raise DomainError("absorbed", "No organization has that name; copy it from the list of organizations")
        name = absorbed.name
        network.merge_organizations(current_user, survivor, absorbed, reason=filled(form.reason.data))
        return name

    return run_change(form, merge, success=lambda name: f"{name} has been merged into {survivor.name}.",
                      redirect_to=url_for("network.organization", org_id=org_id),
                      render=lambda status: render_organization(survivor, status, merge_form=form))
