"""Organizations and the people affiliated with them."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, enum_column, trigram_index, utcnow
from portal.models.imports import batch_column

if TYPE_CHECKING:  # for type checkers only: SQLAlchemy resolves these names itself, and importing them would loop
    from portal.models.user import User


class Sector(StrEnum):
    INDUSTRY = "industry"
    ACADEMIC = "academic"
    GOVERNMENT = "government"
    NONPROFIT = "nonprofit"


class OrgSize(StrEnum):
    SMALL = "small"  # under 500 employees (the SBA's usual manufacturing threshold)
    LARGE = "large"


class AffiliationRole(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class AffiliationStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"


def name_key(name: str) -> str:
    """The form of an organization name used to match it: case and spacing ignored."""
    return " ".join(name.split()).casefold()


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        sa.CheckConstraint(
            "(sector = 'industry' AND size IS NOT NULL) OR (sector <> 'industry' AND size IS NULL)",
            name="size_for_industry_only",
        ),
        sa.CheckConstraint("length(state) = 2", name="state_code"),
        # the directory: listed organizations by name, a page after a (name, id)
        sa.Index("ix_organizations_listed_name", "listed", "name", "id"),
        # an institute's roster: members in force by name, listed or not
        sa.Index("ix_organizations_name_id", "name", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    name_key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    sector: so.Mapped[Sector] = so.mapped_column(enum_column(Sector, "organization_sector"))
    size: so.Mapped[OrgSize | None] = so.mapped_column(enum_column(OrgSize, "organization_size"))
    state: so.Mapped[str] = so.mapped_column(sa.String(2))
    city: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    website: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    description: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")
    listed: so.Mapped[bool] = so.mapped_column(default=True)
    # the federal identifiers, when known: SAM.gov's Unique Entity ID and the IRS employer number
    uei: so.Mapped[str | None] = so.mapped_column(sa.String(12), unique=True)
    ein: so.Mapped[str | None] = so.mapped_column(sa.String(10), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    import_batch_id: so.Mapped[int | None] = batch_column()
    # a network administrator checked that the organization is what it says it is
    verified_at: so.Mapped[datetime | None]
    verified_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    affiliations: so.WriteOnlyMapped["Affiliation"] = so.relationship(back_populates="organization")

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name}>"


class Affiliation(Base):
    __tablename__ = "affiliations"
    __table_args__ = (sa.UniqueConstraint("user_id", "organization_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    organization_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    role: so.Mapped[AffiliationRole] = so.mapped_column(
        enum_column(AffiliationRole, "affiliation_role"), default=AffiliationRole.MEMBER
    )
    status: so.Mapped[AffiliationStatus] = so.mapped_column(
        enum_column(AffiliationStatus, "affiliation_status"), default=AffiliationStatus.PENDING
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    decided_at: so.Mapped[datetime | None]
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    user: so.Mapped["User"] = so.relationship(back_populates="affiliations", foreign_keys=[user_id])
    organization: so.Mapped[Organization] = so.relationship(back_populates="affiliations")
    decided_by: so.Mapped["User | None"] = so.relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<Affiliation user={self.user_id} org={self.organization_id} {self.status}>"

    @property
    def is_active_admin(self) -> bool:
        return self.role == AffiliationRole.ADMIN and self.status == AffiliationStatus.ACTIVE


trigram_index(Organization.__table__, "ix_organizations_name_key_trgm", "name_key")
trigram_index(Organization.__table__, "ix_organizations_search_trgm", "lower(name || ' ' || city || ' ' || state)")
trigram_index(Organization.__table__, "ix_organizations_description_trgm", "lower(description)")  # partner finder
