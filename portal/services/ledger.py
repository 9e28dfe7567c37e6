"""Co-investment: pledges, receipts, verification, cancellation, reversal and the federal match.

Every money event is a ledger entry, and each entry carries the one-time key of the form that made
it, so a double click or a retried request finds the first entry instead of writing a second. A
pledge's running totals change in the same transaction by a conditional UPDATE that the database
checks against the pledge (CHECK not_overdrawn), so concurrent receipts cannot overdraw it.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    EntryKind,
    FederalObligation,
    Institute,
    Instalment,
    LedgerEntry,
    Membership,
    Organization,
    Pledge,
    PledgeKind,
    PledgeStatus,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, Repeat, audit, notifications, summary
from portal.services.organizations import admins_of

FIRST_FISCAL_YEAR = 2013  # the network's first institute was funded in fiscal year 2013
FISCAL_YEARS_AHEAD = 5
DUE_SOON_DAYS = 90


def fiscal_year_of(day: date) -> int:
    """US federal fiscal years run from 1 October to 30 September and are named by their end."""
    return day.year + 1 if day.month >= 10 else day.year


def allowed_fiscal_years(today: date | None = None) -> range:
    today = today or datetime.now(UTC).date()
    return range(FIRST_FISCAL_YEAR, fiscal_year_of(today) + FISCAL_YEARS_AHEAD + 1)


def check_fiscal_year(fiscal_year: int | None, field_name: str = "fiscal_year") -> int:
    years = allowed_fiscal_years()
    if fiscal_year not in years:
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
            result = db.session.execute(sa.update(table).where(table.c.id == pledge.id).values(**values))
    except IntegrityError as error:  # CHECK not_overdrawn / verified_within_received
        db.session.refresh(pledge)
        raise DomainError("amount", "That is more than remains on this pledge "
                                    f"({_dollars(pledge.remaining_cents)} remains)", status=409) from error
    assert result.rowcount == 1
    summary.pledge_totals_moved(pledge, deltas)
    db.session.refresh(pledge)


def _lock(pledge: Pledge) -> None:
    """Lock the pledge's row until commit (PostgreSQL) and read its current totals."""
    db.session.refresh(pledge, with_for_update=True)


def _dollars(cents: int) -> str:
    from portal.services.money import format_cents

    return format_cents(cents)


def has_active_membership(organization: Organization, institute: Institute, on: date | None = None) -> bool:
    on = on or datetime.now(UTC).date()
    return db.session.scalar(sa.select(Membership.id).where(
        Membership.organization_id == organization.id, Membership.institute_id == institute.id,
        Membership.in_force(on))) is not None


# Pledges -------------------------------------------------------------------------------------

@dataclass
class PledgeInput:
    amount_cents: int
    kind: str
    fiscal_year: int
    in_kind_description: str = ""
    note: str = ""
    schedule: list[tuple[date, int]] = field(default_factory=list)


def record_pledge(actor: User, organization: Organization, institute: Institute, data: PledgeInput,
                  *, key: str | None) -> Pledge:
    """Pledge co-investment to an institute the organization is an active member of."""
    _check_key(LedgerEntry, key)
    if not has_active_membership(organization, institute):
        raise DomainError("institute", f"{organization.name} has no active membership of {institute.acronym}; "
                                       "only members pledge co-investment")
    if data.kind not in set(PledgeKind):
        raise DomainError("kind", "Choose cash or in-kind")
    description = data.in_kind_description.strip()
    if data.kind == PledgeKind.IN_KIND and not description:
        raise DomainError("in_kind_description", "Describe what is given in kind and how it was valued")
    check_fiscal_year(data.fiscal_year)
    if data.schedule:
        total = sum(amount for _, amount in data.schedule)
        if total != data.amount_cents:
            raise DomainError("schedule", f"The instalments add up to {_dollars(total)}, not the "
                                          f"{_dollars(data.amount_cents)} pledged")
    pledge = Pledge(organization_id=organization.id, institute_id=institute.id, kind=data.kind,
                    fiscal_year=data.fiscal_year, in_kind_description=description if data.kind == PledgeKind.IN_KIND
                    else "", note=data.note.strip(), created_by_id=actor.id, pledged_cents=data.amount_cents,
                    instalments=[Instalment(due_on=due, amount_cents=amount) for due, amount in data.schedule])
    db.session.add(pledge)
    db.session.flush()
    _entry(actor, pledge, EntryKind.PLEDGE, data.amount_cents, key, reason=pledge.note)
    summary.pledge_recorded(pledge)
    audit.record(actor, "ledger.pledge", pledge, institute_id=institute.id,
                 details={"amount_cents": data.amount_cents, "kind": data.kind, "fiscal_year": data.fiscal_year})
    return pledge


def record_receipt(actor: User, pledge: Pledge, *, amount_cents: int, received_on: date, note: str = "",
                   key: str | None) -> LedgerEntry:
    """Record money (or in-kind value) received against a pledge; never more than remains."""
    _check_key(LedgerEntry, key)
    _lock(pledge)
    if received_on > datetime.now(UTC).date():
        raise DomainError("received_on", "The date received cannot be in the future")
    if amount_cents > pledge.remaining_cents:
        raise DomainError("amount", f"That is more than remains on this pledge ({_dollars(pledge.remaining_cents)} remains)")
    entry = _entry(actor, pledge, EntryKind.RECEIPT, amount_cents, key, received_on=received_on, reason=note.strip())
    _move_totals(pledge, received=amount_cents)
    audit.record(actor, "ledger.receipt", entry, institute_id=pledge.institute_id,
                 details={"pledge_id": pledge.id, "amount_cents": amount_cents})
    notifications.notify(admins_of(pledge.organization),
                         f"{pledge.institute.acronym} recorded a receipt of {_dollars(amount_cents)} "
                         f"against your FY{pledge.fiscal_year} pledge.", "ledger.pledge", pledge_id=pledge.id,
                         actor=actor)
    return entry


def net_verified(receipt: LedgerEntry) -> int:
    """How much of a receipt stands verified (verifications less their reversals)."""
    verifications = sa.select(LedgerEntry.id).where(LedgerEntry.verifies_id == receipt.id)
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_cents), 0)).where(
        sa.or_(LedgerEntry.verifies_id == receipt.id, LedgerEntry.reverses_id.in_(verifications)))) or 0


def is_reversed(entry: LedgerEntry) -> bool:
    return db.session.scalar(sa.select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)) is not None


def verify_receipt(actor: User, receipt: LedgerEntry, *, key: str | None) -> LedgerEntry:
    """Confirm a receipt; the person who recorded it cannot (two-person rule)."""
    _check_key(LedgerEntry, key)
    _lock(receipt.pledge)
    if receipt.kind != EntryKind.RECEIPT or is_reversed(receipt):
        raise DomainError(None, "Only a standing receipt can be verified.", status=409)
    if receipt.actor_id == actor.id:
        raise DomainError(None, "You recorded this receipt, so another administrator must verify it.", status=403)
    if net_verified(receipt):
        raise DomainError(None, "This receipt is already verified.", status=409)
    pledge = receipt.pledge
    entry = _entry(actor, pledge, EntryKind.VERIFICATION, receipt.amount_cents, key, verifies_id=receipt.id)
    _move_totals(pledge, verified=receipt.amount_cents)
    audit.record(actor, "ledger.verification", entry, institute_id=pledge.institute_id,
                 details={"pledge_id": pledge.id, "receipt_id": receipt.id, "amount_cents": receipt.amount_cents})
    notifications.notify(admins_of(pledge.organization),
                         f"{pledge.institute.acronym} verified a receipt of {_dollars(receipt.amount_cents)} "
                         f"against your FY{pledge.fiscal_year} pledge.", "ledger.pledge", pledge_id=pledge.id,
                         actor=actor)
    return entry


def cancel_remainder(actor: User, pledge: Pledge, *, reason: str, key: str | None) -> LedgerEntry:
    """Cancel what has not been received, with a reason."""
    _check_key(LedgerEntry, key)
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Give the reason for cancelling")
    _lock(pledge)
    remaining = pledge.remaining_cents
    if remaining <= 0:
        raise DomainError(None, "Nothing remains on this pledge to cancel.", status=409)
    entry = _entry(actor, pledge, EntryKind.CANCELLATION, remaining, key, reason=reason)
    _move_totals(pledge, cancelled=remaining)
    audit.record(actor, "ledger.cancellation", entry, institute_id=pledge.institute_id, reason=reason,
                 details={"pledge_id": pledge.id, "amount_cents": remaining})
    return entry


# Which running total each kind of entry moves.
TOTAL_OF = {EntryKind.PLEDGE: "pledged", EntryKind.RECEIPT: "received", EntryKind.VERIFICATION: "verified",
            EntryKind.CANCELLATION: "cancelled"}
REVERSIBLE = {EntryKind.RECEIPT, EntryKind.VERIFICATION, EntryKind.CANCELLATION}


def reverse(actor: User, original: LedgerEntry, *, reason: str, key: str | None) -> LedgerEntry:
    """Undo a receipt, verification or cancellation with an entry pointing at it."""
    _check_key(LedgerEntry, key)
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Give the reason for the reversal")
    _lock(original.pledge)
    if original.kind not in REVERSIBLE:
        raise DomainError(None, "Only receipts, verifications and cancellations can be reversed.", status=409)
    if is_reversed(original):
        raise DomainError(None, "That entry has already been reversed.", status=409)
    if original.kind == EntryKind.RECEIPT and net_verified(original):
        raise DomainError(None, "Reverse the receipt's verification first.", status=409)
    pledge = original.pledge
    entry = _entry(actor, pledge, EntryKind.REVERSAL, -original.amount_cents, key,
                   reverses_id=original.id, reason=reason)
    _move_totals(pledge, **{TOTAL_OF[original.kind]: -original.amount_cents})
    audit.record(actor, "ledger.reversal", entry, institute_id=pledge.institute_id, reason=reason,
                 details={"pledge_id": pledge.id, "reverses_id": original.id, "amount_cents": -original.amount_cents})
    return entry



# Federal side --------------------------------------------------------------------------------

def record_federal_obligation(actor: User, institute: Institute, *, fiscal_year: int, amount_cents: int,
                              note: str = "", key: str | None) -> FederalObligation:
    """Record federal money obligated to an institute; a negative amount corrects an earlier one."""
    _check_key(FederalObligation, key)
    check_fiscal_year(fiscal_year)
    if amount_cents == 0:
        raise DomainError("amount", "Enter an amount other than zero")
    if amount_cents < 0:
        standing = federal_total(institute, fiscal_year)
        if standing + amount_cents < 0:
            raise DomainError("amount", f"A correction cannot take FY{fiscal_year} below zero "
                                        f"({_dollars(standing)} is recorded)")
        if not note.strip():
            raise DomainError("note", "Say what a negative correction corrects")
    obligation = FederalObligation(institute_id=institute.id, fiscal_year=fiscal_year, amount_cents=amount_cents,
                                   note=note.strip(), actor_id=actor.id, idempotency_key=key or None)
    _add_keyed(obligation, FederalObligation)
    try:
        with db.session.begin_nested():
            summary.federal_recorded(institute.id, fiscal_year, amount_cents)
    except IntegrityError as error:  # a correction made at the same moment took the total lower first
        raise DomainError("amount", f"A correction cannot take FY{fiscal_year} below zero "
                                    f"({_dollars(federal_total(institute, fiscal_year))} is recorded)",
                          status=409) from error
    audit.record(actor, "ledger.federal_obligation", obligation, institute_id=institute.id,
                 details={"fiscal_year": fiscal_year, "amount_cents": amount_cents})
    return obligation


def federal_total(institute: Institute, fiscal_year: int) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(FederalObligation.amount_cents), 0)).where(
        FederalObligation.institute_id == institute.id, FederalObligation.fiscal_year == fiscal_year)) or 0


@dataclass
class MatchRow:
    """Non-federal against federal money for one institute (or the network) and fiscal year (or all)."""

    label: str
    federal_cents: int
    pledged_cents: int  # pledged less cancelled
    verified_cents: int  # received and verified
    institute: Institute | None = None

    @property
    def verified_ratio(self) -> float | None:
        return self.verified_cents / self.federal_cents if self.federal_cents else None

    @property
    def pledged_ratio(self) -> float | None:
        return self.pledged_cents / self.federal_cents if self.federal_cents else None

    @property
    def below_match(self) -> bool:
        """Flag anything where verified non-federal money is less than federal money (integers, exact)."""
        return self.federal_cents > 0 and self.verified_cents < self.federal_cents


def match_table(fiscal_year: int | None = None) -> tuple[list[MatchRow], MatchRow]:
    """One row per institute and a network total, in three queries."""
    def by_institute(query, column, condition):
        if fiscal_year is not None:
            query = query.where(condition)
        return dict(db.session.execute(query.group_by(column)).all())

    federal = by_institute(
        sa.select(FederalObligation.institute_id, sa.func.sum(FederalObligation.amount_cents)),
        FederalObligation.institute_id, FederalObligation.fiscal_year == fiscal_year)
    pledged = by_institute(
        sa.select(Pledge.institute_id, sa.func.sum(Pledge.pledged_cents - Pledge.cancelled_cents)),
        Pledge.institute_id, Pledge.fiscal_year == fiscal_year)
    verified = by_institute(
        sa.select(Pledge.institute_id, sa.func.sum(Pledge.verified_cents)),
        Pledge.institute_id, Pledge.fiscal_year == fiscal_year)
    rows = [
        MatchRow(label=i.acronym, institute=i, federal_cents=int(federal.get(i.id) or 0),
                 pledged_cents=int(pledged.get(i.id) or 0), verified_cents=int(verified.get(i.id) or 0))
        for i in db.session.scalars(sa.select(Institute).order_by(Institute.acronym))
    ]
    total = MatchRow(label="Whole network", federal_cents=sum(r.federal_cents for r in rows),
                     pledged_cents=sum(r.pledged_cents for r in rows),
                     verified_cents=sum(r.verified_cents for r in rows))
    return rows, total


# Listing, filters and export -----------------------------------------------------------------

@dataclass(frozen=True)
class LedgerFilters:
    fiscal_year: int | None = None
    kind: str = ""
    status: str = ""
    organization_id: int | None = None


def pledges_query(*, organization: Organization | None = None, institute: Institute | None = None,
                  filters: LedgerFilters = LedgerFilters()):
    query = sa.select(Pledge).options(so.joinedload(Pledge.organization), so.joinedload(Pledge.institute))
    if organization is not None:
        query = query.where(Pledge.organization_id == organization.id)
    if institute is not None:
        query = query.where(Pledge.institute_id == institute.id)
    if filters.fiscal_year:
        query = query.where(Pledge.fiscal_year == filters.fiscal_year)
    if filters.kind:
        query = query.where(Pledge.kind == filters.kind)
    if filters.status:
        query = query.where(Pledge.status_expression() == filters.status)
    if filters.organization_id:
        query = query.where(Pledge.organization_id == filters.organization_id)
    return query.order_by(Pledge.fiscal_year.desc(), Pledge.id.desc())


def entries_query(pledges):
    """The ledger entries of the pledges selected by ``pledges`` (a pledges_query)."""
    ids = pledges.with_only_columns(Pledge.id).order_by(None)
    return (sa.select(LedgerEntry).where(LedgerEntry.pledge_id.in_(ids))
            .options(so.joinedload(LedgerEntry.pledge).joinedload(Pledge.organization),
                     so.joinedload(LedgerEntry.pledge).joinedload(Pledge.institute),
                     so.joinedload(LedgerEntry.actor))
            .order_by(LedgerEntry.occurred_at, LedgerEntry.id))


@dataclass
class Totals:
    pledged_cents: int = 0
    received_cents: int = 0
    verified_cents: int = 0
    cancelled_cents: int = 0

    @property
    def remaining_cents(self) -> int:
        return self.pledged_cents - self.received_cents - self.cancelled_cents


def totals(pledges) -> Totals:
    subquery = pledges.order_by(None).subquery()
    row = db.session.execute(sa.select(*(
        sa.func.coalesce(sa.func.sum(subquery.c[name]), 0)
        for name in ("pledged_cents", "received_cents", "verified_cents", "cancelled_cents")))).one()
    return Totals(*(int(value) for value in row))


def entries_net(entries) -> int:
    """The sum of the amounts of the entries ``entries`` selects."""
    subquery = entries.order_by(None).subquery()
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(subquery.c.amount_cents), 0))))


CSV_COLUMNS = ["entry_id", "occurred_at", "kind", "amount", "pledge_id", "organization", "institute",
               "fiscal_year", "pledge_kind", "reverses_entry", "verifies_entry", "received_on", "recorded_by",
               "reason"]


def entries_csv(entries) -> str:
    from portal.services.memberships import _csv_safe

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in db.session.scalars(entries):
        whole, cents = divmod(abs(e.amount_cents), 100)
        writer.writerow([
            e.id, e.occurred_at.isoformat(timespec="seconds"), e.kind,
            f"{'-' if e.amount_cents < 0 else ''}{whole}.{cents:02d}", e.pledge_id,
            _csv_safe(e.pledge.organization.name), e.pledge.institute.acronym, e.pledge.fiscal_year,
            e.pledge.kind, e.reverses_id or "", e.verifies_id or "", e.received_on or "",
            _csv_safe(e.actor.full_name) if e.actor else "", _csv_safe(e.reason or ""),
        ])
    return out.getvalue()


def entries_of(pledge: Pledge) -> list[LedgerEntry]:
    return list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.pledge_id == pledge.id)
                                   .options(so.joinedload(LedgerEntry.actor))
                                   .order_by(LedgerEntry.occurred_at, LedgerEntry.id)))


# Schedules -----------------------------------------------------------------------------------

def instalments_due(*, organization: Organization | None = None, within_days: int = DUE_SOON_DAYS,
                    on: date | None = None) -> list[Instalment]:
    """Instalments falling due in the next ``within_days`` days on pledges still open."""
    on = on or datetime.now(UTC).date()
    query = (sa.select(Instalment).join(Instalment.pledge)
             .where(Instalment.due_on >= on, Instalment.due_on <= on + timedelta(days=within_days),
                    Pledge.pledged_cents - Pledge.received_cents - Pledge.cancelled_cents > 0)
             .options(so.contains_eager(Instalment.pledge).joinedload(Pledge.institute),
                      so.contains_eager(Instalment.pledge).joinedload(Pledge.organization))
             .order_by(Instalment.due_on))
    if organization is not None:
        query = query.where(Pledge.organization_id == organization.id)
    return list(db.session.scalars(query))


def remind(on: date | None = None, within_days: int = 30) -> int:
    """Notify organizations of instalments due within ``within_days`` days, once per instalment."""
    count = 0
    for instalment in instalments_due(within_days=within_days, on=on):
        if instalment.reminded_at is not None:
            continue
        instalment.reminded_at = utcnow()
        pledge = instalment.pledge
        notifications.notify(
            admins_of(pledge.organization),
            f"An instalment of {_dollars(instalment.amount_cents)} on your FY{pledge.fiscal_year} pledge to "
            f"{pledge.institute.acronym} is due on {instalment.due_on:%-d %B %Y}.",
            "ledger.pledge", pledge_id=pledge.id)
        count += 1
    return count


# Reconciliation ------------------------------------------------------------------------------

def reconcile() -> list[str]:
    """Recompute every pledge's totals from its entries and check the ledger's rules; list each difference."""
    problems: list[str] = []
    original = so.aliased(LedgerEntry)
    bucket = sa.func.coalesce(original.kind, LedgerEntry.kind)
    sums: dict[int, dict[str, int]] = {}
    for pledge_id, kind, amount in db.session.execute(
            sa.select(LedgerEntry.pledge_id, bucket, sa.func.sum(LedgerEntry.amount_cents))
            .outerjoin(original, LedgerEntry.reverses_id == original.id)
            .group_by(LedgerEntry.pledge_id, bucket)):
        sums.setdefault(pledge_id, {})[TOTAL_OF[EntryKind(kind)]] = int(amount)
    pledges = sa.select(Pledge).options(so.selectinload(Pledge.instalments)).order_by(Pledge.id)
    for pledge in db.session.scalars(pledges):
        computed = sums.get(pledge.id, {})
        for name in ("pledged", "received", "verified", "cancelled"):
            stored = getattr(pledge, f"{name}_cents")
            if computed.get(name, 0) != stored:
                problems.append(f"pledge {pledge.id}: {name} is {stored} cents on the pledge but "
                                f"{computed.get(name, 0)} from its entries")
        if pledge.remaining_cents < 0:
            problems.append(f"pledge {pledge.id}: overdrawn by {-pledge.remaining_cents} cents")
        if pledge.verified_cents > pledge.received_cents:
            problems.append(f"pledge {pledge.id}: more verified than received")
        scheduled = sum(i.amount_cents for i in pledge.instalments)
        if pledge.instalments and scheduled != computed.get("pledged", 0):
            problems.append(f"pledge {pledge.id}: instalments add up to {scheduled} cents, "
                            f"not the {computed.get('pledged', 0)} pledged")
    for entry, reversed_entry in db.session.execute(
            sa.select(LedgerEntry, original).join(original, LedgerEntry.reverses_id == original.id)):
        if entry.amount_cents != -reversed_entry.amount_cents or entry.pledge_id != reversed_entry.pledge_id:
            problems.append(f"entry {entry.id}: does not exactly reverse entry {reversed_entry.id}")
        if reversed_entry.kind == EntryKind.REVERSAL:
            problems.append(f"entry {entry.id}: reverses a reversal")
    for entry, receipt in db.session.execute(
            sa.select(LedgerEntry, original).join(original, LedgerEntry.verifies_id == original.id)):
        if receipt.kind != EntryKind.RECEIPT or entry.amount_cents != receipt.amount_cents:
            problems.append(f"entry {entry.id}: verification does not match receipt {receipt.id}")
    return problems


def network_totals() -> Totals:
    return totals(sa.select(Pledge))


def status_choices() -> list[PledgeStatus]:
    return list(PledgeStatus)
