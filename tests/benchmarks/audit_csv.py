"""How fast the audit log's CSV export streams: the network's log (or one institute's) through
``audit_log.csv_rows``, as the export sends it, for its first ``--events`` lines or all of them.

    DATABASE_URL=postgresql+psycopg://... .venv/bin/python tests/benchmarks/audit_csv.py [--events 60000]
        [--institute SLUG] [--kind proposal]

It only reads. It prints the lines, the bytes, the seconds, the lines a second and when the first piece
came, and the process's peak resident memory.
"""

import argparse
import resource
import time

import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.models import Institute
from portal.models.encryption import development_key
from portal.services import audit_log


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=0, help="stop after this many lines (0: the whole log)")
    parser.add_argument("--institute", default="", help="an institute's slug (default: the whole network)")
    parser.add_argument("--kind", default="", help="one of audit_log.KINDS")
    args = parser.parse_args()
    app = create_app("production", SECRET_KEY="benchmark", MFA_ENCRYPTION_KEY=development_key())
    with app.app_context():
        institute = (db.session.scalar(sa.select(Institute).where(Institute.slug == args.institute))
                     if args.institute else None)
        started = time.perf_counter()
        first = None
        lines = size = 0
        for piece in audit_log.csv_rows(audit_log.query(audit_log.Filters(kind=args.kind), institute)):
            first = first if first is not None else time.perf_counter() - started
            lines += piece.count("\n")
            size += len(piece.encode())
            if args.events and lines > args.events:
                break
        seconds = time.perf_counter() - started
        db.session.rollback()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{lines - 1:,} events, {size:,} bytes in {seconds:.1f} s: {(lines - 1) / seconds:,.0f} lines a second; "
          f"first piece after {(first or 0) * 1000:.1f} ms; peak resident memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
