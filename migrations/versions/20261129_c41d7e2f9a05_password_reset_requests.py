"""Password-reset requests: written by every request for a link, answered by the outbox worker.

Revision ID: c41d7e2f9a05
Revises: e5c3f2a4b013
Create Date: 2026-11-29 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c41d7e2f9a05'
down_revision = 'e5c3f2a4b013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'password_reset_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_requests')),
    )


def downgrade():
    op.drop_table('password_reset_requests')
