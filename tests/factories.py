"""Test data made through the same models the portal uses.

Outside an app context each helper commits in a context of its own and returns the object
detached but loaded; inside one (service tests) it flushes into that context's session.
"""

from itertools import count

from argon2 import PasswordHasher
from flask import has_app_context

from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    Organization,
    OrgSize,
    Role,
    Sector,
    User,
    name_key,
)
from portal.models.base import utcnow
from tests.conftest import PASSWORD

_numbers = count(1)
_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # the testing config's cost


def save(app, obj):
    if has_app_context():
        db.session.add(obj)
        db.session.flush()
        return obj
    with app.app_context():
        db.session.add(obj)
        db.session.commit()
        db.session.refresh(obj)
    return obj


def make_user(app, *, email: str | None = None, full_name: str = "Test Person", password: str = PASSWORD,
              verified: bool = True, role: Role = Role.MEMBER, active: bool = True) -> User:
    return save(app, User(
        email=email or f"person{next(_numbers)}@example.com",
        full_name=full_name,
        password_hash=_hasher.hash(password),
        email_verified_at=utcnow() if verified else None,
        role=role,
        active=active,
    ))


def make_organization(app, *, name: str | None = None, sector: Sector = Sector.INDUSTRY,
                      size: OrgSize | None = OrgSize.SMALL, state: str = "OH", listed: bool = True) -> Organization:
    name = name or f"Organization {next(_numbers)}"
    return save(app, Organization(
        name=name, name_key=name_key(name), sector=sector,
        size=size if sector == Sector.INDUSTRY else None, state=state, listed=listed,
    ))


def affiliate(app, user: User, organization: Organization, *, role: AffiliationRole = AffiliationRole.MEMBER,
              status: AffiliationStatus = AffiliationStatus.ACTIVE) -> Affiliation:
    return save(app, Affiliation(user_id=user.id, organization_id=organization.id, role=role, status=status))


def org_admin(app, organization: Organization | None = None, **user_fields) -> tuple[User, Organization]:
    """A verified user who is the active admin of an organization."""
    organization = organization or make_organization(app)
    user = make_user(app, **user_fields)
    affiliate(app, user, organization, role=AffiliationRole.ADMIN)
    return user, organization


def make_institute(app, *, slug: str = "test-institute", acronym: str = "TI") -> "Institute":
    from portal.models import Agency, Institute

    return save(app, Institute(slug=slug, acronym=acronym, name=f"{acronym} Institute", focus="Testing",
                               agency=Agency.DOD, founded_year=2020, city="Dayton", state="OH",
                               description="An institute for tests.", federal_base_award_cents=7_000_000_000))


def make_tier(app, institute, *, name: str = "Gold", fee_cents: int = 5_000_000, may_lead: bool = True,
              retired: bool = False) -> "Tier":
    from portal.models import Tier

    return save(app, Tier(institute_id=institute.id, name=name, annual_fee_cents=fee_cents,
                          may_lead_projects=may_lead, may_join_projects=True, governance_vote=False,
                          named_seats=2, retired_at=utcnow() if retired else None))


def make_staff(app, institute, **user_fields) -> User:
    from portal.models import InstituteStaff

    user = make_user(app, **user_fields)
    save(app, InstituteStaff(institute_id=institute.id, user_id=user.id))
    return user


def make_membership(app, organization, institute, tier, *, status="active", applied_by=None,
                    starts_on=None, ends_on=None, applied_at=None) -> "Membership":
    from datetime import timedelta

    from portal.models import Membership
    from portal.services.clock import today

    applied_by = applied_by or make_user(app)
    if status == "active":
        starts_on = starts_on or today() - timedelta(days=30)
        ends_on = ends_on or starts_on + timedelta(days=365)
    membership = save(app, Membership(
        organization_id=organization.id, institute_id=institute.id, tier_id=tier.id, status=status,
        statement="We make parts.", contact_name="Pat Contact", contact_email="pat@example.com",
        applied_by_id=applied_by.id, applied_at=applied_at or utcnow(), starts_on=starts_on, ends_on=ends_on,
        decided_at=utcnow() if status != "pending" else None))
    _counted(app, membership)
    return membership


def _counted(app, membership) -> None:
    """Move the snapshot's summary figures as the services would have for this membership."""
    from portal.models import Membership, MembershipStatus
    from portal.services import summary

    def count_it():
        row = db.session.get(Membership, membership.id)
        summary.membership_moved(row, MembershipStatus.PENDING, row.status)
        if row.decided_at is not None:
            summary.membership_decided(row)

    if has_app_context():
        count_it()
        return
    with app.app_context():
        count_it()
        db.session.commit()
