"""The ledger's shared parts: fiscal years, one-time keys, entries and the running totals they move."""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    EntryKind,
    Institute,
    LedgerEntry,
    Membership,
    Organization,
    Pledge,
    User,
)
from portal.services import DomainError, Repeat, summary, updated_rows
from portal.services.parsing import format_cents

FIRST_FISCAL_YEAR = 2013  # the network's first institute was funded in fiscal year 2013
FISCAL_YEARS_AHEAD = 5


def fiscal_year_of(day: date) -> int:
    """US federal fiscal years run from 1 October to 30 September and are named by their end."""
    return day.year + 1 if day.month >= 10 else day.year


def allowed_fiscal_years(today: date | None = None) -> range:
    today = today or datetime.now(UTC).date()
    return range(FIRST_FISCAL_YEAR, fiscal_year_of(today) + FISCAL_YEARS_AHEAD + 1)


def check_fiscal_year(fiscal_year: int | None, field_name: str = "fiscal_year") -> int:
    years = allowed_fiscal_years()
    if fiscal_year is None or fiscal_year not in years:
        raise DomainError(field_name, f"Choose a fiscal year from FY{years.start} to FY{years.stop - 1}")
    return fiscal_year


def _check_key(model, key: str | None):
    if key:
        existing = db.session.scalar(sa.select(model).where(model.idempotency_key == key))
        if existing is not None:
            raise Repeat(existing)


def _add_keyed(obj, model) -> None:
    """Insert ``obj``; if another request with the same key won the race, raise Repeat with its row."""
    try:
        with db.session.begin_nested():
            db.session.add(obj)
    except IntegrityError:
        existing = db.session.scalar(sa.select(model).where(model.idempotency_key == obj.idempotency_key))
        if existing is None:
            raise
        raise Repeat(existing) from None


def _entry(actor: User | None, pledge: Pledge, kind: EntryKind, amount_cents: int, key: str | None,
           **values) -> LedgerEntry:
    entry = LedgerEntry(pledge_id=pledge.id, kind=kind, amount_cents=amount_cents,
                        actor_id=actor.id if actor else None, idempotency_key=key or None, **values)
    _add_keyed(entry, LedgerEntry)
    return entry


def _move_totals(pledge: Pledge, **deltas: int) -> None:
    """Change the running totals by ``deltas`` in one conditional UPDATE; 409 if the pledge refuses."""
    table = Pledge.__table__
    values = {f"{name}_cents": table.c[f"{name}_cents"] + delta for name, delta in deltas.items()}
    try:
        with db.session.begin_nested():
            changed = updated_rows(sa.update(table).where(table.c.id == pledge.id).values(**values))
    except IntegrityError as error:  # CHECK not_overdrawn / verified_within_received
        db.session.refresh(pledge)
        raise DomainError("amount", "That is more than remains on this pledge "
                                    f"({format_cents(pledge.remaining_cents)} remains)", status=409) from error
    assert changed == 1
    summary.pledge_totals_moved(pledge, deltas)
    db.session.refresh(pledge)


def _lock(pledge: Pledge) -> None:
    """Lock the pledge's row until commit (PostgreSQL) and read its current totals."""
    db.session.refresh(pledge, with_for_update=True)


def check_within_remaining(amount_cents: int, remaining_cents: int, what: str = "this pledge") -> None:
    """A receipt is never more than remains on its pledge (the CHECK on the pledge's totals refuses it too)."""
    if amount_cents > remaining_cents:
        raise DomainError("amount", f"That is more than remains on {what} ({format_cents(remaining_cents)} "
                                    "remains)")


def check_second_person(recorded_by_id: int | None, verifier_id: int) -> None:
    """Two people: whoever recorded a receipt does not verify it."""
    if recorded_by_id == verifier_id:
        raise DomainError(None, "You recorded this receipt, so another administrator must verify it.", status=403)


def has_active_membership(organization: Organization, institute: Institute, on: date | None = None) -> bool:
    on = on or datetime.now(UTC).date()
    return db.session.scalar(sa.select(Membership.id).where(
        Membership.organization_id == organization.id, Membership.institute_id == institute.id,
        Membership.in_force(on))) is not None


# Which running total each kind of entry moves.
TOTAL_OF = {EntryKind.PLEDGE: "pledged", EntryKind.RECEIPT: "received", EntryKind.VERIFICATION: "verified",
            EntryKind.CANCELLATION: "cancelled", EntryKind.RELEASE: "cancelled"}
REVERSIBLE = {EntryKind.RECEIPT, EntryKind.VERIFICATION, EntryKind.CANCELLATION}
