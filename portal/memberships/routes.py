"""Applying for, deciding and keeping institute memberships; tiers, staff and rosters."""

from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal import authz
from portal.extensions import db
from portal.forms import show_domain_error
from portal.memberships.forms import (
    ApplyForm,
    DecideForm,
    ReasonForm,
    RenewForm,
    StaffForm,
    TierChangeForm,
    TierForm,
)
from portal.models import AuditEvent, Institute, InstituteStaff, Membership, MembershipStatus, Organization, Tier
from portal.services import DomainError, memberships
from portal.services.parsing import format_cents, parse_cents

bp = Blueprint("memberships", __name__)


def get_institute(slug: str) -> Institute:
    return db.first_or_404(sa.select(Institute).where(Institute.slug == slug))


def get_membership(membership_id: int, action: str) -> Membership:
    membership = db.get_or_404(Membership, membership_id)
    authz.require(current_user, action, membership)
    return membership


def tier_label(tier: Tier) -> str:
    return f"{tier.name}: {format_cents(tier.annual_fee_cents)} a year"


@bp.route("/institutes/<slug>/apply", methods=["GET", "POST"])
@login_required
def apply(slug: str):
    """An organization admin applies for one of the institute's tiers."""
    institute = get_institute(slug)
    organizations = memberships.admin_organizations(current_user)
    if not organizations:
        flash("Only an organization's admins can apply for membership. Ask an admin of your "
              "organization, or create your organization from your account page.", "info")
        return redirect(url_for("institutes.detail", slug=slug))
    tiers = memberships.tiers_of(institute)
    form = ApplyForm()
    form.organization.choices = [SelectChoice(o.id, o.name) for o in organizations]
    form.tier.choices = [SelectChoice(t.id, tier_label(t)) for t in tiers]
    if request.method == "GET":
        form.contact_name.data = current_user.full_name
        form.contact_email.data = current_user.email
    if form.validate_on_submit():
        organization = db.session.get(Organization, form.organization.data)
        tier = db.session.get(Tier, form.tier.data)
        authz.require(current_user, "organization.apply", organization)
        try:
            membership = memberships.apply(
                current_user, organization, institute, tier, statement=form.statement.data,
                contact_name=form.contact_name.data, contact_email=form.contact_email.data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
            return render_template("memberships/apply.html", institute=institute, form=form,
                                   tiers=tiers), error.status
        db.session.commit()
        flash(f"{organization.name}'s application to {institute.acronym} has been filed.", "success")
        return redirect(url_for("memberships.detail", membership_id=membership.id))
    status = 422 if request.method == "POST" else 200
    return render_template("memberships/apply.html", institute=institute, form=form, tiers=tiers), status


def render_detail(membership: Membership, status: int = 200, **forms):
    can_decide = authz.can(current_user, "membership.decide", membership)
    can_act = authz.can(current_user, "membership.act", membership)
    forms.setdefault("decide_form", DecideForm(formdata=None))
    forms.setdefault("end_form", ReasonForm(formdata=None, prefix="end"))
    forms.setdefault("withdraw_form", ReasonForm(formdata=None, prefix="withdraw"))
    forms.setdefault("renew_form", RenewForm(formdata=None, expected_ends_on=membership.ends_on))
    tier_form = forms.setdefault("tier_form", TierChangeForm(formdata=None))
    tier_form.tier.choices = [SelectChoice(t.id, tier_label(t)) for t in memberships.tiers_of(membership.institute)
                              if t.id != membership.tier_id]
    return render_template(
        "memberships/detail.html", membership=membership, can_decide=can_decide, can_act=can_act,
        current_status=membership.current_status(memberships.today()),
        renew_until=memberships.add_years(membership.ends_on, 1) if membership.ends_on else None, **forms,
    ), status


@bp.get("/memberships/<int:membership_id>")
@login_required
def detail(membership_id: int):
    """One application or membership, with what the viewer may do to it."""
    return render_detail(get_membership(membership_id, "membership.view"))


def _act(membership: Membership, form, change, success: str, form_name: str):
    """Validate ``form``, run ``change``, commit and redirect; or show the error on the page."""
    if form.validate_on_submit():
        try:
            change()
        except DomainError as error:
            db.session.rollback()
            if error.field is None:
                flash(error.message, "error")
                return redirect(url_for("memberships.detail", membership_id=membership.id)), 303
            show_domain_error(form, error)
            return render_detail(membership, error.status, **{form_name: form})
        db.session.commit()
        flash(success, "success")
        return redirect(url_for("memberships.detail", membership_id=membership.id))
    return render_detail(membership, 422, **{form_name: form})


@bp.post("/memberships/<int:membership_id>/decision")
@login_required
def decide(membership_id: int):
    """The institute approves or declines an application."""
    membership = get_membership(membership_id, "membership.decide")
    form = DecideForm()
    decision = request.form.get("decision")
    if decision == "approve":
        return _act(membership, form, lambda: memberships.approve(
            current_user, membership, starts_on=form.starts_on.data, term_years=form.term_years.data),
            "The application has been approved.", "decide_form")
    if decision == "decline":
        return _act(membership, form, lambda: memberships.decline(current_user, membership,
                                                                 reason=form.reason.data or ""),
                    "The application has been declined.", "decide_form")
    abort(400)


@bp.post("/memberships/<int:membership_id>/end")
@login_required
def end(membership_id: int):
    """The institute ends a membership, with a reason."""
    membership = get_membership(membership_id, "membership.decide")
    form = ReasonForm(prefix="end")
    return _act(membership, form, lambda: memberships.end(current_user, membership, reason=form.reason.data or ""),
                "The membership has been ended.", "end_form")


@bp.post("/memberships/<int:membership_id>/withdraw")
@login_required
def withdraw(membership_id: int):
    """The organization withdraws its application or membership."""
    membership = get_membership(membership_id, "membership.act")
    form = ReasonForm(prefix="withdraw")
    return _act(membership, form, lambda: memberships.withdraw(current_user, membership,
                                                              reason=form.reason.data or ""),
                "Your organization has withdrawn.", "withdraw_form")


@bp.post("/memberships/<int:membership_id>/renew")
@login_required
def renew(membership_id: int):
    """The organization renews for another year."""
    membership = get_membership(membership_id, "membership.act")
    form = RenewForm()
    try:
        expected = date.fromisoformat(form.expected_ends_on.data or "")
    except ValueError:
        abort(400)
    return _act(membership, form, lambda: memberships.renew(current_user, membership, expected_ends_on=expected),
                "The membership has been renewed for another year.", "renew_form")


@bp.post("/memberships/<int:membership_id>/tier")
@login_required
def request_tier_change(membership_id: int):
    """The organization asks to move to another tier."""
    membership = get_membership(membership_id, "membership.act")
    form = TierChangeForm()
    form.tier.choices = [SelectChoice(t.id, t.name) for t in memberships.tiers_of(membership.institute)]
    return _act(membership, form, lambda: memberships.request_tier_change(
        current_user, membership, db.session.get(Tier, form.tier.data)),
        "Your request to change tier has been sent to the institute.", "tier_form")


@bp.post("/memberships/<int:membership_id>/tier/decision")
@login_required
def decide_tier_change(membership_id: int):
    """The institute approves or declines a change of tier."""
    membership = get_membership(membership_id, "membership.decide")
    decision = request.form.get("decision")
    if decision not in {"approve", "decline"}:
        abort(400)
    return _act(membership, RenewForm(), lambda: memberships.decide_tier_change(
        current_user, membership, approve_change=decision == "approve"),
        f"The change of tier has been {decision}d.", "renew_form")


# The institute's administration ------------------------------------------------------------

def render_manage(institute: Institute, status: int = 200, **forms):
    forms.setdefault("tier_form", TierForm(formdata=None))
    forms.setdefault("staff_form", StaffForm(formdata=None))
    return render_template(
        "memberships/manage.html", institute=institute, queue=memberships.pending_queue(institute),
        waits=memberships.wait_times(institute), tiers=memberships.tiers_of(institute, include_retired=True),
        members=memberships.members_in_force(institute), changes=memberships.tier_change_requests(institute),
        staff=memberships.staff_of(institute), now=memberships.today(),
        can_assign=authz.can(current_user, "institute.assign_staff", institute), **forms,
    ), status


@bp.get("/institutes/<slug>/manage")
@login_required
def manage(slug: str):
    """The institute administrators' page: applications, timers, tiers, roster and staff."""
    institute = get_institute(slug)
    authz.require(current_user, "institute.manage", institute)
    return render_manage(institute)


@bp.post("/institutes/<slug>/tiers")
@login_required
def create_tier(slug: str):
    """Add a membership tier."""
    institute = get_institute(slug)
    authz.require(current_user, "institute.manage", institute)
    form = TierForm()
    if form.validate_on_submit():
        try:
            memberships.create_tier(
                current_user, institute, name=form.name.data,
                annual_fee_cents=parse_cents(form.annual_fee.data, "annual_fee", allow_zero=True),
                may_lead_projects=form.may_lead_projects.data, may_join_projects=form.may_join_projects.data,
                governance_vote=form.governance_vote.data, named_seats=form.named_seats.data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
            return render_manage(institute, error.status, tier_form=form)
        db.session.commit()
        flash(f"The {form.name.data.strip()} tier has been added.", "success")
        return redirect(url_for("memberships.manage", slug=slug) + "#tiers")
    return render_manage(institute, 422, tier_form=form)


@bp.post("/institutes/<slug>/tiers/<int:tier_id>/retire")
@login_required
def retire_tier(slug: str, tier_id: int):
    """Retire a tier (or delete it if no one ever held it)."""
    institute = get_institute(slug)
    authz.require(current_user, "institute.manage", institute)
    tier = db.first_or_404(sa.select(Tier).where(Tier.id == tier_id, Tier.institute_id == institute.id))
    if not RenewForm().validate_on_submit():
        abort(400)
    name = tier.name
    try:
        outcome = memberships.retire_tier(current_user, tier)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"The {name} tier has been {outcome}.", "success")
    return redirect(url_for("memberships.manage", slug=slug) + "#tiers")


@bp.get("/institutes/<slug>/roster.csv")
@login_required
def roster_csv(slug: str):
    """The member roster with contacts, as CSV."""
    institute = get_institute(slug)
    authz.require(current_user, "institute.manage", institute)
    filename = f"{institute.slug}-roster-{memberships.today().isoformat()}.csv"
    return Response(memberships.roster_csv(institute), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/institutes/<slug>/audit")
@login_required
def audit_log(slug: str):
    """The institute's part of the audit log, newest first."""
    institute = get_institute(slug)
    authz.require(current_user, "institute.manage", institute)
    page = db.paginate(
        sa.select(AuditEvent).where(AuditEvent.institute_id == institute.id)
        .options(so.joinedload(AuditEvent.actor))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()),
        per_page=50, error_out=False)
    return render_template("memberships/audit.html", institute=institute, page=page)


@bp.post("/institutes/<slug>/staff")
@login_required
def add_staff(slug: str):
    """A network administrator makes a user an administrator of the institute."""
    institute = get_institute(slug)
    authz.require(current_user, "institute.assign_staff", institute)
    form = StaffForm()
    if form.validate_on_submit():
        try:
            staff = memberships.add_staff(current_user, institute, form.email.data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
            return render_manage(institute, error.status, staff_form=form)
        db.session.commit()
        flash(f"{staff.user.full_name} now administers {institute.acronym}.", "success")
        return redirect(url_for("memberships.manage", slug=slug) + "#staff")
    return render_manage(institute, 422, staff_form=form)


@bp.post("/institutes/<slug>/staff/<int:staff_id>/remove")
@login_required
def remove_staff(slug: str, staff_id: int):
    """A network administrator removes an institute administrator."""
    institute = get_institute(slug)
    authz.require(current_user, "institute.assign_staff", institute)
    staff = db.first_or_404(sa.select(InstituteStaff).where(
        InstituteStaff.id == staff_id, InstituteStaff.institute_id == institute.id))
    if not RenewForm().validate_on_submit():
        abort(400)
    name = staff.user.full_name
    memberships.remove_staff(current_user, staff)
    db.session.commit()
    flash(f"{name} no longer administers {institute.acronym}.", "success")
    return redirect(url_for("memberships.manage", slug=slug) + "#staff")
