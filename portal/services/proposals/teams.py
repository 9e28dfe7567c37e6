"""Who is on a proposal's team: the lead, invited partners and the cost share they commit."""

from collections.abc import Collection

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Invitation,
    InvitationKind,
    InvitationStatus,
    Membership,
    Organization,
    Partner,
    PartnerStatus,
    Pledge,
    ProjectCall,
    Proposal,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, conflicts, ledger, notifications, search, updated_rows
from portal.services.clock import today
from portal.services.organizations import admins_of
from portal.services.proposals.drafts import _require_draft, lead_and_author

# Teams and cost share ------------------------------------------------------------------------

FINDER_SCOPE = 2_000  # matches of the partner finder's words looked at, at most (see find_partners)

def find_partners(call: ProjectCall, *, q: str = "", sector: str = "", state: str = "",
                  institute_id: int | None = None, exclude: Collection[int] = frozenset()) -> list[Organization]:
    """Member organizations (of any institute, or of ``institute_id``) matching the finder's filters: ``q`` in
    the name, city or state (on PostgreSQL also a close spelling) or the description."""
    members = sa.select(Membership.organization_id).where(Membership.in_force(today()))
    if institute_id:
        members = members.where(Membership.institute_id == institute_id)
    query = sa.select(Organization).where(Organization.id.in_(members))
    if q.strip():
        # The matches first, through the trigram indexes, and at most FINDER_SCOPE of them: ordered by name with
        # a LIMIT, PostgreSQL would rather walk every organization by name and test each one (0.6 s at 100,000
        # organizations for a search that matches nothing), and every match of a broad search would have to be
        # read to sort them. So a broad search shows 50 of the first FINDER_SCOPE matches, by name.
        matching = (sa.select(Organization.id).where(search.describes(q)).limit(FINDER_SCOPE).cte("matching")
                    .prefix_with("MATERIALIZED", dialect="postgresql"))
        query = query.where(Organization.id.in_(sa.select(matching.c.id)))
    if sector:
        query = query.where(Organization.sector == sector)
    if state:
        query = query.where(Organization.state == state)
    if exclude:
        query = query.where(Organization.id.not_in(exclude))
    return list(db.session.scalars(query.order_by(Organization.name).limit(50)))


def invite(actor: User, proposal: Proposal, organization: Organization) -> Partner:
    _require_draft(proposal)
    existing = db.session.scalar(sa.select(Partner).where(
        Partner.proposal_id == proposal.id, Partner.organization_id == organization.id))
    if existing is not None and existing.status not in (PartnerStatus.DECLINED, PartnerStatus.WITHDRAWN):
        raise DomainError("organization", f"{organization.name} is already on this proposal's team", status=409)
    if existing is not None:
        existing.status, existing.responded_at, existing.responded_by_id = PartnerStatus.INVITED, None, None
        partner = existing
    else:
        partner = Partner(proposal_id=proposal.id, organization_id=organization.id, invited_by_id=actor.id)
        db.session.add(partner)
    db.session.flush()
    audit.record(actor, "proposal.partner_invited", proposal, institute_id=proposal.call.institute_id,
                 details={"organization_id": organization.id})
    notifications.notify(admins_of(organization),
                         f"{proposal.lead_organization.name} invites {organization.name} to join the proposal "
                         f"“{proposal.title}”.", "proposals.detail", proposal_id=proposal.id, actor=actor)
    return partner


def withdraw_partner(actor: User, partner: Partner) -> None:
    """The lead takes back an invitation to a partner organization that has not answered yet (and any invitation
    mailed to its contact for this proposal); the organization's admins are told."""
    proposal = partner.proposal
    _require_draft(proposal)
    changed = updated_rows(sa.update(Partner).where(Partner.id == partner.id, Partner.status == PartnerStatus.INVITED)
                           .values(status=PartnerStatus.WITHDRAWN, responded_by_id=actor.id, responded_at=utcnow())
                           .execution_options(synchronize_session=False))
    if changed != 1:
        raise DomainError(None, "This invitation has already been answered or withdrawn.", status=409)
    db.session.refresh(partner)
    audit.record(actor, "proposal.partner_withdrawn", proposal, institute_id=proposal.call.institute_id,
                 from_state=PartnerStatus.INVITED, to_state=PartnerStatus.WITHDRAWN,
                 details={"organization_id": partner.organization_id})
    updated_rows(sa.update(Invitation).where(
        Invitation.kind == InvitationKind.PARTNER, Invitation.proposal_id == proposal.id,
        Invitation.organization_id == partner.organization_id, Invitation.status == InvitationStatus.PENDING)
        .values(status=InvitationStatus.WITHDRAWN, withdrawn_by_id=actor.id, withdrawn_at=utcnow())
        .execution_options(synchronize_session=False))
    notifications.notify(admins_of(partner.organization),
                         f"{proposal.lead_organization.name} withdrew its invitation to {partner.organization.name} "
                         f"to join “{proposal.title}”.", "organizations.detail", org_id=partner.organization_id,
                         actor=actor)


def respond(actor: User, partner: Partner, *, accept: bool) -> None:
    """A partner organization's admin accepts or declines an invitation."""
    _require_draft(partner.proposal)
    if partner.status != PartnerStatus.INVITED:
        raise DomainError(None, "This invitation has already been answered.", status=409)
    partner.status = PartnerStatus.ACCEPTED if accept else PartnerStatus.DECLINED
    partner.responded_by_id, partner.responded_at = actor.id, utcnow()
    proposal = partner.proposal
    audit.record(actor, "proposal.partner_" + partner.status, proposal, institute_id=proposal.call.institute_id,
                 details={"organization_id": partner.organization_id})
    notifications.notify(lead_and_author(proposal),
                         f"{partner.organization.name} {partner.status} the invitation to “{proposal.title}”.",
                         "proposals.detail", proposal_id=proposal.id, actor=actor)
    if accept:  # its people reviewing another proposal of the call now review a competitor
        conflicts.recheck_for_organization(partner.organization_id, actor)


def commit_cost_share(actor: User, partner: Partner, *, amount_cents: int, kind: str, in_kind_description: str,
                      key: str | None) -> None:
    """Pledge the partner's cost share in the ledger, tied to this proposal: a conditional commitment,
    counted once the proposal is approved. After a release (the proposal returned to draft) it is committed
    again."""
    proposal = partner.proposal
    _require_draft(proposal)
    if partner.status != PartnerStatus.ACCEPTED:
        raise DomainError(None, "Accept the invitation before committing cost share.", status=409)
    if partner.pledge is not None and partner.pledge.remaining_cents + partner.pledge.received_cents > 0:
        raise DomainError("amount", f"{partner.organization.name} has already committed its cost share", status=409)
    pledge = ledger.record_pledge(
        actor, partner.organization, proposal.call.institute,
        ledger.PledgeInput(amount_cents=amount_cents, kind=kind, fiscal_year=ledger.fiscal_year_of(today()),
                           in_kind_description=in_kind_description, note=f"Cost share for proposal #{proposal.id}"),
        key=key, proposal=proposal)
    partner.pledge = pledge


def cost_share_cents(proposal: Proposal) -> int:
    """Cost share committed by accepted partners: pledged less cancelled."""
    return int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Pledge.pledged_cents - Pledge.cancelled_cents), 0))
        .join(Partner, Partner.pledge_id == Pledge.id)
        .where(Partner.proposal_id == proposal.id, Partner.status == PartnerStatus.ACCEPTED)) or 0)
