"""Importing projects in a real browser: a network administrator uploads a projects file with errors, reads the
report by row and column, fixes it, imports it, finds the project on its public page and in the snapshot as of
its fiscal year, and undoes the batch; axe-core and console checks on every page."""

import re

import pytest

from tests import factories
from tests.e2e.test_imports import make_admin
from tests.e2e.test_journeys import PASSWORD, expect, heading, sign_in

pytestmark = pytest.mark.e2e

ADMIN = "import.admin@portal.example"
HEADER = ("project_ref,institute,title,lead_organization,partners,technology_area,status,awarded_on,started_on,"
          "completed_on,federal_amount,cost_share,trl_start,trl_target,trl_reached\n")
# started 1 October 2019 (FY2020), signed off 31 March 2021 (FY2021)
GOOD = (HEADER + "AM-P-7,America Makes,Hybrid repair of turbine blades,Harbor Light Alloys,Prairie State College,"
                 "Metals,completed,2019-06-14,2019-10-01,2021-03-31,\"1,500,000\",\"1,800,000\",4,6,6\n"
        + "AM-P-8,America Makes,Powder reuse at scale,Prairie State College,,Metals,active,2022-01-10,"
          "2022-02-01,,500000,,3,5,\n")
BAD = GOOD.replace(",completed,", ",finished,").replace("2022-02-01", "2021-12-01")


def upload(page, text: str, button: str) -> None:
    page.get_by_label("What the file holds").select_option("projects")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "projects.csv", "mimeType": "text/csv", "buffer": text.encode()}])
    page.get_by_role("button", name=button).click()


def projects_active(page, fiscal_year: int):
    page.goto(f"/snapshot?fy={fiscal_year}")
    return page.get_by_role("main").locator("li").filter(has_text="projects active during the year")


def test_upload_projects_read_the_report_fix_import_see_them_and_undo(new_page, live_server, audit):
    make_admin(live_server.app)
    for name in ("Harbor Light Alloys", "Prairie State College"):
        factories.make_organization(live_server.app, name=name)
    page = new_page()
    sign_in(page, ADMIN, PASSWORD)
    page.goto("/imports/")
    expect(heading(page, "Import records from files")).to_be_visible()

    upload(page, BAD, "Check (dry run)")
    report = page.get_by_role("table", name="Problems, in the order of the file")
    # an unknown status, and the completion date and level only a completed project has; a start before the award
    expect(page.get_by_role("heading", name="4 problems in the file; nothing was imported")).to_be_visible()
    expect(report.get_by_role("row").filter(has=page.get_by_role("rowheader", name="2")).first).to_contain_text(
        "'finished' given")
    expect(report.get_by_role("row").filter(has=page.get_by_role("rowheader", name="3"))).to_contain_text(
        "started_on")
    audit(page, "the report of a projects file with errors")

    upload(page, GOOD, "Check (dry run)")
    expect(page.get_by_role("heading", name="The file is ready to import")).to_be_visible()
    expect(page.locator("#report")).to_contain_text("2 projects")

    upload(page, GOOD, "Import")
    expect(page.get_by_role("status").filter(has_text="has been imported")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Projects: 2")
    batch_url = page.url
    audit(page, "an imported batch of projects")

    page.goto("/projects")
    page.get_by_role("link", name="Hybrid repair of turbine blades").click()
    expect(heading(page, "Hybrid repair of turbine blades")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Prairie State College")
    audit(page, "an imported project's public page")

    expect(projects_active(page, 2020)).to_have_text(re.compile(r"^\s*1 projects active during the year"))
    expect(page.get_by_role("main")).to_contain_text("Metals")
    audit(page, "the snapshot as of FY2020")
    # the other one; the first ended in FY2021
    expect(projects_active(page, 2022)).to_have_text(re.compile(r"^\s*1 projects active during the year"))

    page.goto(batch_url)
    page.get_by_role("button", name="Undo this batch").click()
    expect(page.get_by_role("status").filter(has_text="The batch has been undone")).to_be_visible()
    expect(projects_active(page, 2020)).to_have_text(re.compile(r"^\s*0 projects active during the year"))
