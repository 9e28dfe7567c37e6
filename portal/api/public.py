"""Public reads: no token needed. The same services and filters as the pages, paged by opaque cursors."""

import sqlalchemy as sa
from flask import abort

from portal import authz, paging
from portal.api.auth import ApiBlueprint
from portal.api.changes import answer, decode_cursor, encode_cursor, paged
from portal.api.schemas import (
    CallOut,
    CallQuery,
    InstituteOut,
    InstituteQuery,
    ProgramOut,
    ProgramQuery,
    ProjectOut,
    ProjectQuery,
    SessionOut,
    SnapshotOut,
    SnapshotQuery,
    TierOut,
    page_of,
)
from portal.extensions import db
from portal.models import Institute, Program, ProjectCall, Proposal
from portal.problems import problem
from portal.services import DomainError, memberships, proposals, snapshot, snapshot_as_of, workforce_listing
from portal.services.institutes import InstituteFilters, search_query
from portal.snapshot.routes import public_version

bp = ApiBlueprint("api_public", __name__, url_prefix="/api/v1", description="Public reads: no token needed.")


def institute_or_404(slug: str) -> Institute:
    return db.first_or_404(sa.select(Institute).where(Institute.slug == slug))


@bp.get("/institutes")
@bp.arguments(InstituteQuery, location="query", as_kwargs=True)
@bp.response(200, page_of(InstituteOut, "InstitutePage"))
def institutes(cursor, limit, **filters):
    """The institute directory, filtered as on /institutes (q, agency, state, focus)."""
    page = paging.keyset(search_query(InstituteFilters(**filters)),
                         [Institute.founded_year, Institute.acronym, Institute.id],
                         lambda i: [i.founded_year, i.acronym, i.id], descending=False, per_page=limit,
                         count=False, cursor=decode_cursor(cursor) or "")
    return paged(page)


@bp.get("/institutes/<slug>")
@bp.response(200, InstituteOut)
def institute_detail(slug: str):
    """One institute."""
    return institute_or_404(slug)


@bp.get("/institutes/<slug>/tiers")
@bp.response(200, TierOut(many=True))
def institute_tiers(slug: str):
    """The membership tiers an institute offers now."""
    return memberships.tiers_of(institute_or_404(slug))


@bp.get("/calls")
@bp.arguments(CallQuery, location="query", as_kwargs=True)
@bp.response(200, page_of(CallOut, "CallPage"))
def calls(cursor, limit, institute: str, area: str, closing_soon: bool):
    """Calls open for proposals now, closing soonest first, filtered as on /calls."""
    query = proposals.open_calls_query(institute=institute, area=area, closing_soon=closing_soon)
    page = paging.keyset(query, [ProjectCall.closes_at, ProjectCall.id], lambda c: [c.closes_at, c.id],
                         descending=False, per_page=limit, count=False, cursor=decode_cursor(cursor) or "")
    return paged(page)


@bp.get("/calls/<int:call_id>")
@bp.response(200, CallOut)
def call_detail(call_id: int):
    """One call (a draft is seen by nobody but its institute's staff: 404)."""
    found = db.get_or_404(ProjectCall, call_id)
    if not authz.can(None, "call.view", found):
        abort(404)
    return found


@bp.get("/projects")
@bp.arguments(ProjectQuery, location="query", as_kwargs=True)
@bp.response(200, page_of(ProjectOut, "ProjectPage"))
def projects(cursor, limit, institute: str, status: str, area: str, q: str):
    """Approved, active and completed projects, newest first, filtered as on /projects."""
    found = institute_or_404(institute) if institute else None
    query = proposals.public_projects_query(found, status=status or None, area=area or None, q=q)
    return paged(paging.keyset(query, [Proposal.id], lambda p: [p.id], descending=True, per_page=limit,
                               count=False, cursor=decode_cursor(cursor) or ""))


@bp.get("/programs")
@bp.arguments(ProgramQuery, location="query", as_kwargs=True)
@bp.response(200, page_of(ProgramOut, "ProgramPage"))
def programs(cursor, limit, **filters):
    """Workforce programs with a session to come, soonest first, filtered as on /programs (institute, state,
    audience, format, credential, starting), each with its next few matching sessions."""
    chosen = workforce_listing.Filters(**filters)
    query, keys = workforce_listing.find_programs(chosen)
    page = paging.keyset(query, keys, lambda row: [row.soonest, row.Program.id], descending=False,
                         per_page=limit, scalars=False, count=False, cursor=decode_cursor(cursor) or "")
    sessions = workforce_listing.upcoming_by_program([row.Program.id for row in page.items], chosen)
    items = [{"id": row.Program.id, "title": row.Program.title, "kind": row.Program.kind,
              "format": row.Program.format, "credential": row.Program.credential,
              "institute": row.Program.institute.slug, "soonest": row.soonest,
              "sessions": sessions.get(row.Program.id, [])} for row in page.items]
    return {"items": items, "next_cursor": encode_cursor(page.after)}


@bp.get("/programs/<int:program_id>/sessions")
@bp.response(200, SessionOut(many=True))
def program_sessions(program_id: int):
    """A program's sessions to come (not cancelled), soonest first."""
    return workforce_listing.sessions_of(db.get_or_404(Program, program_id), upcoming_only=True)


@bp.get("/snapshot")
@bp.arguments(SnapshotQuery, location="query", as_kwargs=True)
@bp.response(200, SnapshotOut)
def network_snapshot(fy: int | None):
    """The public snapshot of the network (as on /snapshot.json); with fy, as it stood at the end of that
    fiscal year."""
    if fy is None:
        return answer(snapshot.cached(None, public_version()), 200)
    try:
        fiscal_year = snapshot_as_of.parse_fiscal_year(str(fy))
    except DomainError as error:
        return problem(error.status, "Bad fiscal year", error.message, {"fy": [error.message]})
    return answer(snapshot_as_of.cached(fiscal_year, snapshot_as_of.version(fiscal_year)), 200)
