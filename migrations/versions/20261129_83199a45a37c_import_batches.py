"""Import batches; imported records carry their batch (and the file's own key for money); organizations'
UEI and EIN; workforce outreach counts by batch too.

Revision ID: 83199a45a37c
Revises: 7a3c5e9b2d14
Create Date: 2026-11-29 11:28:52.419938

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '83199a45a37c'
down_revision = '7a3c5e9b2d14'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('organizations', 'memberships', 'pledges', 'receipts', 'federal', 'workforce', name='import_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('awaiting_approval', 'committed', 'undone', 'refused', name='import_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('approved_by_id IS NULL OR approved_by_id <> uploaded_by_id', name=op.f('ck_import_batches_two_people')),
    sa.CheckConstraint('length(file_sha256) = 64', name=op.f('ck_import_batches_sha256_hex')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_import_batches_approved_by_id_users')),
    sa.ForeignKeyConstraint(['undone_by_id'], ['users.id'], name=op.f('fk_import_batches_undone_by_id_users')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_import_batches_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index('uq_import_batches_standing_file', ['kind', 'file_sha256'], unique=True, sqlite_where=sa.text("status IN ('awaiting_approval', 'committed')"), postgresql_where=sa.text("status IN ('awaiting_approval', 'committed')"))

    with op.batch_alter_table('federal_obligations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_federal_obligations_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_federal_obligations_import_batch_id_import_batches'), 'import_batches', ['import_batch_id'], ['id'])

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('import_ref', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_ledger_entries_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_import_ref'), ['import_ref'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ledger_entries_import_batch_id_import_batches'), 'import_batches', ['import_batch_id'], ['id'])

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_memberships_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_memberships_import_batch_id_import_batches'), 'import_batches', ['import_batch_id'], ['id'])

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uei', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('ein', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_organizations_ein'), ['ein'], unique=False)
        batch_op.create_index(batch_op.f('ix_organizations_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_organizations_uei'), ['uei'])
        batch_op.create_foreign_key(batch_op.f('fk_organizations_import_batch_id_import_batches'), 'import_batches', ['import_batch_id'], ['id'])

    with op.batch_alter_table('outreach_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outreach_events_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outreach_events_import_batch_id_import_batches'),
                                    'import_batches', ['import_batch_id'], ['id'])

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('import_ref', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_pledges_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledges_import_ref'), ['import_ref'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_pledges_import_batch_id_import_batches'), 'import_batches', ['import_batch_id'], ['id'])



def downgrade():
    with op.batch_alter_table('outreach_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outreach_events_import_batch_id_import_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outreach_events_import_batch_id'))
        batch_op.drop_column('import_batch_id')

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_pledges_import_batch_id_import_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_pledges_import_ref'))
        batch_op.drop_index(batch_op.f('ix_pledges_import_batch_id'))
        batch_op.drop_column('import_ref')
        batch_op.drop_column('import_batch_id')

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_organizations_import_batch_id_import_batches'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_organizations_uei'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_organizations_import_batch_id'))
        batch_op.drop_index(batch_op.f('ix_organizations_ein'))
        batch_op.drop_column('import_batch_id')
        batch_op.drop_column('ein')
        batch_op.drop_column('uei')

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_memberships_import_batch_id_import_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_memberships_import_batch_id'))
        batch_op.drop_column('import_batch_id')

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_entries_import_batch_id_import_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ledger_entries_import_ref'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_import_batch_id'))
        batch_op.drop_column('import_ref')
        batch_op.drop_column('import_batch_id')

    with op.batch_alter_table('federal_obligations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_federal_obligations_import_batch_id_import_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_federal_obligations_import_batch_id'))
        batch_op.drop_column('import_batch_id')

    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index('uq_import_batches_standing_file', sqlite_where=sa.text("status IN ('awaiting_approval', 'committed')"), postgresql_where=sa.text("status IN ('awaiting_approval', 'committed')"))

    op.drop_table('import_batches')
