"""Browser fixtures: a live portal on 127.0.0.1, Debian's Chromium through Playwright, and axe-core.

The server is the real app (CSRF on, rate limits off) on a SQLite file, served by werkzeug from a
background thread for each test module. Every page a test looks at goes through ``audit_page``:
axe-core (vendored in ``vendor/``) checks it against WCAG 2.0/2.1/2.2 A and AA, and the page must not
have logged a JavaScript error or a Content-Security-Policy violation.

Without Playwright or /usr/bin/chromium the tests skip, or fail under REQUIRE_SERVICES=1.
"""

import json
import re
import textwrap
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import require_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
AXE_PATH = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def sync_playwright_api():
    """Playwright's sync API, or a skip (a failure under REQUIRE_SERVICES=1) if it cannot run here."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        require_service("Playwright", f"the playwright package cannot be imported ({exc})")
    if not CHROMIUM.exists():
        require_service("Chromium", f"{CHROMIUM} does not exist (apt-get install chromium)")
    return sync_playwright


@pytest.fixture(scope="module")
def browser(sync_playwright_api):
    with sync_playwright_api() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class LiveServer:
    app: object
    url: str

    def mails_to(self, address: str) -> list:
        """Messages queued for ``address``, oldest first, read in an app context of our own."""
        from portal.extensions import db
        from portal.models import OutboxMessage

        with self.app.app_context():
            messages = list(db.session.scalars(
                sa.select(OutboxMessage).where(OutboxMessage.to_address == address)
                .order_by(OutboxMessage.id)
            ))
            db.session.expunge_all()
            return messages

    def verification_link(self, address: str) -> str:
        """The link in the latest verification mail to ``address``; it must point at this server."""
        mails = [m for m in self.mails_to(address) if m.subject == "Confirm your email address"]
        assert mails, f"no verification mail to {address}; outbox for it: {self.mails_to(address)}"
        match = re.search(r"https?://\S+/verify-email/\S+", mails[-1].body)
        assert match, f"no /verify-email/ link in: {mails[-1].body}"
        assert match.group(0).startswith(f"{self.url}/verify-email/"), match.group(0)
        return match.group(0)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The portal, seeded with the institutes and their membership tiers, served on a free port
    while a test module runs.

    Module scope: the server thread and the browser end before the rest of the suite runs.
    """
    from werkzeug.serving import make_server

    from portal import create_app
    from portal.extensions import db
    from portal.services import institutes, memberships

    database = tmp_path_factory.mktemp("e2e") / "e2e.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                     WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
        institutes.seed(institutes.seed_records())
        memberships.seed_tiers(json.loads(
            resources.files("portal").joinpath("data/tiers.json").read_text("utf-8")))
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE_PATH.read_text(encoding="utf-8")


@dataclass
class Problems:
    """Console errors and uncaught exceptions a page reported since the last check."""

    entries: list[str] = field(default_factory=list)

    def take(self) -> list[str]:
        entries, self.entries = self.entries, []
        return entries


def watch(page) -> Problems:
    """Record console errors (CSP violations among them) and uncaught exceptions on ``page``."""
    problems = Problems()
    documents_4xx = set()  # pages answered 4xx on purpose, such as a form with errors (422)

    def on_response(response):
        if response.request.resource_type == "document" and response.frame == page.main_frame:
            if response.status >= 500:
                problems.entries.append(f"server error {response.status} for {response.url}")
            elif response.status >= 400:
                documents_4xx.add(response.url)

    def on_console(message):
        if message.type != "error":
            return
        url = (message.location or {}).get("url") or page.url
        if message.text.startswith("Failed to load resource") and url in documents_4xx:
            return  # Chromium logs every 4xx page; the test checks what such a page shows
        problems.entries.append(f"console error at {url}: {message.text}")

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.entries.append(f"uncaught exception on {page.url}: {error}"))
    return problems


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a fresh browser context (its own cookies): ``new_page(**context_options)``.

    Each page records console errors; every context is closed afterwards, and any problem recorded
    but not yet checked fails the test.
    """
    opened = []

    def open_page(**options):
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.problems = watch(page)
        opened.append((context, page))
        return page

    yield open_page
    leftover = []
    for context, page in opened:
        leftover += page.problems.take()
        context.close()
    assert not leftover, "\n".join(leftover)


def inject_axe(page, axe_source: str) -> None:
    """Load axe-core into the page through CDP evaluation, which the page's CSP does not govern."""
    if page.evaluate("() => typeof window.axe") != "object":
        page.evaluate(axe_source + "\n;undefined")
    version = page.evaluate("() => window.axe && window.axe.version")
    assert version, "axe-core did not load into the page"


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"    target {' '.join(node['target'])}: {node['html'][:300]}")
            lines.append(textwrap.indent(node["summary"], "      "))
    return "\n".join(lines)


def audit_page(page, axe_source: str, what: str) -> None:
    """Fail unless ``page`` passes axe-core's WCAG A/AA rules and logged no error since the last audit."""
    page.wait_for_load_state("load")
    inject_axe(page, axe_source)
    violations = page.evaluate(
        """async (tags) => {
            const results = await window.axe.run(document, {runOnly: {type: "tag", values: tags}});
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({
                    target: n.target.map(String), html: n.html,
                    summary: n.failureSummary || "",
                })),
            }));
        }""",
        AXE_TAGS,
    )
    assert not violations, (
        f"axe-core found accessibility violations on {what} ({page.url}):\n{format_violations(violations)}"
    )
    problems = page.problems.take()
    assert not problems, f"errors logged on {what} ({page.url}):\n" + "\n".join(problems)


@pytest.fixture
def audit(axe_source):
    """``audit(page, "what it is")``: axe-core and console checks on the page as it is now."""
    return lambda page, what: audit_page(page, axe_source, what)
