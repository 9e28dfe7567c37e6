"""Federal obligations and the 1:1 match of non-federal against federal money."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    FederalObligation,
    Institute,
    Pledge,
    User,
)
from portal.services import DomainError, audit, dates, summary
from portal.services.ledger.entries import _add_keyed, _check_key, check_fiscal_year
from portal.services.parsing import format_cents

# Federal side --------------------------------------------------------------------------------

def record_federal_obligation(actor: User, institute: Institute, *, fiscal_year: int, amount_cents: int,
                              note: str = "", key: str | None) -> FederalObligation:
    """Record federal money obligated to an institute; a negative amount corrects an earlier one."""
    _check_key(FederalObligation, key)
    check_fiscal_year(fiscal_year)
    dates.check_fiscal_year_for_institute(fiscal_year, institute.founded_year)
    if amount_cents == 0:
        raise DomainError("amount", "Enter an amount other than zero")
    if amount_cents < 0:
        standing = federal_total(institute, fiscal_year)
        if standing + amount_cents < 0:
            raise DomainError("amount", f"A correction cannot take FY{fiscal_year} below zero "
                                        f"({format_cents(standing)} is recorded)")
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
                                    f"({format_cents(federal_total(institute, fiscal_year))} is recorded)",
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
