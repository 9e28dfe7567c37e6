"""Checks the HTML of every page kind with the Nu HTML checker (validator.nu), signed out and in four roles.

Makes a fresh SQLite database with the demonstration network, gives its administrators the test
authenticator (as the browser tests do), starts gunicorn on a loopback port and, for each role, follows every
same-site link from the home page (GET only; no static files, downloads or sign-out), keeping the first page
of each kind (Flask endpoint), plus the page for an address that does not exist. The pages are written to a
temporary folder and checked in one run of vnu.jar (npm `vnu-jar` in frontend/; Java 11 or later). Prints the
page kinds, every error (file, line, message) and the totals; exits 1 on an error or a role it could not sign
in. Needs Java, Node.js and npm.
Run: .venv/bin/python tests/benchmarks/html_check.py [port]
"""

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pyotp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 5092
VNU = ROOT / "frontend" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
PASSWORD = "demonstration only 2026"
DOMAIN = "demo.example.org"
# role -> account of the demonstration network (None: signed out)
ROLES = {
    "signed out": None,
    "participant": f"participant1@{DOMAIN}",
    "organization admin": f"admin1@{DOMAIN}",
    "institute staff": f"receipts@{DOMAIN}",
    "network admin": f"network@{DOMAIN}",
}
NOT_PAGES = {"static", "auth.logout"}
DOWNLOADS = re.compile(r"\.(csv|zip|ics|atom|json|xlsx|pdf|txt|xml)$")
MAX_FETCHES = 400  # per role


class Links(HTMLParser):
    """The href of every link, and the value of every hidden csrf_token, in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.csrf = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if tag == "input" and values.get("name") == "csrf_token":
            self.csrf = values.get("value") or ""


def parse(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


class Browser:
    """Cookies and GET/POST against the server under test; 4xx pages are answered, not raised."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, url: str, data: dict[str, str] | None = None) -> tuple[str, str, str]:
        """(final URL, content type, body) of a GET, or of a POST of ``data``."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(urllib.parse.urljoin(self.base, url), data=body)
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            kind = response.headers.get("Content-Type", "").split(";")[0]
            text = response.read().decode("utf-8", "replace") if kind == "text/html" else ""
            return response.geturl(), kind, text

    def sign_in(self, email: str) -> None:
        """The password, then (for administrators) the test authenticator's code."""
        _, _, page = self.open("/login")
        url, _, page = self.open("/login", {"csrf_token": parse(page).csrf, "email": email, "password": PASSWORD})
        if url.endswith("/login/second-factor"):
            from tests.factories import TOTP_SECRET

            totp = pyotp.TOTP(TOTP_SECRET)
            for ahead in (0, 30):  # a code is accepted once: the next step's code if this one was used
                url, _, page = self.open("/login/second-factor",
                                         {"csrf_token": parse(page).csrf, "code": totp.at(time.time() + ahead)})
                if not url.endswith("/login/second-factor"):
                    break
        if "Signed in as" not in page:
            raise RuntimeError(f"could not sign in as {email} (ended at {url})")


def crawl(browser: Browser, endpoint_of) -> dict[str, tuple[str, str]]:
    """endpoint -> (URL, HTML) of the first page of each kind reachable from the home page."""
    pages: dict[str, tuple[str, str]] = {}
    done: set[str] = set()
    queue = [f"{browser.base}/"]
    fetches = 0
    while queue and fetches < MAX_FETCHES:
        url = queue.pop(0)
        endpoint = endpoint_of(url)
        if endpoint is None or endpoint in done or endpoint in NOT_PAGES or DOWNLOADS.search(url):
            continue
        done.add(endpoint)
        fetches += 1
        final, kind, html = browser.open(url)
        final_endpoint = endpoint_of(final)
        if kind != "text/html" or final_endpoint is None:
            continue
        done.add(final_endpoint)
        pages.setdefault(final_endpoint, (final, html))
        for href in parse(html).hrefs:
            target = urllib.parse.urljoin(final, href).split("#")[0]
            if endpoint_of(target) not in done:
                queue.append(target)
    _, kind, html = browser.open("/no-such-page")  # the error page, which no link leads to
    if kind == "text/html":
        pages["(page not found)"] = (f"{browser.base}/no-such-page", html)
    return pages


def check(files: list[Path]) -> list[dict]:
    """The errors vnu.jar reports for ``files`` (one run)."""
    result = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, files)],
                            capture_output=True, text=True, check=False)
    report = json.loads(result.stderr or result.stdout or '{"messages": []}')
    return [m for m in report["messages"] if m.get("type") in ("error", "non-document-error")]


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{work}/portal.db", "SECRET_KEY": "html-check-benchmark",
               "PORTAL_ENV": "development", "FLASK_APP": "wsgi"}
        env.pop("REDIS_URL", None)
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "PORTAL_ENV")})
        os.environ.pop("REDIS_URL", None)
        for command in (["db", "upgrade"], ["seed"], ["demo"]):
            subprocess.run([str(BIN / "flask"), *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        app = give_administrators_the_test_authenticator()
        if not VNU.exists():
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--silent"],
                           cwd=ROOT / "frontend", check=True)
        base = f"http://127.0.0.1:{PORT}"
        adapter = app.url_map.bind("127.0.0.1")

        def endpoint_of(url: str) -> str | None:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme != "http" or parts.netloc != f"127.0.0.1:{PORT}":
                return None
            try:
                endpoint, _ = adapter.match(parts.path, method="GET")
            except Exception:  # a 404, 405 or redirect: not a page kind
                return None
            return str(endpoint)

        server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{PORT}", "wsgi:app"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        files: list[Path] = []
        kinds: dict[str, list[str]] = {}
        not_covered: list[str] = []
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            for role, email in ROLES.items():
                browser = Browser(base)
                try:
                    if email:
                        browser.sign_in(email)
                except RuntimeError as error:
                    not_covered.append(f"{role}: {error}")
                    continue
                for endpoint, (_url, html) in crawl(browser, endpoint_of).items():
                    path = Path(work) / f"{role.replace(' ', '-')}--{endpoint}.html"
                    path.write_text(html, encoding="utf-8")
                    files.append(path)
                    kinds.setdefault(endpoint, []).append(role)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        errors = check(files)

    print(f"{'page kind':<44} roles")
    for endpoint in sorted(kinds):
        print(f"{endpoint:<44} {', '.join(kinds[endpoint])}")
    if errors:
        print("\nerrors (file:line: message)")
    for error in errors:
        name = urllib.parse.unquote(error.get("url", "")).rsplit("/", 1)[-1]
        print(f"{name}:{error.get('lastLine', '?')}: {error.get('message', '')}")
    for line in not_covered:
        print(f"not covered: {line}")
    print(f"\n{len(kinds)} page kinds, {len(files)} pages, {len(ROLES) - len(not_covered)} of {len(ROLES)} roles "
          f"({', '.join(r for r in ROLES if not any(n.startswith(r + ':') for n in not_covered))}); "
          f"Nu HTML checker errors: {len(errors)}")
    return 1 if errors or not_covered else 0


def give_administrators_the_test_authenticator():
    """Enrol every account that must use a second factor in the test authenticator; returns the app."""
    import sqlalchemy as sa

    from portal import create_app
    from portal.extensions import db
    from portal.models import User
    from portal.services import mfa
    from tests import factories

    app = create_app()
    with app.app_context():
        for user in db.session.scalars(sa.select(User)):
            if mfa.must_use(user):
                factories.give_second_factor(user)
        db.session.commit()
        db.engine.dispose()
    return app


if __name__ == "__main__":
    sys.exit(main())
