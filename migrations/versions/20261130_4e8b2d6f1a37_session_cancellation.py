"""A workforce session can be cancelled as a whole; each sign-up knows whether it was reminded.

Revision ID: 4e8b2d6f1a37
Revises: 08c80befeab0
Create Date: 2026-11-30 09:12:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4e8b2d6f1a37'
down_revision = '08c80befeab0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('program_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('session_signups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
    # sign-ups of sessions already reminded were reminded with them
    op.execute("UPDATE session_signups SET reminded_at = (SELECT reminded_at FROM program_sessions "
               "WHERE program_sessions.id = session_signups.session_id) WHERE status = 'confirmed'")


def downgrade():
    with op.batch_alter_table('session_signups', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
    with op.batch_alter_table('program_sessions', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
