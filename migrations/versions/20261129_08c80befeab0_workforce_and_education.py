"""Workforce and education: programs, sessions, sign-ups, credentials and outreach counts.

Revision ID: 08c80befeab0
Revises: c41d7e2f9a05
Create Date: 2026-11-29 08:07:54.191067

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '08c80befeab0'
down_revision = 'c41d7e2f9a05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outreach_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('k12', sa.Integer(), nullable=False),
    sa.Column('postsecondary', sa.Integer(), nullable=False),
    sa.Column('incumbent', sa.Integer(), nullable=False),
    sa.Column('educator', sa.Integer(), nullable=False),
    sa.Column('veteran', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('fiscal_year BETWEEN 2012 AND 2100', name=op.f('ck_outreach_events_fiscal_year_range')),
    sa.CheckConstraint('k12 + postsecondary + incumbent + educator + veteran > 0', name=op.f('ck_outreach_events_someone_counted')),
    sa.CheckConstraint('k12 >= 0 AND postsecondary >= 0 AND incumbent >= 0 AND educator >= 0 AND veteran >= 0', name=op.f('ck_outreach_events_counts_not_negative')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_outreach_events_institute_id_institutes')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_outreach_events_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_events'))
    )
    with op.batch_alter_table('outreach_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outreach_events_institute_id'), ['institute_id'], unique=False)

    op.create_table('programs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('course', 'apprenticeship', 'internship', 'workshop', 'educator_training', 'outreach', name='program_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('format', sa.Enum('in_person', 'online', name='program_format', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('credential', sa.String(length=200), nullable=False),
    sa.Column('cost_cents', sa.BigInteger(), nullable=False),
    sa.Column('partners', sa.String(length=1000), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cost_cents >= 0', name=op.f('ck_programs_cost_not_negative')),
    sa.CheckConstraint('length(title) > 0', name=op.f('ck_programs_titled')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_programs_created_by_id_users')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_programs_institute_id_institutes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programs'))
    )
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programs_institute_id'), ['institute_id'], unique=False)

    op.create_table('program_audiences',
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.Enum('k12', 'postsecondary', 'incumbent', 'educator', 'veteran', name='program_audience', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_program_audiences_program_id_programs')),
    sa.PrimaryKeyConstraint('program_id', 'audience', name=op.f('pk_program_audiences'))
    )
    op.create_table('program_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_program_sessions_capacity_positive')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_program_sessions_ends_after_start')),
    sa.CheckConstraint('fiscal_year BETWEEN 2012 AND 2100', name=op.f('ck_program_sessions_fiscal_year_range')),
    sa.CheckConstraint('online OR length(place) > 0', name=op.f('ck_program_sessions_place_or_online')),
    sa.CheckConstraint('seats_taken >= 0 AND seats_taken <= capacity', name=op.f('ck_program_sessions_within_capacity')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_program_sessions_program_id_programs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_program_sessions'))
    )
    with op.batch_alter_table('program_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_program_sessions_program_starts', ['program_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_program_sessions_starts_at'), ['starts_at'], unique=False)

    op.create_table('session_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.Enum('k12', 'postsecondary', 'incumbent', 'educator', 'veteran', name='signup_category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('confirmed', 'waitlisted', 'cancelled', name='signup_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attended', sa.Boolean(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("NOT attended OR status = 'confirmed'", name=op.f('ck_session_signups_attended_only_if_confirmed')),
    sa.CheckConstraint('completed_at IS NULL OR attended', name=op.f('ck_session_signups_completed_only_if_attended')),
    sa.ForeignKeyConstraint(['session_id'], ['program_sessions.id'], name=op.f('fk_session_signups_session_id_program_sessions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_session_signups_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_signups'))
    )
    with op.batch_alter_table('session_signups', schema=None) as batch_op:
        batch_op.create_index('ix_session_signups_session_status', ['session_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_signups_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_session_signups_live', ['session_id', 'user_id'], unique=True, postgresql_where=sa.text("status <> 'cancelled'"), sqlite_where=sa.text("status <> 'cancelled'"))

    op.create_table('credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('signup_id', sa.Integer(), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('awarded_on', sa.Date(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('fiscal_year BETWEEN 2012 AND 2100', name=op.f('ck_credentials_fiscal_year_range')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_credentials_institute_id_institutes')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_credentials_issued_by_id_users')),
    sa.ForeignKeyConstraint(['signup_id'], ['session_signups.id'], name=op.f('fk_credentials_signup_id_session_signups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credentials')),
    sa.UniqueConstraint('code', name=op.f('uq_credentials_code')),
    sa.UniqueConstraint('signup_id', name=op.f('uq_credentials_signup_id'))
    )
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credentials_institute_id'), ['institute_id'], unique=False)



def downgrade():
    # the summary's workforce figures count rows of the tables dropped here
    op.execute("DELETE FROM summary_figures WHERE figure = 'workforce'")
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credentials_institute_id'))

    op.drop_table('credentials')
    with op.batch_alter_table('session_signups', schema=None) as batch_op:
        batch_op.drop_index('uq_session_signups_live', postgresql_where=sa.text("status <> 'cancelled'"), sqlite_where=sa.text("status <> 'cancelled'"))
        batch_op.drop_index(batch_op.f('ix_session_signups_user_id'))
        batch_op.drop_index('ix_session_signups_session_status')

    op.drop_table('session_signups')
    with op.batch_alter_table('program_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_program_sessions_starts_at'))
        batch_op.drop_index('ix_program_sessions_program_starts')

    op.drop_table('program_sessions')
    op.drop_table('program_audiences')
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programs_institute_id'))

    op.drop_table('programs')
    with op.batch_alter_table('outreach_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_events_institute_id'))

    op.drop_table('outreach_events')
