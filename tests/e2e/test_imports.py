"""The import in a real browser: a network administrator uploads a file with errors, reads the report by row
and column, fixes the file, imports it and undoes the batch; axe-core and console checks on every page."""

import pytest

from tests import factories
from tests.e2e.test_journeys import PASSWORD, expect, heading, sign_in

pytestmark = pytest.mark.e2e

ADMIN = "import.admin@portal.example"
GOOD = ("name,sector,size,state,city,uei\n"
        "Harbor Light Alloys,industry,small,MI,Muskegon,HLA123456789\n"
        "Prairie State College,academic,,IL,Chicago Heights,\n")
BAD = GOOD.replace("academic", "college").replace("HLA123456789", "HLA-1")


def make_admin(app) -> None:
    from portal.extensions import db
    from portal.services import accounts

    with app.app_context():
        factories.give_second_factor(accounts.create_network_admin(ADMIN, PASSWORD))
        db.session.commit()


def upload(page, text: str, button: str) -> None:
    page.get_by_label("What the file holds").select_option("organizations")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "organizations.csv", "mimeType": "text/csv", "buffer": text.encode()}])
    page.get_by_role("button", name=button).click()


def test_upload_read_the_report_fix_import_and_undo(new_page, live_server, audit):
    make_admin(live_server.app)
    page = new_page()
    sign_in(page, ADMIN, PASSWORD)
    page.get_by_role("link", name="Import records from files").click()
    expect(heading(page, "Import records from files")).to_be_visible()
    audit(page, "the import page")

    upload(page, BAD, "Check (dry run)")
    report = page.get_by_role("table", name="Problems, in the order of the file")
    expect(page.get_by_role("heading", name="2 problems in the file; nothing was imported")).to_be_visible()
    expect(report.get_by_role("row").filter(has=page.get_by_role("rowheader", name="2"))).to_contain_text("uei")
    expect(report.get_by_role("row").filter(has=page.get_by_role("rowheader", name="3"))).to_contain_text(
        "sector")
    audit(page, "the report of a file with errors")

    upload(page, GOOD, "Check (dry run)")
    expect(page.get_by_role("heading", name="The file is ready to import")).to_be_visible()
    expect(page.locator("#report")).to_contain_text("2 organizations")
    audit(page, "the report of a file ready to import")

    upload(page, GOOD, "Import")
    expect(page.get_by_role("status").filter(has_text="has been imported")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import batch")
    expect(page.get_by_role("main")).to_contain_text("Organizations: 2")
    audit(page, "an imported batch")
    page.goto("/organizations/?q=Harbor")
    expect(page.get_by_role("main")).to_contain_text("Harbor Light Alloys")

    page.go_back()
    page.get_by_role("button", name="Undo this batch").click()
    expect(page.get_by_role("status").filter(has_text="The batch has been undone")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Undone")
    audit(page, "an undone batch")

    page.goto("/imports/columns")
    expect(heading(page, "Data dictionary: import files")).to_be_visible()
    audit(page, "the import files' data dictionary")
