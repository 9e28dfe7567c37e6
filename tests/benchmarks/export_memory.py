"""How much a gunicorn worker's memory (RSS) grows while it sends the largest CSV export, and when the first
byte comes.

Load a network first (see throughput.py), then:
    DATABASE_URL=... .venv/bin/python tests/benchmarks/export_memory.py [--seed 2026]

It starts gunicorn with one sync worker on a free local port (production configuration), signs in the busiest
institute's first administrator (the sign-in form and its second step, as signed_in_users.py), opens a page
once so the worker has warmed up, then downloads that institute's `ledger.csv` and `roster.csv` while a thread
reads the worker's resident memory from /proc every 20 ms. It prints the bytes, the time to the first byte and
to the last, and the worker's RSS before and at its peak. gunicorn is stopped by its process id at the end.
Target (issue 13): the first byte under 200 ms, the worker growing by under 50 MB during the largest export.
Linux only (/proc).
"""

import argparse
import http.client
import os
import platform
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from signed_in_users import Browser, Person
from throughput import free_port, start_gunicorn, stop, wait_until_up

from portal import create_app
from portal.extensions import db
from portal.models import Institute, Membership
from portal.models.encryption import development_key
from portal.services import synthetic


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def worker_pid(master: int) -> int:
    """The gunicorn master's one worker (its only child)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one worker under gunicorn {master}, found {children}")
    return int(children[0])


def download(port: int, browser: Browser, path: str, pid: int) -> dict[str, float]:
    peak, sampling = [rss_mb(pid)], True
    before = peak[0]

    def sample() -> None:
        while sampling:
            peak.append(rss_mb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    cookies = "; ".join(f"{k}={v}" for k, v in browser.person.cookies.items())
    started = time.perf_counter()
    try:
        connection.request("GET", path, headers={"Cookie": cookies})
        response = connection.getresponse()
        first = response.read(1)
        first_byte = time.perf_counter() - started
        size = len(first)
        while chunk := response.read(1 << 16):
            size += len(chunk)
        total = time.perf_counter() - started
        status = response.status
    finally:
        connection.close()
        sampling = False
        sampler.join()
    return {"status": status, "bytes": size, "first_ms": first_byte * 1000, "total_s": total,
            "before_mb": before, "peak_mb": max(peak)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    app = create_app("production", SECRET_KEY="benchmark", MFA_ENCRYPTION_KEY=development_key())
    with app.app_context():
        institute_id, slug = db.session.execute(
            sa.select(Membership.institute_id, Institute.slug).join(Institute, Institute.id == Membership.institute_id)
            .group_by(Membership.institute_id, Institute.slug).order_by(sa.func.count().desc()).limit(1)).one()
        db.session.rollback()
    port = free_port()
    server = start_gunicorn(port, workers=1)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        person = Person(f"staff{args.seed}-{institute_id}-1@{synthetic.DOMAIN}", [])
        browser = Browser(port, person)
        browser.sign_in(args.seed)
        browser.request("GET", f"/institutes/{slug}/ledger")  # the worker warmed up: templates, connections
        pid = worker_pid(server.pid)
        print(f"{'export':40} {'status':>6} {'bytes':>12} {'first byte ms':>14} {'total s':>8} "
              f"{'RSS before MB':>14} {'RSS peak MB':>12} {'growth MB':>10}")
        for path in (f"/institutes/{slug}/ledger.csv", f"/institutes/{slug}/roster.csv"):
            figures = download(port, browser, path, pid)
            print(f"{path:40} {figures['status']:>6} {figures['bytes']:>12,} {figures['first_ms']:>14.1f} "
                  f"{figures['total_s']:>8.1f} {figures['before_mb']:>14.1f} {figures['peak_mb']:>12.1f} "
                  f"{figures['peak_mb'] - figures['before_mb']:>10.1f}")
    finally:
        stop(server)
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
