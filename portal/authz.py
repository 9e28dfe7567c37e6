"""Who may do what. Every per-object permission check in the portal is answered here."""

import sqlalchemy as sa
from flask import abort
from flask_login import AnonymousUserMixin

from portal.extensions import db
from portal.models import Affiliation, AffiliationRole, AffiliationStatus, Organization, User

Actor = User | AnonymousUserMixin | None


def _signed_in(user: Actor) -> bool:
    return isinstance(user, User) and user.is_active


def _active_affiliation(user: User, organization: Organization, *, admin: bool) -> bool:
    query = sa.select(Affiliation.id).where(
        Affiliation.user_id == user.id,
        Affiliation.organization_id == organization.id,
        Affiliation.status == AffiliationStatus.ACTIVE,
    )
    if admin:
        query = query.where(Affiliation.role == AffiliationRole.ADMIN)
    return db.session.scalar(query) is not None


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


POLICIES = {
    "organization.view": can_view_organization,
    "organization.manage": can_manage_organization,
}


def can(user: Actor, action: str, obj) -> bool:
    return POLICIES[action](user, obj)


def require(user: Actor, action: str, obj) -> None:
    """403 unless ``user`` may do ``action`` to ``obj``."""
    if not can(user, action, obj):
        abort(403)
