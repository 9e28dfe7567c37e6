"""Test data made through the same models the portal uses; each helper commits in its own context."""

from itertools import count

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
from portal.services import passwords
from tests.conftest import PASSWORD

_numbers = count(1)


def make_user(app, *, email: str | None = None, full_name: str = "Test Person", password: str = PASSWORD,
              verified: bool = True, role: Role = Role.MEMBER, active: bool = True) -> User:
    with app.app_context():
        user = User(
            email=email or f"person{next(_numbers)}@example.com",
            full_name=full_name,
            password_hash=passwords.hash_password(password),
            email_verified_at=utcnow() if verified else None,
            role=role,
            active=active,
        )
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        return user


def make_organization(app, *, name: str | None = None, sector: Sector = Sector.INDUSTRY,
                      size: OrgSize | None = OrgSize.SMALL, state: str = "OH", listed: bool = True) -> Organization:
    name = name or f"Organization {next(_numbers)}"
    with app.app_context():
        organization = Organization(
            name=name, name_key=name_key(name), sector=sector,
            size=size if sector == Sector.INDUSTRY else None, state=state, listed=listed,
        )
        db.session.add(organization)
        db.session.commit()
        db.session.refresh(organization)
        return organization


def affiliate(app, user: User, organization: Organization, *, role: AffiliationRole = AffiliationRole.MEMBER,
              status: AffiliationStatus = AffiliationStatus.ACTIVE) -> Affiliation:
    with app.app_context():
        affiliation = Affiliation(user_id=user.id, organization_id=organization.id, role=role, status=status)
        db.session.add(affiliation)
        db.session.commit()
        db.session.refresh(affiliation)
        return affiliation


def org_admin(app, organization: Organization | None = None, **user_fields) -> tuple[User, Organization]:
    """A verified user who is the active admin of an organization."""
    organization = organization or make_organization(app)
    user = make_user(app, **user_fields)
    affiliate(app, user, organization, role=AffiliationRole.ADMIN)
    return user, organization
