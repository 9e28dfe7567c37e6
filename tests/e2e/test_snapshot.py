"""The public snapshot in a real browser: charts, map and tables pass axe, with and without JavaScript."""

import pytest

from tests.e2e.test_journeys import expect, heading

pytestmark = pytest.mark.e2e


def test_snapshot_pages_are_accessible_and_need_no_javascript(new_page, live_server, audit):
    from portal.extensions import db
    from portal.services import demo

    with live_server.app.app_context():  # a few members, pledges and money, so the tables have rows
        demo.load("demonstration only 2026")
        db.session.commit()
    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="Snapshot").click()
    expect(heading(page, "The network at a glance")).to_be_visible()
    state_map = page.get_by_role("img", name="Member organizations by state (the table below gives every figure)")
    expect(state_map).to_be_visible()
    expect(page.locator("#table-overview")).to_have_count(1)  # inside a closed <details>
    audit(page, "the network snapshot")
    page.goto("/organizations/?members=y")
    expect(heading(page, "Organizations")).to_be_visible()
    audit(page, "the organization directory")
    # a row of the members-by-state table leads to the directory, filtered to that state's members
    page.goto("/snapshot")
    row_link = page.locator("#table-members_by_state tbody a").first
    page.goto(row_link.get_attribute("href"))
    expect(heading(page, "Organizations")).to_be_visible()
    assert "members=y" in page.url and "state=" in page.url
    audit(page, "the directory a snapshot row leads to")
    page.goto("/projects")
    expect(heading(page, "Projects")).to_be_visible()
    audit(page, "the list of projects")
    page.goto("/snapshot")
    page.get_by_role("link", name="What every field means").click()
    expect(heading(page, "The snapshot's open data")).to_be_visible()
    expect(page.get_by_role("heading", name="Every file, for data tools")).to_be_visible()
    expect(page.get_by_role("heading", name="Records, one row each")).to_be_visible()
    audit(page, "the data dictionary, with the open data files and the records' columns")
    page.goto("/institutes/america-makes")
    page.get_by_role("link", name="America Makes at a glance").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("at a glance")
    audit(page, "an institute's snapshot")

    still = new_page(java_script_enabled=False)
    still.goto("/snapshot")
    expect(still.get_by_role("table", name="Member organizations by US state or territory.")).to_be_visible()
    states = still.locator("svg.portal-map use")
    expect(states).to_have_count(51)
    # each state is drawn from the shared outlines file: it has a size only if the browser loaded them
    texas = still.locator('svg.portal-map use[href$="#TX"]').bounding_box()
    assert texas is not None and texas["width"] > 50 and texas["height"] > 50
