"""Passkeys beside the authenticator app: added after a fresh second factor, accepted at the second step and
for step-up, each answer once, refused from another origin, with another key or a counter gone back; a reset
removes them. The authenticator is made here: an ECDSA P-256 key answering as the WebAuthn spec says."""

import hashlib
import json
import os
from base64 import urlsafe_b64encode
from datetime import timedelta

import cbor2
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from portal.extensions import db
from portal.models import AuditEvent, PasskeyCredential, Role, User, UserSession
from portal.models.base import utcnow
from portal.services import DomainError, mfa, passkeys
from tests.conftest import PASSWORD, login
from tests.factories import make_user


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


class Authenticator:
    """A passkey: a P-256 key pair, a credential ID and a signature counter."""

    UP, UV, AT = 0x01, 0x04, 0x40

    def __init__(self, origin: str = "http://127.0.0.1:5000") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.count = 0
        self.origin = origin

    def _client_data(self, kind: str, options: dict) -> bytes:
        return json.dumps({"type": kind, "challenge": options["challenge"], "origin": self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options_json: str) -> str:
        """The browser's answer to navigator.credentials.create, with "none" attestation."""
        options = json.loads(options_json)
        numbers = self.key.public_key().public_numbers()
        cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                                -3: numbers.y.to_bytes(32, "big")})  # EC2, ES256, P-256
        auth_data = (hashlib.sha256(options["rp"]["id"].encode()).digest() + bytes([self.UP | self.UV | self.AT])
                     + self.count.to_bytes(4, "big") + bytes(16) + len(self.credential_id).to_bytes(2, "big")
                     + self.credential_id + cose_key)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps({"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                           "response": {"clientDataJSON": b64(self._client_data("webauthn.create", options)),
                                        "attestationObject": b64(attestation)}})

    def get(self, options_json: str, *, key: ec.EllipticCurvePrivateKey | None = None, count: int | None = None
            ) -> str:
        """The browser's answer to navigator.credentials.get."""
        options = json.loads(options_json)
        self.count = count if count is not None else self.count + 1
        auth_data = (hashlib.sha256(options["rpId"].encode()).digest() + bytes([self.UP | self.UV])
                     + self.count.to_bytes(4, "big"))
        client_data = self._client_data("webauthn.get", options)
        signature = (key or self.key).sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps({"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                           "response": {"authenticatorData": b64(auth_data), "clientDataJSON": b64(client_data),
                                        "signature": b64(signature), "userHandle": None}})


@pytest.fixture
def person(app, ctx):
    """Someone with the authenticator app and one passkey, and that passkey."""
    user = db.session.get(User, make_user(app, second_factor=True).id)
    authenticator = Authenticator()
    passkeys.add(user, authenticator.create(passkeys.registration_options(user)), "Work laptop")
    db.session.commit()
    return user, authenticator


def test_a_passkey_is_added_beside_the_authenticator_app_and_audited(person):
    user, authenticator = person
    [stored] = passkeys.passkeys_of(user)
    assert (stored.name, stored.credential_id, stored.sign_count) == ("Work laptop", authenticator.credential_id, 0)
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "user.passkey_added"))
    options = json.loads(passkeys.registration_options(user))  # the same key is not offered again
    assert options["excludeCredentials"][0]["id"] == b64(authenticator.credential_id)
    with pytest.raises(DomainError, match="already added"):
        passkeys.add(user, authenticator.create(json.dumps(options)), "Again")


def test_without_the_authenticator_app_there_is_no_passkey(app, ctx):
    user = db.session.get(User, make_user(app).id)
    with pytest.raises(DomainError, match="authenticator app first"):
        passkeys.registration_options(user)


def test_a_passkey_answers_once_and_its_counter_moves(person):
    user, authenticator = person
    answer = authenticator.get(passkeys.authentication_options(user))
    assert passkeys.check(user, answer).sign_count == 1
    db.session.commit()
    with pytest.raises(DomainError, match="already answered"):  # the challenge was taken
        passkeys.check(user, answer)


@pytest.mark.parametrize("spoil", ["origin", "key", "counter", "late", "other person"])
def test_a_spoiled_answer_is_refused(app, person, spoil):
    user, authenticator = person
    passkeys.check(user, authenticator.get(passkeys.authentication_options(user), count=5))
    db.session.commit()
    options = passkeys.authentication_options(user)
    if spoil == "origin":
        authenticator.origin = "https://portal.example.evil"
        answer = authenticator.get(options)
    elif spoil == "key":
        answer = authenticator.get(options, key=ec.generate_private_key(ec.SECP256R1()))
    elif spoil == "counter":  # a copy of the key that has signed less: a cloned authenticator
        answer = authenticator.get(options, count=3)
    elif spoil == "late":
        answer = authenticator.get(options)
        user.passkey_challenge_at = utcnow() - passkeys.CHALLENGE_FOR - timedelta(seconds=1)
        db.session.flush()
    else:  # someone else's passkey answering for this account
        other = db.session.get(User, make_user(app, second_factor=True).id)
        stranger = Authenticator()
        passkeys.add(other, stranger.create(passkeys.registration_options(other)), "Theirs")
        answer = stranger.get(options)
    with pytest.raises(DomainError):
        passkeys.check(user, answer)


def garbled(answer: str, part: str) -> str:
    """``answer`` with one part of its response replaced by bytes that are not what it should hold."""
    data = json.loads(answer)
    data["response"][part] = b64(b"\xff\x00 not cbor, not json")
    return json.dumps(data)


@pytest.mark.parametrize("part", ["clientDataJSON", "authenticatorData", "signature"])
def test_a_malformed_answer_is_refused_not_an_error(person, part):
    user, authenticator = person
    with pytest.raises(DomainError, match="not accepted"):
        passkeys.check(user, garbled(authenticator.get(passkeys.authentication_options(user)), part))


@pytest.mark.parametrize("part", ["clientDataJSON", "attestationObject"])
def test_a_malformed_new_passkey_is_refused_not_an_error(person, part):
    user, _ = person
    answer = Authenticator().create(passkeys.registration_options(user))
    with pytest.raises(DomainError, match="could not be added"):
        passkeys.add(user, garbled(answer, part), "Broken")


def test_a_reset_of_the_second_factor_removes_passkeys(app, person):
    user, _ = person
    admin = db.session.get(User, make_user(app, role=Role.NETWORK_ADMIN).id)
    mfa.reset(admin, user, reason="Lost the laptop; checked by phone")
    assert passkeys.passkeys_of(user) == []


@pytest.fixture
def signed_up(app):
    """``person`` for tests that go through the pages: made in an app context of its own."""
    with app.app_context():
        user = db.session.get(User, make_user(app, second_factor=True).id)
        authenticator = Authenticator()
        passkeys.add(user, authenticator.create(passkeys.registration_options(user)), "Work laptop")
        db.session.commit()
        email = user.email
    return email, authenticator


def test_signing_in_and_stepping_up_with_a_passkey(client, app, signed_up):
    email, authenticator = signed_up
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/login/second-factor")
    page = client.get("/login/second-factor").get_data(as_text=True)
    assert 'data-passkey="get"' in page and "js/passkeys.js" in page
    options = client.post("/passkeys/authentication-options")
    assert options.status_code == 200 and options.headers["Cache-Control"] == "no-store"
    wrong = client.post("/login/second-factor/passkey",
                        data={"passkey-credential": Authenticator().get(options.get_data(as_text=True))})
    assert wrong.status_code == 422 and b"not accepted" in wrong.data
    answer = authenticator.get(client.post("/passkeys/authentication-options").get_data(as_text=True))
    response = client.post("/login/second-factor/passkey", data={"passkey-credential": answer})
    assert response.status_code == 302 and client.get("/account").status_code == 200

    with app.app_context():
        db.session.execute(sa.update(UserSession).values(second_factor_at=utcnow() - timedelta(minutes=20)))
        db.session.commit()
    answer = authenticator.get(client.post("/passkeys/authentication-options").get_data(as_text=True))
    response = client.post("/account/second-factor/confirm/passkey?next=/account",
                           data={"passkey-credential": answer})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    with app.app_context():
        assert db.session.scalar(sa.select(UserSession.second_factor_at)) > utcnow() - timedelta(minutes=1)


def test_adding_and_removing_a_passkey_on_the_account_page(client, app):
    user = make_user(app, second_factor=True)
    login(client, user.email)
    page = client.get("/account").get_data(as_text=True)
    assert 'data-passkey="create"' in page and "You have no passkeys." in page
    authenticator = Authenticator()
    options = client.post("/account/passkeys/options")
    assert options.status_code == 200
    answer = authenticator.create(options.get_data(as_text=True))
    response = client.post("/account/passkeys", data={"passkey-name": " ", "passkey-credential": answer})
    assert response.status_code == 422 and b"Name the passkey" in response.data
    options = client.post("/account/passkeys/options").get_data(as_text=True)
    response = client.post("/account/passkeys", data={"passkey-name": "Blue key",
                                                      "passkey-credential": authenticator.create(options)})
    assert response.status_code == 302
    with app.app_context():
        passkey_id = db.session.scalar(sa.select(PasskeyCredential.id))
    assert "Blue key: added" in client.get("/account").get_data(as_text=True)
    other = make_user(app, email="other@example.com", second_factor=True)
    other_client = app.test_client()
    login(other_client, other.email)
    assert other_client.post(f"/account/passkeys/{passkey_id}/remove").status_code == 404
    assert client.post(f"/account/passkeys/{passkey_id}/remove").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PasskeyCredential.id))) == 0


def test_adding_a_passkey_asks_for_a_fresh_second_factor(client, app):
    user = make_user(app, second_factor=True)
    login(client, user.email)
    with app.app_context():
        db.session.execute(sa.update(UserSession).values(second_factor_at=utcnow() - timedelta(minutes=20)))
        db.session.commit()
    assert client.post("/account/passkeys/options").status_code == 409
    response = client.post("/account/passkeys", data={"passkey-name": "Key"})
    assert response.status_code == 303 and "/account/second-factor/confirm" in response.headers["Location"]


def test_without_a_passkey_the_second_step_offers_none(client, app):
    user = make_user(app, second_factor=True)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert b'data-passkey="get"' not in client.get("/login/second-factor").data
    assert client.post("/passkeys/authentication-options").status_code == 409
