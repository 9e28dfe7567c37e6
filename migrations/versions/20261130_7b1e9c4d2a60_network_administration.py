"""Network administration: institutes retire, organizations are verified; indexes for the snapshot as of a
fiscal year.

Revision ID: 7b1e9c4d2a60
Revises: 7a1c9e3b5d20
Create Date: 2026-11-30 11:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7b1e9c4d2a60'
down_revision = '7a1c9e3b5d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('institutes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('retire_reason', sa.String(length=1000), nullable=True))
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_organizations_verified_by_id_users'), 'users',
                                    ['verified_by_id'], ['id'])
    op.create_index('ix_memberships_starts_on_ends_on', 'memberships', ['starts_on', 'ends_on'])
    op.create_index('ix_proposal_status_changes_to_status_at', 'proposal_status_changes', ['to_status', 'at'])
    op.create_index(op.f('ix_federal_obligations_fiscal_year'), 'federal_obligations', ['fiscal_year'])


def downgrade():
    op.drop_index(op.f('ix_federal_obligations_fiscal_year'), table_name='federal_obligations')
    op.drop_index('ix_proposal_status_changes_to_status_at', table_name='proposal_status_changes')
    op.drop_index('ix_memberships_starts_on_ends_on', table_name='memberships')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_organizations_verified_by_id_users'), type_='foreignkey')
        batch_op.drop_column('verified_by_id')
        batch_op.drop_column('verified_at')
    with op.batch_alter_table('institutes', schema=None) as batch_op:
        batch_op.drop_column('retire_reason')
        batch_op.drop_column('retired_on')
