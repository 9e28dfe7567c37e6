"""Institute staff, membership tiers and memberships."""

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, enum_column, utcnow
from portal.models.imports import batch_column

if TYPE_CHECKING:  # for type checkers only: SQLAlchemy resolves these names itself, and importing them would loop
    from portal.models.institute import Institute
    from portal.models.organization import Organization
    from portal.models.user import User


class InstituteStaff(Base):
    """A user who administers an institute."""

    __tablename__ = "institute_staff"
    __table_args__ = (sa.UniqueConstraint("institute_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institute_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    added_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    user: so.Mapped["User"] = so.relationship(foreign_keys=[user_id])
    institute: so.Mapped["Institute"] = so.relationship()

    def __repr__(self) -> str:
        return f"<InstituteStaff institute={self.institute_id} user={self.user_id}>"


class Tier(Base):
    """A membership level of one institute: what it costs each year and what it grants."""

    __tablename__ = "membership_tiers"
    __table_args__ = (
        sa.UniqueConstraint("institute_id", "name"),
        sa.CheckConstraint("annual_fee_cents >= 0", name="fee_not_negative"),
        sa.CheckConstraint("named_seats >= 0", name="seats_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institute_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(60))
    annual_fee_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    may_lead_projects: so.Mapped[bool] = so.mapped_column(default=False)
    may_join_projects: so.Mapped[bool] = so.mapped_column(default=True)
    governance_vote: so.Mapped[bool] = so.mapped_column(default=False)
    named_seats: so.Mapped[int] = so.mapped_column(default=1)
    retired_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    institute: so.Mapped["Institute"] = so.relationship()

    def __repr__(self) -> str:
        return f"<Tier {self.institute_id} {self.name}>"

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class MembershipStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"
    LAPSED = "lapsed"


LIVE_STATUSES = (MembershipStatus.PENDING, MembershipStatus.ACTIVE)


class Membership(Base):
    """An organization's application to, and membership of, an institute."""

    __tablename__ = "memberships"
    __table_args__ = (
        # at most one pending or active membership per organization and institute
        sa.Index(
            "uq_memberships_live", "organization_id", "institute_id", unique=True,
            sqlite_where=sa.text("status IN ('pending', 'active')"),
            postgresql_where=sa.text("status IN ('pending', 'active')"),
        ),
        sa.CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on > starts_on", name="term_order"),
        # finds active memberships past their end date that have not been recorded as lapsed yet
        sa.Index("ix_memberships_status_ends_on", "status", "ends_on"),
        # an institute's queue of applications by time, a page at a time; its requested changes of tier
        sa.Index("ix_memberships_institute_status_applied", "institute_id", "status", "applied_at", "id"),
        # an institute's active memberships by end date, with the organization (the institute page's count of
        # members ended but not yet recorded as lapsed reads the index alone)
        sa.Index("ix_memberships_institute_status_ends", "institute_id", "status", "ends_on", "organization_id"),
        sa.Index("ix_memberships_tier_requests", "institute_id", sqlite_where=sa.text("requested_tier_id IS NOT NULL"),
                 postgresql_where=sa.text("requested_tier_id IS NOT NULL")),
        # the memberships in force on a past day (the snapshot as of a fiscal year)
        sa.Index("ix_memberships_starts_on_ends_on", "starts_on", "ends_on"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    organization_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    institute_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    tier_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("membership_tiers.id"))
    status: so.Mapped[MembershipStatus] = so.mapped_column(
        enum_column(MembershipStatus, "membership_status"), default=MembershipStatus.PENDING
    )
    statement: so.Mapped[str] = so.mapped_column(sa.String(2000))
    contact_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    contact_email: so.Mapped[str] = so.mapped_column(sa.String(254))
    applied_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    applied_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    decided_at: so.Mapped[datetime | None]
    decision_reason: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    starts_on: so.Mapped[date | None]
    ends_on: so.Mapped[date | None]
    closed_at: so.Mapped[datetime | None]
    close_reason: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    requested_tier_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("membership_tiers.id"))
    reminded_for: so.Mapped[date | None]  # the end date a lapse reminder was last sent for
    import_batch_id: so.Mapped[int | None] = batch_column()

    organization: so.Mapped["Organization"] = so.relationship()
    institute: so.Mapped["Institute"] = so.relationship()
    tier: so.Mapped[Tier] = so.relationship(foreign_keys=[tier_id])
    requested_tier: so.Mapped[Tier | None] = so.relationship(foreign_keys=[requested_tier_id])
    applied_by: so.Mapped["User"] = so.relationship(foreign_keys=[applied_by_id])
    decided_by: so.Mapped["User | None"] = so.relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<Membership {self.id} org={self.organization_id} institute={self.institute_id} {self.status}>"

    def current_status(self, today: date) -> MembershipStatus:
        """The status everyone sees: an active membership past its end date has lapsed."""
        if self.status == MembershipStatus.ACTIVE and self.ends_on is not None and self.ends_on < today:
            return MembershipStatus.LAPSED
        return self.status

    @classmethod
    def in_force(cls, today: date):
        """SQL condition for a membership that grants access on ``today``."""
        return sa.and_(cls.status == MembershipStatus.ACTIVE, cls.ends_on >= today)

    def days_waiting(self, today: date) -> int:
        return (today - self.applied_at.date()).days

    @property
    def decision_days(self) -> int | None:
        if self.decided_at is None:
            return None
        return (self.decided_at - self.applied_at).days
