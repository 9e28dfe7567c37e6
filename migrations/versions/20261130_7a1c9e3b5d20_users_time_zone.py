"""Each person's time zone: the portal shows times in it (US Eastern until they choose)

Revision ID: 7a1c9e3b5d20
Revises: 4e8b2d6f1a37
Create Date: 2026-11-29 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7a1c9e3b5d20"
down_revision = "4e8b2d6f1a37"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=40), nullable=False,
                                      server_default="America/New_York"))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("time_zone")
