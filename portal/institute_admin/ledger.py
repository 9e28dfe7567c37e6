"""The institute's ledger: its pledges and entries, filtered and paged, and the same as CSV."""

from flask import render_template
from flask_login import login_required

from portal.institute_admin.blueprint import bp
from portal.institute_admin.manage import get_institute
from portal.ledger.routes import csv_response, filter_form, pledges_page
from portal.services import ledger


@bp.get("/institutes/<slug>/ledger")
@login_required
def ledger_page(slug: str):
    """An institute's pledges and ledger, filtered and paged."""
    institute = get_institute(slug)
    form, filters = filter_form(organization_filter=True)
    pledges = ledger.pledges_query(institute=institute, filters=filters)
    listed = pledges_page(pledges)
    return render_template(
        "institute_admin/ledger.html", institute=institute, form=form, pledges=listed,
        totals=ledger.institute_totals(institute, filters),
        conditional=ledger.conditional_ids(pledges, [p.id for p in listed.items]),
        federal=ledger.federal_total(institute, filters.fiscal_year) if filters.fiscal_year else None,
    )


@bp.get("/institutes/<slug>/ledger.csv")
@login_required
def ledger_csv(slug: str):
    """The institute's filtered ledger as CSV."""
    institute = get_institute(slug)
    _, filters = filter_form(organization_filter=True)
    return csv_response(ledger.entries_query(ledger.pledges_query(institute=institute, filters=filters)),
                        f"{institute.slug}-ledger")
