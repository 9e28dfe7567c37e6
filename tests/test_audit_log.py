"""The audit log in words: what changed, with amounts and links; filters by kind, person and date; CSV."""

import csv
import io

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import AuditEvent, Pledge, Role, User
from portal.services import audit_log, ledger
from portal.services.clock import today
from tests.conftest import login
from tests.factories import make_pledge, make_user
from tests.test_home import Counter


def money_world(app, w):
    """A pledge, a receipt and its verification, as the services write them."""
    with app.app_context():
        pledge = make_pledge(app, w.admin, w.organization, w.institute, cents=250_000_00)
        receipt = ledger.record_receipt(db.session.get(User, w.recorder.id), db.session.get(Pledge, pledge.id),
                                        amount_cents=40_000_00, received_on=today(), key=None)
        ledger.verify_receipt(db.session.get(User, w.checker.id), receipt, key=None)
        pledge_id = pledge.id
        db.session.commit()
    return pledge_id


def test_events_read_as_sentences_with_amounts_and_links(client, app, ledger_world):
    pledge_id = money_world(app, ledger_world)
    login(client, ledger_world.checker.email)
    page = client.get(f"/institutes/{ledger_world.institute.slug}/audit").get_data(as_text=True)
    name = ledger_world.organization.name
    assert f"verified a receipt of $40,000 on {name}" in page.replace("&#39;", "'")
    assert "recorded a pledge of $250,000" in page
    assert f'href="/pledges/{pledge_id}"' in page
    assert "ledger.verification" not in page  # words, not codes


def test_filters_by_kind_person_and_date_and_refuse_dates_that_make_no_sense(client, app, ledger_world):
    money_world(app, ledger_world)
    login(client, ledger_world.checker.email)
    url = f"/institutes/{ledger_world.institute.slug}/audit"
    by_checker = client.get(url, query_string={"person": ledger_world.checker.email}).get_data(as_text=True)
    assert "verified a receipt" in by_checker and "recorded a receipt" not in by_checker
    by_name = client.get(url, query_string={"person": "test pers", "kind": "ledger"}).get_data(as_text=True)
    assert "recorded a receipt" in by_name
    nobody = client.get(url, query_string={"person": "nobody@example.com"}).get_data(as_text=True)
    assert "No event matches" in nobody
    tomorrow = client.get(url, query_string={"since": str(today().replace(year=today().year - 1)),
                                             "until": str(today().replace(year=today().year - 1))})
    assert "No event matches" in tomorrow.get_data(as_text=True)
    wrong = client.get(url, query_string={"since": str(today()), "until": "2020-01-01"})
    assert wrong.status_code == 422
    assert "The end date comes before the start date" in wrong.get_data(as_text=True)
    assert client.get(url, query_string={"kind": "nonsense"}).status_code == 422
    assert client.get(url, query_string={"since": "yesterday"}).status_code == 422


def test_the_csv_is_streamed_with_words_amounts_and_hashes_and_escapes_formulas(client, app, ledger_world):
    money_world(app, ledger_world)
    with app.app_context():  # a name a spreadsheet would run
        db.session.get(User, ledger_world.recorder.id).full_name = "=HYPERLINK(1)"
        db.session.commit()
    login(client, ledger_world.checker.email)
    response = client.get(f"/institutes/{ledger_world.institute.slug}/audit.csv", query_string={"kind": "ledger"})
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["ledger.pledge", "ledger.receipt", "ledger.verification"]
    assert [r["amount_usd"] for r in rows] == ["250000.00", "40000.00", "40000.00"]
    assert rows[1]["who"] == "'=HYPERLINK(1)"
    with app.app_context():
        assert rows[2]["hash"] == db.session.scalar(sa.select(AuditEvent.hash).where(
            AuditEvent.action == "ledger.verification"))


def test_the_network_log_is_for_network_administrators_only(client, app, ledger_world):
    login(client, ledger_world.checker.email)
    assert client.get("/audit").status_code == 403
    assert client.get("/audit.csv").status_code == 403
    client.post("/logout")
    admin = make_user(app, role=Role.NETWORK_ADMIN)
    login(client, admin.email)
    money_world(app, ledger_world)
    page = client.get("/audit").get_data(as_text=True)
    assert "Network audit log" in page and "recorded a pledge of $250,000" in page


def test_a_page_of_events_is_described_in_a_fixed_number_of_queries(app, ledger_world):
    for _ in range(2):
        money_world(app, ledger_world)
    with app.app_context():
        described_in_fixed_queries()


def described_in_fixed_queries():
    many = db.session.scalars(sa.select(AuditEvent).options(so.joinedload(AuditEvent.actor))).all()
    few = list({e.subject_type: e for e in many}.values())  # one event of each kind of subject
    assert len(many) > len(few)
    with Counter() as small:
        audit_log.describe(few)
    with Counter() as large:
        audit_log.describe(many)
    assert len(large.statements) == len(small.statements) == 1
