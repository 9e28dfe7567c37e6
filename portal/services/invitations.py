"""Invitations by email: an organization's admin invites a colleague, a network administrator invites an
institute's staff, the institute's staff invite a reviewer, a proposal's lead invites a partner's contact.

An invitation goes to an address whether or not an account has it, and the inviter is answered the same either
way. The mail carries a random token (only its SHA-256 is stored); the link works once, until the invitation
expires (``VALID_DAYS``) or is withdrawn. Accepting it, signed in with the invited address or by registering
through the link (which proves the address), puts the person straight into the role.
"""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    Institute,
    InstituteStaff,
    Invitation,
    InvitationKind,
    InvitationStatus,
    Organization,
    Partner,
    PartnerStatus,
    Proposal,
    ProposalStatus,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, conflicts, notifications, outbox, passwords, proposals, updated_rows
from portal.services.accounts import normalize_email
from portal.services.memberships import is_staff
from portal.services.organizations import OrganizationChoice, affiliation_of, find_by_name, join_or_create

VALID_DAYS = 14
NOT_VALID = "This invitation link is not valid: it was withdrawn, already used, or mistyped."
EXPIRED = "This invitation has expired. Ask the person who invited you to send a new one."
ROLE_WORDS = {
    InvitationKind.COLLEAGUE: "join {organization} on the portal",
    InvitationKind.STAFF: "administer {institute} on the portal",
    InvitationKind.REVIEWER: "review the proposal “{proposal}”",
    InvitationKind.PARTNER: "join the team of the proposal “{proposal}” for {organization}",
}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def what(invitation: Invitation) -> str:
    """What the invitation asks, in words: "review the proposal “Alloy trials”"."""
    return ROLE_WORDS[invitation.kind].format(
        organization=invitation.organization.name if invitation.organization else invitation.organization_name,
        institute=invitation.institute.name if invitation.institute else "",
        proposal=invitation.proposal.title if invitation.proposal else "")


def _institute_id(invitation: Invitation) -> int | None:
    if invitation.institute_id is not None:
        return invitation.institute_id
    return invitation.proposal.call.institute_id if invitation.proposal is not None else None


def _send(actor: User, kind: InvitationKind, email: str, *, message: str = "", **target) -> Invitation:
    address = normalize_email(email)
    message = message.strip()
    if len(message) > 1000:
        raise DomainError("message", "Shorten the message to at most 1,000 characters")
    same = [getattr(Invitation, name) == value for name, value in target.items()]
    waiting = db.session.scalar(sa.select(Invitation.id).where(
        Invitation.kind == kind, Invitation.email == address, Invitation.status == InvitationStatus.PENDING,
        Invitation.expires_at > utcnow(), *same))
    if waiting is not None:
        raise DomainError("email", "An invitation to that address is already waiting; withdraw it to send "
                                   "another", status=409)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation = Invitation(kind=kind, email=address, token_hash=digest(token), invited_by_id=actor.id,
                            message=message, created_at=now, expires_at=now + timedelta(days=VALID_DAYS), **target)
    db.session.add(invitation)
    db.session.flush()
    audit.record(actor, "invitation.sent", invitation, institute_id=_institute_id(invitation),
                 to_state=InvitationStatus.PENDING, details={"kind": kind, "email": address})
    outbox.queue(address, "invitation", invitation=invitation, inviter=actor, what=what(invitation),
                 url=outbox.link("invitations.show", token=token), days=VALID_DAYS)
    return invitation


def invite_colleague(actor: User, organization: Organization, email: str, message: str = "") -> Invitation:
    """An organization's admin invites a colleague to join it."""
    if not may_send(actor, InvitationKind.COLLEAGUE, organization):
        raise DomainError(None, "Only the organization's admins invite people to it.", status=403)
    return _send(actor, InvitationKind.COLLEAGUE, email, message=message, organization_id=organization.id)


def invite_staff(actor: User, institute: Institute, email: str, message: str = "") -> Invitation:
    """A network administrator invites someone to administer an institute."""
    if not may_send(actor, InvitationKind.STAFF, institute):
        raise DomainError(None, "Only network administrators invite an institute's staff.", status=403)
    return _send(actor, InvitationKind.STAFF, email, message=message, institute_id=institute.id)


def invite_reviewer(actor: User, proposal: Proposal, email: str, message: str = "") -> Invitation:
    """The institute's staff invite someone to review a submitted proposal (conflicts are checked on accepting)."""
    if not may_send(actor, InvitationKind.REVIEWER, proposal):
        raise DomainError(None, "The institute's administrators invite reviewers.", status=403)
    if proposal.status not in (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW):
        raise DomainError(None, "Reviewers are invited to submitted proposals.", status=409)
    return _send(actor, InvitationKind.REVIEWER, email, message=message, proposal_id=proposal.id)


def invite_partner(actor: User, proposal: Proposal, organization_name: str, email: str,
                   message: str = "") -> Invitation:
    """The lead invites a partner organization's contact by address. An organization already on the portal is
    invited onto the team at once (its admins may answer too); a new one joins when its contact registers."""
    if not may_send(actor, InvitationKind.PARTNER, proposal):
        raise DomainError(None, "The lead organization's people build the team.", status=403)
    if proposal.status != ProposalStatus.DRAFT:
        raise DomainError(None, "Partners are invited while the proposal is a draft.", status=409)
    name = " ".join(organization_name.split())
    if not name:
        raise DomainError("organization", "Enter the name of the partner organization")
    if len(name) > 200:
        raise DomainError("organization", "Organization name must be 200 characters or fewer")
    organization = find_by_name(name)
    if organization is not None and organization.id == proposal.lead_organization_id:
        raise DomainError("organization", "That is the lead organization; invite a partner")
    invitation = _send(actor, InvitationKind.PARTNER, email, message=message, proposal_id=proposal.id,
                       organization_name=organization.name if organization else name,
                       organization_id=organization.id if organization else None)
    if organization is not None and _partner(proposal, organization) is None:
        proposals.invite(actor, proposal, organization)
    return invitation


def _partner(proposal: Proposal, organization: Organization) -> Partner | None:
    """The organization's live place on the team (invited or accepted), if any."""
    return db.session.scalar(sa.select(Partner).where(
        Partner.proposal_id == proposal.id, Partner.organization_id == organization.id,
        Partner.status.in_([PartnerStatus.INVITED, PartnerStatus.ACCEPTED])))


def may_send(user: User, kind: InvitationKind, target) -> bool:
    """Whether ``user`` may send (and withdraw) invitations of ``kind`` to ``target``."""
    if kind == InvitationKind.COLLEAGUE:
        return user.is_network_admin or _admin_of(user, target)
    if kind == InvitationKind.STAFF:
        return user.is_network_admin
    if kind == InvitationKind.REVIEWER:
        return proposals.is_institute_staff(user, target)
    return proposals.lead_team(user, target)


def _admin_of(user: User, organization: Organization) -> bool:
    affiliation = affiliation_of(user, organization)
    return (affiliation is not None and affiliation.status == AffiliationStatus.ACTIVE
            and affiliation.role == AffiliationRole.ADMIN)


def _target(invitation: Invitation):
    return {InvitationKind.COLLEAGUE: invitation.organization, InvitationKind.STAFF: invitation.institute}.get(
        invitation.kind, invitation.proposal)


def withdraw(actor: User, invitation: Invitation) -> None:
    """Take back a pending invitation: its link stops working. A partner's place on the team goes with it while
    the organization has not answered."""
    if not may_send(actor, invitation.kind, _target(invitation)):
        raise DomainError(None, "You may not withdraw this invitation.", status=403)
    changed = updated_rows(sa.update(Invitation).where(
        Invitation.id == invitation.id, Invitation.status == InvitationStatus.PENDING)
        .values(status=InvitationStatus.WITHDRAWN, withdrawn_by_id=actor.id, withdrawn_at=utcnow())
        .execution_options(synchronize_session=False))
    if changed != 1:
        raise DomainError(None, "This invitation has already been accepted or withdrawn.", status=409)
    db.session.refresh(invitation)
    audit.record(actor, "invitation.withdrawn", invitation, institute_id=_institute_id(invitation),
                 from_state=InvitationStatus.PENDING, to_state=InvitationStatus.WITHDRAWN,
                 details={"kind": invitation.kind, "email": invitation.email})
    if invitation.kind == InvitationKind.PARTNER and invitation.organization is not None \
            and invitation.proposal is not None and invitation.proposal.status == ProposalStatus.DRAFT:
        partner = _partner(invitation.proposal, invitation.organization)
        if partner is not None and partner.status == PartnerStatus.INVITED:
            proposals.withdraw_partner(actor, partner)


def find(token: str) -> Invitation:
    """The invitation a link's token names, whatever its state; DomainError (404) when none does."""
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == digest(token)))
    if invitation is None:
        raise DomainError(None, NOT_VALID, status=404)
    return invitation


def check_open(invitation: Invitation) -> None:
    """DomainError unless the invitation can still be accepted."""
    if invitation.status != InvitationStatus.PENDING:
        raise DomainError(None, NOT_VALID, status=410)
    if invitation.expires_at <= utcnow():
        raise DomainError(None, EXPIRED, status=410)


def accept(actor: User, token: str) -> Invitation:
    """``actor``, signed in with the invited address, takes the role. The link works once."""
    return accept_own(actor, find(token))


def waiting_for(user: User) -> list[Invitation]:
    """Invitations to ``user``'s (confirmed) address still open: a home page lists them, and its owner may accept
    them from there without the mailed link (their account proves the address)."""
    if not user.is_verified:
        return []
    return list(db.session.scalars(sa.select(Invitation).where(
        Invitation.email == user.email, Invitation.status == InvitationStatus.PENDING,
        Invitation.expires_at > utcnow()).order_by(Invitation.created_at)))


def accept_own(actor: User, invitation: Invitation) -> Invitation:
    """Accept ``invitation``, sent to ``actor``'s own confirmed address."""
    check_open(invitation)
    if actor.email != invitation.email or not actor.is_verified:
        raise DomainError(None, "This invitation was sent to another address. Sign in with the account of the "
                                "address it was sent to, or ask for an invitation to this account's address.",
                          status=403)
    changed = updated_rows(sa.update(Invitation).where(
        Invitation.id == invitation.id, Invitation.status == InvitationStatus.PENDING,
        Invitation.expires_at > utcnow())
        .values(status=InvitationStatus.ACCEPTED, accepted_by_id=actor.id, accepted_at=utcnow())
        .execution_options(synchronize_session=False))
    if changed != 1:  # a second click, or another tab, got there first
        raise DomainError(None, NOT_VALID, status=410)
    db.session.refresh(invitation)
    inviter = invitation.invited_by
    if not inviter.active or not may_send(inviter, invitation.kind, _target(invitation)):
        raise DomainError(None, "This invitation no longer stands: the person who sent it can no longer invite "
                                "people to this role. Ask them, or someone else who can, for a new one.", status=409)
    _GRANT[invitation.kind](actor, invitation)
    audit.record(actor, "invitation.accepted", invitation, institute_id=_institute_id(invitation),
                 from_state=InvitationStatus.PENDING, to_state=InvitationStatus.ACCEPTED,
                 details={"kind": invitation.kind})
    endpoint, values = _page_of_target(invitation)
    notifications.notify([inviter], f"{actor.full_name} accepted your invitation to {what(invitation)}.", endpoint,
                         actor=actor, **values)
    return invitation


def _page_of_target(invitation: Invitation) -> tuple[str, dict]:
    """Where the inviter sees what the acceptance changed."""
    if invitation.kind == InvitationKind.COLLEAGUE:
        return "organizations.manage", {"org_id": invitation.organization_id}
    if invitation.kind == InvitationKind.STAFF:
        assert invitation.institute is not None
        return "institute_admin.manage", {"slug": invitation.institute.slug}
    return "proposals.detail", {"proposal_id": invitation.proposal_id}


def _grant_colleague(actor: User, invitation: Invitation) -> None:
    organization = invitation.organization
    assert organization is not None
    affiliation = affiliation_of(actor, organization)
    if affiliation is not None and affiliation.status == AffiliationStatus.ACTIVE:
        return  # a member already: nothing to change
    if affiliation is None:
        affiliation = Affiliation(user_id=actor.id, organization_id=organization.id, role=AffiliationRole.MEMBER)
        db.session.add(affiliation)
    before = affiliation.status
    affiliation.status = AffiliationStatus.ACTIVE
    affiliation.decided_at, affiliation.decided_by_id = utcnow(), invitation.invited_by_id
    db.session.flush()
    audit.record(actor, "affiliation.joined_by_invitation", affiliation, from_state=before,
                 to_state=AffiliationStatus.ACTIVE, details={"organization_id": organization.id,
                                                             "invitation_id": invitation.id})
    conflicts.recheck_for_organization(organization.id, actor, member=actor)


def _grant_staff(actor: User, invitation: Invitation) -> None:
    institute = invitation.institute
    assert institute is not None
    if is_staff(actor, institute):
        return
    staff = InstituteStaff(institute_id=institute.id, user_id=actor.id, added_by_id=invitation.invited_by_id)
    db.session.add(staff)
    db.session.flush()
    audit.record(actor, "institute.staff_added", staff, institute_id=institute.id,
                 details={"user_id": actor.id, "email": actor.email, "invitation_id": invitation.id})


def _grant_reviewer(actor: User, invitation: Invitation) -> None:
    assert invitation.proposal is not None
    try:
        proposals.assign_reviewer(invitation.invited_by, invitation.proposal, actor)
    except DomainError as error:  # said to the invited person, not about an address field
        raise DomainError(None, error.message, status=error.status) from error


def _grant_partner(actor: User, invitation: Invitation) -> None:
    proposal = invitation.proposal
    assert proposal is not None
    organization = invitation.organization or find_by_name(invitation.organization_name)
    name = organization.name if organization else invitation.organization_name
    if organization is None or not _admin_of(actor, organization):
        raise DomainError(None, f"Only an admin of {name} on the portal can accept for it. Add {name} to your "
                                "account (or ask to join it), or ask one of its admins to answer.", status=403)
    partner = _partner(proposal, organization) or proposals.invite(invitation.invited_by, proposal, organization)
    if partner.status == PartnerStatus.INVITED:
        proposals.respond(actor, partner, accept=True)


_GRANT = {
    InvitationKind.COLLEAGUE: _grant_colleague,
    InvitationKind.STAFF: _grant_staff,
    InvitationKind.REVIEWER: _grant_reviewer,
    InvitationKind.PARTNER: _grant_partner,
}


def register_and_accept(token: str, *, full_name: str, password: str,
                        organization: OrganizationChoice | None) -> tuple[User | None, str | None]:
    """Register the invited address through the invitation's link (which proves it: the account starts
    verified) and accept. Returns the new user and, when the role could not be given (a partner organization
    whose admins must answer, say), why; the account stands either way.

    If the address has an account already, nothing is created and its owner is told by mail, as registration
    does, so the page never says whether an account exists. Returns (None, None) then."""
    invitation = find(token)
    check_open(invitation)
    if invitation.kind == InvitationKind.PARTNER:
        organization = organization or OrganizationChoice(name=invitation.organization_name)
        organization = OrganizationChoice(name=invitation.organization_name, sector=organization.sector,
                                          size=organization.size, state=organization.state)
    names = (full_name, organization.name if organization else "",
             invitation.organization.name if invitation.organization else "")
    passwords.check_new_password(password, email=invitation.email, names=names)
    password_hash = passwords.hash_password(password)
    existing = db.session.scalar(sa.select(User).where(User.email == invitation.email))
    if existing is not None:
        outbox.queue(existing.email, "account_exists", user=existing, login_url=outbox.link("auth.login"),
                     reset_url=outbox.link("auth.forgot_password"))
        return None, None
    user = User(email=invitation.email, full_name=" ".join(full_name.split()), password_hash=password_hash,
                email_verified_at=utcnow())
    db.session.add(user)
    db.session.flush()
    audit.record(user, "user.registered", user, to_state="verified", details={"invitation_id": invitation.id})
    if invitation.kind != InvitationKind.COLLEAGUE:
        if organization is None:
            raise DomainError("organization", "Enter the name of your organization")
        join_or_create(user, organization)
    try:
        with db.session.begin_nested():
            accept(user, token)
    except DomainError as error:
        return user, error.message
    return user, None


def pending_for(**target) -> list[Invitation]:
    """Invitations not yet accepted or withdrawn for a target (``organization_id=``, ``institute_id=`` or
    ``proposal_id=``), newest first; expired ones are shown as such by the page."""
    return list(db.session.scalars(sa.select(Invitation).where(
        Invitation.status == InvitationStatus.PENDING,
        *[getattr(Invitation, name) == value for name, value in target.items()])
        .order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(200)))
