"""Prints what ``/snapshot?fy=YEAR`` costs on the database at DATABASE_URL: the page, ``.json`` and ``.csv``,
each the first time (nothing kept: the figures computed from the tables) and cached (kept per fiscal year and
version of the figures), as medians of server time in this process, with the queries and bytes of one request.

Reads only. Load a network first (``flask demo --scale large``), then:
    DATABASE_URL=... .venv/bin/python tests/benchmarks/snapshot_fy.py [--year 2024] [--rounds 5]
Leave REDIS_URL unset, so "first" means computed by this request, not fetched from a shared cache.
"""

import argparse
import statistics
import time

from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from portal.models.encryption import development_key
from portal.services.clock import today
from portal.services.ledger.entries import fiscal_year_of

PATHS = {"page": "/snapshot?fy={year}", "json": "/snapshot.json?fy={year}", "csv": "/snapshot.csv?fy={year}"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=fiscal_year_of(today()) - 1)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    app = create_app("production", SECRET_KEY="benchmark", RATELIMIT_ENABLED=False, REDIS_URL=None,
                     MFA_ENCRYPTION_KEY=development_key())
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda _conn, _cursor, statement, *args: statements.append(statement))
    client = app.test_client()
    client.get("/healthz")  # the process warmed: imports, templates, a connection
    print(f"/snapshot?fy={args.year} on {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}, "
          f"{args.rounds} rounds each")
    for kind, path in PATHS.items():
        url = path.format(year=args.year)
        first, cached, queries, size = [], [], 0, 0
        for _ in range(args.rounds):
            app.extensions["snapshot_cache"] = {}  # nothing kept: computed from the tables
            statements.clear()
            started = time.perf_counter()
            response = client.get(url)
            first.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            queries, size = len(statements), len(response.data)
            started = time.perf_counter()
            statements.clear()
            again = client.get(url)
            cached.append((time.perf_counter() - started) * 1000)
            assert again.status_code == 200
        print(f"{kind:<5} first {statistics.median(first):8.1f} ms (min {min(first):.1f}) {queries:3} queries  "
              f"cached {statistics.median(cached):6.1f} ms {len(statements)} queries  {size:,} bytes")


if __name__ == "__main__":
    main()
