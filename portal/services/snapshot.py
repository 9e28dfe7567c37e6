"""The network at a glance: the figures the program reports each year, for the network or one institute.

The figures come from the summary that every change moves in its own transaction
(``portal.services.summary``), so computing them takes the same few queries whatever the size of the
network. Money in a cell made of fewer than three organizations is suppressed, so no single
organization's pledge can be read off. The page, the JSON and the CSV are all made from the one
structure ``compute`` returns.
"""

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context

from portal.extensions import db, redis_client, redis_failed
from portal.geography import US_STATES
from portal.models import (
    NETWORK,
    AuditEvent,
    Figure,
    Institute,
    Membership,
    MembershipStatus,
    Organization,
    ProposalStatus,
    Summary,
)
from portal.services import audit, workforce_figures
from portal.services.clock import today
from portal.services.summary import GROUPS, group_of

SUPPRESS_BELOW = 3  # organizations behind a money figure

# What a withheld money cell is, and how an empty ratio is read: the data dictionary, the CSV README and the
# snapshot as of a fiscal year say it in these words.
WITHHELD_MONEY = (f"withheld when 1 or {SUPPRESS_BELOW - 1} organizations make it (the cell is empty, null in JSON; "
                  "the page shows “suppressed”), so that no single organization's pledge can be read off; "
                  "0 when no organization did")
EMPTY_RATIO = ("Empty (null in JSON) in two cases the cells beside it tell apart: withheld, when verified_cents is "
               "withheld, or none, when federal_cents is 0 and there is nothing to divide by")

# The headline figures, in the order the overview lists them, each with the unit of its value.
OVERVIEW_UNITS = {
    "institutes": "a count of institutes",
    "member organizations": "a count of organizations with a membership in force",
    "states and territories with members": "a count of US states and territories",
    "projects (approved, active or completed)": "a count of projects",
    "percent of members in industry": "a percentage from 0 to 100, to one decimal; empty with no members",
    "percent of industry members that are small":
        "a percentage from 0 to 100, to one decimal; empty with no industry members",
    "network match ratio (verified non-federal over federal)":
        "a ratio, to two decimals (1 is one dollar verified for each federal dollar); empty when withheld "
        f"(the verified money of the whole network comes from fewer than {SUPPRESS_BELOW} organizations) or none "
        "(no federal obligations yet)",
}


def units(measures: dict[str, str]) -> str:
    """``{figure: unit}`` in words, for the dictionary's description of an overview's ``value``."""
    return "; ".join(f"{figure}: {unit}" for figure, unit in measures.items()) + "."


# Every table, its columns and what they mean: the data dictionary page, the CSV README and the data package
# (portal.services.open_data) come from here. Each table's first column names its rows (no two alike).
DICTIONARY = {
    "overview": ("Headline figures: one row per figure, each with its own unit. For the network: institutes active "
                 "now (a retired institute is not counted, though its money stays in the tables of money, as "
                 "history), and member organizations with a membership in force at an institute active now.", {
        "figure": "What is measured: " + ", ".join(OVERVIEW_UNITS) + ".",
        "value": "The figure's value, a number whose unit depends on the row: " + units(OVERVIEW_UNITS)}),
    "members_by_sector": ("Member organizations (with a membership in force; for the network, at an institute "
                          "active now) by sector; industry split by size.", {
        "group": "industry (small: fewer than 500 employees), industry (large), academic, government or nonprofit.",
        "organizations": "Member organizations in the group.",
        "share": "The group's share of all member organizations, from 0 to 1."}),
    "members_by_state": ("Member organizations by US state or territory.", {
        "state": "Two-letter USPS code.", "name": "State or territory.",
        "organizations": "Member organizations there."}),
    "projects_by_status": ("Proposals past the draft stage, by status.", {
        "status": "The status as the file holds it, one of " + ", ".join(
            s.value for s in ProposalStatus if s != ProposalStatus.DRAFT)
            + " (the page shows these in words: under_review as “under review”).",
        "proposals": "How many."}),
    "projects_by_area": ("Approved, active and completed projects by technology area.", {
        "technology_area": "As the team described it; “not stated” for projects that give none.",
        "projects": "How many."}),
    "readiness": ("Technology (TRL) and manufacturing (MRL) readiness of completed projects, start to reached.", {
        "measure": "TRL or MRL.", "projects": "Completed projects.", "mean_start": "Mean level at the start.",
        "mean_reached": "Mean level reached.", "mean_gain": "Mean levels gained."}),
    "coinvestment_by_institute": ("Co-investment against federal obligations, per institute; non-federal money "
                                  "includes cost share of approved projects only.", {
        "institute": "Acronym.", "federal_cents": "Federal obligations, in cents.",
        "organizations": "Organizations with pledges counted (cost share once its proposal is approved).",
        "pledged_cents": "Non-federal pledged less cancelled, in cents, with the cost share committed to approved "
                         "projects (not that of proposals not yet approved); " + WITHHELD_MONEY + ".",
        "received_cents": "Received, in cents; withheld likewise.",
        "verified_cents": "Received and verified, in cents; withheld likewise.",
        "match_ratio": "Verified non-federal over federal, to two decimals; the program expects at least 1. "
                       + EMPTY_RATIO + "."}),
    "match_by_fiscal_year": ("Co-investment against federal obligations, per federal fiscal year (October to "
                             "September); non-federal money includes cost share of approved projects only.", {
        "fiscal_year": "Named by the year it ends.", "federal_cents": "Federal obligations, in cents.",
        "organizations": "Organizations with pledges counted (cost share once its proposal is approved).",
        "pledged_cents": "Non-federal pledged less cancelled, in cents, with the cost share committed to approved "
                         "projects (not that of proposals not yet approved); " + WITHHELD_MONEY + ".",
        "verified_cents": "Received and verified, in cents; withheld likewise.",
        "match_ratio": "Verified non-federal over federal, to two decimals. " + EMPTY_RATIO + "."}),
    "decision_times": ("How long decisions take.", {
        "what": "Membership applications, or proposals (submission to decision).",
        "decided": "How many were decided.",
        "median_days": "Median of the whole days (24-hour periods) from application or submission to decision."}),
}
DICTIONARY.update(workforce_figures.DICTIONARY)
# tables of the network's snapshot only: an institute's counts per year are inner cells of the grid whose
# margins are published
NETWORK_ONLY = ("workforce_by_fiscal_year",)


def _table(name: str, rows: list[list]) -> dict:
    return {"title": DICTIONARY[name][0], "columns": list(DICTIONARY[name][1]), "rows": rows}


def _suppressed(organizations: int, *sums: int) -> list[int | None]:
    """The money ``sums``; None for each when 1 or 2 organizations make them (0 shows as 0)."""
    if organizations == 0:
        return [0 for _ in sums]
    if organizations < SUPPRESS_BELOW:
        return [None for _ in sums]
    return list(sums)


def _ratio(numerator: int | None, denominator: int) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


# the same rules for the snapshot as of a fiscal year (portal.services.snapshot_as_of)
suppressed = _suppressed
ratio = _ratio


def _median(counts: dict[int, int]) -> float | None:
    """The median of values given as {value: how many}."""
    total = sum(counts.values())
    if not total:
        return None
    middle, seen, values = ((total - 1) // 2, total // 2), 0, []
    for value in sorted(counts):
        for position in middle:
            if seen <= position < seen + counts[value]:
                values.append(value)
        seen += counts[value]
    return round(sum(values) / 2, 1)


def _lapsed_unrecorded(on, institute: Institute | None) -> Sequence[sa.Row]:
    """Members the summary still counts whose term ran out before ``on`` but whose lapse is not yet
    recorded (``flask memberships expire`` records them daily): organizations by sector, size and state.

    For an institute, its memberships past their end; for the network, organizations left with no
    membership in force at an institute active now: those whose term ran out, and those whose only
    memberships in force are with retired institutes (they run to their end dates, but the network's
    figures of now count the institutes active now). Usually few, so the query is small whatever the size
    of the network.
    """
    past = sa.and_(Membership.status == MembershipStatus.ACTIVE,
                   sa.or_(Membership.ends_on < on, Membership.ends_on.is_(None)))
    group = (Organization.sector, Organization.size, Organization.state)
    if institute is not None:
        query = (sa.select(*group, sa.func.count()).join(Membership, Membership.organization_id == Organization.id)
                 .where(past, Membership.institute_id == institute.id))
    else:
        retired = sa.select(Institute.id).where(Institute.retired_on.is_not(None))
        in_force = sa.select(Membership.id).where(Membership.organization_id == Organization.id,
                                                  Membership.in_force(on), Membership.institute_id.not_in(retired)
                                                  ).exists()
        at_retired = sa.and_(Membership.status == MembershipStatus.ACTIVE, Membership.institute_id.in_(retired))
        query = sa.select(*group, sa.func.count()).where(
            Organization.id.in_(sa.select(Membership.organization_id).where(sa.or_(past, at_retired))), ~in_force)
    return db.session.execute(query.group_by(*group)).all()


def compute(institute: Institute | None = None) -> dict:
    """The snapshot, for the whole network or one institute, from the summary figures.

    Four queries whatever the size of the network: the time of the latest change, the institutes, the
    summary rows, and the members whose lapse is not recorded yet (see ``_lapsed_unrecorded``).
    """
    on = today()
    latest = db.session.scalar(sa.select(AuditEvent.occurred_at).order_by(AuditEvent.id.desc()).limit(1))
    as_of = (latest or datetime(2000, 1, 1, tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)
    every_institute = db.session.scalars(sa.select(Institute).order_by(Institute.acronym)).all()
    institutes = [i for i in every_institute if institute is None or i.id == institute.id]
    scope = institute.id if institute is not None else NETWORK
    # the scope's own figures, and for the network each institute's money beside them
    wanted = Summary.scope == scope
    if institute is None:
        wanted = sa.or_(wanted, Summary.figure.in_([Figure.MONEY, Figure.FEDERAL, Figure.PLEDGERS]))
    # every institute's workforce counts: an institute's row is published as it stands in the network's table
    wanted = sa.or_(wanted, Summary.figure == Figure.WORKFORCE)
    figures: dict[tuple[int, str], dict[str, int]] = {}
    for row in db.session.execute(sa.select(Summary.scope, Summary.figure, Summary.key, Summary.value)
                                  .where(wanted, Summary.value != 0)):
        figures.setdefault((row.scope, row.figure), {})[row.key] = int(row.value)

    def figure(name: Figure, at: int = scope) -> dict[str, int]:
        return figures.get((at, name), {})

    groups = {group: figure(Figure.MEMBERS_BY_GROUP).get(group, 0) for group in GROUPS}
    states = dict(figure(Figure.MEMBERS_BY_STATE))
    for sector, size, state, count in _lapsed_unrecorded(on, institute):
        groups[group_of(sector, size)] -= count
        states[state] -= count
    total_members = sum(groups.values())
    industry = groups["industry (small)"] + groups["industry (large)"]
    by_state = sorted((state, count) for state, count in states.items() if count)

    by_status = figure(Figure.PROPOSALS_BY_STATUS)
    by_area = figure(Figure.PROJECTS_BY_AREA)
    levels = figure(Figure.READINESS)
    completed = levels.get("completed", 0)
    readiness = []
    for label, start, reached in (("TRL", "trl_start", "trl_reached"), ("MRL", "mrl_start", "mrl_reached")):
        if not completed:
            readiness.append([label, 0, None, None, None])
            continue
        mean_start, mean_reached = levels.get(start, 0) / completed, levels.get(reached, 0) / completed
        readiness.append([label, completed, round(mean_start, 1), round(mean_reached, 1),
                          round(mean_reached - mean_start, 1)])

    def money(at: int) -> dict[int, dict[str, int]]:
        """{fiscal year: {pledged, received, verified, cancelled, federal}} for one institute."""
        years: dict[int, dict[str, int]] = {}
        for key, cents in figure(Figure.MONEY, at).items():
            year, total = key.split(":")
            years.setdefault(int(year), {})[total] = cents
        for year, cents in figure(Figure.FEDERAL, at).items():
            years.setdefault(int(year), {})["federal"] = cents
        return years

    def total(*years: dict[str, int]) -> Counter:
        return sum((Counter(year) for year in years), Counter())

    each = {i.id: money(i.id) for i in institutes}
    coinvestment: list[list[Any]] = []
    all_verified = 0  # unsuppressed, for the network's ratio
    for i in institutes:
        cents = total(*each[i.id].values())
        all_verified += cents["verified"]
        orgs = figure(Figure.PLEDGERS, i.id).get("all", 0)
        pledged, received, verified = _suppressed(orgs, cents["pledged"] - cents["cancelled"],
                                                  cents["received"], cents["verified"])
        coinvestment.append([i.acronym, cents["federal"], orgs, pledged, received, verified,
                             _ratio(verified, cents["federal"])])

    match: list[list[Any]] = []
    pledgers = figure(Figure.PLEDGERS)
    for year in sorted({y for years in each.values() for y in years}):
        cents = total(*(years[year] for years in each.values() if year in years))
        orgs = pledgers.get(str(year), 0)
        pledged, verified = _suppressed(orgs, cents["pledged"] - cents["cancelled"], cents["verified"])
        match.append([year, cents["federal"], orgs, pledged, verified, _ratio(verified, cents["federal"])])

    def decisions(name: Figure) -> tuple[int, float | None]:
        days = {int(d): n for d, n in figure(name).items()}
        return sum(days.values()), _median(days)

    workforce_by_institute, workforce_by_year = workforce_figures.tables(
        {i.acronym: figure(Figure.WORKFORCE, i.id) for i in every_institute})
    workforce_by_institute = [row for row in workforce_by_institute if row[0] in {i.acronym for i in institutes}]

    total_federal = sum(r[1] for r in coinvestment)
    network_orgs = pledgers.get("all", 0)
    network_verified = _suppressed(network_orgs, all_verified)[0]
    values = (len([i for i in institutes if not i.is_retired]) if institute is None else len(institutes),
              total_members, len(by_state), sum(by_area.values()),
              round(100 * industry / total_members, 1) if total_members else None,
              round(100 * groups["industry (small)"] / industry, 1) if industry else None,
              _ratio(network_verified, total_federal))
    overview: list[list[Any]] = [[figure, value] for figure, value in zip(OVERVIEW_UNITS, values, strict=True)]
    return {
        "as_of": as_of.isoformat(),
        "scope": institute.acronym if institute is not None else "network",
        "license": "CC0 1.0: no rights reserved",
        "tables": {
            "overview": _table("overview", overview),
            "members_by_sector": _table("members_by_sector", [
                [group, count, round(count / total_members, 3) if total_members else None]
                for group, count in groups.items()]),
            "members_by_state": _table("members_by_state", [
                [state, US_STATES.get(state, state), count] for state, count in by_state]),
            "projects_by_status": _table("projects_by_status", [
                [status.value, by_status.get(status.value, 0)] for status in ProposalStatus
                if status != ProposalStatus.DRAFT]),
            "projects_by_area": _table("projects_by_area", sorted(([a, n] for a, n in by_area.items()),
                                                                   key=lambda r: (-r[1], r[0]))),
            "readiness": _table("readiness", readiness),
            "coinvestment_by_institute": _table("coinvestment_by_institute", coinvestment),
            "match_by_fiscal_year": _table("match_by_fiscal_year", match),
            "workforce_by_institute": _table("workforce_by_institute", workforce_by_institute),
            **({"workforce_by_fiscal_year": _table("workforce_by_fiscal_year", workforce_by_year)}
               if institute is None else {}),  # see NETWORK_ONLY
            "decision_times": _table("decision_times", [
                ["membership applications", *decisions(Figure.MEMBERSHIP_DAYS)],
                ["proposals", *decisions(Figure.PROPOSAL_DAYS)]]),
        },
    }


# Caching ---------------------------------------------------------------------------------------
#
# Every change to the figures writes an audit event, and memberships lapse by date; so the audit log and
# today's date together name one version of the figures. A snapshot computed for a version is kept (in
# Redis when REDIS_URL is set, so every app server shares it; in this process otherwise) and served until
# the version moves. Its key is also the ETag, so a revalidation costs one small query.
#
# The newest event's id alone is not enough on PostgreSQL: two transactions take ids 100 and 101, the
# second commits first, a snapshot is kept for "101", and when the first commits the newest id is still
# 101. So the version also adds up the newest RECENT ids: a late commit enters them, pushes out an older
# id and moves the sum. A transaction would have to stay open while RECENT others are written to slip by.
# The newest ids are read with ORDER BY id DESC LIMIT, a walk back along the primary key that the planner
# knows is small at any size of the log (a range below a subquery's max cannot be estimated, and at a
# million events PostgreSQL read the whole table in parallel for it).
#
# That query is still a round trip, and for the public page, kept whole, it was a third of a request. So a
# reader who is not signed in may be answered from the version this process read within the last
# SNAPSHOT_VERSION_HOLD seconds (a second unless configured): a change reaches public readers on another
# app server that much later, where the JSON and CSV already let any cache keep them for a minute. A commit
# in this process that wrote an audit event drops what it held, and a signed-in person always gets the
# version of the moment, so whoever made a change sees it at once.

_LOCAL_LIMIT = 64
RECENT = 1000
HELD = "snapshot_version_held"


@sa.event.listens_for(so.Session, "after_commit")
def _drop_held_version(session) -> None:
    """After a commit that wrote an audit event (``audit`` marks the session), this process asks again."""
    if session.info.pop(audit.AUDITED, False) and has_app_context():
        current_app.extensions.pop(HELD, None)


@sa.event.listens_for(so.Session, "after_rollback")
def _forget_audited(session) -> None:
    session.info.pop(audit.AUDITED, None)


def version(institute: Institute | None = None, *, held: bool = False) -> str:
    """The version of the figures: asked on every request for the snapshot, so kept as cheap as it goes.

    It names the release too, so pages kept by the code before a deploy are not served by the code after.
    ``held``: the reader can take figures up to SNAPSHOT_VERSION_HOLD seconds old (someone not signed in).
    """
    newest, recent = _held_changes() if held else _latest_changes()
    scope = institute.slug if institute else "network"
    return f"{scope}-{_release()}-{newest or 0}.{recent}-{today().isoformat()}"


def _release() -> str:
    """A digest of the portal's code and templates, computed once per process."""
    if "snapshot_release" not in current_app.extensions:
        digest = hashlib.sha256()
        package = Path(__file__).resolve().parent.parent
        templates = Path(current_app.root_path, current_app.template_folder or "templates")
        for path in sorted([*package.rglob("*.py"), *templates.rglob("*.html"), *templates.rglob("*.txt")]):
            digest.update(path.read_bytes())
        current_app.extensions["snapshot_release"] = digest.hexdigest()[:12]
    return current_app.extensions["snapshot_release"]


_NEWEST = sa.select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(RECENT).subquery()
_LATEST = sa.select(sa.func.max(_NEWEST.c.id), sa.func.coalesce(sa.func.sum(_NEWEST.c.id), 0))


def _held_changes() -> tuple[int | None, int]:
    """What ``_latest_changes`` answered in this process within the last SNAPSHOT_VERSION_HOLD seconds,
    asking again when that is older (or was dropped by a commit that wrote an audit event)."""
    hold = current_app.config.get("SNAPSHOT_VERSION_HOLD", 0)
    held = current_app.extensions.get(HELD)
    now = time.monotonic()
    if held is not None and now - held[0] < hold:
        return held[1]
    latest = _latest_changes()
    current_app.extensions[HELD] = (now, latest)
    return latest


def _latest_changes() -> tuple[int | None, int]:
    """The newest audit event's id, and the sum of the RECENT newest ids.

    On PostgreSQL they are read on a connection of this process's own, in autocommit: one round trip, where
    the request's session would check a connection out of the pool, ping it, and BEGIN and ROLLBACK
    around the query. SQLite is in this process, where a query costs microseconds anyway.
    """
    if db.engine.dialect.name != "postgresql":
        newest, recent = db.session.execute(_LATEST).one()
        return newest, recent
    state = current_app.extensions.setdefault("snapshot_latest", {"lock": threading.Lock(), "connection": None})
    with state["lock"]:
        try:
            return _read_latest(state)
        except sa.exc.DBAPIError:  # the server went away or restarted: one new connection, one more try
            if state["connection"] is not None:
                state["connection"].invalidate()
                state["connection"] = None
            return _read_latest(state)


def _read_latest(state: dict) -> tuple[int | None, int]:
    if state["connection"] is None:
        state["connection"] = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    newest, recent = state["connection"].execute(_LATEST).one()
    return newest, recent


def _redis():
    """The app's Redis client, or None without REDIS_URL or while Redis is down."""
    return redis_client()


def kept(name: str, make: Callable[[], str], *, expires: int = 24 * 3600, local: str = "snapshot_cache",
         limit: int = _LOCAL_LIMIT) -> str:
    """The text stored under ``name``, made by ``make`` the first time any app server asks for it.

    Names carry the version of the figures, so a text never goes stale: a change moves the version and
    the next request makes new text. Texts are shared in Redis when REDIS_URL is set (for ``expires``
    seconds, a day unless told), and each process keeps the newest ``limit`` it used (in its store named
    ``local``) in front of that, so a busy page costs no round trip. While Redis does not answer, each
    process makes and keeps its own.
    """
    key = f"{current_app.config['CACHE_KEY_PREFIX']}:snapshot:{name}"
    kept_here = current_app.extensions.setdefault(local, {})
    text = kept_here.get(key)
    if text is not None:
        return text
    store = _redis()
    shared = None
    if store is not None:
        try:
            shared = store.get(key)
        except redis.RedisError as error:  # a cache that is down is skipped, never an error page
            redis_failed(error)
            store = None
    if shared is not None:
        text = shared.decode()
    else:
        text = make()
        if store is not None:
            try:
                store.set(key, text, ex=expires)
            except redis.RedisError as error:
                redis_failed(error)
    if len(kept_here) >= limit:
        kept_here.pop(next(iter(kept_here)), None)
    kept_here[key] = text
    return text


def cached(institute: Institute | None = None, key: str | None = None) -> dict:
    """The snapshot for the current version, computed at most once per version."""
    return json.loads(kept(key or version(institute), lambda: json.dumps(compute(institute))))
