"""Approved proposals as projects: updates, milestones, completion and the public list."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    PUBLIC_STATUSES,
    Institute,
    Milestone,
    Organization,
    Partner,
    PartnerStatus,
    ProjectCall,
    ProjectUpdate,
    Proposal,
    ProposalStatus,
    StatusChange,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, search, summary
from portal.services.memberships import is_staff
from portal.services.proposals.drafts import _move
from portal.services.proposals.people import _active_org_ids

# Projects ------------------------------------------------------------------------------------

def start_project(actor: User, proposal: Proposal) -> None:
    _move(actor, proposal, ProposalStatus.ACTIVE, [ProposalStatus.APPROVED])


def post_update(actor: User, proposal: Proposal, body: str) -> ProjectUpdate:
    if proposal.status != ProposalStatus.ACTIVE:
        raise DomainError(None, "Progress is posted on active projects.", status=409)
    if not body.strip():
        raise DomainError("body", "Write the update")
    update = ProjectUpdate(proposal_id=proposal.id, author_id=actor.id, body=body.strip())
    db.session.add(update)
    db.session.flush()
    audit.record(actor, "project.update_posted", proposal, institute_id=proposal.call.institute_id)
    return update


def complete_milestone(actor: User, milestone: Milestone) -> None:
    if milestone.proposal.status != ProposalStatus.ACTIVE:
        raise DomainError(None, "Milestones are marked done on active projects.", status=409)
    if milestone.done_at is not None:
        raise DomainError(None, "That milestone is already done.", status=409)
    milestone.done_at = utcnow()
    audit.record(actor, "project.milestone_done", milestone.proposal,
                 institute_id=milestone.proposal.call.institute_id, details={"milestone_id": milestone.id})


def complete(actor: User, proposal: Proposal, *, trl_reached: int, mrl_reached: int) -> None:
    if not 1 <= trl_reached <= 9:
        raise DomainError("trl_reached", "TRL runs from 1 to 9")
    if not 1 <= mrl_reached <= 10:
        raise DomainError("mrl_reached", "MRL runs from 1 to 10")
    open_milestones = [m.title for m in proposal.milestones if m.done_at is None]
    if open_milestones:
        raise DomainError(None, f"Mark every milestone done first: {', '.join(open_milestones)}", status=409)
    _move(actor, proposal, ProposalStatus.COMPLETED, [ProposalStatus.ACTIVE])
    proposal.trl_reached, proposal.mrl_reached = trl_reached, mrl_reached
    summary.project_completed(proposal, proposal.call.institute_id)


def updates_of(proposal: Proposal) -> list[ProjectUpdate]:
    return list(db.session.scalars(sa.select(ProjectUpdate).where(ProjectUpdate.proposal_id == proposal.id)
                                   .options(so.joinedload(ProjectUpdate.author))
                                   .order_by(ProjectUpdate.created_at.desc())))


def time_in_states(proposal: Proposal, now: datetime | None = None) -> list[tuple[str, float]]:
    """Days spent in each state, in order, the current one up to now."""
    now = now or utcnow()
    changes = list(db.session.scalars(sa.select(StatusChange).where(StatusChange.proposal_id == proposal.id)
                                      .order_by(StatusChange.at, StatusChange.id)))
    spans = []
    for change, following in zip(changes, [*changes[1:], None], strict=True):
        end = following.at if following else now
        spans.append((change.to_status, round((end - change.at).total_seconds() / 86400, 1)))
    return spans


def public_projects_query(institute: Institute | None = None, *, status: str | None = None,
                          area: str | None = None, q: str = "") -> sa.Select | None:
    """Approved, active and completed projects; optionally of one institute, in one of those statuses, in one
    technology area ("not stated" is the area of projects that give none, as in the snapshot), or whose title
    or area matches ``q``. Only the columns a list shows are loaded, and no team. None for a status outside
    the public ones: other proposals are never listed."""
    query = (sa.select(Proposal).join(Proposal.call).where(Proposal.status.in_(PUBLIC_STATUSES))
             .options(so.load_only(Proposal.id, Proposal.title, Proposal.status, Proposal.technology_area),
                      so.raiseload(Proposal.partners),
                      so.joinedload(Proposal.lead_organization).load_only(Organization.id, Organization.name),
                      so.contains_eager(Proposal.call).load_only(ProjectCall.id, ProjectCall.institute_id)
                      .joinedload(ProjectCall.institute).load_only(Institute.id, Institute.acronym)))
    if institute is not None:
        query = query.where(ProjectCall.institute_id == institute.id)
    if status:
        if status not in PUBLIC_STATUSES:
            return None
        query = query.where(Proposal.status == status)
    if area:
        query = query.where(sa.func.coalesce(sa.func.nullif(Proposal.technology_area, ""), "not stated") == area)
    if q.strip():
        query = query.where(search.matches(search.PROJECT_TEXT, q))
    return query


def public_projects(institute: Institute | None = None, *, status: str | None = None,
                    area: str | None = None) -> list[Proposal]:
    """Every project ``public_projects_query`` selects, newest first."""
    query = public_projects_query(institute, status=status, area=area)
    return [] if query is None else list(db.session.scalars(query.order_by(Proposal.id.desc())))


def proposals_for_staff_query(institute: Institute) -> sa.Select:
    """The institute's proposals past the draft stage, with the columns a list shows and no team."""
    return (sa.select(Proposal).join(Proposal.call).where(ProjectCall.institute_id == institute.id,
                                                          Proposal.status != ProposalStatus.DRAFT)
            .options(so.load_only(Proposal.id, Proposal.title, Proposal.status, Proposal.status_changed_at),
                     so.raiseload(Proposal.partners),
                     so.joinedload(Proposal.lead_organization).load_only(Organization.id, Organization.name)))


def proposals_for_staff(institute: Institute) -> list[Proposal]:
    return list(db.session.scalars(proposals_for_staff_query(institute).order_by(Proposal.status_changed_at)))


def proposals_of_user(user: User) -> list[Proposal]:
    orgs = _active_org_ids(user)
    if not orgs:
        return []
    return list(db.session.scalars(
        sa.select(Proposal).join(Partner, Partner.proposal_id == Proposal.id)
        .where(Partner.organization_id.in_(orgs), Partner.status != PartnerStatus.DECLINED)
        .distinct().order_by(Proposal.id.desc())))


def is_institute_staff(user, proposal: Proposal) -> bool:
    return getattr(user, "is_authenticated", False) and (
        user.is_network_admin or is_staff(user, proposal.call.institute))
