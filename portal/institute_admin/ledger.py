"""The institute's ledger: its pledges and entries, filtered and paged, and the same as CSV."""

import sqlalchemy as sa
from flask import render_template
from flask_login import login_required

from portal.extensions import db
from portal.institute_admin.blueprint import bp
from portal.institute_admin.manage import get_institute
from portal.ledger.routes import PER_PAGE, csv_response, filter_form
from portal.models import Organization, Pledge
from portal.services import ledger


@bp.get("/institutes/<slug>/ledger")
@login_required
def ledger_page(slug: str):
    """An institute's pledges and ledger, filtered and paged."""
    institute = get_institute(slug)
    pledging = db.session.scalars(sa.select(Organization).join(Pledge, Pledge.organization_id == Organization.id)
                                  .where(Pledge.institute_id == institute.id).distinct()
                                  .order_by(Organization.name)).all()
    form, filters = filter_form(pledging)
    pledges = ledger.pledges_query(institute=institute, filters=filters)
    return render_template(
        "institute_admin/ledger.html", institute=institute, form=form,
        pledges=db.paginate(pledges, per_page=PER_PAGE, error_out=False), totals=ledger.totals(pledges),
        conditional=ledger.conditional_ids(pledges),
        federal=ledger.federal_total(institute, filters.fiscal_year) if filters.fiscal_year else None,
    )


@bp.get("/institutes/<slug>/ledger.csv")
@login_required
def ledger_csv(slug: str):
    """The institute's filtered ledger as CSV."""
    institute = get_institute(slug)
    pledging = db.session.scalars(sa.select(Organization)).all()
    _, filters = filter_form(pledging)
    return csv_response(ledger.entries_query(ledger.pledges_query(institute=institute, filters=filters)),
                        f"{institute.slug}-ledger")
