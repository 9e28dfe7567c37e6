"""Project calls: their rules, the rubric and when they accept proposals."""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    CallStatus,
    Criterion,
    Institute,
    ProjectCall,
    Proposal,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, dates

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


def _check_call(institute: Institute, data: CallInput) -> None:
    if not data.title.strip():
        raise DomainError("title", "Enter the call's title")
    dates.check_call_window(data.opens_at, data.closes_at, institute.founded_year)
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
    _check_call(institute, data)
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
    _check_call(call.institute, data)
    _apply_call(call, data)
    audit.record(actor, "call.updated", call, institute_id=call.institute_id)


def set_call_status(actor: User, call: ProjectCall, status: CallStatus) -> None:
    allowed = {CallStatus.OPEN: {CallStatus.DRAFT}, CallStatus.CLOSED: {CallStatus.OPEN}}
    if call.status not in allowed.get(status, set()):
        raise DomainError(None, f"A {call.status} call cannot become {status}.", status=409)
    if status == CallStatus.OPEN and call.institute.is_retired:
        raise DomainError(None, f"{call.institute.acronym} has left the network; it opens no calls.", status=409)
    audit.record(actor, f"call.{status}", call, institute_id=call.institute_id, from_state=call.status,
                 to_state=status)
    call.status = status


def accepting(call: ProjectCall, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return call.status == CallStatus.OPEN and call.opens_at <= now < call.closes_at


def calls_query(institute: Institute, *, include_drafts: bool) -> sa.Select:
    query = sa.select(ProjectCall).where(ProjectCall.institute_id == institute.id)
    if not include_drafts:
        query = query.where(ProjectCall.status != CallStatus.DRAFT)
    return query


def calls_of(institute: Institute, *, include_drafts: bool) -> list[ProjectCall]:
    return list(db.session.scalars(calls_query(institute, include_drafts=include_drafts)
                                   .order_by(ProjectCall.closes_at.desc())))
