"""A load test with faults on the production layout: simulated people (locust, headless, in this process)
against nginx and three app servers on the loopback, killing an app server and later the job worker partway.

    .venv/bin/python tests/benchmarks/load.py --scale small --users 20 --seconds 30      # CI: a fresh database
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/COPY_OF_LARGE REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python tests/benchmarks/load.py --scale large --users 200 --seconds 300

It brings the layout up with deploy/local.py (in a folder and on ports of its own), and stops exactly what it
started at the end. ``--scale small`` without DATABASE_URL makes a fresh database, loads ``flask demo --scale
small`` into it and drops it afterwards; with DATABASE_URL it uses that database, which must hold the synthetic
network of ``--scale`` (it writes into it: pledges, receipts, decisions, scores; use a copy). The synthetic
accounts it signs in get the network's known authenticator secret encrypted again under the layout's key.

The mix (weights): public readers of the snapshot, the directory, calls, programs and projects (40); members,
administrators of member organizations, browsing their organization, its ledger and projects and pledging (35);
institute staff opening their manage page and ledger, recording receipts on their pledges and deciding
membership applications (15); reviewers opening and scoring their reviews (10). Each waits a few seconds
between pages, as a person reads.

At ``--kill-at`` seconds it kills app server 2 (SIGKILL to its process group) and starts it again 10 s later;
at ``--worker-kill-at`` it kills the job worker the same way and starts it again 10 s later. It prints the
median, 95th and 99th percentile per route, the errors (a request whose last try nginx's access log puts on the
killed server counts as that server's in-flight loss, apart from the others) and the throughput; then runs
``flask ledger verify`` and checks that each pledge and receipt the people saw acknowledged (a redirect to the
pledge) is in the ledger exactly once under its one-time key. Exit status 1 when any of these fails.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402  (gevent must patch first)
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import date  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import ClassVar  # noqa: E402

import gevent  # noqa: E402
from locust import HttpUser, between, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))
sys.path.insert(0, str(ROOT))
import local  # noqa: E402

KILLED_APP = "app2"
RESTART_AFTER = 10.0


# What the people do --------------------------------------------------------------------------------------

BUTTONS_AND_BOXES = ("submit", "button", "checkbox", "radio")  # sent only when pressed or checked


class Forms(HTMLParser):
    """The forms of a page: action -> the fields a browser would send as they stand (hidden ones, the selected
    option, the checked radio, text areas), without buttons."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._form: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = self.forms.setdefault(a.get("action", ""), {})
        elif self._form is None:
            return
        elif tag == "input" and a.get("name") and (a.get("type") not in BUTTONS_AND_BOXES or "checked" in a):
            self._form[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and (self._select not in self._form or "selected" in a):
            self._form[self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form[a["name"]] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


class Person(HttpUser):
    abstract = True
    wait_time = between(2, 8)
    pool: ClassVar[list[dict]] = []  # accounts to sign in as, one per simulated person; filled by main()
    seed = 2026
    account: dict | None = None

    def on_start(self):
        if type(self).pool:
            self.account = type(self).pool.pop()
            self.sign_in()

    def get(self, path: str, name: str | None = None):
        return self.plain(self.client.get(path, name=name or path, allow_redirects=False, timeout=120))

    def post(self, path: str, data: dict[str, str], name: str):
        return self.plain(self.client.post(path, data=data, name=name, allow_redirects=False, timeout=120))

    def plain(self, response):
        """Production cookies are Secure (``__Host-``), which a client sends over HTTPS only; this one talks
        plain HTTP to the loopback, so it keeps them as plain cookies."""
        for cookie in self.client.cookies:
            cookie.secure = False
        return response

    def submit(self, page: str, action: str, name: str, values: dict[str, str]):
        """Open ``page``, fill its form for ``action`` with ``values`` and send it; None if the form is not there."""
        response = self.get(page, name=f"{name} (form)")
        fields = Forms(response.text).forms.get(action) if response.status_code == 200 else None
        if fields is None:
            return None
        return self.post(action, {**fields, **values}, name)

    def sign_in(self):
        from portal.services import synthetic

        assert self.account is not None
        response = self.submit("/login", "/login", "sign in",
                               {"email": self.account["email"], "password": synthetic.password(self.seed)})
        if response is not None and response.headers.get("Location", "").endswith("/login/second-factor"):
            import pyotp

            totp = pyotp.TOTP(synthetic.totp_secret(self.seed))
            self.submit("/login/second-factor", "/login/second-factor", "sign in: second factor",
                        {"code": totp.now()})


class PublicReader(Person):
    weight = 40
    pages = ("/snapshot", "/snapshot.json", "/institutes/", "/calls", "/programs", "/projects")
    slugs: ClassVar[list[str]] = []

    @task(6)
    def page(self):
        self.get(random.choice(self.pages))

    @task(2)
    def institute(self):
        self.get(f"/institutes/{random.choice(self.slugs)}", name="/institutes/[slug]")

    @task(1)
    def institute_snapshot(self):
        self.get(f"/institutes/{random.choice(self.slugs)}/snapshot", name="/institutes/[slug]/snapshot")


class Member(Person):
    weight = 35
    wait_time = between(3, 10)

    @task(3)
    def home(self):
        self.get("/")

    @task(2)
    def organization(self):
        self.get(f"/organizations/{self.account['org_id']}", name="/organizations/[id]")

    @task(3)
    def ledger(self):
        self.get(f"/organizations/{self.account['org_id']}/ledger", name="/organizations/[id]/ledger")

    @task(1)
    def projects(self):
        self.get("/projects")

    @task(2)
    def pledge(self):
        org_id = self.account["org_id"]
        path = f"/organizations/{org_id}/pledges/new"
        response = self.submit(path, path, "pledge", {"amount": f"{random.randint(10, 500) * 100}.00",
                                                      "kind": "cash", "note": "load test"})
        acknowledge(response, "pledge")


class Staff(Person):
    weight = 15
    wait_time = between(3, 10)

    @task(3)
    def manage(self):
        self.get(f"/institutes/{self.account['slug']}/manage", name="/institutes/[slug]/manage")

    @task(2)
    def institute_ledger(self):
        self.get(f"/institutes/{self.account['slug']}/ledger", name="/institutes/[slug]/ledger")

    @task(3)
    def receipt(self):
        pledges = self.account["pledges"]
        if not pledges:
            return
        pledge_id = random.choice(pledges)
        response = self.submit(f"/pledges/{pledge_id}", f"/pledges/{pledge_id}/receipts", "receipt", {
            "receipt-amount": "1.00", "receipt-received_on": date.today().isoformat(), "receipt-note": "load test"})
        acknowledge(response, "receipt")

    @task(1)
    def decide(self):
        pending = self.account["pending"]
        if not pending:
            return self.manage()
        membership_id = pending.pop()
        self.submit(f"/memberships/{membership_id}", f"/memberships/{membership_id}/decision", "decide application",
                    {"decision": "approve"})


class Reviewer(Person):
    weight = 10
    wait_time = between(5, 15)

    @task(2)
    def read(self):
        self.get(f"/proposals/{self.account['proposal_id']}/review", name="/proposals/[id]/review")

    @task(1)
    def score(self):
        path = f"/proposals/{self.account['proposal_id']}/review"
        response = self.get(path, name="score a review (form)")
        forms = Forms(response.text).forms if response.status_code == 200 else {}
        fields = forms.get(path, forms.get(""))  # the scoring form posts to its own page
        if fields is not None:
            scores = {name: str(random.randint(1, 5)) for name in fields if name.startswith("score_")}
            self.post(path, {**fields, **scores, "action": "save"}, "score a review")


ACKNOWLEDGED: list[tuple[str, str, int]] = []  # (kind, one-time key, pledge id) the people saw succeed


def acknowledge(response, kind: str) -> None:
    """A pledge or receipt acknowledged with success: a redirect to the pledge's page."""
    if response is None or response.status_code not in (302, 303):
        return
    found = re.search(r"/pledges/(\d+)$", response.headers.get("Location", ""))
    sent = urllib.parse.parse_qs(response.request.body or "")
    key = sent.get("key" if kind == "pledge" else "receipt-key", [""])[0]
    if found and key:
        ACKNOWLEDGED.append((kind, key, int(found.group(1))))


# Choosing the people from the database ---------------------------------------------------------------------

def accounts(users: int, seed: int) -> dict[str, list[dict]]:
    """Accounts for each kind of person (as many as the mix may start), from the synthetic network."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.models import (
        Affiliation,
        Institute,
        InstituteStaff,
        Membership,
        Pledge,
        Proposal,
        Review,
        User,
    )
    from portal.services import synthetic

    wanted = {kind: users * cls.weight // 100 + 2 for kind, cls in KINDS.items()}
    members = db.session.execute(
        sa.select(User.email, Affiliation.organization_id).join(Affiliation, Affiliation.user_id == User.id)
        .where(Affiliation.role == "admin", Affiliation.status == "active", User.totp_secret.is_(None),
               User.email.like(f"%@{synthetic.DOMAIN}"),
               Affiliation.organization_id.in_(sa.select(Membership.organization_id)
                                               .where(Membership.status == "active")))
        .order_by(Affiliation.organization_id).limit(wanted["member"]))
    staff_rows = list(db.session.execute(
        sa.select(User.email, InstituteStaff.institute_id, Institute.slug)
        .join(InstituteStaff, InstituteStaff.user_id == User.id)
        .join(Institute, Institute.id == InstituteStaff.institute_id)
        .where(User.email.like(f"staff{seed}-%")).order_by(InstituteStaff.institute_id, User.id)
        .limit(wanted["staff"])))
    staff = []
    for email, institute_id, slug in staff_rows:
        pledges = list(db.session.scalars(
            sa.select(Pledge.id).where(Pledge.institute_id == institute_id,
                                       Pledge.pledged_cents - Pledge.received_cents - Pledge.cancelled_cents >= 10_000)
            .order_by(Pledge.id.desc()).limit(50)))
        pending = list(db.session.scalars(sa.select(Membership.id).where(
            Membership.institute_id == institute_id, Membership.status == "pending").order_by(Membership.id)))
        # share the institute's applications out between its staff, so that two never decide the same one
        mine = [i for n, i in enumerate(pending) if n % 2 == sum(1 for s in staff if s["slug"] == slug) % 2]
        staff.append({"email": email, "slug": slug, "pledges": pledges, "pending": mine})
    reviewers = db.session.execute(
        sa.select(User.email, Review.proposal_id).join(Review, Review.reviewer_id == User.id)
        .join(Proposal, Proposal.id == Review.proposal_id)
        .where(Review.submitted_at.is_(None), Proposal.status == "under_review")
        .order_by(Review.id).limit(wanted["reviewer"] * 3))
    seen: set[str] = set()
    reviewer_accounts = []
    for email, proposal_id in reviewers:
        if email not in seen:
            seen.add(email)
            reviewer_accounts.append({"email": email, "proposal_id": proposal_id})
    slugs = list(db.session.scalars(sa.select(Institute.slug).order_by(Institute.id)))
    return {"member": [{"email": e, "org_id": o} for e, o in members], "staff": staff,
            "reviewer": reviewer_accounts[:wanted["reviewer"]], "slugs": [{"slug": s} for s in slugs]}


KINDS = {"public": PublicReader, "member": Member, "staff": Staff, "reviewer": Reviewer}


def rekey_authenticators(seed: int) -> int:
    """Encrypt the synthetic network's known authenticator secret under this layout's key, for every synthetic
    account that has one (a page that lists staff reads theirs); return how many."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.models import User
    from portal.services import synthetic, updated_rows

    count = updated_rows(sa.update(User).where(User.email.like(f"%@{synthetic.DOMAIN}"), User.totp_secret.is_not(None))
                         .values(totp_secret=synthetic.totp_secret(seed)).execution_options(synchronize_session=False))
    db.session.commit()
    return count


# Measuring ---------------------------------------------------------------------------------------------------

RESULTS: list[dict] = []


@events.request.add_listener
def record(request_type, name, response_time, response_length, response=None, exception=None, start_time=None,
           **_):
    status = getattr(response, "status_code", 0) or 0
    request_id = response.headers.get("X-Request-ID") if response is not None and response.headers else None
    RESULTS.append({"name": name, "ms": response_time, "status": status, "failed": exception is not None,
                    "start": start_time, "request_id": request_id})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def nginx_upstreams(lay: local.Layout) -> dict[str, tuple[str, str]]:
    """request id -> (the upstream addresses tried, their statuses), from nginx's access log."""
    seen = {}
    for line in lay.log("nginx-access").read_text().splitlines():
        entry = json.loads(line)
        seen[entry["request_id"]] = (entry["upstream"], entry["upstream_status"])
    return seen


def report(lay: local.Layout, seconds: float, killed_port: int) -> int:
    """Print the figures; return the number of errors outside the killed server's in-flight requests."""
    upstreams = nginx_upstreams(lay)
    by_route = defaultdict(list)
    for result in RESULTS:
        by_route[result["name"]].append(result)
    print(f"\n{'route':40} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
    lost = errors = 0
    for name in sorted(by_route):
        rows = by_route[name]
        times = [r["ms"] for r in rows]
        failed = [r for r in rows if r["failed"]]
        print(f"{name:40} {len(rows):>8} {percentile(times, .5):>8.0f} {percentile(times, .95):>8.0f} "
              f"{percentile(times, .99):>8.0f} {len(failed):>6}")
        for row in failed:
            tried, _ = upstreams.get(row["request_id"] or "", ("", ""))
            if row["status"] in (0, 502, 504) and tried.rsplit(", ", 1)[-1].endswith(f":{killed_port}"):
                lost += 1
            else:
                errors += 1
                print(f"    error: {row['name']} status {row['status']} request id {row['request_id']}")
    every = [r["ms"] for r in RESULTS]
    print(f"{'all':40} {len(every):>8} {percentile(every, .5):>8.0f} {percentile(every, .95):>8.0f} "
          f"{percentile(every, .99):>8.0f} {lost + errors:>6}")
    print(f"throughput: {len(every) / seconds:.1f} requests/s over {seconds:.0f} s; errors: {errors} "
          f"(+ {lost} in flight on the killed app server)")
    return errors


# Running -------------------------------------------------------------------------------------------------------

def free_ports() -> int:
    """A port with the three after it free too (nginx and the app servers)."""
    while True:
        base = random.randint(20_000, 60_000)
        try:
            for port in range(base, base + 4):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue


def kill(lay: local.Layout, name: str) -> None:
    """SIGKILL to the process group of ``name`` (gunicorn's master and workers, or the worker)."""
    pid = local.pid_of(lay, name)
    assert pid is not None, f"{name} is not running"
    os.killpg(pid, signal.SIGKILL)
    while local.alive(pid):
        time.sleep(0.05)
    lay.pid_file(name).unlink()


def faults(lay: local.Layout, env: dict, kill_at: float, worker_kill_at: float, log: list[str]) -> None:
    started = time.monotonic()
    for at, name in sorted([(kill_at, KILLED_APP), (worker_kill_at, "worker")]):
        gevent.sleep(max(0.0, at - (time.monotonic() - started)))
        kill(lay, name)
        log.append(f"{time.monotonic() - started:6.1f} s: killed {name} (SIGKILL)")
        gevent.sleep(RESTART_AFTER)
        local.start(lay, env, name)
        local.wait_ready(lay, name)
        log.append(f"{time.monotonic() - started:6.1f} s: {name} restarted and ready")


def flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*local.FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True)


def check_acknowledged() -> list[str]:
    """Every pledge and receipt acknowledged with success is in the ledger exactly once under its key."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.models import LedgerEntry

    problems = []
    keys = [key for _, key, _ in ACKNOWLEDGED]
    found = defaultdict(list)
    for chunk in range(0, len(keys), 1000):
        for key, pledge_id, kind in db.session.execute(
                sa.select(LedgerEntry.idempotency_key, LedgerEntry.pledge_id, LedgerEntry.kind)
                .where(LedgerEntry.idempotency_key.in_(keys[chunk:chunk + 1000]))):
            found[key].append((pledge_id, str(kind)))
    for kind, key, pledge_id in ACKNOWLEDGED:
        if found[key] != [(pledge_id, kind)]:
            problems.append(f"{kind} {key} on pledge {pledge_id}: in the ledger as {found[key]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--kill-at", type=float, default=None, help="seconds in (default: a third of the run)")
    parser.add_argument("--worker-kill-at", type=float, default=None, help="seconds in (default: two thirds)")
    parser.add_argument("--scale", choices=["small", "large"], default="small")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--spawn-rate", type=float, default=10, help="people started a second")
    parser.add_argument("--daily-jobs", action="store_true",
                        help="let the scheduler run the daily jobs during the test (off: DAILY_JOBS_HOUR=24)")
    args = parser.parse_args()
    kill_at = args.kill_at if args.kill_at is not None else args.seconds / 3
    worker_kill_at = args.worker_kill_at if args.worker_kill_at is not None else args.seconds * 2 / 3

    fresh = None
    if not os.environ.get("DATABASE_URL"):
        if args.scale != "small":
            raise SystemExit("--scale large needs DATABASE_URL: a copy of a database holding the large network")
        fresh = f"portal_load_{os.getpid()}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", fresh], check=True)
        os.environ["DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{fresh}"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ["PROD_LOCAL_DIR"] = tempfile.mkdtemp(prefix="portal-load-")
    os.environ["PROD_LOCAL_PORT"] = str(free_ports())
    if not args.daily_jobs:
        os.environ["DAILY_JOBS_HOUR"] = "24"
    # every simulated person signs in from 127.0.0.1: the limit per address is for many people, not one
    os.environ["LOGIN_LIMIT_PER_ADDRESS"] = f"{args.users * 5} per 15 minutes"
    lay = local.layout()
    env = local.environment(lay)
    os.environ.update(env)  # the same configuration in this process, for choosing people and checking
    failures: list[str] = []
    try:
        started = time.monotonic()
        local.prepare(lay, env)
        if fresh:
            done = flask(env, "demo", "--scale", "small", "--seed", str(args.seed))
            assert done.returncode == 0, done.stdout + done.stderr
        print(f"database ready in {time.monotonic() - started:.0f} s")

        from portal import create_app
        from portal.extensions import db

        app = create_app()
        with app.app_context():
            chosen = accounts(args.users, args.seed)
            rekeyed = rekey_authenticators(args.seed)
            db.session.remove()
            db.engine.dispose()
        PublicReader.slugs = [s["slug"] for s in chosen["slugs"]]
        for kind, cls in KINDS.items():
            cls.pool = list(chosen.get(kind, [])) if kind != "public" else []
            cls.seed = args.seed
        pools = ", ".join(f"{len(cls.pool)} {kind} accounts" for kind, cls in KINDS.items() if cls.pool)
        print(f"people: {args.users} ({pools}); {rekeyed} authenticator secrets encrypted under the layout's key")

        local.nginx_config(lay, env)
        for name in lay.names:
            local.start(lay, env, name)
        for name in lay.names:
            local.wait_ready(lay, name)
        print(f"layout up at http://127.0.0.1:{lay.port}/ in {time.monotonic() - started:.0f} s")

        environment = Environment(user_classes=list(KINDS.values()), host=f"http://127.0.0.1:{lay.port}",
                                  events=events)
        runner = environment.create_local_runner()
        fault_log: list[str] = []
        runner.start(args.users, spawn_rate=args.spawn_rate)
        fault = gevent.spawn(faults, lay, env, kill_at, worker_kill_at, fault_log)
        run_started = time.monotonic()
        gevent.sleep(args.seconds)
        runner.quit()
        fault.join(timeout=60)
        elapsed = time.monotonic() - run_started
        print("\n".join(fault_log))
        killed_port = lay.app_ports[int(KILLED_APP[3:]) - 1]
        errors = report(lay, elapsed, killed_port)
        if errors:
            failures.append(f"{errors} error(s) outside the killed server's in-flight requests")

        verify = flask(env, "ledger", "verify")
        print(verify.stdout.strip() or verify.stderr.strip())
        if verify.returncode:
            failures.append("flask ledger verify found differences")
        with app.app_context():
            lost = check_acknowledged()
            db.session.remove()
            db.engine.dispose()
        pledges = sum(1 for kind, _, _ in ACKNOWLEDGED if kind == "pledge")
        print(f"acknowledged: {pledges} pledges, {len(ACKNOWLEDGED) - pledges} receipts; "
              f"in the ledger exactly once: {len(ACKNOWLEDGED) - len(lost)}")
        failures.extend(lost)
        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} cores, {platform.platform()}, load average {load[0]:.1f} {load[1]:.1f} "
              f"{load[2]:.1f} at the end; {args.users} people, {args.seconds:.0f} s, scale {args.scale}, "
              f"3 app servers x {lay.workers} gunicorn workers")
    finally:
        local.stop_all(lay)
        if fresh:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", fresh], check=False)
    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"logs (nginx's access log, each process's JSON lines): {lay.run / 'logs'}")
    print("load test: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
