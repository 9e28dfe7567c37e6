"""Institute memberships: staff, tiers, applications, decisions, lifecycle, access and rosters.

One module per section; the public functions are re-exported here, so callers write
``memberships.approve(...)`` whichever module holds the rule.
"""

from portal.services.memberships.applications import (
    REMIND_DAYS,
    apply,
    approve,
    decide_tier_change,
    decline,
    end,
    expire,
    live_membership,
    remind,
    renew,
    request_tier_change,
    withdraw,
)
from portal.services.memberships.roster import (
    ROSTER_COLUMNS,
    Access,
    PublicRoster,
    WaitTimes,
    access,
    admin_organizations,
    members_in_force,
    members_in_force_query,
    memberships_of,
    pending_queue,
    public_roster,
    roster_csv,
    tier_change_requests,
    wait_times,
)
from portal.services.memberships.staff import (
    add_staff,
    institutes_administered,
    is_staff,
    remove_staff,
    staff_of,
    staff_users,
)
from portal.services.memberships.tiers import (
    create_tier,
    retire_tier,
    seed_tiers,
    tiers_of,
)

__all__ = [
    "REMIND_DAYS",
    "ROSTER_COLUMNS",
    "Access",
    "PublicRoster",
    "WaitTimes",
    "access",
    "add_staff",
    "admin_organizations",
    "apply",
    "approve",
    "create_tier",
    "decide_tier_change",
    "decline",
    "end",
    "expire",
    "institutes_administered",
    "is_staff",
    "live_membership",
    "members_in_force",
    "members_in_force_query",
    "memberships_of",
    "pending_queue",
    "public_roster",
    "remind",
    "remove_staff",
    "renew",
    "request_tier_change",
    "retire_tier",
    "roster_csv",
    "seed_tiers",
    "staff_of",
    "staff_users",
    "tier_change_requests",
    "tiers_of",
    "wait_times",
    "withdraw",
]
