"""Who may do what. Every per-object permission check in the portal is answered here."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeAlias, TypeGuard

import sqlalchemy as sa
from flask import abort
from flask_login import AnonymousUserMixin

from portal.extensions import db, per_transaction
from portal.models import (
    PUBLIC_STATUSES,
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    EntryKind,
    ImportBatch,
    ImportStatus,
    Institute,
    InstituteStaff,
    Membership,
    Organization,
    Pledge,
    ProposalStatus,
    User,
)
from portal.services import conflicts, invitations, proposals, summary
from portal.services.memberships import access

Actor: TypeAlias = User | AnonymousUserMixin | None


def _signed_in(user: Actor) -> TypeGuard[User]:
    return isinstance(user, User) and user.is_active


def _active_affiliation(user: User, organization: Organization, *, admin: bool) -> bool:
    query = sa.select(Affiliation.id).where(
        Affiliation.user_id == user.id,
        Affiliation.organization_id == organization.id,
        Affiliation.status == AffiliationStatus.ACTIVE,
    )
    if admin:
        query = query.where(Affiliation.role == AffiliationRole.ADMIN)
    return per_transaction(("affiliation", user.id, organization.id, admin),
                           lambda: db.session.scalar(query) is not None)


def can_view_organization(user: Actor, organization: Organization) -> bool:
    """Listed organizations are public; unlisted ones are seen by their members and network admins."""
    if organization.listed:
        return True
    if not _signed_in(user):
        return False
    return user.is_network_admin or _active_affiliation(user, organization, admin=False)


def can_manage_organization(user: Actor, organization: Organization) -> bool:
    """Its active admins and network administrators manage an organization."""
    if not _signed_in(user):
        return False
    return user.is_network_admin or _active_affiliation(user, organization, admin=True)


def can_apply_for(user: Actor, organization: Organization) -> bool:
    """Only an organization's own active admins apply for it (not network administrators)."""
    return _signed_in(user) and _active_affiliation(user, organization, admin=True)


def can_manage_institute(user: Actor, institute: Institute) -> bool:
    """An institute's own administrators, and network administrators, manage it."""
    if not _signed_in(user):
        return False
    if user.is_network_admin:
        return True
    return per_transaction(("institute_staff", user.id, institute.id), lambda: db.session.scalar(
        sa.select(InstituteStaff.id).where(InstituteStaff.institute_id == institute.id,
                                           InstituteStaff.user_id == user.id)) is not None)


def can_assign_institute_staff(user: Actor, institute: Institute) -> bool:
    return _signed_in(user) and user.is_network_admin


def can_view_member_content(user: Actor, institute: Institute) -> bool:
    """Member-only content: users of member organizations, the institute's staff, network admins."""
    return _signed_in(user) and access(user, institute).sees_member_content


def can_act_for_membership(user: Actor, membership: Membership) -> bool:
    """Apply, withdraw, renew or change tier: the member organization's active admins."""
    return _signed_in(user) and _active_affiliation(user, membership.organization, admin=True)


def can_decide_membership(user: Actor, membership: Membership) -> bool:
    """Approve, decline or end: the institute's administrators."""
    return can_manage_institute(user, membership.institute)


def can_view_membership(user: Actor, membership: Membership) -> bool:
    """The organization's people and the institute's administrators."""
    if not _signed_in(user):
        return False
    return (can_decide_membership(user, membership)
            or _active_affiliation(user, membership.organization, admin=False))


def can_view_organization_ledger(user: Actor, organization: Organization) -> bool:
    """An organization's money is seen by its active admins and network administrators."""
    return _signed_in(user) and (user.is_network_admin or _active_affiliation(user, organization, admin=True))


def can_view_pledge(user: Actor, pledge: Pledge) -> bool:
    return (can_view_organization_ledger(user, pledge.organization)
            or can_manage_institute(user, pledge.institute))


def can_record_for_pledge(user: Actor, pledge: Pledge) -> bool:
    """Receipts, verifications, cancellations and reversals: the institute's administrators."""
    return can_manage_institute(user, pledge.institute)


def can_cancel_pledge(user: Actor, pledge: Pledge) -> bool:
    """Cancelling what remains: the institute's administrators, and the pledging organization's own admins."""
    return can_record_for_pledge(user, pledge) or (
        _signed_in(user) and _active_affiliation(user, pledge.organization, admin=True))


def can_view_network_match(user: Actor, _obj=None) -> bool:
    return _signed_in(user) and user.is_network_admin


def can_import(user: Actor, _obj=None) -> bool:
    """Network administrators import records from files, see the batches and undo them."""
    return _signed_in(user) and user.is_network_admin


def can_approve_import(user: Actor, batch: ImportBatch) -> bool:
    """Two people for money: a network administrator other than the uploader approves a waiting batch."""
    return (can_import(user) and batch.status == ImportStatus.AWAITING_APPROVAL
            and isinstance(user, User) and batch.uploaded_by_id != user.id)


def can_refuse_import(user: Actor, batch: ImportBatch) -> bool:
    return can_import(user) and batch.status == ImportStatus.AWAITING_APPROVAL


def can_undo_import(user: Actor, batch: ImportBatch) -> bool:
    return can_import(user) and batch.status == ImportStatus.COMMITTED


def can_administer_network(user: Actor, _obj=None) -> bool:
    """Institutes, accounts and organizations of the whole network: network administrators."""
    return _signed_in(user) and user.is_network_admin


def can_manage_call(user: Actor, call) -> bool:
    return can_manage_institute(user, call.institute)


def can_view_call(user: Actor, call) -> bool:
    return call.status != "draft" or can_manage_call(user, call)


def can_view_proposal_in_full(user: Actor, proposal) -> bool:
    """The technical plan and the working pages: the team (invited partners too), its reviewers, the institute."""
    return _signed_in(user) and (proposals.on_team(user, proposal) or proposals.review_of(user, proposal) is not None
                                 or can_manage_institute(user, proposal.call.institute))


def can_view_proposal(user: Actor, proposal) -> bool:
    """Approved, active and completed projects are public (without the plan, scores or reviews)."""
    return proposal.status in PUBLIC_STATUSES or can_view_proposal_in_full(user, proposal)


def can_edit_proposal(user: Actor, proposal) -> bool:
    """The lead organization's people write the proposal, build the team and run the project."""
    return _signed_in(user) and proposals.lead_team(user, proposal)


def can_decide_proposal(user: Actor, proposal) -> bool:
    return can_manage_institute(user, proposal.call.institute)


def can_answer_invitation(user: Actor, partner) -> bool:
    return _signed_in(user) and _active_affiliation(user, partner.organization, admin=True)


def can_withdraw_invitation(user: Actor, invitation) -> bool:
    """Whoever may send an invitation of its kind to its organization, institute or proposal may withdraw it."""
    target = {"colleague": invitation.organization, "staff": invitation.institute}.get(invitation.kind,
                                                                                       invitation.proposal)
    return _signed_in(user) and invitations.may_send(user, invitation.kind, target)


def can_manage_program(user: Actor, program) -> bool:
    """Sessions, rosters, attendance, completion and credentials: the institute's staff."""
    return can_manage_institute(user, program.institute)


def can_view_signup(user: Actor, signup) -> bool:
    """A sign-up is personal data: the participant and the institute's staff see it; they may cancel it."""
    return _signed_in(user) and (signup.user_id == user.id
                                 or can_manage_institute(user, signup.session.program.institute))


def can_record_for_signup(user: Actor, signup) -> bool:
    return can_manage_institute(user, signup.session.program.institute)


POLICIES: dict[str, Callable[[Actor, Any], bool]] = {
    "organization.view": can_view_organization,
    "organization.manage": can_manage_organization,
    "organization.apply": can_apply_for,
    "institute.manage": can_manage_institute,
    "institute.assign_staff": can_assign_institute_staff,
    "institute.member_content": can_view_member_content,
    "membership.view": can_view_membership,
    "membership.act": can_act_for_membership,
    "membership.decide": can_decide_membership,
    "organization.ledger": can_view_organization_ledger,
    "organization.pledge": can_apply_for,
    "pledge.view": can_view_pledge,
    "pledge.record": can_record_for_pledge,
    "pledge.cancel": can_cancel_pledge,
    "network.match": can_view_network_match,
    "import.manage": can_import,
    "import.approve": can_approve_import,
    "import.refuse": can_refuse_import,
    "import.undo": can_undo_import,
    "network.administer": can_administer_network,
    "audit.network": can_view_network_match,
    "call.manage": can_manage_call,
    "call.view": can_view_call,
    "proposal.view": can_view_proposal,
    "proposal.view_full": can_view_proposal_in_full,
    "proposal.edit": can_edit_proposal,
    "proposal.decide": can_decide_proposal,
    "partner.answer": can_answer_invitation,
    "organization.invite": can_manage_organization,
    "institute.invite_staff": can_assign_institute_staff,
    "proposal.invite_reviewer": can_decide_proposal,
    "proposal.invite_partner": can_edit_proposal,
    "invitation.withdraw": can_withdraw_invitation,
    "program.manage": can_manage_program,
    "signup.view": can_view_signup,
    "signup.cancel": can_view_signup,
    "signup.record": can_record_for_signup,
}


# What a page offers: each domain's allowed actions, asked once by the view and read by the template.
# The services remain the final judges (they refuse whatever is not allowed); these answers match them.

REVERSIBLE_KINDS = frozenset({EntryKind.RECEIPT, EntryKind.VERIFICATION, EntryKind.CANCELLATION})


@dataclass(frozen=True)
class PledgeActions:
    """``record_receipt`` and ``cancel`` on the pledge; ``verify`` and ``reverse``: the ids of the entries."""

    record_receipt: bool = False
    cancel: bool = False
    verify: frozenset[int] = frozenset()
    reverse: frozenset[int] = frozenset()


def pledge_actions(user: Actor, pledge: Pledge, entries) -> PledgeActions:
    """What ``user`` may do to ``pledge`` and its ``entries`` (all of them, oldest first).

    Two-person rule: a receipt is verified by an institute administrator other than the one who recorded it.
    Impartiality: an administrator who belongs to the pledging organization records and verifies no receipt.
    A receipt, verification or cancellation that stands may be reversed, a verified receipt only once its
    verification has been reversed. Money is received against a proposal's cost share once the proposal is
    approved. The pledging organization's admins may cancel what remains of their own pledge."""
    open_balance = pledge.remaining_cents > 0
    if not _signed_in(user) or not can_record_for_pledge(user, pledge):
        return PledgeActions(cancel=open_balance and can_cancel_pledge(user, pledge))
    impartial = not conflicts.own_organizations(user, {pledge.organization_id})
    reversed_ids = {e.reverses_id for e in entries if e.reverses_id}
    verified = {e.verifies_id for e in entries if e.kind == EntryKind.VERIFICATION and e.id not in reversed_ids}
    standing = [e for e in entries if e.id not in reversed_ids]
    return PledgeActions(
        record_receipt=open_balance and impartial and summary.is_counted(pledge), cancel=open_balance,
        verify=frozenset(e.id for e in standing if impartial
                         and e.kind == EntryKind.RECEIPT and e.id not in verified and e.actor_id != user.id),
        reverse=frozenset(e.id for e in standing if e.kind in REVERSIBLE_KINDS
                          and not (e.kind == EntryKind.RECEIPT and e.id in verified)),
    )


@dataclass(frozen=True)
class ProposalActions:
    """Names of what may be done to the proposal (``"submit" in actions``), per partner id and per milestone id
    (``"report"``, ``"accept"``, ``"send_back"``)."""

    names: frozenset[str] = frozenset()
    partners: dict[int, frozenset[str]] = field(default_factory=dict)
    milestones: dict[int, frozenset[str]] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.names


def proposal_actions(user: Actor, proposal) -> ProposalActions:
    """What ``user`` may do to ``proposal``: the lead team writes, submits, withdraws (the proposal, or an unanswered
    invitation to a partner), runs the project, reports milestones and asks for completion; the institute assigns
    and removes reviewers, screens a proposal out before any review is in, returns to draft, decides,
    accepts milestones and signs the project off (never an administrator belonging to an organization on the
    team); a reviewer reviews unless a conflict of interest blocks it, and may declare a conflict; a partner's
    admins answer the invitation and commit cost share while the proposal is a draft."""
    if not _signed_in(user) or not can_view_proposal_in_full(user, proposal):
        return ProposalActions()
    status = proposal.status
    names: set[str] = set()
    milestones: dict[int, set[str]] = {m.id: set() for m in proposal.milestones}
    all_accepted = all(m.accepted_at is not None for m in proposal.milestones)
    in_review = status in (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW)
    if can_edit_proposal(user, proposal):
        if status == ProposalStatus.DRAFT:
            names |= {"edit", "submit", "invite"}
        if status in (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW):
            names.add("withdraw")
        if status == ProposalStatus.APPROVED:
            names.add("start")
        if status == ProposalStatus.ACTIVE:
            names.add("post_update")
            if all_accepted:
                names.add("request_completion")
            for m in proposal.milestones:
                if m.reported_at is None:
                    milestones[m.id].add("report")
    if can_decide_proposal(user, proposal):
        names.add("see_reviews")
        impartial = not conflicts.own_organizations(user, conflicts.team_ids(proposal, include_invited=False))
        if in_review:
            names |= {"assign_reviewer", "return_to_draft", "remove_reviewer"}
            if impartial and not any(r.submitted_at for r in proposals.reviews_of(proposal)):
                names.add("screen_out")
        if status == ProposalStatus.UNDER_REVIEW and impartial:
            names.add("decide")
        if status == ProposalStatus.ACTIVE and impartial:
            if all_accepted:
                names.add("sign_off")
            for m in proposal.milestones:
                if m.reported_at is not None and m.accepted_at is None:
                    milestones[m.id] |= {"accept", "send_back"}
    if proposals.review_of(user, proposal) is not None:
        if in_review:
            names.add("declare_conflict")
        names.add("review_blocked" if in_review and proposals.conflict(user, proposal) else "review")
    partners = {}
    lead = can_edit_proposal(user, proposal)
    for partner in proposal.partners:
        allowed: set[str] = set()
        if lead and status == ProposalStatus.DRAFT and partner.status == "invited":
            allowed.add("withdraw")
        if status == ProposalStatus.DRAFT and can_answer_invitation(user, partner):
            if partner.status == "invited":
                allowed.add("answer")
            elif partner.status == "accepted" and (
                    partner.pledge is None or partner.pledge.remaining_cents + partner.pledge.received_cents == 0):
                allowed.add("cost_share")
        partners[partner.id] = frozenset(allowed)
    return ProposalActions(frozenset(names), partners, {k: frozenset(v) for k, v in milestones.items()})


def membership_actions(user: Actor, membership: Membership, today: date) -> frozenset[str]:
    """What ``user`` may do to ``membership`` on ``today``: the institute decides an application, a change of
    tier (never an administrator who belongs to the organization), and ends a membership in force; the
    organization renews, asks for another tier, and withdraws."""
    current = membership.current_status(today)
    names: set[str] = set()
    if can_decide_membership(user, membership):
        impartial = not conflicts.own_organizations(user, {membership.organization_id})
        if membership.status == "pending" and impartial:
            names.add("decide")
        if current == "active":
            names.add("end")
            if membership.requested_tier_id is not None and impartial:
                names.add("decide_tier_change")
    if can_act_for_membership(user, membership):
        if current == "active":
            names.add("renew")
            if membership.requested_tier_id is None:
                names.add("change_tier")
        if current in ("pending", "active"):
            names.add("withdraw")
    return frozenset(names)


def import_actions(user: Actor, batch: ImportBatch) -> frozenset[str]:
    """What ``user`` may do to an import batch: ``approve``, ``refuse``, ``undo``."""
    return frozenset(name for name in ("approve", "refuse", "undo") if POLICIES[f"import.{name}"](user, batch))


def can(user: Actor, action: str, obj) -> bool:
    return POLICIES[action](user, obj)


def require(user: Actor, action: str, obj) -> None:
    """403 unless ``user`` may do ``action`` to ``obj``."""
    if not can(user, action, obj):
        abort(403)
