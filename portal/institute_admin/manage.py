"""The institute administrators' page: applications, timers, tiers, roster, staff and the audit log."""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import render_template, url_for
from flask_login import current_user, login_required

from portal import authz, paging
from portal.auth.second_factor import step_up_needed
from portal.extensions import db
from portal.forms import confirmed, filled
from portal.institute_admin.blueprint import bp
from portal.institute_admin.forms import StaffForm, TierForm
from portal.institutes.routes import roster_page
from portal.models import AuditEvent, Institute, InstituteStaff, Membership, Tier, User
from portal.services import memberships
from portal.services.clock import today
from portal.services.parsing import parse_cents
from portal.views import csv_download, run_change

QUEUE_PER_PAGE = 25


def get_institute(slug: str, action: str = "institute.manage") -> Institute:
    """Load the institute (404) and check that the signed-in person may do ``action`` to it (403)."""
    institute = db.first_or_404(sa.select(Institute).where(Institute.slug == slug))
    authz.require(current_user, action, institute)
    return institute


def queue_page(institute: Institute) -> paging.Page:
    """One page of the applications waiting, oldest first, with how many wait in all."""
    return paging.keyset(memberships.pending_query(institute), [Membership.applied_at, Membership.id],
                         lambda m: [m.applied_at, m.id], descending=False, per_page=QUEUE_PER_PAGE,
                         param="queue_after", total=memberships.pending_count(institute))


def render_manage(institute: Institute, status: int = 200, **forms):
    forms.setdefault("tier_form", TierForm(formdata=None))
    forms.setdefault("staff_form", StaffForm(formdata=None))
    return render_template(
        "institute_admin/manage.html", institute=institute, queue=queue_page(institute),
        waits=memberships.wait_times(institute), tiers=memberships.tiers_of(institute, include_retired=True),
        members=roster_page(institute), changes=memberships.tier_change_requests(institute),
        staff=memberships.staff_of(institute), now=today(),
        can_assign=authz.can(current_user, "institute.assign_staff", institute), **forms,
    ), status


@bp.get("/institutes/<slug>/manage")
@login_required
def manage(slug: str):
    """The institute administrators' page: applications, timers, tiers, roster and staff."""
    return render_manage(get_institute(slug))


@bp.post("/institutes/<slug>/tiers")
@login_required
def create_tier(slug: str):
    """Add a membership tier."""
    institute = get_institute(slug)
    form = TierForm()
    return run_change(
        form, lambda: memberships.create_tier(
            current_user, institute, name=filled(form.name.data),
            annual_fee_cents=parse_cents(form.annual_fee.data, "annual_fee", allow_zero=True),
            may_lead_projects=form.may_lead_projects.data, may_join_projects=form.may_join_projects.data,
            governance_vote=form.governance_vote.data, named_seats=filled(form.named_seats.data)),
        success=lambda tier: f"The {tier.name} tier has been added.",
        redirect_to=url_for("institute_admin.manage", slug=slug) + "#tiers",
        render=lambda status: render_manage(institute, status, tier_form=form))


@bp.post("/institutes/<slug>/tiers/<int:tier_id>/retire")
@login_required
def retire_tier(slug: str, tier_id: int):
    """Retire a tier (or delete it if no one ever held it)."""
    institute = get_institute(slug)
    tier = db.first_or_404(sa.select(Tier).where(Tier.id == tier_id, Tier.institute_id == institute.id))
    confirmed()
    name = tier.name
    return run_change(None, lambda: memberships.retire_tier(current_user, tier),
                      success=lambda outcome: f"The {name} tier has been {outcome}.",
                      redirect_to=url_for("institute_admin.manage", slug=slug) + "#tiers")


@bp.get("/institutes/<slug>/roster.csv")
@login_required
def roster_csv(slug: str):
    """The member roster with contacts, as CSV."""
    institute = get_institute(slug)
    filename = f"{institute.slug}-roster-{today().isoformat()}.csv"
    return csv_download(memberships.roster_csv(institute), filename)


@bp.get("/institutes/<slug>/audit")
@login_required
def audit_log(slug: str):
    """The institute's part of the audit log, newest first, a page at a time."""
    institute = get_institute(slug)
    query = (sa.select(AuditEvent).where(AuditEvent.institute_id == institute.id)
             .options(so.joinedload(AuditEvent.actor).load_only(User.id, User.full_name)))
    page = paging.keyset(query, [AuditEvent.occurred_at, AuditEvent.id], lambda e: [e.occurred_at, e.id],
                         descending=True)
    return render_template("institute_admin/audit.html", institute=institute, page=page)


@bp.post("/institutes/<slug>/staff")
@login_required
def add_staff(slug: str):
    """A network administrator makes a user an administrator of the institute."""
    institute = get_institute(slug, "institute.assign_staff")
    if (ask := step_up_needed()) is not None:
        return ask
    form = StaffForm()
    return run_change(
        form, lambda: memberships.add_staff(current_user, institute, filled(form.email.data)),
        success=lambda staff: f"{staff.user.full_name} now administers {institute.acronym}.",
        redirect_to=url_for("institute_admin.manage", slug=slug) + "#staff",
        render=lambda status: render_manage(institute, status, staff_form=form))


@bp.post("/institutes/<slug>/staff/<int:staff_id>/remove")
@login_required
def remove_staff(slug: str, staff_id: int):
    """A network administrator removes an institute administrator."""
    institute = get_institute(slug, "institute.assign_staff")
    staff = db.first_or_404(sa.select(InstituteStaff).where(
        InstituteStaff.id == staff_id, InstituteStaff.institute_id == institute.id))
    if (ask := step_up_needed()) is not None:
        return ask
    confirmed()
    name = staff.user.full_name
    return run_change(None, lambda: memberships.remove_staff(current_user, staff),
                      success=f"{name} no longer administers {institute.acronym}.",
                      redirect_to=url_for("institute_admin.manage", slug=slug) + "#staff")
