"""Prints (1) how long registering through an invitation takes when the invited address already has an account
and when it does not: the two should be close, so that the answer's time does not tell whether an account
exists (production argon2id cost); (2) how long /calls, its Atom feed and the deadlines calendar take, and how
many queries each makes, with 18 institutes, 360 open calls and 500 sessions to come.

Run: PYTHONPATH=. .venv/bin/python tests/benchmarks/invitations_and_calls.py [rounds]
"""

import statistics
import sys
import time
from datetime import timedelta

import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    CallStatus,
    Criterion,
    Institute,
    Organization,
    OutboxMessage,
    Program,
    ProgramSession,
    ProjectCall,
    User,
)
from portal.models.base import utcnow
from portal.services import institutes, invitations, passwords
from tests.factories import make_organization

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
PASSWORD = "granite lantern orchard velvet"


def median_ms(timings: list[float]) -> str:
    return f"median {statistics.median(timings):7.1f} ms   min {min(timings):7.1f} ms   max {max(timings):7.1f} ms"


def invitation_timing(app) -> None:
    with app.app_context():
        admin = User(email="admin@example.com", full_name="Admin", email_verified_at=utcnow(),
                     password_hash=passwords.hash_password(PASSWORD))
        db.session.add(admin)
        organization = make_organization(app, name="Benchmark Works")
        db.session.add(Affiliation(user_id=admin.id, organization_id=organization.id, role=AffiliationRole.ADMIN,
                                   status=AffiliationStatus.ACTIVE))
        for n in range(ROUNDS):
            db.session.add(User(email=f"known{n}@example.com", full_name="Known", email_verified_at=utcnow(),
                                password_hash=passwords.hash_password(PASSWORD)))
        db.session.commit()
        admin_id, org_id = admin.id, organization.id
    for case in ("has an account", "has none"):
        timings = []
        for n in range(ROUNDS):
            address = f"known{n}@example.com" if case == "has an account" else f"new{n}@example.com"
            with app.test_request_context():
                invitations.invite_colleague(db.session.get(User, admin_id), db.session.get(Organization, org_id),
                                             address)
                body = db.session.scalar(sa.select(OutboxMessage.body).order_by(OutboxMessage.id.desc()).limit(1))
                db.session.commit()
            token = (body or "").split("/invitations/")[1].split()[0]  # the token itself is only in the mail
            client = app.test_client()
            started = time.perf_counter()
            client.post(f"/invitations/{token}/register", data={"full_name": "Pat Person", "password": PASSWORD})
            timings.append((time.perf_counter() - started) * 1000)
        print(f"register through an invitation, the address {case:15} {median_ms(timings)}")


def calls_timing(app) -> None:
    with app.app_context():
        institutes.seed(institutes.seed_records())
        creator = db.session.scalar(sa.select(User.id))
        now = utcnow()
        for institute in db.session.scalars(sa.select(Institute)):
            for n in range(20):
                call = ProjectCall(institute_id=institute.id, title=f"{institute.acronym} call {n}",
                                   description="A call.",
                                   opens_at=now - timedelta(days=n), closes_at=now + timedelta(days=3 + 5 * n),
                                   max_federal_cents=1_000_000_00, min_cost_share_bp=5000, trl_min=3, trl_max=6,
                                   mrl_min=3, mrl_max=6, status=CallStatus.OPEN, created_by_id=creator)
                call.criteria = [Criterion(position=1, name="Merit", weight=100)]
                db.session.add(call)
            program = Program(institute_id=institute.id, kind="course", title=f"{institute.acronym} course",
                              format="in_person")
            db.session.add(program)
            db.session.flush()
            for n in range(28):
                start = now + timedelta(days=2 + 11 * n)
                db.session.add(ProgramSession(program_id=program.id, starts_at=start,
                                              ends_at=start + timedelta(hours=3), fiscal_year=start.year,
                                              capacity=20, place="Hall", state="OH"))
        db.session.commit()
    statements = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    client = app.test_client()
    for path in ("/calls", "/calls?closing_soon=y", "/calls/feed.atom", "/calls/deadlines.ics"):
        client.get(path)  # warm
        timings = []
        for _ in range(ROUNDS):
            statements.clear()
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{path:24} {response.status_code} {len(response.data):7} bytes  {len(statements):2} queries  "
              f"{median_ms(timings)}")


def main() -> None:
    app = create_app("development", SECRET_KEY="benchmark", SQLALCHEMY_DATABASE_URI="sqlite://",
                     WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
    print(f"argon2id time_cost={app.config['ARGON2_TIME_COST']} memory={app.config['ARGON2_MEMORY_COST_KIB']} KiB, "
          f"{ROUNDS} rounds each")
    invitation_timing(app)
    calls_timing(app)


if __name__ == "__main__":
    main()
