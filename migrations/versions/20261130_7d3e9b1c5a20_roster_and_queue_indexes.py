"""Indexes for an institute's roster and queue at national scale: organizations by name and id (the roster
pages through members in force by name, listed or not), an institute's memberships by status and time of
application (the pending queue, a page at a time, and its longest wait), and its requested changes of tier.

Revision ID: 7d3e9b1c5a20
Revises: 9c3d7a1f5e20
Create Date: 2026-11-30 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7d3e9b1c5a20'
down_revision = '9c3d7a1f5e20'
branch_labels = None
depends_on = None

REQUESTED = sa.text("requested_tier_id IS NOT NULL")


def upgrade():
    op.create_index("ix_organizations_name_id", "organizations", ["name", "id"])
    op.create_index("ix_memberships_institute_status_applied", "memberships",
                    ["institute_id", "status", "applied_at", "id"])
    op.create_index("ix_memberships_tier_requests", "memberships", ["institute_id"],
                    sqlite_where=REQUESTED, postgresql_where=REQUESTED)


def downgrade():
    op.drop_index("ix_memberships_tier_requests", table_name="memberships")
    op.drop_index("ix_memberships_institute_status_applied", table_name="memberships")
    op.drop_index("ix_organizations_name_id", table_name="organizations")
