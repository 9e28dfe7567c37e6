"""Reviewers, their scores and the institute's decision."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.models import (
    Criterion,
    Institute,
    NoticeKind,
    PartnerStatus,
    ProjectCall,
    Proposal,
    ProposalStatus,
    Review,
    Score,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, conflicts, ledger, notifications, updated_rows
from portal.services.clock import long_date, today
from portal.services.organizations import admins_of
from portal.services.proposals.drafts import _move, lead_and_author
from portal.services.proposals.people import review_of
from portal.services.proposals.projects import is_institute_staff

# Reviewers disagree strongly when their weighted totals (1 to 5) are this far apart or more.
DISAGREEMENT_POINTS = 1.5
# A review is due this many days after it is asked for, unless staff choose another day (within REVIEW_WINDOW).
REVIEW_DAYS = 21
REVIEW_WINDOW = (1, 120)  # days after today a due date may fall
REMIND_BEFORE = timedelta(days=3)  # the reminder goes this long before the due date


# Review and decision ---------------------------------------------------------------------

def conflict(reviewer: User, proposal: Proposal) -> str | None:
    """Why ``reviewer`` may not review ``proposal`` (on its team, or a competitor's: see services.conflicts)."""
    return conflicts.review_conflict(reviewer, proposal)


def check_due_on(due_on: date, *, on: date | None = None) -> None:
    """A review is due from tomorrow to REVIEW_WINDOW[1] days ahead."""
    start = on or today()
    first, last = start + timedelta(days=REVIEW_WINDOW[0]), start + timedelta(days=REVIEW_WINDOW[1])
    if not first <= due_on <= last:
        raise DomainError("due_on", f"Choose a due date from {long_date(first)} to {long_date(last)}")


def assign_reviewer(actor: User, proposal: Proposal, reviewer: User | None, *, due_on: date | None = None) -> Review:
    """Ask ``reviewer`` (an active account, or None when no account has the address typed) to review, by
    ``due_on`` (REVIEW_DAYS from today when not given)."""
    if due_on is not None:
        check_due_on(due_on)
    if reviewer is None or not reviewer.active:
        raise DomainError("email", "No active account has that email address")
    if proposal.status not in (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW):
        raise DomainError(None, "Reviewers are assigned to submitted proposals.", status=409)
    reason = conflict(reviewer, proposal)
    if reason:
        raise DomainError("email", f"Conflict of interest: {reason}", status=409)
    if review_of(reviewer, proposal) is not None:
        raise DomainError("email", f"{reviewer.full_name} is already reviewing this proposal", status=409)
    due = due_on or today() + timedelta(days=REVIEW_DAYS)
    review = Review(proposal_id=proposal.id, reviewer_id=reviewer.id, assigned_by_id=actor.id, due_on=due)
    db.session.add(review)
    db.session.flush()
    if proposal.status == ProposalStatus.SUBMITTED:
        _move(actor, proposal, ProposalStatus.UNDER_REVIEW, [ProposalStatus.SUBMITTED])
        notifications.notify(lead_and_author(proposal), f"“{proposal.title}” is now under review at "
                                                        f"{proposal.call.institute.acronym}.",
                             "proposals.detail", proposal_id=proposal.id, actor=actor)
    audit.record(actor, "proposal.reviewer_assigned", proposal, institute_id=proposal.call.institute_id,
                 details={"reviewer_id": reviewer.id})
    notifications.notify([reviewer], f"You are asked to review “{proposal.title}” by {long_date(due)}.",
                         "proposals.review", proposal_id=proposal.id, actor=actor, notice_kind=NoticeKind.REVIEW)
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
    reason = conflict(actor, review.proposal)
    if reason:
        raise DomainError(None, f"Your review is blocked by a conflict of interest ({reason}); declare the "
                                "conflict so the institute can assign another reviewer.", status=409)
    criteria = {c.id: c for c in review.proposal.call.criteria}
    for criterion_id, (value, _) in entries.items():
        if criterion_id not in criteria:
            raise DomainError(None, "That criterion is not in this call's rubric.", status=400)
        if not 1 <= value <= 5:
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
        proposal = review.proposal
        audit.record(actor, "proposal.review_submitted", proposal,
                     institute_id=proposal.call.institute_id, details={"review_id": review.id})
        waiting = sum(1 for r in reviews_of(proposal) if r.submitted_at is None)
        then = (f"{waiting} more review{'s' if waiting != 1 else ''} to come." if waiting
                else "Every review is in: decide.")
        notifications.notify(conflicts.staff_of_institute(proposal.call.institute_id),
                             f"{actor.full_name} submitted a review of “{proposal.title}”. {then}",
                             "proposals.detail", proposal_id=proposal.id, actor=actor,
                             notice_kind=NoticeKind.REVIEW)


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
    conflicts.require_impartial(actor, conflicts.team_ids(proposal, include_invited=False), "decide its proposal")
    if not note.strip():
        raise DomainError("note", "Write a note for the team: they see it with the decision")
    if not review_summary(proposal).totals:
        raise DomainError(None, "Wait for at least one submitted review before deciding.", status=409)
    _move(actor, proposal, ProposalStatus.APPROVED if approve else ProposalStatus.DECLINED,
          [ProposalStatus.UNDER_REVIEW])
    proposal.decision_note = note.strip()
    if approve:
        ledger.cost_share_approved(proposal)
    else:
        ledger.release_cost_share(actor, proposal, reason=f"proposal #{proposal.id} was declined")
    notifications.notify(lead_and_author(proposal) + [
        u for p in proposal.partners if p.status == PartnerStatus.ACCEPTED and not p.is_lead
        for u in admins_of(p.organization)],
        f"“{proposal.title}” was {'approved' if approve else 'declined'}.", "proposals.detail",
        proposal_id=proposal.id, actor=actor)


def _drop_review(actor: User, review: Review, action: str, reason: str) -> None:
    proposal = review.proposal
    if proposal.status not in conflicts.IN_REVIEW:
        raise DomainError(None, "Reviewers change only while the proposal is being reviewed.", status=409)
    audit.record(actor, action, proposal, institute_id=proposal.call.institute_id, reason=reason,
                 details={"review_id": review.id, "reviewer_id": review.reviewer_id,
                          "submitted": review.submitted_at is not None})
    db.session.delete(review)
    db.session.flush()


def declare_conflict(actor: User, review: Review, *, reason: str) -> None:
    """The reviewer declares a conflict of interest: they leave the proposal (scores and all); staff are told."""
    if review.reviewer_id != actor.id:
        raise DomainError(None, "Only the reviewer declares their own conflict.", status=403)
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Say what the conflict is; the institute sees it")
    proposal = review.proposal
    _drop_review(actor, review, "proposal.conflict_declared", reason)
    notifications.notify(conflicts.staff_of_institute(proposal.call.institute_id),
                         f"{actor.full_name} declared a conflict of interest on “{proposal.title}” and no longer "
                         "reviews it; assign another reviewer if needed.", "proposals.detail",
                         proposal_id=proposal.id, actor=actor)


def remove_reviewer(actor: User, review: Review, *, reason: str) -> None:
    """The institute removes a reviewer (their scores go too); the reviewer is told."""
    proposal = review.proposal
    if not is_institute_staff(actor, proposal):
        raise DomainError(None, "The institute's administrators remove reviewers.", status=403)
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Give the reason for removing the reviewer")
    reviewer = review.reviewer
    _drop_review(actor, review, "proposal.reviewer_removed", reason)
    notifications.notify([reviewer], f"You no longer review “{proposal.title}”: {reason}", "main.index",
                         actor=actor, notice_kind=NoticeKind.REVIEW)


# What a list of one's reviews may be narrowed to: both, those not submitted yet, those submitted.
REVIEW_STATES = {"": "To do and submitted", "todo": "To do", "submitted": "Submitted"}


def reviews_query(user: User, state: str = "", *, with_scores: bool = False) -> sa.Select:
    """The reviews ``user`` was asked for (``state``: a key of REVIEW_STATES), for ``paging.keyset`` on
    (assigned_at, id), newest first. A reviewer may have thousands, so each comes with only its proposal's
    title and its call and institute (with ``with_scores``, also its scores and the call's criteria), never the
    proposal's team."""
    call = so.joinedload(Proposal.call).options(
        so.load_only(ProjectCall.id, ProjectCall.title, ProjectCall.institute_id),
        so.joinedload(ProjectCall.institute).load_only(Institute.id, Institute.acronym, Institute.slug),
        *([so.selectinload(ProjectCall.criteria)] if with_scores else []))
    query = (sa.select(Review).where(Review.reviewer_id == user.id)
             .options(so.joinedload(Review.proposal).options(
                 so.load_only(Proposal.id, Proposal.title, Proposal.call_id, Proposal.status),
                 so.lazyload(Proposal.partners), call),
                 *([so.selectinload(Review.scores)] if with_scores else [])))
    if state == "todo":
        query = query.where(Review.submitted_at.is_(None))
    elif state == "submitted":
        query = query.where(Review.submitted_at.is_not(None))
    return query


def review_counts(user: User) -> tuple[int, int]:
    """How many reviews ``user`` has to do, and how many they submitted (one grouped count)."""
    counts = dict(db.session.execute(
        sa.select(Review.submitted_at.is_not(None), sa.func.count()).where(Review.reviewer_id == user.id)
        .group_by(Review.submitted_at.is_not(None))).all())
    return counts.get(False, 0), counts.get(True, 0)


def reviews_due_first(user: User, limit: int) -> list[Review]:
    """The first ``limit`` reviews ``user`` has to do, the soonest due first (those with no date last)."""
    return list(db.session.scalars(
        reviews_query(user, "todo").order_by(Review.due_on.is_(None), Review.due_on, Review.id).limit(limit)).unique())


def screen_out(actor: User, proposal: Proposal, *, reason: str) -> None:
    """The institute declines a submitted proposal without review (out of scope, ineligible), with a reason the
    team sees. Refused once a review has been submitted: then the proposal is decided on its reviews. Reviews
    still open end with it; the cost share committed to it is released; the author and the lead's admins are
    told."""
    conflicts.require_impartial(actor, conflicts.team_ids(proposal, include_invited=False), "screen out its proposal")
    reason = reason.strip()
    if not reason:
        raise DomainError("reason", "Give the reason for screening the proposal out; the team sees it")
    if review_summary(proposal).totals:
        raise DomainError(None, "A review has been submitted: decide the proposal on its reviews instead.",
                          status=409)
    _move(actor, proposal, ProposalStatus.DECLINED, [ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW])
    proposal.decision_note = reason
    audit.record(actor, "proposal.screened_out", proposal, institute_id=proposal.call.institute_id,
                 from_state=ProposalStatus.SUBMITTED, to_state=ProposalStatus.DECLINED, reason=reason)
    open_reviews = list(db.session.scalars(sa.select(Review).where(Review.proposal_id == proposal.id,
                                                                   Review.submitted_at.is_(None))))
    ledger.release_cost_share(actor, proposal, reason=f"proposal #{proposal.id} was screened out")
    author = db.session.get(User, proposal.created_by_id)
    notifications.notify([*([author] if author else []), *admins_of(proposal.lead_organization)],
                         f"“{proposal.title}” was declined without review: {reason}", "proposals.detail",
                         proposal_id=proposal.id, actor=actor)
    notifications.notify([r.reviewer for r in open_reviews],
                         f"“{proposal.title}” was screened out; your review of it is no longer needed.",
                         "notifications.index", actor=actor)


def remind_reviewers(*, now: datetime | None = None) -> int:
    """Remind each reviewer whose review is open and due within REMIND_BEFORE, and again once it is overdue:
    at most once each (a conditional UPDATE marks it), so running this twice, or on two machines, tells no one
    twice. Returns how many reminders were sent."""
    now = now or utcnow()
    day = now.date()
    open_reviews = (sa.select(Review).join(Proposal, Proposal.id == Review.proposal_id)
                    .where(Review.submitted_at.is_(None), Review.due_on.is_not(None),
                           Proposal.status == ProposalStatus.UNDER_REVIEW)
                    .options(so.joinedload(Review.proposal), so.joinedload(Review.reviewer)).order_by(Review.id))
    told = 0
    for column, condition, words in (
            (Review.overdue_reminded_at, Review.due_on < day, "was due on {due}; please submit it, or declare a "
                                                             "conflict if you cannot review it"),
            (Review.reminded_at, Review.due_on <= day + REMIND_BEFORE, "is due on {due}")):
        for review in db.session.scalars(open_reviews.where(condition, column.is_(None))):
            claimed = updated_rows(sa.update(Review).where(Review.id == review.id, column.is_(None))
                                   .values({column.key: now}).execution_options(synchronize_session=False))
            if claimed != 1:
                continue
            if column is Review.overdue_reminded_at:  # no "due soon" after "overdue"
                updated_rows(sa.update(Review).where(Review.id == review.id, Review.reminded_at.is_(None))
                             .values(reminded_at=now).execution_options(synchronize_session=False))
            assert review.due_on is not None
            due = long_date(review.due_on)
            notifications.notify([review.reviewer], f"Your review of “{review.proposal.title}” "
                                 + words.format(due=due) + ".", "proposals.review", proposal_id=review.proposal_id)
            told += 1
    return told
