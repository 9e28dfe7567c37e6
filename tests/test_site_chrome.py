"""What every page carries as a federal site: the official banner only where the deployment says so, the
USWDS header, the identifier with the operator and its required links, the accessibility statement, the
privacy page and a meta description."""

import re

import pytest

from tests.conftest import login
from tests.factories import make_user

BANNER = "An official website of the United States government"


def description(html: str) -> str:
    match = re.search(r'<meta name="description" content="([^"]+)">', html)
    assert match, "the page has no meta description"
    return match.group(1)


def test_no_official_banner_by_default(client):
    html = client.get("/").get_data(as_text=True)
    assert BANNER not in html
    assert "usa-banner" not in html
    assert "Visit USA.gov" not in html
    assert "Operated by" in html and "the Manufacturing Innovation Network" in html


def test_an_official_deployment_shows_the_banner_and_says_whose_site_it_is(make_app):
    app = make_app(OFFICIAL_SITE=True, OPERATOR_NAME="National Institute of Standards and Technology",
                   OPERATOR_URL="https://www.nist.gov/")
    html = app.test_client().get("/institutes/").get_data(as_text=True)
    assert html.count(BANNER) == 1
    assert 'class="usa-banner"' in html
    assert ('An official website of\n          <a href="https://www.nist.gov/">National Institute of Standards '
            'and Technology</a>') in html
    assert 'href="https://www.usa.gov/"' in html


def test_the_official_flag_is_read_from_the_environment(monkeypatch):
    from config import env_flag

    monkeypatch.delenv("OFFICIAL_SITE", raising=False)
    assert env_flag("OFFICIAL_SITE") is False
    monkeypatch.setenv("OFFICIAL_SITE", "1")
    assert env_flag("OFFICIAL_SITE") is True


def required_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="usa-identifier__section usa-identifier__section--required-links".*?</nav>',
                    html, re.DOTALL)
    assert nav, "the page has no identifier with required links"
    return re.findall(r'<a href="[^"]*" class="usa-identifier__required-link usa-link">([^<]+)</a>', nav.group(0))


def test_the_identifier_links_only_what_is_configured(make_app):
    bare = make_app().test_client().get("/").get_data(as_text=True)
    assert required_links(bare) == ["Accessibility statement", "Privacy policy"]

    full = make_app(OPERATOR_NAME="Example Agency", OPERATOR_URL="https://agency.example.gov/",
                    FOIA_URL="https://agency.example.gov/foia", NO_FEAR_URL="https://agency.example.gov/nofear",
                    SECURITY_CONTACT="security@agency.example.gov").test_client().get("/").get_data(as_text=True)
    assert required_links(full) == ["About Example Agency", "Accessibility statement", "Privacy policy",
                                    "FOIA requests", "No FEAR Act data", "Report a security problem"]
    assert 'href="https://agency.example.gov/foia"' in full
    assert 'href="mailto:security@agency.example.gov"' in full


def test_the_header_is_the_uswds_header_with_its_menu_button(client):
    html = client.get("/").get_data(as_text=True)
    assert '<header class="usa-header usa-header--basic">' in html
    assert '<button type="button" class="usa-menu-btn">Menu</button>' in html
    assert '<nav aria-label="Main" class="usa-nav">' in html
    assert 'src="/static/js/portal.js"' in html  # marks the page as running JavaScript, for the no-JS menu


def test_accessibility_and_privacy_pages(make_app):
    app = make_app(CONTACT_EMAIL="help@agency.example.gov", SECURITY_CONTACT="security@agency.example.gov")
    client = app.test_client()
    statement = client.get("/accessibility")
    assert statement.status_code == 200
    text = statement.get_data(as_text=True)
    assert "<h1>Accessibility statement</h1>" in text and "WCAG 2.2" in text and "Section 508" in text
    assert 'href="mailto:help@agency.example.gov"' in text
    privacy = client.get("/privacy")
    assert privacy.status_code == 200
    text = privacy.get_data(as_text=True)
    for stored in ("Your account", "Your organizations", "The audit log", "mail outbox"):
        assert stored in text
    assert "one cookie: the session cookie" in text
    assert 'href="mailto:security@agency.example.gov"' in text


def test_the_privacy_page_names_the_only_cookie_the_portal_sets(app, client):
    """The page promises one cookie: signing in must set no other."""

    make_user(app, email="cookie@example.org")
    response = login(client, "cookie@example.org")
    names = {header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")}
    assert names == {app.config["SESSION_COOKIE_NAME"]}


@pytest.mark.parametrize("path", ["/", "/institutes/", "/snapshot", "/login", "/register", "/accessibility",
                                  "/privacy", "/organizations/", "/no-such-page"])
def test_every_page_has_a_meta_description(client, path):
    assert len(description(client.get(path).get_data(as_text=True))) > 40


def test_pages_describe_themselves(client):
    assert description(client.get("/accessibility").get_data(as_text=True)).startswith("How the")
    assert description(client.get("/privacy").get_data(as_text=True)).startswith("What the")
