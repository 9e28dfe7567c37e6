"""Walks every GET route in app.url_map as the right role on the heaviest realistic object, and prints a
table: route, median ms, p95 ms, queries, bytes (for a CSV, also the milliseconds to its first byte).

Load a synthetic network first (see snapshot_scale.py), for example on PostgreSQL:
    DATABASE_URL=... .venv/bin/flask --app wsgi demo --scale large
then: DATABASE_URL=... .venv/bin/python tests/benchmarks/routes.py [--rounds 7]

Times are server time in this process (the test client: no network), after one warm-up request.
Targets (issue 13): median under 100 ms for every page; first byte of an export under 200 ms.
Every route answers 200 as its role except the few that redirect by design: a mailed link with a wrong
token, the sign-in's second step outside a sign-in, and opening a notification (which leads to its page).
The API's members' routes are read with a personal access token of the role's person (a read token made
for the run and revoked at its end), as a script calls them.
A CSV export's warm-up reads its first piece only, and it is timed ``--export-rounds`` times (1 unless told)
on its first ``--export-mb`` megabytes (20 unless told; a size ending in "+" was cut there).
A route this script has no object for (one added since, or none in this network) is skipped, and so is one
that fails: both are listed at the end with the reason, and the other routes are measured all the same.
"""

import argparse
import re
import statistics
import time
import tracemalloc

import pyotp
import sqlalchemy as sa
from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from portal.models import (
    Affiliation,
    AuditEvent,
    Credential,
    ImportBatch,
    Institute,
    LedgerEntry,
    Membership,
    Notification,
    Organization,
    Partner,
    Pledge,
    Program,
    ProgramSession,
    ProjectCall,
    Proposal,
    Review,
    Signup,
    User,
)
from portal.models.encryption import development_key
from portal.services import api_tokens, synthetic

SKIP = {"static", "auth.logout"}


def heaviest(seed: int) -> dict:
    """The objects the busiest pages are about, and who looks at them."""
    one = db.session.scalar
    institute = one(sa.select(Membership.institute_id).group_by(Membership.institute_id)
                    .order_by(sa.func.count().desc()).limit(1))
    slug = one(sa.select(Institute.slug).where(Institute.id == institute))
    org = one(sa.select(Pledge.organization_id).group_by(Pledge.organization_id)
              .order_by(sa.func.count().desc()).limit(1))
    pledge = one(sa.select(LedgerEntry.pledge_id).join(Pledge, Pledge.id == LedgerEntry.pledge_id)
                 .where(Pledge.institute_id == institute).group_by(LedgerEntry.pledge_id)
                 .order_by(sa.func.count().desc()).limit(1))
    call = one(sa.select(ProjectCall.id).where(ProjectCall.institute_id == institute, ProjectCall.status == "open"))
    # the busiest institute's most reviewed proposal (its staff and reviewers see it in full), and its draft
    # with the most partners (written by the lead organization's administrator)
    proposal = one(sa.select(Review.proposal_id).join(Proposal, Proposal.id == Review.proposal_id)
                   .join(ProjectCall, ProjectCall.id == Proposal.call_id).where(ProjectCall.institute_id == institute)
                   .group_by(Review.proposal_id).order_by(sa.func.count().desc(), Review.proposal_id).limit(1))
    draft = one(sa.select(Proposal.id).join(ProjectCall, ProjectCall.id == Proposal.call_id)
                .outerjoin(Partner, Partner.proposal_id == Proposal.id)
                .where(ProjectCall.institute_id == institute, Proposal.status == "draft")
                .group_by(Proposal.id).order_by(sa.func.count(Partner.id).desc(), Proposal.id).limit(1))
    drafter = one(sa.select(User.email).join(Affiliation, Affiliation.user_id == User.id)
                  .join(Proposal, Proposal.lead_organization_id == Affiliation.organization_id)
                  .where(Proposal.id == draft, Affiliation.role == "admin", Affiliation.status == "active").limit(1))
    membership = one(sa.select(Membership.id).where(Membership.organization_id == org).limit(1))
    notified = one(sa.select(Notification.user_id).group_by(Notification.user_id)
                   .order_by(sa.func.count().desc()).limit(1))
    notification = one(sa.select(Notification.id).where(Notification.user_id == notified).limit(1))
    admin = one(sa.select(User.email).join(Affiliation, Affiliation.user_id == User.id)
                .where(Affiliation.organization_id == org, Affiliation.role == "admin"))
    reviewer = one(sa.select(User.email).join(Review, Review.reviewer_id == User.id)
                   .where(Review.proposal_id == proposal).limit(1))
    staff = one(sa.select(User.email).where(User.email == f"staff{seed}-{institute}-1@{synthetic.DOMAIN}"))
    program = one(sa.select(ProgramSession.program_id).join(Program, Program.id == ProgramSession.program_id)
                  .join(Signup, Signup.session_id == ProgramSession.id).where(Program.institute_id == institute)
                  .group_by(ProgramSession.program_id).order_by(sa.func.count().desc(), ProgramSession.program_id)
                  .limit(1))
    session = one(sa.select(Signup.session_id).join(ProgramSession, ProgramSession.id == Signup.session_id)
                  .where(ProgramSession.program_id == program).group_by(Signup.session_id)
                  .order_by(sa.func.count().desc(), Signup.session_id).limit(1))
    participant = one(sa.select(User.email).join(Signup, Signup.user_id == User.id).group_by(User.id, User.email)
                      .order_by(sa.func.count().desc(), User.id).limit(1))
    batch = one(sa.select(ImportBatch.id).order_by(ImportBatch.id.desc()).limit(1))
    return {"program_id": program, "batch_id": batch, "kind": "organizations",
            "user_id": one(sa.select(User.id).where(User.email == staff)),
            "session_id": session, "participant": participant,
            "code": one(sa.select(Credential.code).order_by(Credential.id).limit(1)),
            "slug": slug, "org_id": org, "pledge_id": pledge, "call_id": call, "proposal_id": proposal,
            "membership_id": membership, "notification_id": notification, "staff": staff, "admin": admin,
            "reviewer": reviewer, "draft_id": draft, "drafter": drafter,
            "network": f"network{seed}-1@{synthetic.DOMAIN}",
            "notified": one(sa.select(User.email).where(User.id == notified)),
            "entry_id": one(sa.select(LedgerEntry.id).where(LedgerEntry.pledge_id == pledge).limit(1)),
            "token": "not-a-valid-token"}  # the pages a mailed link opens: an expired or wrong link


# who looks at each endpoint: the role that sees the most on it
ROLE = {
    "institute_admin": "staff", "ledger.match": "network", "ledger.organization": "admin",
    "ledger.organization_csv": "admin", "ledger.new_pledge": "admin", "ledger.pledge": "staff",
    "memberships.detail": "admin", "memberships.apply": "admin", "notifications": "notified",
    "organizations.manage": "admin", "proposals.review": "reviewer", "proposals.edit": "drafter",
    "proposals.detail": "staff", "proposals.call": "staff", "proposals.calls": "staff", "institutes.detail": "staff",
    "auth.account": "admin", "organizations.detail": "admin", "workforce.my_sessions": "participant",
    "workforce.new_program": "staff", "workforce.edit_program": "staff", "workforce.manage_program": "staff",
    "workforce.edit_session": "staff", "workforce.roster": "staff", "workforce.roster_csv": "staff",
    "workforce.institute_programs": "staff", "ledger.federal_list": "network", "auth.reset_second_factor": "network",
    "auth.enrol": "participant", "auth.step_up": "staff", "main.index": "staff", "audit": "network",
    "network": "network", "imports": "network", "proposals.open_calls": "staff", "proposals.my_reviews": "reviewer",
    "proposals.my_proposals": "drafter",
    # the API's members' and invitations' reads take a personal access token (below), never a session
    "api_members.my_reviews": "reviewer", "api_members.my_organizations": "admin",
    "api_members.membership_detail": "admin", "api_members.partner_candidates": "drafter",
    "api_members.my_proposals": "drafter", "api_members": "staff",
    "api_invitations.OrganizationInvitations": "admin", "api_invitations.InstituteInvitations": "network",
    "api_invitations": "staff", "invitations.organization": "admin", "invitations.institute": "network",
    "invitations.proposal": "staff",
}

# endpoints read with `Authorization: Bearer`, as a script would
TOKEN_BLUEPRINTS = ("api_members.", "api_invitations.")


# routes about another object than the one their argument names everywhere else
OBJECT = {"proposals.edit": {"proposal_id": "draft_id"}, "api_members.partner_candidates": {"proposal_id": "draft_id"}}


def role_of(endpoint: str) -> str | None:
    for prefix, role in ROLE.items():
        if endpoint == prefix or endpoint.startswith(prefix + "."):
            return role
    return None


def signed_in(app, email: str | None, seed: int):
    """A test client signed in as ``email`` (None: signed out); administrators answer the second step, and
    a code already taken (an earlier run in the same 30 s) waits for the next."""
    client = app.test_client()
    if email:
        response = client.post("/login", data={"email": email, "password": synthetic.password(seed)})
        if response.headers.get("Location", "").endswith("/login/second-factor"):  # administrators
            totp = pyotp.TOTP(synthetic.totp_secret(seed))
            response = client.post("/login/second-factor", data={"code": totp.now()})
            if response.status_code == 422:
                time.sleep(totp.interval - time.time() % totp.interval + 1)
                response = client.post("/login/second-factor", data={"code": totp.now()})
        assert response.status_code == 302, (email, response.status_code)
    return client


def with_token(app, email: str):
    """A test client that sends a new read token of ``email``'s in every request (as the API's callers do;
    the API never reads a session), and the token's id, to revoke when done."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        token, secret = api_tokens.create(user, name="routes.py benchmark", scope="read", days=30,
                                          second_factor_at=None)
        db.session.commit()
        token_id = token.id
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client, token_id


def revoke_tokens(app, emails_and_ids: list[tuple[str, int]]) -> None:
    with app.app_context():
        for email, token_id in emails_and_ids:
            user = db.session.scalar(sa.select(User).where(User.email == email))
            token = api_tokens.token_of(user, token_id)
            if token is not None:
                api_tokens.revoke(user, token)
        db.session.commit()


def benchmark_app():
    return create_app("production", SECRET_KEY="benchmark", RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False,
                      SESSION_COOKIE_SECURE=False, MFA_ENCRYPTION_KEY=development_key())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds after the warm-up (at least 1)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--match", default="", help="only the routes this regular expression finds in their rule")
    parser.add_argument("--role", default="", help="every route as this role (staff, admin, network, reviewer, "
                        "drafter, notified, participant), to find a page that is heavy for someone else")
    parser.add_argument("--export-rounds", type=int, default=1, help="timed rounds of a CSV export (at most --rounds)")
    parser.add_argument("--export-mb", type=int, default=20, help="read at most this many MB of a CSV export")
    args = parser.parse_args()
    app = benchmark_app()
    with app.app_context():
        objects = heaviest(args.seed)
        sizes = {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (Organization, Membership, Proposal, LedgerEntry, AuditEvent, Notification)}
        engine = db.engine
        db.session.rollback()
    print("network:", ", ".join(f"{n:,} {name}" for name, n in sizes.items()), f"on {engine.dialect.name}")
    clients: dict[str | None, object] = {}
    token_clients: dict[str, object] = {}
    tokens: list[tuple[str, int]] = []

    def client_for(endpoint: str):
        role = args.role or role_of(endpoint)
        email = objects[role] if role else None
        if email and endpoint.startswith(TOKEN_BLUEPRINTS):
            if email not in token_clients:
                token_clients[email], token_id = with_token(app, email)
                tokens.append((email, token_id))
            return token_clients[email]
        if email not in clients:  # one sign-in per account (a second-factor code is taken once)
            clients[email] = signed_in(app, email, args.seed)
        return clients[email]

    statements: list[int] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))
    rows, skipped = [], []
    try:
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in SKIP or not re.search(args.match, rule.rule):
                continue
            chosen = OBJECT.get(rule.endpoint, {})
            missing = sorted(name for name in rule.arguments if objects.get(chosen.get(name, name)) is None)
            if missing:  # a route this script does not know yet, or no such object in this network
                skipped.append(f"{rule.rule} (no object for {', '.join(missing)})")
                continue
            values = {name: objects[chosen.get(name, name)] for name in rule.arguments}
            try:
                with app.test_request_context():
                    url = app.url_for(rule.endpoint, **values)
                rows.append((rule.rule, *measure(client_for(rule.endpoint), url, args.rounds, statements,
                                                    args.export_rounds, args.export_mb * 2**20)))
            except Exception as error:  # name the route and go on with the others
                with app.app_context():
                    db.session.rollback()
                skipped.append(f"{rule.rule} (failed: {type(error).__name__}: {error})")
    finally:  # the run's tokens stop working, whatever happened
        revoke_tokens(app, tokens)
    print_table(rows, skipped)


def measure(client, url: str, rounds: int, statements: list[int], export_rounds: int = 1,
            export_limit: int = 20 * 2**20) -> tuple:
    """A warm-up, the timed rounds, then one round under tracemalloc: status, median and p95 ms, queries,
    bytes, and for a CSV the median ms to its first byte and the peak of Python memory. A CSV's warm-up reads
    only its first piece, and it is timed ``export_rounds`` times at most (the network's audit log is
    millions of lines), reading at most ``export_limit`` bytes of it (the size then ends in "+")."""
    timings, first_bytes, peak = [], [], 0
    status, size, queries, csv, truncated = 0, 0, 0, False, False
    n, timed = 0, rounds
    while n < timed + 2:
        statements.clear()
        memory = n == timed + 1
        if memory:
            tracemalloc.start()
        started = time.perf_counter()
        response = client.get(url, buffered=False)
        chunks = iter(response.response)
        first = next(chunks, b"")
        first_byte = time.perf_counter() - started
        if n == 0 and response.mimetype == "text/csv":
            csv, timed = True, min(rounds, export_rounds)
            response.close()
            n += 1
            continue
        size = len(first)
        for chunk in chunks:
            size += len(chunk)
            if csv and size >= export_limit:  # the network's audit log is hundreds of megabytes
                truncated = True
                break
        elapsed = time.perf_counter() - started
        response.close()
        if memory:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        elif n:  # the first is a warm-up
            status, queries = response.status_code, len(statements)
            timings.append(elapsed * 1000)
            first_bytes.append(first_byte * 1000)
        else:
            status, queries = response.status_code, len(statements)
        n += 1
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return (status, statistics.median(timings), p95, queries, f"{size:,}" + ("+" if truncated else ""),
            statistics.median(first_bytes) if csv else None, peak if csv else None)


def print_table(rows: list[tuple], skipped: list[str]) -> None:
    print(f"{'route':52} {'status':>6} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'bytes':>10}"
          "  first byte ms, peak MB")
    for rule, status, median, p95, queries, size, first_byte, peak in rows:
        extra = f"  {first_byte:.1f}, {peak / 2**20:.1f}" if first_byte is not None else ""
        print(f"{rule:52} {status:>6} {median:>10.1f} {p95:>8.1f} {queries:>8} {size:>10}{extra}")
    slow = [row[0] for row in rows if row[2] >= 100]
    print(f"{len(rows)} routes; median under 100 ms: {len(rows) - len(slow)}; not: {', '.join(slow) or 'none'}")
    if skipped:
        print(f"skipped {len(skipped)}:", *skipped, sep="\n  ")


if __name__ == "__main__":
    main()
