"""The institute directory: search and the seed network."""

import json
from dataclasses import dataclass
from importlib import resources

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Agency, Institute, Organization
from portal.services import audit
from portal.services.search import INSTITUTE_TEXT, matches


@dataclass(frozen=True)
class InstituteFilters:
    q: str = ""
    agency: str = ""
    state: str = ""
    focus: str = ""


def search(filters: InstituteFilters) -> list[Institute]:
    """Institutes matching every filter given; ``q`` matches name, acronym, city, state, focus (close spellings
    too, on PostgreSQL) and description."""
    return list(db.session.scalars(search_query(filters).order_by(Institute.founded_year, Institute.acronym)))


def search_query(filters: InstituteFilters) -> sa.Select:
    """The select behind ``search``, unordered (the API pages through it)."""
    query = sa.select(Institute)
    if filters.q.strip():
        query = query.where(sa.or_(matches(INSTITUTE_TEXT, filters.q),
                                   sa.func.lower(Institute.description).contains(filters.q.strip().lower(),
                                                                                  autoescape=True)))
    if filters.agency:
        query = query.where(Institute.agency == filters.agency)
    if filters.state:
        query = query.where(Institute.state == filters.state)
    if filters.focus:
        query = query.where(Institute.focus == filters.focus)
    return query


def filter_choices() -> dict[str, list[str]]:
    """The agencies, states and focus areas that institutes actually have."""
    rows = db.session.execute(sa.select(Institute.agency, Institute.state, Institute.focus)).all()
    return {
        "agency": sorted({row.agency for row in rows}),
        "state": sorted({row.state for row in rows}),
        "focus": sorted({row.focus for row in rows}),
    }


def network_counts() -> dict[str, int]:
    """Headline figures for the home page, in two queries."""
    institutes = db.session.execute(sa.select(
        sa.func.count(Institute.id),
        sa.func.count(sa.distinct(Institute.agency)),
        sa.func.count(sa.distinct(Institute.state)),
        sa.func.coalesce(sa.func.sum(Institute.federal_base_award_cents), 0),
    )).one()
    organizations = db.session.scalar(sa.select(sa.func.count(Organization.id))) or 0
    return {
        "institutes": institutes[0],
        "agencies": institutes[1],
        "states": institutes[2],
        "federal_base_award_cents": int(institutes[3]),
        "organizations": organizations,
    }


def seed_records() -> list[dict]:
    text = resources.files("portal").joinpath("data/institutes.json").read_text("utf-8")
    return json.loads(text)["institutes"]


SEEDED_FIELDS = ("acronym", "name", "focus", "agency", "founded_year", "city", "state",
                 "website", "description", "federal_base_award_cents")


def seed(records: list[dict]) -> dict[str, int]:
    """Create or update institutes by slug; running it again changes nothing."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = {i.slug: i for i in db.session.scalars(sa.select(Institute))}
    for record in records:
        values = {key: record[key] for key in SEEDED_FIELDS if key in record}
        values["agency"] = Agency(record["agency"])
        values["federal_base_award_cents"] = int(record["federal_base_award_usd"]) * 100
        institute = existing.get(record["slug"])
        if institute is None:
            institute = Institute(slug=record["slug"], **values)
            db.session.add(institute)
            audit.record(None, "institute.created", institute, details={"source": "seed"})
            counts["created"] += 1
            continue
        changes = {k: [str(getattr(institute, k)), str(v)] for k, v in values.items()
                   if getattr(institute, k) != v}
        if changes:
            for key, value in values.items():
                setattr(institute, key, value)
            audit.record(None, "institute.updated", institute, details={"source": "seed", **changes})
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts
