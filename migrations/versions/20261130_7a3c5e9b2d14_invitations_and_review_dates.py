"""Invitations by email; review due dates and their reminders; a partner's invitation can be withdrawn.

Revision ID: 7a3c5e9b2d14
Revises: d3f8a2c6b417
Create Date: 2026-11-30 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7a3c5e9b2d14'
down_revision = 'd3f8a2c6b417'
branch_labels = None
depends_on = None

PARTNER_CHECK = 'ck_proposal_partners_partner_status'


def _statuses(*values: str) -> sa.TextClause:
    return sa.text("status IN (" + ", ".join(f"'{v}'" for v in values) + ")")


def upgrade():
    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('colleague', 'staff', 'reviewer', 'partner', name='invitation_kind',
                              native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'withdrawn', name='invitation_status',
                                native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('institute_id', sa.Integer(), nullable=True),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('organization_name', sa.String(length=200), nullable=False),
    sa.Column('message', sa.String(length=1000), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_invitations_expires_after_creation')),
    sa.CheckConstraint(
        "(kind = 'colleague' AND organization_id IS NOT NULL)"
        " OR (kind = 'staff' AND institute_id IS NOT NULL)"
        " OR (kind = 'reviewer' AND proposal_id IS NOT NULL)"
        " OR (kind = 'partner' AND proposal_id IS NOT NULL AND organization_name <> '')",
        name=op.f('ck_invitations_target_given')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_invitations_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_invitations_institute_id_institutes')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_invitations_organization_id_organizations')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_invitations_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_invitations_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_institute_id'), ['institute_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_proposal_id'), ['proposal_id'], unique=False)

    with op.batch_alter_table('proposal_reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('overdue_reminded_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('proposal_partners', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(PARTNER_CHECK), type_='check')
        batch_op.alter_column('status', existing_type=sa.String(length=8), type_=sa.String(length=9),
                              existing_nullable=False)
        batch_op.create_check_constraint('partner_status', _statuses('invited', 'accepted', 'declined', 'withdrawn'))


def downgrade():
    # a withdrawn invitation reads as declined to the older code
    op.execute("UPDATE proposal_partners SET status = 'declined' WHERE status = 'withdrawn'")
    with op.batch_alter_table('proposal_partners', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(PARTNER_CHECK), type_='check')
        batch_op.alter_column('status', existing_type=sa.String(length=9), type_=sa.String(length=8),
                              existing_nullable=False)
        batch_op.create_check_constraint('partner_status', _statuses('invited', 'accepted', 'declined'))

    with op.batch_alter_table('proposal_reviews', schema=None) as batch_op:
        batch_op.drop_column('overdue_reminded_at')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('due_on')

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_organization_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_institute_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_email'))

    op.drop_table('invitations')
