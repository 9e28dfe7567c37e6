"""Invitations, open calls and review in a real browser: a colleague invited by address registers through the
link and is a member at once; axe-core and console checks on each new page."""

import re
from datetime import timedelta

import pytest

from portal.models import ProposalStatus
from tests import factories
from tests.e2e.test_journeys import PASSWORD, expect, heading, sign_in

pytestmark = pytest.mark.e2e

ORG = "Juniper Forge Works"
ADMIN_EMAIL = "morgan.lane@juniper.example"
NEWCOMER_EMAIL, NEWCOMER_NAME = "ira.cole@juniper.example", "Ira Cole"
REVIEWER_EMAIL = "quinn.north@university.example"


def make_world(app) -> None:
    """An organization with its admin; a member of an institute with an open call, and a proposal under review
    by a reviewer."""
    from portal.extensions import db
    from portal.services import proposals

    with app.app_context():
        factories.org_admin(app, factories.make_organization(app, name=ORG), email=ADMIN_EMAIL,
                            full_name="Morgan Lane", password=PASSWORD)
        institute = factories.make_institute(app, slug="browser-institute", acronym="BRI")
        tier = factories.make_tier(app, institute)
        lead_admin, lead = factories.org_admin(app, factories.make_organization(app, name="Lead Parts"),
                                               email="lead@leadparts.example", password=PASSWORD)
        factories.make_membership(app, lead, institute, tier)
        staff = factories.make_staff(app, institute, email="staff@bri.example", password=PASSWORD)
        call = factories.make_call(app, staff, institute, title="Browser-tested alloys",
                                   criteria=[("Merit", 40), ("Impact", 60)],
                                   closes_at=factories.utcnow() + timedelta(days=9))
        proposal = factories.make_proposal(app, lead_admin, call, lead, title="Lighter brackets",
                                           abstract="Brackets a third lighter.", technical_plan="Topology first.")
        proposals._move(staff, proposal, ProposalStatus.SUBMITTED, [ProposalStatus.DRAFT])
        reviewer = factories.make_user(app, email=REVIEWER_EMAIL, full_name="Quinn North", password=PASSWORD)
        proposals.assign_reviewer(staff, proposal, reviewer)
        db.session.commit()


def invitation_link(live_server, address: str) -> str:
    mails = live_server.mails_to(address)
    assert mails, f"no mail to {address}"
    match = re.search(r"https?://\S+/invitations/\S+", mails[-1].body)
    assert match, mails[-1].body
    return match.group(0)


def test_a_colleague_invited_by_address_registers_and_is_a_member_at_once(new_page, live_server, audit):
    make_world(live_server.app)
    admin = new_page()
    sign_in(admin, ADMIN_EMAIL, PASSWORD)
    admin.goto("/organizations/")
    admin.get_by_role("link", name=ORG).click()
    admin.get_by_role("link", name=re.compile("^Manage")).first.click()
    admin.get_by_role("link", name="Invite a colleague by email").click()
    expect(heading(admin, f"Invite colleagues to {ORG}")).to_be_visible()
    audit(admin, "the invitations page")
    admin.get_by_label("Their email address").fill("not an address")
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.get_by_role("alert")).to_contain_text("Enter an email address in the form name@example.com")
    audit(admin, "the invitations page with an error")
    admin.get_by_label("Their email address").fill(NEWCOMER_EMAIL)
    admin.get_by_label("A message for them (optional)").fill("Welcome aboard, Ira.")
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.get_by_role("status").filter(has_text=f"An invitation has been sent to {NEWCOMER_EMAIL}")
           ).to_be_visible()
    expect(admin.get_by_role("rowheader", name=NEWCOMER_EMAIL)).to_be_visible()

    newcomer = new_page()
    link = invitation_link(live_server, NEWCOMER_EMAIL)
    assert link.startswith(f"{live_server.url}/invitations/")
    newcomer.goto(link)
    expect(heading(newcomer, "Your invitation")).to_be_visible()
    expect(newcomer.get_by_role("main")).to_contain_text("Welcome aboard, Ira.")
    audit(newcomer, "the invitation page")
    newcomer.get_by_role("link", name="New here? Register to accept").click()
    expect(heading(newcomer, "Register to accept your invitation")).to_be_visible()
    audit(newcomer, "the registration through an invitation")
    newcomer.get_by_label("Full name").fill(NEWCOMER_NAME)
    newcomer.get_by_label("Password").fill("short")
    newcomer.get_by_role("button", name="Register and accept").click()
    expect(newcomer.get_by_role("alert")).to_be_visible()
    audit(newcomer, "the registration through an invitation with an error")
    newcomer.get_by_label("Full name").fill(NEWCOMER_NAME)
    newcomer.get_by_label("Password").fill("copper meadow quietly hums")
    newcomer.get_by_role("button", name="Register and accept").click()
    expect(newcomer.get_by_role("status").filter(has_text=f"you now join {ORG}")).to_be_visible()
    expect(newcomer.get_by_role("heading", level=1, name=ORG)).to_be_visible()
    expect(newcomer.get_by_role("navigation", name="Main")).to_contain_text(NEWCOMER_NAME)

    newcomer.goto(link)  # used once: the link no longer works
    expect(newcomer.get_by_role("main")).to_contain_text("not valid")

    admin.reload()
    expect(admin.get_by_role("rowheader", name=NEWCOMER_EMAIL)).to_have_count(0)


def test_open_calls_and_a_review_that_keeps_what_was_typed(new_page, live_server, audit):
    page = new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calls").click()
    expect(heading(page, "Open project calls across the network")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Browser-tested alloys")).to_be_visible()
    audit(page, "the open calls")
    page.locator("label[for=closing_soon]").click()  # USWDS hides the box itself
    page.get_by_role("button", name="Find calls").click()
    expect(page.get_by_role("heading", level=2, name="Browser-tested alloys")).to_be_visible()

    sign_in(page, REVIEWER_EMAIL, PASSWORD)
    page.goto("/notifications")
    page.get_by_role("link", name=re.compile("review “Lighter brackets”")).first.click()
    expect(heading(page, "Your review")).to_be_visible()
    expect(page.get_by_role("complementary")).to_contain_text("Brackets a third lighter.")
    audit(page, "the review page")
    page.get_by_label("Comment on merit").fill("Careful method, worth keeping")
    page.get_by_label("Comment on impact").fill("Big if it works")
    page.get_by_role("group", name="Merit").locator("label").filter(has_text="4").click()
    page.get_by_role("button", name="Submit the review").click()
    expect(page.get_by_role("alert")).to_contain_text("Score every criterion before submitting: Impact")
    expect(page.get_by_label("Comment on merit")).to_have_value("Careful method, worth keeping")
    expect(page.get_by_label("Comment on impact")).to_have_value("Big if it works")
    audit(page, "the review page with an error")
