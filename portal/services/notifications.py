"""In-app notifications, each with an email through the outbox."""

from collections.abc import Iterable

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Notification, User
from portal.models.base import utcnow
from portal.services import outbox, updated_rows


def notify(users: Iterable[User], message: str, endpoint: str, *, actor: User | None = None, **values) -> None:
    """Tell each user (once, however often they are listed) in the portal and by mail.

    ``actor``, the person whose action this reports, is not told of it.
    """
    url = outbox.link(endpoint, **values)
    seen: set[int] = {actor.id} if actor is not None else set()
    for user in users:
        if user.id in seen or not user.active:
            continue
        seen.add(user.id)
        db.session.add(Notification(user_id=user.id, message=message, link=url))
        outbox.queue(user.email, "notification", user=user, message=message, url=url)


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def recent(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc())
                                   .limit(limit)))


def open_for(user: User, notification_id: int) -> Notification | None:
    """The user's own notification, marked read; None if it is not theirs."""
    notification = db.session.scalar(sa.select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user.id))
    if notification is not None and notification.read_at is None:
        notification.read_at = utcnow()
    return notification


def mark_all_read(user: User) -> int:
    return updated_rows(sa.update(Notification)
                        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
                        .values(read_at=utcnow()))
