"""The USWDS pieces in a browser: the mobile menu at 320 px with and without JavaScript, the official
banner, and the accessibility statement and privacy page passing axe."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

NARROW = {"width": 320, "height": 640}


def test_the_menu_opens_at_320_px_with_javascript(new_page, live_server, audit):
    page = new_page(viewport=NARROW)
    page.goto("/")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Institutes")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(navigation.get_by_role("link", name="Institutes")).to_be_visible()
    audit(page, "the open mobile menu")
    navigation.get_by_role("button", name="Close").click()
    expect(navigation.get_by_role("link", name="Institutes")).to_be_hidden()


def test_the_navigation_is_reachable_at_320_px_without_javascript(new_page, live_server):
    page = new_page(viewport=NARROW, java_script_enabled=False)
    page.goto("/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    navigation = page.get_by_role("navigation", name="Main")
    for name in ("Home", "Institutes", "Snapshot", "Sign in", "Register"):
        expect(navigation.get_by_role("link", name=name)).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= NARROW["width"]
    navigation.get_by_role("link", name="Institutes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Institutes")


@pytest.mark.parametrize("path, heading", [("/accessibility", "Accessibility statement"),
                                           ("/privacy", "Privacy policy")])
@pytest.mark.parametrize("width", [320, 1280])
def test_the_new_pages_pass_axe(new_page, live_server, audit, path, heading, width):
    page = new_page(viewport={"width": width, "height": 800})
    page.goto(path)
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    expect(page.get_by_role("navigation", name="Important links").get_by_role("link", name=heading)).to_be_visible()
    audit(page, heading)


def test_an_official_deployment_shows_the_banner(new_page, live_server, audit):
    live_server.app.config["OFFICIAL_SITE"] = True
    try:
        page = new_page(viewport=NARROW)
        page.goto("/institutes/")
        banner = page.get_by_role("region", name="Official website of the United States government")
        expect(banner).to_contain_text("An official website of the United States government")
        banner.get_by_role("button", name="Here\u2019s how you know").click()
        expect(banner).to_contain_text("Official websites use .gov")
        audit(page, "the official banner, opened")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= NARROW["width"]
    finally:
        live_server.app.config["OFFICIAL_SITE"] = False


def test_after_a_failed_submit_focus_is_on_the_error_summary(new_page, live_server, audit):
    page = new_page()
    page.goto("/register")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page).to_have_title(re.compile(r"^Error: Register"))
    summary = page.locator(".portal-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    audit(page, "the registration form with errors")


def test_without_javascript_a_skip_link_leads_to_the_error_summary(new_page, live_server):
    page = new_page(java_script_enabled=False)
    page.goto("/register")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the errors in the form")
    expect(skip).to_be_focused()
    skip.press("Enter")
    expect(page.locator(".portal-error-summary")).to_be_focused()
