"""The personal home in a real browser: after a scenario is seeded through the services, each role signs in,
finds its pending task on the home page and acts on it from there; axe-core checks the home pages, the
notification choices and the audit log.
"""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.services.clock import today
from tests import factories
from tests.e2e.test_journeys import PASSWORD, choose, expect, heading, sign_in
from tests.e2e.test_memberships import sign_out

pytestmark = pytest.mark.e2e

SLUG, INSTITUTE = "america-makes", "America Makes"
ORG, NEWCO = "Juniper Aero Structures", "Cobalt Works"
NETWORK_ADMIN = "nia.network@portal.example"
ADA, ADA_NAME = "ada.admin@americamakes.example", "Ada Admin"
BEN, BEN_NAME = "ben.admin@americamakes.example", "Ben Admin"
OLGA = "olga.owner@juniper.example"
MO, MO_NAME = "mo.maker@juniper.example", "Mo Maker"
JO, JO_NAME = "jo.joiner@juniper.example", "Jo Joiner"
RAE = "rae.reviewer@review.example"
NEWCO_ADMIN = "cora.cobalt@cobalt.example"
DRAFT = {"abstract": "Lighter wing brackets.", "technical_plan": "Topology optimisation.",
         "technology_area": "Additive manufacturing", "trl_start": 4, "trl_target": 6, "mrl_start": 4,
         "mrl_target": 6, "duration_months": 12, "federal_request_cents": 300_000_00,
         "milestones": [(1, "Alloy trials", "Test report")]}


def seed(app) -> dict:
    """What waits for each person: a join request, a receipt to verify, an application to decide, a review
    to do, a milestone report due, institutes nobody administers."""
    from portal.extensions import db
    from portal.models import Institute, Membership, Tier, User
    from portal.services import accounts, ledger, organizations, proposals

    def get(email: str) -> User:
        return db.session.scalar(sa.select(User).where(User.email == email))

    with app.app_context():
        factories.give_second_factor(accounts.create_network_admin(NETWORK_ADMIN, PASSWORD))
        institute = db.session.scalar(sa.select(Institute).where(Institute.slug == SLUG))
        gold = db.session.scalar(sa.select(Tier).where(Tier.institute_id == institute.id, Tier.name == "Gold"))
        for email, name in ((ADA, ADA_NAME), (BEN, BEN_NAME)):
            factories.make_staff(app, institute, email=email, full_name=name, password=PASSWORD)
        olga, org = factories.org_admin(app, factories.make_organization(app, name=ORG), email=OLGA,
                                        full_name="Olga Owner", password=PASSWORD)
        factories.make_membership(app, org, institute, gold)
        mo = factories.make_user(app, email=MO, full_name=MO_NAME, password=PASSWORD)
        factories.affiliate(app, mo, org)
        joiner = factories.make_user(app, email=JO, full_name=JO_NAME, password=PASSWORD)
        organizations.join_or_create(joiner, organizations.OrganizationChoice(name=ORG))
        factories.make_user(app, email=RAE, full_name="Rae Reviewer", password=PASSWORD)
        factories.make_user(app, email="second.reviewer@review.example", full_name="Sam Second")
        # money: Olga pledges, Ben records a receipt, Ada verifies it
        pledge = factories.make_pledge(app, olga, org, institute, cents=500_000_00)
        ledger.record_receipt(get(BEN), pledge, amount_cents=125_000_00, received_on=today(), key=None)
        # a new organization applies
        cora, newco = factories.org_admin(app, factories.make_organization(app, name=NEWCO), email=NEWCO_ADMIN,
                                          full_name="Cora Cobalt", password=PASSWORD)
        from portal.services import memberships
        memberships.apply(cora, newco, institute, gold, statement="We cast parts.", contact_name="Cora",
                          contact_email=NEWCO_ADMIN)
        # proposals: one waits for Rae's review; one is a project whose milestone report is due
        call = factories.make_call(app, get(ADA), institute)
        waiting = factories.make_proposal(app, mo, call, org, title="Printed wing brackets", **DRAFT)
        proposals.submit(mo, waiting)
        proposals.assign_reviewer(get(ADA), waiting, get(RAE))
        project = factories.make_proposal(app, mo, call, org, title="Cold spray repair", **DRAFT)
        proposals.submit(mo, project)
        second = get("second.reviewer@review.example")
        review = proposals.assign_reviewer(get(ADA), project, second)
        proposals.save_review(second, review, {call.criteria[0].id: (4, "Good")}, final=True)
        proposals.decide(get(ADA), project, approve=True, note="Go ahead.")
        proposals.start_project(mo, project)
        project.milestones[0].due_on = today() + timedelta(days=10)
        db.session.commit()
        return {"pledge": pledge.id, "membership": db.session.scalar(
            sa.select(Membership.id).where(Membership.organization_id == newco.id)), "project": project.id}


def home_heading(page):
    return page.get_by_role("heading", level=1, name=re.compile("^Hello, "))


def task(page, heading_text: str):
    """The section of the home page for one kind of task."""
    return page.get_by_role("region", name=re.compile(f"^{re.escape(heading_text)}"))


def flash(page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def test_each_role_finds_its_task_at_home_and_acts_on_it(new_page, live_server, audit):
    ids = seed(live_server.app)
    page = new_page()

    # The organization's admin approves the person who asked to join.
    sign_in(page, OLGA, PASSWORD, home=True)
    expect(home_heading(page)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^\(\d+\) Home"))
    audit(page, "the home page of an organization admin")
    task(page, "Requests to join your organization").get_by_role(
        "link", name=f"{JO_NAME} asks to join {ORG}").click()
    page.get_by_role("button", name=f"Approve {JO_NAME}").click()
    expect(flash(page, JO_NAME)).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("^Home")).click()
    expect(task(page, "Requests to join your organization")).to_have_count(0)
    sign_out(page)

    # The member reports the milestone that falls due.
    sign_in(page, MO, PASSWORD, home=True)
    expect(page.get_by_role("table", name=re.compile("Proposals you wrote"))).to_contain_text("Printed wing brackets")
    audit(page, "the home page of a member")
    task(page, "Milestone reports due").get_by_role("link", name=re.compile("Report: “Alloy trials”")).click()
    page.get_by_role("button", name="Report done Alloy trials").click()
    expect(flash(page, "is reported done")).to_be_visible()
    page.goto("/")
    expect(task(page, "Milestone reports due")).to_have_count(0)
    sign_out(page)

    # The reviewer scores the proposal waiting for them.
    sign_in(page, RAE, PASSWORD, home=True)
    audit(page, "the home page of a reviewer")
    task(page, "Reviews to do").get_by_role("link", name="Review “Printed wing brackets”").click()
    expect(heading(page, "Your review")).to_be_visible()
    choose(page, "Merit", "4")
    page.get_by_role("button", name="Submit the review").click()
    expect(flash(page, "Your review has been submitted.")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("main")).to_contain_text("Nothing waits for you right now.")
    audit(page, "the home page with nothing waiting")
    sign_out(page)

    # The second institute administrator decides the application; the receipt they recorded is not theirs
    # to verify.
    sign_in(page, BEN, PASSWORD, home=True)
    audit(page, "the home page of an institute administrator")
    expect(task(page, "Receipts to verify")).to_have_count(0)
    task(page, "Membership applications to decide").get_by_role(
        "link", name=re.compile(f"Decide: {NEWCO} applies")).click()
    expect(page).to_have_url(re.compile(f"/memberships/{ids['membership']}"))
    page.get_by_role("form", name="Decide this application").get_by_role("button", name="Approve").click()
    expect(flash(page, "The application has been approved.")).to_be_visible()
    sign_out(page)

    # The first institute administrator verifies the receipt, then decides the proposal whose reviews are in.
    sign_in(page, ADA, PASSWORD, home=True)
    receipts = task(page, "Receipts to verify")
    expect(receipts).to_contain_text(f"Verify $125,000 from {ORG}")
    receipts.get_by_role("link", name=re.compile("^Verify \\$125,000")).click()
    expect(page).to_have_url(re.compile(f"/pledges/{ids['pledge']}"))
    page.get_by_role("button", name=re.compile("^Verify entry")).click()
    expect(flash(page, "The receipt has been verified.")).to_be_visible()
    page.goto("/")
    expect(task(page, "Receipts to verify")).to_have_count(0)
    task(page, "Proposals to decide").get_by_role("link", name="Decide: “Printed wing brackets”").click()
    decide = page.get_by_role("form", name="Decide, or return to the team")
    decide.get_by_role("textbox").fill("A strong team.")
    decide.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("main").locator(".usa-tag").first).to_have_text("Approved")
    sign_out(page)

    # The network administrator gives an institute nobody administers its first administrator.
    sign_in(page, NETWORK_ADMIN, PASSWORD, home=True)
    unstaffed = task(page, "Institutes without an administrator")
    before = unstaffed.get_by_role("listitem").count()
    audit(page, "the home page of a network administrator")
    first = unstaffed.get_by_role("link").first
    acronym = first.inner_text().removeprefix("Add an administrator to ")
    first.click()
    page.get_by_label("Email address of the new administrator").fill(RAE)
    page.get_by_role("button", name="Add administrator").click()
    expect(flash(page, f"now administers {acronym}")).to_be_visible()
    page.goto("/")
    expect(task(page, "Institutes without an administrator").get_by_role("listitem")).to_have_count(before - 1)

    # The network's audit log, in words, filtered by kind.
    page.goto("/audit?kind=ledger")
    expect(heading(page, "Network audit log")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"verified a receipt of $125,000 on {ORG}")
    audit(page, "the network audit log filtered by kind")
    page.goto("/audit?since=2030-01-01&until=2020-01-01")
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    audit(page, "the audit log refusing dates that make no sense")

    # Each person chooses how they are told.
    page.goto("/account#notification-preferences")
    choose(page, "Co-investment: pledges, receipts, verifications, cancellations, installments", "Daily digest")
    page.get_by_role("button", name="Save choices").click()
    expect(flash(page, "Your choices for notifications have been saved.")).to_be_visible()
    audit(page, "the account page with notification choices")


def test_a_new_organization_is_told_to_apply_and_the_home_fits_a_phone(new_page, live_server, audit):
    factories.org_admin(live_server.app, factories.make_organization(live_server.app, name="Fresh Forge"),
                        email="fresh@forge.example", password=PASSWORD)
    page = new_page(viewport={"width": 320, "height": 640})
    sign_in(page, "fresh@forge.example", PASSWORD, home=True)
    expect(page.get_by_role("link", name="Apply to an institute")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    audit(page, "the home page of a new organization at 320 px")
