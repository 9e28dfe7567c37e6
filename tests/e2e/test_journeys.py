"""Journeys through the portal in a real browser, with axe-core and console checks on every page.

Locators are by role and label, as a screen reader user finds things, so they also check that every
field has its label and every button its name.
"""

import re
import time

import pyotp
import pytest

from portal.services import institutes
from tests.e2e.conftest import AXE_PATH, inject_axe
from tests.factories import TOTP_SECRET

pytestmark = pytest.mark.e2e

PASSWORD = "plain brass lantern moves"  # 12+ characters, not a common password
ALL_INSTITUTES = f"{len(institutes.seed_records())} institutes."


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect(*args, **kwargs)


def heading(page, name: str):
    return page.get_by_role("heading", level=1, name=name)


def fill_about_you(page, *, full_name: str, email: str, password: str) -> None:
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)


def open_verification_link(page, live_server, email: str, audit=None) -> None:
    """Open the link from the outbox, press the button and land on the sign-in page."""
    page.goto(live_server.verification_link(email))
    expect(heading(page, "Confirm your email address")).to_be_visible()
    if audit:
        audit(page, "the email confirmation page")
    page.get_by_role("button", name="Confirm my email address").click()
    expect(heading(page, "Sign in")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Your email address is confirmed")).to_be_visible()


def sign_in(page, email: str, password: str, audit=None, *, home: bool = False) -> None:
    """Sign in through the form (and the second step when asked); then, unless ``home``, open the account page."""
    if not page.url.endswith("/login"):
        page.goto("/login")
    expect(heading(page, "Sign in")).to_be_visible()
    if audit:
        audit(page, "the sign-in page")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    answer_second_factor(page)
    expect(page.get_by_role("status").filter(has_text=f"Signed in as {email}")).to_be_visible()
    if home:  # signing in lands on the personal home
        return
    page.goto("/account")  # the header's link is behind the menu button on small screens
    expect(heading(page, "Your account")).to_be_visible()


def answer_second_factor(page) -> None:
    """Once the password was sent: if the portal asks for the second factor, answer with the test
    authenticator (TOTP_SECRET), then land on the personal home.

    A code is accepted once, so when this step's code was used already the next step's is given (the
    portal accepts the codes of the steps either side of now)."""
    expect(page.get_by_role("heading", level=1, name=re.compile("^(Hello, .+|Second step of signing in)$"))
           ).to_be_visible()
    if heading(page, "Second step of signing in").count() == 0:
        return
    totp = pyotp.TOTP(TOTP_SECRET)
    for ahead in (0, 30):
        page.get_by_label("Code").fill(totp.at(time.time() + ahead))
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()
        if page.get_by_role("heading", level=1, name=re.compile("^Hello, ")).count():
            return
    raise AssertionError("the test authenticator's codes were refused")


def choose(page, group: str, option) -> None:
    """Pick a radio button by clicking its label, as people do (USWDS hides the input itself)."""
    fieldset = page.get_by_role("group", name=group, exact=True)
    fieldset.locator("label").filter(has_text=option).click()
    expect(fieldset.get_by_role("radio", name=option)).to_be_checked()


def organization_row(page, organization: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=organization))


def test_register_verify_sign_in_and_approve_a_colleague(new_page, live_server, audit):
    org = "Cobalt Ridge Fabrication"
    first_email, first_name = "dana.ortiz@cobalt-ridge.example", "Dana Ortiz"
    second_email, second_name = "sam.lee@cobalt-ridge.example", "Sam Lee"

    # Public pages.
    first = new_page()
    first.goto("/")
    expect(heading(first, "The national network of manufacturing innovation institutes")).to_be_visible()
    audit(first, "the home page")

    first.get_by_role("navigation", name="Main").get_by_role("link", name="Institutes").click()
    expect(heading(first, "Institutes")).to_be_visible()
    expect(first.get_by_role("status")).to_have_text(ALL_INSTITUTES)
    audit(first, "the institute directory")

    first.get_by_role("link", name="America Makes").click()
    expect(heading(first, re.compile("additive manufacturing", re.I))).to_be_visible()
    audit(first, "an institute's page")

    # Registration: an empty form first, to see the errors.
    first.get_by_role("navigation", name="Main").get_by_role("link", name="Register").click()
    expect(heading(first, "Register")).to_be_visible()
    audit(first, "the registration form")

    first.get_by_role("button", name="Register", exact=True).click()
    summary = first.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link", name="Enter your full name")).to_be_visible()
    expect(first.get_by_label("Full name")).to_have_attribute("aria-invalid", "true")
    audit(first, "the registration form with errors")

    fill_about_you(first, full_name=first_name, email=first_email, password=PASSWORD)
    first.get_by_label("Organization").fill(org)
    choose(first, "Sector", "Industry")
    choose(first, "Size", re.compile("^Small"))
    first.get_by_label("State or territory").select_option(label="Ohio")
    first.get_by_role("button", name="Register", exact=True).click()
    expect(heading(first, "Check your email")).to_be_visible()
    audit(first, "the check-your-email page")

    open_verification_link(first, live_server, first_email, audit=audit)
    audit(first, "the sign-in page after confirming")
    sign_in(first, first_email, PASSWORD)
    expect(organization_row(first, org)).to_contain_text("Admin")
    expect(organization_row(first, org)).to_contain_text("Active")
    audit(first, "the account page")

    first.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(first.get_by_role("status").filter(has_text="You have signed out")).to_be_visible()
    expect(first.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    audit(first, "the home page after signing out")

    first.get_by_role("banner").get_by_role("link", name="Sign in").click()
    sign_in(first, first_email, PASSWORD, audit=audit)

    # A colleague joins the same organization, typing its name differently.
    second = new_page()
    second.goto("/register")
    fill_about_you(second, full_name=second_name, email=second_email, password=PASSWORD)
    second.get_by_label("Organization").fill("  cobalt   RIDGE fabrication ")
    second.get_by_role("button", name="Register", exact=True).click()
    expect(heading(second, "Check your email")).to_be_visible()
    open_verification_link(second, live_server, second_email)
    sign_in(second, second_email, PASSWORD)
    expect(organization_row(second, org)).to_contain_text("Member")
    expect(organization_row(second, org)).to_contain_text("Waiting for approval")
    audit(second, "the account page of someone waiting for approval")

    # The first user, on another computer, approves the request.
    admin = new_page()
    sign_in(admin, first_email, PASSWORD)
    organization_row(admin, org).get_by_role("link", name=org, exact=True).click()
    expect(heading(admin, org)).to_be_visible()
    audit(admin, "the organization's page")

    admin.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("^Account")).click()
    admin.get_by_role("link", name=f"Manage {org}").click()
    expect(heading(admin, f"Manage {org}")).to_be_visible()
    requests = admin.get_by_role("table", name="Requests to join, oldest first")
    expect(requests.get_by_role("rowheader", name=second_name)).to_be_visible()
    audit(admin, "the organization's manage page with a request")

    requests.get_by_role("button", name=f"Approve {second_name}").click()
    expect(admin.get_by_role("status").filter(has_text=f"You approved {second_name}")).to_be_visible()
    expect(admin.get_by_text("No one is waiting to join.")).to_be_visible()
    members = admin.get_by_role("table", name="Members")
    expect(members.get_by_role("rowheader", name=second_name)).to_be_visible()
    audit(admin, "the organization's manage page after approving")

    second.reload()
    expect(organization_row(second, org)).to_contain_text("Active")
    expect(organization_row(second, org)).not_to_contain_text("Waiting for approval")
    audit(second, "the account page of an approved member")

    assert [m.subject for m in live_server.mails_to(first_email)] == [
        "Confirm your email address", f"{second_name} asks to join {org}"]
    assert [m.subject for m in live_server.mails_to(second_email)] == [
        "Confirm your email address", f"Your request to join {org} was approved"]


def test_sign_in_and_search_institutes_without_javascript(new_page, live_server):
    email = "no.script@bluefin-labs.example"
    page = new_page(java_script_enabled=False)

    page.goto("/register")
    fill_about_you(page, full_name="Robin Noscript", email=email, password=PASSWORD)
    page.get_by_label("Organization").fill("Bluefin Labs")
    choose(page, "Sector", "Academic")
    page.get_by_label("State or territory").select_option(label="Maryland")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(heading(page, "Check your email")).to_be_visible()
    open_verification_link(page, live_server, email)
    sign_in(page, email, PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Institutes").click()
    expect(page.get_by_role("status")).to_have_text(ALL_INSTITUTES)
    search = page.get_by_role("search", name="Institutes")
    search.get_by_label("Search").fill("photonics")
    search.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/institutes/\?(.*&)?q=photonics"))
    expect(page.get_by_role("status")).to_have_text("1 institute matches your search.")
    expect(page.get_by_role("link", name="AIM Photonics")).to_be_visible()
    expect(page.get_by_role("link", name="America Makes")).to_have_count(0)
    expect(page.get_by_role("search").get_by_label("Search")).to_have_value("photonics")


def test_axe_loads_under_the_csp_and_reports_violations(new_page, axe_source):
    """The audits mean something: axe runs despite the CSP, and it does find a planted violation."""
    page = new_page()
    response = page.goto("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp

    inject_axe(page, axe_source)
    version = page.evaluate("() => window.axe.version")
    assert f"axe v{version}" in AXE_PATH.read_text(encoding="utf-8")[:200]

    page.evaluate("""() => {
        const image = document.createElement("img");
        image.src = "/static/vendor/uswds/img/usa-icons/info.svg";
        document.querySelector("main").append(image);
    }""")
    ids = page.evaluate("""async () => (await window.axe.run(document, {runOnly: ["image-alt"]}))
                            .violations.map((v) => v.id)""")
    assert ids == ["image-alt"]

    # An inline script is refused, and the refusal is reported on the console, where audits look.
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("""() => {
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.body.append(script);
        }""")
    assert page.evaluate("() => window.inlineRan === undefined")
    problems = page.problems.take()
    assert any("Content Security Policy" in problem for problem in problems), problems
