"""Personal access tokens for the JSON API: made (shown once), listed, revoked, and looked up by their secret.

The secret is ``mfgp_`` and 43 characters of base64url holding 256 random bits. The prefix lets secret scanners
and people recognize a leaked token; only the SHA-256 of the secret is stored. A slow password hash would add
nothing: 256 random bits cannot be guessed, and a fast hash lets each request find its token in one indexed
query (GitHub's and PyPI's tokens are kept the same way)."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa

from portal.extensions import db
from portal.models import ApiToken, IdempotentRequest, TokenScope, User
from portal.models.base import utcnow
from portal.services import DomainError, audit

PREFIX = "mfgp_"
LIFETIMES = (30, 90, 365)  # days a token may live; never longer than a year
TOUCH_EVERY = timedelta(minutes=1)  # last use is written at most this often, not on every request
MAX_LIVE = 50  # live tokens per person
# An Idempotency-Key is kept this long: a retry within it is answered the first answer; after it, the same key
# is a new request. Retries come within minutes or hours (Stripe keeps keys 24 hours); a week covers a script
# retried after a weekend.
KEEP_KEYS = timedelta(days=7)


def hash_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(actor: User, *, name: str, scope: str, days: int, second_factor_at: datetime | None) -> tuple[ApiToken, str]:
    """Make a token for ``actor``; return it and its secret, which is never shown again.
    ``second_factor_at``: when the second factor was last proved in the session that makes it."""
    name = name.strip()
    if not name:
        raise DomainError("name", "Name the token, for example after the script that will use it")
    if len(name) > 100:
        raise DomainError("name", "Use at most 100 characters")
    if scope not in set(TokenScope):
        raise DomainError("scope", "Choose read or write")
    if days not in LIFETIMES:
        raise DomainError("days", "Choose 30, 90 or 365 days")
    if len(live_tokens(actor)) >= MAX_LIVE:
        raise DomainError("name", f"You have {MAX_LIVE} tokens; revoke one you no longer use first")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, token_hash=hash_of(secret), hint=secret[:len(PREFIX) + 4],
                     scope=TokenScope(scope), expires_at=utcnow() + timedelta(days=days),
                     second_factor_at=second_factor_at)
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "user.api_token_created", actor,
                 details={"token_id": token.id, "name": name, "scope": scope, "days": days})
    return token, secret


def live_tokens(user: User) -> list[ApiToken]:
    """The person's tokens that still work, newest first."""
    return list(db.session.scalars(sa.select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
        .order_by(ApiToken.id.desc())))


def token_of(user: User, token_id: int) -> ApiToken | None:
    """One of the person's own tokens (None for anyone else's: it answers 404)."""
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))


def revoke(actor: User, token: ApiToken) -> None:
    """The token stops working at once."""
    if token.user_id != actor.id:
        raise DomainError(None, "That token is not yours.", status=404)
    if token.revoked_at is not None:
        raise DomainError(None, "That token was already revoked.", status=409)
    token.revoked_at = utcnow()
    audit.record(actor, "user.api_token_revoked", actor, details={"token_id": token.id, "name": token.name})


def authenticate(secret: str) -> ApiToken | None:
    """The live token with this secret, of an active account; None otherwise. Its last use is noted at most
    once a minute (flushed; the caller commits it at once, so a read commits it too)."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    now = utcnow()
    token = db.session.scalar(sa.select(ApiToken).join(ApiToken.user).where(
        ApiToken.token_hash == hash_of(secret), ApiToken.revoked_at.is_(None), ApiToken.expires_at > now,
        User.active))
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
        db.session.flush()
    return token


def may_verify(token: ApiToken, max_age: timedelta) -> bool:
    """Verifying a receipt through the API: a write token made within ``max_age`` of a proved second factor
    and no older than ``max_age`` itself (the API's equivalent of the pages' step-up)."""
    return (token.scope == TokenScope.WRITE and token.second_factor_at is not None
            and token.user.has_second_factor and utcnow() - token.created_at <= max_age)


def prune_keys(now: datetime | None = None) -> int:
    """Forget the Idempotency-Keys older than ``KEEP_KEYS`` (a daily job); return how many. Running it twice
    deletes nothing more."""
    cutoff = (now or utcnow()) - KEEP_KEYS
    return cast(sa.CursorResult, db.session.execute(
        sa.delete(IdempotentRequest).where(IdempotentRequest.created_at < cutoff)
        .execution_options(synchronize_session=False))).rowcount
