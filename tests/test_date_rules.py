"""Every date a person types has a window that makes sense; outside it the services refuse, naming the field."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import LedgerEntry, Membership, MembershipStatus, ProjectCall
from portal.models.base import utcnow
from portal.services import DomainError, dates, ledger, memberships
from portal.services.clock import today
from portal.services.ledger import PledgeInput
from tests.conftest import login
from tests.factories import make_call, make_institute, make_membership, make_pledge


def refused(field: str, call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.field == field, caught.value.message
    return caught.value


# Membership approval --------------------------------------------------------------------------

def pending(app, world) -> Membership:
    return make_membership(app, world.organization, world.institute, world.tier, status="pending")


@pytest.mark.parametrize(("starts_on", "term", "message"), [
    (date(1999, 1, 1), 1, "before 2020, when the institute was founded"),
    (today() + timedelta(days=400), 1, "at most a year ahead"),
    (today() - timedelta(days=400), 5, "at most a year back"),
    (today() - timedelta(days=366), 1, "which has passed"),  # the term would already be over
])
def test_an_approval_that_would_lapse_at_once_or_is_a_typo_is_refused(app, ctx, membership_world, starts_on, term,
                                                                       message):
    membership = pending(app, membership_world)
    error = refused("starts_on", lambda: memberships.approve(membership_world.staff, membership, starts_on=starts_on,
                                                             term_years=term))
    assert message in error.message
    db.session.refresh(membership)
    assert membership.status == MembershipStatus.PENDING


def test_an_approval_within_the_window_starts_a_membership_in_force(app, ctx, membership_world):
    membership = pending(app, membership_world)
    memberships.approve(membership_world.staff, membership, starts_on=today() - timedelta(days=300), term_years=1)
    assert membership.current_status(today()) == MembershipStatus.ACTIVE


def test_the_approval_page_shows_the_refusal_beside_the_start_date(client, app, membership_world):
    membership = pending(app, membership_world)
    login(client, membership_world.staff.email)
    response = client.post(f"/memberships/{membership.id}/decision",
                           data={"decision": "approve", "starts_on": "1999-01-01", "term_years": "1"})
    assert response.status_code == 422
    assert b'id="starts_on-error"' in response.data and b"when the institute was founded" in response.data
    with app.app_context():
        assert db.session.get(Membership, membership.id).status == MembershipStatus.PENDING


# Receipts, instalments and fiscal years ---------------------------------------------------------

def test_a_receipt_dated_long_ago_or_in_the_future_is_refused(app, ctx, ledger_world):
    pledge = make_pledge(app, ledger_world.admin, ledger_world.organization, ledger_world.institute)
    start = dates.fiscal_year_start(pledge.fiscal_year)
    for day, message in ((date(1990, 5, 1), "founded"), (start - timedelta(days=1), "cannot be before"),
                         (today() + timedelta(days=1), "future")):
        error = refused("received_on", lambda day=day: ledger.record_receipt(
            ledger_world.recorder, pledge, amount_cents=100_00, received_on=day, key=None))
        assert message in error.message
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id)).where(LedgerEntry.kind == "receipt")) == 0
    ledger.record_receipt(ledger_world.recorder, pledge, amount_cents=100_00, received_on=start, key=None)


def test_money_paid_early_on_a_pledge_for_next_year_is_dated_from_the_pledge(app, ctx, ledger_world):
    next_year = ledger.fiscal_year_of(today()) + 1
    pledge = make_pledge(app, ledger_world.admin, ledger_world.organization, ledger_world.institute,
                         fiscal_year=next_year)
    refused("received_on", lambda: ledger.record_receipt(ledger_world.recorder, pledge, amount_cents=100_00,
                                                         received_on=today() - timedelta(days=400), key=None))
    ledger.record_receipt(ledger_world.recorder, pledge, amount_cents=100_00, received_on=today(), key=None)


def test_instalments_far_from_the_pledges_fiscal_year_are_refused(app, ctx, ledger_world):
    year = ledger.fiscal_year_of(today()) + 1
    for far in (date(year - 8, 3, 1), date(year + 13, 3, 1)):  # FY2027: 2019 and 2040
        error = refused("schedule", lambda far=far: ledger.record_pledge(
            ledger_world.admin, ledger_world.organization, ledger_world.institute,
            PledgeInput(amount_cents=200_00, kind="cash", fiscal_year=year,
                        schedule=[(date(year, 1, 15), 100_00), (far, 100_00)]), key=None))
        assert "Installment 2" in error.message
    ledger.record_pledge(ledger_world.admin, ledger_world.organization, ledger_world.institute,
                         PledgeInput(amount_cents=200_00, kind="cash", fiscal_year=year,
                                     schedule=[(date(year, 1, 15), 100_00), (date(year + 2, 6, 1), 100_00)]), key=None)


def test_no_money_is_recorded_for_a_year_before_the_institute_was_founded(app, ctx, ledger_world):
    network = ledger_world.checker
    network.role = "network_admin"
    late = make_institute(app, slug="founded-2025", acronym="NEW")
    late.founded_year = 2025
    error = refused("fiscal_year", lambda: ledger.record_federal_obligation(
        network, late, fiscal_year=2013, reference="AWD-1", amount_cents=100_00, key=None))
    assert "FY2013 is before the institute was founded (2025)" in error.message
    refused("fiscal_year", lambda: ledger.record_pledge(
        ledger_world.admin, ledger_world.organization, ledger_world.institute,
        PledgeInput(amount_cents=100_00, kind="cash", fiscal_year=2019), key=None))  # founded 2020


# Calls -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("opens", "closes", "field"), [
    (timedelta(days=3 * 365), timedelta(days=3 * 365 + 30), "opens_at"),  # three years ahead
    (-timedelta(days=2 * 365), timedelta(days=10), "opens_at"),  # two years back
    (-timedelta(days=30), -timedelta(days=1), "closes_at"),  # closed already
    (timedelta(days=1), timedelta(days=3 * 365), "closes_at"),  # open for three years
])
def test_a_call_window_that_cannot_be_right_is_refused(app, ctx, proposal_world, opens, closes, field):
    now = utcnow()
    refused(field, lambda: make_call(app, proposal_world.staff, proposal_world.institute,
                                     opens_at=now + opens, closes_at=now + closes))
    assert db.session.scalar(sa.select(sa.func.count(ProjectCall.id))) == 0
