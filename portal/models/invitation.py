"""Invitations by email: to join an organization, administer an institute, review a proposal or partner on one."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, enum_column, utcnow

if TYPE_CHECKING:  # for type checkers only: SQLAlchemy resolves these names itself
    from portal.models.institute import Institute
    from portal.models.organization import Organization
    from portal.models.proposal import Proposal
    from portal.models.user import User


class InvitationKind(StrEnum):
    COLLEAGUE = "colleague"  # join an organization, asked by one of its admins
    STAFF = "staff"          # administer an institute, asked by a network administrator
    REVIEWER = "reviewer"    # review a proposal, asked by the institute's staff
    PARTNER = "partner"      # answer for a partner organization on a proposal, asked by the lead's people


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"


class Invitation(Base):
    """An invitation sent to an address, whether or not an account has it. The link in the mail carries a
    random token; only its SHA-256 is stored. It is used once (accepted), or withdrawn, and expires."""

    __tablename__ = "invitations"
    __table_args__ = (
        sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        sa.CheckConstraint(
            "(kind = 'colleague' AND organization_id IS NOT NULL)"
            " OR (kind = 'staff' AND institute_id IS NOT NULL)"
            " OR (kind = 'reviewer' AND proposal_id IS NOT NULL)"
            " OR (kind = 'partner' AND proposal_id IS NOT NULL AND organization_name <> '')",
            name="target_given"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[InvitationKind] = so.mapped_column(enum_column(InvitationKind, "invitation_kind"))
    status: so.Mapped[InvitationStatus] = so.mapped_column(
        enum_column(InvitationStatus, "invitation_status"), default=InvitationStatus.PENDING)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    organization_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    institute_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    proposal_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("proposals.id"), index=True)
    # a partner invitation names the organization the contact answers for (it may be new to the portal)
    organization_name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    message: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")
    invited_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    accepted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    accepted_at: so.Mapped[datetime | None]
    withdrawn_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    withdrawn_at: so.Mapped[datetime | None]

    invited_by: so.Mapped["User"] = so.relationship(foreign_keys=[invited_by_id])
    organization: so.Mapped["Organization | None"] = so.relationship()
    institute: so.Mapped["Institute | None"] = so.relationship()
    proposal: so.Mapped["Proposal | None"] = so.relationship()

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.kind} {self.status}>"
