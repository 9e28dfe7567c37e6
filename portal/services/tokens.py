"""Signed, expiring tokens for links sent by email."""

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.services import DomainError


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"portal.{purpose}")


def make(purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def load(purpose: str, token: str, max_age: int) -> dict[str, Any]:
    """Return the payload, or raise DomainError for an expired or tampered token."""
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise DomainError(None, "This link has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise DomainError(None, "This link is not valid. Check that you copied all of it.") from exc
    if not isinstance(payload, dict):
        raise DomainError(None, "This link is not valid. Check that you copied all of it.")
    return payload
