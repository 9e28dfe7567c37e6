"""Pledges, receipts, verification, the organization's ledger, and the federal match.
(The institute's ledger is among the institute administrators' pages.)"""


import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import authz, paging
from portal.addresses import query_id
from portal.auth.second_factor import step_up_needed
from portal.extensions import db
from portal.forms import SelectChoice, filled
from portal.ledger.forms import FederalForm, LedgerFilterForm, PledgeForm, ReasonForm, ReceiptForm
from portal.models import EntryKind, Institute, LedgerEntry, Organization, Pledge
from portal.services import ledger
from portal.services.clock import today
from portal.services.ledger import LedgerFilters, PledgeInput
from portal.services.memberships import memberships_of
from portal.services.parsing import parse_cents, parse_schedule, parse_signed_cents
from portal.views import csv_download, run_change

bp = Blueprint("ledger", __name__)

PER_PAGE = 25
# the columns a list of pledges shows
LISTED = (Pledge.id, Pledge.organization_id, Pledge.institute_id, Pledge.fiscal_year, Pledge.kind,
          Pledge.proposal_id, Pledge.pledged_cents, Pledge.received_cents, Pledge.verified_cents,
          Pledge.cancelled_cents)


def get_pledge(pledge_id: int, action: str) -> Pledge:
    pledge = db.get_or_404(Pledge, pledge_id)
    authz.require(current_user, action, pledge)
    return pledge


def get_entry(pledge: Pledge, entry_id: int) -> LedgerEntry:
    return db.first_or_404(sa.select(LedgerEntry).where(LedgerEntry.id == entry_id,
                                                         LedgerEntry.pledge_id == pledge.id))


def fiscal_year_choices() -> list[SelectChoice]:
    return [SelectChoice(year, f"FY{year}") for year in reversed(ledger.allowed_fiscal_years())]


def filter_form(organization_filter: bool = False) -> tuple[LedgerFilterForm, LedgerFilters]:
    """The ledger's filters from the query string; with ``organization_filter``, a text box for the
    organization's name (with suggestions), never a list of every organization."""
    form = LedgerFilterForm(request.args, meta={"csrf": False})
    form.fiscal_year.choices = [SelectChoice("", "Any year"), *fiscal_year_choices()]
    if organization_filter:
        form.organization.render_kw = {"list": "organization-names", "autocomplete": "off",
                                       "data-suggest": url_for("organizations.suggest")}
    else:
        del form.organization
    if not form.validate():
        return form, LedgerFilters()
    return form, LedgerFilters(fiscal_year=form.fiscal_year.data, kind=form.kind.data or "",
                               status=form.status.data or "",
                               organization_name=(form.organization.data or "").strip() if organization_filter else "")


# The organization's side ---------------------------------------------------------------------

def member_institutes(organization: Organization) -> list[Institute]:
    return [m.institute for m in memberships_of(organization)
            if m.current_status(today()) == "active"]


@bp.route("/organizations/<int:org_id>/pledges/new", methods=["GET", "POST"])
@login_required
def new_pledge(org_id: int):
    """An organization admin pledges co-investment to an institute it is a member of."""
    organization = db.get_or_404(Organization, org_id)
    authz.require(current_user, "organization.pledge", organization)
    institutes = member_institutes(organization)
    form = PledgeForm()
    form.institute.choices = [SelectChoice(i.id, i.acronym) for i in institutes]
    form.fiscal_year.choices = fiscal_year_choices()
    current = ledger.fiscal_year_of(today())
    form.fiscal_year.description = (f"Fiscal year {current} runs from 1 October {current - 1} "
                                    f"to 30 September {current}.")
    if request.method == "GET":
        form.fiscal_year.data = current
        form.kind.data = "cash"
    if not institutes:
        flash(f"{organization.name} has no active institute membership, so it has nothing to pledge to yet.", "info")
        return redirect(url_for("ledger.organization", org_id=org_id))
    if request.method == "GET":
        return render_template("ledger/new_pledge.html", organization=organization, form=form)
    return run_change(
        form, lambda: ledger.record_pledge(
            current_user, organization, db.get_or_404(Institute, form.institute.data),
            PledgeInput(amount_cents=parse_cents(form.amount.data, "amount"), kind=form.kind.data,
                        fiscal_year=form.fiscal_year.data, in_kind_description=form.in_kind_description.data or "",
                        note=form.note.data or "", schedule=parse_schedule(form.schedule.data)),
            key=form.key.data),
        success="The pledge has been recorded.",
        redirect_to=lambda pledge: url_for("ledger.pledge", pledge_id=pledge.id),
        render=lambda status: (render_template("ledger/new_pledge.html", organization=organization, form=form),
                               status),
        repeated_to=lambda repeat: url_for("ledger.pledge", pledge_id=repeat.entry.pledge_id))


@bp.get("/organizations/<int:org_id>/ledger")
@login_required
def organization(org_id: int):
    """An organization's pledges, what falls due in the next 90 days, and its ledger."""
    organization = db.get_or_404(Organization, org_id)
    authz.require(current_user, "organization.ledger", organization)
    form, filters = filter_form()
    pledges = ledger.pledges_query(organization=organization, filters=filters)
    listed = pledges_page(pledges)
    return render_template(
        "ledger/organization.html", organization=organization, form=form, pledges=listed,
        totals=ledger.totals(pledges), conditional=ledger.conditional_ids(pledges, [p.id for p in listed.items]),
        due=ledger.instalments_due(organization=organization),
        entries=paging.keyset(ledger.entries_query(pledges), [LedgerEntry.occurred_at, LedgerEntry.id],
                              lambda e: [e.occurred_at, e.id], descending=False, per_page=PER_PAGE, count=False,
                              param="entries_after"),
        can_pledge=authz.can(current_user, "organization.pledge", organization),
    )


def pledges_page(pledges) -> paging.Page:
    """One page of the pledges a pledges_query selects, newest fiscal year first, with the columns listed."""
    return paging.keyset(pledges.options(so.load_only(*LISTED)), [Pledge.fiscal_year, Pledge.id],
                         lambda p: [p.fiscal_year, p.id], descending=True, per_page=PER_PAGE, count=False)


@bp.get("/organizations/<int:org_id>/ledger.csv")
@login_required
def organization_csv(org_id: int):
    """The organization's filtered ledger as CSV."""
    organization = db.get_or_404(Organization, org_id)
    authz.require(current_user, "organization.ledger", organization)
    _, filters = filter_form()
    return csv_response(ledger.entries_query(ledger.pledges_query(organization=organization, filters=filters)),
                        f"organization-{organization.id}-ledger")


def csv_response(entries, name: str) -> Response:
    return csv_download(ledger.entries_csv(entries), f"{name}-{today().isoformat()}.csv")


# One pledge ----------------------------------------------------------------------------------

def render_pledge(pledge: Pledge, status: int = 200, **forms):
    forms.setdefault("receipt_form", ReceiptForm(formdata=None, prefix="receipt"))
    forms.setdefault("cancel_form", ReasonForm(formdata=None, prefix="cancel"))
    forms.setdefault("action_form", ReasonForm(formdata=None, prefix="entry"))
    entries = ledger.entries_of(pledge)
    reversed_ids = {e.reverses_id for e in entries if e.reverses_id}
    verified = {}
    for e in entries:
        if e.kind == EntryKind.VERIFICATION and e.id not in reversed_ids:
            verified[e.verifies_id] = e
    return render_template(
        "ledger/pledge.html", pledge=pledge, entries=entries, reversed_ids=reversed_ids, verified=verified,
        can_record=authz.can(current_user, "pledge.record", pledge),
        conditional=pledge.id in ledger.conditional_ids(sa.select(Pledge).where(Pledge.id == pledge.id)),
        actions=authz.pledge_actions(current_user, pledge, entries), **forms,
    ), status


@bp.get("/pledges/<int:pledge_id>")
@login_required
def pledge(pledge_id: int):
    """A pledge: its balances, schedule and every entry."""
    return render_pledge(get_pledge(pledge_id, "pledge.view"))


def pledge_change(pledge: Pledge, form, change, success: str, form_name: str | None = None):
    """A change on the pledge's page: errors beside the field of ``form_name``'s form, or flashed above the
    page (for a row's button, or a refusal that names no field)."""
    def render(status: int):
        db.session.refresh(pledge)
        return render_pledge(pledge, status, **({form_name: form} if form_name else {}))

    here = url_for("ledger.pledge", pledge_id=pledge.id)
    return run_change(form, change, success=success, redirect_to=here, back=here,
                      render=render if form_name else None)


@bp.post("/pledges/<int:pledge_id>/receipts")
@login_required
def record_receipt(pledge_id: int):
    """Institute staff record a receipt against the pledge."""
    pledge = get_pledge(pledge_id, "pledge.record")
    form = ReceiptForm(prefix="receipt")
    return pledge_change(pledge, form, lambda: ledger.record_receipt(
        current_user, pledge, amount_cents=parse_cents(form.amount.data, "amount"),
        received_on=filled(form.received_on.data), note=form.note.data or "", key=form.key.data),
        "The receipt has been recorded. Another administrator must verify it.", "receipt_form")


@bp.post("/pledges/<int:pledge_id>/cancel")
@login_required
def cancel(pledge_id: int):
    """Institute staff, or the pledging organization's admins, cancel what remains unreceived."""
    pledge = get_pledge(pledge_id, "pledge.cancel")
    form = ReasonForm(prefix="cancel")
    return pledge_change(pledge, form, lambda: ledger.cancel_remainder(
        current_user, pledge, reason=form.reason.data or "", key=form.key.data),
        "The remainder of the pledge has been cancelled.", "cancel_form")


@bp.post("/pledges/<int:pledge_id>/entries/<int:entry_id>/verify")
@login_required
def verify(pledge_id: int, entry_id: int):
    """A second institute administrator verifies a receipt."""
    pledge = get_pledge(pledge_id, "pledge.record")
    entry = get_entry(pledge, entry_id)
    if (ask := step_up_needed()) is not None:
        return ask
    form = ReasonForm(prefix="entry")
    return pledge_change(pledge, form, lambda: ledger.verify_receipt(current_user, entry, key=form.key.data),
                         "The receipt has been verified.")


@bp.post("/pledges/<int:pledge_id>/entries/<int:entry_id>/reverse")
@login_required
def reverse(pledge_id: int, entry_id: int):
    """Undo an entry with a reversing entry."""
    pledge = get_pledge(pledge_id, "pledge.record")
    entry = get_entry(pledge, entry_id)
    form = ReasonForm(prefix="entry")
    return pledge_change(pledge, form, lambda: ledger.reverse(
        current_user, entry, reason=form.reason.data or "", key=form.key.data), "The entry has been reversed.")


# The network's side --------------------------------------------------------------------------

def render_match(form: FederalForm, status: int = 200):
    year_form, filters = filter_form()
    rows, total = ledger.match_table(filters.fiscal_year)
    return render_template("ledger/match.html", rows=rows, total=total, form=form, year_form=year_form,
                           fiscal_year=filters.fiscal_year), status


def federal_form() -> FederalForm:
    form = FederalForm(prefix="federal")  # the page also has a year filter named fiscal_year
    form.institute.choices = [SelectChoice(i.id, i.acronym)
                              for i in db.session.scalars(sa.select(Institute).order_by(Institute.acronym))]
    form.fiscal_year.choices = fiscal_year_choices()
    if request.method == "GET":
        form.fiscal_year.data = ledger.fiscal_year_of(today())
    return form


@bp.get("/ledger/match")
@login_required
def match():
    """Non-federal co-investment against federal money, per institute and for the network."""
    authz.require(current_user, "network.match", None)
    return render_match(federal_form())


@bp.post("/ledger/federal")
@login_required
def record_federal():
    """A network administrator records a federal obligation."""
    authz.require(current_user, "network.match", None)
    if (ask := step_up_needed()) is not None:
        return ask
    form = federal_form()
    return run_change(
        form, lambda: ledger.record_federal_obligation(
            current_user, db.get_or_404(Institute, form.institute.data), fiscal_year=form.fiscal_year.data,
            amount_cents=parse_signed_cents(form.amount.data, "amount"), reference=form.reference.data or "",
            note=form.note.data or "", key=form.key.data),
        success=lambda obligation: (f"The correction of {obligation.reference} has been recorded."
                                    if obligation.corrects_id else
                                    f"The federal obligation {obligation.reference} has been recorded."),
        redirect_to=url_for("ledger.match"), render=lambda status: render_match(form, status))


@bp.get("/ledger/federal")
@login_required
def federal_list():
    """Every federal obligation with its corrections: reference, year, amount and who recorded it."""
    authz.require(current_user, "network.match", None)
    year_form, filters = filter_form()
    institute_id = query_id("institute")
    institute = db.session.get(Institute, institute_id) if institute_id else None
    return render_template("ledger/federal.html", rows=ledger.obligations(filters.fiscal_year, institute),
                           year_form=year_form, fiscal_year=filters.fiscal_year, institute=institute)
