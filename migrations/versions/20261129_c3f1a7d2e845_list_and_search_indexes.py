"""Indexes for what the lists sort and search: organizations by name, trigram search on PostgreSQL for
organizations, institutes and projects, an institute's audit log by time and its pledges by fiscal year.

Revision ID: c3f1a7d2e845
Revises: c3d9a1f0e2b4
Create Date: 2026-11-29 09:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3f1a7d2e845'
down_revision = 'c3d9a1f0e2b4'
branch_labels = None
depends_on = None

TRIGRAM = [
    ("ix_organizations_name_key_trgm", "organizations", "name_key"),
    ("ix_organizations_search_trgm", "organizations", "lower(name || ' ' || city || ' ' || state)"),
    ("ix_institutes_search_trgm", "institutes",
     "lower(name || ' ' || acronym || ' ' || city || ' ' || state || ' ' || focus)"),
    ("ix_proposals_search_trgm", "proposals", "lower(title || ' ' || technology_area)"),
]


def upgrade():
    op.create_index("ix_organizations_listed_name", "organizations", ["listed", "name", "id"])
    op.create_index("ix_audit_events_institute_time", "audit_events", ["institute_id", "occurred_at", "id"])
    op.create_index("ix_pledges_institute_year", "pledges", ["institute_id", "fiscal_year", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        for name, table, expression in TRIGRAM:
            op.execute(f"CREATE INDEX {name} ON {table} USING gin (({expression}) public.gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in TRIGRAM:
            op.execute(f"DROP INDEX {name}")
    op.drop_index("ix_pledges_institute_year", table_name="pledges")
    op.drop_index("ix_audit_events_institute_time", table_name="audit_events")
    op.drop_index("ix_organizations_listed_name", table_name="organizations")
