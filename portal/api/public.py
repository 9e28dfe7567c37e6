"""Public reads: no token needed. The same services and filters as the pages, paged by opaque cursors."""

import sqlalchemy as sa
from flask import abort
from flask_smorest import Blueprint

from portal import authz, paging
from portal.api.changes import decode_cursor, encode_cursor
from portal.api.problems import problem
from portal.api.schemas import CallOut, CallQuery, InstituteOut, InstituteQuery, SnapshotQuery, TierOut, page_of
from portal.extensions import db
from portal.models import Institute, ProjectCall
from portal.services import DomainError, memberships, proposals, snapshot, snapshot_as_of
from portal.services.institutes import InstituteFilters, search_query

bp = Blueprint("api_public", __name__, url_prefix="/api/v1", description="Public reads: no token needed.")

PER_PAGE = 50


def institute_or_404(slug: str) -> Institute:
    return db.first_or_404(sa.select(Institute).where(Institute.slug == slug))


def paged(page: paging.Page, schema) -> dict:
    return {"items": schema(many=True).dump(page.items), "next_cursor": encode_cursor(page.after)}


@bp.get("/institutes")
@bp.arguments(InstituteQuery, location="query", as_kwargs=True)
@bp.response(200, page_of(InstituteOut, "InstitutePage"))
def institutes(cursor, **filters):
    """The institute directory, filtered as on /institutes (q, agency, state, focus)."""
    page = paging.keyset(search_query(InstituteFilters(**filters)),
                         [Institute.founded_year, Institute.acronym, Institute.id],
                         lambda i: [i.founded_year, i.acronym, i.id], descending=False, per_page=PER_PAGE,
                         count=False, cursor=decode_cursor(cursor) or "")
    return paged(page, InstituteOut)


@bp.get("/institutes/<slug>")
@bp.response(200, InstituteOut)
def institute(slug: str):
    """One institute."""
    return InstituteOut().dump(institute_or_404(slug))


@bp.get("/institutes/<slug>/tiers")
@bp.response(200, TierOut(many=True))
def tiers(slug: str):
    """The membership tiers an institute offers now."""
    return TierOut(many=True).dump(memberships.tiers_of(institute_or_404(slug)))


@bp.get("/calls")
@bp.arguments(CallQuery, location="query", as_kwargs=True)
@bp.response(200, page_of(CallOut, "CallPage"))
def calls(cursor, institute: str, area: str, closing_soon: bool):
    """Calls open for proposals now, closing soonest first, filtered as on /calls."""
    query = proposals.open_calls_query(institute=institute, area=area, closing_soon=closing_soon)
    page = paging.keyset(query, [ProjectCall.closes_at, ProjectCall.id], lambda c: [c.closes_at, c.id],
                         descending=False, per_page=PER_PAGE, count=False, cursor=decode_cursor(cursor) or "")
    return paged(page, CallOut)


@bp.get("/calls/<int:call_id>")
@bp.response(200, CallOut)
def call(call_id: int):
    """One call (a draft is seen by nobody but its institute's staff: 404)."""
    found = db.get_or_404(ProjectCall, call_id)
    if not authz.can(None, "call.view", found):
        abort(404)
    return CallOut().dump(found)


@bp.get("/snapshot")
@bp.arguments(SnapshotQuery, location="query", as_kwargs=True)
@bp.response(200, {"type": "object"})
def network_snapshot(fy: int | None):
    """The public snapshot of the network (as on /snapshot.json); with fy, as it stood at the end of that
    fiscal year."""
    if fy is None:
        return snapshot.cached(None, snapshot.version(None))
    try:
        fiscal_year = snapshot_as_of.parse_fiscal_year(str(fy))
    except DomainError as error:
        return problem(error.status, "Bad fiscal year", error.message, {"fy": [error.message]})
    return snapshot_as_of.cached(fiscal_year, snapshot_as_of.version(fiscal_year))
