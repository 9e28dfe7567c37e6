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
