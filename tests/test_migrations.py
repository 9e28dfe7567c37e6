"""Migrations build the schema: up, down and up again, matching the models, on SQLite and PostgreSQL."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db
from tests.conftest import postgres_url


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def round_trip(app) -> None:
    with app.app_context():
        upgrade()
        assert _tables(db.engine) == set(db.metadata.tables)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True,
                # PostgreSQL's trigram indexes are DDL made with their tables, not metadata (see trigram_index)
                "include_name": lambda name, type_, parents: not (type_ == "index" and name.endswith("_trgm"))})
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations disagree: {differences}"
        downgrade(revision="base")
        assert _tables(db.engine) == set()
        upgrade()
        assert _tables(db.engine) == set(db.metadata.tables)
        downgrade(revision="base")
        db.engine.dispose()


def test_migrations_on_sqlite(tmp_path):
    round_trip(create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'migrations.db'}"))


def test_migrations_on_postgresql():
    url = postgres_url()
    schema = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={
            "connect_args": {"options": f"-csearch_path={schema}"}})
        round_trip(app)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_audit_log_is_append_only_on_postgresql(app):
    postgres_url()
    from portal.models import AuditEvent, User
    from tests.factories import make_user

    user = make_user(app)
    with app.app_context():
        db.session.add(AuditEvent(actor_id=user.id, action="test.event", subject_type="users", subject_id=user.id))
        db.session.commit()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.update(AuditEvent).values(reason="rewritten"))
        db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.delete(AuditEvent))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 1
        assert db.session.get(User, user.id) is not None


def upgraded_with_the_demo() -> None:
    """Inside an app context: migrate to the newest revision, then seed and load the demo, committed."""
    from portal.services import demo, institutes, memberships

    upgrade()
    institutes.seed(institutes.seed_records())
    memberships.seed_tiers({"default": [{"name": tier, "annual_fee_usd": 1000, "may_lead_projects": True,
                                         "may_join_projects": True, "governance_vote": False, "named_seats": 1}
                                        for tier in ("Gold", "Silver", "Platinum")]})
    demo.load("demonstration only 2026")
    db.session.commit()


def test_upgrading_and_downgrading_with_data_in_the_tables(tmp_path):
    """SQLite rebuilds tables to alter them; rows that others refer to must survive both ways."""
    from portal.services import summary

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'data.db'}")
    with app.app_context():
        upgraded_with_the_demo()
        entries = db.session.scalar(sa.text("SELECT count(*) FROM ledger_entries"))
        assert entries > 0
        # the workforce figures go with the workforce tables, which a downgrade this far drops
        kept = {key: value for key, value in summary.stored().items() if key[1] != "workforce"}
        assert kept and len(kept) < len(summary.stored())
        db.session.remove()  # let go of the database before the migration takes it
        downgrade(revision="ec51ae2aa159")  # below the proposals, which alter pledges (ledger entries refer to them)
        upgrade()
        assert db.session.scalar(sa.text("SELECT count(*) FROM ledger_entries")) == entries
        assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        # the summary migration counts the figures from the rows already there
        assert summary.stored() == kept
        assert summary.problems() == []
        db.session.remove()
        db.engine.dispose()
