"""Federal obligations and the 1:1 match of non-federal against federal money."""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    NETWORK,
    FederalObligation,
    Figure,
    Institute,
    Summary,
    User,
)
from portal.services import DomainError, audit, dates, summary
from portal.services.ledger.entries import _add_keyed, _check_key, check_fiscal_year
from portal.services.parsing import format_cents

# Federal side --------------------------------------------------------------------------------

REFERENCE_MAX = 100


def _original(institute: Institute, reference: str) -> FederalObligation | None:
    return db.session.scalar(sa.select(FederalObligation).where(
        FederalObligation.institute_id == institute.id, FederalObligation.reference == reference,
        FederalObligation.corrects_id.is_(None)))


def standing_cents(original: FederalObligation) -> int:
    """An obligation with its corrections."""
    return int(db.session.scalar(sa.select(sa.func.sum(FederalObligation.amount_cents)).where(
        sa.or_(FederalObligation.id == original.id, FederalObligation.corrects_id == original.id))) or 0)


def record_federal_obligation(actor: User, institute: Institute, *, fiscal_year: int, amount_cents: int,
                              reference: str, note: str = "", key: str | None) -> FederalObligation:
    """Record federal money obligated to an institute under an award reference, once per reference; a
    negative amount corrects the obligation recorded under ``reference``, never below zero."""
    _check_key(FederalObligation, key)
    check_fiscal_year(fiscal_year)
    reference = " ".join(reference.split())
    if not reference:
        raise DomainError("reference", "Enter the award reference (the award or modification number)")
    if len(reference) > REFERENCE_MAX:
        raise DomainError("reference", f"An award reference has at most {REFERENCE_MAX} characters")
    dates.check_fiscal_year_for_institute(fiscal_year, institute.founded_year)
    if amount_cents == 0:
        raise DomainError("amount", "Enter an amount other than zero")
    original = _original(institute, reference)
    if amount_cents > 0 and original is not None:
        raise DomainError("reference", f"{reference} is already recorded for {institute.acronym} "
                                       f"(FY{original.fiscal_year}, {format_cents(original.amount_cents)}); "
                                       "to correct it, enter a negative amount under the same reference")
    if amount_cents < 0:
        if original is None:
            raise DomainError("reference", f"No obligation of {institute.acronym} is recorded under {reference}; "
                                           "a correction names the reference of the obligation it corrects")
        if original.fiscal_year != fiscal_year:
            raise DomainError("fiscal_year", f"{reference} is recorded for FY{original.fiscal_year}; "
                                             "a correction is for the same year")
        if not note.strip():
            raise DomainError("note", "Say what a negative correction corrects")
        db.session.refresh(original, with_for_update=True)  # corrections of one obligation queue up
        standing = standing_cents(original)
        if standing + amount_cents < 0:
            raise DomainError("amount", f"A correction cannot take {reference} below zero "
                                        f"({format_cents(standing)} is recorded under it)")
    obligation = FederalObligation(institute_id=institute.id, fiscal_year=fiscal_year, amount_cents=amount_cents,
                                   reference=reference,
                                   corrects_id=original.id if original is not None and amount_cents < 0 else None,
                                   note=note.strip(), actor_id=actor.id, idempotency_key=key or None)
    try:
        _add_keyed(obligation, FederalObligation)
    except IntegrityError as error:  # the same reference recorded at the same moment by someone else
        raise DomainError("reference", f"{reference} is already recorded for {institute.acronym}",
                          status=409) from error
    try:
        with db.session.begin_nested():
            summary.federal_recorded(institute.id, fiscal_year, amount_cents)
    except IntegrityError as error:  # a correction made at the same moment took the total lower first
        raise DomainError("amount", f"A correction cannot take FY{fiscal_year} below zero "
                                    f"({format_cents(federal_total(institute, fiscal_year))} is recorded)",
                          status=409) from error
    audit.record(actor, "ledger.federal_obligation", obligation, institute_id=institute.id,
                 details={"fiscal_year": fiscal_year, "amount_cents": amount_cents, "reference": reference,
                          "corrects_id": obligation.corrects_id})
    return obligation


def federal_total(institute: Institute, fiscal_year: int) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(FederalObligation.amount_cents), 0)).where(
        FederalObligation.institute_id == institute.id, FederalObligation.fiscal_year == fiscal_year)) or 0


@dataclass
class ObligationRow:
    """An original obligation, its corrections (oldest first) and what stands after them."""

    obligation: FederalObligation
    corrections: list[FederalObligation]

    @property
    def standing_cents(self) -> int:
        return self.obligation.amount_cents + sum(c.amount_cents for c in self.corrections)


def obligations(fiscal_year: int | None = None, institute: Institute | None = None) -> list[ObligationRow]:
    """Every original obligation with its corrections: newest fiscal year first, then institute and reference."""
    query = (sa.select(FederalObligation).options(so.joinedload(FederalObligation.institute),
                                                  so.joinedload(FederalObligation.actor))
             .order_by(FederalObligation.id))
    if fiscal_year is not None:
        query = query.where(FederalObligation.fiscal_year == fiscal_year)
    if institute is not None:
        query = query.where(FederalObligation.institute_id == institute.id)
    rows: dict[int, ObligationRow] = {}
    corrections: list[tuple[int, FederalObligation]] = []
    for obligation in db.session.scalars(query):
        if obligation.corrects_id is None:
            rows[obligation.id] = ObligationRow(obligation, [])
        else:
            corrections.append((obligation.corrects_id, obligation))
    for corrected, correction in corrections:
        rows[corrected].corrections.append(correction)
    return sorted(rows.values(), key=lambda r: (-r.obligation.fiscal_year, r.obligation.institute.acronym,
                                               r.obligation.reference))


@dataclass
class MatchRow:
    """Non-federal against federal money for one institute (or the network) and fiscal year (or all)."""

    label: str
    federal_cents: int
    pledged_cents: int  # pledged less cancelled; cost share of approved proposals only
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
    """One row per institute and a network total, read from the summary figures (a few rows per institute and
    year at any size of the ledger). Cost share committed to a proposal counts once the proposal is approved
    (``summary.counted``), as in the figures."""
    federal: dict[int, int] = {}
    pledged: dict[int, int] = {}
    verified: dict[int, int] = {}
    keys = (sa.or_(Summary.key == str(fiscal_year), Summary.key.like(f"{fiscal_year}:%"))
            if fiscal_year is not None else sa.true())
    for scope, figure, key, value in db.session.execute(
            sa.select(Summary.scope, Summary.figure, Summary.key, Summary.value)
            .where(Summary.figure.in_([Figure.FEDERAL, Figure.MONEY]), Summary.scope != NETWORK, keys)):
        name = key.partition(":")[2]
        if figure == Figure.FEDERAL:
            federal[scope] = federal.get(scope, 0) + value
        elif name in ("pledged", "cancelled"):
            pledged[scope] = pledged.get(scope, 0) + (value if name == "pledged" else -value)
        elif name == "verified":
            verified[scope] = verified.get(scope, 0) + value
    rows = [
        MatchRow(label=i.acronym, institute=i, federal_cents=int(federal.get(i.id) or 0),
                 pledged_cents=int(pledged.get(i.id) or 0), verified_cents=int(verified.get(i.id) or 0))
        for i in db.session.scalars(sa.select(Institute).order_by(Institute.acronym))
    ]
    total = MatchRow(label="Whole network", federal_cents=sum(r.federal_cents for r in rows),
                     pledged_cents=sum(r.pledged_cents for r in rows),
                     verified_cents=sum(r.verified_cents for r in rows))
    return rows, total
