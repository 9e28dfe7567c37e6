"""The co-investment ledger: pledges, instalments, append-only entries, federal obligations.

Revision ID: ec51ae2aa159
Revises: 14de8d79ca06
Create Date: 2026-11-24 14:58:32.563786

"""
import sqlalchemy as sa
from alembic import op

APPEND_ONLY = ("ledger_entries", "federal_obligations")  # refuse_change() comes from the first revision


# revision identifiers, used by Alembic.
revision = 'ec51ae2aa159'
down_revision = '14de8d79ca06'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('federal_obligations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_federal_obligations_amount_not_zero')),
    sa.CheckConstraint('fiscal_year BETWEEN 2012 AND 2100', name=op.f('ck_federal_obligations_fiscal_year_range')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_federal_obligations_actor_id_users')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_federal_obligations_institute_id_institutes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federal_obligations')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_federal_obligations_idempotency_key'))
    )
    with op.batch_alter_table('federal_obligations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federal_obligations_institute_id'), ['institute_id'], unique=False)

    op.create_table('pledges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('cash', 'in_kind', name='pledge_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('in_kind_description', sa.String(length=1000), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pledged_cents', sa.BigInteger(), nullable=False),
    sa.Column('received_cents', sa.BigInteger(), nullable=False),
    sa.Column('verified_cents', sa.BigInteger(), nullable=False),
    sa.Column('cancelled_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("kind = 'cash' OR length(in_kind_description) > 0", name=op.f('ck_pledges_in_kind_described')),
    sa.CheckConstraint('fiscal_year BETWEEN 2012 AND 2100', name=op.f('ck_pledges_fiscal_year_range')),
    sa.CheckConstraint('pledged_cents > 0', name=op.f('ck_pledges_pledged_positive')),
    sa.CheckConstraint('received_cents + cancelled_cents <= pledged_cents', name=op.f('ck_pledges_not_overdrawn')),
    sa.CheckConstraint('received_cents >= 0 AND cancelled_cents >= 0 AND verified_cents >= 0', name=op.f('ck_pledges_totals_not_negative')),
    sa.CheckConstraint('verified_cents <= received_cents', name=op.f('ck_pledges_verified_within_received')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_pledges_created_by_id_users')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_pledges_institute_id_institutes')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_pledges_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledges'))
    )
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledges_fiscal_year'), ['fiscal_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledges_institute_id'), ['institute_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledges_organization_id'), ['organization_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pledge', 'receipt', 'verification', 'cancellation', 'reversal', name='ledger_entry_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('verifies_id', sa.Integer(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name=op.f('ck_ledger_entries_reversal_points_back')),
    sa.CheckConstraint("(kind = 'verification') = (verifies_id IS NOT NULL)", name=op.f('ck_ledger_entries_verification_points_back')),
    sa.CheckConstraint("kind = 'reversal' OR amount_cents > 0", name=op.f('ck_ledger_entries_only_reversals_negative')),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_ledger_entries_amount_not_zero')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ledger_entries_actor_id_users')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_ledger_entries_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_entries.id'], name=op.f('fk_ledger_entries_reverses_id_ledger_entries')),
    sa.ForeignKeyConstraint(['verifies_id'], ['ledger_entries.id'], name=op.f('fk_ledger_entries_verifies_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_entries_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_entries_reverses_id'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_pledge_id'), ['pledge_id'], unique=False)

    op.create_table('pledge_instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_pledge_instalments_amount_positive')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_instalments_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_instalments'))
    )
    with op.batch_alter_table('pledge_instalments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_instalments_pledge_id'), ['pledge_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION refuse_change()")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    with op.batch_alter_table('pledge_instalments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_instalments_pledge_id'))

    op.drop_table('pledge_instalments')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_pledge_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_occurred_at'))

    op.drop_table('ledger_entries')
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledges_organization_id'))
        batch_op.drop_index(batch_op.f('ix_pledges_institute_id'))
        batch_op.drop_index(batch_op.f('ix_pledges_fiscal_year'))

    op.drop_table('pledges')
    with op.batch_alter_table('federal_obligations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federal_obligations_institute_id'))

    op.drop_table('federal_obligations')
