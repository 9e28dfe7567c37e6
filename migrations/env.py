"""Alembic environment: the portal's own engine and metadata, through Flask-Migrate."""

import logging
import os

import sqlalchemy as sa
from alembic import context
from alembic.util import CommandError
from flask import current_app

logger = logging.getLogger("alembic.env")
config = context.config
target_db = current_app.extensions["migrate"].db

# The migration that makes the co-investment ledger; downgrading below it drops the books.
LEDGER_REVISION = "ec51ae2aa159"
BOOKS = {"ledger_entries": "ledger entries", "pledges": "pledges", "federal_obligations": "federal obligations"}


def refuse_to_drop_the_books(connection) -> None:
    """Stop a downgrade that would drop the ledger's tables while they hold rows, saying what would be
    lost, unless forced with PORTAL_ALLOW_DATA_LOSS=1 or ``flask db downgrade -x force=1``. Checked before
    any step runs, so nothing is half done; an empty ledger downgrades as before."""
    migration = context.get_context()
    if getattr(migration.opts.get("fn"), "__name__", "") != "downgrade":
        return
    heads = migration.get_current_heads()
    if not heads:
        return
    steps = context.script.revision_map.iterate_revisions(
        heads, context.get_revision_argument(), select_for_downgrade=True)
    if LEDGER_REVISION not in {step.revision for step in steps}:
        return
    counts = {name: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
              for table, name in BOOKS.items()}
    if not any(counts.values()):
        return
    lost = ", ".join(f"{count:,} {name}" for name, count in counts.items())
    forced = os.environ.get("PORTAL_ALLOW_DATA_LOSS") == "1" or \
        context.get_x_argument(as_dictionary=True).get("force") == "1"
    if forced:
        logger.warning("Downgrading below the co-investment ledger, as forced: dropping %s.", lost)
        return
    raise CommandError(
        f"Refusing to downgrade below the co-investment ledger ({LEDGER_REVISION}): it would drop {lost}. "
        "Back the database up first; to go ahead anyway, set PORTAL_ALLOW_DATA_LOSS=1 or run "
        "`flask db downgrade -x force=1 REVISION`.")


def run_migrations_offline() -> None:
    context.configure(
        url=str(target_db.engine.url),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old copy of a table
            # that others refer to fails. Turn them off (outside any transaction) and check after.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        try:
            refuse_to_drop_the_books(connection)
        finally:
            if connection.in_transaction():  # the check only read: leave the migration a fresh start
                connection.rollback()
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.connection.driver_connection.execute("PRAGMA foreign_key_check").fetchall()
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
