"""Project calls, proposals, teams, milestones, reviews and project updates; pledges tied to proposals.

Revision ID: 531b912fdf22
Revises: ec51ae2aa159
Create Date: 2026-11-24 15:17:37.803336

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '531b912fdf22'
down_revision = 'ec51ae2aa159'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('project_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('max_federal_cents', sa.BigInteger(), nullable=False),
    sa.Column('min_cost_share_bp', sa.Integer(), nullable=False),
    sa.Column('trl_min', sa.Integer(), nullable=False),
    sa.Column('trl_max', sa.Integer(), nullable=False),
    sa.Column('mrl_min', sa.Integer(), nullable=False),
    sa.Column('mrl_max', sa.Integer(), nullable=False),
    sa.Column('min_industry', sa.Integer(), nullable=False),
    sa.Column('min_academic', sa.Integer(), nullable=False),
    sa.Column('min_small_business', sa.Integer(), nullable=False),
    sa.Column('all_partners_members', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'open', 'closed', name='call_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_project_calls_window_order')),
    sa.CheckConstraint('max_federal_cents > 0', name=op.f('ck_project_calls_cap_positive')),
    sa.CheckConstraint('min_cost_share_bp >= 0', name=op.f('ck_project_calls_cost_share_not_negative')),
    sa.CheckConstraint('min_industry >= 0 AND min_academic >= 0 AND min_small_business >= 0', name=op.f('ck_project_calls_team_minimums')),
    sa.CheckConstraint('mrl_min BETWEEN 1 AND 10 AND mrl_max BETWEEN mrl_min AND 10', name=op.f('ck_project_calls_mrl_window')),
    sa.CheckConstraint('trl_min BETWEEN 1 AND 9 AND trl_max BETWEEN trl_min AND 9', name=op.f('ck_project_calls_trl_window')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_project_calls_created_by_id_users')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_project_calls_institute_id_institutes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_calls'))
    )
    with op.batch_alter_table('project_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_calls_institute_id'), ['institute_id'], unique=False)

    op.create_table('call_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.CheckConstraint('weight BETWEEN 1 AND 100', name=op.f('ck_call_criteria_weight_range')),
    sa.ForeignKeyConstraint(['call_id'], ['project_calls.id'], name=op.f('fk_call_criteria_call_id_project_calls')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_criteria'))
    )
    with op.batch_alter_table('call_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_criteria_call_id'), ['call_id'], unique=False)

    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('lead_organization_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'under_review', 'approved', 'declined', 'active', 'completed', 'withdrawn', name='proposal_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('abstract', sa.Text(), nullable=False),
    sa.Column('technical_plan', sa.Text(), nullable=False),
    sa.Column('technology_area', sa.String(length=200), nullable=False),
    sa.Column('trl_start', sa.Integer(), nullable=True),
    sa.Column('trl_target', sa.Integer(), nullable=True),
    sa.Column('mrl_start', sa.Integer(), nullable=True),
    sa.Column('mrl_target', sa.Integer(), nullable=True),
    sa.Column('trl_reached', sa.Integer(), nullable=True),
    sa.Column('mrl_reached', sa.Integer(), nullable=True),
    sa.Column('duration_months', sa.Integer(), nullable=True),
    sa.Column('federal_request_cents', sa.BigInteger(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('return_note', sa.Text(), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('duration_months IS NULL OR duration_months BETWEEN 1 AND 120', name=op.f('ck_proposals_duration_range')),
    sa.CheckConstraint('federal_request_cents IS NULL OR federal_request_cents > 0', name=op.f('ck_proposals_request_positive')),
    sa.CheckConstraint('mrl_start IS NULL OR mrl_start BETWEEN 1 AND 10', name=op.f('ck_proposals_mrl_start_range')),
    sa.CheckConstraint('mrl_target IS NULL OR mrl_target BETWEEN 1 AND 10', name=op.f('ck_proposals_mrl_target_range')),
    sa.CheckConstraint('trl_start IS NULL OR trl_start BETWEEN 1 AND 9', name=op.f('ck_proposals_trl_start_range')),
    sa.CheckConstraint('trl_target IS NULL OR trl_target BETWEEN 1 AND 9', name=op.f('ck_proposals_trl_target_range')),
    sa.ForeignKeyConstraint(['call_id'], ['project_calls.id'], name=op.f('fk_proposals_call_id_project_calls')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_proposals_created_by_id_users')),
    sa.ForeignKeyConstraint(['lead_organization_id'], ['organizations.id'], name=op.f('fk_proposals_lead_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_lead_organization_id'), ['lead_organization_id'], unique=False)

    op.create_table('project_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_project_updates_author_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_project_updates_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_updates'))
    )
    with op.batch_alter_table('project_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_updates_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('deliverable', sa.String(length=500), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('month BETWEEN 1 AND 120', name=op.f('ck_proposal_milestones_month_range')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_milestones_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_milestones'))
    )
    with op.batch_alter_table('proposal_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_milestones_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_proposal_reviews_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_reviews_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_proposal_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_reviews')),
    sa.UniqueConstraint('proposal_id', 'reviewer_id', name=op.f('uq_proposal_reviews_proposal_id'))
    )
    with op.batch_alter_table('proposal_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_reviews_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_reviews_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('proposal_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_proposal_status_changes_actor_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_status_changes_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_status_changes'))
    )
    with op.batch_alter_table('proposal_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_status_changes_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('is_lead', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('invited', 'accepted', 'declined', name='partner_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_proposal_partners_invited_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_proposal_partners_organization_id_organizations')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_proposal_partners_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_partners_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['responded_by_id'], ['users.id'], name=op.f('fk_proposal_partners_responded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_partners')),
    sa.UniqueConstraint('proposal_id', 'organization_id', name=op.f('uq_proposal_partners_proposal_id'))
    )
    with op.batch_alter_table('proposal_partners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_partners_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_partners_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('review_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_review_scores_score_range')),
    sa.ForeignKeyConstraint(['criterion_id'], ['call_criteria.id'], name=op.f('fk_review_scores_criterion_id_call_criteria')),
    sa.ForeignKeyConstraint(['review_id'], ['proposal_reviews.id'], name=op.f('fk_review_scores_review_id_proposal_reviews')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_scores')),
    sa.UniqueConstraint('review_id', 'criterion_id', name=op.f('uq_review_scores_review_id'))
    )
    with op.batch_alter_table('review_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_scores_review_id'), ['review_id'], unique=False)

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposal_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_pledges_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_pledges_proposal_id_proposals'), 'proposals', ['proposal_id'], ['id'])



def downgrade():
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_pledges_proposal_id_proposals'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_pledges_proposal_id'))
        batch_op.drop_column('proposal_id')

    with op.batch_alter_table('review_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_scores_review_id'))

    op.drop_table('review_scores')
    with op.batch_alter_table('proposal_partners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_partners_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_partners_organization_id'))

    op.drop_table('proposal_partners')
    with op.batch_alter_table('proposal_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_status_changes_proposal_id'))

    op.drop_table('proposal_status_changes')
    with op.batch_alter_table('proposal_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_reviews_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_reviews_proposal_id'))

    op.drop_table('proposal_reviews')
    with op.batch_alter_table('proposal_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_milestones_proposal_id'))

    op.drop_table('proposal_milestones')
    with op.batch_alter_table('project_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_updates_proposal_id'))

    op.drop_table('project_updates')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_lead_organization_id'))
        batch_op.drop_index(batch_op.f('ix_proposals_call_id'))

    op.drop_table('proposals')
    with op.batch_alter_table('call_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_criteria_call_id'))

    op.drop_table('call_criteria')
    with op.batch_alter_table('project_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_calls_institute_id'))

    op.drop_table('project_calls')
