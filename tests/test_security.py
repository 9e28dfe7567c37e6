"""Headers, CSRF, error pages, health probes, rate limits and the secret key."""

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet

from portal import create_app
from portal.extensions import db, limiter
from tests.conftest import PASSWORD, login, redis_url
from tests.factories import make_user


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # only in production, over HTTPS


def test_pages_have_no_inline_script_or_style(client, app):
    for url in ["/", "/institutes/", "/register", "/login", "/forgot-password"]:
        html = client.get(url).data.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html and "<style" not in html, url


def test_production_config_sends_hsts_and_secure_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    app = create_app("production", SECRET_KEY="x" * 64, SQLALCHEMY_DATABASE_URI="sqlite://",
                     MFA_ENCRYPTION_KEY=Fernet.generate_key().decode())
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/healthz")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY=None, SQLALCHEMY_DATABASE_URI="sqlite://")


def test_production_refuses_to_start_without_its_own_key_for_authenticator_secrets():
    with pytest.raises(RuntimeError, match="MFA_ENCRYPTION_KEY"):
        create_app("production", SECRET_KEY="x" * 64, SQLALCHEMY_DATABASE_URI="sqlite://", MFA_ENCRYPTION_KEY=None)
    with pytest.raises(RuntimeError, match="Fernet keys"):
        create_app("production", SECRET_KEY="x" * 64, SQLALCHEMY_DATABASE_URI="sqlite://",
                   MFA_ENCRYPTION_KEY="not-a-key")


def test_a_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    import portal
    monkeypatch.setattr(portal, "PROJECT_ROOT", tmp_path)
    first = create_app("development", SECRET_KEY=None, SQLALCHEMY_DATABASE_URI="sqlite://")
    second = create_app("development", SECRET_KEY=None, SQLALCHEMY_DATABASE_URI="sqlite://")
    key_file = tmp_path / "instance" / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) == 64
    assert key_file.stat().st_mode & 0o077 == 0


def test_session_cookie_is_httponly_and_samesite_lax(client, app):
    user = make_user(app)
    response = login(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


class TestCsrf:
    @pytest.fixture
    def app(self, make_app):
        return make_app(WTF_CSRF_ENABLED=True)

    def test_a_form_without_a_token_is_refused(self, client, app):
        user = make_user(app)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 400
        assert b"The form had expired" in response.data
        assert client.get("/account").status_code == 302

    def test_the_same_form_with_its_token_works(self, client, app):
        user = make_user(app)
        page = client.get("/login").data.decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302

    def test_sign_out_needs_a_token(self, client, app):
        assert client.post("/logout").status_code == 400


def test_error_pages_use_the_site_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Skip to main content" in response.data and b"Page not found" in response.data


def test_server_error_page_rolls_back_and_explains(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert b"Something went wrong" in response.data


def test_api_errors_are_problem_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404


def test_healthz_is_tiny_and_needs_no_database(app):
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.data == b"ok\n"


def test_readyz_checks_the_database(client):
    assert client.get("/readyz").status_code == 200


def test_readyz_reports_an_unreachable_database():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
                     SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503


def limited_app(**overrides):
    app = create_app("testing", RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
                     LOGIN_LIMIT_PER_ADDRESS="5 per minute", SQLALCHEMY_DATABASE_URI="sqlite://", **overrides)
    with app.app_context():
        db.create_all()
    return app


def test_login_is_rate_limited_per_account():
    app = limited_app(RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    for _ in range(3):
        assert login(client, "target@example.com", "guess").status_code == 422
    response = login(client, "target@example.com", "guess")
    assert response.status_code == 429
    assert b"Too many attempts" in response.data
    assert login(client, "someone-else@example.com", "guess").status_code == 422


def test_login_is_rate_limited_per_address():
    app = limited_app(RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    for n in range(5):
        assert login(client, f"user{n}@example.com", "guess").status_code == 422
    assert login(client, "user9@example.com", "guess").status_code == 429


OTHER_SERVER = """
import sys
from tests.test_security import limited_app
from tests.conftest import login
app = limited_app(RATELIMIT_STORAGE_URI=sys.argv[1], RATELIMIT_KEY_PREFIX=sys.argv[2])
print(*(login(app.test_client(), "target@example.com", "guess").status_code for _ in range(3)))
"""


def test_rate_limits_are_shared_through_redis_by_several_app_servers():
    url = redis_url()
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as error:
        pytest.fail(f"REDIS_URL is set but Redis does not answer: {error}")
    prefix = f"test-{uuid.uuid4().hex}"
    # another app server, in its own process, uses up the account's attempts...
    other = subprocess.run([sys.executable, "-c", OTHER_SERVER, url, prefix], capture_output=True,
                           text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert other.stdout.split() == ["422", "422", "422"], other.stderr
    # ...so this one refuses the next attempt
    app = limited_app(RATELIMIT_STORAGE_URI=url, RATELIMIT_KEY_PREFIX=prefix)
    try:
        assert login(app.test_client(), "target@example.com", "guess").status_code == 429
    finally:
        limiter.reset()
