"""The institutes of the network."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, enum_column, trigram_index, utcnow


class Agency(StrEnum):
    DOD = "DOD"
    DOE = "DOE"
    DOC = "DOC"
    NASA = "NASA"
    NSF = "NSF"
    OTHER = "other"

    @property
    def label(self) -> str:
        return AGENCY_NAMES[self]


AGENCY_NAMES = {
    Agency.DOD: "Department of Defense",
    Agency.DOE: "Department of Energy",
    Agency.DOC: "Department of Commerce",
    Agency.NASA: "NASA",
    Agency.NSF: "National Science Foundation",
    Agency.OTHER: "Other agency",
}


class Institute(Base):
    __tablename__ = "institutes"
    __table_args__ = (
        sa.CheckConstraint("federal_base_award_cents >= 0", name="award_not_negative"),
        sa.CheckConstraint("length(state) = 2", name="state_code"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    acronym: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    focus: so.Mapped[str] = so.mapped_column(sa.String(200))
    agency: so.Mapped[Agency] = so.mapped_column(enum_column(Agency, "institute_agency"))
    founded_year: so.Mapped[int]
    city: so.Mapped[str] = so.mapped_column(sa.String(100))
    state: so.Mapped[str] = so.mapped_column(sa.String(2))
    website: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    federal_base_award_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # the last day the institute was part of the network (a network administrator retires it); None: active
    retired_on: so.Mapped[date | None]
    retire_reason: so.Mapped[str | None] = so.mapped_column(sa.String(1000))

    def __repr__(self) -> str:
        return f"<Institute {self.slug}>"

    @property
    def is_retired(self) -> bool:
        return self.retired_on is not None


trigram_index(Institute.__table__, "ix_institutes_search_trgm",
              "lower(name || ' ' || acronym || ' ' || city || ' ' || state || ' ' || focus)")
