"""Managing an institute's project calls: drafting, changing the rules, opening and closing."""

from flask import abort, render_template, request, url_for
from flask_login import current_user, login_required

from portal.forms import filled
from portal.institute_admin.blueprint import bp
from portal.institute_admin.forms import CallStatusForm
from portal.institute_admin.manage import get_institute
from portal.models import CallStatus
from portal.proposals.blueprint import get_call
from portal.proposals.forms import CallForm
from portal.services import proposals
from portal.services.parsing import (
    eastern_to_utc,
    format_cents,
    parse_cents,
    parse_criteria,
    parse_ratio_bp,
    utc_to_eastern_input,
)
from portal.services.proposals import CallInput
from portal.views import run_change


def call_input(form: CallForm) -> CallInput:
    return CallInput(
        title=filled(form.title.data), description=filled(form.description.data),
        opens_at=eastern_to_utc(filled(form.opens_at.data)), closes_at=eastern_to_utc(filled(form.closes_at.data)),
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
    form = CallForm()

    def render(status: int = 200):
        return render_template("institute_admin/call_form.html", institute=institute, form=form, call=None), status

    if request.method == "GET":
        form.criteria.data = "40 Technical merit\n30 Impact on US manufacturing\n30 Team and cost share"
        form.trl_min.data, form.trl_max.data, form.mrl_min.data, form.mrl_max.data = 4, 7, 4, 7
        form.min_industry.data, form.min_academic.data, form.min_small_business.data = 1, 1, 1
        return render()
    return run_change(form, lambda: proposals.create_call(current_user, institute, call_input(form)),
                      success="The call has been saved as a draft. Open it when it is ready.",
                      redirect_to=lambda call: url_for("proposals.call", call_id=call.id), render=render)


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
@login_required
def edit_call(call_id: int):
    """Change a call's rules (only while it has no proposals)."""
    call = get_call(call_id, "call.manage")
    form = CallForm(obj=call)

    def render(status: int = 200):
        return render_template("institute_admin/call_form.html", institute=call.institute, form=form,
                               call=call), status

    if request.method == "GET":
        form.opens_at.data = utc_to_eastern_input(call.opens_at)
        form.closes_at.data = utc_to_eastern_input(call.closes_at)
        form.max_federal.data = format_cents(call.max_federal_cents).lstrip("$")
        form.min_cost_share.data = f"{call.min_cost_share_bp / 10_000:g}"
        form.criteria.data = "\n".join(f"{c.weight} {c.name}" for c in call.criteria)
        return render()
    here = url_for("proposals.call", call_id=call.id)
    return run_change(form, lambda: proposals.update_call(current_user, call, call_input(form)),
                      success="The call's rules have been saved.", redirect_to=here, back=here, render=render)


@bp.post("/calls/<int:call_id>/status")
@login_required
def call_status(call_id: int):
    """Open or close a call."""
    call = get_call(call_id, "call.manage")
    form = CallStatusForm()
    if not form.validate_on_submit():
        abort(400)
    target = form.status.data
    return run_change(None, lambda: proposals.set_call_status(current_user, call, CallStatus(target)),
                      success=f"The call is now {target}.", redirect_to=url_for("proposals.call", call_id=call.id))
