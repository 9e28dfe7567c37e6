"""Membership tiers: what each institute offers, retired but never deleted once used."""


import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Institute,
    Membership,
    Tier,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit

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
