"""Changing the account's address: a link to the new address, notices to the old one."""

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, User
from tests.conftest import PASSWORD, link_in, login, mails_to
from tests.factories import make_user


def test_an_address_changes_only_when_the_new_one_confirms(client, app):
    user = make_user(app, email="old@example.com")
    login(client, user.email)
    response = client.post("/account/email", data={"new_email": "New@Example.com", "current_password": PASSWORD})
    assert response.status_code == 302
    [notice] = mails_to(app, "old@example.com")
    assert "new@example.com" in notice.body
    [confirm] = mails_to(app, "new@example.com")
    link = link_in(confirm, "/account/email/")
    with app.app_context():
        assert db.session.get(User, user.id).email == "old@example.com"  # nothing yet
    assert client.get(link).status_code == 200
    response = client.post(link, follow_redirects=True)
    assert b"now new@example.com" in response.data
    with app.app_context():
        assert db.session.get(User, user.id).email == "new@example.com"
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.email_changed"))
        assert event.details == {"email": ["old@example.com", "new@example.com"]}
    assert mails_to(app, "old@example.com")[-1].subject == "Your email address was changed"
    response = client.post(link, follow_redirects=True)
    assert b"no longer valid" in response.data  # the link works once
    client.post("/logout")
    assert login(client, "new@example.com").status_code == 302


def test_a_change_needs_the_password_and_a_well_formed_new_address(client, app):
    user = make_user(app, email="old@example.com")
    login(client, user.email)
    response = client.post("/account/email", data={"new_email": "new@example.com", "current_password": "wrong"})
    assert response.status_code == 422 and b"current password is not right" in response.data
    response = client.post("/account/email", data={"new_email": "not an address", "current_password": PASSWORD})
    assert response.status_code == 422 and b"name@example.com" in response.data
    assert mails_to(app, "old@example.com") == []


def test_a_taken_address_gets_no_link_and_the_page_says_the_same(client, app):
    user = make_user(app, email="old@example.com")
    make_user(app, email="taken@example.com")
    login(client, user.email)
    response = client.post("/account/email", data={"new_email": "taken@example.com", "current_password": PASSWORD},
                           follow_redirects=True)
    assert b"We have sent a link to the new address" in response.data
    assert mails_to(app, "taken@example.com") == []
