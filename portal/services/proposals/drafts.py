"""Starting and saving a proposal, and the one way its state changes."""

import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Milestone,
    Organization,
    Partner,
    PartnerStatus,
    ProjectCall,
    Proposal,
    ProposalStatus,
    StatusChange,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, conflicts, summary, updated_rows
from portal.services.organizations import admins_of
from portal.services.proposals.calls import accepting
from portal.services.proposals.people import lead_organizations

ABSTRACT_MAX_WORDS = 300


# Proposals -----------------------------------------------------------------------------------

def _move(actor: User | None, proposal: Proposal, to: ProposalStatus, from_statuses) -> None:
    """Change state only from one of ``from_statuses`` (conditional UPDATE); record the change.

    The UPDATE is tried once per status it may start from, so the state it left is known exactly.
    """
    now = utcnow()
    for before in from_statuses:
        changed = updated_rows(
            sa.update(Proposal).where(Proposal.id == proposal.id, Proposal.status == before)
            .values(status=to, status_changed_at=now).execution_options(synchronize_session=False))
        if changed == 1:
            break
    else:
        db.session.refresh(proposal)
        raise DomainError(None, f"This proposal is {proposal.status.label.lower()}; that cannot be done now.",
                          status=409)
    db.session.refresh(proposal)
    db.session.add(StatusChange(proposal_id=proposal.id, from_status=before, to_status=to,
                                actor_id=actor.id if actor else None, at=now))
    summary.proposal_moved(proposal, proposal.call.institute_id, before, to, now)
    audit.record(actor, f"proposal.{to}", proposal, institute_id=proposal.call.institute_id,
                 from_state=before, to_state=to)


def lead_and_author(proposal: Proposal) -> list[User]:
    """Who hears of every move of a proposal: its author and the lead organization's admins."""
    return [proposal.created_by, *admins_of(proposal.lead_organization)]


def start(actor: User, call: ProjectCall, organization: Organization, title: str) -> Proposal:
    if not accepting(call):
        raise DomainError(None, "This call is not open for proposals.", status=409)
    if organization not in lead_organizations(actor, call):
        raise DomainError("organization", "Choose one of your organizations whose membership may lead proposals")
    title = " ".join(title.split())
    if not title:
        raise DomainError("title", "Enter a working title")
    proposal = Proposal(call_id=call.id, lead_organization_id=organization.id, created_by_id=actor.id, title=title)
    db.session.add(proposal)
    db.session.flush()
    db.session.add(Partner(proposal_id=proposal.id, organization_id=organization.id, is_lead=True,
                           status=PartnerStatus.ACCEPTED, responded_by_id=actor.id, responded_at=utcnow()))
    db.session.add(StatusChange(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                                actor_id=actor.id))
    audit.record(actor, "proposal.started", proposal, institute_id=call.institute_id, to_state=ProposalStatus.DRAFT)
    conflicts.recheck_for_organization(organization.id, actor)  # its people reviewing a rival's proposal
    return proposal


def _require_draft(proposal: Proposal) -> None:
    if proposal.status != ProposalStatus.DRAFT:
        raise DomainError(None, f"The proposal is {proposal.status.label.lower()}, so it can no longer be edited.",
                          status=409)


def words(text: str) -> int:
    return len(re.findall(r"\S+", text or ""))


@dataclass
class DraftInput:
    title: str
    abstract: str = ""
    technical_plan: str = ""
    technology_area: str = ""
    trl_start: int | None = None
    trl_target: int | None = None
    mrl_start: int | None = None
    mrl_target: int | None = None
    duration_months: int | None = None
    federal_request_cents: int | None = None
    milestones: list[tuple[int, str, str]] = field(default_factory=list)



def check_target_level(start: int | None, target: int | None, label: str = "TRL", field: str = "trl_target") -> None:
    """A project aims above the readiness level it starts at."""
    if start is not None and target is not None and target <= start:
        raise DomainError(field, f"The target {label} must be above the {label} at the start")

def save_draft(actor: User, proposal: Proposal, data: DraftInput) -> None:
    """Save the draft; incomplete is fine, contradictory is not."""
    _require_draft(proposal)
    if not data.title.strip():
        raise DomainError("title", "Enter a title")
    if words(data.abstract) > ABSTRACT_MAX_WORDS:
        raise DomainError("abstract",
                          f"The abstract has {words(data.abstract)} words; the limit is {ABSTRACT_MAX_WORDS}")
    for start_name, target_name, label in (("trl_start", "trl_target", "TRL"), ("mrl_start", "mrl_target", "MRL")):
        check_target_level(getattr(data, start_name), getattr(data, target_name), label, target_name)
    if data.duration_months is not None:
        late = [m for m, _, _ in data.milestones if m > data.duration_months]
        if late:
            raise DomainError("milestones", f"A milestone in month {late[0]} falls after the project's "
                                            f"{data.duration_months} months")
    for name in ("abstract", "technical_plan", "technology_area", "trl_start", "trl_target", "mrl_start",
                 "mrl_target", "duration_months", "federal_request_cents"):
        setattr(proposal, name, getattr(data, name))
    proposal.title = " ".join(data.title.split())
    proposal.milestones = [Milestone(month=m, title=t, deliverable=d) for m, t, d in data.milestones]
    audit.record(actor, "proposal.saved", proposal, institute_id=proposal.call.institute_id)
