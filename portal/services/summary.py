"""The summary figures behind the snapshot: moved with every change, recounted from scratch to check them.

Each service that changes something the snapshot counts calls one function here in the same
transaction, which adds the difference to the figures it moves (``add``). Adding a difference is a
single upsert, so two people acting at once both count; rows are touched in key order, so two
writers never wait on each other in opposite orders. Counts of distinct organizations (members across
institutes, organizations with pledges) lock the organization's row first and then look at what it
already has, so the first membership or pledge is counted once however many arrive together.

``recount`` computes every figure from the raw tables; ``problems`` compares the two (run by
``flask ledger verify``) and ``rebuild`` replaces the summary with the recount (after a bulk load).
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.models import (
    NETWORK,
    EntryKind,
    FederalObligation,
    Figure,
    LedgerEntry,
    Membership,
    MembershipStatus,
    Organization,
    OrgSize,
    Pledge,
    ProjectCall,
    Proposal,
    ProposalStatus,
    Sector,
    StatusChange,
    Summary,
)
from portal.services import updated_rows, workforce_figures

GROUPS = ("industry (small)", "industry (large)", "academic", "government", "nonprofit")
PROJECT_STATUSES = (ProposalStatus.APPROVED, ProposalStatus.ACTIVE, ProposalStatus.COMPLETED)
DECIDED = (ProposalStatus.APPROVED, ProposalStatus.DECLINED)
MONEY_TOTALS = ("pledged", "received", "verified", "cancelled")
NOT_STATED = "not stated"

Key = tuple[int, str, str]


def counted():
    """SQL condition on Pledge: the pledge counts in every total.

    Cost share committed to a proposal is a conditional commitment: it counts once the proposal is approved
    (and while it is active or completed), unless it was released before (declined, withdrawn or returned,
    a release entry). Every other pledge counts from the start.
    """
    approved = sa.select(Proposal.id).where(Proposal.id == Pledge.proposal_id,
                                            Proposal.status.in_(PROJECT_STATUSES)).exists()
    released = sa.select(LedgerEntry.id).where(LedgerEntry.pledge_id == Pledge.id,
                                               LedgerEntry.kind == EntryKind.RELEASE).exists()
    return sa.or_(Pledge.proposal_id.is_(None), sa.and_(approved, ~released))


def is_counted(pledge: Pledge) -> bool:
    """Whether ``pledge`` counts in the totals now (see ``counted``)."""
    if pledge.proposal_id is None:
        return True
    return bool(db.session.scalar(sa.select(counted()).where(Pledge.id == pledge.id)))


def group_of(sector: str, size: str | None) -> str:
    """The annual report's groups: industry split by size, then the other sectors."""
    if sector == Sector.INDUSTRY:
        return f"industry ({'small' if size == OrgSize.SMALL else 'large'})"
    return str(sector)


def area_of(technology_area: str | None) -> str:
    return technology_area or NOT_STATED


def whole_days(start: datetime, end: datetime) -> int:
    return (end - start).days


def add(changes: Mapping[Key, int]) -> None:
    """Add each difference to its figure, rows in key order.

    An increase is an upsert (the first one makes the row); a decrease is an UPDATE of a row that
    must exist, so the CHECK on the table refuses any that would take a figure below zero.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for (scope, figure, key), value in sorted(changes.items()):
        if value > 0:
            statement = insert(Summary).values(scope=scope, figure=str(figure), key=key, value=value)
            db.session.execute(statement.on_conflict_do_update(
                index_elements=["scope", "figure", "key"], set_={"value": Summary.value + value}))
        elif value < 0:
            changed = updated_rows(sa.update(Summary).where(
                Summary.scope == scope, Summary.figure == str(figure), Summary.key == key)
                .values(value=Summary.value + value))
            if changed != 1:
                raise RuntimeError(f"summary {figure} [{key}] for scope {scope} has nothing to take {-value} from")


def _organization_locked(organization_id: int) -> sa.Row:
    """Lock the organization's row until commit (PostgreSQL) and read what the counts group it by.

    FOR NO KEY UPDATE, the lock an UPDATE of the row takes: it waits for another writer of the row but
    not for the KEY SHARE lock that inserting a pledge (a foreign key to the row) already holds, so two
    first pledges at once queue up instead of deadlocking.
    """
    return db.session.execute(
        sa.select(Organization.sector, Organization.size, Organization.state)
        .where(Organization.id == organization_id).with_for_update(key_share=True)).one()


def lock_organization(organization_id: int) -> None:
    """Lock the organization's row until commit, as every change to what counts it does (see above)."""
    _organization_locked(organization_id)


def organization_share(organization_ids: set[int]) -> Counter:
    """What the organizations in ``organization_ids`` add to the figures that count organizations: members by
    group and state (for an institute, one per active membership; for the network, each member once) and
    organizations with pledges counted. Taken before and after a merge, the difference is what it moves."""
    figures: Counter = Counter()
    active = sa.and_(Membership.status == MembershipStatus.ACTIVE, Membership.organization_id.in_(organization_ids))
    place = (Organization.sector, Organization.size, Organization.state)
    rows = db.session.execute(sa.select(Membership.institute_id, *place, sa.func.count())
                              .join(Organization, Organization.id == Membership.organization_id).where(active)
                              .group_by(Membership.institute_id, *place)).all()
    network: sa.Select = sa.select(sa.literal_column(str(NETWORK)), *place, sa.func.count()).where(
        Organization.id.in_(sa.select(Membership.organization_id).where(active))).group_by(*place)
    members: Sequence[sa.Row] = db.session.execute(network).all()
    for scope, sector, size, state, n in [*rows, *members]:
        figures[(scope, str(Figure.MEMBERS_BY_GROUP), group_of(sector, size))] += n
        figures[(scope, str(Figure.MEMBERS_BY_STATE), state)] += n
    pledges = sa.and_(counted(), Pledge.organization_id.in_(organization_ids))
    pledgers = sa.func.count(sa.distinct(Pledge.organization_id))
    by_year: tuple[Any, ...] = (Pledge.fiscal_year,)
    groupings: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = [
        ((Pledge.institute_id,), by_year), ((Pledge.institute_id,), ()),
        ((), by_year), ((), ())]
    for scoped, keys in groupings:
        key = (lambda row: str(row[1])) if keys else (lambda row: "all")
        column = scoped[0] if scoped else sa.literal_column(str(NETWORK))
        for row in db.session.execute(sa.select(column, *keys, pledgers).where(pledges).group_by(*scoped, *keys)):
            figures[(int(row[0]), str(Figure.PLEDGERS), key(row))] += int(row[-1])
    return figures


def _active_memberships(organization_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(Membership.institute_id).where(
        Membership.organization_id == organization_id, Membership.status == MembershipStatus.ACTIVE)))


def _member(change: Counter, scope: int, organization: sa.Row, step: int) -> None:
    change[(scope, Figure.MEMBERS_BY_GROUP, group_of(organization.sector, organization.size))] += step
    change[(scope, Figure.MEMBERS_BY_STATE, organization.state)] += step


# Moved by the services ---------------------------------------------------------------------

def membership_moved(membership: Membership, before: str, after: str) -> None:
    """A membership changed status (its row already updated): move the member counts if it matters."""
    joined, left = after == MembershipStatus.ACTIVE, before == MembershipStatus.ACTIVE
    if joined == left:
        return
    step = 1 if joined else -1
    organization = _organization_locked(membership.organization_id)
    change: Counter = Counter()
    _member(change, membership.institute_id, organization, step)
    active = len(_active_memberships(membership.organization_id))
    if (joined and active == 1) or (left and active == 0):  # its first membership, or its last
        _member(change, NETWORK, organization, step)
    add(change)


def membership_decided(membership: Membership) -> None:
    assert membership.decided_at is not None  # called once the decision is recorded
    days = str(whole_days(membership.applied_at, membership.decided_at))
    add({(membership.institute_id, Figure.MEMBERSHIP_DAYS, days): 1, (NETWORK, Figure.MEMBERSHIP_DAYS, days): 1})


def organization_moving(organization_id: int, *, sector: str, size: str | None, state: str) -> None:
    """Before an organization's sector, size or state changes: move it between groups and states."""
    old = _organization_locked(organization_id)
    if group_of(old.sector, old.size) == group_of(sector, size) and old.state == state:
        return
    institutes = _active_memberships(organization_id)
    change: Counter = Counter()
    for scope in [*institutes, NETWORK] if institutes else []:
        change[(scope, Figure.MEMBERS_BY_GROUP, group_of(old.sector, old.size))] -= 1
        change[(scope, Figure.MEMBERS_BY_STATE, old.state)] -= 1
        change[(scope, Figure.MEMBERS_BY_GROUP, group_of(sector, size))] += 1
        change[(scope, Figure.MEMBERS_BY_STATE, state)] += 1
    add(change)


def pledge_recorded(pledge: Pledge) -> None:
    """A new pledge (already flushed): its money, and the organization if this is its first pledge there.
    Conditional cost share counts nothing yet (``pledges_counted`` counts it at the proposal's approval)."""
    if is_counted(pledge):
        _count(pledge, set())


def pledges_counted(pledges: list[Pledge]) -> None:
    """Pledges that count from now on (a proposal's cost share at its approval): all their money so far."""
    waiting = {pledge.id for pledge in pledges}
    for pledge in sorted(pledges, key=lambda p: p.id):
        waiting.discard(pledge.id)
        _count(pledge, waiting)


def _count(pledge: Pledge, not_yet: set[int]) -> None:
    """Add ``pledge``'s totals, and count its organization where this is its first counted pledge (pledges
    in ``not_yet`` are about to be counted too, so they are not earlier ones)."""
    _organization_locked(pledge.organization_id)
    earlier = sa.select(Pledge.institute_id, Pledge.fiscal_year).where(
        Pledge.organization_id == pledge.organization_id, Pledge.id != pledge.id, counted())
    if not_yet:
        earlier = earlier.where(Pledge.id.not_in(not_yet))
    others = {tuple(row) for row in db.session.execute(earlier)}  # (institute, fiscal year) it pledged to
    institute, year = pledge.institute_id, pledge.fiscal_year
    change: Counter = Counter({(institute, Figure.MONEY, f"{year}:{name}"): getattr(pledge, f"{name}_cents")
                              for name in MONEY_TOTALS})
    firsts = {
        (institute, str(year)): (institute, year) not in others,
        (institute, "all"): institute not in {i for i, _ in others},
        (NETWORK, str(year)): year not in {y for _, y in others},
        (NETWORK, "all"): not others,
    }
    for (scope, key), first in firsts.items():
        if first:
            change[(scope, Figure.PLEDGERS, key)] += 1
    add(change)


def pledge_totals_moved(pledge: Pledge, deltas: Mapping[str, int]) -> None:
    if not is_counted(pledge):
        return
    add({(pledge.institute_id, Figure.MONEY, f"{pledge.fiscal_year}:{name}"): delta
         for name, delta in deltas.items()})


def federal_recorded(institute_id: int, fiscal_year: int, amount_cents: int) -> None:
    add({(institute_id, Figure.FEDERAL, str(fiscal_year)): amount_cents})


def proposal_moved(proposal: Proposal, institute_id: int, before: str | None, after: str, at: datetime) -> None:
    """A proposal changed status (its row already updated)."""
    change: Counter = Counter()
    for scope in (institute_id, NETWORK):
        if before not in (None, ProposalStatus.DRAFT):
            change[(scope, Figure.PROPOSALS_BY_STATUS, str(before))] -= 1
        if after != ProposalStatus.DRAFT:
            change[(scope, Figure.PROPOSALS_BY_STATUS, str(after))] += 1
        if (before in PROJECT_STATUSES) != (after in PROJECT_STATUSES):
            change[(scope, Figure.PROJECTS_BY_AREA, area_of(proposal.technology_area))] += (
                1 if after in PROJECT_STATUSES else -1)
    if after in DECIDED:
        submitted = db.session.scalar(sa.select(sa.func.min(StatusChange.at)).where(
            StatusChange.proposal_id == proposal.id, StatusChange.to_status == ProposalStatus.SUBMITTED))
        if submitted is not None:
            days = str(whole_days(submitted, at))
            for scope in (institute_id, NETWORK):
                change[(scope, Figure.PROPOSAL_DAYS, days)] += 1
    add(change)


def project_completed(proposal: Proposal, institute_id: int) -> None:
    """Readiness reached by a completed project: counted with the levels it started from."""
    assert proposal.trl_reached is not None and proposal.mrl_reached is not None  # completing sets both
    levels = {"completed": 1, "trl_start": proposal.trl_start or 0, "trl_reached": proposal.trl_reached,
              "mrl_start": proposal.mrl_start or 0, "mrl_reached": proposal.mrl_reached}
    add({(scope, Figure.READINESS, key): value for scope in (institute_id, NETWORK) for key, value in levels.items()})


# From scratch -------------------------------------------------------------------------------

def recount(session: so.Session | so.scoped_session[Any] | None = None) -> dict[Key, int]:
    """Every summary figure computed from the raw tables (zero figures left out)."""
    session = session or db.session
    figures: Counter = Counter()

    def count(scope_column, figure: Figure, key_columns, value, query, key=lambda *k: str(k[0])):
        """Add ``value`` grouped by the scope (None: the network) and the key columns."""
        scoped = [scope_column] if scope_column is not None else []
        for row in session.execute(query.add_columns(*scoped, *key_columns, value)
                                      .group_by(*scoped, *key_columns)):
            scope, *keys, total = row if scoped else (NETWORK, *row)
            figures[(scope, figure, key(*keys))] += int(total or 0)

    active = Membership.status == MembershipStatus.ACTIVE
    members = sa.select().select_from(Membership).join(Organization).where(active)
    group = (Organization.sector, Organization.size)
    count(Membership.institute_id, Figure.MEMBERS_BY_GROUP, group, sa.func.count(), members, key=group_of)
    count(Membership.institute_id, Figure.MEMBERS_BY_STATE, (Organization.state,), sa.func.count(), members)
    any_member = sa.select().select_from(Organization).where(
        Organization.id.in_(sa.select(Membership.organization_id).where(active)))
    network = None
    count(network, Figure.MEMBERS_BY_GROUP, group, sa.func.count(), any_member, key=group_of)
    count(network, Figure.MEMBERS_BY_STATE, (Organization.state,), sa.func.count(), any_member)

    for scope in (ProjectCall.institute_id, network):
        proposals = sa.select().select_from(Proposal).join(Proposal.call)
        count(scope, Figure.PROPOSALS_BY_STATUS, (Proposal.status,), sa.func.count(),
              proposals.where(Proposal.status != ProposalStatus.DRAFT))
        count(scope, Figure.PROJECTS_BY_AREA, (Proposal.technology_area,), sa.func.count(),
              proposals.where(Proposal.status.in_(PROJECT_STATUSES)), key=area_of)
        completed = proposals.where(Proposal.status == ProposalStatus.COMPLETED)
        for name, value in (("completed", sa.func.count()),
                            ("trl_start", sa.func.sum(sa.func.coalesce(Proposal.trl_start, 0))),
                            ("trl_reached", sa.func.sum(Proposal.trl_reached)),
                            ("mrl_start", sa.func.sum(sa.func.coalesce(Proposal.mrl_start, 0))),
                            ("mrl_reached", sa.func.sum(Proposal.mrl_reached))):
            count(scope, Figure.READINESS, (), value, completed, key=lambda name=name: name)

    pledges = sa.select().select_from(Pledge).where(counted())
    for name in MONEY_TOTALS:
        count(Pledge.institute_id, Figure.MONEY, (Pledge.fiscal_year,),
              sa.func.sum(Pledge.__table__.c[f"{name}_cents"]), pledges, key=lambda year, name=name: f"{year}:{name}")
    count(FederalObligation.institute_id, Figure.FEDERAL, (FederalObligation.fiscal_year,),
          sa.func.sum(FederalObligation.amount_cents), sa.select().select_from(FederalObligation))
    pledgers = sa.func.count(sa.distinct(Pledge.organization_id))
    count(Pledge.institute_id, Figure.PLEDGERS, (Pledge.fiscal_year,), pledgers, pledges)
    count(Pledge.institute_id, Figure.PLEDGERS, (), pledgers, pledges, key=lambda: "all")
    count(network, Figure.PLEDGERS, (Pledge.fiscal_year,), pledgers, pledges)
    count(network, Figure.PLEDGERS, (), pledgers, pledges, key=lambda: "all")

    for institute_id, applied_at, decided_at in session.execute(
            sa.select(Membership.institute_id, Membership.applied_at, Membership.decided_at)
            .where(Membership.decided_at.is_not(None))):
        assert decided_at is not None  # the query asked for decided ones only
        days = str(whole_days(applied_at, decided_at))
        figures[(institute_id, Figure.MEMBERSHIP_DAYS, days)] += 1
        figures[(NETWORK, Figure.MEMBERSHIP_DAYS, days)] += 1
    submitted: dict[int, datetime] = {}
    for proposal_id, institute_id, status, at in session.execute(
            sa.select(StatusChange.proposal_id, ProjectCall.institute_id, StatusChange.to_status, StatusChange.at)
            .join(Proposal, Proposal.id == StatusChange.proposal_id).join(Proposal.call)
            .where(StatusChange.to_status.in_([ProposalStatus.SUBMITTED, *DECIDED]))
            .order_by(StatusChange.proposal_id, StatusChange.at, StatusChange.id)):
        if status == ProposalStatus.SUBMITTED:
            submitted.setdefault(proposal_id, at)
        elif proposal_id in submitted:
            days = str(whole_days(submitted[proposal_id], at))
            figures[(institute_id, Figure.PROPOSAL_DAYS, days)] += 1
            figures[(NETWORK, Figure.PROPOSAL_DAYS, days)] += 1
    figures.update(workforce_figures.recount(session))
    return {(scope, str(figure), key): value for (scope, figure, key), value in figures.items() if value}


def stored() -> dict[Key, int]:
    return {(scope, figure, key): value for scope, figure, key, value in db.session.execute(
        sa.select(Summary.scope, Summary.figure, Summary.key, Summary.value).where(Summary.value != 0))}


def problems() -> list[str]:
    """Each figure whose running value differs from a recount from the raw tables."""
    kept, counted = stored(), recount()
    return [f"summary {figure} [{key}] for {'the network' if scope == NETWORK else f'institute {scope}'}: "
            f"{kept.get((scope, figure, key), 0)} kept but {counted.get((scope, figure, key), 0)} recounted"
            for scope, figure, key in sorted(set(kept) | set(counted))
            if kept.get((scope, figure, key), 0) != counted.get((scope, figure, key), 0)]


def rebuild(session: so.Session | so.scoped_session[Any] | None = None) -> int:
    """Replace every summary figure with a recount (after a bulk load, or to repair); returns the rows."""
    session = session or db.session
    figures = recount(session)
    session.execute(sa.delete(Summary))
    rows = [{"scope": scope, "figure": figure, "key": key, "value": value}
            for (scope, figure, key), value in sorted(figures.items())]
    for start in range(0, len(rows), 1000):
        session.execute(sa.insert(Summary), rows[start:start + 1000])
    return len(rows)
