"""Listing, totals, CSV export, installment reminders and reconciliation of the ledger."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    EntryKind,
    Figure,
    Instalment,
    Institute,
    LedgerEntry,
    Organization,
    Pledge,
    PledgeStatus,
    Summary,
    User,
    name_key,
)
from portal.models.base import utcnow
from portal.services import csvfile, notifications, summary
from portal.services.clock import long_date
from portal.services.ledger.entries import TOTAL_OF
from portal.services.organizations import admins_of
from portal.services.parsing import format_cents

DUE_SOON_DAYS = 90


# Listing, filters and export -----------------------------------------------------------------

@dataclass(frozen=True)
class LedgerFilters:
    fiscal_year: int | None = None
    kind: str = ""
    status: str = ""
    organization_id: int | None = None
    organization_name: str = ""  # all or part of the name, any case


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
    if filters.organization_name:
        query = query.where(Pledge.organization_id.in_(
            sa.select(Organization.id).where(Organization.name_key.contains(name_key(filters.organization_name),
                                                                           autoescape=True))))
    return query.order_by(Pledge.fiscal_year.desc(), Pledge.id.desc())


def entries_query(pledges):
    """The ledger entries of the pledges selected by ``pledges`` (a pledges_query), each with who recorded it."""
    ids = pledges.with_only_columns(Pledge.id).order_by(None)
    return (sa.select(LedgerEntry).where(LedgerEntry.pledge_id.in_(ids))
            .options(so.joinedload(LedgerEntry.actor).load_only(User.full_name))
            .order_by(LedgerEntry.occurred_at, LedgerEntry.id))


@dataclass
class Totals:
    """What the pledges add up to: each total on its own (never a sum of unlike entries). Cost share of
    proposals not yet approved is in none of them: ``conditional_cents`` is what remains of it."""

    pledged_cents: int = 0
    received_cents: int = 0
    verified_cents: int = 0
    cancelled_cents: int = 0
    conditional_cents: int = 0

    @property
    def remaining_cents(self) -> int:
        """Still to come."""
        return self.pledged_cents - self.received_cents - self.cancelled_cents


def totals(pledges) -> Totals:
    """The totals of the pledges ``pledges`` (a pledges_query) selects, counted ones only (see Totals)."""
    ids = pledges.with_only_columns(Pledge.id).order_by(None)
    names = ("pledged_cents", "received_cents", "verified_cents", "cancelled_cents")
    remaining = Pledge.pledged_cents - Pledge.received_cents - Pledge.cancelled_cents
    row = db.session.execute(sa.select(
        *(sa.func.coalesce(sa.func.sum(sa.case((summary.counted(), Pledge.__table__.c[name]), else_=0)), 0)
          for name in names),
        sa.func.coalesce(sa.func.sum(sa.case((summary.counted(), 0), else_=remaining)), 0))
        .where(Pledge.id.in_(ids))).one()
    return Totals(*(int(value) for value in row))


def institute_totals(institute: Institute, filters: LedgerFilters = LedgerFilters()) -> Totals:
    """``totals`` of the institute's pledges under ``filters``. Unfiltered or by fiscal year alone, the counted
    totals come from the summary figures (a few rows at any size of the ledger) and the conditional part from
    the pledges committed to proposals; any other filter sums the pledges it selects."""
    if filters.kind or filters.status or filters.organization_id or filters.organization_name:
        return totals(pledges_query(institute=institute, filters=filters))
    keys = Summary.key.like(f"{filters.fiscal_year}:%") if filters.fiscal_year else sa.true()
    sums = dict.fromkeys(summary.MONEY_TOTALS, 0)
    for key, value in db.session.execute(sa.select(Summary.key, Summary.value).where(
            Summary.scope == institute.id, Summary.figure == Figure.MONEY, keys)):
        sums[key.partition(":")[2]] += value
    remaining = Pledge.pledged_cents - Pledge.received_cents - Pledge.cancelled_cents
    conditional = (sa.select(sa.func.coalesce(sa.func.sum(remaining), 0))
                   .where(Pledge.institute_id == institute.id, Pledge.proposal_id.is_not(None), ~summary.counted()))
    if filters.fiscal_year:
        conditional = conditional.where(Pledge.fiscal_year == filters.fiscal_year)
    return Totals(pledged_cents=sums["pledged"], received_cents=sums["received"], verified_cents=sums["verified"],
                  cancelled_cents=sums["cancelled"], conditional_cents=int(db.session.scalar(conditional) or 0))


def conditional_ids(pledges, among: list[int] | None = None) -> set[int]:
    """Which of the pledges ``pledges`` selects (of those with ids ``among``, when given: a page of them) are
    cost share of a proposal not yet approved (or released)."""
    ids = pledges.with_only_columns(Pledge.id).order_by(None)
    query = sa.select(Pledge.id).where(Pledge.id.in_(ids), Pledge.proposal_id.is_not(None), ~summary.counted())
    if among is not None:
        query = query.where(Pledge.id.in_(among))
    return set(db.session.scalars(query))


CSV_COLUMNS = ["entry_id", "occurred_at", "kind", "amount", "pledge_id", "organization", "institute",
               "fiscal_year", "pledge_kind", "reverses_entry", "verifies_entry", "received_on", "recorded_by",
               "reason"]


def entries_csv(entries) -> Iterator[str]:
    """The entries ``entries`` (an entries_query) selects, as CSV text in pieces: only the columns the file
    holds, read in batches (a server-side cursor on PostgreSQL), so memory does not grow with the rows."""
    actor = so.aliased(User)
    rows = (sa.select(LedgerEntry.id, LedgerEntry.occurred_at, LedgerEntry.kind, LedgerEntry.amount_cents,
                      LedgerEntry.pledge_id, Organization.name, Institute.acronym, Pledge.fiscal_year, Pledge.kind,
                      LedgerEntry.reverses_id, LedgerEntry.verifies_id, LedgerEntry.received_on, actor.full_name,
                      LedgerEntry.reason)
            .join(Pledge, Pledge.id == LedgerEntry.pledge_id)
            .join(Organization, Organization.id == Pledge.organization_id)
            .join(Institute, Institute.id == Pledge.institute_id)
            .outerjoin(actor, actor.id == LedgerEntry.actor_id)
            .where(entries.whereclause).order_by(LedgerEntry.occurred_at, LedgerEntry.id))

    def row(e) -> list:
        whole, cents = divmod(abs(e[3]), 100)
        return [e[0], e[1].isoformat(timespec="seconds"), e[2], f"{'-' if e[3] < 0 else ''}{whole}.{cents:02d}",
                e[4], e[5], e[6], e[7], e[8], e[9] or "", e[10] or "", e[11] or "", e[12] or "", e[13] or ""]

    return csvfile.stream(CSV_COLUMNS, (row(e) for e in csvfile.rows_of(rows)))


def entries_of(pledge: Pledge) -> list[LedgerEntry]:
    return list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.pledge_id == pledge.id)
                                   .options(so.joinedload(LedgerEntry.actor))
                                   .order_by(LedgerEntry.occurred_at, LedgerEntry.id)))


# Schedules -----------------------------------------------------------------------------------

def instalments_due(*, organization: Organization | None = None, within_days: int = DUE_SOON_DAYS,
                    on: date | None = None) -> list[Instalment]:
    """Installments falling due in the next ``within_days`` days on pledges still open."""
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
    """Notify organizations of installments due within ``within_days`` days, once per installment."""
    count = 0
    for instalment in instalments_due(within_days=within_days, on=on):
        if instalment.reminded_at is not None:
            continue
        instalment.reminded_at = utcnow()
        pledge = instalment.pledge
        notifications.notify(
            admins_of(pledge.organization),
            f"An installment of {format_cents(instalment.amount_cents)} on your FY{pledge.fiscal_year} pledge to "
            f"{pledge.institute.acronym} is due on {long_date(instalment.due_on)}.",
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
            problems.append(f"pledge {pledge.id}: installments add up to {scheduled} cents, "
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
