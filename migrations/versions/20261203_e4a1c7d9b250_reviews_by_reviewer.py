"""A reviewer's reviews newest first: the index on the reviewer alone becomes one on the reviewer, the time
asked and the id, which the list of one's reviews (/reviews, /api/v1/me/reviews) pages along.

Revision ID: e4a1c7d9b250
Revises: 5b8e2f4c9a17
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4a1c7d9b250'
down_revision = '5b8e2f4c9a17'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_proposal_reviews_reviewer_assigned", "proposal_reviews", ["reviewer_id", "assigned_at", "id"])
    op.drop_index("ix_proposal_reviews_reviewer_id", table_name="proposal_reviews")


def downgrade():
    op.create_index("ix_proposal_reviews_reviewer_id", "proposal_reviews", ["reviewer_id"])
    op.drop_index("ix_proposal_reviews_reviewer_assigned", table_name="proposal_reviews")
