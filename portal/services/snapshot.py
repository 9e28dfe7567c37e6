"""The network at a glance: the figures the program reports each year, for the network or one institute.

Everything is computed in a fixed number of queries whatever the size of the network. Money in a cell
made of fewer than three organizations is suppressed, so no single organization's pledge can be read off.
The page, the JSON and the CSV are all made from the one structure ``compute`` returns.
"""

import statistics
from datetime import UTC, datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.geography import US_STATES
from portal.models import (
    AuditEvent,
    FederalObligation,
    Institute,
    Membership,
    MembershipStatus,
    Organization,
    OrgSize,
    Pledge,
    Proposal,
    ProposalStatus,
    ProjectCall,
    Sector,
    StatusChange,
)
from portal.services.memberships import today

SUPPRESS_BELOW = 3  # organizations behind a money figure
DECIDED = (ProposalStatus.APPROVED, ProposalStatus.DECLINED)

# Every table, its columns and what they mean: the data dictionary page and the CSV README come from here.
DICTIONARY = {
    "overview": ("Headline figures.", {
        "figure": "What is counted.", "value": "The count."}),
    "members_by_sector": ("Member organizations (with a membership in force) by sector; industry split by size.", {
        "group": "industry (small: fewer than 500 employees), industry (large), academic, government or nonprofit.",
        "organizations": "Member organizations in the group.",
        "share": "The group's share of all member organizations, from 0 to 1."}),
    "members_by_state": ("Member organizations by US state or territory.", {
        "state": "Two-letter USPS code.", "name": "State or territory.", "organizations": "Member organizations there."}),
    "projects_by_status": ("Proposals past the draft stage, by status.", {
        "status": "submitted, under review, approved, declined, active, completed or withdrawn.",
        "proposals": "How many."}),
    "projects_by_area": ("Approved, active and completed projects by technology area.", {
        "technology_area": "As the team described it.", "projects": "How many."}),
    "readiness": ("Technology (TRL) and manufacturing (MRL) readiness of completed projects, start to reached.", {
        "measure": "TRL or MRL.", "projects": "Completed projects.", "mean_start": "Mean level at the start.",
        "mean_reached": "Mean level reached.", "mean_gain": "Mean levels gained."}),
    "coinvestment_by_institute": ("Co-investment against federal obligations, per institute.", {
        "institute": "Acronym.", "federal_cents": "Federal obligations, in cents.",
        "organizations": "Organizations with pledges.",
        "pledged_cents": "Non-federal pledged less cancelled, in cents; empty when fewer than 3 organizations.",
        "received_cents": "Received, in cents; suppressed likewise.",
        "verified_cents": "Received and verified, in cents; suppressed likewise.",
        "match_ratio": "Verified non-federal over federal; the program expects at least 1."}),
    "match_by_fiscal_year": ("Co-investment against federal obligations, per federal fiscal year (October to September).", {
        "fiscal_year": "Named by the year it ends.", "federal_cents": "Federal obligations, in cents.",
        "organizations": "Organizations with pledges.",
        "pledged_cents": "Non-federal pledged less cancelled, in cents; empty when fewer than 3 organizations.",
        "verified_cents": "Received and verified, in cents; suppressed likewise.",
        "match_ratio": "Verified non-federal over federal."}),
    "decision_times": ("How long decisions take.", {
        "what": "Membership applications, or proposals (submission to decision).",
        "decided": "How many were decided.", "median_days": "Median days from application or submission to decision."}),
}


def _table(name: str, rows: list[list]) -> dict:
    return {"title": DICTIONARY[name][0], "columns": list(DICTIONARY[name][1]), "rows": rows}


def _suppressed(organizations: int, row, *names: str) -> list[int | None]:
    """The money sums of ``row``; None for each when 1 or 2 organizations make them (0 shows as 0)."""
    if organizations == 0:
        return [0 for _ in names]
    if organizations < SUPPRESS_BELOW:
        return [None for _ in names]
    return [int(getattr(row, name)) for name in names]


def _ratio(numerator: int | None, denominator: int) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def compute(institute: Institute | None = None) -> dict:
    """The snapshot, for the whole network or one institute, in a fixed number of queries."""
    on = today()
    # Every change is in the audit log, so its latest entry says how current these figures are; unlike
    # the clock, it only moves when the figures can, which keeps the ETag steady between changes.
    latest = db.session.scalar(sa.select(sa.func.max(AuditEvent.occurred_at)))
    as_of = (latest or datetime(2000, 1, 1, tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)

    def scoped(query, column):
        return query.where(column == institute.id) if institute is not None else query

    members = scoped(sa.select(Membership.organization_id).where(Membership.in_force(on)),
                     Membership.institute_id).distinct().subquery()
    by_group = db.session.execute(
        sa.select(Organization.sector, Organization.size, sa.func.count())
        .where(Organization.id.in_(sa.select(members.c.organization_id)))
        .group_by(Organization.sector, Organization.size)).all()
    by_state = db.session.execute(
        sa.select(Organization.state, sa.func.count())
        .where(Organization.id.in_(sa.select(members.c.organization_id)))
        .group_by(Organization.state).order_by(Organization.state)).all()

    groups = {"industry (small)": 0, "industry (large)": 0, "academic": 0, "government": 0, "nonprofit": 0}
    for sector, size, count in by_group:
        key = f"industry ({'small' if size == OrgSize.SMALL else 'large'})" if sector == Sector.INDUSTRY else sector
        groups[key] += count
    total_members = sum(groups.values())
    industry = groups["industry (small)"] + groups["industry (large)"]

    proposals = scoped(sa.select(Proposal.status, Proposal.technology_area, Proposal.trl_start, Proposal.trl_reached,
                                 Proposal.mrl_start, Proposal.mrl_reached).join(Proposal.call)
                       .where(Proposal.status != ProposalStatus.DRAFT), ProjectCall.institute_id)
    proposal_rows = db.session.execute(proposals).all()
    by_status: dict[str, int] = {}
    by_area: dict[str, int] = {}
    completed = []
    for row in proposal_rows:
        by_status[row.status] = by_status.get(row.status, 0) + 1
        if row.status in (ProposalStatus.APPROVED, ProposalStatus.ACTIVE, ProposalStatus.COMPLETED):
            area = row.technology_area or "not stated"
            by_area[area] = by_area.get(area, 0) + 1
        if row.status == ProposalStatus.COMPLETED and row.trl_reached and row.mrl_reached:
            completed.append(row)

    readiness = []
    for label, start, reached in (("TRL", "trl_start", "trl_reached"), ("MRL", "mrl_start", "mrl_reached")):
        starts = [getattr(r, start) for r in completed]
        ends = [getattr(r, reached) for r in completed]
        readiness.append([label, len(completed),
                          round(statistics.mean(starts), 1) if starts else None,
                          round(statistics.mean(ends), 1) if ends else None,
                          round(statistics.mean(ends) - statistics.mean(starts), 1) if starts else None])

    institutes = db.session.scalars(scoped(sa.select(Institute), Institute.id).order_by(Institute.acronym)).all()
    money = {row.institute_id: row for row in db.session.execute(scoped(
        sa.select(Pledge.institute_id, sa.func.count(sa.distinct(Pledge.organization_id)).label("orgs"),
                  sa.func.sum(Pledge.pledged_cents - Pledge.cancelled_cents).label("pledged"),
                  sa.func.sum(Pledge.received_cents).label("received"),
                  sa.func.sum(Pledge.verified_cents).label("verified")), Pledge.institute_id)
        .group_by(Pledge.institute_id))}
    federal = dict(db.session.execute(scoped(
        sa.select(FederalObligation.institute_id, sa.func.sum(FederalObligation.amount_cents)),
        FederalObligation.institute_id).group_by(FederalObligation.institute_id)).all())
    coinvestment = []
    for i in institutes:
        row = money.get(i.id)
        orgs = int(row.orgs) if row else 0
        fed = int(federal.get(i.id) or 0)
        pledged, received, verified = _suppressed(orgs, row, "pledged", "received", "verified")
        coinvestment.append([i.acronym, fed, orgs, pledged, received, verified, _ratio(verified, fed)])

    by_year = {row.fiscal_year: row for row in db.session.execute(scoped(
        sa.select(Pledge.fiscal_year, sa.func.count(sa.distinct(Pledge.organization_id)).label("orgs"),
                  sa.func.sum(Pledge.pledged_cents - Pledge.cancelled_cents).label("pledged"),
                  sa.func.sum(Pledge.verified_cents).label("verified")), Pledge.institute_id)
        .group_by(Pledge.fiscal_year))}
    federal_by_year = dict(db.session.execute(scoped(
        sa.select(FederalObligation.fiscal_year, sa.func.sum(FederalObligation.amount_cents)),
        FederalObligation.institute_id).group_by(FederalObligation.fiscal_year)).all())
    match = []
    for year in sorted(set(by_year) | set(federal_by_year)):
        row = by_year.get(year)
        orgs = int(row.orgs) if row else 0
        fed = int(federal_by_year.get(year) or 0)
        pledged, verified = _suppressed(orgs, row, "pledged", "verified")
        match.append([year, fed, orgs, pledged, verified, _ratio(verified, fed)])

    decided = db.session.execute(scoped(
        sa.select(Membership.applied_at, Membership.decided_at).where(Membership.decided_at.is_not(None)),
        Membership.institute_id)).all()
    membership_days = [(d - a).total_seconds() / 86400 for a, d in decided]
    changes = db.session.execute(scoped(
        sa.select(StatusChange.proposal_id, StatusChange.to_status, StatusChange.at)
        .join(Proposal, Proposal.id == StatusChange.proposal_id).join(Proposal.call)
        .where(StatusChange.to_status.in_([ProposalStatus.SUBMITTED, *DECIDED]))
        .order_by(StatusChange.proposal_id, StatusChange.at), ProjectCall.institute_id)).all()
    submitted_at: dict[int, datetime] = {}
    proposal_days = []
    for proposal_id, status, at in changes:
        if status == ProposalStatus.SUBMITTED:
            submitted_at.setdefault(proposal_id, at)
        elif proposal_id in submitted_at:
            proposal_days.append((at - submitted_at[proposal_id]).total_seconds() / 86400)

    def median(values):
        return round(statistics.median(values), 1) if values else None

    total_federal = sum(r[1] for r in coinvestment)
    network_orgs = db.session.scalar(scoped(
        sa.select(sa.func.count(sa.distinct(Pledge.organization_id))), Pledge.institute_id)) or 0
    network_verified = (sum(int(r.verified) for r in money.values())
                        if network_orgs == 0 or network_orgs >= SUPPRESS_BELOW else None)
    states_with_members = len(by_state)
    overview = [
        ["institutes", len(institutes)],
        ["member organizations", total_members],
        ["states and territories with members", states_with_members],
        ["projects (approved, active or completed)", sum(by_area.values())],
        ["percent of members in industry", round(100 * industry / total_members, 1) if total_members else None],
        ["percent of industry members that are small", round(100 * groups["industry (small)"] / industry, 1) if industry else None],
        ["network match ratio (verified non-federal over federal)", _ratio(network_verified, total_federal)],
    ]
    return {
        "as_of": as_of.isoformat(),
        "scope": institute.acronym if institute is not None else "network",
        "licence": "CC0 1.0: no rights reserved",
        "tables": {
            "overview": _table("overview", overview),
            "members_by_sector": _table("members_by_sector", [
                [group, count, round(count / total_members, 3) if total_members else None]
                for group, count in groups.items()]),
            "members_by_state": _table("members_by_state", [
                [state, US_STATES.get(state, state), count] for state, count in by_state]),
            "projects_by_status": _table("projects_by_status", [
                [status.value, by_status.get(status, 0)] for status in ProposalStatus if status != ProposalStatus.DRAFT]),
            "projects_by_area": _table("projects_by_area", sorted(([a, n] for a, n in by_area.items()),
                                                                   key=lambda r: (-r[1], r[0]))),
            "readiness": _table("readiness", readiness),
            "coinvestment_by_institute": _table("coinvestment_by_institute", coinvestment),
            "match_by_fiscal_year": _table("match_by_fiscal_year", match),
            "decision_times": _table("decision_times", [
                ["membership applications", len(membership_days), median(membership_days)],
                ["proposals", len(proposal_days), median(proposal_days)]]),
        },
    }


# Caching ---------------------------------------------------------------------------------------
#
# Every change to the figures writes an audit event, and memberships lapse by date; so the newest audit
# event's id and today's date together name one version of the figures. A snapshot computed for a version
# is kept (in Redis when REDIS_URL is set, so every app server shares it; in this process otherwise) and
# served until the version moves. Its key is also the ETag, so a revalidation costs one small query.

_LOCAL_LIMIT = 64


def version(institute: Institute | None = None) -> str:
    latest = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    return f"{institute.slug if institute else 'network'}-{latest}-{today().isoformat()}"


def _redis():
    from flask import current_app

    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url)


def cached(institute: Institute | None = None, key: str | None = None) -> dict:
    """The snapshot for the current version, computed at most once per version."""
    import json

    from flask import current_app

    key = f"{current_app.config['CACHE_KEY_PREFIX']}:snapshot:{key or version(institute)}"
    store = _redis()
    local = current_app.extensions.setdefault("snapshot_cache", {})
    text = store.get(key) if store is not None else local.get(key)
    if text is None:
        data = compute(institute)
        text = json.dumps(data)
        if store is not None:
            store.set(key, text, ex=24 * 3600)
        else:
            if len(local) >= _LOCAL_LIMIT:
                local.pop(next(iter(local)))
            local[key] = text
        return data
    return json.loads(text)
