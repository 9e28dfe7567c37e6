"""Approved proposals as projects: updates, milestones, completion and the public list."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    NETWORK,
    PUBLIC_STATUSES,
    Figure,
    Institute,
    Milestone,
    NoticeKind,
    Organization,
    Partner,
    PartnerStatus,
    ProjectCall,
    ProjectUpdate,
    Proposal,
    ProposalStatus,
    StatusChange,
    Summary,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, conflicts, notifications, search, summary
from portal.services.clock import add_months, today
from portal.services.memberships import is_staff, staff_users
from portal.services.proposals.drafts import _move, lead_and_author
from portal.services.proposals.people import _active_org_ids, lead_team

# Projects ------------------------------------------------------------------------------------

def start_project(actor: User, proposal: Proposal) -> None:
    """The lead starts the approved project; each milestone falls due its month after today."""
    _move(actor, proposal, ProposalStatus.ACTIVE, [ProposalStatus.APPROVED])
    begun = today()
    for milestone in proposal.milestones:
        milestone.due_on = add_months(begun, milestone.month)
    notifications.notify(_team_to_tell(proposal) + staff_users(proposal.call.institute),
                         f"“{proposal.title}” has started as a project; its milestones fall due from today.",
                         "proposals.detail", proposal_id=proposal.id, actor=actor,
                         notice_kind=NoticeKind.PROJECT)


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


def _team_to_tell(proposal: Proposal, *also: User | None) -> list[User]:
    """The lead's admins and the proposal's author, and whoever else is named."""
    return lead_and_author(proposal) + [u for u in also if u is not None]


def _require_active(proposal: Proposal, what: str) -> None:
    if proposal.status != ProposalStatus.ACTIVE:
        raise DomainError(None, f"{what} on active projects.", status=409)


def _require_institute(actor: User, proposal: Proposal, what: str) -> None:
    """The institute's administrators (never of an organization on the team) accept and sign off."""
    if not is_institute_staff(actor, proposal):
        raise DomainError(None, f"The institute's administrators {what}.", status=403)
    conflicts.require_impartial(actor, conflicts.team_ids(proposal, include_invited=False), what)


def report_milestone(actor: User, milestone: Milestone) -> None:
    """The team reports a milestone done; the institute's administrators are asked to accept it."""
    proposal = milestone.proposal
    if not lead_team(actor, proposal):
        raise DomainError(None, "The project's team reports its milestones.", status=403)
    _require_active(proposal, "Milestones are reported")
    if milestone.accepted_at is not None:
        raise DomainError(None, "The institute has already accepted that milestone.", status=409)
    if milestone.reported_at is not None:
        raise DomainError(None, "That milestone is reported done and waits for the institute.", status=409)
    milestone.reported_at, milestone.reported_by_id = utcnow(), actor.id
    audit.record(actor, "project.milestone_reported", proposal, institute_id=proposal.call.institute_id,
                 details={"milestone_id": milestone.id})
    notifications.notify(staff_users(proposal.call.institute),
                         f"“{proposal.title}” reports the milestone “{milestone.title}” done; accept it or send "
                         "it back.", "proposals.detail", proposal_id=proposal.id,
                         actor=actor, notice_kind=NoticeKind.PROJECT)


def accept_milestone(actor: User, milestone: Milestone) -> None:
    """The institute accepts a milestone the team reported done."""
    proposal = milestone.proposal
    _require_institute(actor, proposal, "accept milestones")
    _require_active(proposal, "Milestones are accepted")
    if milestone.reported_at is None:
        raise DomainError(None, "The team has not reported that milestone done.", status=409)
    if milestone.accepted_at is not None:
        raise DomainError(None, "That milestone is already accepted.", status=409)
    milestone.accepted_at, milestone.accepted_by_id = utcnow(), actor.id
    audit.record(actor, "project.milestone_accepted", proposal, institute_id=proposal.call.institute_id,
                 details={"milestone_id": milestone.id})
    waiting = [m for m in proposal.milestones if m.accepted_at is None]
    then = (" Every milestone is accepted: ask the institute to sign the project off." if not waiting else "")
    notifications.notify(_team_to_tell(proposal, milestone.reported_by),
                         f"{proposal.call.institute.acronym} accepted the milestone “{milestone.title}” of "
                         f"“{proposal.title}”.{then}", "proposals.detail", proposal_id=proposal.id,
                         actor=actor, notice_kind=NoticeKind.PROJECT)


def send_back_milestone(actor: User, milestone: Milestone, *, reason: str) -> None:
    """The institute does not accept a reported milestone yet; the team is told why."""
    proposal = milestone.proposal
    _require_institute(actor, proposal, "accept milestones")
    _require_active(proposal, "Milestones are accepted")
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Say what is missing; the team sees it")
    if milestone.reported_at is None or milestone.accepted_at is not None:
        raise DomainError(None, "Only a milestone reported done and not yet accepted can be sent back.", status=409)
    reporter = milestone.reported_by
    milestone.reported_at, milestone.reported_by_id = None, None
    audit.record(actor, "project.milestone_sent_back", proposal, institute_id=proposal.call.institute_id,
                 reason=reason, details={"milestone_id": milestone.id})
    notifications.notify(_team_to_tell(proposal, reporter),
                         f"{proposal.call.institute.acronym} sent back the milestone “{milestone.title}” of "
                         f"“{proposal.title}”: {reason}", "proposals.detail", proposal_id=proposal.id,
                         actor=actor, notice_kind=NoticeKind.PROJECT)


def _check_levels(proposal: Proposal, trl: int, mrl: int) -> None:
    """Levels reached run 1-9 (TRL) and 1-10 (MRL) and never fall below the start: a project that did not
    advance reaches its start level."""
    for field, label, value, start, top in (("trl_reached", "TRL", trl, proposal.trl_start, 9),
                                            ("mrl_reached", "MRL", mrl, proposal.mrl_start, 10)):
        check_level_reached(value, start, label=label, field=field, top=top)


def check_level_reached(value: int, start: int | None, *, label: str = "TRL", field: str = "trl_reached",
                        top: int = 9) -> None:
    """A level reached runs 1 to ``top`` and never falls below the level at the start."""
    if not 1 <= value <= top:
        raise DomainError(field, f"{label} runs from 1 to {top}")
    if start is not None and value < start:
        raise DomainError(field, f"The {label} reached cannot be below the {label} at the start ({start}); "
                                 f"a project that did not advance reaches {start}")


def _require_milestones_accepted(proposal: Proposal) -> None:
    waiting = [m.title for m in proposal.milestones if m.accepted_at is None]
    if waiting:
        raise DomainError(None, f"The institute accepts every milestone first: {', '.join(waiting)}", status=409)


def request_completion(actor: User, proposal: Proposal, *, trl_reached: int, mrl_reached: int) -> None:
    """The lead asks the institute to sign the project off, with the levels reached."""
    if not lead_team(actor, proposal):
        raise DomainError(None, "The project's team asks for completion.", status=403)
    _require_active(proposal, "Completion is asked for")
    _check_levels(proposal, trl_reached, mrl_reached)
    _require_milestones_accepted(proposal)
    proposal.completion_requested_at, proposal.completion_requested_by_id = utcnow(), actor.id
    proposal.trl_requested, proposal.mrl_requested = trl_reached, mrl_reached
    audit.record(actor, "project.completion_requested", proposal, institute_id=proposal.call.institute_id,
                 details={"trl_reached": trl_reached, "mrl_reached": mrl_reached})
    notifications.notify(staff_users(proposal.call.institute),
                         f"“{proposal.title}” asks to be signed off as complete (TRL {trl_reached}, MRL "
                         f"{mrl_reached}).", "proposals.detail", proposal_id=proposal.id,
                         actor=actor, notice_kind=NoticeKind.PROJECT)


def complete(actor: User, proposal: Proposal, *, trl_reached: int, mrl_reached: int) -> None:
    """The institute signs the project off as complete, with the levels reached (those the lead asked for, or
    its own); only then do they count in the published readiness figures."""
    _require_institute(actor, proposal, "sign projects off")
    _check_levels(proposal, trl_reached, mrl_reached)
    _require_milestones_accepted(proposal)
    _move(actor, proposal, ProposalStatus.COMPLETED, [ProposalStatus.ACTIVE])
    proposal.trl_reached, proposal.mrl_reached = trl_reached, mrl_reached
    proposal.signed_off_by_id = actor.id
    summary.project_completed(proposal, proposal.call.institute_id)
    notifications.notify(_team_to_tell(proposal, proposal.completion_requested_by),
                         f"{proposal.call.institute.acronym} signed “{proposal.title}” off as complete (TRL "
                         f"{trl_reached}, MRL {mrl_reached}).", "proposals.detail", proposal_id=proposal.id,
                         notice_kind=NoticeKind.PROJECT,
                         actor=actor)


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


def public_projects_count(institute: Institute | None = None, *, status: str | None = None,
                          area: str | None = None, q: str = "") -> int | None:
    """How many projects ``public_projects_query`` selects, read from the summary figures when they hold the
    answer (no search, and not a status and an area at once): one small query at any size. None otherwise."""
    if q.strip() or (status and area):
        return None
    scope = institute.id if institute is not None else NETWORK
    if area:
        condition = sa.and_(Summary.figure == Figure.PROJECTS_BY_AREA, Summary.key == area)
    else:
        wanted = [status] if status else [str(s) for s in PUBLIC_STATUSES]
        condition = sa.and_(Summary.figure == Figure.PROPOSALS_BY_STATUS, Summary.key.in_(wanted))
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Summary.value), 0))
                                 .where(Summary.scope == scope, condition)) or 0)


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


def proposals_of_user_query(user: User, status: str = "") -> sa.Select | None:
    """The proposals of ``user``'s organizations (led, or joined or invited to and not declined), for
    ``paging.keyset`` on the id, newest first; ``status`` narrows them to one ProposalStatus. Each comes with its
    lead's name and its call and institute, never its team. None when the person belongs to no organization."""
    orgs = _active_org_ids(user)
    if not orgs:
        return None
    theirs = sa.select(Partner.proposal_id).where(Partner.organization_id.in_(orgs),
                                                 Partner.status != PartnerStatus.DECLINED)
    query = (sa.select(Proposal).where(Proposal.id.in_(theirs))
             .options(so.load_only(Proposal.id, Proposal.title, Proposal.status, Proposal.call_id,
                                   Proposal.lead_organization_id, Proposal.status_changed_at),
                      so.lazyload(Proposal.partners),
                      so.joinedload(Proposal.lead_organization).load_only(Organization.id, Organization.name),
                      so.joinedload(Proposal.call).options(
                          so.load_only(ProjectCall.id, ProjectCall.title, ProjectCall.institute_id),
                          so.joinedload(ProjectCall.institute).load_only(Institute.id, Institute.acronym))))
    return query.where(Proposal.status == ProposalStatus(status)) if status else query


def proposals_of_user(user: User, limit: int) -> list[Proposal]:
    """The newest ``limit`` proposals of ``user``'s organizations (see proposals_of_user_query)."""
    query = proposals_of_user_query(user)
    return [] if query is None else list(db.session.scalars(query.order_by(Proposal.id.desc()).limit(limit)))


def is_institute_staff(user, proposal: Proposal) -> bool:
    return getattr(user, "is_authenticated", False) and (
        user.is_network_admin or is_staff(user, proposal.call.institute))
