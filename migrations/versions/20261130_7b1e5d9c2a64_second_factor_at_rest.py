"""Second factors at rest: authenticator secrets encrypted, the one being set up kept server-side,
recovery codes hashed with argon2id.

Upgrade encrypts every enrolled secret with the key of MFA_ENCRYPTION_KEY (or, in development, the key
derived from SECRET_KEY), and wraps each stored SHA-256 of an old recovery code in argon2id, marked
``legacy``: the old codes keep working once each, and their owners are asked to make new ones.

Downgrade decrypts the secrets. Recovery codes cannot go back: only argon2id hashes are left, which the
older code cannot check, so they are deleted; everyone with a second factor keeps their authenticator app
and makes new recovery codes from their account page.

Revision ID: 7b1e5d9c2a64
Revises: 7b1e9c4d2a60
Create Date: 2026-11-30 11:40:00.000000

"""
import sqlalchemy as sa
from alembic import op
from argon2 import PasswordHasher
from flask import current_app

from portal.models.encryption import fernet

# revision identifiers, used by Alembic.
revision = '7b1e5d9c2a64'
down_revision = '7b1e9c4d2a60'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))
codes = sa.table('recovery_codes', sa.column('id', sa.Integer), sa.column('code_hash', sa.String),
                 sa.column('legacy', sa.Boolean))


def _rewrite_secrets(change) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.is_not(None)))
    for user_id, secret in rows.all():
        connection.execute(sa.update(users).where(users.c.id == user_id).values(totp_secret=change(secret)))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=True)
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_totp_secret', sa.String(length=255), nullable=True))
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.alter_column('code_hash', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('legacy', sa.Boolean(), server_default=sa.false(), nullable=False))

    box = fernet(current_app.config)
    _rewrite_secrets(lambda secret: box.encrypt(secret.encode()).decode("ascii"))
    config = current_app.config
    hasher = PasswordHasher(time_cost=config.get("RECOVERY_ARGON2_TIME_COST", 2),
                            memory_cost=config.get("RECOVERY_ARGON2_MEMORY_COST_KIB", 19 * 1024), parallelism=1)
    connection = op.get_bind()
    for code_id, digest in connection.execute(sa.select(codes.c.id, codes.c.code_hash)).all():
        connection.execute(sa.update(codes).where(codes.c.id == code_id)
                           .values(code_hash=hasher.hash(digest), legacy=True))


def downgrade():
    box = fernet(current_app.config)
    _rewrite_secrets(lambda token: box.decrypt(token.encode("ascii")).decode())
    op.execute(codes.delete())
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_column('legacy')
        batch_op.alter_column('code_hash', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=False)
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('pending_totp_secret')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=True)
