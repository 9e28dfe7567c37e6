"""What a membership gives access to, rosters, queues and how long applications wait."""

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    Figure,
    Institute,
    Membership,
    MembershipStatus,
    Organization,
    Sector,
    Summary,
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

def members_in_force_query(institute: Institute, on: date | None = None) -> sa.Select:
    """The memberships in force at ``institute``, with the organization's name and the tier's, for a page."""
    on = on or today()
    return (sa.select(Membership).join(Membership.organization)
            .where(Membership.institute_id == institute.id, Membership.in_force(on))
            .options(so.load_only(Membership.id, Membership.contact_name, Membership.contact_email,
                                  Membership.starts_on, Membership.ends_on, Membership.tier_id),
                     so.contains_eager(Membership.organization).load_only(
                         Organization.id, Organization.name, Organization.sector, Organization.listed),
                     so.joinedload(Membership.tier).load_only(Tier.id, Tier.name)))


def members_in_force(institute: Institute, on: date | None = None) -> list[Membership]:
    return list(db.session.scalars(members_in_force_query(institute, on).order_by(Organization.name)))


@dataclass
class PublicRoster:
    by_sector: dict[str, list[Organization]]  # listed organizations only
    counts: dict[str, int]  # every member, listed or not
    total: int

    @property
    def summary(self) -> str:
        """For example '2 industry, 1 academic'."""
        return ", ".join(f"{count} {sector}" for sector, count in self.counts.items() if count)


NAMED_PER_SECTOR = 25


def in_force_counts(institute: Institute, on: date | None = None) -> dict[str, int]:
    """How many members are in force at ``institute`` on ``on``, by sector, without reading the roster: the
    summary's count of active memberships (one per organization and institute), less the active ones whose
    end date has passed before they were recorded as lapsed (a few, found by their end date)."""
    on = on or today()
    counts = {sector.value: 0 for sector in Sector}
    for group, value in db.session.execute(sa.select(Summary.key, Summary.value).where(
            Summary.scope == institute.id, Summary.figure == Figure.MEMBERS_BY_GROUP)):
        counts[group.split(" ")[0]] += value  # "industry (small)" and "industry (large)" are industry
    # two index ranges (an OR of them would read every membership of the institute), the sector of each found
    active = sa.and_(Membership.institute_id == institute.id, Membership.status == MembershipStatus.ACTIVE)
    ended_unrecorded = sa.union_all(
        sa.select(Membership.organization_id).where(active, Membership.ends_on < on),
        sa.select(Membership.organization_id).where(active, Membership.ends_on.is_(None))).subquery()
    sector_of = (sa.select(Organization.sector).where(Organization.id == ended_unrecorded.c.organization_id)
                 .scalar_subquery())
    for sector, ended in db.session.execute(sa.select(sector_of, sa.func.count()).select_from(ended_unrecorded)
                                            .group_by(sector_of)):
        counts[str(sector)] -= ended
    return counts


def public_roster(institute: Institute, on: date | None = None) -> PublicRoster:
    """Members in force counted by sector, and the first listed ones of each sector by name: a bounded
    number of rows whatever the size of the institute (the directory lists them all, page by page)."""
    on = on or today()
    counts = in_force_counts(institute, on)
    member = sa.select(Membership.id).where(Membership.organization_id == Organization.id,
                                            Membership.institute_id == institute.id, Membership.in_force(on)).exists()
    firsts = sa.union_all(*(sa.select(
        sa.select(Organization.id).where(Organization.listed, Organization.sector == sector, member)
        .order_by(Organization.name, Organization.id).limit(NAMED_PER_SECTOR).subquery()) for sector in Sector))
    by_sector: dict[str, list[Organization]] = {sector.value: [] for sector in Sector}
    for organization in db.session.scalars(
            sa.select(Organization).where(Organization.id.in_(firsts))
            .options(so.load_only(Organization.id, Organization.name, Organization.sector))
            .order_by(Organization.name, Organization.id)):
        by_sector[organization.sector].append(organization)
    return PublicRoster(by_sector=by_sector, counts=counts, total=sum(counts.values()))


ROSTER_COLUMNS = ["organization", "sector", "size", "state", "tier", "annual_fee", "starts_on", "ends_on",
                  "contact_name", "contact_email", "listed"]


def roster_csv(institute: Institute, on: date | None = None) -> Iterator[str]:
    """The members in force with their contacts, as CSV text in pieces, read in batches."""
    on = on or today()
    rows = (sa.select(Organization.name, Organization.sector, Organization.size, Organization.state, Tier.name,
                      Tier.annual_fee_cents, Membership.starts_on, Membership.ends_on, Membership.contact_name,
                      Membership.contact_email, Organization.listed)
            .join(Organization, Organization.id == Membership.organization_id)
            .join(Tier, Tier.id == Membership.tier_id)
            .where(Membership.institute_id == institute.id, Membership.in_force(on))
            .order_by(Organization.name, Membership.id))
    return csvfile.stream(ROSTER_COLUMNS, (
        [name, sector, size or "", state, tier, f"{fee / 100:.2f}", starts, ends, contact, email,
         "yes" if listed else "no"]
        for name, sector, size, state, tier, fee, starts, ends, contact, email, listed in csvfile.rows_of(rows)))


def pending_query(institute: Institute) -> sa.Select:
    """The institute's applications waiting for a decision, with the organization and tier, for a page."""
    return (sa.select(Membership).where(Membership.institute_id == institute.id,
                                        Membership.status == MembershipStatus.PENDING)
            .options(so.joinedload(Membership.organization).load_only(Organization.id, Organization.name,
                                                                       Organization.sector, Organization.size),
                     so.joinedload(Membership.tier).load_only(Tier.id, Tier.name)))


def pending_count(institute: Institute) -> int:
    """How many applications wait at ``institute`` (an index range, however many members it has)."""
    return db.session.scalar(sa.select(sa.func.count()).where(
        Membership.institute_id == institute.id, Membership.status == MembershipStatus.PENDING)) or 0


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
    """Median whole days from application to decision (the summary's count of decisions by days, a few hundred
    rows at most, as the snapshot's), and the longest wait still open (the oldest pending application)."""
    now = now or utcnow()
    days = sorted((int(key), value) for key, value in db.session.execute(sa.select(Summary.key, Summary.value).where(
        Summary.scope == institute.id, Summary.figure == Figure.MEMBERSHIP_DAYS, Summary.value > 0)))
    decided = sum(value for _, value in days)
    median = None
    if decided:
        middle, seen = [], 0
        for day, value in days:  # the one or two middle decisions, by position in the sorted days
            for position in {(decided - 1) // 2, decided // 2}:
                if seen <= position < seen + value:
                    middle.append(day)
            seen += value
        median = round(float(statistics.mean(middle)), 1)
    oldest = db.session.scalar(sa.select(sa.func.min(Membership.applied_at)).where(
        Membership.institute_id == institute.id, Membership.status == MembershipStatus.PENDING,
        Membership.decided_at.is_(None)))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return WaitTimes(decided=decided, median_days=median,
                     longest_open_days=(now - oldest).days if oldest is not None else None)


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
