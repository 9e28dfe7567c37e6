"""Notifications have a kind and a delivery (at once, daily digest, off); each person's choice per kind;
the daily digests sent; indexes for receipts awaiting verification and for a person's own proposals.

Revision ID: d3f8a2c6b417
Revises: 7d3e9b1c5a20
Create Date: 2026-12-01 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd3f8a2c6b417'
down_revision = '7d3e9b1c5a20'
branch_labels = None
depends_on = None

KINDS = ("membership", "organization", "ledger", "proposal", "review", "project", "workforce", "staff",
         "security", "general")
DELIVERIES = ("now", "digest", "off")


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=max(map(len, values)))


def _in(column, values):
    return sa.text(f"{column} IN ({', '.join(repr(v) for v in values)})")


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(12), nullable=False, server_default='general'))
        batch_op.add_column(sa.Column('delivery', sa.String(6), nullable=False, server_default='now'))
        batch_op.add_column(sa.Column('digested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_notifications_digest_due', ['delivery', 'digested_at', 'user_id'], unique=False)
    # the CHECKs once the columns exist (SQLite's batch copies the table with them)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_notifications_notice_kind'), _in('kind', KINDS))
        batch_op.create_check_constraint(op.f('ck_notifications_notice_delivery'), _in('delivery', DELIVERIES))
    op.create_table(
        'notification_preferences',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum(KINDS, 'preference_kind'), nullable=False),
        sa.Column('delivery', _enum(DELIVERIES, 'preference_delivery'), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_preferences')),
    )
    op.create_table(
        'notification_digests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_digests_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_digests')),
        sa.UniqueConstraint('user_id', 'day', name=op.f('uq_notification_digests_user_id')),
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_verifies_id', ['verifies_id'], unique=False)
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index('ix_proposals_created_by_id', ['created_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_created_by_id')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_verifies_id')
    op.drop_table('notification_digests')
    op.drop_table('notification_preferences')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_notice_delivery'), type_='check')
        batch_op.drop_constraint(op.f('ck_notifications_notice_kind'), type_='check')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_digest_due')
        batch_op.drop_column('digested_at')
        batch_op.drop_column('delivery')
        batch_op.drop_column('kind')
