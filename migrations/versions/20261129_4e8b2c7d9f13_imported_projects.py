"""Imported (historical) projects: proposals and calls carry their import batch, a proposal the file's own key
and its cost share as a figure; the import kinds gain projects.

Revision ID: 4e8b2c7d9f13
Revises: 83199a45a37c
Create Date: 2026-11-29 13:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4e8b2c7d9f13'
down_revision = '83199a45a37c'
branch_labels = None
depends_on = None

KIND_CHECK = 'ck_import_batches_import_kind'
KINDS = ('organizations', 'memberships', 'pledges', 'receipts', 'federal', 'workforce')


def _kinds(*values: str) -> sa.TextClause:
    return sa.text("kind IN (" + ", ".join(f"'{v}'" for v in values) + ")")


def upgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(KIND_CHECK), type_='check')
        batch_op.create_check_constraint('import_kind', _kinds(*KINDS, 'projects'))

    with op.batch_alter_table('project_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_project_calls_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_project_calls_import_batch_id_import_batches'),
                                    'import_batches', ['import_batch_id'], ['id'])

    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost_share_cents', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('import_ref', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_proposals_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_import_ref'), ['import_ref'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_proposals_import_batch_id_import_batches'),
                                    'import_batches', ['import_batch_id'], ['id'])
        batch_op.create_check_constraint('cost_share_not_negative',
                                         sa.text('cost_share_cents IS NULL OR cost_share_cents >= 0'))


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_proposals_cost_share_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_proposals_import_batch_id_import_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_proposals_import_ref'))
        batch_op.drop_index(batch_op.f('ix_proposals_import_batch_id'))
        batch_op.drop_column('import_ref')
        batch_op.drop_column('import_batch_id')
        batch_op.drop_column('cost_share_cents')

    with op.batch_alter_table('project_calls', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_project_calls_import_batch_id_import_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_project_calls_import_batch_id'))
        batch_op.drop_column('import_batch_id')

    # imported projects go with the kind: the older schema has no place for them
    op.execute("DELETE FROM import_batches WHERE kind = 'projects'")
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(KIND_CHECK), type_='check')
        batch_op.create_check_constraint('import_kind', _kinds(*KINDS))
