"""Organizations and affiliations: joining, creating, approving, editing."""

import difflib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.geography import US_STATES
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    Institute,
    Membership,
    Organization,
    OrgSize,
    Sector,
    User,
    name_key,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, conflicts, notifications, search, summary, updated_rows
from portal.services.clock import today


@dataclass(frozen=True)
class OrganizationChoice:
    """What a person typed about their organization; sector, size and state matter only if new."""

    name: str
    sector: str | None = None
    size: str | None = None
    state: str | None = None


def find_by_name(name: str) -> Organization | None:
    return db.session.scalar(sa.select(Organization).where(Organization.name_key == name_key(name)))


def new_organization(choice: OrganizationChoice) -> Organization:
    """An organization made from ``choice`` under the registration's rules (not added to the session)."""
    return _new_organization(choice)


def _new_organization(choice: OrganizationChoice) -> Organization:
    name = " ".join(choice.name.split())
    if not name:
        raise DomainError("organization", "Enter the name of your organization")
    if len(name) > 200:
        raise DomainError("organization", "Organization name must be 200 characters or fewer")
    if choice.sector not in set(Sector):
        raise DomainError("sector", "Your organization is new to the portal: choose its sector")
    sector = Sector(choice.sector)
    size = None
    if sector == Sector.INDUSTRY:
        if choice.size not in set(OrgSize):
            raise DomainError("size", "Your organization is new to the portal: choose its size")
        size = OrgSize(choice.size)
    if choice.state not in US_STATES:
        raise DomainError("state", "Your organization is new to the portal: choose its state or territory")
    return Organization(name=name, name_key=name_key(name), sector=sector, size=size, state=choice.state)


def join_or_create(user: User, choice: OrganizationChoice) -> Affiliation:
    """Join an existing organization (pending approval) or create it with ``user`` as admin."""
    organization = find_by_name(choice.name)
    created = False
    if organization is None:
        organization = _new_organization(choice)
        try:
            with db.session.begin_nested():
                db.session.add(organization)
        except IntegrityError:  # someone created the same name a moment ago: join theirs
            theirs = find_by_name(choice.name)
            if theirs is None:  # the clash was not the name, so there is nothing to join
                raise
            organization = theirs
        else:
            created = True
            audit.record(user, "organization.created", organization)
    existing = db.session.scalar(
        sa.select(Affiliation).filter_by(user_id=user.id, organization_id=organization.id)
    )
    if existing is not None and existing.status != AffiliationStatus.DECLINED:
        state = "a member of" if existing.status == AffiliationStatus.ACTIVE else "waiting to join"
        raise DomainError("organization", f"You are already {state} {organization.name}", status=409)
    if existing is not None:  # asking again after a decline
        existing.status = AffiliationStatus.PENDING
        existing.decided_at = existing.decided_by_id = None
        affiliation = existing
    else:
        affiliation = Affiliation(
            user_id=user.id,
            organization_id=organization.id,
            role=AffiliationRole.ADMIN if created else AffiliationRole.MEMBER,
            status=AffiliationStatus.ACTIVE if created else AffiliationStatus.PENDING,
        )
        db.session.add(affiliation)
    db.session.flush()
    audit.record(user, "affiliation.requested", affiliation, to_state=affiliation.status,
                 details={"organization_id": organization.id, "role": affiliation.role})
    if affiliation.status == AffiliationStatus.PENDING:
        _tell_admins_of_request(affiliation)
    return affiliation


def admins_of(organization: Organization) -> list[User]:
    return list(db.session.scalars(
        sa.select(User).join(Affiliation, Affiliation.user_id == User.id).where(
            Affiliation.organization_id == organization.id,
            Affiliation.role == AffiliationRole.ADMIN,
            Affiliation.status == AffiliationStatus.ACTIVE,
            User.active,
        )
    ))


def _tell_admins_of_request(affiliation: Affiliation) -> None:
    """The organization's admins, in the bell and by mail: someone asks to join."""
    notifications.notify(admins_of(affiliation.organization),
                         f"{affiliation.user.full_name} asks to join {affiliation.organization.name}",
                         "organizations.manage", actor=affiliation.user, org_id=affiliation.organization_id)


def decide_affiliation(actor: User, affiliation: Affiliation, *, approve: bool) -> None:
    """Approve or decline a pending request; exactly one decision stands if two arrive at once."""
    new_status = AffiliationStatus.ACTIVE if approve else AffiliationStatus.DECLINED
    changed = updated_rows(
        sa.update(Affiliation)
        .where(Affiliation.id == affiliation.id, Affiliation.status == AffiliationStatus.PENDING)
        .values(status=new_status, decided_at=utcnow(), decided_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if changed != 1:
        raise DomainError(None, "This request has already been decided.", status=409)
    db.session.refresh(affiliation)
    audit.record(actor, "affiliation.approved" if approve else "affiliation.declined", affiliation,
                 from_state=AffiliationStatus.PENDING, to_state=new_status)
    notifications.notify([affiliation.user], f"Your request to join {affiliation.organization.name} was "
                                             f"{'approved' if approve else 'declined'}",
                         "organizations.detail", actor=actor, org_id=affiliation.organization_id)
    if approve:  # a reviewer who joins a team's (or a competitor's) organization can no longer score its rival
        conflicts.recheck_for_organization(affiliation.organization_id, actor, member=affiliation.user)


WEBSITE_LENGTH = 255  # organizations.website


def clean_website(website: str) -> str:
    """A web address as stored: http or https, a host with a dot, at most WEBSITE_LENGTH characters."""
    website = website.strip()
    if not website:
        return ""
    if "://" not in website:
        website = "https://" + website
    try:
        parts = urlsplit(website)
    except ValueError:  # a host in brackets that is no IPv6 address, such as https://[]
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc or "." not in parts.netloc:
        raise DomainError("website", "Enter a web address such as https://www.example.com")
    if len(website) > WEBSITE_LENGTH:
        raise DomainError("website", f"A web address is at most {WEBSITE_LENGTH} characters long")
    return website


def update_profile(actor: User, organization: Organization, **fields) -> None:
    """Change an organization's public profile; each change goes to the audit log."""
    choice = OrganizationChoice(
        name=fields["name"], sector=fields["sector"], size=fields.get("size"), state=fields["state"]
    )
    proposed = _new_organization(choice)
    clash = find_by_name(proposed.name)
    if clash is not None and clash.id != organization.id:
        raise DomainError("name", "Another organization already has that name")
    values = {
        "name": proposed.name, "name_key": proposed.name_key, "sector": proposed.sector,
        "size": proposed.size, "state": proposed.state,
        "city": " ".join(fields.get("city", "").split()),
        "website": clean_website(fields.get("website", "")),
        "description": fields.get("description", "").strip(),
        "listed": bool(fields.get("listed")),
    }
    changes = {
        key: [str(getattr(organization, key)), str(value)]
        for key, value in values.items()
        if getattr(organization, key) != value and key != "name_key"
    }
    if not changes:
        return
    summary.organization_moving(organization.id, sector=proposed.sector, size=proposed.size, state=proposed.state)
    for key, value in values.items():
        setattr(organization, key, value)
    audit.record(actor, "organization.updated", organization, details=changes)


def affiliations_of(user: User) -> list[Affiliation]:
    return list(db.session.scalars(
        sa.select(Affiliation).where(Affiliation.user_id == user.id)
        .options(so.joinedload(Affiliation.organization))
        .order_by(Affiliation.created_at)
    ))


def members_of(organization: Organization) -> list[Affiliation]:
    """Every affiliation with ``organization``, pending first, then by name."""
    return list(db.session.scalars(
        sa.select(Affiliation).join(Affiliation.user)
        .where(Affiliation.organization_id == organization.id)
        .options(so.contains_eager(Affiliation.user))
        .order_by(Affiliation.status != AffiliationStatus.PENDING, Affiliation.created_at)
    ))


def affiliation_of(user: User, organization: Organization) -> Affiliation | None:
    return db.session.scalar(
        sa.select(Affiliation).filter_by(user_id=user.id, organization_id=organization.id)
    )


def directory_query(*, q: str = "", sector: str = "", size: str = "", state: str = "", institute: str = "",
                    members_only: bool = False) -> sa.Select:
    """Publicly listed organizations, filtered, with only the columns the directory shows. ``q`` matches
    name, city and state (close spellings too, on PostgreSQL); members_only keeps those with a membership in
    force, institute (a slug) those with a membership in force at that institute. Size applies to industry."""
    query = sa.select(Organization).where(Organization.listed).options(so.load_only(
        Organization.id, Organization.name, Organization.sector, Organization.size, Organization.state))
    if q.strip():
        query = query.where(search.matches(search.ORGANIZATION_TEXT, q))
    if sector:
        query = query.where(Organization.sector == sector)
    if size:
        query = query.where(Organization.size == size)
    if state:
        query = query.where(Organization.state == state)
    if members_only:
        query = query.where(Organization.id.in_(
            sa.select(Membership.organization_id).where(Membership.in_force(today()))))
    if institute:
        query = query.where(Organization.id.in_(
            sa.select(Membership.organization_id).join(Institute, Institute.id == Membership.institute_id)
            .where(Institute.slug == institute, Membership.in_force(today()))))
    return query


# Words that say what kind of body an organization is, not which one: "Acme, Inc." is "Acme".
LEGAL_WORDS = frozenset({"inc", "incorporated", "llc", "l.l.c", "ltd", "limited", "corp", "corporation", "co",
                         "company", "plc", "lp", "llp", "pllc", "the", "gmbh", "&"})


def core_name(name: str) -> str:
    """The words of a name that pick the organization out: lower-cased, without punctuation or legal words."""
    words = re.findall(r"[\w&.]+", name_key(name))
    return " ".join(w for w in (word.strip(".") for word in words) if w and w not in LEGAL_WORDS)


def close_matches(name: str, limit: int = 5) -> list[str]:
    """Listed organizations whose names are close to ``name`` but not the same: the same name but for legal
    words and punctuation ("Great Lakes Aerostructures, Inc."), one containing the other, or on PostgreSQL a
    close spelling. Registration asks "did you mean" with these before it creates a new organization."""
    core = core_name(name)
    if len(core) < 3 or find_by_name(name) is not None:
        return []
    first = core.split()[0]
    candidates = db.session.scalars(
        sa.select(Organization.name).where(Organization.listed, sa.or_(
            search.matches(search.ORGANIZATION_TEXT, core), search.matches(search.ORGANIZATION_TEXT, first)))
        .order_by(Organization.name).limit(200))
    close = [c for c in candidates if _close(core_name(c), core)]
    return close[:limit]


def _close(a: str, b: str) -> bool:
    """One name contains the other, or they are a letter or two apart ("Aerostructure" and "Aerostructures");
    names whose numbers differ ("Plant 2", "Plant 3") are different organizations."""
    if not a or re.findall(r"\d+", a) != re.findall(r"\d+", b):
        return False
    return a in b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def suggestions(q: str, limit: int = 10) -> list[str]:
    """Names of listed organizations that start with, or contain, ``q``: for a filter's suggestions."""
    if len(name_key(q)) < 2:
        return []
    return list(db.session.scalars(
        sa.select(Organization.name).where(Organization.listed,
                                           Organization.name_key.contains(name_key(q), autoescape=True))
        .order_by(Organization.name).limit(limit)))
