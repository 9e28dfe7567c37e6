"""Milestones have due dates and are reported by the team and accepted by the institute; a project's
completion is requested by the lead and signed off by the institute.

Revision ID: c3d9a1f0e2b4
Revises: 5c1f0e7a2b94
Create Date: 2026-11-26 09:00:00.000000

A milestone already marked done keeps its time as both reported and accepted (it was done before the
institute's acceptance existed). Milestones of projects already started get their due date from the day the
project started plus their month. Downgrading keeps the accepted time as the old ``done_at``.
"""
import calendar

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3d9a1f0e2b4'
down_revision = '5c1f0e7a2b94'
branch_labels = None
depends_on = None


def _add_months(day, months):
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def upgrade():
    with op.batch_alter_table('proposal_milestones', schema=None) as batch_op:
        batch_op.alter_column('done_at', new_column_name='accepted_at', existing_type=sa.DateTime(timezone=True),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reported_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('accepted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_proposal_milestones_reported_by_id_users'), 'users',
                                    ['reported_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_proposal_milestones_accepted_by_id_users'), 'users',
                                    ['accepted_by_id'], ['id'])

    milestones = sa.table('proposal_milestones', sa.column('id', sa.Integer), sa.column('proposal_id', sa.Integer),
                          sa.column('month', sa.Integer), sa.column('due_on', sa.Date),
                          sa.column('reported_at', sa.DateTime(timezone=True)),
                          sa.column('accepted_at', sa.DateTime(timezone=True)))
    changes = sa.table('proposal_status_changes', sa.column('proposal_id', sa.Integer),
                       sa.column('to_status', sa.String), sa.column('at', sa.DateTime(timezone=True)))
    connection = op.get_bind()
    connection.execute(sa.update(milestones).where(milestones.c.accepted_at.is_not(None))
                       .values(reported_at=milestones.c.accepted_at))
    started = dict(connection.execute(sa.select(changes.c.proposal_id, sa.func.min(changes.c.at, type_=sa.DateTime(timezone=True)))
                                      .where(changes.c.to_status == 'active').group_by(changes.c.proposal_id)).all())
    rows = connection.execute(sa.select(milestones.c.id, milestones.c.proposal_id, milestones.c.month)
                              .where(milestones.c.proposal_id.in_(list(started)))).all() if started else []
    for milestone_id, proposal_id, month in rows:
        connection.execute(sa.update(milestones).where(milestones.c.id == milestone_id)
                           .values(due_on=_add_months(started[proposal_id].date(), month)))

    with op.batch_alter_table('proposal_milestones', schema=None) as batch_op:
        batch_op.create_check_constraint('accepted_after_report', 'accepted_at IS NULL OR reported_at IS NOT NULL')

    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completion_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('completion_requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('trl_requested', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mrl_requested', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('signed_off_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_proposals_completion_requested_by_id_users'), 'users',
                                    ['completion_requested_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_proposals_signed_off_by_id_users'), 'users',
                                    ['signed_off_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposals_signed_off_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_proposals_completion_requested_by_id_users'), type_='foreignkey')
        batch_op.drop_column('signed_off_by_id')
        batch_op.drop_column('mrl_requested')
        batch_op.drop_column('trl_requested')
        batch_op.drop_column('completion_requested_by_id')
        batch_op.drop_column('completion_requested_at')

    with op.batch_alter_table('proposal_milestones', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_proposal_milestones_accepted_after_report'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_proposal_milestones_accepted_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_proposal_milestones_reported_by_id_users'), type_='foreignkey')
        batch_op.drop_column('accepted_by_id')
        batch_op.drop_column('reported_by_id')
        batch_op.drop_column('reported_at')
        batch_op.drop_column('due_on')
        batch_op.alter_column('accepted_at', new_column_name='done_at', existing_type=sa.DateTime(timezone=True),
                              existing_nullable=True)
