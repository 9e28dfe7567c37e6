"""Project calls and proposals: rules, teams, cost share, review, decision and the projects that follow."""

import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    PUBLIC_STATUSES,
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    CallStatus,
    Criterion,
    Institute,
    Membership,
    Milestone,
    Organization,
    OrgSize,
    Partner,
    PartnerStatus,
    ProjectCall,
    ProjectUpdate,
    Proposal,
    ProposalStatus,
    Review,
    Score,
    Sector,
    StatusChange,
    Tier,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, ledger, notifications, summary
from portal.services.memberships import is_staff, staff_users, today
from portal.services.organizations import admins_of

ABSTRACT_MAX_WORDS = 300
# Reviewers disagree strongly when their weighted totals (1 to 5) are this far apart or more.
DISAGREEMENT_POINTS = 1.5


# Calls ---------------------------------------------------------------------------------------

@dataclass
class CallInput:
    title: str
    description: str
    opens_at: datetime
    closes_at: datetime
    max_federal_cents: int
    min_cost_share_bp: int
    trl_min: int
    trl_max: int
    mrl_min: int
    mrl_max: int
    min_industry: int = 0
    min_academic: int = 0
    min_small_business: int = 0
    all_partners_members: bool = False
    criteria: list[tuple[str, int]] = field(default_factory=list)


def _check_call(data: CallInput) -> None:
    if not data.title.strip():
        raise DomainError("title", "Enter the call's title")
    if data.closes_at <= data.opens_at:
        raise DomainError("closes_at", "The call must close after it opens")
    if not 1 <= data.trl_min <= data.trl_max <= 9:
        raise DomainError("trl_max", "The TRL window runs from 1 to 9, lowest first")
    if not 1 <= data.mrl_min <= data.mrl_max <= 10:
        raise DomainError("mrl_max", "The MRL window runs from 1 to 10, lowest first")
    if not data.criteria:
        raise DomainError("criteria", "Give at least one scoring criterion")
    if any(weight < 1 for _, weight in data.criteria):
        raise DomainError("criteria", "Every criterion needs a weight of at least 1")
    total = sum(weight for _, weight in data.criteria)
    if total != 100:
        raise DomainError("criteria", f"The weights add up to {total}; they must add up to 100")


def _apply_call(call: ProjectCall, data: CallInput) -> None:
    for name in ("description", "opens_at", "closes_at", "max_federal_cents", "min_cost_share_bp", "trl_min",
                 "trl_max", "mrl_min", "mrl_max", "min_industry", "min_academic", "min_small_business",
                 "all_partners_members"):
        setattr(call, name, getattr(data, name))
    call.title = " ".join(data.title.split())
    call.criteria = [Criterion(position=n, name=name.strip(), weight=weight)
                     for n, (name, weight) in enumerate(data.criteria)]


def create_call(actor: User, institute: Institute, data: CallInput) -> ProjectCall:
    _check_call(data)
    call = ProjectCall(institute_id=institute.id, created_by_id=actor.id)
    _apply_call(call, data)
    db.session.add(call)
    db.session.flush()
    audit.record(actor, "call.created", call, institute_id=institute.id, to_state=CallStatus.DRAFT)
    return call


def has_proposals(call: ProjectCall) -> bool:
    return db.session.scalar(sa.select(Proposal.id).where(Proposal.call_id == call.id).limit(1)) is not None


def update_call(actor: User, call: ProjectCall, data: CallInput) -> None:
    if has_proposals(call):
        raise DomainError(None, "This call already has proposals, so its rules can no longer change.", status=409)
    _check_call(data)
    _apply_call(call, data)
    audit.record(actor, "call.updated", call, institute_id=call.institute_id)


def set_call_status(actor: User, call: ProjectCall, status: CallStatus) -> None:
    allowed = {CallStatus.OPEN: {CallStatus.DRAFT}, CallStatus.CLOSED: {CallStatus.OPEN}}
    if call.status not in allowed.get(status, set()):
        raise DomainError(None, f"A {call.status} call cannot become {status}.", status=409)
    audit.record(actor, f"call.{status}", call, institute_id=call.institute_id, from_state=call.status,
                 to_state=status)
    call.status = status


def accepting(call: ProjectCall, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return call.status == CallStatus.OPEN and call.opens_at <= now < call.closes_at


def calls_of(institute: Institute, *, include_drafts: bool) -> list[ProjectCall]:
    query = sa.select(ProjectCall).where(ProjectCall.institute_id == institute.id)
    if not include_drafts:
        query = query.where(ProjectCall.status != CallStatus.DRAFT)
    return list(db.session.scalars(query.order_by(ProjectCall.closes_at.desc())))


# Who is who ----------------------------------------------------------------------------------

def _active_org_ids(user: User, *, admin: bool = False) -> set[int]:
    query = sa.select(Affiliation.organization_id).where(
        Affiliation.user_id == user.id, Affiliation.status == AffiliationStatus.ACTIVE)
    if admin:
        query = query.where(Affiliation.role == AffiliationRole.ADMIN)
    return set(db.session.scalars(query))


def lead_team(user, proposal: Proposal) -> bool:
    """Active users of the lead organization: they edit, invite, submit and run the project."""
    return getattr(user, "is_authenticated", False) and proposal.lead_organization_id in _active_org_ids(user)


def team_org_ids(proposal: Proposal, *, include_invited: bool = True) -> set[int]:
    statuses = [PartnerStatus.ACCEPTED] + ([PartnerStatus.INVITED] if include_invited else [])
    return set(db.session.scalars(sa.select(Partner.organization_id).where(
        Partner.proposal_id == proposal.id, Partner.status.in_(statuses))))


def on_team(user, proposal: Proposal) -> bool:
    """Users of any organization on the team, invited partners included."""
    return getattr(user, "is_authenticated", False) and bool(_active_org_ids(user) & team_org_ids(proposal))


def review_of(user, proposal: Proposal) -> Review | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(sa.select(Review).where(Review.proposal_id == proposal.id, Review.reviewer_id == user.id))


def in_force_tiers(organization_id: int, institute_id: int) -> list[Tier]:
    return list(db.session.scalars(sa.select(Tier).join(Membership, Membership.tier_id == Tier.id).where(
        Membership.organization_id == organization_id, Membership.institute_id == institute_id,
        Membership.in_force(today()))))


def lead_organizations(user: User, call: ProjectCall) -> list[Organization]:
    """The user's organizations whose membership of the call's institute may lead proposals."""
    ids = [org_id for org_id in _active_org_ids(user)
           if any(t.may_lead_projects for t in in_force_tiers(org_id, call.institute_id))]
    return list(db.session.scalars(sa.select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)))


# Proposals -----------------------------------------------------------------------------------

def _move(actor: User | None, proposal: Proposal, to: ProposalStatus, from_statuses) -> None:
    """Change state only from one of ``from_statuses`` (conditional UPDATE); record the change.

    The UPDATE is tried once per status it may start from, so the state it left is known exactly.
    """
    now = utcnow()
    for before in from_statuses:
        result = db.session.execute(
            sa.update(Proposal).where(Proposal.id == proposal.id, Proposal.status == before)
            .values(status=to, status_changed_at=now).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            break
    else:
        db.session.refresh(proposal)
        raise DomainError(None, f"This proposal is {proposal.status.label.lower()}; that cannot be done now.",
                          status=409)
    db.session.refresh(proposal)
    db.session.add(StatusChange(proposal_id=proposal.id, from_status=before, to_status=to,
                                actor_id=actor.id if actor else None, at=now))
    summary.proposal_moved(proposal, proposal.call.institute_id, before, to, now)
    audit.record(actor, f"proposal.{to}", proposal, institute_id=proposal.call.institute_id,
                 from_state=before, to_state=to)


def start(actor: User, call: ProjectCall, organization: Organization, title: str) -> Proposal:
    if not accepting(call):
        raise DomainError(None, "This call is not open for proposals.", status=409)
    if organization not in lead_organizations(actor, call):
        raise DomainError("organization", "Choose one of your organizations whose membership may lead proposals")
    title = " ".join(title.split())
    if not title:
        raise DomainError("title", "Enter a working title")
    proposal = Proposal(call_id=call.id, lead_organization_id=organization.id, created_by_id=actor.id, title=title)
    db.session.add(proposal)
    db.session.flush()
    db.session.add(Partner(proposal_id=proposal.id, organization_id=organization.id, is_lead=True,
                           status=PartnerStatus.ACCEPTED, responded_by_id=actor.id, responded_at=utcnow()))
    db.session.add(StatusChange(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                                actor_id=actor.id))
    audit.record(actor, "proposal.started", proposal, institute_id=call.institute_id, to_state=ProposalStatus.DRAFT)
    return proposal


def _require_draft(proposal: Proposal) -> None:
    if proposal.status != ProposalStatus.DRAFT:
        raise DomainError(None, f"The proposal is {proposal.status.label.lower()}, so it can no longer be edited.",
                          status=409)


def words(text: str) -> int:
    return len(re.findall(r"\S+", text or ""))


@dataclass
class DraftInput:
    title: str
    abstract: str = ""
    technical_plan: str = ""
    technology_area: str = ""
    trl_start: int | None = None
    trl_target: int | None = None
    mrl_start: int | None = None
    mrl_target: int | None = None
    duration_months: int | None = None
    federal_request_cents: int | None = None
    milestones: list[tuple[int, str, str]] = field(default_factory=list)


def save_draft(actor: User, proposal: Proposal, data: DraftInput) -> None:
    """Save the draft; incomplete is fine, contradictory is not."""
    _require_draft(proposal)
    if not data.title.strip():
        raise DomainError("title", "Enter a title")
    if words(data.abstract) > ABSTRACT_MAX_WORDS:
        raise DomainError("abstract", f"The abstract has {words(data.abstract)} words; the limit is {ABSTRACT_MAX_WORDS}")
    for start_name, target_name, label in (("trl_start", "trl_target", "TRL"), ("mrl_start", "mrl_target", "MRL")):
        start_value, target_value = getattr(data, start_name), getattr(data, target_name)
        if start_value is not None and target_value is not None and target_value <= start_value:
            raise DomainError(target_name, f"The target {label} must be above the {label} at the start")
    if data.duration_months is not None:
        late = [m for m, _, _ in data.milestones if m > data.duration_months]
        if late:
            raise DomainError("milestones", f"A milestone in month {late[0]} falls after the project's "
                                            f"{data.duration_months} months")
    for name in ("abstract", "technical_plan", "technology_area", "trl_start", "trl_target", "mrl_start",
                 "mrl_target", "duration_months", "federal_request_cents"):
        setattr(proposal, name, getattr(data, name))
    proposal.title = " ".join(data.title.split())
    proposal.milestones = [Milestone(month=m, title=t, deliverable=d) for m, t, d in data.milestones]
    audit.record(actor, "proposal.saved", proposal, institute_id=proposal.call.institute_id)


# Teams and cost share ------------------------------------------------------------------------

def find_partners(call: ProjectCall, *, q: str = "", sector: str = "", state: str = "",
                  institute_id: int | None = None, exclude: set[int] = frozenset()) -> list[Organization]:
    """Member organizations (of any institute, or of ``institute_id``) matching the finder's filters."""
    members = sa.select(Membership.organization_id).where(Membership.in_force(today()))
    if institute_id:
        members = members.where(Membership.institute_id == institute_id)
    query = sa.select(Organization).where(Organization.id.in_(members))
    if q.strip():
        like = f"%{q.strip().lower()}%"
        query = query.where(sa.or_(sa.func.lower(Organization.name).like(like),
                                   sa.func.lower(Organization.description).like(like)))
    if sector:
        query = query.where(Organization.sector == sector)
    if state:
        query = query.where(Organization.state == state)
    if exclude:
        query = query.where(Organization.id.not_in(exclude))
    return list(db.session.scalars(query.order_by(Organization.name).limit(50)))


def invite(actor: User, proposal: Proposal, organization: Organization) -> Partner:
    _require_draft(proposal)
    existing = db.session.scalar(sa.select(Partner).where(
        Partner.proposal_id == proposal.id, Partner.organization_id == organization.id))
    if existing is not None and existing.status != PartnerStatus.DECLINED:
        raise DomainError("organization", f"{organization.name} is already on this proposal's team", status=409)
    if existing is not None:
        existing.status, existing.responded_at, existing.responded_by_id = PartnerStatus.INVITED, None, None
        partner = existing
    else:
        partner = Partner(proposal_id=proposal.id, organization_id=organization.id, invited_by_id=actor.id)
        db.session.add(partner)
    db.session.flush()
    audit.record(actor, "proposal.partner_invited", proposal, institute_id=proposal.call.institute_id,
                 details={"organization_id": organization.id})
    notifications.notify(admins_of(organization),
                         f"{proposal.lead_organization.name} invites {organization.name} to join the proposal "
                         f"“{proposal.title}”.", "proposals.detail", proposal_id=proposal.id, actor=actor)
    return partner


def respond(actor: User, partner: Partner, *, accept: bool) -> None:
    """A partner organization's admin accepts or declines an invitation."""
    _require_draft(partner.proposal)
    if partner.status != PartnerStatus.INVITED:
        raise DomainError(None, "This invitation has already been answered.", status=409)
    partner.status = PartnerStatus.ACCEPTED if accept else PartnerStatus.DECLINED
    partner.responded_by_id, partner.responded_at = actor.id, utcnow()
    proposal = partner.proposal
    audit.record(actor, "proposal.partner_" + partner.status, proposal, institute_id=proposal.call.institute_id,
                 details={"organization_id": partner.organization_id})
    notifications.notify(admins_of(proposal.lead_organization),
                         f"{partner.organization.name} {partner.status} the invitation to “{proposal.title}”.",
                         "proposals.detail", proposal_id=proposal.id, actor=actor)


def commit_cost_share(actor: User, partner: Partner, *, amount_cents: int, kind: str, in_kind_description: str,
                      key: str | None) -> None:
    """Pledge the partner's cost share in the ledger, tied to this proposal."""
    proposal = partner.proposal
    _require_draft(proposal)
    if partner.status != PartnerStatus.ACCEPTED:
        raise DomainError(None, "Accept the invitation before committing cost share.", status=409)
    if partner.pledge_id is not None and partner.pledge.remaining_cents + partner.pledge.received_cents > 0:
        raise DomainError("amount", f"{partner.organization.name} has already committed its cost share", status=409)
    pledge = ledger.record_pledge(
        actor, partner.organization, proposal.call.institute,
        ledger.PledgeInput(amount_cents=amount_cents, kind=kind, fiscal_year=ledger.fiscal_year_of(today()),
                           in_kind_description=in_kind_description, note=f"Cost share for proposal #{proposal.id}"),
        key=key)
    pledge.proposal_id = proposal.id
    partner.pledge_id = pledge.id


def cost_share_cents(proposal: Proposal) -> int:
    """Cost share committed by accepted partners: pledged less cancelled."""
    return int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(ledger.Pledge.pledged_cents - ledger.Pledge.cancelled_cents), 0))
        .join(Partner, Partner.pledge_id == ledger.Pledge.id)
        .where(Partner.proposal_id == proposal.id, Partner.status == PartnerStatus.ACCEPTED)))


# The rule check ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    name: str
    met: bool
    reason: str


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def check_rules(proposal: Proposal, now: datetime | None = None) -> list[Rule]:
    """Every rule of the call, met or not, with the reason: the page, submit and the tests all use this."""
    now = now or utcnow()
    call = proposal.call
    partners = [p for p in proposal.partners if p.status == PartnerStatus.ACCEPTED]
    orgs = [p.organization for p in partners]
    rules = []

    missing = [name for name, value in (("title", proposal.title), ("abstract", proposal.abstract),
                                        ("technical plan", proposal.technical_plan),
                                        ("technology area", proposal.technology_area),
                                        ("duration", proposal.duration_months)) if not value]
    if not proposal.milestones:
        missing.append("at least one milestone")
    too_long = words(proposal.abstract) > ABSTRACT_MAX_WORDS
    rules.append(Rule("Proposal complete", not missing and not too_long,
                      "Every section is filled in" if not missing and not too_long else
                      (f"Still to fill in: {', '.join(missing)}" if missing else
                       f"The abstract is over {ABSTRACT_MAX_WORDS} words")))

    industry = sum(1 for o in orgs if o.sector == Sector.INDUSTRY)
    academic = sum(1 for o in orgs if o.sector == Sector.ACADEMIC)
    small = sum(1 for o in orgs if o.sector == Sector.INDUSTRY and o.size == OrgSize.SMALL)
    lacks = [f"add {_plural(need - have, kind + ' partner')}" for need, have, kind in (
        (call.min_industry, industry, "industry"), (call.min_academic, academic, "academic"),
        (call.min_small_business, small, "small business")) if have < need]
    rules.append(Rule("Team composition", not lacks,
                      f"{_plural(industry, 'industry partner')}, {_plural(academic, 'academic partner')}, "
                      f"{_plural(small, 'small business', 'small businesses')} on the team"
                      + (f"; {', '.join(lacks)}" if lacks else "")))

    lead_tiers = in_force_tiers(proposal.lead_organization_id, call.institute_id)
    standing = []
    if not lead_tiers:
        standing.append(f"{proposal.lead_organization.name} (the lead) is not an active member")
    elif not any(t.may_lead_projects for t in lead_tiers):
        standing.append(f"{proposal.lead_organization.name}'s tier may not lead proposals")
    if call.all_partners_members:
        standing += [f"{o.name} is not an active member" for o in orgs
                     if o.id != proposal.lead_organization_id and not in_force_tiers(o.id, call.institute_id)]
    rules.append(Rule("Membership standing", not standing,
                      "; ".join(standing) if standing else
                      ("The lead and every partner are active members" if call.all_partners_members
                       else "The lead is an active member whose tier may lead")))

    request = proposal.federal_request_cents
    if not request:
        rules.append(Rule("Federal request", False, "Enter the federal funding requested"))
    else:
        from portal.services.money import format_cents

        rules.append(Rule("Federal request", request <= call.max_federal_cents,
                          f"{format_cents(request)} requested; the call allows up to {format_cents(call.max_federal_cents)}"))
        share = cost_share_cents(proposal)
        needed_bp = call.min_cost_share_bp * request  # compare share * 10000 >= ratio_bp * request, exactly
        rules.append(Rule("Cost share", share * 10_000 >= needed_bp,
                          f"{format_cents(share)} committed by the team; at least "
                          f"{format_cents(-(-needed_bp // 10_000))} needed ({call.min_cost_share_bp / 10_000:g} of the request)"))

    readiness = []
    for label, start_value, target_value, low, high in (
            ("TRL", proposal.trl_start, proposal.trl_target, call.trl_min, call.trl_max),
            ("MRL", proposal.mrl_start, proposal.mrl_target, call.mrl_min, call.mrl_max)):
        if start_value is None or target_value is None:
            readiness.append(f"give the {label} at the start and the target")
        elif not low <= start_value <= high:
            readiness.append(f"{label} {start_value} at the start is outside the call's window of {low} to {high}")
        elif target_value <= start_value:
            readiness.append(f"the target {label} must be above {start_value}")
    rules.append(Rule("Readiness levels", not readiness, "; ".join(readiness) if readiness else
                      f"TRL {proposal.trl_start} to {proposal.trl_target}, MRL {proposal.mrl_start} to "
                      f"{proposal.mrl_target}, within the call's windows"))

    rules.append(Rule("Deadline", accepting(call, now),
                      "The call is open" if accepting(call, now) else "The call is not open for submissions"))
    return rules


# Workflow ------------------------------------------------------------------------------------

def submit(actor: User, proposal: Proposal, now: datetime | None = None) -> None:
    _require_draft(proposal)
    unmet = [f"{rule.name}: {rule.reason}" for rule in check_rules(proposal, now) if not rule.met]
    if unmet:
        raise DomainError(None, "The proposal cannot be submitted yet. " + " / ".join(unmet), status=409)
    _move(actor, proposal, ProposalStatus.SUBMITTED, [ProposalStatus.DRAFT])
    notifications.notify(staff_users(proposal.call.institute) + admins_of(proposal.lead_organization),
                         f"“{proposal.title}” was submitted to {proposal.call.title}.",
                         "proposals.detail", proposal_id=proposal.id, actor=actor)


def withdraw(actor: User, proposal: Proposal) -> None:
    _move(actor, proposal, ProposalStatus.WITHDRAWN,
          [ProposalStatus.DRAFT, ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW])


def return_to_draft(actor: User, proposal: Proposal, note: str) -> None:
    if not note.strip():
        raise DomainError("note", "Tell the team what to change")
    _move(actor, proposal, ProposalStatus.DRAFT, [ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW])
    proposal.return_note = note.strip()
    notifications.notify(admins_of(proposal.lead_organization),
                         f"“{proposal.title}” was returned to draft: {note.strip()}",
                         "proposals.detail", proposal_id=proposal.id, actor=actor)


def conflict(reviewer: User, proposal: Proposal) -> str | None:
    """Why ``reviewer`` may not review ``proposal``, or None."""
    shared = _active_org_ids(reviewer) & team_org_ids(proposal)
    if shared:
        names = db.session.scalars(sa.select(Organization.name).where(Organization.id.in_(shared)))
        return f"{reviewer.full_name} belongs to {', '.join(names)}, which is on the team"
    return None


def assign_reviewer(actor: User, proposal: Proposal, reviewer: User) -> Review:
    if proposal.status not in (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW):
        raise DomainError(None, "Reviewers are assigned to submitted proposals.", status=409)
    reason = conflict(reviewer, proposal)
    if reason:
        raise DomainError("email", f"Conflict of interest: {reason}", status=409)
    if review_of(reviewer, proposal) is not None:
        raise DomainError("email", f"{reviewer.full_name} is already reviewing this proposal", status=409)
    review = Review(proposal_id=proposal.id, reviewer_id=reviewer.id, assigned_by_id=actor.id)
    db.session.add(review)
    db.session.flush()
    if proposal.status == ProposalStatus.SUBMITTED:
        _move(actor, proposal, ProposalStatus.UNDER_REVIEW, [ProposalStatus.SUBMITTED])
    audit.record(actor, "proposal.reviewer_assigned", proposal, institute_id=proposal.call.institute_id,
                 details={"reviewer_id": reviewer.id})
    notifications.notify([reviewer], f"You are asked to review “{proposal.title}”.", "proposals.review",
                         proposal_id=proposal.id, actor=actor)
    return review


def weighted_total(scores: dict[int, int], criteria: list[Criterion]) -> float | None:
    """The weighted mean score, 1 to 5, once every criterion is scored."""
    if not criteria or any(c.id not in scores for c in criteria):
        return None
    return sum(scores[c.id] * c.weight for c in criteria) / 100


def save_review(actor: User, review: Review, entries: dict[int, tuple[int, str]], *, final: bool) -> None:
    """Save the reviewer's scores (1 to 5, one per criterion); ``final`` submits them."""
    if review.reviewer_id != actor.id:
        raise DomainError(None, "This is someone else's review.", status=403)
    if review.submitted_at is not None:
        raise DomainError(None, "This review has been submitted and can no longer change.", status=409)
    if review.proposal.status != ProposalStatus.UNDER_REVIEW:
        raise DomainError(None, "The proposal is no longer under review.", status=409)
    criteria = {c.id: c for c in review.proposal.call.criteria}
    for criterion_id, (score, _) in entries.items():
        if criterion_id not in criteria:
            raise DomainError(None, "That criterion is not in this call's rubric.", status=400)
        if not 1 <= score <= 5:
            raise DomainError(f"score_{criterion_id}", "Score each criterion from 1 to 5")
    if final and set(entries) != set(criteria):
        missing = [criteria[c].name for c in criteria if c not in entries]
        raise DomainError(None, f"Score every criterion before submitting: {', '.join(missing)}", status=422)
    existing = {score.criterion_id: score for score in review.scores}
    for criterion_id, (value, comment) in entries.items():
        score = existing.pop(criterion_id, None)
        if score is None:
            score = Score(criterion_id=criterion_id, score=value)
            review.scores.append(score)
        score.score, score.comment = value, comment.strip()
    for stale in existing.values():
        review.scores.remove(stale)
    if final:
        review.submitted_at = utcnow()
        audit.record(actor, "proposal.review_submitted", review.proposal,
                     institute_id=review.proposal.call.institute_id, details={"review_id": review.id})


@dataclass
class ReviewSummary:
    totals: list[tuple[Review, float]]
    mean: float | None
    disagreement: bool


def review_summary(proposal: Proposal) -> ReviewSummary:
    criteria = proposal.call.criteria
    reviews = list(db.session.scalars(sa.select(Review).where(Review.proposal_id == proposal.id)
                                      .options(so.selectinload(Review.scores), so.joinedload(Review.reviewer))
                                      .order_by(Review.id)))
    totals = []
    for review in reviews:
        if review.submitted_at is not None:
            total = weighted_total({s.criterion_id: s.score for s in review.scores}, criteria)
            if total is not None:
                totals.append((review, total))
    values = [t for _, t in totals]
    return ReviewSummary(totals=totals, mean=round(statistics.mean(values), 2) if values else None,
                         disagreement=disagree(values))


def disagree(totals: list[float]) -> bool:
    """Reviewers disagree strongly when their weighted totals are DISAGREEMENT_POINTS or more apart."""
    return len(totals) > 1 and round(max(totals) - min(totals), 2) >= DISAGREEMENT_POINTS  # totals are in hundredths


def reviews_of(proposal: Proposal) -> list[Review]:
    return list(db.session.scalars(sa.select(Review).where(Review.proposal_id == proposal.id)
                                   .options(so.joinedload(Review.reviewer)).order_by(Review.id)))


def decide(actor: User, proposal: Proposal, *, approve: bool, note: str) -> None:
    if not note.strip():
        raise DomainError("note", "Write a note for the team: they see it with the decision")
    if not review_summary(proposal).totals:
        raise DomainError(None, "Wait for at least one submitted review before deciding.", status=409)
    _move(actor, proposal, ProposalStatus.APPROVED if approve else ProposalStatus.DECLINED,
          [ProposalStatus.UNDER_REVIEW])
    proposal.decision_note = note.strip()
    notifications.notify(admins_of(proposal.lead_organization) + [
        u for p in proposal.partners if p.status == PartnerStatus.ACCEPTED and not p.is_lead
        for u in admins_of(p.organization)],
        f"“{proposal.title}” was {'approved' if approve else 'declined'}.", "proposals.detail",
        proposal_id=proposal.id, actor=actor)


# Projects ------------------------------------------------------------------------------------

def start_project(actor: User, proposal: Proposal) -> None:
    _move(actor, proposal, ProposalStatus.ACTIVE, [ProposalStatus.APPROVED])


def post_update(actor: User, proposal: Proposal, body: str) -> ProjectUpdate:
    if proposal.status != ProposalStatus.ACTIVE:
        raise DomainError(None, "Progress is posted on active projects.", status=409)
    if not body.strip():
        raise DomainError("body", "Write the update")
    update = ProjectUpdate(proposal_id=proposal.id, author_id=actor.id, body=body.strip())
    db.session.add(update)
    db.session.flush()
    audit.record(actor, "project.update_posted", proposal, institute_id=proposal.call.institute_id)
    return update


def complete_milestone(actor: User, milestone: Milestone) -> None:
    if milestone.proposal.status != ProposalStatus.ACTIVE:
        raise DomainError(None, "Milestones are marked done on active projects.", status=409)
    if milestone.done_at is not None:
        raise DomainError(None, "That milestone is already done.", status=409)
    milestone.done_at = utcnow()
    audit.record(actor, "project.milestone_done", milestone.proposal,
                 institute_id=milestone.proposal.call.institute_id, details={"milestone_id": milestone.id})


def complete(actor: User, proposal: Proposal, *, trl_reached: int, mrl_reached: int) -> None:
    if not 1 <= trl_reached <= 9:
        raise DomainError("trl_reached", "TRL runs from 1 to 9")
    if not 1 <= mrl_reached <= 10:
        raise DomainError("mrl_reached", "MRL runs from 1 to 10")
    open_milestones = [m.title for m in proposal.milestones if m.done_at is None]
    if open_milestones:
        raise DomainError(None, f"Mark every milestone done first: {', '.join(open_milestones)}", status=409)
    _move(actor, proposal, ProposalStatus.COMPLETED, [ProposalStatus.ACTIVE])
    proposal.trl_reached, proposal.mrl_reached = trl_reached, mrl_reached
    summary.project_completed(proposal, proposal.call.institute_id)


def updates_of(proposal: Proposal) -> list[ProjectUpdate]:
    return list(db.session.scalars(sa.select(ProjectUpdate).where(ProjectUpdate.proposal_id == proposal.id)
                                   .options(so.joinedload(ProjectUpdate.author))
                                   .order_by(ProjectUpdate.created_at.desc())))


def time_in_states(proposal: Proposal, now: datetime | None = None) -> list[tuple[str, float]]:
    """Days spent in each state, in order, the current one up to now."""
    now = now or utcnow()
    changes = list(db.session.scalars(sa.select(StatusChange).where(StatusChange.proposal_id == proposal.id)
                                      .order_by(StatusChange.at, StatusChange.id)))
    spans = []
    for change, following in zip(changes, changes[1:] + [None]):
        end = following.at if following else now
        spans.append((change.to_status, round((end - change.at).total_seconds() / 86400, 1)))
    return spans


def public_projects(institute: Institute | None = None, *, status: str | None = None,
                    area: str | None = None) -> list[Proposal]:
    """Approved, active and completed projects, newest first; optionally of one institute, in one of those
    statuses, or in one technology area ("not stated" is the area of projects that give none, as in the
    snapshot). A status outside the public ones gives nothing: other proposals are never listed."""
    query = (sa.select(Proposal).join(Proposal.call).where(Proposal.status.in_(PUBLIC_STATUSES))
             .options(so.joinedload(Proposal.lead_organization),
                      so.contains_eager(Proposal.call).joinedload(ProjectCall.institute))
             .order_by(Proposal.id.desc()))
    if institute is not None:
        query = query.where(ProjectCall.institute_id == institute.id)
    if status:
        if status not in PUBLIC_STATUSES:
            return []
        query = query.where(Proposal.status == status)
    if area:
        query = query.where(sa.func.coalesce(sa.func.nullif(Proposal.technology_area, ""), "not stated") == area)
    return list(db.session.scalars(query))


def proposals_for_staff(institute: Institute) -> list[Proposal]:
    return list(db.session.scalars(
        sa.select(Proposal).join(Proposal.call).where(ProjectCall.institute_id == institute.id,
                                                      Proposal.status != ProposalStatus.DRAFT)
        .options(so.joinedload(Proposal.lead_organization)).order_by(Proposal.status_changed_at)))


def proposals_of_user(user: User) -> list[Proposal]:
    orgs = _active_org_ids(user)
    if not orgs:
        return []
    return list(db.session.scalars(
        sa.select(Proposal).join(Partner, Partner.proposal_id == Proposal.id)
        .where(Partner.organization_id.in_(orgs), Partner.status != PartnerStatus.DECLINED)
        .distinct().order_by(Proposal.id.desc())))


def reviews_for(user: User) -> list[Review]:
    return list(db.session.scalars(sa.select(Review).where(Review.reviewer_id == user.id)
                                   .options(so.joinedload(Review.proposal)).order_by(Review.assigned_at.desc())))


def is_institute_staff(user, proposal: Proposal) -> bool:
    return getattr(user, "is_authenticated", False) and (user.is_network_admin or is_staff(user, proposal.call.institute))
