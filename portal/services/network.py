"""Network administration: institutes added and retired, organizations verified, renamed and merged, and the
list of accounts. Only network administrators do any of it; every change is audited."""

import json
import re
from dataclasses import dataclass
from datetime import date
from importlib import resources

import sqlalchemy as sa

from portal.extensions import db
from portal.geography import US_STATES
from portal.models import (
    LIVE_STATUSES,
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    Agency,
    Institute,
    Membership,
    Organization,
    Partner,
    Pledge,
    ProjectCall,
    Proposal,
    User,
    name_key,
)
from portal.models.base import Base, utcnow
from portal.services import DomainError, audit, conflicts, memberships, summary
from portal.services.clock import today
from portal.services.ledger.entries import FIRST_FISCAL_YEAR
from portal.services.organizations import clean_website, find_by_name
from portal.services.search import ORGANIZATION_TEXT, matches

FIRST_FOUNDING_YEAR = FIRST_FISCAL_YEAR - 1  # the network's first institute was founded in 2012


def require_network_admin(actor: User) -> None:
    if not actor.is_network_admin:
        raise DomainError(None, "Only a network administrator may do that.", status=403)


# Institutes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InstituteInput:
    name: str
    acronym: str
    agency: str
    founded_year: int
    city: str
    state: str
    focus: str  # the technology area
    website: str = ""
    description: str = ""
    federal_base_award_cents: int = 0
    default_tiers: bool = True


def slug_for(acronym: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", acronym.casefold()).strip("-")


def _words(text: str) -> str:
    return " ".join(text.split())


def default_tiers() -> list[dict]:
    text = resources.files("portal").joinpath("data/tiers.json").read_text("utf-8")
    return json.loads(text)["default"]


def add_institute(actor: User, data: InstituteInput) -> Institute:
    """A new institute of the network, with the network's default membership tiers when asked for."""
    require_network_admin(actor)
    name, acronym, city, focus = (_words(data.name), _words(data.acronym), _words(data.city), _words(data.focus))
    for field, value, what in (("name", name, "the institute's name"), ("acronym", acronym, "its acronym"),
                               ("city", city, "the city of its headquarters"), ("focus", focus,
                                                                                "its technology area")):
        if not value:
            raise DomainError(field, f"Enter {what}")
    slug = slug_for(acronym)
    if not slug:
        raise DomainError("acronym", "An acronym needs a letter or a digit, such as NIIMBL")
    if data.agency not in {agency.value for agency in Agency}:
        raise DomainError("agency", "Choose one of the options")
    if data.state not in US_STATES:
        raise DomainError("state", "Choose a state or territory")
    if not FIRST_FOUNDING_YEAR <= data.founded_year <= today().year:
        raise DomainError("founded_year", f"Enter a year from {FIRST_FOUNDING_YEAR} to {today().year}")
    clash = db.session.scalar(sa.select(Institute).where(sa.or_(
        Institute.slug == slug, sa.func.lower(Institute.acronym) == acronym.casefold())))
    if clash is not None:
        raise DomainError("acronym", f"{clash.acronym} ({clash.name}) is already an institute of the network",
                          status=409)
    institute = Institute(slug=slug, acronym=acronym, name=name, focus=focus, agency=Agency(data.agency),
                          founded_year=data.founded_year, city=city, state=data.state,
                          website=clean_website(data.website), description=data.description.strip(),
                          federal_base_award_cents=data.federal_base_award_cents)
    db.session.add(institute)
    db.session.flush()
    audit.record(actor, "institute.created", institute, institute_id=institute.id, to_state="active",
                 details={"acronym": acronym, "name": name, "agency": institute.agency.value,
                          "founded_year": institute.founded_year, "state": institute.state, "focus": focus,
                          "website": institute.website})
    if data.default_tiers:
        for tier in default_tiers():
            memberships.create_tier(actor, institute, name=tier["name"],
                                    annual_fee_cents=int(tier["annual_fee_usd"]) * 100,
                                    may_lead_projects=tier["may_lead_projects"],
                                    may_join_projects=tier["may_join_projects"],
                                    governance_vote=tier["governance_vote"], named_seats=tier["named_seats"])
    return institute


def retire_institute(actor: User, institute: Institute, *, retired_on: date, reason: str) -> None:
    """Record the last day ``institute`` was part of the network. From then on it takes no applications and
    opens no calls; memberships in force run to their end dates; its history stays in every figure."""
    require_network_admin(actor)
    reason = reason.strip()
    if institute.is_retired:
        raise DomainError(None, f"{institute.acronym} was retired already, on {institute.retired_on}.", status=409)
    if retired_on > today():
        raise DomainError("retired_on", "The date of retirement cannot be in the future")
    if retired_on.year < institute.founded_year:
        raise DomainError("retired_on", f"The date of retirement cannot be before {institute.founded_year}, "
                                        "when the institute was founded")
    if not reason:
        raise DomainError("reason", "Give the reason for retiring the institute")
    open_calls = db.session.scalar(sa.select(sa.func.count()).select_from(ProjectCall).where(
        ProjectCall.institute_id == institute.id, ProjectCall.status == "open")) or 0
    if open_calls:
        raise DomainError(None, f"{institute.acronym} has {open_calls} open call(s) for proposals; its "
                                "administrators close them first.", status=409)
    institute.retired_on = retired_on
    institute.retire_reason = reason
    audit.record(actor, "institute.retired", institute, institute_id=institute.id, from_state="active",
                 to_state="retired", reason=reason, details={"retired_on": retired_on.isoformat()})


def institutes() -> list[Institute]:
    return list(db.session.scalars(sa.select(Institute).order_by(Institute.retired_on.is_not(None),
                                                                 Institute.acronym)))


# Organizations ---------------------------------------------------------------------------------

def organizations_query(q: str = "") -> sa.Select:
    """Every organization, listed or not, matching ``q`` (its name, in part); paged by (name_key, id)."""
    query = sa.select(Organization)
    if q.strip():
        query = query.where(matches(ORGANIZATION_TEXT, q))
    return query


def organization_counts(organization: Organization) -> dict[str, int]:
    """How many records of each kind refer to ``organization`` (what a merge would move)."""
    def count(column) -> int:
        return db.session.scalar(sa.select(sa.func.count()).where(column == organization.id)) or 0
    return {"memberships": count(Membership.organization_id), "pledges": count(Pledge.organization_id),
            "proposals led": count(Proposal.lead_organization_id),
            "places on teams": count(Partner.organization_id),
            "people": count(Affiliation.organization_id)}


def verify_organization(actor: User, organization: Organization) -> None:
    require_network_admin(actor)
    if organization.verified_at is not None:
        raise DomainError(None, f"{organization.name} is verified already.", status=409)
    organization.verified_at = utcnow()
    organization.verified_by_id = actor.id
    audit.record(actor, "organization.verified", organization, from_state="unverified", to_state="verified")


def rename_organization(actor: User, organization: Organization, *, name: str) -> None:
    require_network_admin(actor)
    name = _words(name)
    if not name:
        raise DomainError("name", "Enter the organization's name")
    if len(name) > 200:
        raise DomainError("name", "A name is at most 200 characters long")
    clash = find_by_name(name)
    if clash is not None and clash.id != organization.id:
        raise DomainError("name", f"Another organization is called {clash.name}: merge them instead", status=409)
    if name == organization.name:
        raise DomainError("name", "That is its name already")
    audit.record(actor, "organization.renamed", organization, details={"name": [organization.name, name]})
    organization.name = name
    organization.name_key = name_key(name)


_ROLE_RANK = {AffiliationRole.MEMBER: 0, AffiliationRole.ADMIN: 1}
_STATUS_RANK = {AffiliationStatus.DECLINED: 0, AffiliationStatus.PENDING: 1, AffiliationStatus.ACTIVE: 2}


def merge_conflicts(survivor: Organization, absorbed: Organization) -> list[str]:
    """What stops ``absorbed`` from being merged into ``survivor``: two live memberships of one institute, or
    both organizations on one proposal's team. Each is said in words a person can act on."""
    problems = []
    both = sa.select(Membership.institute_id).where(Membership.status.in_(LIVE_STATUSES))
    institutes_both = db.session.scalars(
        sa.select(Institute.acronym).where(
            Institute.id.in_(both.where(Membership.organization_id == survivor.id)),
            Institute.id.in_(both.where(Membership.organization_id == absorbed.id))).order_by(Institute.acronym)).all()
    if institutes_both:
        problems.append(f"Both have a pending or active membership of {', '.join(institutes_both)}: the "
                        "institute ends or the organization withdraws one of them first.")
    teams = sa.select(Partner.proposal_id)
    shared = db.session.scalars(
        sa.select(Proposal.title).where(
            Proposal.id.in_(teams.where(Partner.organization_id == survivor.id)),
            Proposal.id.in_(teams.where(Partner.organization_id == absorbed.id))).order_by(Proposal.title)).all()
    if shared:
        problems.append(f"Both are on the team of {', '.join(repr(t) for t in shared)}: the lead removes one "
                        "from the team (or the proposal is withdrawn) first.")
    return problems


def _handled_columns() -> set[tuple[str, str]]:
    return {("memberships", "organization_id"), ("pledges", "organization_id"),
            ("proposals", "lead_organization_id"), ("proposal_partners", "organization_id"),
            ("affiliations", "organization_id")}


def organization_references() -> list[sa.Column]:
    """Every column of every table that refers to an organization (tables added later are moved too)."""
    return [fk.parent for table in Base.metadata.sorted_tables for fk in table.foreign_keys
            if fk.column.table.name == Organization.__tablename__]


def merge_organizations(actor: User, survivor: Organization, absorbed: Organization, *, reason: str) -> dict:
    """Move everything of ``absorbed`` to ``survivor`` and remove ``absorbed``: memberships, pledges (the
    ledger's entries keep pointing at their pledges, whose money, institute and fiscal year do not change, so
    no money moves), proposals it leads, its places on teams, its people (someone in both keeps the stronger
    of the two affiliations), and whatever else refers to it. Refused, changing nothing, on a conflict (see
    ``merge_conflicts``). The figures that count organizations are moved by the difference. Returns how many
    rows of each kind moved."""
    require_network_admin(actor)
    reason = reason.strip()
    if survivor.id == absorbed.id:
        raise DomainError("absorbed", "Choose another organization: an organization cannot be merged into itself")
    if not reason:
        raise DomainError("reason", "Give the reason for the merge (such as: the same company registered twice)")
    for organization in sorted((survivor, absorbed), key=lambda o: o.id):
        summary.lock_organization(organization.id)
    if problems := merge_conflicts(survivor, absorbed):
        raise DomainError(None, f"{absorbed.name} cannot be merged into {survivor.name}. " + " ".join(problems),
                          status=409)
    before = summary.organization_share({survivor.id, absorbed.id})
    moved: dict[str, int] = {}
    pledge_ids = list(db.session.scalars(sa.select(Pledge.id).where(Pledge.organization_id == absorbed.id)
                                         .order_by(Pledge.id)))
    moved["affiliations"] = _merge_affiliations(survivor, absorbed)
    handled = _handled_columns()
    for column in organization_references():
        if (column.table.name, column.name) == ("affiliations", "organization_id"):
            continue
        result = db.session.execute(sa.update(column.table).where(column == absorbed.id)
                                    .values({column.name: survivor.id}).execution_options(synchronize_session=False))
        count = int(getattr(result, "rowcount", 0) or 0)
        if count or (column.table.name, column.name) in handled:
            moved[f"{column.table.name}.{column.name}"] = count
    db.session.flush()
    db.session.expire_all()
    after = summary.organization_share({survivor.id})
    summary.add({key: after.get(key, 0) - before.get(key, 0) for key in set(before) | set(after)})
    details = {"absorbed": {"id": absorbed.id, "name": absorbed.name, "sector": str(absorbed.sector),
                            "size": str(absorbed.size) if absorbed.size else None, "state": absorbed.state,
                            "verified": absorbed.verified_at is not None},
               "moved": moved, "pledges": pledge_ids}
    absorbed_name, absorbed_id = absorbed.name, absorbed.id
    # everything that referred to it refers to the survivor now, so the row goes with a plain DELETE
    db.session.execute(sa.delete(Organization).where(Organization.id == absorbed_id)
                       .execution_options(synchronize_session=False))
    db.session.expunge(absorbed)
    audit.record(actor, "organization.merged", survivor, reason=reason, details=details)
    for pledge_id in pledge_ids:
        pledge = db.session.get(Pledge, pledge_id)
        assert pledge is not None
        audit.record(actor, "pledge.organization_changed", pledge, institute_id=pledge.institute_id,
                     reason=f"{absorbed_name} merged into {survivor.name}",
                     details={"organization_id": [absorbed_id, survivor.id]})
    conflicts.recheck_for_organization(survivor.id, actor)
    return moved


def _merge_affiliations(survivor: Organization, absorbed: Organization) -> int:
    """Move the absorbed organization's people; someone affiliated with both keeps one affiliation, the
    stronger (active over pending, admin over member)."""
    kept = {a.user_id: a for a in db.session.scalars(
        sa.select(Affiliation).where(Affiliation.organization_id == survivor.id))}
    moved = 0
    for affiliation in db.session.scalars(sa.select(Affiliation).where(Affiliation.organization_id == absorbed.id)
                                          .order_by(Affiliation.id)).all():
        mine = kept.get(affiliation.user_id)
        if mine is None:
            affiliation.organization_id = survivor.id
        else:
            mine.status = max(mine.status, affiliation.status, key=lambda s: _STATUS_RANK[s])
            mine.role = max(mine.role, affiliation.role, key=lambda r: _ROLE_RANK[r])
            db.session.delete(affiliation)
        moved += 1
    db.session.flush()
    return moved


# Accounts --------------------------------------------------------------------------------------

def users_query(q: str = "") -> sa.Select:
    """Every account matching ``q`` (part of the email address or the name); paged by (email, id)."""
    query = sa.select(User)
    words = q.strip().casefold()
    if words:
        query = query.where(sa.or_(User.email.contains(words, autoescape=True),
                                   sa.func.lower(User.full_name).contains(words, autoescape=True)))
    return query
