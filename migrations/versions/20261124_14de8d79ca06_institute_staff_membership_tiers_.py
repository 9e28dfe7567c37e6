"""Institute staff, membership tiers, memberships, notifications; audit events by institute.

Revision ID: 14de8d79ca06
Revises: 745c9d870e91
Create Date: 2026-11-24 14:45:33.077851

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '14de8d79ca06'
down_revision = '745c9d870e91'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('institute_staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_institute_staff_added_by_id_users')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_institute_staff_institute_id_institutes')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_institute_staff_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institute_staff')),
    sa.UniqueConstraint('institute_id', 'user_id', name=op.f('uq_institute_staff_institute_id'))
    )
    with op.batch_alter_table('institute_staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institute_staff_institute_id'), ['institute_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_institute_staff_user_id'), ['user_id'], unique=False)

    op.create_table('membership_tiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('annual_fee_cents', sa.BigInteger(), nullable=False),
    sa.Column('may_lead_projects', sa.Boolean(), nullable=False),
    sa.Column('may_join_projects', sa.Boolean(), nullable=False),
    sa.Column('governance_vote', sa.Boolean(), nullable=False),
    sa.Column('named_seats', sa.Integer(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('annual_fee_cents >= 0', name=op.f('ck_membership_tiers_fee_not_negative')),
    sa.CheckConstraint('named_seats >= 0', name=op.f('ck_membership_tiers_seats_not_negative')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_membership_tiers_institute_id_institutes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_tiers')),
    sa.UniqueConstraint('institute_id', 'name', name=op.f('uq_membership_tiers_institute_id'))
    )
    with op.batch_alter_table('membership_tiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_tiers_institute_id'), ['institute_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)

    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=False),
    sa.Column('tier_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'active', 'declined', 'withdrawn', 'ended', 'lapsed', name='membership_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('statement', sa.String(length=2000), nullable=False),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('applied_by_id', sa.Integer(), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.String(length=1000), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.String(length=1000), nullable=True),
    sa.Column('requested_tier_id', sa.Integer(), nullable=True),
    sa.Column('reminded_for', sa.Date(), nullable=True),
    sa.CheckConstraint('ends_on IS NULL OR starts_on IS NULL OR ends_on > starts_on', name=op.f('ck_memberships_term_order')),
    sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'], name=op.f('fk_memberships_applied_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_memberships_decided_by_id_users')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_memberships_institute_id_institutes')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_memberships_organization_id_organizations')),
    sa.ForeignKeyConstraint(['requested_tier_id'], ['membership_tiers.id'], name=op.f('fk_memberships_requested_tier_id_membership_tiers')),
    sa.ForeignKeyConstraint(['tier_id'], ['membership_tiers.id'], name=op.f('fk_memberships_tier_id_membership_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_institute_id'), ['institute_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('uq_memberships_live', ['organization_id', 'institute_id'], unique=True, sqlite_where=sa.text("status IN ('pending', 'active')"), postgresql_where=sa.text("status IN ('pending', 'active')"))

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('institute_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_events_institute_id'), ['institute_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_events_institute_id_institutes'), 'institutes', ['institute_id'], ['id'])



def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_events_institute_id_institutes'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_events_institute_id'))
        batch_op.drop_column('institute_id')

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('uq_memberships_live', sqlite_where=sa.text("status IN ('pending', 'active')"), postgresql_where=sa.text("status IN ('pending', 'active')"))
        batch_op.drop_index(batch_op.f('ix_memberships_organization_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_institute_id'))

    op.drop_table('memberships')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')

    op.drop_table('notifications')
    with op.batch_alter_table('membership_tiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_tiers_institute_id'))

    op.drop_table('membership_tiers')
    with op.batch_alter_table('institute_staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institute_staff_user_id'))
        batch_op.drop_index(batch_op.f('ix_institute_staff_institute_id'))

    op.drop_table('institute_staff')
