"""Pledges of co-investment, and cancelling what remains of one."""

from dataclasses import dataclass, field
from datetime import date

from portal.extensions import db
from portal.models import (
    EntryKind,
    Instalment,
    Institute,
    LedgerEntry,
    Organization,
    Pledge,
    PledgeKind,
    User,
)
from portal.services import DomainError, audit, dates, summary
from portal.services.ledger.entries import (
    _check_key,
    _entry,
    _lock,
    _move_totals,
    check_fiscal_year,
    has_active_membership,
)
from portal.services.parsing import format_cents

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
    dates.check_fiscal_year_for_institute(data.fiscal_year, institute.founded_year)
    dates.check_instalments([due for due, _ in data.schedule], data.fiscal_year)
    if data.schedule:
        total = sum(amount for _, amount in data.schedule)
        if total != data.amount_cents:
            raise DomainError("schedule", f"The instalments add up to {format_cents(total)}, not the "
                                          f"{format_cents(data.amount_cents)} pledged")
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
