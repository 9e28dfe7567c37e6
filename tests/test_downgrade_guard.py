"""`flask db downgrade` below the co-investment ledger refuses while the books hold rows, unless forced."""

import logging

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db
from portal.models import Institute, Organization, User
from portal.services import ledger
from portal.services.clock import today
from portal.services.ledger import PledgeInput
from tests.factories import make_institute, make_membership, make_tier, org_admin


@pytest.fixture
def migrated(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'portal.db'}")
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()

def with_a_pledge(app):
    institute = make_institute(app)
    admin, organization = org_admin(app)
    make_membership(app, organization, institute, make_tier(app, institute))
    with app.app_context():
        ledger.record_pledge(db.session.get(User, admin.id), db.session.get(Organization, organization.id),
                             db.session.get(Institute, institute.id),
                             PledgeInput(amount_cents=5_000_00, kind="cash",
                                         fiscal_year=ledger.fiscal_year_of(today())),
                             key="the-only-pledge")
        db.session.commit()

def tables(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())

def test_a_downgrade_that_would_drop_the_books_refuses_and_says_what_would_be_lost(migrated, caplog):
    with_a_pledge(migrated)
    before = tables(migrated)
    with caplog.at_level(logging.ERROR):
        result = migrated.test_cli_runner().invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 1
    assert "Refusing to downgrade below the co-investment ledger" in caplog.text
    assert "1 ledger entries, 1 pledges, 0 federal obligations" in caplog.text
    assert "PORTAL_ALLOW_DATA_LOSS=1" in caplog.text
    assert tables(migrated) == before  # nothing was half done: every table, proposals too, is still there
    with migrated.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM ledger_entries")) == 1
    # to just below the ledger is refused the same way; a step that keeps the ledger is not
    assert migrated.test_cli_runner().invoke(args=["db", "downgrade", "14de8d79ca06"]).exit_code == 1
    assert migrated.test_cli_runner().invoke(args=["db", "downgrade", "--", "-1"]).exit_code == 0
    assert "pledges" in tables(migrated)

def test_forced_with_an_x_argument(migrated):
    with_a_pledge(migrated)
    result = migrated.test_cli_runner().invoke(args=["db", "downgrade", "-x", "force=1", "base"])
    assert result.exit_code == 0, result.output
    assert tables(migrated) <= {"alembic_version"}

def test_forced_with_the_environment(migrated, monkeypatch):
    with_a_pledge(migrated)
    monkeypatch.setenv("PORTAL_ALLOW_DATA_LOSS", "1")
    result = migrated.test_cli_runner().invoke(args=["db", "downgrade", "14de8d79ca06"])
    assert result.exit_code == 0, result.output
    assert "pledges" not in tables(migrated) and "organizations" in tables(migrated)

def test_an_empty_ledger_downgrades_as_before(migrated):
    result = migrated.test_cli_runner().invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    assert tables(migrated) <= {"alembic_version"}
