"""Institute membership in a real browser: staff, application, notification, approval, member access.

The people are made in the database (registration has its own journey in ``test_journeys``); every
step after that goes through the pages, with axe-core and console checks on each new page.
"""

import re

import pytest

from portal.models import AffiliationRole
from portal.services.wording import possessive
from tests import factories
from tests.e2e.test_journeys import PASSWORD, choose, expect, heading, sign_in

pytestmark = pytest.mark.e2e

INSTITUTE, SLUG = "America Makes", "america-makes"
ORG = "Larkspur Additive Works"
NETWORK_ADMIN = "network.admin@portal.example"
STAFF_EMAIL, STAFF_NAME = "robin.hale@americamakes.example", "Robin Hale"
ORG_ADMIN_EMAIL, ORG_ADMIN_NAME = "kim.varga@larkspur.example", "Kim Varga"
MEMBER_EMAIL = "lee.park@larkspur.example"
OUTSIDER_EMAIL = "alex.reyes@nowhere.example"


def make_people(app) -> None:
    """A network administrator; a future institute administrator; an organization with an admin and
    a plain member, both verified and active; and a verified user who belongs to no organization."""
    from portal.extensions import db
    from portal.services import accounts

    with app.app_context():
        factories.give_second_factor(accounts.create_network_admin(NETWORK_ADMIN, PASSWORD))
        factories.make_user(app, email=STAFF_EMAIL, full_name=STAFF_NAME, password=PASSWORD,
                           second_factor=True)
        organization = factories.make_organization(app, name=ORG)
        factories.org_admin(app, organization, email=ORG_ADMIN_EMAIL, full_name=ORG_ADMIN_NAME, password=PASSWORD)
        member = factories.make_user(app, email=MEMBER_EMAIL, full_name="Lee Park", password=PASSWORD)
        factories.affiliate(app, member, organization, role=AffiliationRole.MEMBER)
        factories.make_user(app, email=OUTSIDER_EMAIL, full_name="Alex Reyes", password=PASSWORD)
        db.session.commit()


def sign_out(page) -> None:
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status").filter(has_text="You have signed out")).to_be_visible()


def unread(page):
    return page.get_by_role("navigation", name="Main").locator(".portal-bell__count")


def status_tag(page):
    return page.get_by_role("main").locator(".portal-status")


def member_contacts(page):
    return page.get_by_role("heading", level=2, name="Member contacts")


def test_staff_apply_notify_approve_and_member_access(new_page, live_server, audit):
    make_people(live_server.app)
    page = new_page()

    # A network administrator makes Robin an administrator of the institute.
    sign_in(page, NETWORK_ADMIN, PASSWORD)
    page.goto(f"/institutes/{SLUG}")
    page.get_by_role("link", name=f"Manage {INSTITUTE}").click()
    expect(heading(page, f"Manage {INSTITUTE}")).to_be_visible()
    expect(page.get_by_text("No institute administrators yet.")).to_be_visible()
    audit(page, "the institute's manage page, as a network administrator")

    page.get_by_label("Email address of the new administrator").fill(STAFF_EMAIL)
    page.get_by_role("button", name="Add administrator").click()
    expect(page.get_by_role("status").filter(has_text=f"{STAFF_NAME} now administers {INSTITUTE}")).to_be_visible()
    expect(page.get_by_role("region", name="Administrators")).to_contain_text(f"{STAFF_NAME} ({STAFF_EMAIL})")
    audit(page, "the manage page after adding an administrator")
    sign_out(page)

    # The organization's admin applies for Gold.
    sign_in(page, ORG_ADMIN_EMAIL, PASSWORD)
    page.goto(f"/institutes/{SLUG}")
    expect(member_contacts(page)).to_have_count(0)
    audit(page, "the institute's page with its tiers, as an organization admin")

    page.get_by_role("link", name="Apply for membership").click()
    expect(heading(page, f"Apply for membership of {INSTITUTE}")).to_be_visible()
    expect(page.get_by_label("Contact name")).to_have_value(ORG_ADMIN_NAME)
    expect(page.get_by_label("Contact email address")).to_have_value(ORG_ADMIN_EMAIL)
    audit(page, "the application form")

    page.get_by_label("Organization").select_option(label=ORG)
    choose(page, "Membership tier", "Gold")
    page.get_by_label("Statement of interest").fill("We print titanium brackets and want to qualify them.")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(heading(page, f"{ORG} at {INSTITUTE}")).to_be_visible()
    filed = f"{possessive(ORG)} application to {INSTITUTE} has been filed."
    expect(page.get_by_role("status").filter(has_text=filed)).to_be_visible()
    expect(status_tag(page)).to_have_text("Pending")
    expect(page.get_by_role("main")).to_contain_text("Gold ($50,000 a year)")
    expect(unread(page)).to_have_text("1 unread")
    audit(page, "a pending application, as the applicant")
    membership_url = page.url
    sign_out(page)

    # The institute administrator follows the notification and approves.
    sign_in(page, STAFF_EMAIL, PASSWORD)
    expect(unread(page)).to_have_text("2 unread")  # being made an administrator, and the application
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications").click()
    expect(heading(page, "Notifications")).to_be_visible()
    audit(page, "the notifications page")

    page.get_by_role("link", name=f"{ORG} applied for Gold membership of {INSTITUTE}.").click()
    expect(page).to_have_url(membership_url)
    decide = page.get_by_role("form", name="Decide this application")
    expect(decide.get_by_label("Start date")).to_have_value("")
    expect(decide.get_by_label("Term in years")).to_have_value("1")
    audit(page, "a pending application, as the institute administrator")

    decide.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text="The application has been approved.")).to_be_visible()
    expect(status_tag(page)).to_have_text("Active")
    expect(page.get_by_role("form", name="Decide this application")).to_have_count(0)
    audit(page, "an approved membership, as the institute administrator")

    page.goto(f"/institutes/{SLUG}/manage")
    applications = page.get_by_role("region", name="Applications waiting")
    expect(applications.locator("li").filter(has_text="median time to decide")).to_contain_text(
        re.compile(r"^\s*0\.0\s+days, median time to decide \(1 decided\)"))
    expect(applications).to_contain_text("No applications are waiting.")
    roster = page.get_by_role("table", name="1 member organization")
    expect(roster.get_by_role("rowheader", name=ORG)).to_be_visible()
    expect(roster).to_contain_text("Gold")
    audit(page, "the manage page with a member, as the institute administrator")
    sign_out(page)

    # Everyone at the member organization sees member-only content; others do not.
    sign_in(page, MEMBER_EMAIL, PASSWORD)
    page.goto(f"/institutes/{SLUG}")
    expect(page.get_by_text(f"You are a member of {INSTITUTE}")).to_be_visible()
    expect(member_contacts(page)).to_be_visible()
    contacts = page.get_by_role("region", name="Member contacts")
    expect(contacts.get_by_role("rowheader", name=ORG)).to_be_visible()
    audit(page, "the institute's page, as a member")
    sign_out(page)

    sign_in(page, OUTSIDER_EMAIL, PASSWORD)
    page.goto(f"/institutes/{SLUG}")
    expect(page.get_by_role("region", name="Members", exact=True)).to_contain_text(ORG)  # the public roster
    expect(member_contacts(page)).to_have_count(0)
    expect(page.get_by_text(f"You are a member of {INSTITUTE}")).to_have_count(0)
    audit(page, "the institute's page, as someone outside any organization")
    sign_out(page)

    # A second application while the membership is active is refused on the form.
    sign_in(page, ORG_ADMIN_EMAIL, PASSWORD)
    page.goto(f"/institutes/{SLUG}/apply")
    page.get_by_label("Organization").select_option(label=ORG)
    choose(page, "Membership tier", "Platinum")
    page.get_by_label("Statement of interest").fill("And again.")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Apply", exact=True).click()
    assert answer.value.status == 409
    message = f"{ORG} already has an active membership at {INSTITUTE}"
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(page.locator("#organization-error")).to_contain_text(message)  # next to the Organization field
    audit(page, "the application form refused with 409")

    # Each notification also went out by mail, with a link to this server.
    applied = f"{ORG} applied for Gold membership of {INSTITUTE}."
    approved = f"{possessive(ORG)} application to {INSTITUTE} was approved."
    # the administrator who approved is not told of their own decision
    to_staff = [m.subject for m in live_server.mails_to(STAFF_EMAIL)]
    assert to_staff[0].startswith("You now administer") and to_staff[1:] == [applied]
    assert [m.subject for m in live_server.mails_to(ORG_ADMIN_EMAIL)] == [applied, approved]
    assert live_server.mails_to(MEMBER_EMAIL) == []
    assert membership_url in live_server.mails_to(STAFF_EMAIL)[-1].body
