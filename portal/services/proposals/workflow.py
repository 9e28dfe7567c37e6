"""Submitting, withdrawing and returning a proposal."""

from datetime import datetime

from portal.models import (
    Proposal,
    ProposalStatus,
    User,
)
from portal.services import DomainError, ledger, notifications
from portal.services.memberships import staff_users
from portal.services.proposals.drafts import _move, _require_draft, lead_and_author
from portal.services.proposals.rules import check_rules

# Workflow ------------------------------------------------------------------------------------

def submit(actor: User, proposal: Proposal, now: datetime | None = None) -> None:
    _require_draft(proposal)
    unmet = [f"{rule.name}: {rule.reason}" for rule in check_rules(proposal, now) if not rule.met]
    if unmet:
        raise DomainError(None, "The proposal cannot be submitted yet. " + " / ".join(unmet), status=409)
    _move(actor, proposal, ProposalStatus.SUBMITTED, [ProposalStatus.DRAFT])
    notifications.notify(staff_users(proposal.call.institute) + lead_and_author(proposal),
                         f"“{proposal.title}” was submitted to {proposal.call.title}.",
                         "proposals.detail", proposal_id=proposal.id, actor=actor)


def withdraw(actor: User, proposal: Proposal) -> None:
    """The lead withdraws the proposal; the cost share committed to it is released. The author and the lead's
    admins are told, and the institute's administrators once it was submitted."""
    was = proposal.status
    _move(actor, proposal, ProposalStatus.WITHDRAWN,
          [ProposalStatus.DRAFT, ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW])
    ledger.release_cost_share(actor, proposal, reason=f"proposal #{proposal.id} was withdrawn")
    institute = staff_users(proposal.call.institute) if was != ProposalStatus.DRAFT else []
    notifications.notify(lead_and_author(proposal) + institute,
                         f"“{proposal.title}” was withdrawn by {actor.full_name}.",
                         "proposals.detail", proposal_id=proposal.id, actor=actor)


def return_to_draft(actor: User, proposal: Proposal, note: str) -> None:
    if not note.strip():
        raise DomainError("note", "Tell the team what to change")
    _move(actor, proposal, ProposalStatus.DRAFT, [ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW])
    proposal.return_note = note.strip()
    # the team may change before it submits again: each partner commits its cost share anew
    ledger.release_cost_share(actor, proposal, reason=f"proposal #{proposal.id} was returned to draft "
                                                      f"({note.strip()}); commit it again before it is resubmitted")
    notifications.notify(lead_and_author(proposal),
                         f"“{proposal.title}” was returned to draft: {note.strip()}",
                         "proposals.detail", proposal_id=proposal.id, actor=actor)
