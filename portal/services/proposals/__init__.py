"""Project calls and proposals: rules, teams, cost share, review, decision and the projects that follow.

One module per section; the public functions are re-exported here, so callers write
``proposals.submit(...)`` whichever module holds the rule.
"""

# The pages name call statuses and the time through this module.
from portal.services.proposals.calls import (
    CallInput,
    accepting,
    calls_of,
    calls_query,
    create_call,
    has_proposals,
    set_call_status,
    update_call,
)
from portal.services.proposals.drafts import (
    ABSTRACT_MAX_WORDS,
    DraftInput,
    _move,
    save_draft,
    start,
    words,
)
from portal.services.proposals.people import (
    in_force_tiers,
    lead_organizations,
    lead_team,
    on_team,
    review_of,
    team_org_ids,
)
from portal.services.proposals.projects import (
    complete,
    complete_milestone,
    is_institute_staff,
    post_update,
    proposals_for_staff,
    proposals_for_staff_query,
    proposals_of_user,
    public_projects,
    public_projects_query,
    start_project,
    time_in_states,
    updates_of,
)
from portal.services.proposals.review import (
    DISAGREEMENT_POINTS,
    ReviewSummary,
    assign_reviewer,
    conflict,
    decide,
    disagree,
    review_summary,
    reviews_for,
    reviews_of,
    save_review,
    weighted_total,
)
from portal.services.proposals.rules import (
    Rule,
    check_rules,
)
from portal.services.proposals.teams import (
    commit_cost_share,
    cost_share_cents,
    find_partners,
    invite,
    respond,
)
from portal.services.proposals.workflow import (
    return_to_draft,
    submit,
    withdraw,
)

__all__ = [
    "ABSTRACT_MAX_WORDS",
    "DISAGREEMENT_POINTS",
    "CallInput",
    "DraftInput",
    "ReviewSummary",
    "Rule",
    "_move",
    "accepting",
    "assign_reviewer",
    "calls_of",
    "calls_query",
    "check_rules",
    "commit_cost_share",
    "complete",
    "complete_milestone",
    "conflict",
    "cost_share_cents",
    "create_call",
    "decide",
    "disagree",
    "find_partners",
    "has_proposals",
    "in_force_tiers",
    "invite",
    "is_institute_staff",
    "lead_organizations",
    "lead_team",
    "on_team",
    "post_update",
    "proposals_for_staff",
    "proposals_for_staff_query",
    "proposals_of_user",
    "public_projects",
    "public_projects_query",
    "respond",
    "return_to_draft",
    "review_of",
    "review_summary",
    "reviews_for",
    "reviews_of",
    "save_draft",
    "save_review",
    "set_call_status",
    "start",
    "start_project",
    "submit",
    "team_org_ids",
    "time_in_states",
    "update_call",
    "updates_of",
    "weighted_total",
    "withdraw",
    "words",
]
