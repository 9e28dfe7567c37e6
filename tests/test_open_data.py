"""Open data in standard shapes: the Frictionless Data Package, the DCAT-US catalog, the row-level files, robots.txt
and the sitemap; and the data dictionary saying exactly what each file holds."""

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from frictionless import Package
from referencing import Registry, Resource

from portal.extensions import db
from portal.models import AuditEvent, CallStatus, Institute, Organization, OrgSize, ProposalStatus, User
from portal.services import ledger, open_data, sitemap, snapshot, snapshot_as_of, workforce
from portal.services.clock import today
from tests.factories import make_call, make_institute, make_staff, make_tier
from tests.test_snapshot import add_member as add_pledging_member
from tests.test_snapshot import selects, statements_of
from tests.test_snapshot_links import add_member, add_project

S = ProposalStatus
BASE = "http://127.0.0.1:5000"  # PORTAL_URL in the tests: every address the files give starts with it
SCHEMAS = Path(__file__).parent / "fixtures" / "dcat_us_1.1"


@pytest.fixture
def network(app):
    """Two institutes with members (two of TI's pledge: their money is withheld), public projects and ones that
    are not, calls open, closed and in draft, and workforce counts (small ones: "fewer than 10")."""
    ti, oi = make_institute(app), make_institute(app, slug="other-institute", acronym="OI")
    tier = make_tier(app, ti)
    add_pledging_member(app, ti, tier, pledge_cents=100_00, name="Alpha Small", size=OrgSize.SMALL, state="OH")
    alpha = organization(app, "Alpha Small")
    add_pledging_member(app, ti, tier, pledge_cents=200_00, name="Beta Large", size=OrgSize.LARGE, state="MI")
    epsilon = add_member(app, oi, name="Epsilon Small", size=OrgSize.SMALL, state="OH")
    add_project(app, ti, alpha, "Printed brackets", S.SUBMITTED, S.APPROVED, area="Additive manufacturing")
    add_project(app, ti, alpha, "=Cast housings", S.SUBMITTED, S.APPROVED, S.ACTIVE, area="Casting")
    add_project(app, ti, alpha, "Waiting idea", S.SUBMITTED, S.UNDER_REVIEW)
    add_project(app, ti, alpha, "Turned-down idea", S.SUBMITTED, S.DECLINED)
    add_project(app, ti, alpha, "Still a draft")
    add_project(app, oi, epsilon, "Other brackets", S.SUBMITTED, S.APPROVED)
    staff = make_staff(app, ti)
    make_call(app, staff, ti, title="Draft call", status=CallStatus.DRAFT)
    make_call(app, staff, ti, title="Closed call", status=CallStatus.CLOSED)
    with app.app_context():
        workforce.record_outreach(db.session.get(User, staff.id), db.session.get(Institute, ti.id),
                                  title="Open house", held_on=today() - timedelta(days=3),
                                  counts={"k12": 4, "veteran": 25})
        db.session.commit()
    return type("Network", (), {"ti": ti, "oi": oi, "staff": staff})


def organization(app, name: str) -> Organization:
    with app.app_context():
        found = db.session.scalar(db.select(Organization).where(Organization.name == name))
        db.session.expunge(found)
        return found


def get(client, url: str, **kwargs):
    """A file the portal names by its absolute address, fetched from the app itself (no network)."""
    assert url.startswith(BASE + "/"), url
    parts = urlsplit(url)
    response = client.get(parts.path + (f"?{parts.query}" if parts.query else ""), **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return response


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# The Data Package ----------------------------------------------------------------------------------------

def test_the_data_package_and_every_file_it_names_pass_frictionless_validation(client, network, tmp_path):
    descriptor = client.get("/datapackage.json").json
    for resource in descriptor["resources"]:  # served by the app, written beside the descriptor, read offline
        (tmp_path / f"{resource['name']}.csv").write_bytes(get(client, resource["path"]).data)
        resource["path"] = f"{resource['name']}.csv"
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor))

    report = Package(str(tmp_path / "datapackage.json")).validate()

    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])[:20]
    assert report.stats["tasks"] == len(descriptor["resources"])


def test_the_data_package_names_every_snapshot_table_and_record_file_with_types_and_meanings(client, network):
    descriptor = client.get("/datapackage.json").json
    resources = {r["name"]: r for r in descriptor["resources"]}
    year = ledger.fiscal_year_of(today())
    expected = {*(f"snapshot-network-{t}" for t in snapshot.DICTIONARY),
                *(f"snapshot-{slug}-{t}" for slug in ("test-institute", "other-institute") for t in snapshot.DICTIONARY
                  if t not in snapshot.NETWORK_ONLY),
                *(f"snapshot-fy{fy}-{t}" for fy in range(2020, year + 1) for t in snapshot_as_of.DICTIONARY),
                "institutes", "projects", "calls"}
    assert set(resources) == {name.replace("_", "-") for name in expected}
    assert descriptor["licenses"][0]["name"] == "CC0-1.0" and descriptor["sources"]
    sector = resources["snapshot-network-members-by-sector"]
    assert sector["path"] == f"{BASE}/open-data/snapshot/network/members_by_sector.csv"
    assert (sector["format"], sector["mediatype"], sector["encoding"]) == ("csv", "text/csv", "utf-8")
    assert sector["schema"]["primaryKey"] == ["group"] and sector["licenses"] and sector["sources"]
    fields = {f["name"]: f for f in sector["schema"]["fields"]}
    assert fields["organizations"]["type"] == "integer" and fields["share"]["type"] == "number"
    assert fields["share"]["description"] == snapshot.DICTIONARY["members_by_sector"][1]["share"]
    projects = {f["name"]: f for f in resources["projects"]["schema"]["fields"]}
    assert list(projects) == list(open_data.PROJECT_COLUMNS) and resources["projects"]["schema"]["primaryKey"] == ["id"]


def test_each_snapshot_table_file_is_the_same_as_in_the_zip(client, network):
    import zipfile
    archive = zipfile.ZipFile(io.BytesIO(client.get("/snapshot.csv").data))
    for table in snapshot.DICTIONARY:
        assert client.get(f"/open-data/snapshot/network/{table}.csv").data == archive.read(f"{table}.csv"), table
    archive = zipfile.ZipFile(io.BytesIO(client.get("/snapshot.csv?fy=2024").data))
    assert client.get("/open-data/snapshot/fy/2024/fy_overview.csv").data == archive.read("fy_overview.csv")
    assert client.get("/open-data/snapshot/network/nothing.csv").status_code == 404
    assert client.get("/open-data/snapshot/institutes/test-institute/workforce_by_fiscal_year.csv").status_code == 404
    assert client.get("/open-data/snapshot/fy/1999/fy_overview.csv").status_code == 422


# The row-level files -------------------------------------------------------------------------------------

def test_the_records_hold_only_what_the_public_pages_show(client, network):
    projects = rows_of(client.get("/open-data/projects.csv").get_data(as_text=True))
    assert [p["title"] for p in projects] == ["Other brackets", "'=Cast housings", "Printed brackets"]  # newest first
    assert {p["status"] for p in projects} == {"approved", "active"}
    assert "technical_plan" not in projects[0] and projects[0]["lead_organization"] == "Epsilon Small"
    calls = client.get("/open-data/calls.json").json
    titles = {c["title"] for c in calls}
    assert "Draft call" not in titles and "Closed call" not in titles and "Call for Printed brackets" in titles
    assert all(c["closes_at"].endswith("Z") and c["all_partners_members"] is False for c in calls)
    institutes = client.get("/open-data/institutes.json").json
    assert [i["slug"] for i in institutes] == ["other-institute", "test-institute"]  # as the directory lists them
    assert institutes[1]["page_url"] == f"{BASE}/institutes/test-institute"


def test_csv_and_json_give_the_same_rows_in_the_same_column_order(client, network):
    for name in open_data.FILES:
        same_rows(client, name)


def same_rows(client, name: str) -> None:
    response = client.get(f"/open-data/{name}.csv")
    assert response.mimetype == "text/csv" and response.is_streamed
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == ",".join(open_data.FILES[name][2])
    as_json = client.get(f"/open-data/{name}.json").json
    assert [list(row) for row in as_json] == [list(open_data.FILES[name][2])] * len(as_json)
    for from_csv, from_json in zip(rows_of(text), as_json, strict=True):
        for column, value in from_json.items():
            expected = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
            assert from_csv[column].lstrip("'") == expected


def test_an_unchanged_file_costs_a_304(client, network):
    for path in ("/open-data/projects.csv", "/open-data/calls.json", "/datapackage.json", "/data.json",
                 "/open-data/snapshot/network/overview.csv", "/open-data/snapshot/fy/2025/fy_overview.csv"):
        first = client.get(path)
        first.get_data()  # a streamed file is read to its end before the next request
        assert first.headers["Cache-Control"] == "public, max-age=60" and first.headers["ETag"], path
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304, path


def test_the_records_and_the_sitemap_take_as_many_queries_whatever_their_number(client, app, network):
    def queries() -> dict[str, int]:
        counts = {}
        for path in [*(f"/open-data/{name}.{fmt}" for name in open_data.FILES for fmt in ("csv", "json")),
                     "/sitemap.xml"]:
            with statements_of(app) as statements:
                assert client.get(path).status_code == 200
            counts[path] = len(selects(statements))
        return counts

    before = queries()
    alpha = add_member(app, network.ti, name="More Small", size=OrgSize.SMALL, state="PA")
    for n in range(6):
        add_project(app, network.ti, alpha, f"More brackets {n}", S.SUBMITTED, S.APPROVED, area="Casting")
    make_institute(app, slug="third-institute", acronym="TH")
    after = queries()
    assert len(rows_of(client.get("/open-data/projects.csv").get_data(as_text=True))) == 9
    assert after == before, (before, after)


# The DCAT-US catalog -------------------------------------------------------------------------------------

def validate_catalog(catalog: dict, variant: str) -> None:
    """Against the Project Open Data v1.1 JSON Schema (vendored, see fixtures/dcat_us_1.1/README.md)."""
    files = {path.name: json.loads(path.read_text()) for path in (SCHEMAS / variant).glob("*.json")}
    registry = Registry().with_resources(
        (schema["id"].rstrip("#"), Resource.from_contents(schema)) for schema in files.values())
    jsonschema.Draft4Validator(files["catalog.json"], registry=registry).validate(catalog)


def test_the_catalog_is_valid_dcat_us_for_a_publisher_outside_the_federal_government(app, client, network):
    app.config["CONTACT_EMAIL"] = "opendata@example.org"
    catalog = client.get("/data.json").json
    validate_catalog(catalog, "non-federal")
    assert (catalog["@type"], catalog["conformsTo"]) == ("dcat:Catalog", "https://project-open-data.cio.gov/v1.1/schema")
    for dataset in catalog["dataset"]:  # what the brief of the catalog asks beyond the non-federal schema
        assert dataset["keyword"] and dataset["modified"] and dataset["accessLevel"] == "public"
        assert dataset["contactPoint"]["hasEmail"] == "mailto:opendata@example.org"
        assert "bureauCode" not in dataset and "programCode" not in dataset
        assert dataset["license"] == "https://creativecommons.org/publicdomain/zero/1.0/"
        assert all(d["downloadURL"].startswith(BASE) and d["mediaType"] and d["format"]
                   for d in dataset["distribution"])
    assert len({d["identifier"] for d in catalog["dataset"]}) == len(catalog["dataset"])
    with pytest.raises(jsonschema.ValidationError, match="bureauCode"):  # the federal schema wants the codes
        validate_catalog(catalog, "federal")


def test_the_catalog_is_valid_for_a_federal_publisher_once_its_codes_are_set(app, client, network):
    app.config.update(CONTACT_EMAIL="opendata@example.org", DCAT_BUREAU_CODE="015:11", DCAT_PROGRAM_CODE="015:001")
    catalog = client.get("/data.json").json
    validate_catalog(catalog, "federal")
    assert all(d["bureauCode"] == ["015:11"] and d["programCode"] == ["015:001"] for d in catalog["dataset"])


def test_every_download_in_the_catalog_is_served(client, network):
    for dataset in client.get("/data.json").json["dataset"]:
        for distribution in dataset["distribution"]:
            assert get(client, distribution["downloadURL"]).mimetype == distribution["mediaType"]


# robots.txt and the sitemap ------------------------------------------------------------------------------

def test_robots_keep_crawlers_out_of_signed_in_pages_and_name_the_sitemap(client):
    lines = client.get("/robots.txt").get_data(as_text=True).splitlines()
    for private in ("/account", "/admin", "/imports", "/network"):
        assert f"Disallow: {private}" in lines
    assert "Allow: /" in lines and f"Sitemap: {BASE}/sitemap.xml" in lines


def locations(text: str) -> list[str]:
    return [part.split("</loc>")[0] for part in text.split("<loc>")[1:]]


def test_the_sitemap_lists_the_public_pages_only(client, app, network):
    with app.app_context():
        db.session.get(Institute, network.oi.id).retired_on = date(2025, 1, 1)
        db.session.commit()
    text = client.get("/sitemap.xml").get_data(as_text=True)
    pages = locations(text)
    for path in ("/", "/institutes/", "/calls", "/projects", "/programs", "/snapshot", "/snapshot/data",
                 "/institutes/test-institute", "/institutes/test-institute/snapshot"):
        assert BASE + path in pages, path
    assert f"{BASE}/institutes/other-institute" not in pages  # retired
    public = [row["page_url"] for row in rows_of(client.get("/open-data/projects.csv").get_data(as_text=True))]
    assert sorted(p for p in pages if "/proposals/" in p) == sorted(public)
    with app.app_context():
        latest = db.session.scalar(db.select(AuditEvent.occurred_at).order_by(AuditEvent.id.desc()).limit(1))
    assert f"<loc>{BASE}/snapshot</loc><lastmod>{latest.date().isoformat()}</lastmod>" in text


def test_the_sitemap_is_kept_until_something_changes_and_then_shows_the_change(client, app, network):
    first = client.get("/sitemap.xml")
    with statements_of(app) as statements:
        again = client.get("/sitemap.xml", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and len(selects(statements)) <= 1  # the version's one small query
    with statements_of(app) as statements:
        assert client.get("/sitemap.xml").get_data() == first.get_data()
    assert len(selects(statements)) <= 1, "kept, not built again"
    alpha = add_member(app, network.ti, name="Newly Public", size=OrgSize.SMALL, state="PA")
    add_project(app, network.ti, alpha, "Printed turbine blades", S.SUBMITTED, S.APPROVED)  # writes audit events
    changed = client.get("/sitemap.xml")
    assert changed.headers["ETag"] != first.headers["ETag"]
    public = [row["page_url"] for row in rows_of(client.get("/open-data/projects.csv").get_data(as_text=True))]
    assert sorted(p for p in locations(changed.get_data(as_text=True)) if "/proposals/" in p) == sorted(public)
    assert len(public) > len([p for p in locations(first.get_data(as_text=True)) if "/proposals/" in p])


def test_past_the_limit_the_sitemap_is_an_index_of_files_within_it(client, network, monkeypatch):
    whole = set(locations(client.get("/sitemap.xml").get_data(as_text=True)))
    monkeypatch.setattr(sitemap, "LIMIT", 2)
    index = client.get("/sitemap.xml").get_data(as_text=True)
    assert "<sitemapindex" in index
    parts = locations(index)
    assert parts == [f"{BASE}/sitemap/{n}.xml" for n in (1, 2, 3)]  # the fixed pages, then 3 projects by 2
    found: list[str] = []
    for part in parts:
        pages = locations(get(client, part).get_data(as_text=True))
        assert part.endswith("/1.xml") or len(pages) <= 2
        found += pages
    assert set(found) == whole and len(found) == len(whole)
    assert client.get("/sitemap/4.xml").status_code == 404


# The data dictionary says exactly what each file holds -----------------------------------------------------

def test_the_dictionary_names_each_status_as_the_file_writes_it(client, network):
    page = client.get("/snapshot/data").get_data(as_text=True)
    in_file = {row["status"] for row in rows_of(client.get("/open-data/snapshot/network/projects_by_status.csv")
                                                      .get_data(as_text=True))}
    assert "under_review" in in_file
    meaning = snapshot.DICTIONARY["projects_by_status"][1]["status"]
    for status in in_file:
        assert status in meaning
    assert "under_review" in page and "submitted, under review," not in meaning


@pytest.mark.parametrize(("path", "units"), [("/open-data/snapshot/network/overview.csv", snapshot.OVERVIEW_UNITS),
                                             ("/open-data/snapshot/fy/2025/fy_overview.csv",
                                              snapshot_as_of.FY_OVERVIEW_UNITS)])
def test_the_dictionary_gives_each_overview_figure_its_unit(client, network, path, units):
    from html import unescape
    page = unescape(client.get("/snapshot/data").get_data(as_text=True))
    figures = [row["figure"] for row in rows_of(client.get(path).get_data(as_text=True))]
    assert figures == list(units)
    for figure in figures:
        assert f"{figure}: {units[figure]}" in page
        assert units[figure].startswith(("a count", "a percentage", "a ratio", "an amount in cents"))
    assert "The count." not in page
    assert any(unit.startswith("a ratio") for unit in units.values())
    assert path.endswith("fy_overview.csv") or any(unit.startswith("a percentage") for unit in units.values())


def test_withheld_money_is_described_as_withheld_and_apart_from_none(client, network):
    from html import unescape
    [ti] = [row for row in rows_of(client.get("/open-data/snapshot/network/coinvestment_by_institute.csv")
                                   .get_data(as_text=True)) if row["institute"] == "TI"]
    assert ti["organizations"] == "2" and ti["pledged_cents"] == "" and ti["match_ratio"] == ""  # withheld
    [oi] = [row for row in rows_of(client.get("/open-data/snapshot/network/coinvestment_by_institute.csv")
                                   .get_data(as_text=True)) if row["institute"] == "OI"]
    assert oi["organizations"] == "0" and oi["pledged_cents"] == "0"  # none: 0, not empty
    columns = snapshot.DICTIONARY["coinvestment_by_institute"][1]
    assert "withheld when 1 or 2 organizations make it" in columns["pledged_cents"]
    assert "0 when no organization did" in columns["pledged_cents"]
    assert "withheld" in columns["match_ratio"] and "none, when federal_cents is 0" in columns["match_ratio"]
    readme = client.get("/snapshot.csv")
    import zipfile
    text = zipfile.ZipFile(io.BytesIO(readme.data)).read("README.txt").decode()
    assert "no federal figure" not in text and "withheld" in text and "none (federal_cents is 0" in text
    page = unescape(client.get("/snapshot/data").get_data(as_text=True))
    assert "is <strong>withheld</strong>" in page and "<strong>none</strong>" in page


def test_the_dictionary_links_every_file_and_defines_the_records_columns(client):
    page = client.get("/snapshot/data").get_data(as_text=True)
    for path in ("/datapackage.json", "/data.json", *(f"/open-data/{n}.{f}" for n in open_data.FILES
                                                      for f in ("csv", "json"))):
        assert f'href="{path}"' in page, path
    for name, (_, _, columns, _) in open_data.FILES.items():
        assert f'id="{name}"' in page
        for column in columns:
            assert f"<code>{column}</code>" in page
