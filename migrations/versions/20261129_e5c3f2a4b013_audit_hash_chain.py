"""A tamper-evident audit log: each event carries the hash of the one before it; TRUNCATE refused.

The chain is computed for the events already recorded, oldest first. On PostgreSQL the append-only
trigger is set aside for that one backfill, inside this migration's transaction, and TRUNCATE on the
audit log, the ledger and the federal obligations is refused from now on.

Revision ID: e5c3f2a4b013
Revises: d4b2e1f3a902
Create Date: 2026-11-29 10:00:00.000000

"""
import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5c3f2a4b013'
down_revision = 'd4b2e1f3a902'
branch_labels = None
depends_on = None

NO_TRUNCATE = ("audit_events", "ledger_entries", "federal_obligations")
GENESIS = "0" * 64
COLUMNS = ("occurred_at", "actor_id", "institute_id", "action", "subject_type", "subject_id", "from_state",
           "to_state", "reason", "details")


def chain_hash(prev_hash, content):
    """As portal.models.audit.chain_hash at this revision (a migration keeps its own copy)."""
    fields = dict(content)
    when = fields["occurred_at"]
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if isinstance(when, datetime):
        fields["occurred_at"] = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    events = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('prev_hash', sa.String),
                      sa.column('hash', sa.String), sa.column('occurred_at', sa.DateTime(timezone=True)),
                      sa.column('details', sa.JSON), *(sa.column(name) for name in COLUMNS
                                                        if name not in ('occurred_at', 'details')))
    if postgres:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    prev = GENESIS
    rows = bind.execute(sa.select(events.c.id, *(events.c[name] for name in COLUMNS)).order_by(events.c.id)).all()
    for row in rows:
        content = {name: getattr(row, name) for name in COLUMNS}
        digest = chain_hash(prev, content)
        bind.execute(events.update().where(events.c.id == row.id).values(prev_hash=prev, hash=digest))
        prev = digest
    if postgres:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_hash'), ['hash'])

    if postgres:
        for table in NO_TRUNCATE:
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in NO_TRUNCATE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_hash'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
