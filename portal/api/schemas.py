"""What the API reads and answers (marshmallow schemas; the OpenAPI description is made from them)."""

from marshmallow import INCLUDE, Schema, fields, validate

from portal.models import Agency, Audience, Format, ProposalStatus, Sector


def one_of_or_empty(values) -> validate.OneOf:
    """A filter that names one of ``values``, or is empty (no filter)."""
    return validate.OneOf(["", *(str(v) for v in values)])


class CursorQuery(Schema):
    cursor = fields.String(load_default=None, validate=validate.Length(max=1000),
                           metadata={"description": "next_cursor of the page before"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100),
                           metadata={"description": "how many items a page holds"})


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page of ``item``s with the cursor of the next page (null on the last)."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item), required=True),
                             "next_cursor": fields.String(required=True, allow_none=True)}, name=name)


class InstituteQuery(CursorQuery):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    agency = fields.String(load_default="", validate=one_of_or_empty(Agency))
    state = fields.String(load_default="", validate=validate.Length(max=2))
    focus = fields.String(load_default="", validate=validate.Length(max=200))


class InstituteOut(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    acronym = fields.String(required=True)
    name = fields.String(required=True)
    focus = fields.String(required=True)
    agency = fields.String(required=True)
    founded_year = fields.Integer(required=True)
    city = fields.String(required=True)
    state = fields.String(required=True)
    website = fields.String(required=True)


class TierOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    annual_fee_cents = fields.Integer(required=True)
    may_lead_projects = fields.Boolean(required=True)
    may_join_projects = fields.Boolean(required=True)
    governance_vote = fields.Boolean(required=True)


class CallQuery(CursorQuery):
    institute = fields.String(load_default="", validate=validate.Length(max=60),
                              metadata={"description": "an institute's slug"})
    area = fields.String(load_default="", validate=validate.Length(max=200),
                         metadata={"description": "a technology area (the institute's focus)"})
    closing_soon = fields.Boolean(load_default=False, metadata={"description": "closing within two weeks"})


class CallOut(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    institute = fields.Function(lambda call: call.institute.slug, required=True)
    opens_at = fields.DateTime(required=True)
    closes_at = fields.DateTime(required=True)
    max_federal_cents = fields.Integer(required=True)


class SnapshotQuery(Schema):
    fy = fields.Integer(load_default=None, validate=validate.Range(min=2012, max=2100),
                        metadata={"description": "the network at the end of this fiscal year (30 September)"})


class SnapshotOut(Schema):
    """The snapshot as /snapshot.json gives it; its figures are defined in the data dictionary at /snapshot/data."""

    class Meta:
        unknown = INCLUDE  # described as an open object: the tables are the dictionary's to define


class OrganizationOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    sector = fields.String(required=True)
    state = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "your role: admin or member"})


class CandidateQuery(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=200),
                      metadata={"description": "part of the organization's name or description"})
    sector = fields.String(load_default="", validate=one_of_or_empty(Sector))
    state = fields.String(load_default="", validate=validate.Length(max=2))
    institute = fields.String(load_default="", validate=validate.Length(max=60),
                              metadata={"description": "members of this institute (its slug) only"})


class CandidateOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    sector = fields.String(required=True)
    state = fields.String(required=True)


class ApplyIn(Schema):
    organization_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    institute = fields.String(required=True, validate=validate.Length(min=1, max=60),
                              metadata={"description": "the institute's slug"})
    tier_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    statement = fields.String(required=True, validate=validate.Length(max=5000))
    contact_name = fields.String(required=True, validate=validate.Length(max=120))
    contact_email = fields.String(required=True, validate=validate.Length(max=254))


class MembershipOut(Schema):
    id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    institute = fields.Function(lambda m: m.institute.slug, required=True)
    tier_id = fields.Integer(required=True)
    requested_tier_id = fields.Integer(allow_none=True, metadata={"description": "a change of tier asked for and "
                                                                                "not decided yet"})
    status = fields.String(required=True)


class TierChangeIn(Schema):
    tier_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class TierDecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "decline"]))


class MembershipDecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "decline"]))
    reason = fields.String(load_default="", validate=validate.Length(max=2000),
                           metadata={"description": "why it is declined (needed to decline)"})
    term_years = fields.Integer(load_default=1, validate=validate.Range(min=1, max=5))


class InstalmentIn(Schema):
    due_on = fields.Date(required=True)
    amount_cents = fields.Integer(required=True, validate=validate.Range(min=1, max=10**13))


class PledgeIn(Schema):
    organization_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    institute = fields.String(required=True, validate=validate.Length(min=1, max=60))
    amount_cents = fields.Integer(required=True, validate=validate.Range(min=1, max=10**13))
    kind = fields.String(load_default="cash", validate=validate.OneOf(["cash", "in_kind"]))
    fiscal_year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    in_kind_description = fields.String(load_default="", validate=validate.Length(max=2000))
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    schedule = fields.List(fields.Nested(InstalmentIn), load_default=list, validate=validate.Length(max=120))


class EntryOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    amount_cents = fields.Integer(required=True)
    received_on = fields.Date(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    verifies_id = fields.Integer(allow_none=True, metadata={"description": "the receipt a verification verifies"})
    reverses_id = fields.Integer(allow_none=True, metadata={"description": "the entry a reversal undoes"})


class PledgeOut(Schema):
    id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    institute = fields.Function(lambda p: p.institute.slug, required=True)
    kind = fields.String(required=True)
    fiscal_year = fields.Integer(required=True)
    pledged_cents = fields.Integer(required=True)
    received_cents = fields.Integer(required=True)
    verified_cents = fields.Integer(required=True)
    cancelled_cents = fields.Integer(required=True)
    remaining_cents = fields.Integer(required=True)


class ReceiptIn(Schema):
    amount_cents = fields.Integer(required=True, validate=validate.Range(min=1, max=10**13))
    received_on = fields.Date(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class MilestoneIn(Schema):
    month = fields.Integer(required=True, validate=validate.Range(min=1, max=120))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    deliverable = fields.String(load_default="", validate=validate.Length(max=2000))


class ProposalStartIn(Schema):
    call_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    organization_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))


class DraftIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    abstract = fields.String(load_default="", validate=validate.Length(max=20000))
    technical_plan = fields.String(load_default="", validate=validate.Length(max=100000))
    technology_area = fields.String(load_default="", validate=validate.Length(max=200))
    trl_start = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=9))
    trl_target = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=9))
    mrl_start = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=10))
    mrl_target = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=10))
    duration_months = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=120))
    federal_request_cents = fields.Integer(load_default=None, allow_none=True,
                                           validate=validate.Range(min=0, max=10**13))
    milestones = fields.List(fields.Nested(MilestoneIn), load_default=list, validate=validate.Length(max=60))


class ProposalOut(Schema):
    id = fields.Integer(required=True)
    call_id = fields.Integer(required=True)
    lead_organization_id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)


class MyProposalQuery(CursorQuery):
    status = fields.String(load_default="", validate=one_of_or_empty(ProposalStatus),
                           metadata={"description": "one status (draft, submitted, under_review, ...); empty: any"})


class ProposalDecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "decline"]))
    note = fields.String(required=True, validate=validate.Length(max=5000))


class ReviewerIn(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    due_on = fields.Date(load_default=None, allow_none=True)


class CriterionOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    weight = fields.Integer(required=True)


class ScoreOut(Schema):
    criterion_id = fields.Integer(required=True)
    score = fields.Integer(required=True)
    comment = fields.String(required=True)


class ReviewOut(Schema):
    id = fields.Integer(required=True)
    proposal_id = fields.Integer(required=True)
    reviewer_id = fields.Integer(required=True)
    due_on = fields.Date(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    criteria = fields.Function(lambda r: CriterionOut(many=True).dump(r.proposal.call.criteria),
                               metadata={"description": "what to score, 1 to 5 each"})
    scores = fields.List(fields.Nested(ScoreOut), required=True)


class ReviewQuery(CursorQuery):
    state = fields.String(load_default="", validate=validate.OneOf(["", "todo", "submitted"]),
                          metadata={"description": "todo: not submitted yet; submitted; empty: both"})


class ScoreIn(Schema):
    criterion_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    score = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default="", validate=validate.Length(max=5000))


class ReviewIn(Schema):
    scores = fields.List(fields.Nested(ScoreIn), required=True, validate=validate.Length(max=50))
    final = fields.Boolean(load_default=False, metadata={"description": "true submits the review"})


class ProjectQuery(CursorQuery):
    institute = fields.String(load_default="", validate=validate.Length(max=60))
    status = fields.String(load_default="", validate=validate.OneOf(["", "approved", "active", "completed"]))
    area = fields.String(load_default="", validate=validate.Length(max=200))
    q = fields.String(load_default="", validate=validate.Length(max=200))


class ProjectOut(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    technology_area = fields.String(required=True)
    institute = fields.Function(lambda p: p.call.institute.acronym, required=True)
    lead_organization = fields.Function(lambda p: p.lead_organization.name, required=True)


class ProgramQuery(CursorQuery):
    institute = fields.String(load_default="", validate=validate.Length(max=60))
    state = fields.String(load_default="", validate=validate.Length(max=2))
    audience = fields.String(load_default="", validate=one_of_or_empty(Audience))
    format = fields.String(load_default="", validate=one_of_or_empty(Format))
    credential = fields.Boolean(load_default=False, metadata={"description": "only programs with a credential"})
    starting = fields.Date(load_default=None, allow_none=True, metadata={"description": "sessions from this day"})


class SessionOut(Schema):
    id = fields.Integer(required=True)
    program_id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    online = fields.Boolean(required=True)
    place = fields.String(required=True)
    state = fields.String(required=True)
    capacity = fields.Integer(required=True)
    seats_taken = fields.Integer(required=True)


class ProgramOut(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    format = fields.String(required=True)
    credential = fields.String(required=True)
    institute = fields.String(required=True)
    soonest = fields.DateTime(required=True, metadata={"description": "the soonest matching session's start"})
    sessions = fields.List(fields.Nested(SessionOut), required=True,
                           metadata={"description": "the next few matching sessions"})


class PartnerIn(Schema):
    organization_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                                     metadata={"description": "the organization to invite onto the team"})


class PartnerOut(Schema):
    id = fields.Integer(required=True)
    proposal_id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    organization = fields.Function(lambda p: p.organization.name, required=True, metadata={"type": "string"})
    sector = fields.Function(lambda p: str(p.organization.sector), required=True, metadata={"type": "string"})
    is_lead = fields.Boolean(required=True)
    status = fields.String(required=True, metadata={"description": "invited, accepted, declined or withdrawn"})
    pledge_id = fields.Function(lambda p: p.pledge.id if p.pledge is not None else None, required=True,
                                allow_none=True, metadata={"type": "integer",
                                                           "description": "the cost share's pledge, once committed"})
    cost_share_cents = fields.Function(
        lambda p: p.pledge.pledged_cents - p.pledge.cancelled_cents if p.pledge is not None else 0, required=True,
        metadata={"type": "integer", "description": "cost share pledged, less what was cancelled or released"})


class PartnerAnswerIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["accept", "decline"]))


class CostShareIn(Schema):
    amount_cents = fields.Integer(required=True, validate=validate.Range(min=1, max=10**13))
    kind = fields.String(load_default="cash", validate=validate.OneOf(["cash", "in_kind"]))
    in_kind_description = fields.String(load_default="", validate=validate.Length(max=1000),
                                        metadata={"description": "what is given in kind, and how it was valued"})


class ReasonIn(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000),
                           metadata={"description": "why; needed to cancel a pledge or reverse an entry"})


class InvitationIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    message = fields.String(load_default="", validate=validate.Length(max=1000),
                            metadata={"description": "sent with the invitation"})


class ProposalInvitationIn(InvitationIn):
    kind = fields.String(required=True, validate=validate.OneOf(["reviewer", "partner"]))
    organization_name = fields.String(load_default="", validate=validate.Length(max=200),
                                      metadata={"description": "partner: the organization's full name"})


class InvitationOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    email = fields.String(required=True)
    status = fields.String(required=True)
    organization_name = fields.String(required=True, metadata={"description": "partner: the organization named"})
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
