"""Passkeys and security keys (WebAuthn) as a second factor, and the challenge of a ceremony under way.

Revision ID: 9c3d7a1f5e20
Revises: 7b1e5d9c2a64
Create Date: 2026-11-30 12:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9c3d7a1f5e20'
down_revision = '7b1e5d9c2a64'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('passkey_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.LargeBinary(length=1023), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=2048), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_passkey_credentials_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passkey_credentials')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_passkey_credentials_credential_id'))
    )
    with op.batch_alter_table('passkey_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passkey_credentials_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('passkey_challenge', sa.LargeBinary(length=64), nullable=True))
        batch_op.add_column(sa.Column('passkey_challenge_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('passkey_challenge_at')
        batch_op.drop_column('passkey_challenge')
    with op.batch_alter_table('passkey_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passkey_credentials_user_id'))
    op.drop_table('passkey_credentials')
