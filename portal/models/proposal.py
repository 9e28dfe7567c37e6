"""Project calls, proposals, their teams and milestones, reviews, and the projects they become."""

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, enum_column, trigram_index, utcnow
from portal.models.imports import batch_column

if TYPE_CHECKING:  # for type checkers only: SQLAlchemy resolves these names itself, and importing them would loop
    from portal.models.institute import Institute
    from portal.models.ledger import Pledge
    from portal.models.organization import Organization
    from portal.models.user import User


class CallStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ProjectCall(Base):
    """An institute's call for project proposals, with its rules."""

    __tablename__ = "project_calls"
    __table_args__ = (
        sa.CheckConstraint("closes_at > opens_at", name="window_order"),
        sa.CheckConstraint("max_federal_cents > 0", name="cap_positive"),
        sa.CheckConstraint("min_cost_share_bp >= 0", name="cost_share_not_negative"),
        sa.CheckConstraint("trl_min BETWEEN 1 AND 9 AND trl_max BETWEEN trl_min AND 9", name="trl_window"),
        sa.CheckConstraint("mrl_min BETWEEN 1 AND 10 AND mrl_max BETWEEN mrl_min AND 10", name="mrl_window"),
        sa.CheckConstraint("min_industry >= 0 AND min_academic >= 0 AND min_small_business >= 0",
                           name="team_minimums"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institute_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutes.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text)
    opens_at: so.Mapped[datetime]
    closes_at: so.Mapped[datetime]
    max_federal_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    # the minimum cost share as a ratio of the federal request, in basis points: 5000 is 0.5
    min_cost_share_bp: so.Mapped[int]
    trl_min: so.Mapped[int]
    trl_max: so.Mapped[int]
    mrl_min: so.Mapped[int]
    mrl_max: so.Mapped[int]
    min_industry: so.Mapped[int] = so.mapped_column(default=0)
    min_academic: so.Mapped[int] = so.mapped_column(default=0)
    min_small_business: so.Mapped[int] = so.mapped_column(default=0)
    all_partners_members: so.Mapped[bool] = so.mapped_column(default=False)
    status: so.Mapped[CallStatus] = so.mapped_column(enum_column(CallStatus, "call_status"), default=CallStatus.DRAFT)
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    import_batch_id: so.Mapped[int | None] = batch_column()  # the call that holds a batch's historical projects

    institute: so.Mapped["Institute"] = so.relationship()
    criteria: so.Mapped[list["Criterion"]] = so.relationship(
        back_populates="call", order_by="Criterion.position", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<ProjectCall {self.id} {self.title!r}>"


class Criterion(Base):
    """One line of a call's scoring rubric; a call's weights add up to 100."""

    __tablename__ = "call_criteria"
    __table_args__ = (sa.CheckConstraint("weight BETWEEN 1 AND 100", name="weight_range"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    call_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("project_calls.id"), index=True)
    position: so.Mapped[int]
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    weight: so.Mapped[int]

    call: so.Mapped[ProjectCall] = so.relationship(back_populates="criteria")

    def __repr__(self) -> str:
        return f"<Criterion {self.name} {self.weight}>"


class ProposalStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    DECLINED = "declined"
    ACTIVE = "active"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


PUBLIC_STATUSES = (ProposalStatus.APPROVED, ProposalStatus.ACTIVE, ProposalStatus.COMPLETED)


class Proposal(Base):
    """A proposal answering a call; once approved and started, a project."""

    __tablename__ = "proposals"
    __table_args__ = (
        sa.CheckConstraint("trl_start IS NULL OR trl_start BETWEEN 1 AND 9", name="trl_start_range"),
        sa.CheckConstraint("trl_target IS NULL OR trl_target BETWEEN 1 AND 9", name="trl_target_range"),
        sa.CheckConstraint("mrl_start IS NULL OR mrl_start BETWEEN 1 AND 10", name="mrl_start_range"),
        sa.CheckConstraint("mrl_target IS NULL OR mrl_target BETWEEN 1 AND 10", name="mrl_target_range"),
        sa.CheckConstraint("federal_request_cents IS NULL OR federal_request_cents > 0", name="request_positive"),
        sa.CheckConstraint("duration_months IS NULL OR duration_months BETWEEN 1 AND 120", name="duration_range"),
        sa.CheckConstraint("cost_share_cents IS NULL OR cost_share_cents >= 0", name="cost_share_not_negative"),
        # an institute's proposals by the time their status last changed (a call's page lists them)
        sa.Index("ix_proposals_call_status_changed", "call_id", "status_changed_at", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    call_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("project_calls.id"), index=True)
    lead_organization_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)  # "my proposals"
    status: so.Mapped[ProposalStatus] = so.mapped_column(
        enum_column(ProposalStatus, "proposal_status"), default=ProposalStatus.DRAFT)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    abstract: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    technical_plan: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    technology_area: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    trl_start: so.Mapped[int | None]
    trl_target: so.Mapped[int | None]
    mrl_start: so.Mapped[int | None]
    mrl_target: so.Mapped[int | None]
    trl_reached: so.Mapped[int | None]
    mrl_reached: so.Mapped[int | None]
    duration_months: so.Mapped[int | None]
    # the lead asks the institute to sign the project off as complete, with the levels it says were reached
    completion_requested_at: so.Mapped[datetime | None]
    completion_requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    trl_requested: so.Mapped[int | None]  # levels below the start are refused by the services
    mrl_requested: so.Mapped[int | None]
    # the institute administrator who signed the completed project off
    signed_off_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    federal_request_cents: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    decision_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    return_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    status_changed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # an imported (historical) project: its cost share as the program office's records give it, a figure of the
    # project and not ledger money; the batch it came in with and the file's own key for it
    cost_share_cents: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    import_batch_id: so.Mapped[int | None] = batch_column()
    import_ref: so.Mapped[str | None] = so.mapped_column(sa.String(100), index=True)

    call: so.Mapped[ProjectCall] = so.relationship()
    lead_organization: so.Mapped["Organization"] = so.relationship()
    created_by: so.Mapped["User"] = so.relationship(foreign_keys=[created_by_id])
    completion_requested_by: so.Mapped["User | None"] = so.relationship(foreign_keys=[completion_requested_by_id])
    signed_off_by: so.Mapped["User | None"] = so.relationship(foreign_keys=[signed_off_by_id])
    milestones: so.Mapped[list["Milestone"]] = so.relationship(
        back_populates="proposal", order_by="Milestone.month", cascade="all, delete-orphan")
    # the team is shown and checked on every proposal page: load it, with its organizations, in one go
    partners: so.Mapped[list["Partner"]] = so.relationship(back_populates="proposal", order_by="Partner.id",
                                                          lazy="selectin")

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.status}>"


class Milestone(Base):
    """A step of the plan, due ``month`` months into the project (``due_on`` once it has started). The team
    reports it done; the institute accepts it (or sends it back)."""

    __tablename__ = "proposal_milestones"
    __table_args__ = (
        sa.CheckConstraint("month BETWEEN 1 AND 120", name="month_range"),
        sa.CheckConstraint("accepted_at IS NULL OR reported_at IS NOT NULL", name="accepted_after_report"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("proposals.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    month: so.Mapped[int]
    deliverable: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    due_on: so.Mapped[date | None]
    reported_at: so.Mapped[datetime | None]
    reported_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    accepted_at: so.Mapped[datetime | None]
    accepted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    proposal: so.Mapped[Proposal] = so.relationship(back_populates="milestones")
    reported_by: so.Mapped["User | None"] = so.relationship(foreign_keys=[reported_by_id])
    accepted_by: so.Mapped["User | None"] = so.relationship(foreign_keys=[accepted_by_id])


class PartnerStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the lead took the invitation back before it was answered


class Partner(Base):
    """An organization on a proposal's team: the lead, or a partner it invited."""

    __tablename__ = "proposal_partners"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "organization_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("proposals.id"), index=True)
    organization_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    is_lead: so.Mapped[bool] = so.mapped_column(default=False)
    status: so.Mapped[PartnerStatus] = so.mapped_column(
        enum_column(PartnerStatus, "partner_status"), default=PartnerStatus.INVITED)
    pledge_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("pledges.id"))
    invited_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    responded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    responded_at: so.Mapped[datetime | None]

    proposal: so.Mapped[Proposal] = so.relationship(back_populates="partners")
    organization: so.Mapped["Organization"] = so.relationship(lazy="joined")
    pledge: so.Mapped["Pledge | None"] = so.relationship(lazy="joined")


class StatusChange(Base):
    """Each move of a proposal from one state to the next; the time spent in each follows."""

    __tablename__ = "proposal_status_changes"
    # when projects started and were completed (the snapshot as of a fiscal year)
    __table_args__ = (sa.Index("ix_proposal_status_changes_to_status_at", "to_status", "at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("proposals.id"), index=True)
    from_status: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    to_status: so.Mapped[str] = so.mapped_column(sa.String(20))
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Review(Base):
    """A reviewer's assignment to a proposal, and their scores once submitted."""

    __tablename__ = "proposal_reviews"
    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "reviewer_id"),
        # a reviewer's reviews, newest first, a page at a time (a reviewer may have thousands)
        sa.Index("ix_proposal_reviews_reviewer_assigned", "reviewer_id", "assigned_at", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("proposals.id"), index=True)
    reviewer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    assigned_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    assigned_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    submitted_at: so.Mapped[datetime | None]
    due_on: so.Mapped[date | None]  # the day the institute asks for the review by
    reminded_at: so.Mapped[datetime | None]  # the reminder before the due date was sent
    overdue_reminded_at: so.Mapped[datetime | None]  # the reminder after it was sent

    proposal: so.Mapped[Proposal] = so.relationship()
    reviewer: so.Mapped["User"] = so.relationship(foreign_keys=[reviewer_id])
    scores: so.Mapped[list["Score"]] = so.relationship(back_populates="review", cascade="all, delete-orphan")


class Score(Base):
    __tablename__ = "review_scores"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "criterion_id"),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    review_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("proposal_reviews.id"), index=True)
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("call_criteria.id"))
    score: so.Mapped[int]
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    review: so.Mapped[Review] = so.relationship(back_populates="scores")
    criterion: so.Mapped[Criterion] = so.relationship()


class ProjectUpdate(Base):
    __tablename__ = "project_updates"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("proposals.id"), index=True)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    author: so.Mapped["User"] = so.relationship()


trigram_index(Proposal.__table__, "ix_proposals_search_trgm", "lower(title || ' ' || technology_area)")
