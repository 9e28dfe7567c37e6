"""Applications, decisions and the lifecycle of a membership: renewal, tier changes, ending, expiry."""

from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    LIVE_STATUSES,
    Institute,
    Membership,
    MembershipStatus,
    Organization,
    Tier,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, conflicts, dates, notifications, summary, updated_rows
from portal.services.clock import add_years, long_date, today
from portal.services.memberships.staff import staff_users
from portal.services.organizations import admins_of
from portal.services.wording import possessive

REMIND_DAYS = 30


# Applications and decisions ------------------------------------------------------------------

def live_membership(organization: Organization, institute: Institute) -> Membership | None:
    return db.session.scalar(sa.select(Membership).where(
        Membership.organization_id == organization.id, Membership.institute_id == institute.id,
        Membership.status.in_(LIVE_STATUSES)))


def _record_lapse(membership: Membership, actor: User | None = None) -> bool:
    """Record that an active membership's term ran out; False if someone else recorded it first."""
    try:
        _transition(membership, [MembershipStatus.ACTIVE], status=MembershipStatus.LAPSED, closed_at=utcnow())
    except DomainError:
        return False
    audit.record(actor, "membership.lapsed", membership, institute_id=membership.institute_id,
                 from_state=MembershipStatus.ACTIVE, to_state=MembershipStatus.LAPSED,
                 details={"ends_on": _term_end(membership).isoformat()})
    notifications.notify(_people_to_tell(membership),
                         f"{possessive(membership.organization.name)} membership of {membership.institute.acronym} "
                         f"lapsed on {long_date(_term_end(membership))}; renew it to keep member access.",
                         "memberships.detail", membership_id=membership.id, actor=actor)
    return True


def _people_to_tell(membership: Membership) -> list[User]:
    return admins_of(membership.organization) + staff_users(membership.institute)


def check_tier(tier: Tier | None, institute: Institute, *, name: str = "", historical: bool = False) -> Tier:
    """A membership's tier is one of its institute's tiers, and on everyday forms a current one (a membership of
    the past may have held a tier retired since: ``historical=True``, the import's)."""
    if tier is None or tier.institute_id != institute.id:
        raise DomainError("tier", f"{institute.acronym} has no tier called {name!r}" if name
                          else f"That tier does not belong to {institute.acronym}")
    if tier.is_retired and not historical:
        raise DomainError("tier", f"The {tier.name} tier is retired; choose another")
    return tier


def check_one_live(organization_name: str, institute: Institute, live: MembershipStatus | None) -> None:
    """At most one live membership (an application waiting, or a membership in force) per organization and
    institute; ``live`` is the status of the one the organization holds already, if any."""
    if live is None:
        return
    what = "an application waiting" if live == MembershipStatus.PENDING else "an active membership"
    raise DomainError("organization", f"{organization_name} already has {what} at {institute.acronym}",
                      status=409)


def apply(actor: User, organization: Organization, institute: Institute, tier: Tier, *,
          statement: str, contact_name: str, contact_email: str) -> Membership:
    """File an application; at most one pending or active membership per organization and institute."""
    if institute.is_retired:
        raise DomainError(None, f"{institute.acronym} has left the network; it takes no applications.", status=409)
    check_tier(tier, institute)
    statement, contact_name = statement.strip(), " ".join(contact_name.split())
    if not statement:
        raise DomainError("statement", "Say briefly why your organization wants to join")
    if not contact_name:
        raise DomainError("contact_name", "Enter the name of the contact for this membership")
    existing = live_membership(organization, institute)
    if existing is not None and existing.current_status(today()) == MembershipStatus.LAPSED:
        _record_lapse(existing)
        existing = None
    check_one_live(organization.name, institute, existing.status if existing is not None else None)
    membership = Membership(
        organization_id=organization.id, institute_id=institute.id, tier_id=tier.id,
        statement=statement, contact_name=contact_name, contact_email=contact_email.strip().lower(),
        applied_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(membership)
    except IntegrityError as error:  # another admin of the organization applied a moment ago
        raise DomainError("organization", f"{organization.name} already has an application waiting at "
                                  f"{institute.acronym}", status=409) from error
    audit.record(actor, "membership.applied", membership, institute_id=institute.id,
                 to_state=MembershipStatus.PENDING, details={"tier": tier.name})
    notifications.notify(
        _people_to_tell(membership),
        f"{organization.name} applied for {tier.name} membership of {institute.acronym}.",
        "memberships.detail", membership_id=membership.id)
    return membership


def _term_end(membership: Membership) -> date:
    """The end of the term of a membership that was approved (every approval sets one)."""
    if membership.ends_on is None:
        raise ValueError(f"{membership!r} was never approved, so it has no term")
    return membership.ends_on


def _transition(membership: Membership, from_statuses, **values) -> None:
    """Change a membership only if it is still in one of ``from_statuses``; else 409.

    The conditional UPDATE makes two people acting at once leave exactly one change standing. It is
    tried once per status it may start from, so the status it left is known exactly for the summary.
    """
    for before in from_statuses:
        changed = updated_rows(
            sa.update(Membership)
            .where(Membership.id == membership.id, Membership.status == before)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if changed == 1:
            break
    else:
        db.session.refresh(membership)
        raise DomainError(None, f"This membership is already {membership.current_status(today())}; "
                                "nothing was changed.", status=409)
    db.session.refresh(membership)
    if "status" in values:
        summary.membership_moved(membership, before, values["status"])
    if "decided_at" in values:
        summary.membership_decided(membership)


def approve(actor: User, membership: Membership, *, starts_on: date | None = None, term_years: int = 1) -> None:
    conflicts.require_impartial(actor, {membership.organization_id}, "decide its application")
    starts_on = starts_on or today()
    if term_years < 1 or term_years > 10:
        raise DomainError("term_years", "The term must be between 1 and 10 years")
    ends_on = add_years(starts_on, term_years)
    dates.check_membership_term(starts_on, ends_on, membership.institute.founded_year)
    _transition(membership, [MembershipStatus.PENDING], status=MembershipStatus.ACTIVE,
                decided_by_id=actor.id, decided_at=utcnow(), starts_on=starts_on, ends_on=ends_on)
    audit.record(actor, "membership.approved", membership, institute_id=membership.institute_id,
                 from_state=MembershipStatus.PENDING, to_state=MembershipStatus.ACTIVE,
                 details={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    notifications.notify(
        _people_to_tell(membership),
        f"{possessive(membership.organization.name)} application to {membership.institute.acronym} was approved.",
        "memberships.detail", membership_id=membership.id, actor=actor)


def decline(actor: User, membership: Membership, *, reason: str) -> None:
    conflicts.require_impartial(actor, {membership.organization_id}, "decide its application")
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Give the reason for declining; the applicant will see it")
    _transition(membership, [MembershipStatus.PENDING], status=MembershipStatus.DECLINED,
                decided_by_id=actor.id, decided_at=utcnow(), decision_reason=reason)
    audit.record(actor, "membership.declined", membership, institute_id=membership.institute_id,
                 from_state=MembershipStatus.PENDING, to_state=MembershipStatus.DECLINED, reason=reason)
    notifications.notify(
        _people_to_tell(membership),
        f"{possessive(membership.organization.name)} application to {membership.institute.acronym} was declined.",
        "memberships.detail", membership_id=membership.id, actor=actor)


# Lifecycle -----------------------------------------------------------------------------------

def _require_in_force(membership: Membership) -> None:
    if membership.current_status(today()) != MembershipStatus.ACTIVE:
        raise DomainError(None, f"This membership is {membership.current_status(today())}; "
                                "only an active membership can do that.", status=409)


def renew(actor: User, membership: Membership, *, expected_ends_on: date) -> None:
    """Extend by a year. ``expected_ends_on`` is the end date the person saw, so a repeat does nothing."""
    _require_in_force(membership)
    new_end = add_years(_term_end(membership), 1)
    changed = updated_rows(
        sa.update(Membership)
        .where(Membership.id == membership.id, Membership.ends_on == expected_ends_on,
               Membership.status == MembershipStatus.ACTIVE)
        .values(ends_on=new_end, reminded_for=None)
        .execution_options(synchronize_session=False)
    )
    if changed != 1:
        db.session.refresh(membership)
        raise DomainError(None, f"This membership was already renewed; it now ends on "
                                f"{long_date(_term_end(membership))}.", status=409)
    db.session.refresh(membership)
    audit.record(actor, "membership.renewed", membership, institute_id=membership.institute_id,
                 details={"ends_on": [expected_ends_on.isoformat(), new_end.isoformat()]})
    notifications.notify(_people_to_tell(membership),
                         f"{membership.organization.name} renewed its membership of {membership.institute.acronym} "
                         f"to {long_date(new_end)}.", "memberships.detail", membership_id=membership.id, actor=actor)


def withdraw(actor: User, membership: Membership, *, reason: str = "") -> None:
    before = membership.current_status(today())
    if before == MembershipStatus.LAPSED:
        raise DomainError(None, "This membership has already lapsed.", status=409)
    _transition(membership, LIVE_STATUSES, status=MembershipStatus.WITHDRAWN, closed_at=utcnow(),
                close_reason=reason.strip() or None, requested_tier_id=None)
    audit.record(actor, "membership.withdrawn", membership, institute_id=membership.institute_id,
                 from_state=before, to_state=MembershipStatus.WITHDRAWN, reason=reason.strip() or None)
    notifications.notify(
        staff_users(membership.institute),
        f"{membership.organization.name} withdrew from {membership.institute.acronym}.",
        "memberships.detail", membership_id=membership.id, actor=actor)


def end(actor: User, membership: Membership, *, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Give the reason for ending the membership")
    _require_in_force(membership)
    _transition(membership, [MembershipStatus.ACTIVE], status=MembershipStatus.ENDED, closed_at=utcnow(),
                close_reason=reason, requested_tier_id=None)
    audit.record(actor, "membership.ended", membership, institute_id=membership.institute_id,
                 from_state=MembershipStatus.ACTIVE, to_state=MembershipStatus.ENDED, reason=reason)
    notifications.notify(
        _people_to_tell(membership),
        f"{membership.institute.acronym} ended {possessive(membership.organization.name)} membership.",
        "memberships.detail", membership_id=membership.id, actor=actor)


def request_tier_change(actor: User, membership: Membership, tier: Tier) -> None:
    _require_in_force(membership)
    if tier.institute_id != membership.institute_id or tier.is_retired:
        raise DomainError("tier", "Choose one of this institute's current tiers")
    if tier.id == membership.tier_id:
        raise DomainError("tier", f"The membership is already {tier.name}")
    membership.requested_tier_id = tier.id
    audit.record(actor, "membership.tier_change_requested", membership, institute_id=membership.institute_id,
                 details={"from": membership.tier.name, "to": tier.name})
    notifications.notify(
        staff_users(membership.institute),
        f"{membership.organization.name} asks to change to {tier.name} at {membership.institute.acronym}.",
        "memberships.detail", membership_id=membership.id, actor=actor)


def decide_tier_change(actor: User, membership: Membership, *, approve_change: bool) -> None:
    conflicts.require_impartial(actor, {membership.organization_id}, "decide its change of tier")
    requested = membership.requested_tier_id
    if requested is None:
        raise DomainError(None, "There is no tier change waiting; it may already have been decided.",
                          status=409)
    values: dict[str, int | None] = {"requested_tier_id": None}
    if approve_change:
        values["tier_id"] = requested
    changed = updated_rows(
        sa.update(Membership).where(Membership.id == membership.id, Membership.requested_tier_id == requested)
        .values(**values).execution_options(synchronize_session=False))
    if changed != 1:
        raise DomainError(None, "That tier change was already decided.", status=409)
    old_tier = membership.tier.name
    db.session.refresh(membership)
    audit.record(actor, "membership.tier_changed" if approve_change else "membership.tier_change_declined",
                 membership, institute_id=membership.institute_id,
                 details={"from": old_tier, "requested_tier_id": requested})
    verb = "approved" if approve_change else "declined"
    notifications.notify(
        admins_of(membership.organization),
        f"{membership.institute.acronym} {verb} {possessive(membership.organization.name)} change of tier.",
        "memberships.detail", membership_id=membership.id, actor=actor)


def expire(on: date | None = None) -> int:
    """Record as lapsed every active membership whose end date has passed; returns how many."""
    on = on or today()
    lapsed = list(db.session.scalars(sa.select(Membership).where(
        Membership.status == MembershipStatus.ACTIVE, Membership.ends_on < on).with_for_update()))
    return sum(_record_lapse(membership) for membership in lapsed)


def remind(on: date | None = None) -> int:
    """Tell organizations and staff of memberships ending within 30 days, once per end date."""
    on = on or today()
    due = list(db.session.scalars(
        sa.select(Membership).where(
            Membership.in_force(on), Membership.ends_on <= on + timedelta(days=REMIND_DAYS),
            sa.or_(Membership.reminded_for.is_(None), Membership.reminded_for != Membership.ends_on))
        .options(so.joinedload(Membership.organization), so.joinedload(Membership.institute))))
    for membership in due:
        membership.reminded_for = membership.ends_on
        notifications.notify(
            _people_to_tell(membership),
            f"{possessive(membership.organization.name)} membership of {membership.institute.acronym} ends on "
            f"{long_date(_term_end(membership))}; renew it to keep member access.",
            "memberships.detail", membership_id=membership.id)
        audit.record(None, "membership.reminded", membership, institute_id=membership.institute_id,
                     details={"ends_on": _term_end(membership).isoformat()})
    return len(due)
