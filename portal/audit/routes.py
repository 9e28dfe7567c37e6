"""The audit log in words: the network's for its administrators; an institute's is on its own pages and
shares ``render_log``, ``export`` and the template with this one."""

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required

from portal import authz, paging
from portal.audit.forms import AuditFilterForm
from portal.forms import show_domain_error
from portal.models import AuditEvent, Institute
from portal.services import DomainError, audit_log
from portal.services.clock import today
from portal.views import csv_download

bp = Blueprint("audit", __name__)


def filtered(institute: Institute | None):
    """The filters from the query string and the events they select; ``valid`` is False when they were
    refused (the message is on the form's field)."""
    form = AuditFilterForm(request.args, meta={"csrf": False})
    if not form.validate():
        return form, None, False
    filters = audit_log.Filters(kind=form.kind.data or "", person=(form.person.data or "").strip(),
                                since=form.since.data, until=form.until.data)
    try:
        audit_log.check_filters(filters, today=today())
    except DomainError as error:
        show_domain_error(form, error)
        return form, None, False
    return form, audit_log.query(filters, institute), True


def render_log(institute: Institute | None, page_endpoint: str, csv_endpoint: str, **values):
    """The page: filters, then a page of events in words, newest first; 422 with the message beside the field
    for filters that make no sense."""
    form, statement, valid = filtered(institute)
    page = paging.keyset(statement, [AuditEvent.occurred_at, AuditEvent.id], lambda e: [e.occurred_at, e.id],
                         descending=True)
    arguments: dict[str, Any] = {**values, **{k: v for k, v in request.args.items() if k != page.param}}
    return render_template("audit/log.html", institute=institute, form=form, page=page,
                           lines=audit_log.describe(page.items), action=url_for(page_endpoint, **values),
                           csv_url=url_for(csv_endpoint, **arguments) if valid else None), \
        200 if valid else 422


def export(institute: Institute | None, filename: str, page_endpoint: str, csv_endpoint: str, **values):
    """The events the filters select, oldest first, as CSV streamed as it is read."""
    _form, statement, valid = filtered(institute)
    if not valid:
        return render_log(institute, page_endpoint, csv_endpoint, **values)
    if statement is None:  # the person named matches no one: the header alone
        statement = sa.select(AuditEvent).where(sa.false())
    return csv_download(audit_log.csv_rows(statement), filename)


@bp.get("/audit")
@login_required
def log():
    """The network's audit log, in words, with filters."""
    authz.require(current_user, "audit.network", None)
    return render_log(None, "audit.log", "audit.log_csv")


@bp.get("/audit.csv")
@login_required
def log_csv():
    """The network's audit log (filtered as on the page) as CSV, oldest first, streamed."""
    authz.require(current_user, "audit.network", None)
    return export(None, f"audit-log-{today().isoformat()}.csv", "audit.log", "audit.log_csv")
