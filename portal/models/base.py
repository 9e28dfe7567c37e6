"""Declarative base, constraint naming, the UTC datetime type and enum columns."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

import sqlalchemy as sa
import sqlalchemy.orm as so

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """A timezone-aware UTC datetime on every database; naive values are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC datetime is required")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no zone; we only ever store UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


TRIGRAM_SUFFIX = "_trgm"


def trigram_index(table: sa.Table, name: str, expression: str) -> None:
    """A PostgreSQL trigram (pg_trgm) index on ``expression``, for searches by part of a word or a close
    spelling, made with the table; other databases do without it. It is DDL, not metadata (Alembic cannot
    compare expression indexes on SQLite), so the migrations' check leaves names ending in ``_trgm`` out."""
    assert name.endswith(TRIGRAM_SUFFIX)
    sa.event.listen(table, "after_create", sa.DDL(
        f"CREATE INDEX {name} ON {table.name} USING gin (({expression}) public.gin_trgm_ops)").execute_if(
        dialect="postgresql"))


def enum_column(enum_class: type[StrEnum], name: str) -> sa.Enum:
    """A StrEnum stored as a short string with a CHECK constraint (no native enum)."""
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(so.DeclarativeBase):
    registry = so.registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )

    if TYPE_CHECKING:
        # Every model here is mapped to a Table (SQLAlchemy types it as any FromClause).
        __table__: ClassVar[sa.Table]


# Trigram indexes need the pg_trgm extension, made before the tables (migrations make it too).
sa.event.listen(Base.metadata, "before_create",
                sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public").execute_if(dialect="postgresql"))
