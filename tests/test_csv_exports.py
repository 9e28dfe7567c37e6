"""Every CSV the portal hands out keeps a spreadsheet from running what people typed as a formula."""

import csv
import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import ImportKind, Institute, Pledge, Proposal, ProposalStatus, Role, User
from portal.services import ledger, memberships, proposals, workforce
from portal.services.clock import today
from portal.services.csvfile import safe_cell
from tests.conftest import login
from tests.factories import (
    make_call,
    make_institute,
    make_organization,
    make_pledge,
    make_proposal,
    make_staff,
    make_tier,
    make_user,
    org_admin,
)
from tests.workforce_factories import program as workforce_program
from tests.workforce_factories import session as workforce_session

FORMULA = '=HYPERLINK("x")'
ESCAPED = "'" + FORMULA


@pytest.fixture
def exports(app):
    """A member organization, its pledge with a receipt, and a project, all named with a formula."""
    institute = make_institute(app)
    tier = make_tier(app, institute, name="+Gold")
    admin, organization = org_admin(app, make_organization(app, name=FORMULA), full_name="@Pat Admin")
    staff = make_staff(app, institute, full_name="-Sam Staff")
    make_user(app, email="network@example.com", role=Role.NETWORK_ADMIN)
    participant = make_user(app, full_name=FORMULA)
    with app.app_context():
        admin, staff = db.session.get(User, admin.id), db.session.get(User, staff.id)
        institute, organization = db.session.get(Institute, institute.id), db.session.merge(organization)
        membership = memberships.apply(admin, organization, institute, db.session.merge(tier),
                                       statement="We make parts.", contact_name="=Pat", contact_email="p@example.com")
        memberships.approve(staff, membership)
        db.session.commit()
        for made in (admin, staff, institute, organization):
            db.session.refresh(made)  # loaded for the factories below
    pledge = make_pledge(app, admin, organization, institute, cents=300_00, note=FORMULA)
    call = make_call(app, staff, institute)
    proposal = make_proposal(app, admin, call, organization, title="A project", technology_area=FORMULA)
    with app.app_context():
        staff = db.session.get(User, staff.id)
        receipt = ledger.record_receipt(staff, db.session.get(Pledge, pledge.id), amount_cents=100_00,
                                        received_on=today(), key=None)
        ledger.reverse(staff, receipt, reason=FORMULA, key=None)
        sess = workforce_session(staff, workforce_program(staff, institute))
        workforce.sign_up(db.session.get(User, participant.id), sess, "k12")
        proposal = db.session.get(Proposal, proposal.id)
        for status in (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW, ProposalStatus.APPROVED,
                       ProposalStatus.ACTIVE):
            proposals._move(staff, proposal, status, [proposal.status])
        db.session.commit()
        return {"institute_admin.roster_csv": [f"/institutes/{institute.slug}/roster.csv"],
                "ledger.organization_csv": [f"/organizations/{organization.id}/ledger.csv"],
                "institute_admin.ledger_csv": [f"/institutes/{institute.slug}/ledger.csv"],
                "snapshot.as_csv": ["/snapshot.csv", f"/institutes/{institute.slug}/snapshot.csv"],
                "workforce.roster_csv": [f"/sessions/{sess.id}/roster.csv"],
                "institute_admin.audit_csv": [f"/institutes/{institute.slug}/audit.csv"],
                "audit.log_csv": ["/audit.csv", "/audit.csv?kind=ledger"],
                "open_data.records_csv": ["/open-data/projects.csv"],
                "open_data.network_table": ["/open-data/snapshot/network/projects_by_area.csv"],
                "open_data.institute_table": [f"/open-data/snapshot/institutes/{institute.slug}/projects_by_area.csv"],
                "open_data.fiscal_year_table": [
                    f"/open-data/snapshot/fy/{ledger.fiscal_year_of(today())}/fy_projects_by_area.csv"]}


def csv_files(response) -> dict[str, list[list[str]]]:
    """The rows of a CSV response, or of every CSV in a zipped one, by file name."""
    if response.mimetype == "application/zip":
        archive = zipfile.ZipFile(io.BytesIO(response.data))
        return {name: list(csv.reader(io.StringIO(archive.read(name).decode())))
                for name in archive.namelist() if name.endswith(".csv")}
    return {"": list(csv.reader(io.StringIO(response.data.decode())))}


# CSV downloads that carry no one's data: the import templates (column names and a made-up example row).
TEMPLATES = {"imports.template": [f"/imports/templates/{kind}.csv" for kind in ImportKind]}


def test_every_csv_export_is_covered_here(app, exports):
    served = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.endswith(".csv")}
    assert served == set(exports) | set(TEMPLATES)


def test_the_import_templates_start_no_cell_like_a_formula(client, exports):
    login(client, "network@example.com")
    for url in TEMPLATES["imports.template"]:
        rows = csv_files(client.get(url))[""]
        assert len(rows) == 2, url
        assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r")], url


def test_every_csv_export_escapes_cells_that_start_like_a_formula(client, exports):
    login(client, "network@example.com")
    for urls in exports.values():
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            files = csv_files(response)
            cells = [cell for rows in files.values() for row in rows for cell in row]
            assert ESCAPED in cells, f"{url} does not carry the organization name or project area"
            assert not [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")], url
            assert not [cell for cell in cells
                        if cell.startswith("-") and not cell.lstrip("-").replace(".", "").isdigit()], url


def test_the_snapshot_writes_the_technology_area_escaped(client, exports):
    rows = csv_files(client.get("/snapshot.csv"))["projects_by_area.csv"]
    assert [ESCAPED, "1"] in rows


def test_the_ledger_keeps_negative_amounts_as_numbers(client, app, exports):
    login(client, "network@example.com")
    [url] = exports["institute_admin.ledger_csv"]
    [rows] = csv_files(client.get(url)).values()
    assert "-100.00" in [row[3] for row in rows]


@pytest.mark.parametrize("value, written", [
    ("=1+2", "'=1+2"), ("+1 555", "'+1 555"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("-12.50", "-12.50"), ("Acme", "Acme"), ("", ""), (-5, -5), (None, None),
])
def test_safe_cell(value, written):
    assert safe_cell(value) == written


def test_exports_keep_utc_whatever_zone_the_reader_chose(client, app, exports):
    with app.app_context():
        reader = db.session.scalars(sa.select(User).where(User.email == "network@example.com")).one()
        reader.time_zone = "Pacific/Honolulu"
        db.session.commit()
    login(client, "network@example.com")
    [url] = exports["institute_admin.ledger_csv"]
    [rows] = csv_files(client.get(url)).values()
    times = [row[1] for row in rows[1:]]
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", value) for value in times)
