"""Random sequences of ledger operations keep every balance equal to its entries and never negative."""

from datetime import UTC, datetime

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.models import EntryKind, Institute, LedgerEntry, Organization, User
from portal.services import DomainError, ledger
from portal.services.ledger import PledgeInput

operation = st.one_of(
    st.tuples(st.just("receipt"), st.integers(min_value=1, max_value=60_000)),
    st.tuples(st.just("verify"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("cancel"), st.just(0)),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=20)),
)


def expected_totals(pledge_id: int) -> dict[str, int]:
    totals = {"pledged": 0, "received": 0, "verified": 0, "cancelled": 0}
    entries = {e.id: e for e in db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.pledge_id == pledge_id))}
    for entry in entries.values():
        kind = entries[entry.reverses_id].kind if entry.kind == EntryKind.REVERSAL else entry.kind
        totals[ledger.TOTAL_OF[kind]] += entry.amount_cents
    return totals


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pledged=st.integers(min_value=1, max_value=200_000), operations=st.lists(operation, max_size=25))
def test_balances_always_equal_the_sum_of_entries(ledger_property_world, pledged, operations):
    app, admin_id, organization_id, institute_id, recorder_id, checker_id = ledger_property_world
    with app.app_context():
        recorder, checker = db.session.get(User, recorder_id), db.session.get(User, checker_id)
        pledge = ledger.record_pledge(
            db.session.get(User, admin_id), db.session.get(Organization, organization_id),
            db.session.get(Institute, institute_id),
            PledgeInput(amount_cents=pledged, kind="cash", fiscal_year=ledger.fiscal_year_of(datetime.now(UTC).date())),
            key=None)
        for name, value in operations:
            entries = list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.pledge_id == pledge.id)
                                              .order_by(LedgerEntry.id)))
            try:
                with db.session.begin_nested():
                    if name == "receipt":
                        ledger.record_receipt(recorder, pledge, amount_cents=value,
                                              received_on=datetime.now(UTC).date(), key=None)
                    elif name == "verify":
                        ledger.verify_receipt(checker, entries[value % len(entries)], key=None)
                    elif name == "cancel":
                        ledger.cancel_remainder(checker, pledge, reason="no longer needed", key=None)
                    else:
                        ledger.reverse(checker, entries[value % len(entries)], reason="mistake", key=None)
            except DomainError:
                db.session.refresh(pledge)  # refused, and nothing was written
            db.session.refresh(pledge)
            totals = expected_totals(pledge.id)
            assert (pledge.pledged_cents, pledge.received_cents, pledge.verified_cents, pledge.cancelled_cents) == (
                totals["pledged"], totals["received"], totals["verified"], totals["cancelled"])
            assert pledge.remaining_cents >= 0
            assert 0 <= pledge.verified_cents <= pledge.received_cents
            assert pledge.cancelled_cents >= 0
        assert ledger.reconcile() == []
        db.session.commit()
