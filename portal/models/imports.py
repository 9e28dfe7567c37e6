"""Batches of records imported from files: what was loaded, by whom, approved by whom, and undone."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, enum_column, utcnow

if TYPE_CHECKING:  # for type checkers only: importing User here would loop
    from portal.models.user import User


class ImportKind(StrEnum):
    ORGANIZATIONS = "organizations"
    MEMBERSHIPS = "memberships"
    PLEDGES = "pledges"
    RECEIPTS = "receipts"
    FEDERAL = "federal"
    WORKFORCE = "workforce"
    PROJECTS = "projects"

    @property
    def moves_money(self) -> bool:
        return self in MONEY_KINDS


MONEY_KINDS = frozenset({ImportKind.PLEDGES, ImportKind.RECEIPTS, ImportKind.FEDERAL})


class ImportStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    COMMITTED = "committed"
    UNDONE = "undone"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ImportBatch(Base):
    """One file imported as a whole. A money batch waits for a second network administrator's approval
    (its file kept until then); the same file is not imported twice while a batch of it stands."""

    __tablename__ = "import_batches"
    __table_args__ = (
        sa.Index("uq_import_batches_standing_file", "kind", "file_sha256", unique=True,
                 sqlite_where=sa.text("status IN ('awaiting_approval', 'committed')"),
                 postgresql_where=sa.text("status IN ('awaiting_approval', 'committed')")),
        sa.CheckConstraint("length(file_sha256) = 64", name="sha256_hex"),
        sa.CheckConstraint("approved_by_id IS NULL OR approved_by_id <> uploaded_by_id", name="two_people"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[ImportKind] = so.mapped_column(enum_column(ImportKind, "import_kind"))
    status: so.Mapped[ImportStatus] = so.mapped_column(enum_column(ImportStatus, "import_status"))
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    file_sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    content: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)  # kept while awaiting approval
    rows: so.Mapped[int] = so.mapped_column(default=0)
    counts: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    uploaded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    approved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    committed_at: so.Mapped[datetime | None]
    undone_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    undone_at: so.Mapped[datetime | None]

    uploaded_by: so.Mapped["User"] = so.relationship(foreign_keys=[uploaded_by_id])
    approved_by: so.Mapped["User | None"] = so.relationship(foreign_keys=[approved_by_id])
    undone_by: so.Mapped["User | None"] = so.relationship(foreign_keys=[undone_by_id])

    def __repr__(self) -> str:
        return f"<ImportBatch {self.id} {self.kind} {self.status}>"


def batch_column() -> so.Mapped[int | None]:
    """The import batch a record came in with (None: made in the portal)."""
    return so.mapped_column(sa.ForeignKey("import_batches.id"), index=True)
