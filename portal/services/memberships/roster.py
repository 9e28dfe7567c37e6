"""What a membership gives access to, rosters, queues and how long applications wait."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    Institute,
    Membership,
    MembershipStatus,
    Organization,
    Sector,
    Tier,
    User,
)
from portal.models.base import utcnow
from portal.services import csvfile
from portal.services.clock import today
from portal.services.memberships.staff import is_staff

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
    by_sector: dict[str, list[Organization]] = {sector.value: [] for sector in Sector}
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
    return csvfile.to_csv(ROSTER_COLUMNS, (
        [m.organization.name, m.organization.sector, m.organization.size or "", m.organization.state, m.tier.name,
         f"{m.tier.annual_fee_cents / 100:.2f}", m.starts_on, m.ends_on, m.contact_name, m.contact_email,
         "yes" if m.organization.listed else "no"]
        for m in members_in_force(institute, on)))


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
