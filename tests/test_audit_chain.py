"""The tamper-evident audit log: the hash chain, `flask audit verify`, TRUNCATE refused, concurrent appends."""

import threading
from itertools import pairwise

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, User
from portal.models.audit import GENESIS, chain_hash
from portal.services import audit, demo, institutes, memberships
from tests.conftest import login, postgres_url
from tests.factories import make_user


def record_events(app, n: int) -> None:
    user = make_user(app)
    with app.app_context():
        actor = db.session.get(User, user.id)
        for i in range(n):
            audit.record(actor, "test.event", actor, details={"n": i, "note": "é ✓"}, reason=f"because {i}")
        db.session.commit()


def tamper(app, statement: str) -> None:
    """Change the log behind the portal's back (on PostgreSQL only a superuser could, setting the trigger aside)."""
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:
            db.session.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        db.session.execute(sa.text(statement))
        if postgres:
            db.session.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
        db.session.commit()


def test_each_event_carries_the_hash_of_the_one_before(app, runner):
    record_events(app, 5)
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
        assert events[0].prev_hash == GENESIS
        assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(events))
        head = events[-1].hash
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"5 event(s), head {head}" in result.output


def test_verify_names_an_edited_event(app, runner):
    record_events(app, 5)
    tamper(app, "UPDATE audit_events SET reason = 'nothing to see' WHERE id = 3")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "after 2 good event(s): event 3 (test.event) does not match its hash: it was edited" in result.output


def test_verify_names_where_an_event_was_removed(app, runner):
    record_events(app, 5)
    tamper(app, "DELETE FROM audit_events WHERE id = 4")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "event 5 (test.event) does not follow the event before it" in result.output


def test_a_rehashed_edit_still_breaks_the_next_link(app, runner):
    record_events(app, 3)
    with app.app_context():
        first = db.session.get(AuditEvent, 1)
        forged = first.content() | {"reason": "forged"}
        new_hash = chain_hash(first.prev_hash, forged)
    tamper(app, f"UPDATE audit_events SET reason = 'forged', hash = '{new_hash}' WHERE id = 1")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "event 2 (test.event) does not follow" in result.output


def test_network_administrators_see_the_chain_head(client, app):
    admin = make_user(app, role="network_admin")
    member = make_user(app)
    login(client, member.email)
    assert b"audit-head" not in client.get("/account").data
    client.post("/logout")
    login(client, admin.email)
    page = client.get("/account").get_data(as_text=True)
    with app.app_context():
        head = audit.head()
    assert 'id="audit-head"' in page and head.hash in page


@pytest.mark.parametrize("table", ["audit_events", "ledger_entries", "federal_obligations"])
def test_truncate_is_refused_on_postgresql(app, table):
    postgres_url()
    record_events(app, 1)
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only: TRUNCATE refused"):
            db.session.execute(sa.text(f"TRUNCATE {table} CASCADE"))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 1


def test_appends_from_many_transactions_at_once_keep_one_chain(app, runner):
    postgres_url()
    user = make_user(app)
    barrier = threading.Barrier(6)

    def append(worker: int) -> None:
        with app.app_context():
            actor = db.session.get(User, user.id)
            barrier.wait(timeout=10)
            for i in range(5):
                audit.record(actor, "test.concurrent", actor, details={"worker": worker, "i": i})
                db.session.flush()
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        prevs = db.session.scalars(sa.select(AuditEvent.prev_hash)).all()
        assert len(prevs) == 30 and len(set(prevs)) == 30  # no two events follow the same one: no fork
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_the_migration_chains_the_events_already_recorded(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'chain.db'}")
    with app.app_context():
        upgrade()
        institutes.seed(institutes.seed_records())
        memberships.seed_tiers({"default": [{"name": tier, "annual_fee_usd": 1000, "may_lead_projects": True,
                                             "may_join_projects": True, "governance_vote": False, "named_seats": 1}
                                            for tier in ("Gold", "Silver", "Platinum")]})
        demo.load("demonstration only 2026")
        db.session.commit()
        db.session.remove()
        downgrade(revision="d4b2e1f3a902")  # the log as it was before the chain
        events = db.session.scalar(sa.text("SELECT count(*) FROM audit_events"))
        assert events > 10
        db.session.remove()
        upgrade()
        report = audit.verify_chain()
        assert (report.checked, report.problem) == (events, None)
        db.session.remove()
        db.engine.dispose()
