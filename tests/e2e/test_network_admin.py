"""Network administration in a real browser: the landing page, an institute added (after a mistake) and
retired, an account found and disabled, a duplicate organization merged, and the snapshot as of a fiscal year;
axe-core and console checks on every page."""

import pytest
import sqlalchemy as sa

from tests import factories
from tests.e2e.test_journeys import PASSWORD, expect, heading, sign_in

pytestmark = pytest.mark.e2e

NETWORK_ADMIN = "network.admin@portal.example"
LEAVER = "leaver@castings.example"


def make_people(app) -> None:
    from portal.extensions import db
    from portal.services import accounts

    with app.app_context():
        factories.give_second_factor(accounts.create_network_admin(NETWORK_ADMIN, PASSWORD))
        factories.make_user(app, email=LEAVER, full_name="Lee Leaver", password=PASSWORD)
        factories.org_admin(app, factories.make_organization(app, name="Juniper Castings"),
                            email="admin@juniper.example", password=PASSWORD)
        factories.org_admin(app, factories.make_organization(app, name="Juniper Castings LLC", state="MI"),
                            email="admin@juniper-llc.example", password=PASSWORD)
        db.session.commit()


def status(page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def test_network_administration_pages(new_page, live_server, audit):
    make_people(live_server.app)
    page = new_page()
    sign_in(page, NETWORK_ADMIN, PASSWORD)
    page.get_by_role("link", name="Network administration: institutes, accounts, organizations").click()
    expect(heading(page, "Network administration")).to_be_visible()
    audit(page, "the network administration page")

    page.get_by_role("main").get_by_role("link", name="Institutes", exact=True).click()
    expect(heading(page, "Institutes")).to_be_visible()
    audit(page, "the institutes page")
    page.get_by_label("Name", exact=True).fill("Textile Futures Institute")
    page.get_by_label("Acronym").fill("TFI")
    page.get_by_label("Sponsoring agency").select_option(label="Department of Commerce")
    page.get_by_label("Founding year").fill("1999")
    page.get_by_label("City of its headquarters").fill("Lowell")
    page.get_by_label("State or territory").select_option(label="Massachusetts")
    page.get_by_label("Technology area").fill("Advanced fabrics")
    page.get_by_role("button", name="Add the institute").click()
    expect(page.locator("#founded_year-error")).to_contain_text("Enter a year from 2012")
    audit(page, "the institutes page with an error")
    page.get_by_label("Founding year").fill("2016")
    page.get_by_role("button", name="Add the institute").click()
    expect(heading(page, "TFI: Textile Futures Institute")).to_be_visible()
    expect(status(page, "TFI is now an institute of the network")).to_be_visible()
    audit(page, "an institute's administration page")
    page.get_by_label("Reason").fill("Its award ended")
    page.get_by_role("button", name="Retire TFI").click()
    expect(status(page, "TFI has been retired")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Retired: its last day in the network")

    page.goto("/network/users")
    expect(heading(page, "Accounts")).to_be_visible()
    audit(page, "the accounts page")
    page.get_by_label("Part of the email address or name").fill("leaver")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=LEAVER).click()
    expect(heading(page, "Lee Leaver")).to_be_visible()
    audit(page, "an account's page")
    page.get_by_label("Reason").fill("Left the company")
    page.get_by_role("button", name="Disable the account").click()
    expect(status(page, f"The account of {LEAVER} has been disabled")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Disabled: cannot sign in")

    page.goto("/network/organizations?q=juniper")
    expect(heading(page, "Organizations")).to_be_visible()
    audit(page, "the organizations page")
    page.get_by_role("main").get_by_role("link", name="Juniper Castings", exact=True).click()
    expect(heading(page, "Juniper Castings")).to_be_visible()
    audit(page, "an organization's administration page")
    page.get_by_role("button", name="Mark Juniper Castings verified").click()
    expect(status(page, "Juniper Castings is verified")).to_be_visible()
    page.get_by_label("Name of the duplicate organization").fill("Juniper Castings LLC")
    page.get_by_label("Reason").fill("The same company registered twice")
    page.get_by_role("button", name="Merge into Juniper Castings").click()
    expect(status(page, "Juniper Castings LLC has been merged into Juniper Castings")).to_be_visible()
    audit(page, "an organization's page after a merge")

    page.goto("/snapshot?fy=2018")
    expect(heading(page, "The network at the end of FY2018")).to_be_visible()
    audit(page, "the snapshot as of a fiscal year")
    page.get_by_label("Fiscal year (October to September, named by the year it ends)").fill("1900")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("main")).to_contain_text("The network's first fiscal year was FY2013")

    from portal.extensions import db
    from portal.models import Organization
    with live_server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)
                                 .where(Organization.name.like("Juniper%"))) == 1
