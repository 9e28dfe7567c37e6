"""Server-side sessions: idle timeout, absolute lifetime, the account page's list, and ending them."""

from datetime import timedelta

import sqlalchemy as sa
from cryptography.fernet import Fernet

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, User, UserSession
from portal.models.base import utcnow
from portal.services import accounts
from tests.conftest import PASSWORD, link_in, login, mails_to, work_the_outbox
from tests.factories import make_user

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


def sessions_of(app, user) -> list[UserSession]:
    with app.app_context():
        return list(db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)
                                       .order_by(UserSession.id)))


def age_sessions(app, user, **ago) -> None:
    """Move every session of ``user`` into the past: last_seen/created by the given timedeltas."""
    with app.app_context():
        values = {column: utcnow() - delta for column, delta in ago.items()}
        db.session.execute(sa.update(UserSession).where(UserSession.user_id == user.id).values(**values))
        db.session.commit()


def test_a_session_ends_after_30_minutes_unused(client, app):
    user = make_user(app)
    login(client, user.email)
    age_sessions(app, user, last_seen_at=timedelta(minutes=29))
    assert client.get("/account").status_code == 200
    age_sessions(app, user, last_seen_at=timedelta(minutes=31))
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_session_in_daily_use_still_ends_12_hours_after_sign_in(client, app):
    user = make_user(app)
    login(client, user.email)
    age_sessions(app, user, created_at=timedelta(hours=11, minutes=59), last_seen_at=timedelta(seconds=5))
    assert client.get("/account").status_code == 200
    age_sessions(app, user, created_at=timedelta(hours=12, minutes=1), last_seen_at=timedelta(seconds=5))
    assert client.get("/account").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(client, app):
    user = make_user(app)
    login(client, user.email)
    age_sessions(app, user, last_seen_at=timedelta(seconds=30))
    [before] = sessions_of(app, user)
    client.get("/account")
    client.get("/")
    [after] = sessions_of(app, user)
    assert after.last_seen_at == before.last_seen_at
    age_sessions(app, user, last_seen_at=timedelta(seconds=61))
    client.get("/")
    [touched] = sessions_of(app, user)
    assert utcnow() - touched.last_seen_at < timedelta(seconds=5)


def test_the_account_page_lists_sessions_and_ends_one_of_them(app):
    user = make_user(app)
    laptop = app.test_client()
    phone = app.test_client()
    laptop.environ_base.update(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="198.51.100.7")
    phone.environ_base.update(HTTP_USER_AGENT=SAFARI, REMOTE_ADDR="203.0.113.9")
    login(laptop, user.email)
    login(phone, user.email)
    page = laptop.get("/account").get_data(as_text=True)
    assert "Firefox on Windows" in page and "198.51.100.7" in page
    assert "Mobile Safari on iOS" in page and "203.0.113.9" in page
    phone_session = sessions_of(app, user)[1]
    response = laptop.post(f"/account/sessions/{phone_session.id}/end")
    assert response.status_code == 302
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200
    assert len(sessions_of(app, user)) == 1
    # someone else's session is not theirs to end
    other = make_user(app)
    login(app.test_client(), other.email)
    [others] = sessions_of(app, other)
    laptop.post(f"/account/sessions/{others.id}/end")
    assert len(sessions_of(app, other)) == 1


def test_signing_out_of_other_sessions_keeps_this_one(app):
    user = make_user(app)
    this, other = app.test_client(), app.test_client()
    login(this, user.email)
    login(other, user.email)
    assert this.post("/account/sessions").status_code == 302
    assert this.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    assert len(sessions_of(app, user)) == 1


def test_a_password_change_ends_every_other_session(app):
    user = make_user(app)
    this, other = app.test_client(), app.test_client()
    login(this, user.email)
    login(other, user.email)
    response = this.post("/account/password", data={"current_password": PASSWORD,
                                                     "new_password": "a brand new passphrase"})
    assert response.status_code == 302
    assert this.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    assert len(sessions_of(app, user)) == 1


def test_a_reset_ends_every_session(app):
    user = make_user(app, email="forgetful@example.com")
    signed_in = app.test_client()
    login(signed_in, user.email)
    resetting = app.test_client()
    resetting.post("/forgot-password", data={"email": user.email})
    work_the_outbox(app)  # the worker answers reset requests
    link = link_in(mails_to(app, user.email)[-1], "/reset-password/")
    assert resetting.post(link, data={"password": "another long passphrase"}).status_code == 302
    assert signed_in.get("/account").status_code == 302
    assert sessions_of(app, user) == []


def test_a_disabled_account_is_signed_out_everywhere(client, app):
    user = make_user(app)
    admin = make_user(app, role="network_admin")
    login(client, user.email)
    with app.app_context():
        accounts.disable(db.session.get(User, admin.id), db.session.get(User, user.id), reason="Left the company")
        db.session.commit()
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "user.disabled"))
    assert sessions_of(app, user) == []
    assert client.get("/account").status_code == 302


def test_production_session_cookie_uses_the_host_prefix(tmp_path):
    app = create_app("production", SECRET_KEY="x" * 32, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/p.db",
                     MFA_ENCRYPTION_KEY=Fernet.generate_key().decode())
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/login", base_url="https://portal.example.org")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-portal_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    with app.app_context():
        db.engine.dispose()
