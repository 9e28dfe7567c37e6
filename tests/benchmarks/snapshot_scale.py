"""Prints how long the snapshot takes on the database at DATABASE_URL, and how many queries it runs.

Load a network first, for example on PostgreSQL:
    createdb portal_large
    DATABASE_URL=postgresql://postgres@127.0.0.1/portal_large .venv/bin/flask --app wsgi db upgrade
    DATABASE_URL=... .venv/bin/flask --app wsgi seed
    DATABASE_URL=... .venv/bin/flask --app wsgi demo --scale large
then: DATABASE_URL=... .venv/bin/python tests/benchmarks/snapshot_scale.py

Times are server time in this process (the test client: no network). The warm page target is under
20 ms. tests/benchmarks/throughput.py measures requests a second under gunicorn.
"""

import statistics
import time

import sqlalchemy as sa
from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from portal.models import LedgerEntry, Membership, Organization, Proposal
from portal.models.encryption import development_key
from portal.services import snapshot, summary

ROUNDS = 10


def main() -> None:
    app = create_app("production", SECRET_KEY="benchmark", RATELIMIT_ENABLED=False,
                     MFA_ENCRYPTION_KEY=development_key())
    with app.app_context():
        sizes = {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (Organization, Membership, Proposal, LedgerEntry)}
        print("network:", ", ".join(f"{n:,} {name}" for name, n in sizes.items()),
              f"on {db.engine.dialect.name}")
        db.session.execute(sa.select(1))  # connect first: a running app server has its pool open
        db.session.rollback()
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
        timings = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            snapshot.compute()
            timings.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        print(f"compute() from the summary (a cold snapshot, target under 100 ms): first {timings[0]:.1f} ms, "
              f"median {statistics.median(timings):.1f} ms, {len(statements) // ROUNDS} queries each")
        started = time.perf_counter()
        problems = summary.problems()
        print(f"summary equals a recount from the tables: {'yes' if not problems else problems[:3]} "
              f"(recount took {time.perf_counter() - started:.1f} s)")
        db.session.rollback()
    client = app.test_client()
    for url in ("/healthz", "/snapshot.json", "/snapshot"):
        timings = []
        etag = None
        for _ in range(ROUNDS):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            etag = response.headers.get("ETag")
        line = f"GET {url}: first {timings[0]:.1f} ms, then median {statistics.median(timings[1:]):.1f} ms"
        if etag:
            started = time.perf_counter()
            status = client.get(url, headers={"If-None-Match": etag}).status_code
            line += f"; revalidation ({status}) {(time.perf_counter() - started) * 1000:.1f} ms"
        print(line)


if __name__ == "__main__":
    main()
