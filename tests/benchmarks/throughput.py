"""Prints how many requests a second two gunicorn workers serve for /healthz, /snapshot and /snapshot.json.

Load a network first, for example on PostgreSQL:
    createdb portal_large
    DATABASE_URL=postgresql://postgres@127.0.0.1/portal_large .venv/bin/flask --app wsgi db upgrade
    DATABASE_URL=... .venv/bin/flask --app wsgi seed
    DATABASE_URL=... .venv/bin/flask --app wsgi demo --scale large
then: DATABASE_URL=... .venv/bin/python tests/benchmarks/throughput.py [--seconds 10]
(add REDIS_URL=redis://127.0.0.1:6379/15 to share the cached snapshot between the workers).

It starts `gunicorn -w 2` on a free local port with the production configuration (a throwaway SECRET_KEY),
waits for /healthz, requests /snapshot once to warm the cache, then runs `wrk -t2 -c8` against each URL.
The target is /snapshot at half of /healthz's requests a second or more. Needs wrk on PATH
(`apt-get install wrk` or `brew install wrk`). wrk runs on the same machine and takes CPU from the workers.

Without REDIS_URL each worker keeps the snapshot in its own process, so the worker that did not answer
the warming request computes it once during the run; with REDIS_URL both workers share one copy.
wrk is not signed in, so each worker asks the database for the version of the figures at most once a
second (SNAPSHOT_VERSION_HOLD, 1 unless set; SNAPSHOT_VERSION_HOLD=0 asks on every request).
"""

import argparse
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from config import database_url
from portal.models.encryption import development_key

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
URLS = ("/healthz", "/snapshot", "/snapshot.json")
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
DURATION = r"([\d.]+)(us|ms|s|m)\b"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, workers: int = WORKERS) -> subprocess.Popen:
    env = dict(os.environ, PORTAL_ENV="production", SECRET_KEY=secrets.token_hex(32),
               MFA_ENCRYPTION_KEY=development_key())
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
               "--log-level", "warning", "wsgi:app"]
    # A session of its own: Ctrl-C reaches this script only, which then stops gunicorn in order.
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def wait_until_up(base: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"/healthz did not answer within {timeout:.0f} s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()  # gunicorn's graceful shutdown
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def milliseconds(value: str, unit: str) -> float:
    return float(value) * UNITS_MS[unit]


def run_wrk(url: str, seconds: int) -> dict[str, float]:
    """Requests a second, latency (average, median, 99th percentile, in ms) and failed requests."""
    output = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", url],
                            capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
               "avg": milliseconds(*re.search(r"Latency\s+" + DURATION, output).groups())}
    for percent in ("50", "99"):
        found = re.search(rf"^\s+{percent}%\s+" + DURATION, output, re.M)
        figures[f"p{percent}"] = milliseconds(*found.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    figures["failed"] = (int(non_2xx.group(1)) if non_2xx else 0) + \
        (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="how long wrk runs per URL (default 10)")
    seconds = parser.parse_args().seconds
    if shutil.which("wrk") is None:
        sys.exit("wrk is not on PATH; install it: apt-get install wrk (Debian), brew install wrk (macOS).")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops gunicorn then too

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port)
    results: dict[str, dict[str, float]] = {}
    try:
        wait_until_up(base, server)
        with urllib.request.urlopen(base + "/snapshot", timeout=300):
            pass
        for path in URLS:
            results[path] = figures = run_wrk(base + path, seconds)
            failed = f", {figures['failed']:,.0f} FAILED" if figures["failed"] else ""
            print(f"GET {path}: {figures['rps']:,.0f} requests/s, latency average {figures['avg']:.2f} ms, "
                  f"median {figures['p50']:.2f} ms, 99% {figures['p99']:.2f} ms{failed}", flush=True)
    finally:
        stop(server)

    ratio = results["/snapshot"]["rps"] / results["/healthz"]["rps"]
    verdict = "met" if ratio >= 0.5 else "NOT met"
    if any(figures["failed"] for figures in results.values()):
        verdict += " (but requests failed, so the figures do not count)"
    print(f"target (/snapshot at least half of /healthz's requests/s): {verdict}, {ratio:.0%}")
    cache = "Redis" if os.environ.get("REDIS_URL") else "per worker"
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, "
          f"{sa.engine.make_url(database_url()).get_backend_name()}; {WORKERS} gunicorn workers, "
          f"snapshot cache {cache}, version held {os.environ.get('SNAPSHOT_VERSION_HOLD', '1')} s for readers not "
          f"signed in, wrk -t2 -c8 for {seconds} s per URL")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted")
