"""Conflicts of interest and impartiality.

A reviewer is conflicted on a proposal when they belong (an active affiliation) to an organization that is on
its team (the lead, an accepted or an invited partner), or to a competitor: an organization that leads or is an
accepted partner on another proposal of the same call that has not been withdrawn. Conflicts are checked when a
reviewer is assigned, again when a review is saved or submitted, and whenever they can arise later: when a
person joins an organization, when an organization starts a proposal or joins a team. A pending review of a
reviewer who has become conflicted is blocked (it cannot be saved or submitted) and the institute's staff are
told, so they remove the reviewer; reviewers may also declare a conflict themselves.

Impartiality: a person who belongs to an organization does not act for the institute on that organization's
matters (receipts on its pledges and their verification, its membership application and change of tier, its
proposal's decision, milestones and sign-off). Another administrator of the institute must act, as with the
two-person rule of verification.

This module imports no other service that could import it back (organizations tell it of new affiliations).
"""

import sqlalchemy as sa

from portal.extensions import db, per_transaction
from portal.models import (
    Affiliation,
    AffiliationStatus,
    InstituteStaff,
    Organization,
    Partner,
    PartnerStatus,
    Proposal,
    ProposalStatus,
    Review,
    User,
)
from portal.services import DomainError, audit, notifications
from portal.services.wording import possessive

IN_REVIEW = (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW)


def organization_ids(user: User) -> set[int]:
    """The organizations ``user`` belongs to (active affiliations, any role)."""
    return set(per_transaction(("active_org_ids", user.id, False), lambda: frozenset(db.session.scalars(
        sa.select(Affiliation.organization_id).where(Affiliation.user_id == user.id,
                                                     Affiliation.status == AffiliationStatus.ACTIVE)))))


def names_of(ids: set[int]) -> str:
    return ", ".join(db.session.scalars(sa.select(Organization.name).where(Organization.id.in_(ids))
                                        .order_by(Organization.name)))


def team_ids(proposal: Proposal, *, include_invited: bool = True) -> set[int]:
    statuses = [PartnerStatus.ACCEPTED] + ([PartnerStatus.INVITED] if include_invited else [])
    return set(per_transaction(("team_org_ids", proposal.id, include_invited), lambda: frozenset(
        db.session.scalars(sa.select(Partner.organization_id).where(
            Partner.proposal_id == proposal.id, Partner.status.in_(statuses))))))


def competitor_ids(proposal: Proposal) -> set[int]:
    """Organizations leading or accepted on another proposal of the same call that was not withdrawn."""
    return set(db.session.scalars(
        sa.select(Partner.organization_id).join(Proposal, Proposal.id == Partner.proposal_id).where(
            Proposal.call_id == proposal.call_id, Proposal.id != proposal.id,
            Proposal.status != ProposalStatus.WITHDRAWN, Partner.status == PartnerStatus.ACCEPTED)))


def _conflicting(reviewer: User, proposal: Proposal) -> tuple[set[int], set[int]]:
    mine = organization_ids(reviewer)
    if not mine:
        return set(), set()
    return mine & team_ids(proposal), mine & competitor_ids(proposal)


def review_conflict(reviewer: User, proposal: Proposal) -> str | None:
    """Why ``reviewer`` may not review ``proposal``, or None."""
    team, rivals = _conflicting(reviewer, proposal)
    if team:
        return f"{reviewer.full_name} belongs to {names_of(team)}, which is on the team"
    if rivals:
        return (f"{reviewer.full_name} belongs to {names_of(rivals)}, which is on the team of another proposal "
                "in the same call")
    return None


def staff_of_institute(institute_id: int) -> list[User]:
    return list(db.session.scalars(sa.select(User).join(InstituteStaff, InstituteStaff.user_id == User.id)
                                   .where(InstituteStaff.institute_id == institute_id).order_by(User.id)))


def recheck_for_organization(organization_id: int, actor: User | None = None, *, member: User | None = None) -> int:
    """Block the pending reviews that ``organization_id`` has just put in conflict: its new ``member`` (or, when
    it joins a team, any of its people) reviews a proposal of its team or a competitor's. The institute's staff
    are told of each. Returns how many were blocked."""
    query = (sa.select(Review).join(Proposal, Proposal.id == Review.proposal_id)
             .join(Affiliation, Affiliation.user_id == Review.reviewer_id)
             .where(Affiliation.organization_id == organization_id, Affiliation.status == AffiliationStatus.ACTIVE,
                    Review.submitted_at.is_(None), Proposal.status.in_(IN_REVIEW))
             .order_by(Review.id))
    if member is not None:
        query = query.where(Review.reviewer_id == member.id)
    pending = list(db.session.scalars(query))
    blocked = 0
    for review in pending:
        team, rivals = _conflicting(review.reviewer, review.proposal)
        if organization_id not in team | rivals:
            continue
        reason = review_conflict(review.reviewer, review.proposal)
        proposal = review.proposal
        institute_id = proposal.call.institute_id
        audit.record(actor, "proposal.review_blocked", proposal, institute_id=institute_id,
                     details={"review_id": review.id, "reviewer_id": review.reviewer_id, "reason": reason})
        notifications.notify(staff_of_institute(institute_id),
                             f"{possessive(review.reviewer.full_name)} review of “{proposal.title}” is blocked by "
                             f"a conflict of interest ({reason}); remove the reviewer or assign another.",
                             "proposals.detail", proposal_id=proposal.id, actor=actor)
        blocked += 1
    return blocked


# Impartiality ---------------------------------------------------------------------------------

def own_organizations(actor, organization_ids_concerned: set[int]) -> set[int]:
    """Which of the organizations concerned ``actor`` belongs to."""
    if not isinstance(actor, User):
        return set()
    return organization_ids(actor) & set(organization_ids_concerned)


def require_impartial(actor: User, organization_ids_concerned: set[int], what: str) -> None:
    """Refuse an institute's action on a matter of the actor's own organization."""
    own = own_organizations(actor, organization_ids_concerned)
    if own:
        raise DomainError(None, f"You belong to {names_of(own)}, so another administrator of the institute "
                                f"must {what}.", status=403)
