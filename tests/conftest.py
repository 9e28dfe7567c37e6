"""Fixtures: an app with a fresh schema per test, its client and CLI runner.

Requests from the test client get their own app context and database session, as in production,
so tests touch the database inside ``with app.app_context():`` blocks and never make requests
from inside one.
"""

import os
import re
import uuid

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.models import OutboxMessage

PASSWORD = "correct horse battery staple"


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
        overrides.setdefault("CACHE_KEY_PREFIX", f"test-{uuid.uuid4().hex}")  # a shared Redis keeps tests apart
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


def login(client, email: str, password: str = PASSWORD, follow_redirects: bool = False):
    """Sign in through the real form."""
    return client.post("/login", data={"email": email, "password": password},
                       follow_redirects=follow_redirects)


def mails_to(app, address: str) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.to_address == address).order_by(OutboxMessage.id)
        ))


def without_tokens(html: bytes) -> bytes:
    """A page with its fresh CSRF tokens taken out, to compare two pages' content."""
    return re.sub(rb'name="csrf_token" value="[^"]*"', b"", html)


def link_in(message: OutboxMessage, path_prefix: str) -> str:
    """The site-relative link starting with ``path_prefix`` in a mail's body."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"\S+)", message.body)
    assert match, f"no {path_prefix} link in: {message.body}"
    return match.group(1)
