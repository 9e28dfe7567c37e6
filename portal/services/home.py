"""What waits for a person: the tasks of each of their roles, for the personal home page and its count.

Every list is one bounded query (at most ``LIMIT`` rows, with what the page shows loaded in the same
query), whatever the size of the network: a person's institutes and organizations are subqueries, and
each condition is served by an index. ``waiting_count`` counts the same lists in one statement.
"""

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    CallStatus,
    EntryKind,
    Instalment,
    Institute,
    InstituteStaff,
    Invitation,
    InvitationStatus,
    LedgerEntry,
    Membership,
    MembershipStatus,
    Milestone,
    Partner,
    PartnerStatus,
    Pledge,
    ProgramSession,
    ProjectCall,
    Proposal,
    ProposalStatus,
    Review,
    Signup,
    SignupStatus,
    User,
)
from portal.models.base import utcnow
from portal.services import snapshot
from portal.services.clock import today

LIMIT = 50          # rows per list; the page links to the full list beyond
COUNT_FRESH = 60    # seconds the header's count may lag time passing (an invitation expiring); never a change
DUE_WITHIN = 30     # days ahead an installment or milestone shows as due
OPEN_PROPOSALS = (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW,
                  ProposalStatus.APPROVED, ProposalStatus.ACTIVE)


# Who the person is, as subqueries ---------------------------------------------------------------

def _staff_institutes(user: User):
    """The institutes ``user`` administers (a subquery)."""
    return sa.select(InstituteStaff.institute_id).where(InstituteStaff.user_id == user.id)


def _organizations(user: User, *, admin: bool):
    query = sa.select(Affiliation.organization_id).where(Affiliation.user_id == user.id,
                                                         Affiliation.status == AffiliationStatus.ACTIVE)
    return query.where(Affiliation.role == AffiliationRole.ADMIN) if admin else query


# The lists, as statements (shared by the page and the count) ------------------------------------

def applications_to_decide(user: User):
    return (sa.select(Membership).where(Membership.institute_id.in_(_staff_institutes(user)),
                                        Membership.status == MembershipStatus.PENDING)
            .order_by(Membership.applied_at, Membership.id))


def tier_changes_to_decide(user: User):
    return (sa.select(Membership).where(Membership.institute_id.in_(_staff_institutes(user)),
                                        Membership.status == MembershipStatus.ACTIVE,
                                        Membership.requested_tier_id.is_not(None))
            .order_by(Membership.applied_at, Membership.id))


def receipts_to_verify(user: User):
    """Standing, unverified receipts of the person's institutes that someone else recorded, on pledges of
    organizations the person does not belong to (the two-person rule, and impartiality)."""
    reversal = so.aliased(LedgerEntry)
    verification = so.aliased(LedgerEntry)
    undone = so.aliased(LedgerEntry)
    standing_verification = (sa.select(verification.id).where(
        verification.verifies_id == LedgerEntry.id,
        ~sa.select(undone.id).where(undone.reverses_id == verification.id).exists()))
    return (sa.select(LedgerEntry).join(Pledge, LedgerEntry.pledge_id == Pledge.id)
            .where(Pledge.institute_id.in_(_staff_institutes(user)),
                   Pledge.verified_cents < Pledge.received_cents,
                   Pledge.organization_id.not_in(_organizations(user, admin=False)),
                   LedgerEntry.kind == EntryKind.RECEIPT,
                   LedgerEntry.actor_id != user.id,
                   ~sa.select(reversal.id).where(reversal.reverses_id == LedgerEntry.id).exists(),
                   ~standing_verification.exists())
            .order_by(LedgerEntry.occurred_at, LedgerEntry.id))


def _institute_proposals(user: User, status: ProposalStatus):
    return (sa.select(Proposal).join(ProjectCall, Proposal.call_id == ProjectCall.id)
            .where(ProjectCall.institute_id.in_(_staff_institutes(user)), Proposal.status == status,
                   Proposal.lead_organization_id.not_in(_organizations(user, admin=False)))
            .order_by(Proposal.status_changed_at, Proposal.id))


def proposals_to_assign(user: User):
    """Submitted proposals that wait for reviewers."""
    return _institute_proposals(user, ProposalStatus.SUBMITTED)


def proposals_to_decide(user: User):
    """Proposals under review with at least one submitted review and none still waiting."""
    submitted = sa.select(Review.id).where(Review.proposal_id == Proposal.id, Review.submitted_at.is_not(None))
    waiting = sa.select(Review.id).where(Review.proposal_id == Proposal.id, Review.submitted_at.is_(None))
    return (_institute_proposals(user, ProposalStatus.UNDER_REVIEW)
            .where(submitted.exists(), ~waiting.exists()))


def milestones_to_accept(user: User):
    return (sa.select(Milestone).join(Proposal, Milestone.proposal_id == Proposal.id)
            .join(ProjectCall, Proposal.call_id == ProjectCall.id)
            .where(ProjectCall.institute_id.in_(_staff_institutes(user)), Proposal.status == ProposalStatus.ACTIVE,
                   Milestone.reported_at.is_not(None), Milestone.accepted_at.is_(None),
                   Proposal.lead_organization_id.not_in(_organizations(user, admin=False)))
            .order_by(Milestone.reported_at, Milestone.id))


def completions_to_sign(user: User):
    return (_institute_proposals(user, ProposalStatus.ACTIVE)
            .where(Proposal.completion_requested_at.is_not(None)))


def reviews_to_do(user: User):
    return (sa.select(Review).join(Proposal, Review.proposal_id == Proposal.id)
            .where(Review.reviewer_id == user.id, Review.submitted_at.is_(None),
                   Proposal.status == ProposalStatus.UNDER_REVIEW)
            .order_by(Review.assigned_at, Review.id))


def join_requests(user: User):
    return (sa.select(Affiliation).where(Affiliation.organization_id.in_(_organizations(user, admin=True)),
                                         Affiliation.status == AffiliationStatus.PENDING)
            .order_by(Affiliation.created_at, Affiliation.id))


def role_invitations(user: User):
    """Invitations by email to the person's own confirmed address, still open: to join an organization,
    administer an institute, review a proposal or join a team as a partner's contact."""
    return (sa.select(Invitation).where(Invitation.email == user.email, Invitation.status == InvitationStatus.PENDING,
                                        Invitation.expires_at > utcnow(),
                                        sa.true() if user.is_verified else sa.false())
            .order_by(Invitation.created_at, Invitation.id))


def invitations_to_answer(user: User):
    """Invitations for the person's organizations to join a proposal's team, while it is a draft."""
    return (sa.select(Partner).join(Proposal, Partner.proposal_id == Proposal.id)
            .where(Partner.organization_id.in_(_organizations(user, admin=True)),
                   Partner.status == PartnerStatus.INVITED, Proposal.status == ProposalStatus.DRAFT)
            .order_by(Partner.id))


def instalments_due(user: User, on: date):
    """Installments due within ``DUE_WITHIN`` days (or overdue) that what was received and cancelled does
    not yet cover (the schedule is paid in order), on open pledges of the organizations the person runs."""
    earlier = so.aliased(Instalment)
    scheduled_through = (sa.select(sa.func.sum(earlier.amount_cents))
                         .where(earlier.pledge_id == Instalment.pledge_id,
                                sa.or_(earlier.due_on < Instalment.due_on,
                                       sa.and_(earlier.due_on == Instalment.due_on, earlier.id <= Instalment.id)))
                         .scalar_subquery())
    return (sa.select(Instalment).join(Pledge, Instalment.pledge_id == Pledge.id)
            .where(Pledge.organization_id.in_(_organizations(user, admin=True)),
                   Pledge.pledged_cents - Pledge.received_cents - Pledge.cancelled_cents > 0,
                   Instalment.due_on <= on + timedelta(days=DUE_WITHIN),
                   scheduled_through > Pledge.received_cents + Pledge.cancelled_cents)
            .order_by(Instalment.due_on, Instalment.id))


def milestones_due(user: User, on: date):
    """Milestones of the person's organizations' active projects to report, due within ``DUE_WITHIN`` days
    or overdue."""
    return (sa.select(Milestone).join(Proposal, Milestone.proposal_id == Proposal.id)
            .where(Proposal.lead_organization_id.in_(_organizations(user, admin=False)),
                   Proposal.status == ProposalStatus.ACTIVE, Milestone.reported_at.is_(None),
                   Milestone.due_on <= on + timedelta(days=DUE_WITHIN))
            .order_by(Milestone.due_on, Milestone.id))


def institutes_without_staff(user: User):
    """For a network administrator: institutes nobody administers yet."""
    if not user.is_network_admin:
        return sa.select(Institute).where(sa.false())
    staffed = sa.select(InstituteStaff.id).where(InstituteStaff.institute_id == Institute.id)
    return sa.select(Institute).where(~staffed.exists()).order_by(Institute.acronym)


def my_proposals(user: User):
    """Proposals the person wrote, and those their organizations lead, still open."""
    return (sa.select(Proposal)
            .where(sa.or_(Proposal.created_by_id == user.id,
                          Proposal.lead_organization_id.in_(_organizations(user, admin=True))),
                   Proposal.status.in_(OPEN_PROPOSALS))
            .order_by(Proposal.status_changed_at.desc(), Proposal.id.desc()))


def my_sessions(user: User, now: datetime):
    return (sa.select(Signup).join(ProgramSession, Signup.session_id == ProgramSession.id)
            .where(Signup.user_id == user.id, Signup.status != SignupStatus.CANCELLED,
                   ProgramSession.cancelled_at.is_(None), ProgramSession.ends_at >= now)
            .order_by(ProgramSession.starts_at, Signup.id))


def open_calls(now: datetime):
    return (sa.select(ProjectCall).where(ProjectCall.status == CallStatus.OPEN, ProjectCall.opens_at <= now,
                                         ProjectCall.closes_at > now)
            .order_by(ProjectCall.closes_at, ProjectCall.id))


# The tasks that need the person, in the order the page shows them, with what each row shows.
TASKS = ("join_requests", "applications", "tier_changes", "receipts", "to_assign", "to_decide",
         "milestones_to_accept", "completions", "reviews", "role_invitations", "invitations", "instalments",
         "milestones_due", "unstaffed")


def _task_statements(user: User, on: date) -> dict[str, sa.Select]:
    return {
        "join_requests": join_requests(user), "applications": applications_to_decide(user),
        "tier_changes": tier_changes_to_decide(user), "receipts": receipts_to_verify(user),
        "to_assign": proposals_to_assign(user), "to_decide": proposals_to_decide(user),
        "milestones_to_accept": milestones_to_accept(user), "completions": completions_to_sign(user),
        "reviews": reviews_to_do(user), "role_invitations": role_invitations(user),
        "invitations": invitations_to_answer(user),
        "instalments": instalments_due(user, on), "milestones_due": milestones_due(user, on),
        "unstaffed": institutes_without_staff(user),
    }


_LOADS = {
    "join_requests": (so.joinedload(Affiliation.user).load_only(User.id, User.full_name, User.email),
                      so.joinedload(Affiliation.organization)),
    "applications": (so.joinedload(Membership.organization), so.joinedload(Membership.institute),
                     so.joinedload(Membership.tier)),
    "tier_changes": (so.joinedload(Membership.organization), so.joinedload(Membership.institute),
                     so.joinedload(Membership.tier), so.joinedload(Membership.requested_tier)),
    "receipts": (so.joinedload(LedgerEntry.pledge).joinedload(Pledge.organization),
                 so.joinedload(LedgerEntry.pledge).joinedload(Pledge.institute),
                 so.joinedload(LedgerEntry.actor).load_only(User.id, User.full_name)),
    "to_assign": (so.joinedload(Proposal.call).joinedload(ProjectCall.institute),
                  so.joinedload(Proposal.lead_organization), so.raiseload(Proposal.partners)),
    "to_decide": (so.joinedload(Proposal.call).joinedload(ProjectCall.institute),
                  so.joinedload(Proposal.lead_organization), so.raiseload(Proposal.partners)),
    "milestones_to_accept": (so.joinedload(Milestone.proposal).joinedload(Proposal.call)
                             .joinedload(ProjectCall.institute),
                             so.joinedload(Milestone.proposal).raiseload(Proposal.partners)),
    "completions": (so.joinedload(Proposal.call).joinedload(ProjectCall.institute),
                    so.joinedload(Proposal.lead_organization), so.raiseload(Proposal.partners)),
    "reviews": (so.joinedload(Review.proposal).joinedload(Proposal.call).joinedload(ProjectCall.institute),
                so.joinedload(Review.proposal).raiseload(Proposal.partners)),
    "role_invitations": (so.joinedload(Invitation.invited_by).load_only(User.id, User.full_name),
                         so.joinedload(Invitation.organization), so.joinedload(Invitation.institute),
                         so.joinedload(Invitation.proposal).raiseload(Proposal.partners)),
    "invitations": (so.joinedload(Partner.proposal).joinedload(Proposal.lead_organization),
                    so.joinedload(Partner.proposal).raiseload(Proposal.partners)),
    "instalments": (so.joinedload(Instalment.pledge).joinedload(Pledge.institute),
                    so.joinedload(Instalment.pledge).joinedload(Pledge.organization)),
    "milestones_due": (so.joinedload(Milestone.proposal).raiseload(Proposal.partners),),
    "unstaffed": (),
}


@dataclass
class Home:
    """What waits for one person (each list at most ``LIMIT`` long), and what they follow."""

    tasks: dict[str, list] = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)
    sessions: list[Signup] = field(default_factory=list)
    open_calls: list[ProjectCall] = field(default_factory=list)
    organizations: list[Affiliation] = field(default_factory=list)
    memberships: int = 0      # live memberships of the organizations the person runs
    administers: bool = False  # administers an institute
    today: date | None = None

    @property
    def waiting(self) -> int:
        return sum(len(rows) for rows in self.tasks.values())


def home_of(user: User, *, now: datetime | None = None) -> Home:
    """Everything the home page shows, one query per list (and none per row)."""
    now = now or utcnow()
    on = today()
    home = Home(today=on)
    _serial_plans()
    for name, statement in _task_statements(user, on).items():
        rows = db.session.scalars(_first_rows(statement).options(*_LOADS[name])).unique().all()
        if rows:
            home.tasks[name] = list(rows)
    home.proposals = list(db.session.scalars(
        my_proposals(user).options(so.joinedload(Proposal.call).joinedload(ProjectCall.institute),
                                   so.raiseload(Proposal.partners)).limit(LIMIT)))
    home.sessions = list(db.session.scalars(
        my_sessions(user, now).options(so.joinedload(Signup.session).joinedload(ProgramSession.program))
        .limit(LIMIT)))
    home.organizations = list(db.session.scalars(
        sa.select(Affiliation).where(Affiliation.user_id == user.id, Affiliation.status != AffiliationStatus.DECLINED)
        .options(so.joinedload(Affiliation.organization)).order_by(Affiliation.id).limit(LIMIT)))
    home.memberships = db.session.scalar(
        sa.select(sa.func.count(Membership.id)).where(
            Membership.organization_id.in_(_organizations(user, admin=True)),
            Membership.status.in_((MembershipStatus.PENDING, MembershipStatus.ACTIVE)))) or 0
    home.administers = db.session.scalar(_staff_institutes(user).limit(1)) is not None
    if not home.tasks and not home.proposals:
        home.open_calls = list(db.session.scalars(open_calls(now).options(so.joinedload(ProjectCall.institute))
                                                  .limit(5)))
    return home


def _first_rows(statement: sa.Select) -> sa.Select:
    """The first ``LIMIT`` rows of ``statement``, chosen before anything is joined to them: the rows are
    picked by id in the list's order (narrow rows from an index range), and only those are then loaded
    with what the page shows. Loading first and limiting after joined every waiting row (708 applications
    to one institute) to its organization, institute and tier only to keep 50."""
    entity = statement.column_descriptions[0]["entity"]
    chosen = statement.with_only_columns(entity.id).limit(LIMIT)
    return sa.select(entity).where(entity.id.in_(chosen)).order_by(*statement._order_by_clauses)


def _serial_plans() -> None:
    """On PostgreSQL, plan the rest of the transaction without parallel workers: each list reads an index
    range of at most ``LIMIT`` rows, yet several were planned in parallel, and starting the workers took
    longer than the reading (the busiest institute administrator's home: 22 statements)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))


def waiting_count(user: User) -> int:
    """How many tasks wait for ``user`` (each list counted up to ``LIMIT``), in one statement."""
    counts = [sa.select(sa.func.count()).select_from(statement.limit(LIMIT).subquery()).scalar_subquery()
              for statement in _task_statements(user, today()).values()]
    return db.session.scalar(sa.select(sum(counts[1:], counts[0]))) or 0


def waiting_count_kept(user: User) -> int:
    """``waiting_count`` as the header shows it on every page: counted once per person and version of the
    network (every change writes an audit event, which moves the version; see ``snapshot.version``) and
    again at least every ``COUNT_FRESH`` seconds for what time alone changes, and kept like the snapshot
    (Redis, and this process in front of it). A hit costs the version's one small query instead of the
    count's fourteen subqueries."""
    moment = int(time.time() // COUNT_FRESH)
    name = f"tasks-{user.id}-{snapshot.version()}-{moment}"
    return int(snapshot.kept(name, lambda: str(waiting_count(user)), expires=2 * COUNT_FRESH,
                             local="task_counts", limit=4096))
