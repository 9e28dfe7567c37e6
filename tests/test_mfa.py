"""The second factor: enrolment, signing in with it, recovery codes, step-up and a network administrator's reset."""

import hashlib
import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from portal.extensions import db
from portal.models import AuditEvent, LedgerEntry, Pledge, RecoveryCode, Role, User, UserSession
from portal.models.base import utcnow
from portal.services import DomainError
from tests.conftest import PASSWORD, link_in, login, mails_to, totp_code
from tests.factories import TOTP_SECRET, make_institute, make_pledge, make_staff, make_user
from tests.test_security import limited_app


def enrol(client) -> list[str]:
    """Set up an authenticator from the secret the page shows; return the recovery codes."""
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    response = client.post("/account/second-factor", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    return re.findall(r"<li>([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})</li>", response.get_data(as_text=True))


def test_an_institute_administrator_must_enrol_before_any_staff_page(client, app):
    institute = make_institute(app)
    staff = make_staff(app, institute, email="new@institute.example", second_factor=False)
    response = login(client, staff.email)
    assert response.status_code == 302  # no second step yet: nothing to ask for
    response = client.get(f"/institutes/{institute.slug}/manage")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/second-factor")
    wrong = client.post("/account/second-factor", data={"code": "000000"})
    assert wrong.status_code == 422 and b"not right" in wrong.data
    codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(f"/institutes/{institute.slug}/manage").status_code == 200
    with app.app_context():
        user = db.session.get(User, staff.id)
        assert user.has_second_factor
        stored = db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
        assert len(stored) == 10 and not set(codes) & set(stored)  # kept hashed


def test_a_member_may_go_without_a_second_factor_or_choose_one(client, app):
    member = make_user(app)
    login(client, member.email)
    assert client.get("/notifications/").status_code == 200
    enrol(client)
    client.post("/logout")
    response = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/login/second-factor")


def test_signing_in_asks_for_the_code_and_refuses_a_wrong_or_replayed_one(client, app):
    user = make_user(app, second_factor=True)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/login/second-factor")
    assert client.get("/account").status_code == 302  # the password alone signs nobody in
    response = client.post("/login/second-factor", data={"code": "123456"})
    assert response.status_code == 422 and b"not right" in response.data
    code = totp_code(app, user.email)
    assert client.post("/login/second-factor", data={"code": code}).status_code == 302
    assert client.get("/account").status_code == 200
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    assert other.post("/login/second-factor", data={"code": code}).status_code == 422  # used already


def test_a_recovery_code_signs_in_once(client, app):
    user = make_user(app)
    login(client, user.email)
    codes = enrol(client)
    client.post("/logout")
    for expected in (302, 422):
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        response = client.post("/login/second-factor", data={"code": codes[0].upper()})
        assert response.status_code == expected
        client.post("/logout")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "user.recovery_code_used")) == 1


def test_verifying_a_receipt_needs_a_fresh_second_factor(client, app, ledger_world):
    pledge = make_pledge(app, ledger_world.admin, ledger_world.organization, ledger_world.institute)
    login(client, ledger_world.recorder.email)
    client.post(f"/pledges/{pledge.id}/receipts", data={
        "receipt-amount": "1,000", "receipt-received_on": utcnow().date().isoformat(), "receipt-key": "r1"})
    client.post("/logout")
    login(client, ledger_world.checker.email)
    with app.app_context():
        receipt_id = db.session.scalar(sa.select(LedgerEntry.id).where(LedgerEntry.kind == "receipt"))
        db.session.execute(sa.update(UserSession).values(second_factor_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    url = f"/pledges/{pledge.id}/entries/{receipt_id}/verify"
    response = client.post(url, data={"entry-key": "v1"}, headers={"Referer": f"http://localhost/pledges/{pledge.id}"})
    assert response.status_code == 303
    assert f"/account/second-factor/confirm?next=/pledges/{pledge.id}" in response.headers["Location"]
    with app.app_context():
        assert db.session.get(Pledge, pledge.id).verified_cents == 0
    response = client.post(response.headers["Location"], data={"code": totp_code(app, ledger_world.checker.email)})
    assert response.headers["Location"] == f"/pledges/{pledge.id}"
    assert client.post(url, data={"entry-key": "v1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Pledge, pledge.id).verified_cents == 1_000_00


def test_adding_institute_staff_and_recording_federal_money_ask_for_step_up(client, app):
    institute = make_institute(app)
    admin = make_user(app, role=Role.NETWORK_ADMIN)
    make_user(app, email="next@institute.example")
    login(client, admin.email)
    with app.app_context():
        db.session.execute(sa.update(UserSession).values(second_factor_at=utcnow() - timedelta(minutes=20)))
        db.session.commit()
    response = client.post(f"/institutes/{institute.slug}/staff", data={"email": "next@institute.example"})
    assert response.status_code == 303 and "/account/second-factor/confirm" in response.headers["Location"]
    response = client.post("/ledger/federal", data={"federal-institute": institute.id})
    assert response.status_code == 303 and "/account/second-factor/confirm" in response.headers["Location"]
    client.post("/account/second-factor/confirm", data={"code": totp_code(app, admin.email)})
    response = client.post(f"/institutes/{institute.slug}/staff", data={"email": "next@institute.example"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#staff")


def test_a_network_administrator_resets_a_lost_second_factor(client, app):
    institute = make_institute(app)
    owner = make_staff(app, institute, email="lost@institute.example")
    admin = make_user(app, role=Role.NETWORK_ADMIN, email="netadmin@example.com")
    owner_client = app.test_client()
    login(owner_client, owner.email)
    # nobody else may
    login(client, make_staff(app, institute).email)
    assert client.post("/admin/second-factor-reset", data={"email": owner.email, "reason": "x"}).status_code == 403
    client.post("/logout")
    login(client, admin.email)
    response = client.post("/admin/second-factor-reset", data={"email": owner.email, "reason": ""})
    assert response.status_code == 422
    response = client.post("/admin/second-factor-reset", data={
        "email": owner.email, "reason": "Phone lost; called back on the number in the staff directory"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, owner.id)
        assert not user.has_second_factor
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.second_factor_reset"))
        assert event.actor_id == admin.id and event.subject_id == owner.id and "Phone lost" in event.reason
    [mail] = mails_to(app, owner.email)
    assert mail.subject == "Your second factor was reset" and "netadmin@example.com" in mail.body
    assert owner_client.get("/account").status_code == 302  # signed out everywhere
    login(owner_client, owner.email)
    assert owner_client.get(f"/institutes/{institute.slug}/manage").headers["Location"].endswith(
        "/account/second-factor")


def test_guessing_cannot_lock_out_an_owner_who_has_a_second_factor():
    app = limited_app(RATELIMIT_STORAGE_URI="memory://")
    owner = make_user(app, email="target@example.com", role=Role.NETWORK_ADMIN)
    member = make_user(app, email="plain@example.com")
    attacker, client = app.test_client(), app.test_client()
    for _ in range(3):
        attacker.post("/login", data={"email": owner.email, "password": "guess"})
    response = client.post("/login", data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 429  # the limit holds, even for the right password...
    assert b"/login/locked" in response.data
    wrong = client.post("/login/locked", data={"email": owner.email, "password": PASSWORD, "code": "000000"})
    assert wrong.status_code == 422 and b"password or code is not right" in wrong.data
    no_password = client.post("/login/locked", data={"email": owner.email, "password": "guess",
                                                     "code": totp_code(app, owner.email)})
    assert no_password.status_code == 422
    response = client.post("/login/locked", data={"email": owner.email, "password": PASSWORD,
                                                  "code": totp_code(app, owner.email)})
    assert response.status_code == 302  # ...but the password with a second factor gets in
    assert client.get("/account").status_code == 200
    # an account without a second factor has no such way in
    other = app.test_client()
    assert other.post("/login/locked", data={"email": member.email, "password": PASSWORD,
                                             "code": "123456"}).status_code == 422


def test_codes_are_limited_per_account_not_for_everyone():
    app = limited_app(RATELIMIT_STORAGE_URI="memory://")
    target = make_user(app, email="target@example.com", second_factor=True)
    other = make_user(app, email="other@example.com", second_factor=True)
    guesser = app.test_client()
    guesser.post("/login", data={"email": target.email, "password": PASSWORD})
    for _ in range(3):
        assert guesser.post("/login/second-factor", data={"code": "000000"}).status_code == 422
    assert guesser.post("/login/second-factor", data={"code": totp_code(app, target.email)}).status_code == 429
    someone = app.test_client()  # another account's second step is not held up
    someone.post("/login", data={"email": other.email, "password": PASSWORD})
    assert someone.post("/login/second-factor", data={"code": totp_code(app, other.email)}).status_code == 302


def test_a_locked_out_owner_without_an_authenticator_gets_in_by_a_mailed_link():
    app = limited_app(RATELIMIT_STORAGE_URI="memory://")
    owner = make_user(app, email="target@example.com")
    elsewhere = app.test_client()
    login(elsewhere, owner.email)
    attacker, client = app.test_client(), app.test_client()
    for _ in range(3):
        attacker.post("/login", data={"email": owner.email, "password": "guess"})
    assert client.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 429
    assert client.post("/login/link", data={"link-email": owner.email}).status_code == 302
    assert client.post("/login/link", data={"link-email": "nobody@example.com"}).status_code == 302
    assert mails_to(app, "nobody@example.com") == []
    [mail] = mails_to(app, owner.email)
    link = link_in(mail, "/login/link/")
    assert client.get(link).status_code == 200
    assert client.post(link, data={"password": "guess"}).status_code == 422  # the link alone is not enough
    assert client.post(link, data={"password": PASSWORD}).status_code == 302
    assert client.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302  # a guesser was about: the other sessions end
    client.post("/logout")
    response = client.get(link, follow_redirects=True)
    assert b"no longer valid" in response.data  # the link works once


def test_recovery_codes_carry_80_bits_in_groups_of_four_and_are_stored_as_argon2id(client, app):
    from portal.services import mfa

    user = make_user(app)
    login(client, user.email)
    codes = enrol(client)
    assert len(codes) == 10
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4] and set("".join(groups)) <= set(mfa.RECOVERY_ALPHABET)
    assert len(mfa.RECOVERY_ALPHABET) ** 16 == 2 ** 80
    with app.app_context():
        stored = db.session.scalars(sa.select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
        assert all(row.code_hash.startswith("$argon2id$") and not row.legacy for row in stored)
        assert not any(code.replace("-", "") in row.code_hash for code in codes for row in stored)


def test_a_recovery_code_is_read_as_people_type_it(client, app):
    from portal.services import mfa

    user = make_user(app)
    login(client, user.email)
    code = enrol(client)[3]
    typed = " ".join(code.lower().replace("-", "")[i:i + 4] for i in range(0, 16, 4)).replace("0", "o")
    with app.app_context():
        person = db.session.get(User, user.id)
        assert mfa.check(person, typed) == "recovery code"
        db.session.commit()
        with pytest.raises(DomainError):  # once
            mfa.check(person, code)


def old_recovery_code(app, user, code: str = "abc123-def456") -> None:
    """A code of the kind made before 80-bit codes, as the migration left it: its SHA-256 in argon2id."""
    from argon2 import PasswordHasher

    digest = hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    with app.app_context():
        db.session.add(RecoveryCode(user_id=user.id, code_hash=PasswordHasher().hash(digest), legacy=True))
        db.session.commit()


def test_an_old_recovery_code_works_once_and_its_owner_is_asked_for_new_ones(client, app):
    user = make_user(app, second_factor=True)
    old_recovery_code(app, user)
    login(client, user.email)
    assert b"older, shorter kind" in client.get("/account").data
    client.post("/logout")
    for expected in (302, 422):
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert client.post("/login/second-factor", data={"code": "ABC123 DEF456"}).status_code == expected
        client.post("/logout")


def raw_secret(app, table: str, column: str, row_id: int) -> str | None:
    with app.app_context():
        return db.session.execute(sa.text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": row_id}).scalar()


def test_authenticator_secrets_are_encrypted_at_rest_and_keys_rotate(client, app, runner):
    from portal.models import encryption

    user = make_user(app, second_factor=True)
    stored = raw_secret(app, "users", "totp_secret", user.id)
    assert stored.startswith("gAAAAA") and TOTP_SECRET not in stored  # a Fernet token
    with app.app_context():
        assert db.session.get(User, user.id).totp_secret == TOTP_SECRET
    assert login(client, user.email).status_code == 302

    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["MFA_ENCRYPTION_KEY"] = first
    with app.app_context(), pytest.raises(RuntimeError, match="cannot be decrypted"):  # made by the derived key
        db.session.get(User, user.id)
    app.config["MFA_ENCRYPTION_KEY"] = f"{first},{encryption.derived_key(app.config['SECRET_KEY']).decode()}"
    assert "1 secret(s) encrypted under the first key" in runner.invoke(args=["mfa", "rekey"]).output
    assert Fernet(first).decrypt(raw_secret(app, "users", "totp_secret", user.id).encode()).decode() == TOTP_SECRET
    app.config["MFA_ENCRYPTION_KEY"] = f"{second},{first}"
    runner.invoke(args=["mfa", "rekey"])
    app.config["MFA_ENCRYPTION_KEY"] = second  # the old key is gone; the secret is still read
    client.post("/logout")
    assert login(client, user.email).status_code == 302
    assert client.get("/account").status_code == 200


def test_the_secret_being_set_up_waits_on_the_server_not_in_the_cookie(client, app):
    user = make_user(app)
    login(client, user.email)
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    contents = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert secret not in repr(contents) and "enrol_secret" not in contents
    with app.app_context():
        record = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
        assert record.pending_totp_secret == secret
    assert secret not in raw_secret(app, "user_sessions", "pending_totp_secret", record.id)
    assert client.post("/account/second-factor", data={"code": pyotp.TOTP(secret).now()}).status_code == 200
    with app.app_context():
        assert db.session.get(UserSession, record.id).pending_totp_secret is None
        assert db.session.get(User, user.id).totp_secret == secret


def test_the_migration_encrypts_secrets_keeps_old_recovery_codes_and_goes_back(tmp_path):
    """Up: a plain secret is encrypted and an old recovery code (stored as SHA-256) still works once.
    Down: the secret is plain again; recovery codes, argon2id hashes the older code cannot read, are gone."""
    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from portal.services import mfa

    before = "4e8b2d6f1a37"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'mfa.db'}")
    with app.app_context():
        upgrade(revision=before)
    with app.app_context():  # as the schema was then: the models are newer
        user_id = db.session.execute(sa.text(
            "INSERT INTO users (email, full_name, password_hash, active, role, session_token, totp_secret, "
            "totp_enrolled_at, created_at) VALUES ('old@example.com', 'Old Hand', 'x', true, 'member', 'token', "
            ":secret, :now, :now) RETURNING id"), {"secret": TOTP_SECRET, "now": utcnow()}).scalar()
        for code in ("abc123-def456", "0a0b0c-1d1e1f"):
            digest = hashlib.sha256(code.replace("-", "").encode()).hexdigest()
            db.session.execute(sa.text("INSERT INTO recovery_codes (user_id, code_hash) VALUES (:u, :h)"),
                               {"u": user_id, "h": digest})
        db.session.commit()
        upgrade()
        db.session.remove()
    assert raw_secret(app, "users", "totp_secret", user_id).startswith("gAAAAA")
    with app.app_context():
        person = db.session.get(User, user_id)
        assert person.totp_secret == TOTP_SECRET and mfa.has_old_recovery_codes(person)
        assert mfa.check(person, "abc123-def456") == "recovery code"
        db.session.commit()
        with pytest.raises(DomainError):
            mfa.check(person, "abc123-def456")
        db.session.rollback()
        db.session.remove()
        downgrade(revision=before)
        assert db.session.execute(sa.text("SELECT totp_secret FROM users")).scalar() == TOTP_SECRET
        assert db.session.execute(sa.text("SELECT count(*) FROM recovery_codes")).scalar() == 0
        db.session.remove()
        db.engine.dispose()
