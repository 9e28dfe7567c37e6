"""Receipts against a pledge, their verification by a second person, and reversals."""

from datetime import date

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    EntryKind,
    LedgerEntry,
    Pledge,
    User,
)
from portal.services import DomainError, audit, conflicts, dates, notifications, summary
from portal.services.ledger.entries import (
    REVERSIBLE,
    TOTAL_OF,
    _check_key,
    _entry,
    _lock,
    _move_totals,
    check_second_person,
    check_within_remaining,
)
from portal.services.memberships import staff_users
from portal.services.organizations import admins_of
from portal.services.parsing import format_cents

# Receipts, verification and reversal -------------------------------------------------------

def record_receipt(actor: User, pledge: Pledge, *, amount_cents: int, received_on: date, note: str = "",
                   key: str | None) -> LedgerEntry:
    """Record money (or in-kind value) received against a pledge; never more than remains."""
    _check_key(LedgerEntry, key)
    conflicts.require_impartial(actor, {pledge.organization_id}, "record receipts on its pledges")
    _lock(pledge)
    if not summary.is_counted(pledge):
        raise DomainError(None, "This is cost share of a proposal not yet approved: money is received against it "
                                "once the proposal is approved.", status=409)
    dates.check_received_on(received_on, fiscal_year=pledge.fiscal_year, pledged_on=pledge.created_at.date(),
                            founded_year=pledge.institute.founded_year)
    check_within_remaining(amount_cents, pledge.remaining_cents)
    entry = _entry(actor, pledge, EntryKind.RECEIPT, amount_cents, key, received_on=received_on, reason=note.strip())
    _move_totals(pledge, received=amount_cents)
    audit.record(actor, "ledger.receipt", entry, institute_id=pledge.institute_id,
                 details={"pledge_id": pledge.id, "amount_cents": amount_cents})
    notifications.notify(admins_of(pledge.organization),
                         f"{pledge.institute.acronym} recorded a receipt of {format_cents(amount_cents)} "
                         f"against your FY{pledge.fiscal_year} pledge.", "ledger.pledge", pledge_id=pledge.id,
                         actor=actor)
    notifications.notify(verifiers_of(pledge), f"A receipt of {format_cents(amount_cents)} from "
                                               f"{pledge.organization.name} awaits your verification.",
                         "ledger.pledge", pledge_id=pledge.id, actor=actor)
    return entry


def verifiers_of(pledge: Pledge) -> list[User]:
    """The institute's administrators who may verify receipts on ``pledge``: none of the pledging
    organization's own people (the recorder is left out by ``notify``)."""
    return [user for user in staff_users(pledge.institute)
            if not conflicts.own_organizations(user, {pledge.organization_id})]


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
    check_second_person(receipt.actor_id, actor.id)
    conflicts.require_impartial(actor, {receipt.pledge.organization_id}, "verify receipts on its pledges")
    if net_verified(receipt):
        raise DomainError(None, "This receipt is already verified.", status=409)
    pledge = receipt.pledge
    entry = _entry(actor, pledge, EntryKind.VERIFICATION, receipt.amount_cents, key, verifies_id=receipt.id)
    _move_totals(pledge, verified=receipt.amount_cents)
    audit.record(actor, "ledger.verification", entry, institute_id=pledge.institute_id,
                 details={"pledge_id": pledge.id, "receipt_id": receipt.id, "amount_cents": receipt.amount_cents})
    notifications.notify(admins_of(pledge.organization),
                         f"{pledge.institute.acronym} verified a receipt of {format_cents(receipt.amount_cents)} "
                         f"against your FY{pledge.fiscal_year} pledge.", "ledger.pledge", pledge_id=pledge.id,
                         actor=actor)
    return entry


def reverse(actor: User, original: LedgerEntry, *, reason: str, key: str | None) -> LedgerEntry:
    """Undo a receipt, verification or cancellation with an entry pointing at it."""
    _check_key(LedgerEntry, key)
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Give the reason for the reversal.")
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
    notifications.notify(admins_of(pledge.organization),
                         f"{pledge.institute.acronym} reversed the {original.kind} of "
                         f"{format_cents(original.amount_cents)} on your FY{pledge.fiscal_year} pledge: {reason}",
                         "ledger.pledge", pledge_id=pledge.id, actor=actor)
    return entry
