"""The co-investment ledger: pledges, receipts, verification, reversal, exactly-once, the match and reconciliation."""

import csv
import io
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import has_app_context

from portal.extensions import db
from portal.models import FederalObligation, LedgerEntry, Notification, Pledge, PledgeStatus, Role, User
from portal.services import DomainError, Repeat, ledger
from portal.services.clock import long_date, today
from portal.services.ledger import PledgeInput
from portal.services.parsing import parse_cents
from tests import factories
from tests.conftest import login
from tests.factories import (
    make_institute,
    make_staff,
    make_user,
    org_admin,
)

FY = ledger.fiscal_year_of(today())


def pledge_form(ledger_world, **changes):
    return {"institute": ledger_world.institute.id, "amount": "1,250,000", "kind": "cash", "fiscal_year": FY,
            "schedule": "", "note": "", "key": "pledge-key-1", **changes}


def one(app, model, **where):
    with app.app_context():
        return db.session.scalar(sa.select(model).filter_by(**where))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@contextmanager
def in_session(app):
    """Use the test's own app context if it has one (flush), else a new one (commit)."""
    if has_app_context():
        yield
        db.session.flush()
        return
    with app.app_context():
        yield
        db.session.commit()


def make_pledge(app, ledger_world, cents=100_000_00, key=None, **fields):
    return factories.make_pledge(app, ledger_world.admin, ledger_world.organization, ledger_world.institute,
                                 cents=cents, fiscal_year=FY, key=key, **fields).id


def receipt(app, pledge_id, actor, cents, key=None):
    with in_session(app):
        entry = ledger.record_receipt(db.session.get(User, actor.id), db.session.get(Pledge, pledge_id),
                                      amount_cents=cents, received_on=today(), key=key)
        entry_id = entry.id
    return entry_id


# Amounts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, cents", [
    ("1,250,000", 125_000_000), ("1250000.00", 125_000_000), ("$15,000", 1_500_000), ("0.5", 50),
    ("12.34", 1234), (" 7 ", 700),
])
def test_amounts_are_read_the_way_people_write_them(text, cents):
    assert parse_cents(text, "amount") == cents


@pytest.mark.parametrize("text, message", [
    ("0", "greater than zero"), ("-5", "positive"), ("abc", "Enter an amount"), ("1e6", "scientific"),
    ("1.234", "two decimal places"), ("1,00,000", "Enter an amount"), ("1000000001", "not accepted"), ("", "Enter"),
    # digits of other scripts: Arabic-Indic, fullwidth, Devanagari
    ("\u0661\u0662\u0663", "Enter an amount"), ("\uff11\uff12\uff13", "Enter an amount"),
    ("\u0967\u0968\u0969", "Enter an amount"),
])
def test_bad_amounts_get_a_clear_message(text, message):
    with pytest.raises(DomainError, match=message):
        parse_cents(text, "amount")


def test_fiscal_years_start_in_october():
    from datetime import date
    assert ledger.fiscal_year_of(date(2026, 9, 30)) == 2026
    assert ledger.fiscal_year_of(date(2026, 10, 1)) == 2027


# Pledging -----------------------------------------------------------------------------------

def test_org_admin_pledges_with_a_schedule(client, app, ledger_world):
    login(client, ledger_world.admin.email)
    assert client.get(f"/organizations/{ledger_world.organization.id}/pledges/new").status_code == 200
    response = client.post(f"/organizations/{ledger_world.organization.id}/pledges/new", data=pledge_form(
        ledger_world, schedule="2027-01-15 1,000,000\n2027-06-30, 250000.00"))
    assert response.status_code == 302
    with app.app_context():
        pledge = db.session.scalar(sa.select(Pledge))
        assert (pledge.pledged_cents, pledge.status) == (125_000_000, PledgeStatus.PLEDGED)
        assert [i.amount_cents for i in pledge.instalments] == [100_000_000, 25_000_000]
        [entry] = db.session.scalars(sa.select(LedgerEntry))
        assert (entry.kind, entry.amount_cents, entry.idempotency_key) == ("pledge", 125_000_000, "pledge-key-1")


def test_a_double_submitted_pledge_makes_one_entry(client, app, ledger_world):
    login(client, ledger_world.admin.email)
    url = f"/organizations/{ledger_world.organization.id}/pledges/new"
    first = client.post(url, data=pledge_form(ledger_world))
    second = client.post(url, data=pledge_form(ledger_world), follow_redirects=True)
    assert first.status_code == 302
    assert b"already recorded; it has not been recorded twice" in second.data
    assert count(app, Pledge) == 1 and count(app, LedgerEntry) == 1


@pytest.mark.parametrize("changes, field, message", [
    ({"amount": "0"}, "amount", b"greater than zero"),
    ({"amount": "-100"}, "amount", b"positive"),
    ({"amount": "ten"}, "amount", b"Enter an amount"),
    ({"amount": "1e6"}, "amount", b"scientific notation"),
    ({"amount": "100.001"}, "amount", b"two decimal places"),
    ({"amount": "2,000,000,000"}, "amount", b"not accepted"),
    ({"schedule": "2027-01-15 1,000,000"}, "schedule", b"add up to $1,000,000, not the $1,250,000"),
    ({"schedule": "soon 1,000"}, "schedule", b"Line 1"),
    ({"fiscal_year": "1990"}, "fiscal_year", b"Choose one of the options"),
    ({"kind": "in_kind", "in_kind_description": ""}, "in_kind_description", b"Describe what is given"),
    ({"amount": "\u0661\u0662\u0663"}, "amount", b"Enter an amount in dollars"),  # Arabic-Indic digits are not $123
    ({"amount": "\uff11\uff12\uff13"}, "amount", b"Enter an amount in dollars"),  # nor are fullwidth ones
    ({"institute": str(2**31)}, "institute", b"Choose one of the options"),  # beyond any id: no query is made
    ({"institute": str(2**63)}, "institute", b"Choose one of the options"),
    ({"note": "paid\x00"}, "note", b"control characters"),
])
def test_bad_pledges_get_a_message_next_to_the_field_and_write_nothing(client, app, ledger_world, changes, field,
                                                                       message):
    login(client, ledger_world.admin.email)
    response = client.post(f"/organizations/{ledger_world.organization.id}/pledges/new",
                           data=pledge_form(ledger_world, **changes))
    assert response.status_code == 422
    assert f'id="{field}-error"'.encode() in response.data
    assert message in response.data
    assert count(app, Pledge) == 0 and count(app, LedgerEntry) == 0


def test_a_one_time_key_longer_than_the_page_writes_is_refused_with_a_message(client, app, ledger_world):
    login(client, ledger_world.admin.email)
    response = client.post(f"/organizations/{ledger_world.organization.id}/pledges/new",
                           data=pledge_form(ledger_world, key="k" * 65))  # the column holds 64
    assert response.status_code == 422 and b"could not be read; reload the page" in response.data
    assert count(app, Pledge) == 0 and count(app, LedgerEntry) == 0
    response = client.post(f"/organizations/{ledger_world.organization.id}/pledges/new",
                           data=pledge_form(ledger_world, key="k" * 64))
    assert response.status_code == 302 and count(app, Pledge) == 1


def test_fiscal_year_far_outside_the_program_is_refused_by_the_service(ctx, app, ledger_world):
    with pytest.raises(DomainError, match="FY2013"):
        ledger.record_pledge(db.session.get(User, ledger_world.admin.id), ledger_world.organization,
                             ledger_world.institute, PledgeInput(amount_cents=100, kind="cash", fiscal_year=2099),
                             key=None)


def test_pledging_needs_an_active_membership(ctx, app, ledger_world):
    elsewhere = make_institute(app, slug="elsewhere", acronym="EI")
    with pytest.raises(DomainError, match="no active membership"):
        ledger.record_pledge(db.session.get(User, ledger_world.admin.id), ledger_world.organization, elsewhere,
                             PledgeInput(amount_cents=100, kind="cash", fiscal_year=FY), key=None)


def test_pledging_for_another_organization_is_403(client, app, ledger_world):
    stranger, _ = org_admin(app)
    login(client, stranger.email)
    response = client.post(f"/organizations/{ledger_world.organization.id}/pledges/new", data=pledge_form(ledger_world))
    assert response.status_code == 403
    assert client.get(f"/organizations/{ledger_world.organization.id}/ledger").status_code == 403
    assert count(app, Pledge) == 0


# Receipts, verification, cancellation and reversal ------------------------------------------

def test_the_whole_lifecycle_shows_the_right_balances_everywhere(client, app, ledger_world):
    pledge_id = make_pledge(app, ledger_world, cents=100_000_00)
    login(client, ledger_world.recorder.email)
    url = f"/pledges/{pledge_id}"
    received_on = today().isoformat()
    assert client.post(f"{url}/receipts", data={"receipt-amount": "30,000", "receipt-received_on": received_on,
                                                "receipt-key": "r1"}).status_code == 302
    assert client.post(f"{url}/receipts", data={"receipt-amount": "20000.00", "receipt-received_on": received_on,
                                                "receipt-key": "r2"}).status_code == 302
    with app.app_context():
        r1, r2 = db.session.scalars(sa.select(LedgerEntry.id).where(LedgerEntry.kind == "receipt")
                                    .order_by(LedgerEntry.id))
    # the recorder cannot verify their own receipt
    response = client.post(f"{url}/entries/{r1}/verify", data={"entry-key": "v0"}, follow_redirects=True)
    assert b"another administrator must verify it" in response.data
    client.post("/logout")
    login(client, ledger_world.checker.email)
    assert client.post(f"{url}/entries/{r1}/verify", data={"entry-key": "v1"}).status_code == 302
    response = client.post(f"{url}/entries/{r2}/reverse", data={"entry-key": "x1", "entry-reason": "Bounced"})
    assert response.status_code == 302
    response = client.post(f"{url}/cancel", data={"cancel-key": "c1", "cancel-reason": "Project ended early"})
    assert response.status_code == 302
    with app.app_context():
        pledge = db.session.get(Pledge, pledge_id)
        assert (pledge.pledged_cents, pledge.received_cents, pledge.verified_cents, pledge.cancelled_cents) == (
            100_000_00, 30_000_00, 30_000_00, 70_000_00)
        assert pledge.status == PledgeStatus.FULFILLED and pledge.remaining_cents == 0
        assert ledger.reconcile() == []
    # institute view, with a filter, and its CSV
    page = client.get(f"/institutes/{ledger_world.institute.slug}/ledger", query_string={"fiscal_year": FY}).data
    assert b"$30,000</span> verified" in page and b"$70,000</span> cancelled" in page
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"/institutes/{ledger_world.institute.slug}/ledger.csv", query_string={"fiscal_year": FY}).data.decode())))
    assert [r["kind"] for r in rows] == ["pledge", "receipt", "receipt", "verification", "reversal", "cancellation"]
    assert b"Net of" not in page and b"net of" not in page  # a sum of unlike entries means nothing
    client.post("/logout")
    # organization view
    login(client, ledger_world.admin.email)
    page = client.get(f"/organizations/{ledger_world.organization.id}/ledger").data
    assert b"$30,000</span> received" in page and b"Fulfilled" in page
    with app.app_context():
        told = [n.message for n in db.session.scalars(sa.select(Notification)
                                                      .where(Notification.user_id == ledger_world.admin.id))]
    assert any("recorded a receipt of $30,000" in m for m in told)
    assert any("verified a receipt of $30,000" in m for m in told)


def test_a_receipt_above_the_remaining_balance_is_refused(client, app, ledger_world):
    pledge_id = make_pledge(app, ledger_world, cents=1_000_00)
    receipt(app, pledge_id, ledger_world.recorder, 600_00)
    login(client, ledger_world.recorder.email)
    response = client.post(f"/pledges/{pledge_id}/receipts", data={
        "receipt-amount": "500", "receipt-received_on": today().isoformat(), "receipt-key": "r9"})
    assert response.status_code == 422
    assert b'id="receipt-amount-error"' in response.data and b"$400 remains" in response.data
    assert count(app, LedgerEntry) == 2


def test_a_retried_receipt_is_recorded_once(client, app, ledger_world):
    pledge_id = make_pledge(app, ledger_world, cents=1_000_00)
    login(client, ledger_world.recorder.email)
    data = {"receipt-amount": "100", "receipt-received_on": today().isoformat(), "receipt-key": "same"}
    client.post(f"/pledges/{pledge_id}/receipts", data=data)
    response = client.post(f"/pledges/{pledge_id}/receipts", data=data, follow_redirects=True)
    assert b"already recorded" in response.data
    with app.app_context():
        assert db.session.get(Pledge, pledge_id).received_cents == 100_00


def test_future_receipt_dates_are_refused(client, app, ledger_world):
    pledge_id = make_pledge(app, ledger_world)
    login(client, ledger_world.recorder.email)
    response = client.post(f"/pledges/{pledge_id}/receipts", data={
        "receipt-amount": "100", "receipt-received_on": (today() + timedelta(days=3)).isoformat(), "receipt-key": "k"})
    assert response.status_code == 422 and b"cannot be in the future" in response.data


@pytest.mark.parametrize("received_on, message", [
    ("9999-12-31", b"Enter a date from"), ("0001-01-01", b"Enter a date from"),  # no rule's window: the form's
    ("1999-12-31", b"cannot be before"),  # within what a form takes: the ledger's own rule
])
def test_receipt_dates_far_in_the_past_or_future_get_a_message(client, app, ledger_world, received_on, message):
    pledge_id = make_pledge(app, ledger_world)
    login(client, ledger_world.recorder.email)
    response = client.post(f"/pledges/{pledge_id}/receipts", data={
        "receipt-amount": "100", "receipt-received_on": received_on, "receipt-key": "k"})
    assert response.status_code == 422
    assert b'id="receipt-received_on-error"' in response.data and message in response.data
    assert count(app, LedgerEntry) == 1  # the pledge's own entry only


def test_only_the_institutes_admins_record_receipts(client, app, ledger_world):
    pledge_id = make_pledge(app, ledger_world)
    other_staff = make_staff(app, make_institute(app, slug="other", acronym="OI"))
    for user in (ledger_world.admin, other_staff):
        login(client, user.email)
        response = client.post(f"/pledges/{pledge_id}/receipts", data={
            "receipt-amount": "100", "receipt-received_on": today().isoformat(), "receipt-key": "k"})
        assert response.status_code == 403
        client.post("/logout")
    login(client, other_staff.email)
    assert client.get(f"/pledges/{pledge_id}").status_code == 403


def test_a_verified_receipt_must_have_its_verification_reversed_first(ctx, app, ledger_world):
    pledge_id = make_pledge(app, ledger_world)
    entry_id = receipt(app, pledge_id, ledger_world.recorder, 500_00)
    checker = db.session.get(User, ledger_world.checker.id)
    entry = db.session.get(LedgerEntry, entry_id)
    verification = ledger.verify_receipt(checker, entry, key=None)
    with pytest.raises(DomainError, match="already verified"):
        ledger.verify_receipt(checker, entry, key=None)
    with pytest.raises(DomainError, match="verification first"):
        ledger.reverse(checker, entry, reason="oops", key=None)
    ledger.reverse(checker, verification, reason="wrong receipt", key=None)
    ledger.reverse(checker, entry, reason="wrong receipt", key=None)
    with pytest.raises(DomainError, match="already been reversed"):
        ledger.reverse(checker, entry, reason="again", key=None)
    pledge = db.session.get(Pledge, pledge_id)
    assert (pledge.received_cents, pledge.verified_cents) == (0, 0)
    assert ledger.reconcile() == []


def test_the_ledger_refuses_updates_and_deletes_on_postgresql(app, ledger_world):
    from tests.conftest import postgres_url

    postgres_url()
    make_pledge(app, ledger_world)
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.update(LedgerEntry).values(amount_cents=1))
        db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.delete(LedgerEntry))
        db.session.rollback()


def test_the_database_refuses_to_overdraw_a_pledge(ctx, app, ledger_world):
    pledge = db.session.get(Pledge, make_pledge(app, ledger_world, cents=100))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Pledge).where(Pledge.id == pledge.id).values(received_cents=101))
    db.session.rollback()


# Federal match ------------------------------------------------------------------------------

def test_match_table_flags_institutes_below_one_to_one(client, app, ledger_world):
    network_admin = make_user(app, role=Role.NETWORK_ADMIN)
    pledge_id = make_pledge(app, ledger_world, cents=300_00)
    entry_id = receipt(app, pledge_id, ledger_world.recorder, 200_00)
    with app.app_context():
        ledger.verify_receipt(db.session.get(User, ledger_world.checker.id), db.session.get(LedgerEntry, entry_id),
                              key=None)
        db.session.commit()
    login(client, network_admin.email)
    data = {"federal-institute": ledger_world.institute.id, "federal-fiscal_year": FY, "federal-amount": "250",
            "federal-reference": "Award 1", "federal-key": "f1"}
    assert client.post("/ledger/federal", data=data).status_code == 302
    assert client.post("/ledger/federal", data=data).status_code == 302  # a repeat records nothing
    assert count(app, FederalObligation) == 1
    page = client.get("/ledger/match", query_string={"fiscal_year": FY}).data
    assert b"0.80 : 1" in page and b"1.20 : 1" in page and b"Below match" in page
    response = client.post("/ledger/federal", data={**data, "federal-amount": "-300", "federal-note": "correction",
                                                     "federal-key": "f2"})  # a correction of Award 1
    assert response.status_code == 422 and b"below zero" in response.data
    with app.app_context():
        rows, total = ledger.match_table(FY)
        [row] = [r for r in rows if r.institute.id == ledger_world.institute.id]
        assert (row.federal_cents, row.pledged_cents, row.verified_cents, row.below_match) == (
            250_00, 300_00, 200_00, True)
        assert total.federal_cents == 250_00


def test_match_table_is_for_network_admins(client, app, ledger_world):
    login(client, ledger_world.recorder.email)
    assert client.get("/ledger/match").status_code == 403
    assert client.post("/ledger/federal", data={}).status_code == 403


# Schedules, reminders and reconciliation ----------------------------------------------------

def test_instalments_due_within_90_days_and_reminders(client, app, ledger_world, runner):
    soon, later = today() + timedelta(days=10), today() + timedelta(days=200)
    make_pledge(app, ledger_world, cents=300_00, schedule=[(soon, 100_00), (later, 200_00)])
    login(client, ledger_world.admin.email)
    page = client.get(f"/organizations/{ledger_world.organization.id}/ledger").data.decode()
    assert "Due in the next 90 days" in page and "$100" in page
    assert long_date(soon) in page and long_date(later) not in page
    assert "1 reminder(s)" in runner.invoke(args=["ledger", "remind"]).output
    assert "0 reminder(s)" in runner.invoke(args=["ledger", "remind"]).output


def test_ledger_verify_passes_and_fails_on_a_corrupted_total(runner, app, ledger_world):
    pledge_id = make_pledge(app, ledger_world, cents=500_00)
    receipt(app, pledge_id, ledger_world.recorder, 100_00)
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0 and "agree" in result.output
    with app.app_context():
        db.session.execute(sa.update(Pledge).where(Pledge.id == pledge_id).values(received_cents=150_00))
        db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert f"pledge {pledge_id}: received is 15000 cents on the pledge but 10000 from its entries" in result.output


def test_repeat_is_raised_for_a_used_key(ctx, app, ledger_world):
    make_pledge(app, ledger_world, key="only-once")
    with pytest.raises(Repeat):
        ledger.record_pledge(db.session.get(User, ledger_world.admin.id), ledger_world.organization,
                             ledger_world.institute, PledgeInput(amount_cents=5, kind="cash", fiscal_year=FY),
                             key="only-once")


def test_institute_ledger_filters_and_pages(client, app, ledger_world):
    for n in range(30):
        make_pledge(app, ledger_world, cents=(n + 1) * 100)
    login(client, ledger_world.recorder.email)
    page = client.get(f"/institutes/{ledger_world.institute.slug}/ledger").data
    assert b"Next page" in page and b"$465</span> pledged" in page and page.count(b"/pledges/") == 25
    following = re.search(rb'href="([^"]+)" rel="next"', page).group(1).decode().replace("&amp;", "&")
    rest = client.get(following).data
    assert rest.count(b"/pledges/") == 5 and b"Next page" not in rest and b"First page" in rest
    assert b"$465</span> pledged" in rest  # the totals are of every pledge the filters select
    page = client.get(f"/institutes/{ledger_world.institute.slug}/ledger", query_string={"status": "fulfilled"}).data
    assert b"No pledges match" in page and b"$0</span> pledged" in page
    # a cursor no column can hold (a huge number, text for a number, a NUL, the wrong shape) is the first page
    for cursor in ("[99999999999999999999,1]", "[2026,2147483648]", '["x",1]', '[2026,"\u0000"]', "[2026]",
                   "[[1],1]", "[" * 5000, "not json"):
        response = client.get(f"/institutes/{ledger_world.institute.slug}/ledger", query_string={"after": cursor})
        assert response.status_code == 200, cursor
        assert response.data.count(b"/pledges/") == 25 and b"First page" not in response.data, cursor


def test_ledger_verify_on_the_demo_data_and_on_a_corrupted_copy(tmp_path):
    """`flask ledger verify` passes on the demo network and fails on a copy whose totals were tampered with."""
    import sqlite3
    from contextlib import closing

    from portal import create_app
    from portal.services import demo, institutes, memberships

    original, copy = tmp_path / "demo.db", tmp_path / "corrupted.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{original}")
    with app.app_context():
        db.create_all()
        institutes.seed(institutes.seed_records())
        memberships.seed_tiers({"default": [{"name": "Gold", "annual_fee_usd": 50000, "may_lead_projects": True,
                                             "may_join_projects": True, "governance_vote": False, "named_seats": 5},
                                            {"name": "Silver", "annual_fee_usd": 10000, "may_lead_projects": False,
                                             "may_join_projects": True, "governance_vote": False, "named_seats": 2},
                                            {"name": "Platinum", "annual_fee_usd": 150000, "may_lead_projects": True,
                                             "may_join_projects": True, "governance_vote": True, "named_seats": 10}]})
        assert demo.load("demonstration only 2026")["created"] == 1
        db.session.commit()
        assert demo.load("demonstration only 2026")["created"] == 0
        db.engine.dispose()
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    with closing(sqlite3.connect(original)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)  # a live database in WAL mode is more than its main file
    corrupted = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{copy}")
    with corrupted.app_context():
        db.session.execute(sa.text("UPDATE pledges SET received_cents = received_cents + 1 WHERE id = 1"))
        db.session.commit()
        db.engine.dispose()
    result = corrupted.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert "pledge 1: received is 10000001 cents on the pledge but 10000000 from its entries" in result.output


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reversal_without_a_reason_is_refused_by_the_service_and_writes_nothing(ctx, app, ledger_world, reason):
    pledge_id = make_pledge(app, ledger_world)
    entry_id = receipt(app, pledge_id, ledger_world.recorder, 500_00)
    entries = db.session.scalar(sa.select(sa.func.count(LedgerEntry.id)))
    with pytest.raises(DomainError) as refused:
        ledger.reverse(db.session.get(User, ledger_world.checker.id), db.session.get(LedgerEntry, entry_id),
                       reason=reason, key=None)
    assert (refused.value.field, refused.value.message) == ("reason", "Give the reason for the reversal.")
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == entries
    assert db.session.get(Pledge, pledge_id).received_cents == 500_00
