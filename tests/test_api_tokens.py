"""Personal access tokens: made on the account page after a fresh second factor, shown once, kept hashed,
scoped, expiring, revocable, with their last use; a cookie never authenticates the API."""

import re

import sqlalchemy as sa

from portal.extensions import db
from portal.models import ApiToken, AuditEvent, User
from portal.services import api_tokens
from tests.api_helpers import age_token, assert_problem, bearer, make_token
from tests.conftest import login
from tests.factories import make_user


def test_a_token_is_made_after_a_fresh_second_factor_shown_once_and_kept_hashed(app, client):
    user = make_user(app, email="cfo@acme.example", second_factor=True)
    login(client, user.email)
    form = {"token-name": "CRM sync", "token-scope": "write", "token-days": "90"}
    page = client.post("/account/tokens", data=form)
    assert page.status_code == 201
    secret = re.search(r"mfgp_[A-Za-z0-9_-]{43}", page.get_data(as_text=True)).group(0)
    with app.app_context():
        token = db.session.scalar(sa.select(ApiToken))
        assert token.token_hash == api_tokens.hash_of(secret) and secret not in token.token_hash
        assert token.scope == "write" and 89 <= (token.expires_at - token.created_at).days <= 90
        assert db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "user.api_token_created"))
    account = client.get("/account").get_data(as_text=True)
    assert "CRM sync" in account and secret not in account and secret[:9] in account
    assert client.get("/api/v1/me/organizations", headers=bearer(secret)).status_code == 200


def test_making_a_token_asks_for_the_second_factor_again_when_it_is_not_fresh(app, client):
    user = make_user(app, email="nofactor@acme.example")
    login(client, user.email)
    answer = client.post("/account/tokens", data={"token-name": "x", "token-scope": "read", "token-days": "30"})
    assert answer.status_code == 303 and "/account/second-factor" in answer.headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_a_lifetime_longer_than_a_year_is_refused(app, client):
    user = make_user(app, email="long@acme.example", second_factor=True)
    login(client, user.email)
    page = client.post("/account/tokens", data={"token-name": "x", "token-scope": "read", "token-days": "3650"})
    assert page.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_revoked_and_expired_tokens_stop_working(app, client):
    user = make_user(app, email="rev@acme.example", second_factor=True)
    secret = make_token(app, user, "read")
    other = make_token(app, user, "read")
    login(client, user.email)
    with app.app_context():
        token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_of(secret)))
    page = client.post(f"/account/tokens/{token.id}/revoke")
    assert page.status_code == 302
    assert_problem(client.get("/api/v1/me/organizations", headers=bearer(secret)), 401)
    age_token(app, other, days=31)
    assert_problem(client.get("/api/v1/me/organizations", headers=bearer(other)), 401)
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "user.api_token_revoked"))


def test_someone_elses_token_cannot_be_revoked(app, client):
    owner = make_user(app, email="owner@acme.example")
    make_token(app, owner, "read")
    intruder = make_user(app, email="intruder@acme.example")
    login(client, intruder.email)
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404


def test_a_disabled_accounts_tokens_stop_working(app, client):
    user = make_user(app, email="gone@acme.example")
    secret = make_token(app, user, "read")
    assert client.get("/api/v1/me/organizations", headers=bearer(secret)).status_code == 200
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert_problem(client.get("/api/v1/me/organizations", headers=bearer(secret)), 401)


def test_last_use_is_written_at_most_once_a_minute(app, client):
    user = make_user(app, email="busy@acme.example")
    secret = make_token(app, user, "read")

    def last_use():
        with app.app_context():
            return db.session.scalar(sa.select(ApiToken.last_used_at))

    assert last_use() is None
    client.get("/api/v1/me/organizations", headers=bearer(secret))
    first = last_use()
    client.get("/api/v1/me/organizations", headers=bearer(secret))
    assert first is not None and last_use() == first
    age_token(app, secret, minutes=2)
    client.get("/api/v1/me/organizations", headers=bearer(secret))
    assert last_use() > first - __import__("datetime").timedelta(minutes=2)


def test_a_signed_in_cookie_does_not_authenticate_the_api(app, client):
    user = make_user(app, email="cookie@acme.example")
    login(client, user.email)
    assert client.get("/account").status_code == 200  # signed in on the pages
    assert_problem(client.get("/api/v1/me/organizations"), 401)


def test_a_read_token_cannot_write_and_a_bad_header_is_refused(app, client):
    user = make_user(app, email="reader@acme.example")
    secret = make_token(app, user, "read")
    body = assert_problem(client.post("/api/v1/pledges", json={}, headers=bearer(secret)), 403)
    assert "read" in body["detail"]
    assert_problem(client.get("/api/v1/me/organizations", headers={"Authorization": f"Token {secret}"}), 401)
    assert_problem(client.get("/api/v1/me/organizations", headers=bearer("mfgp_" + "x" * 43)), 401)


def test_api_answers_neither_vary_with_nor_set_cookies_and_leave_the_pages_session_alone(app, client):
    signed_in = make_user(app, email="cookie@acme.example")
    other = make_user(app, email="script@acme.example")
    login(client, signed_in.email)
    token = make_token(app, other)
    answers = [client.get("/api/v1/institutes"), client.get("/api/v1/openapi.json"),
               client.get("/api/v1/me/organizations"), client.get("/api/v1/nothing-here"),
               client.get("/api/v1/me/organizations", headers=bearer(token)),
               client.post("/api/v1/pledges", json={}, headers=bearer(token))]
    assert [a.status_code for a in answers] == [200, 200, 401, 404, 200, 422]
    for answer in answers:
        assert "Cookie" not in answer.vary, answer.request.path
        assert "Set-Cookie" not in answer.headers, answer.request.path
    # the token, not the cookie, is the caller; the cookie still signs in on the pages
    assert client.get("/api/v1/me/organizations", headers=bearer(token)).get_json() == []
    page = client.get("/account")
    assert page.status_code == 200 and "Cookie" in page.vary
    assert client.get("/api/v1/docs").status_code == 200  # a page of the site, with its session
