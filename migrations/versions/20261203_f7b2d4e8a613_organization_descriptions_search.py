"""The partner finder searches organizations' descriptions as well as their names: a trigram index on the
lower-cased description (PostgreSQL only, like the other search indexes), so a search that matches nothing
no longer reads every organization.

Revision ID: f7b2d4e8a613
Revises: e4a1c7d9b250
Create Date: 2026-12-03 11:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f7b2d4e8a613'
down_revision = 'e4a1c7d9b250'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_organizations_description_trgm ON organizations "
                   "USING gin ((lower(description)) public.gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_organizations_description_trgm")
