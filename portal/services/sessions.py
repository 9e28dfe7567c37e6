"""Server-side records of signed-in sessions: idle timeout, absolute lifetime, the list a person sees
on their account page, and ending them.

A browser's cookie carries a random token; the table keeps only its SHA-256, so a copy of the table
signs nobody in. ``last_seen_at`` is written at most once a minute per session.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from ua_parser import parse

from portal.extensions import db
from portal.models import User, UserSession
from portal.models.base import utcnow
from portal.services import DomainError, audit

TOUCH_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, *, user_agent: str, ip_address: str, second_factor: bool) -> tuple[str, UserSession]:
    """Record a new session of ``user``; return the token for the cookie and the record."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = UserSession(user_id=user.id, token_hash=_hash(token), created_at=now, last_seen_at=now,
                         user_agent=user_agent[:300], ip_address=ip_address[:45],
                         second_factor_at=now if second_factor else None)
    db.session.add(record)
    db.session.flush()
    return token, record


def _expired(record: UserSession, now: datetime) -> bool:
    config = current_app.config
    return (now - record.last_seen_at > timedelta(seconds=config["SESSION_IDLE_TIMEOUT"])
            or now - record.created_at > timedelta(seconds=config["SESSION_ABSOLUTE_LIFETIME"]))


def find(user: User, token: str | None) -> UserSession | None:
    """The live session of ``user`` that ``token`` names; None if there is none, or it has timed out
    (idle or absolute). Notes the time it was seen, at most once a minute."""
    if not token:
        return None
    record = db.session.scalar(sa.select(UserSession).where(UserSession.token_hash == _hash(token),
                                                            UserSession.user_id == user.id))
    if record is None:
        return None
    now = utcnow()
    if _expired(record, now):
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
    return record


def of(user: User) -> list[UserSession]:
    """The live sessions of ``user``, the most recently seen first."""
    now = utcnow()
    records = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)
                                 .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
    return [record for record in records if not _expired(record, now)]


def end(actor: User, session_id: int) -> None:
    """End one of ``actor``'s own sessions."""
    record = db.session.get(UserSession, session_id)
    if record is None or record.user_id != actor.id:
        raise DomainError(None, "That session has already ended.")
    db.session.delete(record)
    audit.record(actor, "user.session_ended", actor, details={"session": session_id})


def end_all(user: User, *, keep: UserSession | None = None) -> None:
    """End every session of ``user`` (but ``keep``, when given)."""
    query = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    db.session.execute(query.execution_options(synchronize_session=False))


def sweep() -> int:
    """Remove sessions that have timed out; return how many."""
    now = utcnow()
    config = current_app.config
    idle = now - timedelta(seconds=config["SESSION_IDLE_TIMEOUT"])
    born = now - timedelta(seconds=config["SESSION_ABSOLUTE_LIFETIME"])
    result = db.session.execute(sa.delete(UserSession).where(
        sa.or_(UserSession.last_seen_at < idle, UserSession.created_at < born)))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Device:
    browser: str
    system: str

    def __str__(self) -> str:
        return f"{self.browser} on {self.system}"


def device(user_agent: str) -> Device:
    """A person-readable name for the browser and system a user agent string names."""
    result = parse(user_agent or "")
    browser = result.user_agent.family if result.user_agent else "Unknown browser"
    system = result.os.family if result.os else "an unknown system"
    if browser == "Other":
        browser = "Unknown browser"
    if system == "Other":
        system = "an unknown system"
    return Device(browser, system)
