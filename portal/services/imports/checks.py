"""Checking each row of an import file against the portal's rules, and what each kind would create.

Every problem is kept with its row and column (all of them, not the first); nothing is written here. The
rules are the portal's own: organizations as registration makes them, dates through ``services.dates`` with
``historical=True`` (the founding year bounds them, not today's windows), amounts through ``parse_cents``,
fiscal years as the ledger takes them.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.geography import US_STATES
from portal.models import (
    Audience,
    EntryKind,
    FederalObligation,
    ImportBatch,
    ImportKind,
    ImportStatus,
    Institute,
    LedgerEntry,
    Membership,
    MembershipStatus,
    Organization,
    OrgSize,
    OutreachEvent,
    Pledge,
    PledgeKind,
    ProjectCall,
    Proposal,
    ProposalStatus,
    Sector,
    Tier,
    name_key,
)
from portal.services import DomainError, clock, dates, organizations
from portal.services.imports import columns
from portal.services.imports.reading import Table
from portal.services.ledger.entries import check_fiscal_year, check_within_remaining
from portal.services.ledger.pledges import check_pledge_kind
from portal.services.memberships.applications import check_one_live, check_tier
from portal.services.parsing import parse_cents
from portal.services.proposals.drafts import check_target_level
from portal.services.proposals.projects import check_level_reached
from portal.services.workforce import check_outreach_counts

Progress = Callable[[int], None]
CHUNK = 1000
REF_MAX = 100
TERMS = (MembershipStatus.ACTIVE, MembershipStatus.LAPSED, MembershipStatus.ENDED)


@dataclass(frozen=True)
class Problem:
    row: int | None  # None: the file as a whole
    column: str | None
    message: str


@dataclass
class Plan:
    """What a file would do: its problems, the records it would create, the rows already in the portal."""

    kind: ImportKind
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    present: list[int] = field(default_factory=list)  # rows already in the portal: nothing created for them

    @property
    def creates(self) -> dict[str, int]:
        return creates_of(self.kind, self.records)

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(row, column, message))


def creates_of(kind: ImportKind, records: list[dict[str, Any]]) -> dict[str, int]:
    if kind == ImportKind.RECEIPTS:
        return {"receipts": len(records), "verifications": sum(1 for r in records if r["verified_on"])}
    name = {ImportKind.FEDERAL: "federal obligations", ImportKind.WORKFORCE: "workforce counts"}.get(kind, str(kind))
    return {name: len(records)}


def at_noon(day: date) -> datetime:
    """A day of the past as a moment: noon UTC, the same calendar day across the United States."""
    return datetime.combine(day, time(12), tzinfo=UTC)


class Row:
    """One row's cells, read column by column; every problem goes on the plan with the row and column."""

    def __init__(self, plan: Plan, number: int, cells: dict[str, str]):
        self.plan, self.number, self.cells, self.ok = plan, number, cells, True

    def fail(self, column: str | None, message: str) -> None:
        self.ok = False
        self.plan.add(self.number, column, message)

    def rule(self, check: Callable[..., Any], *args, columns_of: dict[str, str] | None = None,
             default: str | None = None, **kwargs):
        """Run ``check(*args, **kwargs)``, one of the portal's rules; its DomainError lands on the column its
        field names (``columns_of`` renames fields to columns; ``default`` for a field with no column)."""
        try:
            return check(*args, **kwargs)
        except DomainError as error:
            column = (columns_of or {}).get(error.field or "", error.field if error.field in self.cells else default)
            self.fail(column, error.message)
            return None

    def text(self, column: str, *, limit: int | None = None, required: bool = False) -> str:
        value = " ".join(self.cells.get(column, "").split())
        if required and not value:
            self.fail(column, f"Fill in {column}")
        elif limit is not None and len(value) > limit:
            self.fail(column, f"{column} has at most {limit} characters ({len(value)} given)")
        return value

    def day(self, column: str, *, required: bool = True) -> date | None:
        value = self.cells.get(column, "").strip()
        if not value:
            if required:
                self.fail(column, f"Fill in {column} as YYYY-MM-DD")
            return None
        try:
            if len(value) != 10:  # fromisoformat also reads 20180930 and week dates; only YYYY-MM-DD is meant
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.fail(column, f"{value!r} is not a date written YYYY-MM-DD")
            return None

    def cents(self, column: str) -> int | None:
        return self.rule(parse_cents, self.cells.get(column, ""), column, default=column)

    def year(self, column: str = "fiscal_year") -> int | None:
        value = self.cells.get(column, "").strip()
        if not value.isdigit() or len(value) != 4:
            self.fail(column, f"Write the fiscal year as four digits, such as 2018 ({value!r} given)")
            return None
        return self.rule(check_fiscal_year, int(value), column, default=column)


class Lookups:
    """The portal's rows a file names, read in a few queries whatever the file's size."""

    def __init__(self) -> None:
        self.institutes = {i.acronym.casefold(): i for i in db.session.scalars(sa.select(Institute))}
        self.institutes.update({i.slug: i for i in list(self.institutes.values())})
        self.tiers = {(t.institute_id, t.name.casefold()): t for t in db.session.scalars(sa.select(Tier))}

    def institute(self, row: Row, column: str = "institute") -> Institute | None:
        value = row.text(column, required=True)
        if not value:
            return None
        institute = self.institutes.get(value.casefold())
        if institute is None:
            row.fail(column, f"No institute is called {value!r}; use its acronym, such as America Makes or MxD")
        return institute


def _chunks(values: Iterable, size: int = CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def organization_ids(keys: Iterable[str]) -> dict[str, int]:
    """Organization ids by name key, for the keys given."""
    found: dict[str, int] = {}
    for chunk in _chunks(set(keys)):
        found.update((key, id_) for key, id_ in db.session.execute(
            sa.select(Organization.name_key, Organization.id).where(Organization.name_key.in_(chunk))))
    return found


def standing(column) -> sa.ColumnElement[bool]:
    """Records made in the portal, or by an import batch that was not undone."""
    undone = sa.select(ImportBatch.id).where(ImportBatch.status == ImportStatus.UNDONE)
    return sa.or_(column.is_(None), column.not_in(undone))


def _tick(progress: Progress | None, count: int) -> None:
    if progress is not None and count % CHUNK == 0:
        progress(CHUNK)


# Organizations -------------------------------------------------------------------------------

ORGANIZATION_FIELDS = {"organization": "name"}


def _uei(row: Row) -> str | None:
    value = row.text("uei").upper()
    if value and (len(value) != 12 or not value.isalnum() or not value.isascii()):
        row.fail("uei", f"A UEI is 12 letters and digits ({value!r} given)")
    return value or None


def _ein(row: Row) -> str | None:
    value = row.text("ein").replace("-", "")
    if value and (len(value) != 9 or not value.isdigit() or not value.isascii()):
        row.fail("ein", f"An EIN is 9 digits, written NN-NNNNNNN ({row.cells.get('ein')!r} given)")
        return None
    return f"{value[:2]}-{value[2:]}" if value else None


def check_organizations(table: Table, plan: Plan, progress: Progress | None) -> None:
    existing = organization_ids(name_key(cells.get("name", "")) for _, cells in table.rows)
    ueis = {cells.get("uei", "").strip().upper() for _, cells in table.rows} - {""}
    uei_owner: dict[str, str] = {}
    for chunk in _chunks(ueis):
        uei_owner.update((str(uei), key) for uei, key in db.session.execute(
            sa.select(Organization.uei, Organization.name_key).where(Organization.uei.in_(chunk))))
    seen_names: dict[str, int] = {}
    seen_ueis: dict[str, int] = {}
    for count, (number, cells) in enumerate(table.rows, start=1):
        _tick(progress, count)
        row = Row(plan, number, cells)
        row.text("name", required=True, limit=200)
        sector, size, state = row.text("sector").lower(), row.text("size").lower(), row.text("state").upper()
        if sector not in set(Sector):
            row.fail("sector", f"sector is one of {', '.join(Sector)} ({sector!r} given)")
        elif sector == Sector.INDUSTRY and size not in set(OrgSize):
            row.fail("size", f"For industry, size is small (under 500 employees) or large ({size!r} given)")
        elif sector != Sector.INDUSTRY and size:
            row.fail("size", "Leave size empty for organizations outside industry")
        if state not in US_STATES:
            row.fail("state", f"state is a two-letter US state or territory code, such as OH ({state!r} given)")
        made = row.rule(organizations.new_organization, organizations.OrganizationChoice(
            name=row.cells.get("name", ""), sector=sector or None, size=size or None, state=state or None),
            columns_of=ORGANIZATION_FIELDS) if row.ok else None
        city = row.text("city", limit=100)
        website = row.rule(organizations.clean_website, row.cells.get("website", ""))
        uei, ein = _uei(row), _ein(row)
        if made is None:
            continue
        key = made.name_key
        if key in seen_names:
            row.fail("name", f"{made.name} is already on row {seen_names[key]}")
        seen_names.setdefault(key, number)
        if uei:
            if uei in seen_ueis:
                row.fail("uei", f"UEI {uei} is already on row {seen_ueis[uei]}")
            seen_ueis.setdefault(uei, number)
            if uei in uei_owner and uei_owner[uei] != key:
                row.fail("uei", f"UEI {uei} belongs to another organization in the portal")
        if not row.ok:
            continue
        if key in existing:
            plan.present.append(number)
            continue
        plan.records.append({"name": made.name, "name_key": key, "sector": made.sector, "size": made.size,
                             "state": made.state, "city": city, "website": website or "", "uei": uei,
                             "ein": ein, "description": "", "listed": True})


# Memberships ---------------------------------------------------------------------------------

def _terms(org_ids: Iterable[int]) -> dict[tuple[int, int], list[tuple[date, date, str]]]:
    """Each organization's terms and live applications per institute, as the portal holds them."""
    terms: dict[tuple[int, int], list[tuple[date, date, str]]] = defaultdict(list)
    for chunk in _chunks(set(org_ids)):
        for org_id, institute_id, starts_on, ends_on, status in db.session.execute(
                sa.select(Membership.organization_id, Membership.institute_id, Membership.starts_on,
                          Membership.ends_on, Membership.status)
                .where(Membership.organization_id.in_(chunk),
                       Membership.status.in_([*TERMS, MembershipStatus.PENDING]))):
            terms[(org_id, institute_id)].append((starts_on or date.max, ends_on or date.max, str(status)))
    return terms


def _organization(row: Row, ids: dict[str, int], column: str = "organization") -> int | None:
    value = row.text(column, required=True)
    if not value:
        return None
    found = ids.get(name_key(value))
    if found is None:
        row.fail(column, f"No organization called {value!r} is in the portal; import it with the "
                         "organizations first")
    return found


def check_memberships(table: Table, plan: Plan, progress: Progress | None) -> None:
    lookups, today = Lookups(), clock.today()
    ids = organization_ids(name_key(cells.get("organization", "")) for _, cells in table.rows)
    held = _terms(ids.values())
    in_file: dict[tuple[int, int], list[tuple[date, date, int]]] = defaultdict(list)
    for count, (number, cells) in enumerate(table.rows, start=1):
        _tick(progress, count)
        row = Row(plan, number, cells)
        org_id, institute = _organization(row, ids), lookups.institute(row)
        tier_name = row.text("tier", required=True)
        tier = row.rule(check_tier, lookups.tiers.get((institute.id, tier_name.casefold())), institute,
                        name=tier_name, historical=True) if institute and tier_name else None
        starts_on, ends_on = row.day("starts_on"), row.day("ends_on")
        decided_on = row.day("decided_on", required=False) or starts_on
        applied_on = row.day("applied_on", required=False) or decided_on
        contact_name = row.text("contact_name", limit=120)
        contact_email = row.text("contact_email", limit=254)
        if contact_email and "@" not in contact_email:
            row.fail("contact_email", f"{contact_email!r} is not an email address")
        if starts_on and ends_on and institute is not None:
            row.rule(dates.check_membership_term, starts_on, ends_on, institute.founded_year, today=today,
                     historical=True)
        elif starts_on and ends_on and ends_on <= starts_on:
            row.fail("ends_on", "The term must end after it starts")
        if applied_on and decided_on and decided_on < applied_on:
            row.fail("decided_on", "The decision cannot come before the application")
        if decided_on and decided_on > today:
            row.fail("decided_on", "The decision date cannot be in the future")
        if not row.ok or org_id is None or institute is None or tier is None:
            continue
        assert starts_on is not None and ends_on is not None and applied_on is not None and decided_on is not None
        pair = (org_id, institute.id)
        if any(start == starts_on and status != MembershipStatus.PENDING for start, _, status in held[pair]):
            plan.present.append(number)
            continue
        clash = next((start for start, end, status in held[pair]
                      if status != MembershipStatus.PENDING and start <= ends_on and starts_on <= end), None)
        if clash is not None:
            row.fail("starts_on", f"This term overlaps a membership of the same organization and institute "
                                  f"in the portal (from {clash.isoformat()})")
            continue
        overlap = next((other for start, end, other in in_file[pair] if start <= ends_on and starts_on <= end), None)
        if overlap is not None:
            row.fail("starts_on", f"This term overlaps the term on row {overlap} for the same organization "
                                  "and institute")
            continue
        in_force = ends_on >= today
        live = next((MembershipStatus(status) for *_, status in held[pair] if status == MembershipStatus.PENDING),
                    None)
        if in_force:
            row.rule(check_one_live, row.cells.get("organization", ""), institute, live)
            if not row.ok:
                continue
        in_file[pair].append((starts_on, ends_on, number))
        plan.records.append({
            "organization_id": org_id, "institute_id": institute.id, "tier_id": tier.id,
            "status": MembershipStatus.ACTIVE if in_force else MembershipStatus.LAPSED,
            "statement": "", "contact_name": contact_name, "contact_email": contact_email,
            "applied_at": at_noon(applied_on), "decided_at": at_noon(decided_on),
            "starts_on": starts_on, "ends_on": ends_on})


# Pledges --------------------------------------------------------------------------------------

def imported_pledges(refs: Iterable[str]) -> dict[str, sa.Row]:
    """What a receipt needs of the pledges of standing batches, by their file key (rows, not loaded objects:
    a file names up to 200,000)."""
    found: dict[str, sa.Row] = {}
    remaining = Pledge.pledged_cents - Pledge.received_cents - Pledge.cancelled_cents
    for chunk in _chunks(set(refs)):
        found.update((str(p.import_ref), p) for p in db.session.execute(
            sa.select(Pledge.import_ref, Pledge.id, Pledge.institute_id, Pledge.fiscal_year, Pledge.created_at,
                      remaining.label("remaining_cents"))
            .where(Pledge.import_ref.in_(chunk), standing(Pledge.import_batch_id))))
    return found


def _ref(row: Row, column: str, seen: dict[str, int]) -> str:
    ref = row.text(column, required=True, limit=REF_MAX)
    if ref in seen:
        row.fail(column, f"{column} {ref} is already on row {seen[ref]}")
    elif ref:
        seen[ref] = row.number
    return ref


def check_pledges(table: Table, plan: Plan, progress: Progress | None) -> None:
    lookups, today = Lookups(), clock.today()
    ids = organization_ids(name_key(cells.get("organization", "")) for _, cells in table.rows)
    present = imported_pledges(cells.get("pledge_ref", "").strip() for _, cells in table.rows)
    members: set[tuple[int, int]] = set()
    for chunk in _chunks(set(ids.values())):
        members.update((org_id, institute_id) for org_id, institute_id in db.session.execute(
            sa.select(Membership.organization_id, Membership.institute_id)
            .where(Membership.organization_id.in_(chunk), Membership.status.in_(TERMS))))
    seen: dict[str, int] = {}
    for count, (number, cells) in enumerate(table.rows, start=1):
        _tick(progress, count)
        row = Row(plan, number, cells)
        ref = _ref(row, "pledge_ref", seen)
        org_id, institute = _organization(row, ids), lookups.institute(row)
        fiscal_year = row.year()
        kind = row.text("kind", required=True).lower().replace("-", "_").replace(" ", "_")
        amount = row.cents("amount")
        description = row.text("in_kind_description", limit=1000)
        if kind:
            row.rule(check_pledge_kind, kind, description)
        pledged_on = row.day("pledged_on")
        note = row.text("note", limit=1000)
        if pledged_on and pledged_on > today:
            row.fail("pledged_on", "The pledge date cannot be in the future")
        if institute is not None:
            if fiscal_year is not None:
                row.rule(dates.check_fiscal_year_for_institute, fiscal_year, institute.founded_year)
            if pledged_on is not None:
                row.rule(dates.check_not_before_founding, pledged_on, institute.founded_year, "pledged_on",
                         "The pledge date")
            if org_id is not None and (org_id, institute.id) not in members:
                row.fail("organization", f"{row.cells.get('organization')} has no membership of "
                                         f"{institute.acronym} in the portal; import its memberships first")
        if not row.ok:
            continue
        if ref in present:
            plan.present.append(number)
            continue
        assert institute is not None and amount is not None and pledged_on is not None
        plan.records.append({
            "import_ref": ref, "organization_id": org_id, "institute_id": institute.id, "kind": PledgeKind(kind),
            "fiscal_year": fiscal_year, "in_kind_description": description, "note": note,
            "pledged_cents": amount, "created_at": at_noon(pledged_on)})


# Receipts and verifications --------------------------------------------------------------------

def check_receipts(table: Table, plan: Plan, progress: Progress | None) -> None:
    today = clock.today()
    pledges = imported_pledges(cells.get("pledge_ref", "").strip() for _, cells in table.rows)
    refs = {cells.get("receipt_ref", "").strip() for _, cells in table.rows} - {""}
    present: set[str] = set()
    for chunk in _chunks(refs):
        present.update(db.session.scalars(sa.select(LedgerEntry.import_ref).where(
            LedgerEntry.import_ref.in_(chunk), LedgerEntry.kind == EntryKind.RECEIPT,
            standing(LedgerEntry.import_batch_id))))
    institutes = {i.id: i for i in db.session.scalars(sa.select(Institute))}
    remaining = {ref: pledge.remaining_cents for ref, pledge in pledges.items()}
    seen: dict[str, int] = {}
    for count, (number, cells) in enumerate(table.rows, start=1):
        _tick(progress, count)
        row = Row(plan, number, cells)
        ref = _ref(row, "receipt_ref", seen)
        pledge_ref = row.text("pledge_ref", required=True)
        pledge = pledges.get(pledge_ref)
        if pledge_ref and pledge is None:
            row.fail("pledge_ref", f"No pledge was imported as {pledge_ref}; import the pledges first")
        amount = row.cents("amount")
        received_on, verified_on = row.day("received_on"), row.day("verified_on", required=False)
        note = row.text("note", limit=1000)
        if received_on is not None and pledge is not None:
            institute = institutes[pledge.institute_id]
            row.rule(dates.check_received_on, received_on, fiscal_year=pledge.fiscal_year,
                     pledged_on=pledge.created_at.date(), founded_year=institute.founded_year, today=today,
                     historical=True)
        if verified_on is not None:
            if received_on is not None and verified_on < received_on:
                row.fail("verified_on", "A receipt cannot be verified before it was received")
            if verified_on > today:
                row.fail("verified_on", "The verification date cannot be in the future")
        if not row.ok:
            continue
        if ref in present:
            plan.present.append(number)
            continue
        assert pledge is not None and amount is not None
        row.rule(check_within_remaining, amount, remaining[pledge_ref], f"pledge {pledge_ref} after the rows above")
        if not row.ok:
            continue
        remaining[pledge_ref] -= amount
        plan.records.append({"import_ref": ref, "pledge_id": pledge.id, "institute_id": pledge.institute_id,
                             "amount_cents": amount,
                             "received_on": received_on, "verified_on": verified_on, "reason": note})


# Federal obligations ----------------------------------------------------------------------------

def check_federal(table: Table, plan: Plan, progress: Progress | None) -> None:
    lookups = Lookups()
    existing = {(institute_id, reference) for institute_id, reference in db.session.execute(
        sa.select(FederalObligation.institute_id, FederalObligation.reference)
        .where(FederalObligation.corrects_id.is_(None)))}
    seen: dict[tuple[int, str], int] = {}
    for count, (number, cells) in enumerate(table.rows, start=1):
        _tick(progress, count)
        row = Row(plan, number, cells)
        institute, fiscal_year, amount = lookups.institute(row), row.year(), row.cents("amount")
        reference = row.text("reference", required=True, limit=REF_MAX)
        note = row.text("note", limit=1000)
        if institute is not None and fiscal_year is not None:
            row.rule(dates.check_fiscal_year_for_institute, fiscal_year, institute.founded_year)
        if institute is not None and reference:
            if (institute.id, reference) in seen:
                row.fail("reference", f"{reference} of {institute.acronym} is already on row "
                                      f"{seen[(institute.id, reference)]}")
            seen.setdefault((institute.id, reference), number)
        if not row.ok:
            continue
        assert institute is not None
        if (institute.id, reference) in existing:
            plan.present.append(number)
            continue
        plan.records.append({"institute_id": institute.id, "fiscal_year": fiscal_year, "amount_cents": amount,
                             "reference": reference, "note": note})


# Workforce counts -------------------------------------------------------------------------------

def check_workforce(table: Table, plan: Plan, progress: Progress | None) -> None:
    lookups, today = Lookups(), clock.today()
    existing = {(institute_id, year, title) for institute_id, year, title in db.session.execute(
        sa.select(OutreachEvent.institute_id, OutreachEvent.fiscal_year, OutreachEvent.title))}
    seen: dict[tuple[int, int, str], int] = {}
    for count, (number, cells) in enumerate(table.rows, start=1):
        _tick(progress, count)
        row = Row(plan, number, cells)
        institute, fiscal_year = lookups.institute(row), row.year()
        title = row.text("title", required=True, limit=200)
        held_on = row.day("held_on", required=False)
        counts: dict[str, int | None] = {}
        for audience in Audience:
            value = row.cells.get(audience.value, "").strip().replace(",", "") or "0"
            if not value.isdigit() or not value.isascii() or len(value) > 9:
                row.fail(audience.value, f"{audience.value} is a whole number of people ({value!r} given)")
            else:
                counts[audience.value] = int(value)
        if len(counts) == len(Audience):
            counts = row.rule(check_outreach_counts, counts) or counts
        if institute is not None and fiscal_year is not None:
            row.rule(dates.check_fiscal_year_for_institute, fiscal_year, institute.founded_year)
            held_on = held_on or min(dates.fiscal_year_end(fiscal_year), today)
            if not dates.fiscal_year_start(fiscal_year) <= held_on <= dates.fiscal_year_end(fiscal_year):
                row.fail("held_on", f"{held_on.isoformat()} is outside FY{fiscal_year} (1 October "
                                    f"{fiscal_year - 1} to 30 September {fiscal_year})")
            elif held_on > today:
                row.fail("held_on", "The day it was held cannot be in the future")
        if institute is not None and fiscal_year is not None and title:
            key = (institute.id, fiscal_year, title)
            if key in seen:
                row.fail("title", f"{title} of {institute.acronym} for FY{fiscal_year} is already on row {seen[key]}")
            seen.setdefault(key, number)
        if not row.ok:
            continue
        assert institute is not None and fiscal_year is not None
        if (institute.id, fiscal_year, title) in existing:
            plan.present.append(number)
            continue
        plan.records.append({"institute_id": institute.id, "fiscal_year": fiscal_year, "title": title,
                             "held_on": held_on, **counts})


# Projects ---------------------------------------------------------------------------------------------

PROJECT_STATUSES = (ProposalStatus.APPROVED, ProposalStatus.ACTIVE, ProposalStatus.COMPLETED)


def imported_projects(refs: Iterable[str]) -> set[tuple[int, str]]:
    """(institute id, file key) of the projects of standing batches, for the keys given."""
    found: set[tuple[int, str]] = set()
    for chunk in _chunks(set(refs)):
        found.update((institute_id, str(ref)) for institute_id, ref in db.session.execute(
            sa.select(ProjectCall.institute_id, Proposal.import_ref).join(ProjectCall)
            .where(Proposal.import_ref.in_(chunk), standing(Proposal.import_batch_id))))
    return found


def _level(row: Row, column: str) -> int | None:
    value = row.cells.get(column, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 9):
        row.fail(column, f"{column} is a readiness level from 1 to 9 ({value!r} given)")
        return None
    return int(value)


def _optional_cents(row: Row, column: str) -> int | None:
    return row.cents(column) if row.cells.get(column, "").strip() else None


def _partners(row: Row, ids: dict[str, int], lead: int | None) -> list[int]:
    found: list[int] = []
    for name in (" ".join(n.split()) for n in row.cells.get("partners", "").split(";")):
        if not name:
            continue
        org_id = ids.get(name_key(name))
        if org_id is None:
            row.fail("partners", f"No organization called {name!r} is in the portal; import it with the "
                                 "organizations first")
        elif org_id == lead or org_id in found:
            row.fail("partners", f"{name} is named twice on the team (the lead is a partner already)")
        else:
            found.append(org_id)
    return found


def _project_dates(row: Row, status: str, founded_year: int | None, today: date) -> tuple[date | None, ...]:
    awarded_on = row.day("awarded_on")
    started_on = row.day("started_on", required=status in (ProposalStatus.ACTIVE, ProposalStatus.COMPLETED))
    completed_on = row.day("completed_on", required=status == ProposalStatus.COMPLETED)
    if status == ProposalStatus.APPROVED and started_on is not None:
        row.fail("started_on", "An approved project has not started; leave started_on empty or make it active")
    if status != ProposalStatus.COMPLETED and completed_on is not None:
        row.fail("completed_on", "Only a completed project has a completion date")
    if awarded_on and founded_year is not None:
        row.rule(dates.check_not_before_founding, awarded_on, founded_year, "awarded_on", "The award date")
    for column, day in (("awarded_on", awarded_on), ("started_on", started_on), ("completed_on", completed_on)):
        if day and day > today:
            row.fail(column, f"{column} cannot be in the future")
    if awarded_on and started_on and started_on < awarded_on:
        row.fail("started_on", "A project cannot start before it was awarded")
    if started_on and completed_on and completed_on <= started_on:
        row.fail("completed_on", "A project is completed after it started")
    return awarded_on, started_on, completed_on


def check_projects(table: Table, plan: Plan, progress: Progress | None) -> None:
    lookups, today = Lookups(), clock.today()
    names = [cells.get("lead_organization", "") for _, cells in table.rows]
    names += [name for _, cells in table.rows for name in cells.get("partners", "").split(";")]
    ids = organization_ids(name_key(name) for name in names)
    present = imported_projects(cells.get("project_ref", "").strip() for _, cells in table.rows)
    seen: dict[tuple[int, str], int] = {}
    for count, (number, cells) in enumerate(table.rows, start=1):
        _tick(progress, count)
        row = Row(plan, number, cells)
        institute = lookups.institute(row)
        ref = row.text("project_ref", required=True, limit=REF_MAX)
        title = row.text("title", required=True, limit=200)
        lead = _organization(row, ids, "lead_organization")
        partners = _partners(row, ids, lead)
        area = row.text("technology_area", limit=200)
        status = row.text("status", required=True).lower()
        if status and status not in PROJECT_STATUSES:
            row.fail("status", f"status is approved, active or completed ({status!r} given)")
        awarded_on, started_on, completed_on = _project_dates(
            row, status, institute.founded_year if institute else None, today)
        federal, cost_share = _optional_cents(row, "federal_amount"), _optional_cents(row, "cost_share")
        if federal == 0:
            row.fail("federal_amount", "federal_amount is above 0, or left empty")
        trl_start, trl_target, trl_reached = (_level(row, c) for c in ("trl_start", "trl_target", "trl_reached"))
        row.rule(check_target_level, trl_start, trl_target)
        if trl_reached is not None and status != ProposalStatus.COMPLETED:
            row.fail("trl_reached", "Only a completed project has a level reached")
        elif trl_reached is not None:
            row.rule(check_level_reached, trl_reached, trl_start)
        if institute is not None and ref:
            key = (institute.id, ref)
            if key in seen:
                row.fail("project_ref", f"{ref} of {institute.acronym} is already on row {seen[key]}")
            seen.setdefault(key, number)
        if not row.ok:
            continue
        assert institute is not None and lead is not None and awarded_on is not None
        if (institute.id, ref) in present:
            plan.present.append(number)
            continue
        plan.records.append({
            "institute_id": institute.id, "import_ref": ref, "title": title, "lead_organization_id": lead,
            "partners": partners, "technology_area": area, "status": ProposalStatus(status),
            "awarded_on": awarded_on, "started_on": started_on, "completed_on": completed_on,
            "federal_request_cents": federal, "cost_share_cents": cost_share, "trl_start": trl_start,
            "trl_target": trl_target, "trl_reached": trl_reached})


CHECKS: dict[ImportKind, Callable[[Table, Plan, Progress | None], None]] = {
    ImportKind.ORGANIZATIONS: check_organizations,
    ImportKind.MEMBERSHIPS: check_memberships,
    ImportKind.PLEDGES: check_pledges,
    ImportKind.RECEIPTS: check_receipts,
    ImportKind.FEDERAL: check_federal,
    ImportKind.WORKFORCE: check_workforce,
    ImportKind.PROJECTS: check_projects,
}


def check_header(kind: ImportKind, table: Table, plan: Plan) -> bool:
    """Row 1 names every required column of ``kind`` and no column it does not know."""
    header = [name for name in table.header if name]
    names = set(columns.names(kind))
    missing = [name for name in columns.required(kind) if name not in header]
    unknown = [name for name in header if name not in names]
    if missing or unknown:
        other = columns.kind_of_header(set(header))
        if other is not None and other != kind:
            plan.add(1, None, f"This looks like a file of {columns.LABELS[other].lower()}, not of "
                              f"{columns.LABELS[kind].lower()}: choose that kind, or the right file")
            return False
    for name in missing:
        plan.add(1, name, f"The column {name} is missing")
    for name in unknown:
        plan.add(1, name, f"{name} is not a column of this kind of file (the columns are "
                          f"{', '.join(columns.names(kind))})")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    for name in duplicated:
        plan.add(1, name, f"The column {name} is named twice")
    return not (missing or unknown or duplicated)
