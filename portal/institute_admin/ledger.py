"""The institute's ledger: its pledges and entries, filtered and paged, and the same as CSV."""

import sqlalchemy.orm as so
from flask import render_template
from flask_login import login_required

from portal import paging
from portal.institute_admin.blueprint import bp
from portal.institute_admin.manage import get_institute
from portal.ledger.routes import PER_PAGE, csv_response, filter_form
from portal.models import Pledge
from portal.services import ledger

# the columns the list of pledges shows
LISTED = (Pledge.id, Pledge.organization_id, Pledge.institute_id, Pledge.fiscal_year, Pledge.kind,
          Pledge.pledged_cents, Pledge.received_cents, Pledge.verified_cents, Pledge.cancelled_cents)


@bp.get("/institutes/<slug>/ledger")
@login_required
def ledger_page(slug: str):
    """An institute's pledges and ledger, filtered and paged."""
    institute = get_institute(slug)
    form, filters = filter_form(organization_filter=True)
    pledges = ledger.pledges_query(institute=institute, filters=filters)
    return render_template(
        "institute_admin/ledger.html", institute=institute, form=form,
        pledges=paging.keyset(pledges.options(so.load_only(*LISTED)), [Pledge.fiscal_year, Pledge.id],
                              lambda p: [p.fiscal_year, p.id], descending=True, per_page=PER_PAGE),
        totals=ledger.totals(pledges), conditional=ledger.conditional_ids(pledges),
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
