"""Indexes for pages at national scale: an institute's active memberships by end date with the organization
(the institute page's count reads the index alone), proposals by call and time of their last status change
(a call's page), a person's notifications newest first, and audit events by action for the log's filter by
kind (with PostgreSQL's pattern operator class, so ``LIKE 'kind.%'`` reads an index range), and an institute's
pledges with receipts not yet verified (the staff's receipts to verify).

Revision ID: 5b8e2f4c9a17
Revises: b5ca041eecae
Create Date: 2026-12-02 16:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5b8e2f4c9a17'
down_revision = 'b5ca041eecae'
branch_labels = None
depends_on = None

UNVERIFIED = sa.text("verified_cents < received_cents")


def upgrade():
    op.create_index("ix_memberships_institute_status_ends", "memberships",
                    ["institute_id", "status", "ends_on", "organization_id"])
    op.create_index("ix_proposals_call_status_changed", "proposals", ["call_id", "status_changed_at", "id"])
    op.create_index("ix_notifications_user_time", "notifications", ["user_id", "created_at", "id"])
    op.create_index("ix_audit_events_action", "audit_events", ["action"],
                    postgresql_ops={"action": "varchar_pattern_ops"})
    op.create_index("ix_pledges_institute_unverified", "pledges", ["institute_id"],
                    sqlite_where=UNVERIFIED, postgresql_where=UNVERIFIED)


def downgrade():
    op.drop_index("ix_pledges_institute_unverified", table_name="pledges")
    op.drop_index("ix_audit_events_action", table_name="audit_events")
    op.drop_index("ix_notifications_user_time", table_name="notifications")
    op.drop_index("ix_proposals_call_status_changed", table_name="proposals")
    op.drop_index("ix_memberships_institute_status_ends", table_name="memberships")
