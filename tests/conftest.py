"""Fixtures: an app with a fresh schema per test, its client and CLI runner.

Requests from the test client get their own app context and database session, as in production,
so tests touch the database inside ``with app.app_context():`` blocks and never make requests
from inside one.
"""

import os
import re
import uuid

import pyotp
import pytest
import sqlalchemy as sa
from flask import has_app_context

from portal import create_app
from portal.extensions import db
from portal.models import OrgSize, OutboxMessage, Sector, User
from tests.factories import (
    PASSWORD,
    TOTP_SECRET,
    affiliate,
    make_institute,
    make_membership,
    make_organization,
    make_staff,
    make_tier,
    make_user,
    org_admin,
)


def require_service(name: str, reason: str) -> None:
    """Skip a test whose service is missing, or fail it when CI requires every service."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is required here (REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"{name} is not available: {reason}")


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres:")):
        require_service("PostgreSQL", "DATABASE_URL does not point at PostgreSQL")
    return url


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        require_service("Redis", "REDIS_URL is not set")
    return url


@pytest.fixture
def make_app():
    """Build testing apps with a fresh schema; each is dropped and disconnected afterwards."""
    made = []

    def make(**overrides):
        prefix = f"test-{uuid.uuid4().hex}"  # a shared Redis keeps tests (and parallel workers) apart
        overrides.setdefault("CACHE_KEY_PREFIX", prefix)
        overrides.setdefault("RATELIMIT_KEY_PREFIX", prefix)
        app = create_app("testing", **overrides)
        with app.app_context():
            db.create_all()
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            latest = app.extensions.get("snapshot_latest")  # the snapshot's own connection (PostgreSQL)
            if latest and latest["connection"] is not None:
                latest["connection"].close()
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.rollback()


def totp_code(app, email: str, secret: str = TOTP_SECRET) -> str:
    """The authenticator code of a test person with TOTP_SECRET, usable now.

    The portal accepts each code once; so that a test may sign the same person in several times within
    one 30-second step, this forgets which step was used last, as the passing of time would (committed in
    the test's own app context when it has one, as a test does before it makes a request)."""
    forget = sa.update(User).where(User.email == email.lower()).values(totp_last_step=None)
    if has_app_context():
        db.session.execute(forget)
        db.session.commit()
    else:
        with app.app_context():
            db.session.execute(forget)
            db.session.commit()
    return pyotp.TOTP(secret).now()


def login(client, email: str, password: str = PASSWORD, follow_redirects: bool = False,
          totp_secret: str = TOTP_SECRET):
    """Sign in through the real form, answering the second step with the test authenticator if asked."""
    response = client.post("/login", data={"email": email, "password": password})
    if response.status_code == 302 and response.headers["Location"].endswith("/login/second-factor"):
        code = totp_code(client.application, email, totp_secret)
        response = client.post("/login/second-factor", data={"code": code})
    if follow_redirects and response.status_code in (302, 303):
        return client.get(response.headers["Location"], follow_redirects=True)
    return response


def mails_to(app, address: str) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.to_address == address).order_by(OutboxMessage.id)
        ))


def work_the_outbox(app) -> None:
    """One pass of the outbox worker: password-reset requests answered, mail delivered (to the log)."""
    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output


def without_tokens(html: bytes) -> bytes:
    """A page with its fresh CSRF tokens taken out, to compare two pages' content."""
    return re.sub(rb'name="csrf_token" value="[^"]*"', b"", html)


def link_in(message: OutboxMessage, path_prefix: str) -> str:
    """The site-relative link starting with ``path_prefix`` in a mail's body."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"\S+)", message.body)
    assert match, f"no {path_prefix} link in: {message.body}"
    return match.group(1)


# The worlds tests start from --------------------------------------------------------------------

@pytest.fixture
def ledger_world(app):
    """A member organization with its admin, and two administrators of its institute to record and verify."""
    institute = make_institute(app)
    tier = make_tier(app, institute)
    admin, organization = org_admin(app, email="cfo@acme.example")
    make_membership(app, organization, institute, tier)
    recorder = make_staff(app, institute, email="recorder@institute.example")
    checker = make_staff(app, institute, email="checker@institute.example")
    return type("World", (), {"institute": institute, "admin": admin, "organization": organization,
                              "recorder": recorder, "checker": checker})


@pytest.fixture
def membership_world(app):
    """An institute with a Gold tier and one administrator; an organization with its admin."""
    institute = make_institute(app)
    tier = make_tier(app, institute)
    staff = make_staff(app, institute, email="staff@institute.example")
    admin, organization = org_admin(app, email="admin@acme.example")
    return type("World", (), {"institute": institute, "tier": tier, "staff": staff, "admin": admin,
                              "organization": organization})


@pytest.fixture
def proposal_world(app):
    """An institute with a tier that may lead and one that may not, its administrator, three member
    organizations (large firm, small firm, university) with their admins, an engineer of the large firm,
    two reviewers and an outsider."""
    institute = make_institute(app)
    lead_tier = make_tier(app, institute, name="Gold", may_lead=True)
    join_tier = make_tier(app, institute, name="Silver", may_lead=False)
    staff = make_staff(app, institute, email="staff@institute.example")
    lead_admin, lead = org_admin(app, make_organization(app, name="Big Aero", size=OrgSize.LARGE),
                                 email="lead@bigaero.example")
    small_admin, small = org_admin(app, make_organization(app, name="Tiny Parts", size=OrgSize.SMALL),
                                   email="admin@tiny.example")
    uni_admin, uni = org_admin(app, make_organization(app, name="State Tech", sector=Sector.ACADEMIC),
                               email="dean@statetech.example")
    for organization, tier in ((lead, lead_tier), (small, join_tier), (uni, join_tier)):
        make_membership(app, organization, institute, tier)
    engineer = make_user(app, email="engineer@bigaero.example")
    affiliate(app, engineer, lead)
    reviewer_one = make_user(app, email="reviewer1@example.com", full_name="Rev One")
    reviewer_two = make_user(app, email="reviewer2@example.com", full_name="Rev Two")
    outsider = make_user(app, email="outsider@example.com")
    return type("World", (), dict(**locals()))


@pytest.fixture(scope="module")
def ledger_property_world(tmp_path_factory):
    """The ledger's property tests: one app and SQLite schema for the module (hypothesis runs many examples
    in one test); every example works on a fresh pledge. Yields the app and the ids of the admin, the
    organization, the institute and two administrators."""
    path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
    institute = make_institute(app)
    tier = make_tier(app, institute)
    admin, organization = org_admin(app)
    make_membership(app, organization, institute, tier)
    recorder, checker = make_staff(app, institute), make_staff(app, institute)
    yield app, admin.id, organization.id, institute.id, recorder.id, checker.id
    with app.app_context():
        db.engine.dispose()
