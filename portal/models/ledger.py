"""Co-investment: pledges, their installment schedules, the append-only ledger and federal obligations."""

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.audit import make_append_only
from portal.models.base import Base, enum_column, utcnow
from portal.models.imports import batch_column

UNVERIFIED = sa.text("verified_cents < received_cents")  # a pledge with receipts waiting to be verified

if TYPE_CHECKING:  # for type checkers only: SQLAlchemy resolves these names itself, and importing them would loop
    from portal.models.institute import Institute
    from portal.models.organization import Organization
    from portal.models.user import User


class PledgeKind(StrEnum):
    CASH = "cash"
    IN_KIND = "in_kind"


class EntryKind(StrEnum):
    PLEDGE = "pledge"
    RECEIPT = "receipt"
    VERIFICATION = "verification"
    CANCELLATION = "cancellation"
    REVERSAL = "reversal"
    # cost share of a proposal that was declined, withdrawn or returned: what remained is let go, for good
    RELEASE = "release"


class PledgeStatus(StrEnum):
    PLEDGED = "pledged"
    PARTLY_RECEIVED = "partly_received"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


def pledge_status(pledged: int, received: int, cancelled: int) -> PledgeStatus:
    """A pledge's status follows from its totals alone."""
    remaining = pledged - received - cancelled
    if remaining == 0:
        return PledgeStatus.FULFILLED if received > 0 else PledgeStatus.CANCELLED
    return PledgeStatus.PARTLY_RECEIVED if received > 0 else PledgeStatus.PLEDGED


class Pledge(Base):
    """What an organization promised an institute. Its money lives in ledger entries."""

    __tablename__ = "pledges"
    __table_args__ = (
        sa.CheckConstraint("fiscal_year BETWEEN 2012 AND 2100", name="fiscal_year_range"),
        sa.CheckConstraint("kind = 'cash' OR length(in_kind_description) > 0", name="in_kind_described"),
        # Running totals, kept in step with the entries in the same transaction. The database itself
        # refuses a receipt that would overdraw the pledge, whoever writes it and however concurrently.
        sa.CheckConstraint("pledged_cents > 0", name="pledged_positive"),
        sa.CheckConstraint("received_cents >= 0 AND cancelled_cents >= 0 AND verified_cents >= 0",
                           name="totals_not_negative"),
        sa.CheckConstraint("received_cents + cancelled_cents <= pledged_cents", name="not_overdrawn"),
        sa.CheckConstraint("verified_cents <= received_cents", name="verified_within_received"),
        # an institute's pledges, newest fiscal year first, a page after a (fiscal_year, id)
        sa.Index("ix_pledges_institute_year", "institute_id", "fiscal_year", "id"),
        # an institute's pledges with receipts not yet verified: the staff's "receipts to verify", a few rows
        # however many pledges the institute holds
        sa.Index("ix_pledges_institute_unverified", "institute_id", sqlite_where=UNVERIFIED,
                 postgresql_where=UNVERIFIED),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    organization_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    institute_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    kind: so.Mapped[PledgeKind] = so.mapped_column(enum_column(PledgeKind, "pledge_kind"))
    fiscal_year: so.Mapped[int] = so.mapped_column(index=True)
    in_kind_description: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")
    note: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")
    proposal_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("proposals.id"), index=True)
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    pledged_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    received_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    verified_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    cancelled_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    import_batch_id: so.Mapped[int | None] = batch_column()
    import_ref: so.Mapped[str | None] = so.mapped_column(sa.String(100), index=True)  # the file's own key

    organization: so.Mapped["Organization"] = so.relationship()
    institute: so.Mapped["Institute"] = so.relationship()
    created_by: so.Mapped["User"] = so.relationship()
    instalments: so.Mapped[list["Instalment"]] = so.relationship(
        back_populates="pledge", order_by="Instalment.due_on", cascade="all, delete-orphan")

    @property
    def remaining_cents(self) -> int:
        """What is still to be received: pledged less received and cancelled."""
        return self.pledged_cents - self.received_cents - self.cancelled_cents

    @property
    def status(self) -> PledgeStatus:
        return pledge_status(self.pledged_cents, self.received_cents, self.cancelled_cents)

    @classmethod
    def status_expression(cls):
        """The same rule as ``status``, in SQL, for filtering."""
        remaining = cls.pledged_cents - cls.received_cents - cls.cancelled_cents
        return sa.case(
            (sa.and_(remaining == 0, cls.received_cents == 0), PledgeStatus.CANCELLED.value),
            (remaining == 0, PledgeStatus.FULFILLED.value),
            (cls.received_cents > 0, PledgeStatus.PARTLY_RECEIVED.value),
            else_=PledgeStatus.PLEDGED.value,
        )

    def __repr__(self) -> str:
        return f"<Pledge {self.id} org={self.organization_id} institute={self.institute_id} FY{self.fiscal_year}>"


class Instalment(Base):
    """One planned payment of a pledge; a schedule's amounts add up to the pledge."""

    __tablename__ = "pledge_instalments"
    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    pledge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("pledges.id"), index=True)
    due_on: so.Mapped[date]
    amount_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    reminded_at: so.Mapped[datetime | None]

    pledge: so.Mapped[Pledge] = so.relationship(back_populates="instalments")

    def __repr__(self) -> str:
        return f"<Installment pledge={self.pledge_id} {self.due_on} {self.amount_cents}>"


class LedgerEntry(Base):
    """One money event. Never updated or deleted: a mistake is undone by a reversing entry."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        sa.CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        sa.CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_points_back"),
        sa.CheckConstraint("(kind = 'verification') = (verifies_id IS NOT NULL)", name="verification_points_back"),
        sa.CheckConstraint("kind = 'reversal' OR amount_cents > 0", name="only_reversals_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    pledge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("pledges.id"), index=True)
    kind: so.Mapped[EntryKind] = so.mapped_column(enum_column(EntryKind, "ledger_entry_kind"))
    amount_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    reverses_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ledger_entries.id"), unique=True)
    verifies_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ledger_entries.id"), index=True)
    received_on: so.Mapped[date | None]
    reason: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    occurred_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    idempotency_key: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    import_batch_id: so.Mapped[int | None] = batch_column()
    import_ref: so.Mapped[str | None] = so.mapped_column(sa.String(100), index=True)  # the file's own key

    pledge: so.Mapped[Pledge] = so.relationship()
    actor: so.Mapped["User | None"] = so.relationship()
    reverses: so.Mapped["LedgerEntry | None"] = so.relationship(
        remote_side=[id], foreign_keys=[reverses_id])
    verifies: so.Mapped["LedgerEntry | None"] = so.relationship(
        remote_side=[id], foreign_keys=[verifies_id])

    def __repr__(self) -> str:
        return f"<LedgerEntry {self.id} {self.kind} {self.amount_cents}>"


class FederalObligation(Base):
    """Federal money obligated to an institute for a fiscal year under an award reference.

    An original obligation is positive and its reference is the institute's only original of that name;
    a correction is negative and points at the obligation it corrects (carrying the same reference).
    """

    __tablename__ = "federal_obligations"
    __table_args__ = (
        sa.CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        sa.CheckConstraint("fiscal_year BETWEEN 2012 AND 2100", name="fiscal_year_range"),
        sa.CheckConstraint("(corrects_id IS NULL) = (amount_cents > 0)", name="corrections_point_back"),
        sa.CheckConstraint("length(reference) > 0", name="reference_given"),
        sa.Index("uq_federal_obligations_original_reference", "institute_id", "reference", unique=True,
                 sqlite_where=sa.text("corrects_id IS NULL"), postgresql_where=sa.text("corrects_id IS NULL")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institute_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    fiscal_year: so.Mapped[int] = so.mapped_column(index=True)
    amount_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    reference: so.Mapped[str] = so.mapped_column(sa.String(100))
    corrects_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("federal_obligations.id"), index=True)
    note: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    occurred_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    idempotency_key: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    import_batch_id: so.Mapped[int | None] = batch_column()

    institute: so.Mapped["Institute"] = so.relationship()
    actor: so.Mapped["User | None"] = so.relationship()
    corrects: so.Mapped["FederalObligation | None"] = so.relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<FederalObligation {self.institute_id} FY{self.fiscal_year} {self.amount_cents}>"


for _table in (LedgerEntry.__table__, FederalObligation.__table__):
    make_append_only(_table)
