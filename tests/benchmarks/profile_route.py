"""Where one page spends its time: requests it as the role routes.py uses for it, on the same heaviest
object, under pyinstrument, and prints the call tree (and the statements of one request with their
milliseconds, slowest first).

    DATABASE_URL=... .venv/bin/python tests/benchmarks/profile_route.py '/calls/<int:call_id>' [--rounds 5]

The argument is a rule as routes.py prints it; ``--url`` requests that address instead (its role from
``--role``: staff, admin, network, reviewer, drafter, notified, participant, or none).
"""

import argparse
import time

from pyinstrument import Profiler
from routes import OBJECT, benchmark_app, heaviest, role_of, signed_in
from sqlalchemy import event

from portal.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rule", nargs="?", default="")
    parser.add_argument("--url", default="")
    parser.add_argument("--role", default="")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    app = benchmark_app()
    with app.app_context():
        objects = heaviest(args.seed)
        engine = db.engine
        db.session.rollback()
    url, role = args.url, (args.role if args.role != "none" else None)
    if not url:
        rule = next(r for r in app.url_map.iter_rules() if r.rule == args.rule and "GET" in r.methods)
        chosen = OBJECT.get(rule.endpoint, {})
        with app.test_request_context():
            url = app.url_for(rule.endpoint, **{n: objects[chosen.get(n, n)] for n in rule.arguments})
        role = args.role or role_of(rule.endpoint)
    client = signed_in(app, objects[role] if role else None, args.seed)
    client.get(url).close()  # warm-up
    statements: list[tuple[float, str]] = []
    started: dict[int, float] = {}
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: started.__setitem__(id(cursor), time.perf_counter()))
    event.listen(engine, "after_cursor_execute", lambda conn, cursor, statement, *a: statements.append(
        ((time.perf_counter() - started.pop(id(cursor), time.perf_counter())) * 1000, statement)))
    response = client.get(url)
    print(f"{url} as {role}: {response.status_code}, {len(response.data):,} bytes, {len(statements)} statements")
    for ms, statement in sorted(statements, reverse=True):
        print(f"{ms:8.1f} ms  {' '.join(statement.split())[:300]}")
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(args.rounds):
            client.get(url, buffered=True).close()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
