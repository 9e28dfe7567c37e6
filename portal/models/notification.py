"""In-app notifications (the bell), each person's choice of mail per kind, and the daily digests sent."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, enum_column, utcnow


class NoticeKind(StrEnum):
    """What a notification is about: each person chooses per kind how it is mailed."""

    MEMBERSHIP = "membership"      # applications, decisions, renewals, tiers, lapses
    ORGANIZATION = "organization"  # join requests and their answers
    LEDGER = "ledger"              # pledges, receipts, verifications, cancellations, reversals, installments
    PROPOSAL = "proposal"          # proposals, their teams and decisions
    REVIEW = "review"              # review assignments and conflicts
    PROJECT = "project"            # milestones, completion
    WORKFORCE = "workforce"        # sessions, places, credentials
    STAFF = "staff"                # being made (or no longer) an institute administrator
    SECURITY = "security"          # never off, never held for a digest
    GENERAL = "general"            # anything else

    @property
    def label(self) -> str:
        return NOTICE_LABELS[self]


NOTICE_LABELS = {
    NoticeKind.MEMBERSHIP: "Memberships: applications, decisions, renewals",
    NoticeKind.ORGANIZATION: "Your organizations: requests to join and their answers",
    NoticeKind.LEDGER: "Co-investment: pledges, receipts, verifications, cancellations, installments",
    NoticeKind.PROPOSAL: "Proposals: submissions, team invitations, decisions",
    NoticeKind.REVIEW: "Reviews: assignments and conflicts of interest",
    NoticeKind.PROJECT: "Projects: milestones and completion",
    NoticeKind.WORKFORCE: "Workforce sessions: places, waitlists, cancellations, credentials",
    NoticeKind.STAFF: "Institute administration: being added or removed",
    NoticeKind.SECURITY: "Security",
    NoticeKind.GENERAL: "Everything else",
}


class Delivery(StrEnum):
    """How a person wants one kind of notification mailed."""

    NOW = "now"        # a mail at once
    DIGEST = "digest"  # one mail a day listing them
    OFF = "off"        # no mail (the bell still lists them)

    @property
    def label(self) -> str:
        return {"now": "At once", "digest": "Daily digest", "off": "Off (no email)"}[self.value]


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
        # a person's notifications, newest first
        sa.Index("ix_notifications_user_time", "user_id", "created_at", "id"),
        # the digest's work: notifications waiting for a digest
        sa.Index("ix_notifications_digest_due", "delivery", "digested_at", "user_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    message: so.Mapped[str] = so.mapped_column(sa.String(500))
    link: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    read_at: so.Mapped[datetime | None]
    kind: so.Mapped[NoticeKind] = so.mapped_column(enum_column(NoticeKind, "notice_kind"),
                                                   default=NoticeKind.GENERAL, server_default="general")
    # how it was (or will be) mailed, chosen by the person's preference when it was written
    delivery: so.Mapped[Delivery] = so.mapped_column(enum_column(Delivery, "notice_delivery"),
                                                     default=Delivery.NOW, server_default="now")
    digested_at: so.Mapped[datetime | None]  # when a daily digest listed it

    def __repr__(self) -> str:
        return f"<Notification {self.id} user={self.user_id}>"


class NotificationPreference(Base):
    """One person's choice for one kind; a kind without a row is mailed at once."""

    __tablename__ = "notification_preferences"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    kind: so.Mapped[NoticeKind] = so.mapped_column(enum_column(NoticeKind, "preference_kind"), primary_key=True)
    delivery: so.Mapped[Delivery] = so.mapped_column(enum_column(Delivery, "preference_delivery"))

    def __repr__(self) -> str:
        return f"<NotificationPreference user={self.user_id} {self.kind}={self.delivery}>"


class Digest(Base):
    """The daily digest sent to one person on one day: at most one (the command may run twice)."""

    __tablename__ = "notification_digests"
    __table_args__ = (sa.UniqueConstraint("user_id", "day"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    day: so.Mapped[date]
    count: so.Mapped[int]
    sent_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Digest user={self.user_id} {self.day}>"
