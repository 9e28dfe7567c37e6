"""The public snapshot of the network or one institute, as a page, JSON and CSV, and its data dictionary."""

import hashlib
import io
import json
import zipfile
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup

from portal.errors import render_error
from portal.extensions import db
from portal.maps import VIEWBOX, state_codes
from portal.models import PUBLIC_STATUSES, Institute, Sector
from portal.services import DomainError, open_data, snapshot, snapshot_as_of, workforce_figures
from portal.services import csvfile as csv  # the one CSV writer: formula-leading cells are escaped

bp = Blueprint("snapshot", __name__)

MAP_SHADES = [(0, "#f0f0f0", "none"), (1, "#97d4ea", "1 to 2"), (3, "#28a0cb", "3 to 9"),
              (10, "#0d7ea2", "10 to 49"), (50, "#074b69", "50 or more")]


def not_modified(tag: str, cache_control: str) -> Response | None:
    """A 304 when the client already has this version: no figures are computed or sent."""
    if request.if_none_match.contains(tag) or request.if_none_match.star_tag:
        response = Response(status=304)
        response.set_etag(tag)
        response.headers["Cache-Control"] = cache_control
        return response
    return None


def conditional(response: Response, cache_control: str, tag: str) -> Response:
    response.set_etag(tag)
    response.headers["Cache-Control"] = cache_control
    return response


def etag(kind: str, version: str) -> str:
    return hashlib.sha256(f"{kind}:{version}".encode()).hexdigest()[:32]


def institute_or_404(slug: str | None) -> Institute | None:
    if slug is None:
        return None
    return db.first_or_404(sa.select(Institute).where(Institute.slug == slug))


def shade(count: int) -> str:
    colour = MAP_SHADES[0][1]
    for threshold, fill, _ in MAP_SHADES:
        if count >= threshold:
            colour = fill
    return colour


def _words(count: int, noun: str, before: str = "", after: str = "", *, listed_only: bool = False) -> str:
    """What a screen reader hears after a linked count, e.g. ' academic member organizations: see those
    listed publicly' after '2', so that the link makes sense out of context."""
    one = count == 1
    see = ("see it if listed publicly" if one else "see those listed publicly") if listed_only else (
        "see it" if one else "see them")
    return " " + " ".join(part for part in (before, noun if one else noun + "s", after) if part) + ": " + see


def row_links(tables: dict, institute: Institute | None) -> dict[str, list[tuple[int, str, str] | None]]:
    """For each table whose rows have a public list behind them, one entry per row: the column to link,
    the list's address, and the words a screen reader adds after the cell (see ``_words``); None for a
    row with no list (a count of 0, or a status that is never listed publicly).

    Member counts link to the organization directory, which names only organizations listed publicly;
    on an institute's snapshot every list is kept to that institute, like the figures."""
    scope: dict[str, Any] = {"institute": institute.slug} if institute is not None else {}
    sectors = {sector.value for sector in Sector}
    public = {status.value for status in PUBLIC_STATUSES}
    links: dict[str, list] = {}

    def by_sector(group: str, count: int):
        sector, _, size = group.partition(" (")  # "industry (small)" is sector industry, size small
        if not count or sector not in sectors:
            return None
        filters: dict[str, Any] = {"sector": sector, "size": size.rstrip(")")} if size else {"sector": sector}
        return (1, url_for("organizations.index", members="y", **filters, **scope),
                _words(count, "member organization", group, listed_only=True))

    links["members_by_sector"] = [by_sector(group, count) for group, count, _ in tables["members_by_sector"]["rows"]]
    links["members_by_state"] = [
        (2, url_for("organizations.index", members="y", state=code, **scope),
         _words(count, "member organization", after=f"in {name}", listed_only=True)) if count else None
        for code, name, count in tables["members_by_state"]["rows"]]
    links["projects_by_status"] = [
        (1, url_for("proposals.projects", status=status, **scope), _words(count, "project", status))
        if count and status in public else None
        for status, count in tables["projects_by_status"]["rows"]]
    links["projects_by_area"] = [
        (1, url_for("proposals.projects", area=area, **scope),
         _words(count, "project", after="with no technology area stated" if area == "not stated" else f"in {area}"))
        if count else None
        for area, count in tables["projects_by_area"]["rows"]]
    if institute is None:  # on an institute's own snapshot, its row would only lead back to the same page
        slugs = dict(db.session.execute(sa.select(Institute.acronym, Institute.slug)).all())
        links["coinvestment_by_institute"] = [
            (0, url_for("snapshot.page", slug=slugs[row[0]]), " at a glance") if row[0] in slugs else None
            for row in tables["coinvestment_by_institute"]["rows"]]
    return links


def public_version(institute: Institute | None = None) -> str:
    """The version of the figures for this reader: someone not signed in may be given the one this app
    server read within the last second (``snapshot.version``'s ``held``); a signed-in person, the newest."""
    return snapshot.version(institute, held=not current_user.is_authenticated)


@bp.get("/snapshot")
@bp.get("/institutes/<slug>/snapshot")
def page(slug: str | None = None):
    """The snapshot page: figures, charts, the map and the tables behind them (``?fy=``: as of a fiscal year)."""
    institute = institute_or_404(slug)
    if "fy" in request.args:
        return as_of("page", institute)
    version = public_version(institute)
    # the page also shows who is signed in, so its tag covers the user too
    tag = etag(f"page:{current_user.get_id() if current_user.is_authenticated else '-'}", version)
    if (response := not_modified(tag, "private, no-cache")) is not None:
        return response
    def whole_page() -> str:
        body = snapshot.kept(f"body-{version}", lambda: render_body(institute, version))
        return render_template("snapshot/page.html", body=Markup(body), institute=institute)

    # the page is the same for everyone not signed in (unless a message is waiting for them), so it is kept
    # whole; a signed-in person gets the kept body inside a page that names them
    anonymous = not current_user.is_authenticated and not session.get("_flashes")
    html = snapshot.kept(f"page-{version}", whole_page) if anonymous else whole_page()
    return conditional(Response(html), "private, no-cache", tag)


def render_body(institute: Institute | None, version: str) -> str:
    """The snapshot's figures, charts, map and tables as HTML: the same for everyone, so kept per version."""
    data = snapshot.cached(institute, version)
    counts = {row[0]: row[2] for row in data["tables"]["members_by_state"]["rows"]}
    states = [(code, counts.get(code, 0), shade(counts.get(code, 0))) for code in state_codes()]
    return render_template(
        "snapshot/_body.html", data=data, tables=data["tables"], institute=institute, states=states,
        viewbox=VIEWBOX, shades=MAP_SHADES[1:], dictionary=snapshot.DICTIONARY,
        links=row_links(data["tables"], institute))


@bp.get("/snapshot.json")
@bp.get("/institutes/<slug>/snapshot.json")
def as_json(slug: str | None = None):
    """The snapshot as JSON (CC0)."""
    institute = institute_or_404(slug)
    if "fy" in request.args:
        return as_of("json", institute)
    version = public_version(institute)
    tag = etag("json", version)
    if (response := not_modified(tag, "public, max-age=60")) is not None:
        return response
    text = snapshot.kept(f"json-{version}", lambda: json.dumps(snapshot.cached(institute, version), indent=1))
    return conditional(Response(text, mimetype="application/json"), "public, max-age=60", tag)


@bp.get("/snapshot.csv")
@bp.get("/institutes/<slug>/snapshot.csv")
def as_csv(slug: str | None = None):
    """The snapshot as a zip of one CSV per table, with a README (CC0)."""
    institute = institute_or_404(slug)
    if "fy" in request.args:
        return as_of("csv", institute)
    version = public_version(institute)
    tag = etag("csv", version)
    if (response := not_modified(tag, "public, max-age=60")) is not None:
        return response
    data = snapshot.cached(institute, version)
    name = f"snapshot-{institute.slug if institute else 'network'}.zip"
    return conditional(zipped(data, snapshot.DICTIONARY, name), "public, max-age=60", tag)


def zipped(data: dict, dictionary: dict, name: str) -> Response:
    """A snapshot as a zip of one CSV per table, with a README made from ``dictionary``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, table in data["tables"].items():
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(table["columns"])
            writer.writerows(["" if value is None else value for value in row] for row in table["rows"])
            info = zipfile.ZipInfo(f"{name}.csv", date_time=(2000, 1, 1, 0, 0, 0))  # same bytes, same ETag
            archive.writestr(info, out.getvalue())
        readme = zipfile.ZipInfo("README.txt", date_time=(2000, 1, 1, 0, 0, 0))
        archive.writestr(readme, render_template("snapshot/readme.txt", data=data, dictionary=dictionary,
                                                      workforce_notes=workforce_figures.NOTES))
    return Response(buffer.getvalue(), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# As of a fiscal year -----------------------------------------------------------------------------

def refused(kind: str, message: str, status: int) -> ResponseReturnValue:
    """A fiscal year that cannot be shown: the message as problem+json, as text, or on the error page."""
    if kind == "json":
        response = jsonify({"type": "about:blank", "title": "Bad fiscal year", "status": status, "detail": message})
        response.status_code = status
        response.mimetype = "application/problem+json"
        return response
    if kind == "csv":
        return Response(message + "\n", status=status, mimetype="text/plain")
    return render_error(status, message)


def as_of(kind: str, institute: Institute | None) -> ResponseReturnValue:
    """The network as it stood at the end of the fiscal year ``?fy=`` names: page, JSON or zipped CSV."""
    if institute is not None:
        return refused(kind, "The snapshot as of a fiscal year is the whole network's: ask /snapshot?fy=YEAR.", 400)
    try:
        fiscal_year = snapshot_as_of.parse_fiscal_year(request.args.get("fy"))
    except DomainError as error:
        return refused(kind, error.message, error.status)
    version = snapshot_as_of.version(fiscal_year)
    personal = kind == "page"  # the page also shows who is signed in
    tag = etag(f"{kind}:{current_user.get_id() if personal and current_user.is_authenticated else '-'}", version)
    cache_control = "private, no-cache" if personal else "public, max-age=60"
    if (response := not_modified(tag, cache_control)) is not None:
        return response
    if kind == "json":
        text = snapshot.kept(f"json-{version}", lambda: json.dumps(snapshot_as_of.cached(fiscal_year, version),
                                                                   indent=1))
        return conditional(Response(text, mimetype="application/json"), cache_control, tag)
    data = snapshot_as_of.cached(fiscal_year, version)
    if kind == "csv":
        return conditional(zipped(data, snapshot_as_of.DICTIONARY, f"snapshot-network-fy{fiscal_year}.zip"),
                           cache_control, tag)
    body = snapshot.kept(f"body-{version}", lambda: render_template(
        "snapshot/as_of.html", data=data, tables=data["tables"]))
    return conditional(Response(render_template("snapshot/page.html", body=Markup(body), institute=None,
                                                 fiscal_year=fiscal_year)), cache_control, tag)


@bp.get("/snapshot/data")
def dictionary():
    """The data dictionary: every table and field of the open data, and its license."""
    return render_template("snapshot/dictionary.html", dictionary=snapshot.DICTIONARY,
                           as_of_dictionary=snapshot_as_of.DICTIONARY, suppress_below=snapshot.SUPPRESS_BELOW,
                           workforce_notes=workforce_figures.NOTES, records=open_data.dictionary())
