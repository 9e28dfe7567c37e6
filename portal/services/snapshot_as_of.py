"""The network as it stood at the end of a federal fiscal year (30 September): the snapshot of ``/snapshot?fy=``.

The current snapshot reads the running summary; a past year is computed from the tables themselves, with
queries that use their indexes (memberships by term, proposal status changes by status and time, pledges and
federal obligations by fiscal year), and is kept per fiscal year and version of the figures like the current
one. The page, the JSON and the CSV are made from the one structure ``compute`` returns; the data dictionary
(``DICTIONARY``) says how each figure is defined.
"""

import json
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.geography import US_STATES
from portal.models import (
    Agency,
    FederalObligation,
    Figure,
    Institute,
    Membership,
    MembershipStatus,
    Organization,
    Pledge,
    ProjectCall,
    Proposal,
    ProposalStatus,
    StatusChange,
    Summary,
)
from portal.services import DomainError, snapshot, workforce_figures
from portal.services.clock import today
from portal.services.dates import fiscal_year_end, fiscal_year_start
from portal.services.ledger.entries import FIRST_FISCAL_YEAR, fiscal_year_of
from portal.services.summary import GROUPS, area_of, counted, group_of

# Statuses a membership may have once it was in force: still active, ended by the institute, withdrawn by the
# organization, or lapsed at the end of its term. Pending and declined applications never were.
ONCE_IN_FORCE = (MembershipStatus.ACTIVE, MembershipStatus.ENDED, MembershipStatus.WITHDRAWN, MembershipStatus.LAPSED)

# The headline figures of a fiscal year, in the order fy_overview lists them, each with the unit of its value.
FY_OVERVIEW_UNITS = {
    "institutes active": "a count of institutes",
    "member organizations": "a count of distinct organizations",
    "memberships in force": "a count of memberships",
    "states and territories with members": "a count of US states and territories",
    "projects active during the year": "a count of projects",
    "federal obligations (cents)": "an amount in cents",
    "non-federal pledged less cancelled (cents)": "an amount in cents; empty when withheld (fewer than "
                                                  f"{snapshot.SUPPRESS_BELOW} organizations pledged for the year)",
    "non-federal verified (cents)": "an amount in cents; withheld likewise",
    "match ratio (verified non-federal over federal)": "a ratio, to two decimals; empty when withheld (as above) "
                                                       "or none (no federal obligations for the year)",
}
DICTIONARY: dict[str, tuple[str, dict[str, str]]] = {
    "fy_overview": ("The network at the end of the fiscal year: headline figures (see the tables for each).", {
        "figure": "What is measured: " + ", ".join(FY_OVERVIEW_UNITS) + ".",
        "value": "The figure's value, a number whose unit depends on the row: " + snapshot.units(FY_OVERVIEW_UNITS)}),
    "fy_institutes": (
        "Institutes active during the fiscal year: founded in or before the calendar year the fiscal year is "
        "named by, and not retired before the fiscal year began (1 October).", {
            "institute": "Acronym.", "agency": "Sponsoring agency.", "founded_year": "Year founded.",
            "state": "Two-letter USPS code of its headquarters.", "technology_area": "Its technology area.",
            "memberships": "Memberships of the institute in force on the day members are counted on (as_of; "
                           "see fy_members_by_sector).",
            "projects": "Its projects active during the fiscal year (see fy_projects_by_area)."}),
    "fy_members_by_sector": (
        "Members on the last day of the fiscal year (as_of: 30 September, or today for the year in progress): a "
        "membership "
        "is in force on a day from its start date to its end date, both included, unless it was ended or "
        "withdrawn on or before that day; pending and declined applications never are. Sector, size and state "
        "are the organization's as recorded now.", {
            "group": "industry (small: fewer than 500 employees), industry (large), academic, government or "
                     "nonprofit.",
            "organizations": "Distinct member organizations in the group: one organization counts once however "
                             "many institutes it belongs to.",
            "memberships": "Memberships in force: one per organization and institute."}),
    "fy_members_by_state": ("Members on the last day of the fiscal year, by US state or territory.", {
        "state": "Two-letter USPS code.", "name": "State or territory.",
        "organizations": "Distinct member organizations there.", "memberships": "Memberships in force there."}),
    "fy_projects_by_area": (
        "Projects active during the fiscal year, by technology area: a project is active from the day it started "
        "(its move to active) to the day the institute signed it off complete, and counts in every fiscal year "
        "that span touches.", {
            "technology_area": "As the team described it.", "projects": "How many."}),
    "fy_money_by_institute": (
        "Money of the fiscal year, per institute and for the network: pledges and federal obligations made for "
        "the fiscal year, with every entry recorded against them to date (later receipts, cancellations and "
        "corrections of that year's money count in that year); cost share of a proposal counts once the proposal "
        "is approved.", {
            "institute": "Acronym; 'network' for all institutes together.",
            "federal_cents": "Federal obligations for the fiscal year, less corrections, in cents.",
            "organizations": "Organizations with pledges for the fiscal year.",
            "pledged_cents": f"Non-federal pledged less cancelled, in cents; {snapshot.WITHHELD_MONEY}.",
            "received_cents": "Received, in cents; withheld likewise.",
            "verified_cents": "Received and verified, in cents; withheld likewise.",
            "match_ratio": "Verified non-federal over federal, to two decimals; the program expects at least 1. "
                           f"{snapshot.EMPTY_RATIO}."}),
    "fy_workforce": (
        "Workforce and education in the fiscal year, for the whole network: the fiscal year's row of "
        "workforce_by_fiscal_year, published the same way (a session counts in the year it starts, an outreach "
        "event on its day, a credential in the year it is awarded).",
        workforce_figures.DICTIONARY["workforce_by_fiscal_year"][1]),
}


# The year asked for ----------------------------------------------------------------------------

def parse_fiscal_year(text: str | None, *, on: date | None = None) -> int:
    """The fiscal year typed in ``?fy=``: four ASCII digits, from the network's first fiscal year to the one in
    progress; DomainError("fy", ...) with a message that says which years there are otherwise."""
    last = fiscal_year_of(on or today())
    message = f"Ask for a fiscal year from {FIRST_FISCAL_YEAR} to {last}, such as ?fy={last - 1}"
    value = (text or "").strip()
    if not (value.isascii() and value.isdigit() and len(value) == 4):
        raise DomainError("fy", f"'{value[:20]}' is not a fiscal year. {message}.", status=400)
    year = int(value)
    if year > last:
        raise DomainError("fy", f"FY{year} has not begun yet. {message}.", status=422)
    if year < FIRST_FISCAL_YEAR:
        raise DomainError("fy", f"The network's first fiscal year was FY{FIRST_FISCAL_YEAR}. {message}.", status=422)
    return year


def day_of(fiscal_year: int, on: date | None = None) -> date:
    """The day members are counted on: the fiscal year's last, or today for the year in progress."""
    return min(fiscal_year_end(fiscal_year), on or today())


def _midnight_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


# The figures -----------------------------------------------------------------------------------

def active_institutes(fiscal_year: int) -> sa.ColumnElement[bool]:
    return sa.and_(Institute.founded_year <= fiscal_year,
                   sa.or_(Institute.retired_on.is_(None), Institute.retired_on >= fiscal_year_start(fiscal_year)))


def in_force_on(day: date) -> sa.ColumnElement[bool]:
    """SQL condition on Membership: in force on ``day`` (see the data dictionary)."""
    return sa.and_(Membership.status.in_(ONCE_IN_FORCE), Membership.starts_on <= day, Membership.ends_on >= day,
                   sa.or_(Membership.closed_at.is_(None), Membership.closed_at >= _midnight_after(day)))


def projects_active(fiscal_year: int) -> sa.Select:
    """(proposal id, institute id, technology area) of every project active during ``fiscal_year``."""
    started = (sa.select(StatusChange.proposal_id, sa.func.min(StatusChange.at).label("at"))
               .where(StatusChange.to_status == ProposalStatus.ACTIVE).group_by(StatusChange.proposal_id).subquery())
    completed = (sa.select(StatusChange.proposal_id, sa.func.max(StatusChange.at).label("at"))
                 .where(StatusChange.to_status == ProposalStatus.COMPLETED)
                 .group_by(StatusChange.proposal_id).subquery())
    begins = datetime.combine(fiscal_year_start(fiscal_year), time.min, tzinfo=UTC)
    return (sa.select(Proposal.id, ProjectCall.institute_id, Proposal.technology_area)
            .join(started, started.c.proposal_id == Proposal.id)
            .join(ProjectCall, ProjectCall.id == Proposal.call_id)
            .outerjoin(completed, completed.c.proposal_id == Proposal.id)
            .where(Proposal.status.in_([ProposalStatus.ACTIVE, ProposalStatus.COMPLETED]),
                   started.c.at < _midnight_after(fiscal_year_end(fiscal_year)),
                   sa.or_(completed.c.at.is_(None), completed.c.at >= begins)))


def _money(fiscal_year: int, institute_ids: list[int]) -> dict[int | None, dict[str, int]]:
    """{institute id (None: the network): {federal, organizations, pledged, received, verified}}."""
    money: dict[int | None, dict[str, int]] = {i: Counter() for i in [*institute_ids, None]}
    pledges = sa.and_(Pledge.fiscal_year == fiscal_year, counted(), Pledge.institute_id.in_(institute_ids))
    sums = (sa.func.count(sa.distinct(Pledge.organization_id)),
            sa.func.coalesce(sa.func.sum(Pledge.pledged_cents - Pledge.cancelled_cents), 0),
            sa.func.coalesce(sa.func.sum(Pledge.received_cents), 0),
            sa.func.coalesce(sa.func.sum(Pledge.verified_cents), 0))
    rows = [*db.session.execute(sa.select(Pledge.institute_id, *sums).where(pledges).group_by(Pledge.institute_id)),
            *db.session.execute(sa.select(sa.null(), *sums).where(pledges))]
    for institute_id, organizations, pledged, received, verified in rows:
        money[institute_id].update({"organizations": int(organizations), "pledged": int(pledged),
                                    "received": int(received), "verified": int(verified)})
    for institute_id, cents in db.session.execute(
            sa.select(FederalObligation.institute_id, sa.func.sum(FederalObligation.amount_cents))
            .where(FederalObligation.fiscal_year == fiscal_year, FederalObligation.institute_id.in_(institute_ids))
            .group_by(FederalObligation.institute_id)):
        money[institute_id]["federal"] = int(cents)
        money[None]["federal"] += int(cents)
    return money


def _workforce_row(fiscal_year: int) -> list:
    """The fiscal year's row of the current snapshot's workforce_by_fiscal_year, as published there (its
    suppression is worked out over every year's column, so the row is taken from the whole table)."""
    per_institute: dict[str, dict[str, int]] = {}
    for acronym, key, value in db.session.execute(
            sa.select(Institute.acronym, Summary.key, Summary.value).join(Institute, Institute.id == Summary.scope)
            .where(Summary.figure == Figure.WORKFORCE, Summary.value != 0)):
        per_institute.setdefault(acronym, {})[key] = int(value)
    _, by_year = workforce_figures.tables(per_institute)
    for row in by_year:
        if row[0] == fiscal_year:
            return row
    return [fiscal_year, *[workforce_figures.SUPPRESSED] * len(workforce_figures.MEASURES)]  # none: below 10


def _table(name: str, rows: list[list]) -> dict:
    return {"title": DICTIONARY[name][0], "columns": list(DICTIONARY[name][1]), "rows": rows}


def _without_jit() -> None:
    """On PostgreSQL, no JIT compilation for the rest of this transaction. The year's pledge sums look costly to
    the planner (a million ledger entries behind ``counted``), so it compiled them, which took longer than the
    queries themselves: at ``--scale large`` 175 of a query's 270 ms, and the uncached year in progress took
    over a second; without it, a third of that (PostgreSQL manual, "JIT Accelerated Operations: When to JIT?")."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))


def compute(fiscal_year: int) -> dict:
    """The network as it stood at the end of ``fiscal_year`` (see the data dictionary for each figure)."""
    _without_jit()
    on = day_of(fiscal_year)
    institutes = db.session.scalars(sa.select(Institute).where(active_institutes(fiscal_year))
                                    .order_by(Institute.acronym)).all()
    ids = [i.id for i in institutes]
    in_force = sa.and_(in_force_on(on), Membership.institute_id.in_(ids))
    place = (Organization.sector, Organization.size, Organization.state)
    by_institute = Counter(dict(db.session.execute(
        sa.select(Membership.institute_id, sa.func.count()).where(in_force).group_by(Membership.institute_id)).all()))
    each_membership = (sa.select(*place, sa.func.count())
                       .join(Membership, Membership.organization_id == Organization.id)
                       .where(in_force).group_by(*place))
    each_organization = (sa.select(*place, sa.func.count()).where(
        Organization.id.in_(sa.select(Membership.organization_id).where(in_force))).group_by(*place))
    groups: dict[str, list[int]] = {group: [0, 0] for group in GROUPS}
    states: dict[str, list[int]] = {}
    for column, query in ((0, each_organization), (1, each_membership)):
        for sector, size, state, n in db.session.execute(query):
            groups[group_of(sector, size)][column] += n
            states.setdefault(state, [0, 0])[column] += n
    organizations = sum(orgs for orgs, _ in groups.values())
    memberships = sum(count for _, count in groups.values())

    projects = projects_active(fiscal_year).where(ProjectCall.institute_id.in_(ids)).subquery()
    projects_by_institute: Counter = Counter()
    areas: Counter = Counter()
    for institute_id, area, n in db.session.execute(
            sa.select(projects.c.institute_id, projects.c.technology_area, sa.func.count())
            .group_by(projects.c.institute_id, projects.c.technology_area)):
        projects_by_institute[institute_id] += n
        areas[area_of(area)] += n

    money = _money(fiscal_year, ids)

    def money_row(label: str, cents: dict[str, int]) -> list[Any]:
        pledged, received, verified = snapshot.suppressed(cents.get("organizations", 0), cents.get("pledged", 0),
                                                          cents.get("received", 0), cents.get("verified", 0))
        return [label, cents.get("federal", 0), cents.get("organizations", 0), pledged, received, verified,
                snapshot.ratio(verified, cents.get("federal", 0))]

    money_rows = [money_row(i.acronym, money[i.id]) for i in institutes]
    network_money = money_row("network", money[None])
    workforce = _workforce_row(fiscal_year)
    values = (len(institutes), organizations, memberships, len(states), sum(projects_by_institute.values()),
              network_money[1], network_money[3], network_money[5], network_money[6])
    overview: list[list[Any]] = [[figure, value] for figure, value in zip(FY_OVERVIEW_UNITS, values, strict=True)]
    return {
        "fiscal_year": fiscal_year,
        "as_of": on.isoformat(),  # the day members are counted on
        "year_complete": on == fiscal_year_end(fiscal_year),
        "scope": "network",
        "licence": "CC0 1.0: no rights reserved",
        "tables": {
            "fy_overview": _table("fy_overview", overview),
            "fy_institutes": _table("fy_institutes", [
                [i.acronym, Agency(i.agency).label, i.founded_year, i.state, i.focus, by_institute[i.id],
                 projects_by_institute[i.id]] for i in institutes]),
            "fy_members_by_sector": _table("fy_members_by_sector", [[g, *groups[g]] for g in GROUPS]),
            "fy_members_by_state": _table("fy_members_by_state", [
                [state, US_STATES.get(state, state), *states[state]] for state in sorted(states)]),
            "fy_projects_by_area": _table("fy_projects_by_area", sorted(([a, n] for a, n in areas.items()),
                                                                        key=lambda r: (-r[1], r[0]))),
            "fy_money_by_institute": _table("fy_money_by_institute", [*money_rows, network_money]),
            "fy_workforce": _table("fy_workforce", [workforce]),
        },
    }


def version(fiscal_year: int) -> str:
    """The version of the figures as of ``fiscal_year``: the current snapshot's, which every change moves."""
    return f"fy{fiscal_year}-{snapshot.version()}"


def cached(fiscal_year: int, key: str | None = None) -> dict:
    """The snapshot as of ``fiscal_year`` for the current version of the figures, computed at most once per
    (fiscal year, version) across the app servers (see ``snapshot.kept``)."""
    return json.loads(snapshot.kept(key or version(fiscal_year), lambda: json.dumps(compute(fiscal_year))))
