"""Summary figures behind the public snapshot, counted from what is already there.

Revision ID: 86d8d3349f22
Revises: 531b912fdf22
Create Date: 2026-11-24 18:03:27.699596

"""
import sqlalchemy as sa
import sqlalchemy.orm as so
from alembic import op

# revision identifiers, used by Alembic.
revision = '86d8d3349f22'
down_revision = '531b912fdf22'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('summary_figures',
    sa.Column('scope', sa.Integer(), nullable=False),
    sa.Column('figure', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('value >= 0', name=op.f('ck_summary_figures_value_not_negative')),
    sa.PrimaryKeyConstraint('scope', 'figure', 'key', name=op.f('pk_summary_figures'))
    )
    with op.batch_alter_table('summary_figures', schema=None) as batch_op:
        batch_op.create_index('ix_summary_figures_figure_scope', ['figure', 'scope'], unique=False)

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('ix_memberships_status_ends_on', ['status', 'ends_on'], unique=False)

    # The figures are derived data: count them from the tables as they stand, in this transaction. The
    # recount reads named columns only, so later columns added to these tables do not disturb it.
    from portal.services import summary

    summary.rebuild(so.Session(bind=op.get_bind()))


def downgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_memberships_status_ends_on')

    with op.batch_alter_table('summary_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_summary_figures_figure_scope')

    op.drop_table('summary_figures')
