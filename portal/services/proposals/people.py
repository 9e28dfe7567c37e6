"""Who is who on a proposal: the lead's people, the team's organizations, a reviewer."""


import sqlalchemy as sa

from portal.extensions import db, per_transaction
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    Membership,
    Organization,
    Partner,
    PartnerStatus,
    ProjectCall,
    Proposal,
    Review,
    Tier,
    User,
)
from portal.services.clock import today

# Who is who ----------------------------------------------------------------------------------

def _active_org_ids(user: User, *, admin: bool = False) -> set[int]:
    query = sa.select(Affiliation.organization_id).where(
        Affiliation.user_id == user.id, Affiliation.status == AffiliationStatus.ACTIVE)
    if admin:
        query = query.where(Affiliation.role == AffiliationRole.ADMIN)
    return set(per_transaction(("active_org_ids", user.id, admin), lambda: frozenset(db.session.scalars(query))))


def lead_team(user, proposal: Proposal) -> bool:
    """Active users of the lead organization: they edit, invite, submit and run the project."""
    return getattr(user, "is_authenticated", False) and proposal.lead_organization_id in _active_org_ids(user)


def team_org_ids(proposal: Proposal, *, include_invited: bool = True) -> set[int]:
    statuses = [PartnerStatus.ACCEPTED] + ([PartnerStatus.INVITED] if include_invited else [])
    return set(per_transaction(("team_org_ids", proposal.id, include_invited), lambda: frozenset(
        db.session.scalars(sa.select(Partner.organization_id).where(
            Partner.proposal_id == proposal.id, Partner.status.in_(statuses))))))


def on_team(user, proposal: Proposal) -> bool:
    """Users of any organization on the team, invited partners included."""
    return getattr(user, "is_authenticated", False) and bool(_active_org_ids(user) & team_org_ids(proposal))


def review_of(user, proposal: Proposal) -> Review | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return per_transaction(("review_of", user.id, proposal.id), lambda: db.session.scalar(
        sa.select(Review).where(Review.proposal_id == proposal.id, Review.reviewer_id == user.id)))


def in_force_tiers(organization_id: int, institute_id: int) -> list[Tier]:
    return list(db.session.scalars(sa.select(Tier).join(Membership, Membership.tier_id == Tier.id).where(
        Membership.organization_id == organization_id, Membership.institute_id == institute_id,
        Membership.in_force(today()))))


def lead_organizations(user: User, call: ProjectCall) -> list[Organization]:
    """The user's organizations whose membership of the call's institute may lead proposals."""
    ids = [org_id for org_id in _active_org_ids(user)
           if any(t.may_lead_projects for t in in_force_tiers(org_id, call.institute_id))]
    return list(db.session.scalars(sa.select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)))
