"""Synthetic calls, proposals in every state, their teams, reviews and status history."""

from datetime import timedelta
from typing import TYPE_CHECKING

from portal.models import CallStatus, Criterion, Partner, ProjectCall, Proposal, Review, Score, StatusChange
from portal.services.ledger import fiscal_year_of
from portal.services.synthetic.bulk import Rows, insert, next_id
from portal.services.synthetic.names import AREAS, project_title

if TYPE_CHECKING:  # the package imports this module; the type is only for checkers
    from portal.services.synthetic import World

# each state and the moves that lead to it from a draft: (from, to, who: lead or staff)
PATHS = {
    "draft": [],
    "submitted": [("draft", "submitted", "lead")],
    "under_review": [("draft", "submitted", "lead"), ("submitted", "under_review", "staff")],
    "approved": [("draft", "submitted", "lead"), ("submitted", "under_review", "staff"),
                 ("under_review", "approved", "staff")],
    "declined": [("draft", "submitted", "lead"), ("submitted", "under_review", "staff"),
                 ("under_review", "declined", "staff")],
    "active": [("draft", "submitted", "lead"), ("submitted", "under_review", "staff"),
               ("under_review", "approved", "staff"), ("approved", "active", "lead")],
    "completed": [("draft", "submitted", "lead"), ("submitted", "under_review", "staff"),
                  ("under_review", "approved", "staff"), ("approved", "active", "lead"),
                  ("active", "completed", "lead")],
    "withdrawn": [("draft", "submitted", "lead"), ("submitted", "withdrawn", "lead")],
}
WEIGHTS = [5, 8, 8, 8, 12, 25, 29, 5]
REVIEWED = {"under_review", "approved", "declined", "active", "completed"}
OPEN_CALL_STATES = {"draft", "submitted", "under_review"}


def _calls(w: "World") -> tuple[dict[int, int], dict[int, list[int]], dict[int, list[int]]]:
    """Per institute: an open call, two closed ones and a draft, each with a two-line rubric."""
    fy = fiscal_year_of(w.now.date())
    call_start, criterion_start = next_id(ProjectCall), next_id(Criterion)
    call_rows: Rows = []
    criterion_rows: Rows = []
    open_call: dict[int, int] = {}
    closed_calls: dict[int, list[int]] = {}
    criteria: dict[int, list[int]] = {}
    for institute_id in w.institute_ids:
        staff = w.staff[institute_id][0]
        for title, status, opened in ((f"Open call {fy}", CallStatus.OPEN, 400),
                                      (f"Call {fy - 2}", CallStatus.CLOSED, 1100),
                                      (f"Call {fy - 1}", CallStatus.CLOSED, 750),
                                      (f"Call {fy + 1}", CallStatus.DRAFT, -30)):
            call_id = call_start + len(call_rows)
            opens = w.now - timedelta(days=opened)
            closes = w.now + timedelta(days=60) if status != CallStatus.CLOSED else opens + timedelta(days=300)
            call_rows.append({"id": call_id, "institute_id": institute_id, "title": title,
                              "description": "Synthetic call.", "opens_at": opens, "closes_at": closes,
                              "max_federal_cents": 2_000_000_00, "min_cost_share_bp": 5_000, "trl_min": 3,
                              "trl_max": 7, "mrl_min": 3, "mrl_max": 7, "min_industry": 1, "min_academic": 1,
                              "min_small_business": 0, "all_partners_members": False, "status": status,
                              "created_by_id": staff, "created_at": opens - timedelta(days=30)})
            w.activity.event(opens - timedelta(days=30), staff, "call.created", "project_calls", call_id,
                             institute=institute_id, to_state="draft")
            if status != CallStatus.DRAFT:
                w.activity.event(opens, staff, "call.open", "project_calls", call_id, institute=institute_id,
                                 from_state="draft", to_state="open")
            if status == CallStatus.CLOSED:
                w.activity.event(closes, staff, "call.closed", "project_calls", call_id, institute=institute_id,
                                 from_state="open", to_state="closed")
                closed_calls.setdefault(institute_id, []).append(call_id)
            elif status == CallStatus.OPEN:
                open_call[institute_id] = call_id
            ids = [criterion_start + len(criterion_rows), criterion_start + len(criterion_rows) + 1]
            criterion_rows += [{"id": ids[0], "call_id": call_id, "position": 0, "name": "Technical merit",
                                "weight": 50},
                               {"id": ids[1], "call_id": call_id, "position": 1, "name": "Impact", "weight": 50}]
            criteria[call_id] = ids
    insert(ProjectCall, call_rows, w.tick)
    insert(Criterion, criterion_rows, w.tick)
    return open_call, closed_calls, criteria


def load(w: "World", how_many: int) -> dict[str, int]:
    rng, activity = w.rng, w.activity
    open_call, closed_calls, criteria = _calls(w)
    proposal_start, partner_start, change_start = next_id(Proposal), next_id(Partner), next_id(StatusChange)
    review_start, score_start = next_id(Review), next_id(Score)
    proposal_rows: Rows = []
    partner_rows: Rows = []
    change_rows: Rows = []
    review_rows: Rows = []
    score_rows: Rows = []
    states = list(PATHS)
    for n in range(how_many):
        membership = w.members[n % len(w.members)]
        institute_id, lead_org = membership["institute_id"], membership["organization_id"]
        lead = w.admin_of[lead_org]
        status = rng.choices(states, WEIGHTS)[0]
        call = open_call[institute_id] if status in OPEN_CALL_STATES else rng.choice(closed_calls[institute_id])
        proposal_id = proposal_start + n
        created = w.days_ago(10 + 70 * len(PATHS[status]), 1100)
        at = created
        link = activity.link("proposals.detail", "proposal_id", proposal_id)
        activity.event(created, lead, "proposal.started", "proposals", proposal_id, institute=institute_id,
                       to_state="draft")
        for before, to, who in PATHS[status]:
            at = at + timedelta(days=rng.randint(3, 40))
            actor = lead if who == "lead" else rng.choice(w.staff[institute_id])
            change_rows.append({"id": change_start + len(change_rows), "proposal_id": proposal_id,
                                "from_status": before, "to_status": to, "actor_id": actor, "at": at})
            activity.event(at, actor, f"proposal.{to}", "proposals", proposal_id, institute=institute_id,
                           from_state=before, to_state=to)
            if to == "submitted":
                for staff in w.staff[institute_id]:
                    activity.notify(at, staff, "A proposal was submitted.", link, w.read(at))
            elif to in ("approved", "declined", "under_review"):
                activity.notify(at, lead, f"Your proposal is {to.replace('_', ' ')}.", link, w.read(at))
            if to == "under_review":
                for k, reviewer in enumerate(rng.sample(w.reviewers[institute_id], 2)):
                    review_id = review_start + len(review_rows)
                    submitted = at + timedelta(days=rng.randint(5, 25)) if status != "under_review" or k == 0 else None
                    review_rows.append({"id": review_id, "proposal_id": proposal_id, "reviewer_id": reviewer,
                                        "assigned_by_id": actor, "assigned_at": at, "submitted_at": submitted})
                    activity.event(at, actor, "proposal.reviewer_assigned", "proposals", proposal_id,
                                   institute=institute_id, details={"reviewer_id": reviewer})
                    activity.notify(at, reviewer, "You are asked to review a proposal.",
                                    activity.link("proposals.review", "proposal_id", proposal_id), w.read(at))
                    if submitted:
                        activity.event(submitted, reviewer, "proposal.review_submitted", "proposals", proposal_id,
                                       institute=institute_id)
                        for criterion in criteria[call]:
                            score_rows.append({"id": score_start + len(score_rows), "review_id": review_id,
                                               "criterion_id": criterion, "score": rng.randint(1, 5), "comment": ""})
                at = at + timedelta(days=30)
        area = rng.choice(AREAS)
        trl_start = rng.randint(3, 6)
        proposal_rows.append({
            "id": proposal_id, "call_id": call, "lead_organization_id": lead_org, "created_by_id": lead,
            "status": status, "title": project_title(rng, area, n + 1), "abstract": "Synthetic.",
            "technical_plan": "Synthetic.", "technology_area": area, "trl_start": trl_start,
            "trl_target": trl_start + 2, "mrl_start": trl_start, "mrl_target": trl_start + 2,
            "trl_reached": trl_start + rng.randint(1, 2) if status == "completed" else None,
            "mrl_reached": trl_start + rng.randint(0, 2) if status == "completed" else None,
            "duration_months": 18, "federal_request_cents": 1_000_000_00, "decision_note": "", "return_note": "",
            "status_changed_at": at, "created_at": created})
        partner_rows.append({"id": partner_start + len(partner_rows), "proposal_id": proposal_id,
                             "organization_id": lead_org, "is_lead": True, "status": "accepted",
                             "invited_by_id": None, "responded_at": created})
        partner = rng.choice(w.org_ids)
        if partner != lead_org and status != "draft":  # most teams have a second organization
            accepted = created + timedelta(days=2)
            partner_rows.append({"id": partner_start + len(partner_rows), "proposal_id": proposal_id,
                                 "organization_id": partner, "is_lead": False, "status": "accepted",
                                 "invited_by_id": lead, "responded_at": accepted})
            activity.event(created + timedelta(hours=1), lead, "proposal.partner_invited", "proposals", proposal_id,
                           institute=institute_id, details={"organization_id": partner})
            activity.event(accepted, w.admin_of[partner], "proposal.partner_accepted", "proposals", proposal_id,
                           institute=institute_id)
            activity.notify(created + timedelta(hours=1), w.admin_of[partner], "Your organization is invited to "
                            "join a proposal's team.", link, w.read(created))
    insert(Proposal, proposal_rows, w.tick)
    insert(Partner, partner_rows, w.tick)
    insert(StatusChange, change_rows, w.tick)
    insert(Review, review_rows, w.tick)
    insert(Score, score_rows, w.tick)
    return {"proposals": len(proposal_rows), "reviews": len(review_rows)}
