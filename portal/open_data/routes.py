"""Open data for machines: the data package and the DCAT-US catalog that describe it, the row-level files, the
snapshot's tables one CSV each, and robots.txt and the sitemap for crawlers."""

import hashlib
import json
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, abort, current_app, stream_with_context, url_for

from portal.models import Institute
from portal.models.base import utcnow
from portal.services import DomainError, open_data, sitemap, snapshot, snapshot_as_of
from portal.services.clock import today
from portal.snapshot.routes import conditional, etag, institute_or_404, not_modified, public_version, refused

bp = Blueprint("open_data", __name__)

CACHE = "public, max-age=60"  # as the snapshot's files: a revalidation with the ETag costs one small query
CRAWLER_CACHE = "public, max-age=3600"
SITEMAP_SHARED = 900  # seconds a built sitemap file stays in Redis


def link() -> open_data.Link:
    """Absolute addresses under the portal's own (PORTAL_URL), whatever Host a request names: what is kept
    and served to everyone never carries an address someone else chose."""
    base = current_app.config["PORTAL_URL"].rstrip("/")
    return lambda endpoint, **values: base + url_for(endpoint, **values)


# the settings a descriptor is made from: a change to any of them makes it anew, like a change to the figures
SETTINGS = ("PORTAL_URL", "OPERATOR_NAME", "CONTACT_EMAIL", "DCAT_BUREAU_CODE", "DCAT_PROGRAM_CODE")


def _kept_json(kind: str, version: str, make: Callable[[], dict]) -> Response:
    settings = json.dumps([current_app.config.get(name) for name in SETTINGS])
    version = f"{version}-{hashlib.sha256(settings.encode()).hexdigest()[:12]}"
    tag = etag(kind, version)
    if (response := not_modified(tag, CACHE)) is not None:
        return response
    text = snapshot.kept(f"{kind}-{version}", lambda: json.dumps(make(), indent=1, ensure_ascii=False))
    return conditional(Response(text, mimetype="application/json"), CACHE, tag)


@bp.get("/datapackage.json")
def datapackage():
    """The Frictionless Data Package descriptor of every CSV the portal publishes (CC0)."""
    version = public_version()

    def make() -> dict:
        institutes = open_data.every_institute()
        return open_data.datapackage(
            link(), operator=current_app.config["OPERATOR_NAME"], every_institute=institutes,
            years=open_data.fiscal_years(institutes, today()), as_of=snapshot.cached(None, version)["as_of"])
    return _kept_json("datapackage", version, make)


@bp.get("/data.json")
def catalog():
    """The DCAT-US (Project Open Data v1.1) catalog of the portal's open data."""
    version = public_version()

    def make() -> dict:
        config = current_app.config
        institutes = open_data.every_institute()
        return open_data.catalog(
            link(), operator=config["OPERATOR_NAME"], email=config.get("CONTACT_EMAIL"),
            bureau_codes=_codes(config.get("DCAT_BUREAU_CODE")), program_codes=_codes(config.get("DCAT_PROGRAM_CODE")),
            every_institute=institutes, years=open_data.fiscal_years(institutes, today()),
            modified=snapshot.cached(None, version)["as_of"])
    return _kept_json("catalog", version, make)


def _codes(text: str | None) -> list[str]:
    return [code.strip() for code in (text or "").split(",") if code.strip()]


RECORDS = "<any(institutes, projects, calls):name>"


@bp.get(f"/open-data/{RECORDS}.csv")
def records_csv(name: str):
    """Institutes, public projects or open calls, one row each, as CSV (CC0), streamed."""
    return _records(name, "csv")


@bp.get(f"/open-data/{RECORDS}.json")
def records_json(name: str):
    """Institutes, public projects or open calls, one object each, as a JSON array (CC0), streamed."""
    return _records(name, "json")


def _records(name: str, fmt: str) -> Response:
    version = public_version()
    if name == "calls":  # a call leaves the list when it closes, which no recorded change marks
        version += utcnow().strftime("-%Y%m%d%H%M")
    tag = etag(f"open-{name}-{fmt}", version)
    if (response := not_modified(tag, CACHE)) is not None:
        return response
    chunks: Iterator[str] = (open_data.rows_csv if fmt == "csv" else open_data.rows_json)(name, link())
    response = Response(stream_with_context(chunks), mimetype="text/csv" if fmt == "csv" else "application/json",
                        headers={"Content-Disposition": f'inline; filename="{name}.{fmt}"'})
    return conditional(response, CACHE, tag)


def _table(data_of: Callable[[str], dict], tables: list[str], table: str, version: str, name: str) -> Response:
    if table not in tables:
        abort(404)
    tag = etag(f"table:{table}", version)
    if (response := not_modified(tag, CACHE)) is not None:
        return response
    text = open_data.table_csv(data_of(version), table)
    return conditional(Response(text, mimetype="text/csv",
                                headers={"Content-Disposition": f'inline; filename="{name}"'}), CACHE, tag)


@bp.get("/open-data/snapshot/network/<table>.csv")
def network_table(table: str):
    """One table of the network's snapshot as CSV: the same as its file in /snapshot.csv."""
    return _table(lambda version: snapshot.cached(None, version), open_data.snapshot_tables(None), table,
                  public_version(), f"{table}.csv")


@bp.get("/open-data/snapshot/institutes/<slug>/<table>.csv")
def institute_table(slug: str, table: str):
    """One table of an institute's snapshot as CSV."""
    institute: Institute | None = institute_or_404(slug)
    return _table(lambda version: snapshot.cached(institute, version), open_data.snapshot_tables(institute), table,
                  public_version(institute), f"{slug}-{table}.csv")


@bp.get("/open-data/snapshot/fy/<year>/<table>.csv")
def fiscal_year_table(year: str, table: str):
    """One table of the network as of a fiscal year as CSV: the same as its file in /snapshot.csv?fy=."""
    try:
        fiscal_year = snapshot_as_of.parse_fiscal_year(year)
    except DomainError as error:
        return refused("csv", error.message, error.status)
    return _table(lambda version: snapshot_as_of.cached(fiscal_year, version), list(snapshot_as_of.DICTIONARY),
                  table, snapshot_as_of.version(fiscal_year), f"fy{fiscal_year}-{table}.csv")


# Crawlers ------------------------------------------------------------------------------------------------

# Pages behind a sign-in (and the personal access tokens, on the account pages): nothing for a crawler there.
# The * wildcard is part of the Robots Exclusion Protocol (RFC 9309, section 2.2.3).
PRIVATE = ("/account", "/admin", "/imports", "/network", "/audit", "/my/", "/notifications", "/ledger",
           "/pledges", "/invitations", "/signups", "/login", "/register", "/institutes/*/manage",
           "/institutes/*/ledger", "/institutes/*/audit")


@bp.get("/robots.txt")
def robots():
    """What crawlers may read: the public pages, not the signed-in ones; where the sitemap is."""
    lines = ["User-agent: *", "Allow: /", *(f"Disallow: {path}" for path in PRIVATE), "",
             f"Sitemap: {link()('open_data.sitemap_xml')}", ""]
    return Response("\n".join(lines), mimetype="text/plain", headers={"Cache-Control": CRAWLER_CACHE})


def _xml(kind: str, make: Callable[[], Iterator[str]]) -> Response:
    """A sitemap file kept whole per version of the network (every change that could add, drop or date an
    address writes an audit event, which moves the version), the portal's address and the addresses per
    file: built once (2.7 MB for 30,000 projects took a third of a second), then served from memory, or as
    a 304 to a crawler that has it."""
    version = f"{public_version()}-{current_app.config['PORTAL_URL']}-{sitemap.LIMIT}"
    tag = etag(kind, version)
    if (response := not_modified(tag, CRAWLER_CACHE)) is not None:
        return response
    # shared for a quarter of an hour only: a busy day's versions of a 2.7 MB file would fill Redis
    text = snapshot.kept(f"{kind}-{hashlib.sha256(version.encode()).hexdigest()[:32]}", lambda: "".join(make()),
                         expires=SITEMAP_SHARED, local="sitemap_cache", limit=8)
    return conditional(Response(text, mimetype="application/xml"), CRAWLER_CACHE, tag)


@bp.get("/sitemap.xml")
def sitemap_xml():
    """Every public page in one sitemap, or, past 50,000 addresses, a sitemap index of several."""
    def make() -> Iterator[str]:
        to = link()
        head = sitemap.head(to)
        projects = sitemap.project_count()
        if len(head) + projects <= sitemap.LIMIT:
            return sitemap.urlset(_chain(head, sitemap.projects(to)))
        parts = 1 + -(-projects // sitemap.LIMIT)
        return sitemap.index([to("open_data.sitemap_part", part=n) for n in range(1, parts + 1)])
    return _xml("sitemap", make)


def _chain(first: list[sitemap.Entry], rest: Iterator[sitemap.Entry]) -> Iterator[sitemap.Entry]:
    yield from first
    yield from rest


@bp.get("/sitemap/<int:part>.xml")
def sitemap_part(part: int):
    """One file of the sitemap index: 1 is the fixed pages and institutes, 2 on the public projects."""
    if part == 1:
        return _xml("sitemap-1", lambda: sitemap.urlset(sitemap.head(link())))
    if part < 1 or (part - 2) * sitemap.LIMIT >= sitemap.project_count():
        abort(404)
    return _xml(f"sitemap-{part}", lambda: sitemap.urlset(sitemap.projects(link(), part - 2)))
