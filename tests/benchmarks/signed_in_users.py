"""Twenty signed-in people at once on a mix of member and staff pages, under gunicorn: prints the median and
95th percentile per page, overall, and any error (a status other than 200).

Load a network first (see throughput.py), then:
    DATABASE_URL=... .venv/bin/python tests/benchmarks/signed_in_users.py [--seconds 60] [--workers 4]

It starts gunicorn on a free local port with the production configuration (a throwaway SECRET_KEY), signs
in 6 institute administrators (2 of the busiest institute, 1 each of four others) and 14 administrators of
member organizations of the busiest institute (the one with the most pledges first) through the sign-in
form with its second step, lets each person open each of their pages twice untimed (every worker then has
its templates compiled and its connections open, as a server in service has), then each person, on a thread
of their own, opens their pages in turn with a think time of 0.5 to 1.5 s between them (a person reading,
not a load generator), for ``--seconds``.
gunicorn is stopped by its process id at the end. Target (issue 13): p95 under 250 ms, no errors.
"""

import argparse
import http.client
import os
import platform
import random
import re
import statistics
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

import pyotp
import sqlalchemy as sa
from throughput import free_port, start_gunicorn, stop, wait_until_up

from portal import create_app
from portal.extensions import db
from portal.models import Affiliation, Institute, Membership, Pledge, User
from portal.models.encryption import development_key
from portal.services import synthetic

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Person:
    email: str
    pages: list[tuple[str, str]]  # (label, path)
    cookies: dict[str, str] = field(default_factory=dict)


class Browser:
    """Just enough of one: cookies (the production ones are Secure, so a cookie jar would not send them over
    the loopback's plain HTTP) and the CSRF token of a form."""

    def __init__(self, port: int, person: Person) -> None:
        self.port, self.person = port, person

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.person.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.person.cookies[key] = rest.split(";", 1)[0]
            return response.status, text, dict(response.getheaders())
        finally:
            connection.close()

    def submit(self, path: str, form: dict[str, str]) -> tuple[int, str, dict]:
        _, page, _ = self.request("GET", path)
        found = TOKEN.search(page)
        assert found, f"no CSRF token on {path}"
        return self.request("POST", path, {"csrf_token": found.group(1), **form})

    def sign_in(self, seed: int) -> None:
        status, _, headers = self.submit("/login", {"email": self.person.email, "password": synthetic.password(seed)})
        if headers.get("Location", "").endswith("/login/second-factor"):
            totp = pyotp.TOTP(synthetic.totp_secret(seed))
            status, _, _ = self.submit("/login/second-factor", {"code": totp.now()})
            if status == 422:  # this code was taken by an earlier run within the same 30 s
                time.sleep(totp.interval - time.time() % totp.interval + 1)
                status, _, _ = self.submit("/login/second-factor", {"code": totp.now()})
        assert status in (302, 303), (self.person.email, status)


def people(seed: int) -> list[Person]:
    """6 institute administrators and 14 organization administrators, with the pages each opens."""
    one = db.session.scalar
    by_size = list(db.session.execute(sa.select(Membership.institute_id, Institute.slug)
                                      .join(Institute, Institute.id == Membership.institute_id)
                                      .group_by(Membership.institute_id, Institute.slug)
                                      .order_by(sa.func.count().desc()).limit(5)))
    busiest, slug = by_size[0]
    crowd = []
    for n, (institute_id, its_slug) in enumerate(by_size):
        for k in (1, 2) if n == 0 else (1,):
            crowd.append(Person(f"staff{seed}-{institute_id}-{k}@{synthetic.DOMAIN}", [
                ("institute (staff)", f"/institutes/{its_slug}"), ("manage", f"/institutes/{its_slug}/manage"),
                ("institute ledger", f"/institutes/{its_slug}/ledger"),
                ("calls (staff)", f"/institutes/{its_slug}/calls"), ("audit log", f"/institutes/{its_slug}/audit"),
                ("notifications", "/notifications/")]))
    heaviest = one(sa.select(Pledge.organization_id).group_by(Pledge.organization_id)
                   .order_by(sa.func.count().desc()).limit(1))
    members = db.session.execute(
        sa.select(User.email, Affiliation.organization_id).join(Affiliation, Affiliation.user_id == User.id)
        .join(Membership, Membership.organization_id == Affiliation.organization_id)
        .where(Affiliation.role == "admin", Affiliation.status == "active", Membership.institute_id == busiest,
               Membership.status == "active")
        .order_by((Affiliation.organization_id != heaviest), Affiliation.organization_id).limit(14))
    for email, org_id in members:
        crowd.append(Person(email, [
            ("home", "/"), ("account", "/account"), ("notifications", "/notifications/"),
            ("organization", f"/organizations/{org_id}"), ("organization ledger", f"/organizations/{org_id}/ledger"),
            ("institute (member)", f"/institutes/{slug}"), ("projects", "/projects"), ("programs", "/programs"),
            ("snapshot", "/snapshot")]))
    return crowd


def browse(port: int, person: Person, until: float, results: list, rng: random.Random) -> None:
    browser = Browser(port, person)
    turn = rng.randrange(len(person.pages))
    while time.monotonic() < until:
        label, path = person.pages[turn % len(person.pages)]
        started = time.perf_counter()
        try:
            status, _, _ = browser.request("GET", path)
        except (OSError, http.client.HTTPException):  # counted as an error; the person goes on
            status = 0
        results.append((label, (time.perf_counter() - started) * 1000, status))
        turn += 1
        time.sleep(rng.uniform(0.5, 1.5))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--warm-up", type=int, default=2, help="untimed visits of each page per person first")
    args = parser.parse_args()
    app = create_app("production", SECRET_KEY="benchmark", MFA_ENCRYPTION_KEY=development_key())
    with app.app_context():
        crowd = people(args.seed)
        db.session.rollback()
    port = free_port()
    server = start_gunicorn(port, workers=args.workers)
    results: list[tuple[str, float, int]] = []
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        refused, signed_in = [], []
        for person in crowd:
            try:
                Browser(port, person).sign_in(args.seed)
                signed_in.append(person)
            except (AssertionError, OSError, http.client.HTTPException) as error:  # left out, and said so
                refused.append(f"{person.email}: {error!r}")
        crowd = signed_in
        # Warm up, untimed: each person opens each of their pages twice, all at once, so that every worker has
        # compiled the templates and opened its connections before the timed run (a server in service did so
        # long ago); --warm-up 0 times the cold start too.
        warm = [threading.Thread(target=lambda p=person: [Browser(port, p).request("GET", path)
                                                          for _ in range(args.warm_up) for _, path in p.pages])
                for person in crowd]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=browse, args=(port, person, until, results, random.Random(n)))
                   for n, person in enumerate(crowd)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop(server)
    if refused:
        print(f"{len(refused)} could not sign in and were left out:", *refused, sep="\n  ")
    if not results:
        print("no request was made")
        return
    print(f"{'page':22} {'requests':>8} {'median ms':>10} {'p95 ms':>8} {'errors':>7}")
    for label in sorted({label for label, _, _ in results}):
        times = [ms for page, ms, _ in results if page == label]
        errors = sum(1 for page, _, status in results if page == label and status != 200)
        print(f"{label:22} {len(times):>8} {statistics.median(times):>10.1f} {percentile(times, 0.95):>8.1f} "
              f"{errors:>7}")
    every = [ms for _, ms, _ in results]
    errors = sum(1 for _, _, status in results if status != 200)
    print(f"{'all pages':22} {len(every):>8} {statistics.median(every):>10.1f} {percentile(every, 0.95):>8.1f} "
          f"{errors:>7}")
    worst = max(percentile([ms for page, ms, _ in results if page == label], 0.95) for label, _, _ in results)
    print(f"target (p95 under 250 ms on every page, no errors): {'met' if worst < 250 and not errors else 'NOT met'}")
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, load average {os.getloadavg()[0]:.1f} at the "
          f"end; {len(crowd)} people, gunicorn -w {args.workers}, {args.seconds} s", file=sys.stdout)


if __name__ == "__main__":
    main()
