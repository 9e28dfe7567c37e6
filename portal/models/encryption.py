"""Secrets kept encrypted at rest: the authenticator apps' shared secrets, enrolled or being enrolled.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) with the keys in ``MFA_ENCRYPTION_KEY``: one or
more Fernet keys separated by commas; the first encrypts, any of them decrypts, so a key is rotated by
putting a new one first and running ``flask mfa rekey``. Unset (development and tests), a key is derived from
SECRET_KEY with HKDF-SHA256; production refuses to start without one, since a SECRET_KEY rotated after a
leak would otherwise lock every administrator out of their second factor.

``EncryptedString`` is the column type: Python sees the secret, the database only its ciphertext.
"""

import base64
from collections.abc import Mapping
from functools import cache
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

CIPHERTEXT_LENGTH = 255  # a Fernet token of a 64-character secret is 184 characters


def derived_key(secret_key: str) -> bytes:
    """A Fernet key for development from SECRET_KEY, kept apart from its other uses by HKDF's info."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"portal: authenticator secrets at rest").derive(secret_key.encode())
    return base64.urlsafe_b64encode(key)


@cache
def _fernet(keys: str, secret_key: str) -> MultiFernet:
    listed = [k.strip() for k in keys.split(",") if k.strip()]
    try:
        return MultiFernet([Fernet(k) for k in listed] or [Fernet(derived_key(secret_key))])
    except ValueError as error:
        raise RuntimeError("MFA_ENCRYPTION_KEY must be Fernet keys (32 bytes, URL-safe base64) separated by "
                           "commas; make one with: python -c 'from cryptography.fernet import Fernet; "
                           "print(Fernet.generate_key().decode())'") from error


def fernet(config: Mapping[str, Any] | None = None) -> MultiFernet:
    config = config if config is not None else current_app.config
    return _fernet(config.get("MFA_ENCRYPTION_KEY") or "", config.get("SECRET_KEY") or "")


def development_key() -> str:
    """The key a development app encrypts with here: for scripts that run the portal in production mode on
    data a development app wrote (the benchmarks)."""
    from portal import create_app  # the app imports this module

    config = create_app("development").config
    return config.get("MFA_ENCRYPTION_KEY") or derived_key(config["SECRET_KEY"]).decode()


def check_keys(config: Mapping[str, Any]) -> None:
    """At start-up: the keys parse, and production has its own."""
    if config.get("REQUIRE_SECRET_KEY") and not config.get("MFA_ENCRYPTION_KEY"):
        raise RuntimeError("Set MFA_ENCRYPTION_KEY in production: the key that encrypts authenticator secrets.")
    fernet(config)


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as error:
        raise RuntimeError("An authenticator secret cannot be decrypted: MFA_ENCRYPTION_KEY does not hold the "
                           "key it was encrypted with") from error


def rotated(token: str) -> str:
    """``token`` encrypted again under the first key (for ``flask mfa rekey``)."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")


class EncryptedString(sa.types.TypeDecorator[str]):
    """A string stored encrypted; NULL stays NULL."""

    impl = sa.String(CIPHERTEXT_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else decrypt(value)
