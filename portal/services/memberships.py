"""Institute memberships: staff, tiers, applications, decisions, lifecycle, access and rosters."""

import csv
import io
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    LIVE_STATUSES,
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    Institute,
    InstituteStaff,
    Membership,
    MembershipStatus,
    Organization,
    Sector,
    Tier,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, notifications, summary
from portal.services.accounts import find_by_email
from portal.services.organizations import admins_of

REMIND_DAYS = 30


def today() -> date:
    return datetime.now(UTC).date()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# Staff ---------------------------------------------------------------------------------------

def is_staff(user: User, institute: Institute) -> bool:
    return db.session.scalar(sa.select(InstituteStaff.id).where(
        InstituteStaff.institute_id == institute.id, InstituteStaff.user_id == user.id)) is not None


def staff_of(institute: Institute) -> list[InstituteStaff]:
    return list(db.session.scalars(
        sa.select(InstituteStaff).where(InstituteStaff.institute_id == institute.id)
        .options(so.joinedload(InstituteStaff.user)).order_by(InstituteStaff.created_at)))


def staff_users(institute: Institute) -> list[User]:
    return [staff.user for staff in staff_of(institute)]


def institutes_administered(user: User) -> list[Institute]:
    return list(db.session.scalars(sa.select(Institute).join(InstituteStaff, InstituteStaff.institute_id == Institute.id)
                                   .where(InstituteStaff.user_id == user.id).order_by(Institute.acronym)))


def add_staff(actor: User, institute: Institute, email: str) -> InstituteStaff:
    user = find_by_email(email)
    if user is None or not user.active:
        raise DomainError("email", "No active account has that email address")
    if is_staff(user, institute):
        raise DomainError("email", f"{user.full_name} already administers {institute.acronym}", status=409)
    staff = InstituteStaff(institute_id=institute.id, user_id=user.id, added_by_id=actor.id)
    db.session.add(staff)
    db.session.flush()
    audit.record(actor, "institute.staff_added", staff, institute_id=institute.id,
                 details={"user_id": user.id, "email": user.email})
    return staff


def remove_staff(actor: User, staff: InstituteStaff) -> None:
    audit.record(actor, "institute.staff_removed", staff, institute_id=staff.institute_id,
                 details={"user_id": staff.user_id})
    db.session.delete(staff)


# Tiers ---------------------------------------------------------------------------------------

def tiers_of(institute: Institute, *, include_retired: bool = False) -> list[Tier]:
    query = sa.select(Tier).where(Tier.institute_id == institute.id)
    if not include_retired:
        query = query.where(Tier.retired_at.is_(None))
    return list(db.session.scalars(query.order_by(Tier.annual_fee_cents.desc(), Tier.name)))


def create_tier(actor: User | None, institute: Institute, *, name: str, annual_fee_cents: int,
                may_lead_projects: bool, may_join_projects: bool, governance_vote: bool,
                named_seats: int) -> Tier:
    name = " ".join(name.split())
    if not name:
        raise DomainError("name", "Enter the tier's name")
    clash = db.session.scalar(sa.select(Tier).where(
        Tier.institute_id == institute.id, sa.func.lower(Tier.name) == name.lower()))
    if clash is not None:
        raise DomainError("name", f"{institute.acronym} already has a tier called {clash.name}", status=409)
    if named_seats < 0:
        raise DomainError("named_seats", "Named seats cannot be negative")
    tier = Tier(institute_id=institute.id, name=name, annual_fee_cents=annual_fee_cents,
                may_lead_projects=may_lead_projects, may_join_projects=may_join_projects,
                governance_vote=governance_vote, named_seats=named_seats)
    db.session.add(tier)
    db.session.flush()
    audit.record(actor, "tier.created", tier, institute_id=institute.id,
                 details={"name": name, "annual_fee_cents": annual_fee_cents})
    return tier


def retire_tier(actor: User, tier: Tier) -> str:
    """Delete a tier nobody ever held; retire one that is or was in use. Returns which."""
    if tier.is_retired:
        raise DomainError(None, f"The {tier.name} tier is already retired.", status=409)
    used = db.session.scalar(sa.select(Membership.id).where(
        sa.or_(Membership.tier_id == tier.id, Membership.requested_tier_id == tier.id)).limit(1))
    if used is None:
        audit.record(actor, "tier.deleted", tier, institute_id=tier.institute_id, details={"name": tier.name})
        db.session.delete(tier)
        return "deleted"
    tier.retired_at = utcnow()
    audit.record(actor, "tier.retired", tier, institute_id=tier.institute_id, to_state="retired")
    return "retired"


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
                 details={"ends_on": membership.ends_on.isoformat()})
    return True


def _people_to_tell(membership: Membership) -> list[User]:
    return admins_of(membership.organization) + staff_users(membership.institute)


def apply(actor: User, organization: Organization, institute: Institute, tier: Tier, *,
          statement: str, contact_name: str, contact_email: str) -> Membership:
    """File an application; at most one pending or active membership per organization and institute."""
    if tier.institute_id != institute.id:
        raise DomainError("tier", f"That tier does not belong to {institute.acronym}")
    if tier.is_retired:
        raise DomainError("tier", f"The {tier.name} tier is retired; choose another")
    statement, contact_name = statement.strip(), " ".join(contact_name.split())
    if not statement:
        raise DomainError("statement", "Say briefly why your organization wants to join")
    if not contact_name:
        raise DomainError("contact_name", "Enter the name of the contact for this membership")
    existing = live_membership(organization, institute)
    if existing is not None and existing.current_status(today()) == MembershipStatus.LAPSED:
        _record_lapse(existing)
        existing = None
    if existing is not None:
        what = "an application waiting" if existing.status == MembershipStatus.PENDING else "an active membership"
        raise DomainError("organization", f"{organization.name} already has {what} at {institute.acronym}",
                          status=409)
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


def _transition(membership: Membership, from_statuses, **values) -> None:
    """Change a membership only if it is still in one of ``from_statuses``; else 409.

    The conditional UPDATE makes two people acting at once leave exactly one change standing. It is
    tried once per status it may start from, so the status it left is known exactly for the summary.
    """
    for before in from_statuses:
        result = db.session.execute(
            sa.update(Membership)
            .where(Membership.id == membership.id, Membership.status == before)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
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
    starts_on = starts_on or today()
    if term_years < 1 or term_years > 10:
        raise DomainError("term_years", "The term must be between 1 and 10 years")
    _transition(membership, [MembershipStatus.PENDING], status=MembershipStatus.ACTIVE,
                decided_by_id=actor.id, decided_at=utcnow(), starts_on=starts_on,
                ends_on=add_years(starts_on, term_years))
    audit.record(actor, "membership.approved", membership, institute_id=membership.institute_id,
                 from_state=MembershipStatus.PENDING, to_state=MembershipStatus.ACTIVE,
                 details={"starts_on": starts_on.isoformat(), "ends_on": membership.ends_on.isoformat()})
    notifications.notify(
        _people_to_tell(membership),
        f"{membership.organization.name}'s application to {membership.institute.acronym} was approved.",
        "memberships.detail", membership_id=membership.id, actor=actor)


def decline(actor: User, membership: Membership, *, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Give the reason for declining; the applicant will see it")
    _transition(membership, [MembershipStatus.PENDING], status=MembershipStatus.DECLINED,
                decided_by_id=actor.id, decided_at=utcnow(), decision_reason=reason)
    audit.record(actor, "membership.declined", membership, institute_id=membership.institute_id,
                 from_state=MembershipStatus.PENDING, to_state=MembershipStatus.DECLINED, reason=reason)
    notifications.notify(
        _people_to_tell(membership),
        f"{membership.organization.name}'s application to {membership.institute.acronym} was declined.",
        "memberships.detail", membership_id=membership.id, actor=actor)


# Lifecycle -----------------------------------------------------------------------------------

def _require_in_force(membership: Membership) -> None:
    if membership.current_status(today()) != MembershipStatus.ACTIVE:
        raise DomainError(None, f"This membership is {membership.current_status(today())}; "
                                "only an active membership can do that.", status=409)


def renew(actor: User, membership: Membership, *, expected_ends_on: date) -> None:
    """Extend by a year. ``expected_ends_on`` is the end date the person saw, so a repeat does nothing."""
    _require_in_force(membership)
    new_end = add_years(membership.ends_on, 1)
    result = db.session.execute(
        sa.update(Membership)
        .where(Membership.id == membership.id, Membership.ends_on == expected_ends_on,
               Membership.status == MembershipStatus.ACTIVE)
        .values(ends_on=new_end, reminded_for=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(membership)
        raise DomainError(None, f"This membership was already renewed; it now ends on "
                                f"{membership.ends_on:%-d %B %Y}.", status=409)
    db.session.refresh(membership)
    audit.record(actor, "membership.renewed", membership, institute_id=membership.institute_id,
                 details={"ends_on": [expected_ends_on.isoformat(), new_end.isoformat()]})


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
        f"{membership.institute.acronym} ended {membership.organization.name}'s membership.",
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
    requested = membership.requested_tier_id
    if requested is None:
        raise DomainError(None, "There is no tier change waiting; it may already have been decided.",
                          status=409)
    values = {"requested_tier_id": None}
    if approve_change:
        values["tier_id"] = requested
    result = db.session.execute(
        sa.update(Membership).where(Membership.id == membership.id, Membership.requested_tier_id == requested)
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise DomainError(None, "That tier change was already decided.", status=409)
    old_tier = membership.tier.name
    db.session.refresh(membership)
    audit.record(actor, "membership.tier_changed" if approve_change else "membership.tier_change_declined",
                 membership, institute_id=membership.institute_id,
                 details={"from": old_tier, "requested_tier_id": requested})
    verb = "approved" if approve_change else "declined"
    notifications.notify(
        admins_of(membership.organization),
        f"{membership.institute.acronym} {verb} {membership.organization.name}'s change of tier.",
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
            f"{membership.organization.name}'s membership of {membership.institute.acronym} ends on "
            f"{membership.ends_on:%-d %B %Y}; renew it to keep member access.",
            "memberships.detail", membership_id=membership.id)
        audit.record(None, "membership.reminded", membership, institute_id=membership.institute_id,
                     details={"ends_on": membership.ends_on.isoformat()})
    return len(due)


# Access --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    """What a user may do at an institute."""

    member: bool = False
    staff: bool = False
    may_lead_projects: bool = False
    may_join_projects: bool = False

    @property
    def sees_member_content(self) -> bool:
        return self.member or self.staff


def access(user, institute: Institute, on: date | None = None) -> Access:
    """Is ``user`` a member of ``institute`` (through any organization), and may they lead or join projects?

    The one place that answers it: a membership grants access while it is active and its end date
    has not passed, to every active user of the member organization.
    """
    if not getattr(user, "is_authenticated", False):
        return Access()
    on = on or today()
    tiers = list(db.session.scalars(
        sa.select(Tier).join(Membership, Membership.tier_id == Tier.id)
        .join(Affiliation, Affiliation.organization_id == Membership.organization_id)
        .where(Membership.institute_id == institute.id, Membership.in_force(on),
               Affiliation.user_id == user.id, Affiliation.status == AffiliationStatus.ACTIVE)))
    staff = user.is_network_admin or is_staff(user, institute)
    return Access(
        member=bool(tiers),
        staff=staff,
        may_lead_projects=any(t.may_lead_projects for t in tiers),
        may_join_projects=any(t.may_join_projects or t.may_lead_projects for t in tiers),
    )


# Rosters and timers --------------------------------------------------------------------------

def members_in_force(institute: Institute, on: date | None = None) -> list[Membership]:
    on = on or today()
    return list(db.session.scalars(
        sa.select(Membership).join(Membership.organization)
        .where(Membership.institute_id == institute.id, Membership.in_force(on))
        .options(so.contains_eager(Membership.organization), so.joinedload(Membership.tier))
        .order_by(Organization.name)))


@dataclass
class PublicRoster:
    by_sector: dict[str, list[Organization]]  # listed organizations only
    counts: dict[str, int]  # every member, listed or not
    total: int

    @property
    def summary(self) -> str:
        """For example '2 industry, 1 academic'."""
        return ", ".join(f"{count} {sector}" for sector, count in self.counts.items() if count)


def public_roster(institute: Institute, on: date | None = None) -> PublicRoster:
    members = members_in_force(institute, on)
    by_sector = {sector.value: [] for sector in Sector}
    counts = {sector.value: 0 for sector in Sector}
    for membership in members:
        organization = membership.organization
        counts[organization.sector] += 1
        if organization.listed:
            by_sector[organization.sector].append(organization)
    return PublicRoster(by_sector=by_sector, counts=counts, total=len(members))


ROSTER_COLUMNS = ["organization", "sector", "size", "state", "tier", "annual_fee", "starts_on", "ends_on",
                  "contact_name", "contact_email", "listed"]


def roster_csv(institute: Institute, on: date | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ROSTER_COLUMNS)
    for m in members_in_force(institute, on):
        org = m.organization
        writer.writerow([_csv_safe(org.name), org.sector, org.size or "", org.state, _csv_safe(m.tier.name),
                         f"{m.tier.annual_fee_cents / 100:.2f}", m.starts_on, m.ends_on,
                         _csv_safe(m.contact_name), _csv_safe(m.contact_email), "yes" if org.listed else "no"])
    return out.getvalue()


def _csv_safe(value: str) -> str:
    """Stop a spreadsheet from running a cell typed by a user as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def pending_queue(institute: Institute) -> list[Membership]:
    return list(db.session.scalars(
        sa.select(Membership).where(Membership.institute_id == institute.id,
                                    Membership.status == MembershipStatus.PENDING)
        .options(so.joinedload(Membership.organization), so.joinedload(Membership.tier))
        .order_by(Membership.applied_at)))


def tier_change_requests(institute: Institute) -> list[Membership]:
    return list(db.session.scalars(
        sa.select(Membership).where(Membership.institute_id == institute.id,
                                    Membership.requested_tier_id.is_not(None))
        .options(so.joinedload(Membership.organization), so.joinedload(Membership.tier),
                 so.joinedload(Membership.requested_tier))
        .order_by(Membership.applied_at)))


@dataclass
class WaitTimes:
    decided: int
    median_days: float | None
    longest_open_days: int | None


def wait_times(institute: Institute, now: datetime | None = None) -> WaitTimes:
    """Median days from application to decision, and the longest wait still open."""
    now = now or utcnow()
    rows = db.session.execute(sa.select(Membership.applied_at, Membership.decided_at).where(
        Membership.institute_id == institute.id,
        sa.or_(Membership.decided_at.is_not(None), Membership.status == MembershipStatus.PENDING))).all()
    decided = [(d - a).total_seconds() / 86400 for a, d in rows if d is not None]
    open_waits = [(now - a).days for a, d in rows if d is None]
    return WaitTimes(
        decided=len(decided),
        median_days=round(statistics.median(decided), 1) if decided else None,
        longest_open_days=max(open_waits) if open_waits else None,
    )


def memberships_of(organization: Organization) -> list[Membership]:
    return list(db.session.scalars(
        sa.select(Membership).where(Membership.organization_id == organization.id)
        .options(so.joinedload(Membership.institute), so.joinedload(Membership.tier))
        .order_by(Membership.applied_at.desc())))


def admin_organizations(user: User) -> list[Organization]:
    """Organizations whose active admin ``user`` is: the ones they may apply for."""
    return list(db.session.scalars(
        sa.select(Organization).join(Affiliation, Affiliation.organization_id == Organization.id)
        .where(Affiliation.user_id == user.id, Affiliation.role == AffiliationRole.ADMIN,
               Affiliation.status == AffiliationStatus.ACTIVE)
        .order_by(Organization.name)))


# Seed tiers ----------------------------------------------------------------------------------

def seed_tiers(records: dict) -> int:
    """Give each institute its tiers (America Makes' real ones, a default set for the others) once."""
    created = 0
    institutes = list(db.session.scalars(sa.select(Institute)))
    existing = {(t.institute_id, t.name) for t in db.session.scalars(sa.select(Tier))}
    for institute in institutes:
        for spec in records.get(institute.slug, records["default"]):
            if (institute.id, spec["name"]) in existing:
                continue
            create_tier(None, institute, name=spec["name"], annual_fee_cents=spec["annual_fee_usd"] * 100,
                        may_lead_projects=spec["may_lead_projects"], may_join_projects=spec["may_join_projects"],
                        governance_vote=spec["governance_vote"], named_seats=spec["named_seats"])
            created += 1
    return created
