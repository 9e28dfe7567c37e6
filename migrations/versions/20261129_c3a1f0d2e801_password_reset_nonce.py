"""Password reset links: only the newest one works.

Revision ID: c3a1f0d2e801
Revises: c3f1a7d2e845
Create Date: 2026-11-29 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3a1f0d2e801'
down_revision = 'c3f1a7d2e845'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_reset_nonce', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('password_reset_nonce')
