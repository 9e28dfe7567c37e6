"""Prints how long importing 100,000 rows of each kind (organizations to projects) takes on the database at
DATABASE_URL (target: under 5 minutes a file on PostgreSQL): the check (a dry run) and the import, each
committed as the command does; then how many audit events were written (one per record) and whether the
hash chain holds.

It makes its own schema in a fresh database, so point it at an empty one:
    createdb -h 127.0.0.1 -U postgres portal_import_bench
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_import_bench \\
        .venv/bin/python tests/benchmarks/import_scale.py [--rows 100000]

Money files are uploaded by one network administrator and approved by another, as in the portal.
"""

import argparse
import json
import time
from importlib import resources

import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, ImportKind, Institute, Role, User
from portal.models.encryption import development_key
from portal.services import audit, imports, institutes, memberships
from tests import network_files


def admin(email: str) -> User:
    user = User(email=email, full_name=email, password_hash="x", role=Role.NETWORK_ADMIN)
    db.session.add(user)
    db.session.flush()
    return user


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--kinds", default="organizations,memberships,pledges,receipts,federal,projects",
                        help="which files, in order (each needs the ones before it: projects need organizations)")
    args = parser.parse_args()
    rows = args.rows
    app = create_app("production", SECRET_KEY="benchmark", RATELIMIT_ENABLED=False,
                     MFA_ENCRYPTION_KEY=development_key())
    with app.app_context():
        db.drop_all()
        db.create_all()
        institutes.seed(institutes.seed_records())
        memberships.seed_tiers(json.loads(resources.files("portal").joinpath("data/tiers.json").read_text("utf-8")))
        uploader, approver = admin("first@example.com"), admin("second@example.com")
        db.session.commit()
        founded = list(db.session.scalars(sa.select(Institute.acronym).where(Institute.founded_year <= 2017)))
        report = network_files.REPORT
        files = network_files.network_files(founded, members=rows, fiscal_year=2018, industry_share=0.63,
                                            small_share=0.7, federal_usd=report["federal_usd"],
                                            non_federal_usd=report["non_federal_usd"] * rows // report["members"])
        print(f"{rows:,} rows a file on {db.engine.dialect.name}")
        events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        for kind in args.kinds.split(","):
            data = files[kind].encode()
            started = time.perf_counter()
            plan = imports.check(ImportKind(kind), data, f"{kind}.csv")
            db.session.rollback()
            checked = time.perf_counter() - started
            assert not plan.problems, plan.problems[:5]
            started = time.perf_counter()
            batch = imports.upload(db.session.get_one(User, uploader.id), ImportKind(kind), data, f"{kind}.csv")
            db.session.commit()
            if batch.status == "awaiting_approval":
                imports.approve(db.session.get_one(User, approver.id), batch)
                db.session.commit()
            imported = time.perf_counter() - started
            print(f"{kind:<14} {plan.rows:>8,} rows  {len(data) / 1e6:6.1f} MB  dry run {checked:6.1f} s  "
                  f"import {imported:6.1f} s  ({batch.counts})")
        written = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) - events
        chain = audit.verify_chain()
        print(f"{written:,} audit events written; the chain {'holds' if chain.problem is None else chain.problem}")
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
