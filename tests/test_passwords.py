"""The password rules (NIST SP 800-63B), the breached-password file, and mail on password changes."""

import tracemalloc

import pytest

from portal.extensions import db
from portal.models import User
from portal.services import DomainError
from portal.services.passwords import check_new_password, is_breached
from tests.conftest import link_in, login, mails_to, work_the_outbox
from tests.factories import PASSWORD, make_organization, make_user, org_admin


def refusal(password: str, **context) -> str:
    with pytest.raises(DomainError) as caught:
        check_new_password(password, **context)
    return caught.value.message


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "passwordpassword", "abcabcabcabc", "xy!xy!xy!xy!"])
def test_repeated_characters_are_refused(ctx, password):
    assert "repeated" in refusal(password)


def test_a_password_mostly_one_character_is_refused(ctx):
    assert "repeated" in refusal("zzzzzzzzq7!k")


@pytest.mark.parametrize("password", ["123456789012", "abcdefghijkl", "qwertyuiop!1", "9876543210zz", "lkjhgfdsa987"])
def test_sequential_characters_are_refused(ctx, password):
    assert "sequence" in refusal(password)


@pytest.mark.parametrize("password", ["Manufacturing1", "manufacturing network", "Network2024!!!",
                                      "innovation-institute"])
def test_words_of_the_portal_are_refused(ctx, password):
    assert "portal's name" in refusal(password)


def test_words_of_the_person_are_refused(ctx):
    context = {"email": "grace.hopper@navy.example", "names": ["Grace Hopper", "Harvard Computation Lab"]}
    for password in ["GraceHopper1234", "hopper!!grace!!", "grace.hopper#1", "navy navy navy1",
                     "Harvard Computation"]:
        assert "your name" in refusal(password, **context), password
    check_new_password("grace sails the cobol seas", **context)  # her name in a real passphrase is fine


def test_breached_passwords_are_refused_with_and_without_trimmings(ctx):
    for password in ["iloveyou1234", "1qaz2wsx3edc", "sunshine2024!!", "!!basketball!!"]:
        assert "data breaches" in refusal(password), password


def test_a_good_passphrase_passes(ctx):
    check_new_password("correct horse battery staple", email="ada@acme.example", names=["Ada Lovelace", "Acme"])


def test_the_breached_file_is_large_sorted_and_searched_without_loading_it(ctx):
    from importlib import resources
    path = resources.files("portal").joinpath("data/breached_passwords.txt")
    with path.open("rb") as f:
        lines = f.read().split(b"\n")[:-1]
    assert len(lines) >= 100_000
    assert lines == sorted(lines)
    for word in (lines[0], lines[len(lines) // 2], lines[-1], b"password1234"):
        assert is_breached(word.decode())
    assert not is_breached("a sentence nobody ever used as a password")
    assert not is_breached(lines[0].decode() + "\x01")
    tracemalloc.start()
    is_breached("correct horse battery staple")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 200_000  # the 4.7 MB file is never read whole


def test_registration_refuses_the_organization_name(client, app):
    make_organization(app, name="Rivet Works")
    response = client.post("/register", data={
        "full_name": "Ada Lovelace", "email": "ada@rivet.example", "password": "Rivet Works 2025",
        "organization": "Rivet Works"})
    assert response.status_code == 422
    assert b"your organization" in response.data


def test_password_change_mails_the_owner_and_checks_their_words(client, app):
    user, _organization = org_admin(app, email="owner@acme.example", full_name="Olive Owner")
    login(client, user.email)
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                       "new_password": "OliveOwner12345"})
    assert response.status_code == 422
    assert b"your name" in response.data
    assert mails_to(app, "owner@acme.example") == []
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                       "new_password": "a brand new passphrase"})
    assert response.status_code == 302
    [mail] = mails_to(app, "owner@acme.example")
    assert mail.subject == "Your password was changed"
    assert "/forgot-password" in mail.body


def test_a_reset_mails_the_owner_and_a_newer_link_voids_the_older(client, app):
    make_user(app, email="forgetful@example.com")
    client.post("/forgot-password", data={"email": "forgetful@example.com"})
    work_the_outbox(app)  # the worker answers reset requests
    first = link_in(mails_to(app, "forgetful@example.com")[-1], "/reset-password/")
    client.post("/forgot-password", data={"email": "forgetful@example.com"})
    work_the_outbox(app)
    second = link_in(mails_to(app, "forgetful@example.com")[-1], "/reset-password/")
    response = client.get(first, follow_redirects=True)
    assert b"no longer valid" in response.data
    assert client.post(first, data={"password": "another long passphrase"}).status_code == 302
    assert login(client, "forgetful@example.com", "another long passphrase").status_code == 422
    response = client.post(second, data={"password": "another long passphrase"})
    assert response.status_code == 302
    assert mails_to(app, "forgetful@example.com")[-1].subject == "Your password was reset"
    with app.app_context():
        assert db.session.get(User, 1).password_reset_nonce is None
