"""Open data in the shapes data tools read: row-level files of the public records, a Frictionless Data Package
describing every CSV, and a DCAT-US (Project Open Data v1.1) catalog.

Every column is defined once: the snapshot's in ``snapshot.DICTIONARY`` and ``snapshot_as_of.DICTIONARY`` (with
their Table Schema types in ``SNAPSHOT_TYPES``), the row-level files' in ``FILES``. The data dictionary page, the
CSV README, ``datapackage.json`` and ``data.json`` are all made from them.

The row-level files hold only what the public pages show: the institute directory (``institutes.search``), the
projects list (``proposals.public_projects_query``: approved, active and completed projects only) and the open
calls (``proposals.open_calls_query``: open now, never a draft). Each is one query, read in batches.

Standards followed:
- Data Package and Table Schema v1 (https://specs.frictionlessdata.io/data-package/,
  https://specs.frictionlessdata.io/table-schema/);
- DCAT-US, the Project Open Data Metadata Schema v1.1 (https://resources.data.gov/resources/dcat-us/).
"""

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import Agency, Institute, ProjectCall, ProposalStatus
from portal.models import Proposal as Project  # public once approved: a project
from portal.services import csvfile, institutes, proposals, snapshot, snapshot_as_of, workforce_figures
from portal.services.institutes import InstituteFilters
from portal.services.ledger.entries import FIRST_FISCAL_YEAR, fiscal_year_of

LICENSE = {"name": "CC0-1.0", "title": "Creative Commons Zero v1.0 Universal",
           "path": "https://creativecommons.org/publicdomain/zero/1.0/"}

Link = Callable[..., str]  # (endpoint, **values) -> an absolute URL

# Table Schema types of the snapshot's columns (a column name means the same in every table it is in).
SNAPSHOT_TYPES: dict[str, str] = {
    "figure": "string", "value": "number", "group": "string", "organizations": "integer", "share": "number",
    "state": "string", "name": "string", "status": "string", "proposals": "integer", "technology_area": "string",
    "projects": "integer", "measure": "string", "mean_start": "number", "mean_reached": "number",
    "mean_gain": "number", "institute": "string", "federal_cents": "integer", "pledged_cents": "integer",
    "received_cents": "integer", "verified_cents": "integer", "match_ratio": "number", "fiscal_year": "integer",
    "what": "string", "decided": "integer", "median_days": "number", "agency": "string", "founded_year": "integer",
    "memberships": "integer",
    **dict.fromkeys(workforce_figures.DEFINITIONS, "integer"),
}
# Workforce counts are numbers or one of these words (see workforce_figures.DISCLOSURE); a reader of the
# schema takes them as missing values, and the dictionary says what each means.
WORKFORCE_MARKERS = ["", workforce_figures.SUPPRESSED, workforce_figures.WITHHELD]

# Row-level files ---------------------------------------------------------------------------------------

Columns = dict[str, tuple[str, str]]  # column: (Table Schema type, meaning), in the file's order

INSTITUTE_COLUMNS: Columns = {
    "slug": ("string", "The institute's name in addresses (/institutes/<slug>); no two alike."),
    "acronym": ("string", "Acronym."),
    "name": ("string", "Full name."),
    "technology_focus": ("string", "Its technology focus, as the directory filters by it."),
    "agency": ("string", "Sponsoring agency's code: " + ", ".join(a.value for a in Agency) + "."),
    "agency_name": ("string", "Sponsoring agency's name."),
    "founded_year": ("integer", "Year founded."),
    "city": ("string", "City of its headquarters."),
    "state": ("string", "Two-letter USPS code of its headquarters."),
    "website": ("string", "Its own website; empty when not known."),
    "description": ("string", "What it does, as on its page."),
    "federal_base_award_cents": ("integer", "Federal base award, in cents."),
    "retired_on": ("date", "The last day it was part of the network; empty while it is."),
    "page_url": ("string", "Its page on this portal."),
    "snapshot_url": ("string", "Its snapshot (figures) on this portal."),
}
PROJECT_COLUMNS: Columns = {
    "id": ("integer", "The project's number on this portal; no two alike."),
    "title": ("string", "Title."),
    "status": ("string", "One of " + ", ".join(s.value for s in
                                               (ProposalStatus.APPROVED, ProposalStatus.ACTIVE,
                                                ProposalStatus.COMPLETED))
               + ": only these are public (proposals under review, declined or withdrawn never are)."),
    "institute": ("string", "Acronym of the institute whose call it answered."),
    "lead_organization": ("string", "The organization that leads it."),
    "technology_area": ("string", "As the team described it; empty when not stated."),
    "abstract": ("string", "The public abstract (the technical plan is confidential and never published)."),
    "trl_start": ("integer", "Technology readiness level at the start, 1 to 9; empty when not given."),
    "trl_target": ("integer", "Technology readiness level targeted; empty when not given."),
    "trl_reached": ("integer", "Technology readiness level reached, once completed; empty until then."),
    "mrl_start": ("integer", "Manufacturing readiness level at the start, 1 to 10; empty when not given."),
    "mrl_target": ("integer", "Manufacturing readiness level targeted; empty when not given."),
    "mrl_reached": ("integer", "Manufacturing readiness level reached, once completed; empty until then."),
    "status_changed_at": ("datetime", "When it last changed status (approved, started, completed), UTC."),
    "page_url": ("string", "Its page on this portal."),
}
CALL_COLUMNS: Columns = {
    "id": ("integer", "The call's number on this portal; no two alike."),
    "title": ("string", "Title."),
    "institute": ("string", "Acronym of the institute that opened it."),
    "technology_focus": ("string", "The institute's technology focus (the area /calls filters by)."),
    "description": ("string", "What the call asks for, as on its page."),
    "opens_at": ("datetime", "When it opened for proposals, UTC."),
    "closes_at": ("datetime", "When it closes: proposals are taken until then, UTC."),
    "max_federal_cents": ("integer", "The most federal money one project may request, in cents."),
    "min_cost_share_ratio": ("number", "The least cost share, as a ratio of the federal request (0.5 is half)."),
    "trl_min": ("integer", "Lowest technology readiness level accepted at the start."),
    "trl_max": ("integer", "Highest technology readiness level accepted at the start."),
    "mrl_min": ("integer", "Lowest manufacturing readiness level accepted at the start."),
    "mrl_max": ("integer", "Highest manufacturing readiness level accepted at the start."),
    "min_industry": ("integer", "Industry partners a team needs at least."),
    "min_academic": ("integer", "Academic partners a team needs at least."),
    "min_small_business": ("integer", "Small-business partners a team needs at least."),
    "all_partners_members": ("boolean", "true when every partner must be a member of the institute; false when "
                                        "only the lead must."),
    "page_url": ("string", "Its page on this portal, with its scoring rubric."),
}
# name: (title, description, columns, primary key); the files are /open-data/<name>.csv and .json
FILES: dict[str, tuple[str, str, Columns, str]] = {
    "institutes": ("Institutes", "Every institute of the network, as the directory lists it (retired ones "
                   "too, with the day they left).", INSTITUTE_COLUMNS, "slug"),
    "projects": ("Public projects", "Approved, active and completed projects, as the projects list shows them, "
                 "newest first.", PROJECT_COLUMNS, "id"),
    "calls": ("Open calls for project proposals", "Calls open for proposals at the moment the file is made, "
              "closing soonest first, as /calls lists them.", CALL_COLUMNS, "id"),
}


def dictionary() -> dict[str, tuple[str, dict[str, str]]]:
    """The row-level files in the data dictionary's shape: {file: (description, {column: meaning})}."""
    return {name: (description, {column: meaning for column, (_, meaning) in columns.items()})
            for name, (_, description, columns, _) in FILES.items()}


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _institute_rows(link: Link) -> Iterator[dict[str, Any]]:
    for i in institutes.search(InstituteFilters()):  # the directory's own query: one, at most a few dozen rows
        yield {"slug": i.slug, "acronym": i.acronym, "name": i.name, "technology_focus": i.focus,
               "agency": str(i.agency), "agency_name": Agency(i.agency).label, "founded_year": i.founded_year,
               "city": i.city, "state": i.state, "website": i.website or None, "description": i.description,
               "federal_base_award_cents": i.federal_base_award_cents,
               "retired_on": i.retired_on.isoformat() if i.retired_on else None,
               "page_url": link("institutes.detail", slug=i.slug), "snapshot_url": link("snapshot.page", slug=i.slug)}


def _project_rows(link: Link) -> Iterator[dict[str, Any]]:
    query = proposals.public_projects_query()
    assert query is not None  # None only for a status outside the public ones
    public_fields = (Project.abstract, Project.trl_start, Project.trl_target, Project.trl_reached, Project.mrl_start,
                     Project.mrl_target, Project.mrl_reached, Project.status_changed_at)
    query = query.options(*(so.undefer(field) for field in public_fields)).order_by(Project.id.desc())
    for (p,) in csvfile.rows_of(query):
        yield {"id": p.id, "title": p.title, "status": str(p.status), "institute": p.call.institute.acronym,
               "lead_organization": p.lead_organization.name, "technology_area": p.technology_area or None,
               "abstract": p.abstract, "trl_start": p.trl_start, "trl_target": p.trl_target,
               "trl_reached": p.trl_reached, "mrl_start": p.mrl_start, "mrl_target": p.mrl_target,
               "mrl_reached": p.mrl_reached, "status_changed_at": _moment(p.status_changed_at),
               "page_url": link("proposals.detail", proposal_id=p.id)}


def _call_rows(link: Link) -> Iterator[dict[str, Any]]:
    query = proposals.open_calls_query().order_by(ProjectCall.closes_at, ProjectCall.id)
    for (c,) in csvfile.rows_of(query):
        yield {"id": c.id, "title": c.title, "institute": c.institute.acronym, "technology_focus": c.institute.focus,
               "description": c.description, "opens_at": _moment(c.opens_at), "closes_at": _moment(c.closes_at),
               "max_federal_cents": c.max_federal_cents, "min_cost_share_ratio": c.min_cost_share_bp / 10000,
               "trl_min": c.trl_min, "trl_max": c.trl_max, "mrl_min": c.mrl_min, "mrl_max": c.mrl_max,
               "min_industry": c.min_industry, "min_academic": c.min_academic,
               "min_small_business": c.min_small_business, "all_partners_members": c.all_partners_members,
               "page_url": link("proposals.call", call_id=c.id)}


ROWS: dict[str, Callable[[Link], Iterator[dict[str, Any]]]] = {
    "institutes": _institute_rows, "projects": _project_rows, "calls": _call_rows}


def _cell(value: Any) -> Any:
    """A value as the CSV writes it: booleans as Table Schema's true/false, None as an empty cell."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def rows_csv(name: str, link: Link) -> Iterator[str]:
    """The file ``name`` as CSV text, in pieces, the columns in FILES' order."""
    columns = list(FILES[name][2])
    return csvfile.stream(columns, ([_cell(row[c]) for c in columns] for row in ROWS[name](link)))


def rows_json(name: str, link: Link, batch: int = 500) -> Iterator[str]:
    """The file ``name`` as a JSON array of objects (keys in FILES' order), in pieces of ``batch`` rows."""
    pieces: list[str] = []
    first = True
    yield "["
    for row in ROWS[name](link):
        pieces.append(("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False))
        first = False
        if len(pieces) == batch:
            yield "".join(pieces)
            pieces = []
    yield "".join(pieces) + "\n]\n"


# The snapshot's tables, one CSV each ---------------------------------------------------------------------

def table_csv(data: dict, table: str) -> str:
    """One table of a computed snapshot as CSV, the same as its file in the snapshot's zip."""
    t = data["tables"][table]
    return csvfile.to_csv(t["columns"], (["" if value is None else value for value in row] for row in t["rows"]))


def snapshot_tables(institute: Institute | None) -> list[str]:
    """The tables of the network's snapshot, or of an institute's (without the network-only ones)."""
    return [name for name in snapshot.DICTIONARY if institute is None or name not in snapshot.NETWORK_ONLY]


def fiscal_years(every_institute: Iterable[Institute], on: date) -> range:
    """The fiscal years a snapshot as of a year is published for: from the first in which an institute was
    active (and never before the network's first) to the one in progress."""
    founded = [i.founded_year for i in every_institute]
    first = max(FIRST_FISCAL_YEAR, min(founded, default=FIRST_FISCAL_YEAR))
    last = fiscal_year_of(on)
    return range(min(first, last), last + 1)


# Frictionless Data Package ------------------------------------------------------------------------------

def _schema(columns: dict[str, tuple[str, str]], key: str, missing: list[str] | None = None) -> dict:
    schema: dict[str, Any] = {
        "fields": [{"name": name, "type": kind, "description": meaning} for name, (kind, meaning) in columns.items()],
        "primaryKey": [key]}
    if missing:
        schema["missingValues"] = missing
    return schema


def _snapshot_resource(name: str, title: str, path: str, source: str, table: str,
                       dictionary: dict[str, tuple[str, dict[str, str]]]) -> dict:
    description, meanings = dictionary[table]
    columns = {column: (SNAPSHOT_TYPES[column], meaning) for column, meaning in meanings.items()}
    missing = WORKFORCE_MARKERS if table.startswith(("workforce", "fy_workforce")) else None
    first = next(iter(columns))  # every snapshot table's first column names its rows
    return {"name": name, "title": title, "description": description, "path": path, "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "schema": _schema(columns, first, missing), "licenses": [LICENSE],
            "sources": [{"title": "The snapshot on the portal", "path": source}]}


def datapackage(link: Link, *, operator: str, every_institute: list[Institute], years: range,
                as_of: str) -> dict:
    """The Data Package descriptor of every published CSV: the network's snapshot tables, each institute's,
    the network's as of each fiscal year, and the row-level files."""
    resources = []
    for table in snapshot_tables(None):
        resources.append(_snapshot_resource(
            f"snapshot-network-{table}".replace("_", "-"), f"Network snapshot: {table}",
            link("open_data.network_table", table=table), link("snapshot.page"), table, snapshot.DICTIONARY))
    for i in every_institute:
        for table in snapshot_tables(i):
            resources.append(_snapshot_resource(
                f"snapshot-{i.slug}-{table}".replace("_", "-"), f"{i.acronym} snapshot: {table}",
                link("open_data.institute_table", slug=i.slug, table=table), link("snapshot.page", slug=i.slug),
                table, snapshot.DICTIONARY))
    for year in years:
        for table in snapshot_as_of.DICTIONARY:
            resources.append(_snapshot_resource(
                f"snapshot-fy{year}-{table}".replace("_", "-"), f"The network as of FY{year}: {table}",
                link("open_data.fiscal_year_table", year=year, table=table), link("snapshot.page", fy=year),
                table, snapshot_as_of.DICTIONARY))
    for name, (title, description, columns, key) in FILES.items():
        resources.append({
            "name": name, "title": title, "description": description, "path": link("open_data.records_csv", name=name),
            "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "schema": _schema(columns, key), "licenses": [LICENSE],
            "sources": [{"title": "The portal's public pages", "path": link("main.index")}]})
    return {
        "profile": "tabular-data-package",
        "name": "manufacturing-innovation-network",
        "title": f"Open data of {operator}",  # "Open data of the Manufacturing Innovation Network"
        "description": "The network's public figures (the snapshot, its tables one CSV each: of the network, of "
                       "each institute, and of the network as of each federal fiscal year) and its public "
                       "records (institutes, public projects, open calls). The data dictionary says what every "
                       "column means; text that starts with = + - or @ carries a leading apostrophe.",
        "homepage": link("snapshot.dictionary"),
        "created": as_of,
        "licenses": [LICENSE],
        "sources": [{"title": f"The portal of {operator}", "path": link("main.index")}],
        "keywords": ["manufacturing", "innovation institutes", "Manufacturing USA", "open data"],
        "resources": resources,
    }


# DCAT-US catalog (Project Open Data v1.1) ----------------------------------------------------------------

SCHEMA = "https://project-open-data.cio.gov/v1.1/schema"


def _distribution(url: str, media_type: str, fmt: str, title: str, described_by: str | None = None) -> dict:
    distribution = {"@type": "dcat:Distribution", "title": title, "downloadURL": url, "mediaType": media_type,
                    "format": fmt}
    if described_by:
        distribution.update({"describedBy": described_by, "describedByType": "application/json"})
    return distribution


def catalog(link: Link, *, operator: str, email: str | None, bureau_codes: list[str], program_codes: list[str],
            every_institute: list[Institute], years: range, modified: str) -> dict:
    """The DCAT-US catalog: one dataset per snapshot (the network's, each institute's, the network as of the
    fiscal years) and per row-level file, each with its distributions.

    bureauCode and programCode identify a federal agency and program (OMB Circular A-11 Appendix C, the
    Federal Program Inventory): the schema for federal agencies requires them, the one for everyone else
    leaves them out. The portal cannot know who runs it, so they come from the configuration
    (DCAT_BUREAU_CODE, DCAT_PROGRAM_CODE) and are left out when not set.
    """
    publisher = {"@type": "org:Organization", "name": operator}
    operator = operator[:1].upper() + operator[1:]  # at the start of a title: "The Manufacturing ..."
    contact = {"@type": "vcard:Contact", "fn": operator}
    if email:
        contact["hasEmail"] = f"mailto:{email}"
    package = link("open_data.datapackage")
    dictionary = link("snapshot.dictionary")

    def dataset(identifier: str, title: str, description: str, keywords: list[str], landing: str,
                distributions: list[dict]) -> dict:
        entry: dict[str, Any] = {
            "@type": "dcat:Dataset", "identifier": identifier, "title": title, "description": description,
            "keyword": keywords, "modified": modified, "publisher": publisher, "contactPoint": contact,
            "accessLevel": "public", "license": LICENSE["path"], "spatial": "United States",
            "landingPage": landing, "describedBy": dictionary, "describedByType": "text/html",
            "distribution": distributions}
        if bureau_codes:
            entry["bureauCode"] = bureau_codes
        if program_codes:
            entry["programCode"] = program_codes
        return entry

    def snapshot_files(json_url: str, zip_url: str) -> list[dict]:
        return [_distribution(json_url, "application/json", "JSON", "The snapshot as JSON"),
                _distribution(zip_url, "application/zip", "ZIP of CSV files", "Each table as a CSV file, zipped with "
                              "a README", package)]

    keywords = ["manufacturing", "innovation institutes", "co-investment", "membership", "workforce"]
    datasets = [dataset(
        link("snapshot.page"), f"{operator}: snapshot of the network",
        "Members by sector and state, projects by status and technology area, readiness gains, co-investment "
        "against federal obligations with the match ratio, decision times and workforce figures, for the whole "
        "network now.", keywords, link("snapshot.page"),
        snapshot_files(link("snapshot.as_json"), link("snapshot.as_csv")))]
    for i in every_institute:
        datasets.append(dataset(
            link("snapshot.page", slug=i.slug), f"{i.acronym}: snapshot of the institute",
            f"The snapshot's figures for {i.name} ({i.acronym}) alone.", [*keywords, i.acronym],
            link("snapshot.page", slug=i.slug),
            snapshot_files(link("snapshot.as_json", slug=i.slug), link("snapshot.as_csv", slug=i.slug))))
    for year in years:
        datasets.append(dataset(
            link("snapshot.page", fy=year), f"{operator}: the network as of fiscal year {year}",
            f"The network as it stood at the end of federal fiscal year {year} (30 September {year}): institutes "
            "active, members, projects active during the year, the year's money and workforce figures.",
            [*keywords, f"FY{year}"], link("snapshot.page", fy=year),
            snapshot_files(link("snapshot.as_json", fy=year), link("snapshot.as_csv", fy=year))))
    for name, (title, description, _, _) in FILES.items():
        datasets.append(dataset(
            link("open_data.records_json", name=name), f"{operator}: {title.lower()}", description,
            ["manufacturing", "innovation institutes", name], link("snapshot.dictionary", _anchor=name),
            [_distribution(link("open_data.records_csv", name=name), "text/csv", "CSV", f"{title} as CSV",
                           package),
             _distribution(link("open_data.records_json", name=name), "application/json", "JSON",
                           f"{title} as JSON")]))
    return {"@context": f"{SCHEMA}/catalog.jsonld", "@id": link("open_data.catalog"), "@type": "dcat:Catalog",
            "conformsTo": SCHEMA, "describedBy": f"{SCHEMA}/catalog.json", "dataset": datasets}


def every_institute() -> list[Institute]:
    """Every institute, by acronym (one query)."""
    return list(db.session.scalars(sa.select(Institute).order_by(Institute.acronym)))
