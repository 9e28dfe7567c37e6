"""In-app notifications, each with a mail through the outbox as its person chose: at once, in a daily
digest, or not at all (security notices are always mailed at once).

``notify`` is the one way the services tell people something. Inside ``suppressed()`` (an import of
historical records) it tells no one.
"""

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import Delivery, Digest, NoticeKind, Notification, NotificationPreference, User
from portal.models.base import utcnow
from portal.services import DomainError, audit, outbox, updated_rows

_suppressed: ContextVar[bool] = ContextVar("notifications_suppressed", default=False)

# A notification's kind follows from where it leads, unless the service names it.
KIND_OF_BLUEPRINT = {
    "memberships": NoticeKind.MEMBERSHIP, "institute_admin": NoticeKind.MEMBERSHIP,
    "organizations": NoticeKind.ORGANIZATION, "ledger": NoticeKind.LEDGER, "proposals": NoticeKind.PROPOSAL,
    "workforce": NoticeKind.WORKFORCE, "auth": NoticeKind.SECURITY,
}
# Kinds a person may change; security notices are always mailed at once.
CHOOSABLE = tuple(kind for kind in NoticeKind if kind != NoticeKind.SECURITY)


def kind_for(endpoint: str) -> NoticeKind:
    return KIND_OF_BLUEPRINT.get(endpoint.partition(".")[0], NoticeKind.GENERAL)


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    """Within this block ``notify`` writes nothing and mails no one (imports of historical records)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def is_suppressed() -> bool:
    return _suppressed.get()


def notify(users: Iterable[User], message: str, endpoint: str, *, actor: User | None = None,
           notice_kind: NoticeKind | None = None, **values) -> None:
    """Tell each user (once, however often they are listed) in the portal, and by mail as they chose.

    ``actor``, the person whose action this reports, is not told of it. ``notice_kind`` defaults to the
    kind of ``endpoint``'s blueprint.
    """
    if _suppressed.get():
        return
    kind = notice_kind or kind_for(endpoint)
    url = outbox.link(endpoint, **values)
    seen: set[int] = {actor.id} if actor is not None else set()
    told = []
    for user in users:
        if user.id not in seen and user.active:
            seen.add(user.id)
            told.append(user)
    choices = deliveries([user.id for user in told], kind)
    for user in told:
        delivery = choices.get(user.id, Delivery.NOW)
        db.session.add(Notification(user_id=user.id, message=message[:500], link=url, kind=kind, delivery=delivery))
        if delivery == Delivery.NOW:
            outbox.queue(user.email, "notification", user=user, message=message, url=url)


def deliveries(user_ids: list[int], kind: NoticeKind) -> dict[int, Delivery]:
    """Each listed person's choice for ``kind`` (one query); security is always at once."""
    if kind == NoticeKind.SECURITY or not user_ids:
        return {}
    return dict(db.session.execute(sa.select(NotificationPreference.user_id, NotificationPreference.delivery).where(
        NotificationPreference.kind == kind, NotificationPreference.user_id.in_(user_ids))).all())


def preferences_of(user: User) -> dict[NoticeKind, Delivery]:
    """Every choosable kind with the person's choice (at once when never chosen)."""
    chosen = dict(db.session.execute(sa.select(NotificationPreference.kind, NotificationPreference.delivery)
                                     .where(NotificationPreference.user_id == user.id)).all())
    return {kind: chosen.get(kind, Delivery.NOW) for kind in CHOOSABLE}


def set_preferences(actor: User, choices: dict[NoticeKind, Delivery]) -> int:
    """Record the person's choice per kind; returns how many changed. Security cannot be chosen."""
    if NoticeKind.SECURITY in choices:
        raise DomainError(None, "Security notices are always sent at once.")
    current = preferences_of(actor)
    changed = {kind: [current[kind], delivery] for kind, delivery in choices.items() if current[kind] != delivery}
    for kind, (_, delivery) in changed.items():
        db.session.merge(NotificationPreference(user_id=actor.id, kind=kind, delivery=delivery))
    if changed:
        db.session.flush()
        audit.record(actor, "user.notification_preferences", actor,
                     details={kind.value: [str(old), str(new)] for kind, (old, new) in changed.items()})
    return len(changed)


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


# Daily digests -------------------------------------------------------------------------------

DIGEST_LIMIT = 100  # notifications listed in one mail; the rest are counted, and the bell has them all


def send_digests(day: date | None = None, now: datetime | None = None) -> int:
    """Mail each person whose notifications wait for a digest one mail listing them, through the outbox;
    returns how many were sent. At most one digest per person and day (a unique row), so running the
    command twice on a day sends nothing more; what arrives after that day's digest waits for the next."""
    now = now or utcnow()
    day = day or now.date()
    waiting = (sa.select(Notification.user_id).where(Notification.delivery == Delivery.DIGEST,
                                                     Notification.digested_at.is_(None),
                                                     Notification.created_at < now)
               .group_by(Notification.user_id))
    already = sa.select(Digest.user_id).where(Digest.day == day)
    user_ids = list(db.session.scalars(waiting.where(Notification.user_id.not_in(already))))
    sent = 0
    for start in range(0, len(user_ids), 500):
        users = db.session.scalars(sa.select(User).where(User.id.in_(user_ids[start:start + 500]))
                                   .options(so.load_only(User.id, User.email, User.full_name, User.active)))
        for user in users:
            sent += _digest_for(user, day, now)
    return sent


def _digest_for(user: User, day: date, now: datetime) -> int:
    due = sa.and_(Notification.user_id == user.id, Notification.delivery == Delivery.DIGEST,
                  Notification.digested_at.is_(None), Notification.created_at < now)
    items = list(db.session.scalars(sa.select(Notification).where(due)
                                    .order_by(Notification.created_at, Notification.id).limit(DIGEST_LIMIT)))
    total = db.session.scalar(sa.select(sa.func.count(Notification.id)).where(due)) or 0
    try:
        with db.session.begin_nested():
            db.session.add(Digest(user_id=user.id, day=day, count=total, sent_at=now))
    except sa.exc.IntegrityError:  # another run on the same day got there first: this person has theirs
        return 0
    updated_rows(sa.update(Notification).where(due).values(digested_at=now)
                 .execution_options(synchronize_session=False))
    if user.active:
        outbox.queue(user.email, "digest", user=user, items=items, more=total - len(items), day=day,
                     url=outbox.link("notifications.index"))
    return 1

