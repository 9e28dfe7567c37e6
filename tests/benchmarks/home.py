"""The personal home at scale: for the busiest person of each role, how long the home page's lists and the
header's count take, and how many queries each runs.

    .venv/bin/python tests/benchmarks/home.py [--organizations 20000] [--rounds 7]
    DATABASE_URL=postgresql+psycopg://... .venv/bin/python tests/benchmarks/home.py   (an empty database)

It loads a synthetic network (portal.services.synthetic, which writes what the services would) into a fresh
SQLite file or the empty PostgreSQL database named, then prints: role, median ms and queries of
``home.home_of``, median ms and queries of ``home.waiting_count``, and how many tasks were found.
"""

import argparse
import os
import statistics
import tempfile
import time

import sqlalchemy as sa
from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from portal.models import Affiliation, InstituteStaff, LedgerEntry, Membership, Pledge, Review, Role, User
from portal.services import home, synthetic
from portal.services.synthetic import Scale


def busiest() -> dict[str, int]:
    one = db.session.scalar
    institute = one(sa.select(Membership.institute_id).where(Membership.status == "pending")
                    .group_by(Membership.institute_id).order_by(sa.func.count().desc()).limit(1))
    org = one(sa.select(Pledge.organization_id).join(LedgerEntry, LedgerEntry.pledge_id == Pledge.id)
              .group_by(Pledge.organization_id).order_by(sa.func.count().desc()).limit(1))
    return {
        "institute administrator": one(sa.select(InstituteStaff.user_id).where(InstituteStaff.institute_id == institute)
                                       .limit(1)),
        "organization admin": one(sa.select(Affiliation.user_id).where(Affiliation.organization_id == org,
                                                                       Affiliation.role == "admin").limit(1)),
        "reviewer": one(sa.select(Review.reviewer_id).group_by(Review.reviewer_id)
                        .order_by(sa.func.count().desc()).limit(1)),
        "network administrator": one(sa.select(User.id).where(User.role == Role.NETWORK_ADMIN).limit(1)),
    }


def timed(action, rounds: int) -> tuple[float, int]:
    statements: list[str] = []

    def count(*_args):
        statements.append("")

    times = []
    for _ in range(rounds):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
        event.remove(db.engine, "before_cursor_execute", count)
        db.session.rollback()
    return statistics.median(times), len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--organizations", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    n = args.organizations
    scale = Scale(institutes=18, organizations=n, users=2 * n, memberships=n * 3 // 2, proposals=n // 2,
                  ledger_entries=10 * n)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/home.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        synthetic.load(scale, seed=7)
        db.session.commit()
        print(f"{url.split(':')[0]}: {scale} loaded in {time.perf_counter() - started:.0f} s")
        print(f"{'role':<26}{'home ms':>9}{'queries':>9}{'count ms':>10}{'queries':>9}{'tasks':>7}")
        for role, user_id in busiest().items():
            user = db.session.get(User, user_id)
            page_ms, page_queries = timed(lambda u=user: home.home_of(u), args.rounds)
            count_ms, count_queries = timed(lambda u=user: home.waiting_count(u), args.rounds)
            tasks = home.home_of(db.session.get(User, user_id)).waiting
            print(f"{role:<26}{page_ms:>9.1f}{page_queries:>9}{count_ms:>10.1f}{count_queries:>9}{tasks:>7}")
        if not os.environ.get("DATABASE_URL"):
            return
        db.drop_all()


if __name__ == "__main__":
    main()
