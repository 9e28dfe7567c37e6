"""Registration, verification, sign-in and out, passwords and sessions."""

import base64
import hashlib

import sqlalchemy as sa
from argon2 import PasswordHasher

from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    AuditEvent,
    Organization,
    PasswordResetRequest,
    User,
)
from portal.services import DomainError, accounts, organizations
from portal.services.organizations import OrganizationChoice
from tests.conftest import PASSWORD, link_in, login, mails_to, without_tokens, work_the_outbox
from tests.factories import make_organization, make_user, org_admin

NEW_ORG = {"organization": "Acme Additive LLC", "sector": "industry", "size": "small", "state": "OH"}


def register(client, email="ada@acme.example", password=PASSWORD, **org):
    data = {"full_name": "Ada Lovelace", "email": email, "password": password, **(org or NEW_ORG)}
    return client.post("/register", data=data)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def verify(client, app, email):
    link = link_in(mails_to(app, email)[-1], "/verify-email/")
    assert client.get(link).status_code == 200
    return client.post(link)


def test_register_new_organization_makes_the_user_its_admin(client, app):
    response = register(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/register/check-email")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "ada@acme.example"))
        assert user.email_verified_at is None
        assert user.password_hash.startswith("$argon2id$")
        affiliation = db.session.scalar(sa.select(Affiliation).where(Affiliation.user_id == user.id))
        assert affiliation.role == AffiliationRole.ADMIN
        assert affiliation.status == AffiliationStatus.ACTIVE
        assert affiliation.organization.name == "Acme Additive LLC"
        assert affiliation.organization.size == "small"
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"user.registered", "organization.created", "affiliation.requested"} <= actions
    [mail] = mails_to(app, "ada@acme.example")
    assert mail.subject == "Confirm your email address"
    assert mail.sent_at is None  # the request only queued it: the outbox worker delivers it


def test_register_joins_an_existing_organization_matched_without_case_or_spaces(client, app):
    _admin, organization = org_admin(app, email="boss@acme.example")
    response = register(client, email="new@acme.example",
                        organization=f"  {organization.name.upper()}  ", sector="", size="", state="")
    assert response.status_code == 302
    with app.app_context():
        affiliation = db.session.scalar(
            sa.select(Affiliation).join(User, Affiliation.user_id == User.id).where(User.email == "new@acme.example"))
        assert affiliation.organization_id == organization.id
        assert (affiliation.role, affiliation.status) == (AffiliationRole.MEMBER, AffiliationStatus.PENDING)
    [notice] = mails_to(app, "boss@acme.example")
    assert "asks to join" in notice.subject
    assert count(app, Organization) == 1


def test_register_new_organization_needs_sector_size_and_state(client, app):
    response = register(client, organization="Brand New Works", sector="", size="", state="")
    assert response.status_code == 422
    assert b"choose its sector" in response.data
    assert b'id="sector-error"' in response.data
    response = register(client, organization="Brand New Works", sector="industry", size="", state="OH")
    assert b"choose its size" in response.data
    response = register(client, organization="Brand New Works", sector="academic", size="", state="XX")
    assert response.status_code == 422
    assert count(app, User) == 0
    assert count(app, Organization) == 0


def test_register_refuses_short_and_common_passwords_and_saves_nothing(client, app):
    response = register(client, password="short")
    assert response.status_code == 422
    assert b"at least 12 characters" in response.data
    assert b'href="#password"' in response.data  # the error summary links to the field
    response = register(client, password="iloveyou1234")
    assert response.status_code == 422
    assert b"appeared in data breaches" in response.data
    assert count(app, User) == 0
    assert count(app, Organization) == 0


def test_long_pasted_passwords_are_allowed(ctx):
    from portal.services.passwords import check_new_password
    pasted = base64.b64encode(hashlib.sha512(b"a password manager").digest() * 2).decode()[:126]
    check_new_password(pasted)  # 126 characters from a password manager, no composition rules
    try:
        check_new_password("a" * 300)
    except DomainError as error:
        assert error.field == "password"
    else:
        raise AssertionError("a 300-character password should be refused")


def test_register_with_a_taken_email_looks_the_same_and_mails_the_owner(client, app):
    make_user(app, email="taken@example.com")
    response = register(client, email="Taken@Example.com")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/register/check-email")
    assert count(app, User) == 1
    assert count(app, Organization) == 0
    [mail] = mails_to(app, "taken@example.com")
    assert mail.subject == "You already have an account"


def test_verify_sign_in_and_out(client, app):
    register(client)
    response = login(client, "ada@acme.example")
    assert response.status_code == 422
    assert b"Confirm your email address first" in response.data
    assert len(mails_to(app, "ada@acme.example")) == 2  # a fresh link was sent

    response = verify(client, app, "ada@acme.example")
    assert response.status_code == 302
    response = login(client, "ADA@acme.example")
    assert response.status_code == 302
    assert client.get("/account").status_code == 200

    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/account").status_code == 302


def test_verification_link_works_once_and_not_when_tampered(client, app):
    register(client)
    link = link_in(mails_to(app, "ada@acme.example")[-1], "/verify-email/")
    client.post(link)
    response = client.post(link, follow_redirects=True)
    assert b"already been used" in response.data
    response = client.post(link[:-3] + "abc", follow_redirects=True)
    assert b"not valid" in response.data


def test_sign_in_error_is_the_same_for_unknown_account_and_wrong_password(client, app):
    make_user(app, email="known@example.com")
    unknown = login(client, "nobody@example.com")
    wrong = login(client, "known@example.com", "wrong password entirely")
    assert unknown.status_code == wrong.status_code == 422
    assert b"Email address or password is not right" in unknown.data
    # the same page, but for the address typed
    assert without_tokens(unknown.data.replace(b"nobody@", b"known@")) == without_tokens(wrong.data)


def test_deactivated_account_cannot_sign_in(client, app):
    make_user(app, email="gone@example.com", active=False)
    assert login(client, "gone@example.com").status_code == 422


def test_next_redirects_only_to_this_site(client, app):
    user = make_user(app)
    response = client.post("/login?next=/institutes/", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/institutes/"
    client.post("/logout")
    for evil in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]:
        response = client.post("/login", query_string={"next": evil},
                               data={"email": user.email, "password": PASSWORD})
        assert response.headers["Location"] == "/", evil  # the personal home
        client.post("/logout")


def test_account_page_requires_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Faccount"


def test_logout_ends_the_session_for_a_copied_cookie_too(client, app):
    user = make_user(app)
    login(client, user.email)
    stolen = client.get_cookie("portal_session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("portal_session", stolen)
    assert thief.get("/account").status_code == 302


def test_logout_is_post_only(client):
    assert client.get("/logout").status_code == 405


def test_login_starts_a_new_session(client, app):
    user = make_user(app)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, user.email)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_change_password_signs_out_other_sessions_but_keeps_this_one(client, app):
    user = make_user(app)
    other = app.test_client()
    login(client, user.email)
    login(other, user.email)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a brand new long passphrase"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    client.post("/logout")
    assert login(client, user.email).status_code == 422
    assert login(client, user.email, "a brand new long passphrase").status_code == 302


def test_change_password_needs_the_current_one(client, app):
    user = make_user(app)
    login(client, user.email)
    response = client.post("/account/password", data={
        "current_password": "not my password", "new_password": "a brand new long passphrase"})
    assert response.status_code == 422
    assert b'id="current_password-error"' in response.data
    with app.app_context():
        assert db.session.get(User, user.id).password_hash == user.password_hash


def test_sign_out_of_other_sessions(client, app):
    user = make_user(app)
    other = app.test_client()
    login(client, user.email)
    login(other, user.email)
    client.post("/account/sessions")
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_password_reset_by_single_use_link(client, app):
    user = make_user(app, email="forgetful@example.com")
    response = client.post("/forgot-password", data={"email": "forgetful@example.com"})
    assert response.status_code == 302
    work_the_outbox(app)
    link = link_in(mails_to(app, "forgetful@example.com")[-1], "/reset-password/")
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "another long passphrase"})
    assert response.status_code == 302
    assert login(client, user.email, "another long passphrase").status_code == 302
    client.post("/logout")
    response = client.get(link, follow_redirects=True)
    assert b"already been used" in response.data


def test_password_reset_does_not_reveal_whether_the_account_exists(client, app):
    make_user(app, email="real@example.com")
    queries = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: queries.append(args[2]))
    real = client.post("/forgot-password", data={"email": "real@example.com"}, follow_redirects=True)
    real_queries, queries[:] = queries[:], []
    fake = client.post("/forgot-password", data={"email": "fake@example.com"}, follow_redirects=True)
    assert without_tokens(real.data) == without_tokens(fake.data)
    # the same work for both: one request row written, no account looked up, no mail queued by the request
    assert real_queries == queries and any("password_reset_requests" in q for q in queries)
    assert not any(" FROM users" in q for q in queries) and mails_to(app, "real@example.com") == []
    work_the_outbox(app)  # the worker finds out which address has an account
    assert len(mails_to(app, "real@example.com")) == 1 and mails_to(app, "fake@example.com") == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PasswordResetRequest.id))) == 0  # each answered once
    work_the_outbox(app)
    assert len(mails_to(app, "real@example.com")) == 1


def test_reset_link_verifies_an_unconfirmed_address(client, app):
    make_user(app, email="late@example.com", verified=False)
    client.post("/forgot-password", data={"email": "late@example.com"})
    work_the_outbox(app)
    link = link_in(mails_to(app, "late@example.com")[-1], "/reset-password/")
    client.post(link, data={"password": "another long passphrase"})
    assert login(client, "late@example.com", "another long passphrase").status_code == 302


def test_update_profile_name(client, app):
    user = make_user(app)
    login(client, user.email)
    response = client.post("/account/profile", data={"full_name": "  Grace   Hopper "})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).full_name == "Grace Hopper"
    response = client.post("/account/profile", data={"full_name": ""})
    assert response.status_code == 422
    assert b"Enter your full name" in response.data


def test_join_a_second_organization_from_the_account_page(client, app):
    admin, first = org_admin(app)
    login(client, admin.email)
    response = client.post("/account/organizations", data={
        "organization": "State University", "sector": "academic", "state": "MI"})
    assert response.status_code == 302
    page = client.get("/account").data
    assert first.name.encode() in page and b"State University" in page
    response = client.post("/account/organizations", data={"organization": "state university"})
    assert response.status_code == 409
    assert b"already a member of State University" in response.data


def test_account_lists_each_affiliation_with_its_status(client, app):
    organization = make_organization(app, name="Pending Place")
    user = make_user(app)
    with app.app_context():
        organizations.join_or_create(db.session.get(User, user.id), OrganizationChoice(name="Pending Place"))
        db.session.commit()
    login(client, user.email)
    page = client.get("/account").data
    assert f'/organizations/{organization.id}'.encode() in page
    assert b"Waiting for approval" in page


def test_authenticate_rehashes_weaker_hashes(ctx, app):
    user = User(email="old@example.com", full_name="Old Hash", email_verified_at=None,
                password_hash=PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD))
    db.session.add(user)
    db.session.flush()
    assert accounts.authenticate("old@example.com", PASSWORD) is user
    assert "m=1024" in user.password_hash


def test_create_admin_command(runner, app):
    result = runner.invoke(args=["create-admin", "Chief@Example.com"], env={"ADMIN_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "chief@example.com"))
        assert user.is_network_admin and user.is_verified
    result = runner.invoke(args=["create-admin", "weak@example.com"], env={"ADMIN_PASSWORD": "password"})
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output


def test_create_admin_promotes_an_existing_user(runner, app):
    user = make_user(app, email="promote@example.com")
    result = runner.invoke(args=["create-admin", "promote@example.com"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(User, user.id).is_network_admin
