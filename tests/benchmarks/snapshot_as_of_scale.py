"""Prints how long the snapshot as of a fiscal year takes to compute on the database at DATABASE_URL, and how
many queries it runs, for each fiscal year the network has; then a warm /snapshot?fy= page.

Load a network first (see snapshot_scale.py), then:
    DATABASE_URL=... .venv/bin/python tests/benchmarks/snapshot_as_of_scale.py
Times are server time in this process (the test client: no network).
"""

import statistics
import time

import sqlalchemy as sa
from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from portal.models import Membership, Organization, Pledge, StatusChange
from portal.services import ledger, snapshot_as_of
from portal.services.clock import today

ROUNDS = 5


def main() -> None:
    app = create_app("production", SECRET_KEY="benchmark", RATELIMIT_ENABLED=False)
    with app.app_context():
        sizes = {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (Organization, Membership, StatusChange, Pledge)}
        print("network:", ", ".join(f"{n:,} {name}" for name, n in sizes.items()), f"on {db.engine.dialect.name}")
        db.session.execute(sa.select(1))
        db.session.rollback()
        statements: list[int] = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
        current = ledger.fiscal_year_of(today())
        for year in (current - 3, current - 1, current):
            timings = []
            for _ in range(ROUNDS):
                statements.clear()
                started = time.perf_counter()
                data = snapshot_as_of.compute(year)
                timings.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            figures = dict(data["tables"]["fy_overview"]["rows"])
            print(f"FY{year}: compute median {statistics.median(timings):.1f} ms (min {min(timings):.1f}), "
                  f"{len(statements)} queries; {figures['member organizations']:,} organizations, "
                  f"{figures['memberships in force']:,} memberships, "
                  f"{figures['projects active during the year']:,} projects")
    client = app.test_client()
    client.get(f"/snapshot?fy={current - 1}")
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        assert client.get(f"/snapshot?fy={current - 1}").status_code == 200
        timings.append((time.perf_counter() - started) * 1000)
    print(f"/snapshot?fy={current - 1} warm: median {statistics.median(timings):.2f} ms")


if __name__ == "__main__":
    main()
