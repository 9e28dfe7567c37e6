"""Passkeys and security keys (WebAuthn, through py_webauthn) as a second factor beside the authenticator app.

Someone with the authenticator app may add passkeys; at the second step of signing in, and for step-up,
a passkey then does what a code does. The authenticator app and its recovery codes stay: a passkey is a
quicker way through, not the only one, and a network administrator's reset removes passkeys too.

A ceremony's challenge is kept on the account for five minutes and taken by the first answer, so an
answer is never accepted twice. The relying party is the portal's host (``WEBAUTHN_RP_ID``, by default the
host of ``PORTAL_URL``), and answers must come from ``WEBAUTHN_ORIGIN`` (by default ``PORTAL_URL``'s origin).
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal.extensions import db
from portal.models import PasskeyCredential, User
from portal.models.base import utcnow
from portal.services import DomainError, audit

CHALLENGE_FOR = timedelta(minutes=5)
MAX_PASSKEYS = 10
NOT_ACCEPTED = "That passkey was not accepted. Try again, or enter a code from your authenticator app."


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origin: str


def relying_party() -> RelyingParty:
    config = current_app.config
    portal = urlsplit(config["PORTAL_URL"])
    return RelyingParty(id=config.get("WEBAUTHN_RP_ID") or portal.hostname or "localhost",
                        name="Manufacturing Innovation Network",
                        origin=config.get("WEBAUTHN_ORIGIN") or f"{portal.scheme}://{portal.netloc}")


def user_handle(user: User) -> bytes:
    """The opaque handle authenticators keep for the account: no email, no database number."""
    return hmac.new(current_app.config["SECRET_KEY"].encode(), f"passkey-user:{user.id}".encode(),
                    hashlib.sha256).digest()[:32]


def passkeys_of(user: User) -> list[PasskeyCredential]:
    return list(db.session.scalars(sa.select(PasskeyCredential).where(PasskeyCredential.user_id == user.id)
                                   .order_by(PasskeyCredential.id)))


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=p.credential_id) for p in passkeys_of(user)]


def _remember(user: User, challenge: bytes) -> None:
    user.passkey_challenge, user.passkey_challenge_at = challenge, utcnow()
    db.session.flush()


def _take_challenge(user: User, field: str | None) -> bytes:
    """The challenge of the ceremony under way, once: taken whatever the answer."""
    db.session.refresh(user, with_for_update=True)  # two answers at once: one waits, then finds none
    challenge, made = user.passkey_challenge, user.passkey_challenge_at
    user.passkey_challenge = user.passkey_challenge_at = None
    db.session.flush()
    if challenge is None or made is None or utcnow() - made > CHALLENGE_FOR:
        raise DomainError(field, "That took too long, or was already answered. Try again.")
    return challenge


def registration_options(user: User) -> str:
    """The options (JSON) for adding a passkey to ``user``'s account, which has the authenticator app."""
    if not user.has_second_factor:
        raise DomainError(None, "Set up an authenticator app first; a passkey comes beside it.")
    if len(passkeys_of(user)) >= MAX_PASSKEYS:
        raise DomainError("name", f"An account has at most {MAX_PASSKEYS} passkeys; remove one first.")
    party = relying_party()
    options = generate_registration_options(
        rp_id=party.id, rp_name=party.name, user_name=user.email, user_id=user_handle(user),
        user_display_name=user.full_name, exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED, user_verification=UserVerificationRequirement.PREFERRED))
    _remember(user, options.challenge)
    return options_to_json(options)


def add(user: User, credential: str, name: str) -> PasskeyCredential:
    """Add the passkey the browser made with ``registration_options``' challenge, named ``name``."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise DomainError("name", "Name the passkey (up to 100 characters), for example: Work laptop.")
    if not credential:
        raise DomainError("name", "Your browser made no passkey. Use a browser with passkeys and JavaScript on.")
    challenge = _take_challenge(user, "name")
    party = relying_party()
    try:
        verified = verify_registration_response(
            credential=parse_registration_credential_json(credential), expected_challenge=challenge,
            expected_rp_id=party.id, expected_origin=party.origin)
    except (WebAuthnException, ValueError) as error:  # any answer that is not right, however malformed
        raise DomainError("name", "That passkey could not be added. Try again.") from error
    passkey = PasskeyCredential(user_id=user.id, credential_id=verified.credential_id,
                                public_key=verified.credential_public_key, sign_count=verified.sign_count, name=name)
    try:
        with db.session.begin_nested():
            db.session.add(passkey)
    except IntegrityError as error:
        raise DomainError("name", "That passkey is already added.") from error
    audit.record(user, "user.passkey_added", user, details={"passkey_id": passkey.id, "name": name})
    return passkey


def authentication_options(user: User) -> str:
    """The options (JSON) for proving one of ``user``'s passkeys."""
    allowed = _descriptors(user)
    if not allowed:
        raise DomainError(None, "This account has no passkey.")
    options = generate_authentication_options(rp_id=relying_party().id, allow_credentials=allowed,
                                              user_verification=UserVerificationRequirement.PREFERRED)
    _remember(user, options.challenge)
    return options_to_json(options)


def check(user: User, credential: str) -> PasskeyCredential:
    """Accept ``user``'s passkey answer to the challenge of ``authentication_options``, or raise DomainError."""
    challenge = _take_challenge(user, None)
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError) as error:
        raise DomainError(None, NOT_ACCEPTED) from error
    passkey = db.session.scalar(sa.select(PasskeyCredential).where(
        PasskeyCredential.user_id == user.id, PasskeyCredential.credential_id == parsed.raw_id))
    if passkey is None:
        raise DomainError(None, NOT_ACCEPTED)
    party = relying_party()
    try:
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=challenge, expected_rp_id=party.id, expected_origin=party.origin,
            credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count)
    except (WebAuthnException, ValueError) as error:  # a wrong signature, a counter gone back (a clone)...
        raise DomainError(None, NOT_ACCEPTED) from error
    passkey.sign_count, passkey.last_used_at = verified.new_sign_count, utcnow()
    return passkey


def remove(user: User, passkey: PasskeyCredential) -> PasskeyCredential:
    if passkey.user_id != user.id:
        raise DomainError(None, "Not found.", status=404)
    db.session.delete(passkey)
    db.session.flush()
    audit.record(user, "user.passkey_removed", user, details={"passkey_id": passkey.id, "name": passkey.name})
    return passkey


def remove_all(user: User) -> None:
    """Part of a second-factor reset."""
    db.session.execute(sa.delete(PasskeyCredential).where(PasskeyCredential.user_id == user.id))
