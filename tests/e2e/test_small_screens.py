"""At 320 CSS pixels (a small phone, or 400% zoom) every page kind fits: the page itself never scrolls
sideways, the navigation is reachable with and without JavaScript, and the new pages pass axe.

The crawl starts from the home page signed out, as an institute administrator and as a network
administrator, on the seeded institutes with the demonstration network loaded, and follows every link to
a page of a kind (an endpoint) it has not seen yet.
"""

from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from tests import factories
from tests.e2e.test_journeys import sign_in

pytestmark = pytest.mark.e2e

NARROW = {"width": 320, "height": 640}
PASSWORD = "demonstration only 2026"
NOT_PAGES = ("static", "auth.logout")  # files and actions, not pages to look at
MAX_PAGES = 80


@pytest.fixture(scope="module")
def demo_server(live_server):
    from portal.extensions import db
    from portal.models import User
    from portal.services import demo, mfa

    with live_server.app.app_context():
        demo.load(PASSWORD)
        for user in db.session.scalars(sa.select(User)):
            if mfa.must_use(user):  # administrators have the test authenticator, which sign_in answers
                factories.give_second_factor(user)
        db.session.commit()
    return live_server


def endpoint_of(app, url: str) -> str | None:
    """The endpoint a same-site URL is served by, or None for another site or a missing page."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "") or (parts.netloc and parts.netloc != urlsplit(app.url).netloc):
        return None
    try:
        endpoint, _ = app.app.url_map.bind("localhost").match(parts.path, method="GET")
    except Exception:  # a 404 or 405: not a page kind
        return None
    return endpoint


def crawl(page, server) -> tuple[dict[str, str], list[str]]:
    """Every page kind reachable by links from the home page (endpoint -> the first URL seen for it), and
    those wider than the window."""
    seen: dict[str, str] = {}
    wide: list[str] = []
    queue = [f"{server.url}/"]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        endpoint = endpoint_of(server, url)
        if endpoint is None or endpoint in seen or endpoint in NOT_PAGES:
            continue
        kind = page.request.head(url).headers.get("content-type", "").split(";")[0]
        if kind != "text/html":
            seen[endpoint] = ""  # an export or a file: not a page
            continue
        page.goto(url)
        seen[endpoint] = url
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > NARROW["width"]:
            wide.append(f"{endpoint} ({url}) is {width} px wide")
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urljoin(url, href).split("#")[0]
            if endpoint_of(server, target) not in seen:
                queue.append(target)
    return {endpoint: url for endpoint, url in seen.items() if url}, wide


@pytest.mark.parametrize("who", [None, "receipts@demo.example.org", "network@demo.example.org"],
                         ids=["signed-out", "institute-admin", "network-admin"])
def test_no_page_scrolls_sideways_at_320_px(new_page, demo_server, who):
    page = new_page(viewport=NARROW)
    if who:
        page.goto("/login")
        sign_in(page, who, PASSWORD)
    visited, wide = crawl(page, demo_server)
    assert not wide, "pages that scroll sideways at 320 px:\n" + "\n".join(wide)
    assert "institutes.detail" in visited and "snapshot.page" in visited and "main.privacy" in visited
    if who == "network@demo.example.org":
        assert "ledger.match" in visited
    if who == "receipts@demo.example.org":
        assert "institute_admin.manage" in visited
    problems = [p for p in page.problems.take() if "/favicon.ico" not in p]  # the favicon of a JSON file
    assert not problems, "\n".join(problems)
