"""Applying for, deciding and keeping institute memberships."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import authz
from portal.extensions import db
from portal.forms import SelectChoice, confirmed, filled
from portal.memberships.forms import ApplyForm, DecideForm, ReasonForm, RenewForm, TierChangeForm
from portal.models import Institute, Membership, Organization, Tier
from portal.services import clock, memberships
from portal.services.parsing import format_cents
from portal.services.wording import possessive
from portal.views import run_change

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
    if request.method == "GET":
        return render_template("memberships/apply.html", institute=institute, form=form, tiers=tiers)

    def apply_for():
        organization = db.get_or_404(Organization, form.organization.data)
        authz.require(current_user, "organization.apply", organization)
        return memberships.apply(
            current_user, organization, institute, db.get_or_404(Tier, form.tier.data),
            statement=filled(form.statement.data), contact_name=filled(form.contact_name.data),
            contact_email=filled(form.contact_email.data))

    return run_change(
        form, apply_for,
        success=lambda membership: (f"{possessive(membership.organization.name)} application to {institute.acronym} "
                                    "has been filed."),
        redirect_to=lambda membership: url_for("memberships.detail", membership_id=membership.id),
        render=lambda status: (render_template("memberships/apply.html", institute=institute, form=form,
                                               tiers=tiers), status))


def render_detail(membership: Membership, status: int = 200, **forms):
    forms.setdefault("decide_form", DecideForm(formdata=None))
    forms.setdefault("end_form", ReasonForm(formdata=None, prefix="end"))
    forms.setdefault("withdraw_form", ReasonForm(formdata=None, prefix="withdraw"))
    forms.setdefault("renew_form", RenewForm(formdata=None, expected_ends_on=membership.ends_on))
    tier_form = forms.setdefault("tier_form", TierChangeForm(formdata=None))
    tier_form.tier.choices = [SelectChoice(t.id, tier_label(t)) for t in memberships.tiers_of(membership.institute)
                              if t.id != membership.tier_id]
    today = clock.today()
    return render_template(
        "memberships/detail.html", membership=membership, current_status=membership.current_status(today),
        actions=authz.membership_actions(current_user, membership, today),
        renew_until=clock.add_years(membership.ends_on, 1) if membership.ends_on else None, **forms,
    ), status


@bp.get("/memberships/<int:membership_id>")
@login_required
def detail(membership_id: int):
    """One application or membership, with what the viewer may do to it."""
    return render_detail(get_membership(membership_id, "membership.view"))


def change(membership: Membership, form, form_name: str, service, success: str):
    """Run one change on the membership's page: errors beside the field, or flashed above the page."""
    here = url_for("memberships.detail", membership_id=membership.id)
    return run_change(form, service, success=success, redirect_to=here, back=here,
                      render=lambda status: render_detail(membership, status, **{form_name: form}))


@bp.post("/memberships/<int:membership_id>/decision")
@login_required
def decide(membership_id: int):
    """The institute approves or declines an application."""
    membership = get_membership(membership_id, "membership.decide")
    form = DecideForm()
    if form.pressed("approve", "decline") == "approve":
        return change(membership, form, "decide_form", lambda: memberships.approve(
            current_user, membership, starts_on=form.starts_on.data, term_years=filled(form.term_years.data)),
            "The application has been approved.")
    return change(membership, form, "decide_form", lambda: memberships.decline(
        current_user, membership, reason=form.reason.data or ""), "The application has been declined.")


@bp.post("/memberships/<int:membership_id>/end")
@login_required
def end(membership_id: int):
    """The institute ends a membership, with a reason."""
    membership = get_membership(membership_id, "membership.decide")
    form = ReasonForm(prefix="end")
    return change(membership, form, "end_form", lambda: memberships.end(
        current_user, membership, reason=form.reason.data or ""), "The membership has been ended.")


@bp.post("/memberships/<int:membership_id>/withdraw")
@login_required
def withdraw(membership_id: int):
    """The organization withdraws its application or membership."""
    membership = get_membership(membership_id, "membership.act")
    form = ReasonForm(prefix="withdraw")
    return change(membership, form, "withdraw_form", lambda: memberships.withdraw(
        current_user, membership, reason=form.reason.data or ""), "Your organization has withdrawn.")


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
    return change(membership, form, "renew_form", lambda: memberships.renew(
        current_user, membership, expected_ends_on=expected), "The membership has been renewed for another year.")


@bp.post("/memberships/<int:membership_id>/tier")
@login_required
def request_tier_change(membership_id: int):
    """The organization asks to move to another tier."""
    membership = get_membership(membership_id, "membership.act")
    form = TierChangeForm()
    form.tier.choices = [SelectChoice(t.id, t.name) for t in memberships.tiers_of(membership.institute)]
    return change(membership, form, "tier_form", lambda: memberships.request_tier_change(
        current_user, membership, db.get_or_404(Tier, form.tier.data)),
        "Your request to change tier has been sent to the institute.")


@bp.post("/memberships/<int:membership_id>/tier/decision")
@login_required
def decide_tier_change(membership_id: int):
    """The institute approves or declines a change of tier."""
    membership = get_membership(membership_id, "membership.decide")
    decision = confirmed().pressed("approve", "decline")
    here = url_for("memberships.detail", membership_id=membership.id)
    return run_change(None, lambda: memberships.decide_tier_change(
        current_user, membership, approve_change=decision == "approve"),
        success=f"The change of tier has been {decision}d.", redirect_to=here)
