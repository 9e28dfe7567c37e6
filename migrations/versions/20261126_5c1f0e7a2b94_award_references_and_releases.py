"""Federal obligations carry an award reference (one original per institute and reference; corrections
point at what they correct); the ledger records the release of a proposal's cost share.

Obligations recorded before references were required are given the reference
"recorded-before-references-<id>", and each earlier negative correction is tied to the latest positive
obligation of its institute and fiscal year recorded before it (the only rule it met then was that the
year stayed at or above zero, so one exists).

Cost share committed to a proposal counts in no total until the proposal is approved: what remains on
the cost share of proposals already declined or withdrawn is released now (a release entry each), and the
snapshot's summary figures are counted again under that rule.

Downgrading turns releases into cancellations (the same money, the kind older code knows) and drops the
references; no amount changes either way.

Revision ID: 5c1f0e7a2b94
Revises: b7e2c4a9d130
Create Date: 2026-11-26 09:00:00.000000

"""
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from alembic import op

# revision identifiers, used by Alembic.
revision = '5c1f0e7a2b94'
down_revision = 'b7e2c4a9d130'
branch_labels = None
depends_on = None

OLD_KINDS = ('pledge', 'receipt', 'verification', 'cancellation', 'reversal')
NEW_KINDS = (*OLD_KINDS, 'release')
KIND_CHECK = 'ck_ledger_entries_ledger_entry_kind'
ORIGINAL_REFERENCE = 'uq_federal_obligations_original_reference'


def _kinds(kinds) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _rewrite(table: str, statements: list[str]) -> None:
    """Run UPDATEs on an append-only table: its trigger (PostgreSQL) is set aside for them alone."""
    if _postgresql():
        op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    for statement in statements:
        op.execute(statement)
    if _postgresql():
        op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


def upgrade():
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(KIND_CHECK), type_='check')
        batch_op.create_check_constraint('ledger_entry_kind', sa.text(_kinds(NEW_KINDS)))

    with op.batch_alter_table('federal_obligations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('corrects_id', sa.Integer(), nullable=True))

    _rewrite('federal_obligations', [
        "UPDATE federal_obligations SET reference = 'recorded-before-references-' || CAST(id AS VARCHAR(20)) "
        "WHERE amount_cents > 0",
        "UPDATE federal_obligations SET corrects_id = (SELECT max(o.id) FROM federal_obligations o "
        "WHERE o.institute_id = federal_obligations.institute_id AND o.fiscal_year = federal_obligations.fiscal_year "
        "AND o.amount_cents > 0 AND o.id < federal_obligations.id) WHERE amount_cents < 0",
        "UPDATE federal_obligations SET reference = (SELECT o.reference FROM federal_obligations o "
        "WHERE o.id = federal_obligations.corrects_id) WHERE amount_cents < 0",
    ])

    with op.batch_alter_table('federal_obligations', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sa.String(length=100), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_federal_obligations_corrects_id_federal_obligations'),
                                    'federal_obligations', ['corrects_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_federal_obligations_corrects_id'), ['corrects_id'], unique=False)
        batch_op.create_index(ORIGINAL_REFERENCE, ['institute_id', 'reference'], unique=True,
                              sqlite_where=sa.text('corrects_id IS NULL'),
                              postgresql_where=sa.text('corrects_id IS NULL'))
        batch_op.create_check_constraint('corrections_point_back', sa.text('(corrects_id IS NULL) = (amount_cents > 0)'))
        batch_op.create_check_constraint('reference_given', sa.text('length(reference) > 0'))

    _release_ended_cost_share()
    # The figures are derived data: count them again under the rule that conditional cost share is left out.
    from portal.services import summary

    summary.rebuild(so.Session(bind=op.get_bind()))


def _release_ended_cost_share() -> None:
    bind = op.get_bind()
    pledges = sa.table('pledges', sa.column('id'), sa.column('proposal_id'), sa.column('pledged_cents'),
                       sa.column('received_cents'), sa.column('cancelled_cents'))
    proposals = sa.table('proposals', sa.column('id'), sa.column('status'))
    entries = sa.table('ledger_entries', sa.column('pledge_id'), sa.column('kind'), sa.column('amount_cents'),
                       sa.column('reason'), sa.column('occurred_at', sa.DateTime(timezone=True)))
    remaining = pledges.c.pledged_cents - pledges.c.received_cents - pledges.c.cancelled_cents
    ended = bind.execute(sa.select(pledges.c.id, proposals.c.id, proposals.c.status, remaining)
                         .join(proposals, proposals.c.id == pledges.c.proposal_id)
                         .where(proposals.c.status.in_(['declined', 'withdrawn']), remaining > 0)).all()
    now = datetime.now(UTC)
    for pledge_id, proposal_id, status, cents in ended:
        bind.execute(sa.insert(entries).values(
            pledge_id=pledge_id, kind='release', amount_cents=cents, occurred_at=now,
            reason=f"Cost share released: proposal #{proposal_id} was {status}"))
        bind.execute(sa.update(pledges).where(pledges.c.id == pledge_id)
                     .values(cancelled_cents=pledges.c.cancelled_cents + cents))


def downgrade():
    with op.batch_alter_table('federal_obligations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_federal_obligations_reference_given'), type_='check')
        batch_op.drop_constraint(op.f('ck_federal_obligations_corrections_point_back'), type_='check')
        batch_op.drop_index(ORIGINAL_REFERENCE)
        batch_op.drop_index(batch_op.f('ix_federal_obligations_corrects_id'))
        batch_op.drop_constraint(batch_op.f('fk_federal_obligations_corrects_id_federal_obligations'),
                                 type_='foreignkey')
        batch_op.drop_column('corrects_id')
        batch_op.drop_column('reference')

    _rewrite('ledger_entries', ["UPDATE ledger_entries SET kind = 'cancellation' WHERE kind = 'release'"])
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(KIND_CHECK), type_='check')
        batch_op.create_check_constraint('ledger_entry_kind', sa.text(_kinds(OLD_KINDS)))
