"""Pledges of co-investment, cancelling what remains of one, and the cost share of proposals: counted at
approval, released when the proposal is declined, withdrawn or returned."""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    EntryKind,
    Instalment,
    Institute,
    LedgerEntry,
    Organization,
    Pledge,
    PledgeKind,
    Proposal,
    User,
)
from portal.services import DomainError, audit, dates, notifications, summary
from portal.services.ledger.entries import (
    _check_key,
    _entry,
    _lock,
    _move_totals,
    check_fiscal_year,
    has_active_membership,
)
from portal.services.memberships import is_staff, staff_users
from portal.services.organizations import admins_of
from portal.services.parsing import format_cents
from portal.services.wording import possessive

# Pledges -------------------------------------------------------------------------------------

@dataclass
class PledgeInput:
    amount_cents: int
    kind: str
    fiscal_year: int
    in_kind_description: str = ""
    note: str = ""
    schedule: list[tuple[date, int]] = field(default_factory=list)


def check_pledge_kind(kind: str, description: str) -> None:
    """A pledge is cash or in kind, and what is given in kind is described."""
    if kind not in set(PledgeKind):
        raise DomainError("kind", "Choose cash or in-kind")
    if kind == PledgeKind.IN_KIND and not description.strip():
        raise DomainError("in_kind_description", "Describe what is given in kind and how it was valued")


def record_pledge(actor: User, organization: Organization, institute: Institute, data: PledgeInput,
                  *, key: str | None, proposal: Proposal | None = None) -> Pledge:
    """Pledge co-investment to an institute the organization is an active member of; with ``proposal``, the
    cost share committed to it, which counts in no total until the proposal is approved."""
    _check_key(LedgerEntry, key)
    if not has_active_membership(organization, institute):
        raise DomainError("institute", f"{organization.name} has no active membership of {institute.acronym}; "
                                       "only members pledge co-investment")
    description = data.in_kind_description.strip()
    check_pledge_kind(data.kind, description)
    check_fiscal_year(data.fiscal_year)
    dates.check_fiscal_year_for_institute(data.fiscal_year, institute.founded_year)
    dates.check_instalments([due for due, _ in data.schedule], data.fiscal_year)
    if data.schedule:
        total = sum(amount for _, amount in data.schedule)
        if total != data.amount_cents:
            raise DomainError("schedule", f"The installments add up to {format_cents(total)}, not the "
                                          f"{format_cents(data.amount_cents)} pledged")
    pledge = Pledge(organization_id=organization.id, institute_id=institute.id, kind=data.kind,
                    fiscal_year=data.fiscal_year, in_kind_description=description if data.kind == PledgeKind.IN_KIND
                    else "", note=data.note.strip(), created_by_id=actor.id, pledged_cents=data.amount_cents,
                    proposal_id=proposal.id if proposal is not None else None,
                    instalments=[Instalment(due_on=due, amount_cents=amount) for due, amount in data.schedule])
    db.session.add(pledge)
    db.session.flush()
    _entry(actor, pledge, EntryKind.PLEDGE, data.amount_cents, key, reason=pledge.note)
    summary.pledge_recorded(pledge)
    audit.record(actor, "ledger.pledge", pledge, institute_id=institute.id,
                 details={"amount_cents": data.amount_cents, "kind": data.kind, "fiscal_year": data.fiscal_year})
    what = (f"{organization.name} pledged {format_cents(data.amount_cents)} ({data.kind.replace('_', ' ')}) to "
            f"{institute.acronym} for FY{data.fiscal_year}")
    if proposal is None:  # the institute follows its pledges; cost share waits for the proposal's decision
        notifications.notify(admins_of(organization) + staff_users(institute), f"{what}.", "ledger.pledge",
                             pledge_id=pledge.id, actor=actor)
    else:
        notifications.notify([*admins_of(organization), proposal.created_by],
                             f"{what} as cost share of “{proposal.title}”.", "ledger.pledge", pledge_id=pledge.id,
                             actor=actor)
    return pledge


def cancel_remainder(actor: User, pledge: Pledge, *, reason: str, key: str | None) -> LedgerEntry:
    """Cancel what has not been received, with a reason: the institute's administrators, or the pledging
    organization's admins for their own pledge. Cost share of a proposal not yet approved is released
    instead (for good: a release is not reversed). The organization's admins are told, and the institute's
    administrators when the organization cancels."""
    _check_key(LedgerEntry, key)
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Give the reason for cancelling")
    _lock(pledge)
    remaining = pledge.remaining_cents
    if remaining <= 0:
        raise DomainError(None, "Nothing remains on this pledge to cancel.", status=409)
    kind = EntryKind.CANCELLATION if summary.is_counted(pledge) else EntryKind.RELEASE
    entry = _entry(actor, pledge, kind, remaining, key, reason=reason)
    _move_totals(pledge, cancelled=remaining)
    audit.record(actor, f"ledger.{kind}", entry, institute_id=pledge.institute_id, reason=reason,
                 details={"pledge_id": pledge.id, "amount_cents": remaining})
    by_institute = actor.is_network_admin or is_staff(actor, pledge.institute)
    told = admins_of(pledge.organization) + ([] if by_institute else staff_users(pledge.institute))
    who = pledge.institute.acronym if by_institute else pledge.organization.name
    notifications.notify(told, f"{who} cancelled the remaining {format_cents(remaining)} of "
                               f"{possessive(pledge.organization.name)} FY{pledge.fiscal_year} pledge to "
                               f"{pledge.institute.acronym}: {reason}", "ledger.pledge", pledge_id=pledge.id,
                         actor=actor)
    return entry


# Cost share of proposals -----------------------------------------------------------------------

def cost_share_pledges(proposal: Proposal) -> list[Pledge]:
    return list(db.session.scalars(sa.select(Pledge).where(Pledge.proposal_id == proposal.id).order_by(Pledge.id)))


def cost_share_approved(proposal: Proposal) -> None:
    """The proposal was just approved: its cost share not released before counts from now on, all of it,
    in the same transaction as the approval."""
    summary.pledges_counted([pledge for pledge in cost_share_pledges(proposal) if summary.is_counted(pledge)])


def release_cost_share(actor: User, proposal: Proposal, *, reason: str) -> list[LedgerEntry]:
    """The proposal was declined, withdrawn or returned to draft: what remains of the cost share committed
    to it is released (an entry each, with ``reason``), and each partner's admins are told."""
    reason = reason[:1000]
    released = []
    for pledge in cost_share_pledges(proposal):
        _lock(pledge)
        remaining = pledge.remaining_cents
        if remaining <= 0 or summary.is_counted(pledge):
            continue
        entry = _entry(actor, pledge, EntryKind.RELEASE, remaining, None, reason=reason)
        _move_totals(pledge, cancelled=remaining)
        audit.record(actor, "ledger.release", entry, institute_id=pledge.institute_id, reason=reason,
                     details={"pledge_id": pledge.id, "amount_cents": remaining, "proposal_id": proposal.id})
        notifications.notify(admins_of(pledge.organization),
                             f"The {format_cents(remaining)} cost share {pledge.organization.name} committed to "
                             f"“{proposal.title}” is released: {reason}", "ledger.pledge", pledge_id=pledge.id,
                             actor=actor)
        released.append(entry)
    return released
