"""A personal access token made on the account page in a real browser: the form, the page that shows the
token once, and the list it then appears in; axe-core and console checks on each."""

import re

import pytest

from tests import factories
from tests.e2e.test_journeys import PASSWORD, answer_second_factor, choose, expect, heading

pytestmark = pytest.mark.e2e

OWNER = "crm.owner@granite-forge.example"


def test_a_token_is_made_shown_once_and_listed(new_page, live_server, audit):
    factories.make_user(live_server.app, email=OWNER, password=PASSWORD, second_factor=True)
    page = new_page()
    page.goto("/login")
    page.get_by_label("Email address").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    answer_second_factor(page)
    page.goto("/account#tokens-heading")
    expect(heading(page, "Your account")).to_be_visible()
    audit(page, "the account page with its tokens")
    page.get_by_label("Name of the token").fill("Membership CRM")
    choose(page, "What it may do", "Read and make changes")
    page.get_by_role("button", name="Make the token").click()
    expect(heading(page, "Your new token")).to_be_visible()
    expect(page.locator("#token-secret")).to_contain_text(re.compile(r"mfgp_[A-Za-z0-9_-]{43}"))
    audit(page, "the page showing a new token")
    page.get_by_role("link", name="I have kept it: go to my account").click()
    expect(page.locator("#api-tokens")).to_contain_text("Membership CRM")
    expect(page.locator("#api-tokens")).not_to_contain_text(re.compile(r"mfgp_[A-Za-z0-9_-]{43}"))
