"""Co-investment: pledges, receipts, verification, cancellation, reversal and the federal match.

Every money event is a ledger entry, and each entry carries the one-time key of the form that made
it, so a double click or a retried request finds the first entry instead of writing a second. A
pledge's running totals change in the same transaction by a conditional UPDATE that the database
checks against the pledge (CHECK not_overdrawn), so concurrent receipts cannot overdraw it.

One module per section; the public functions are re-exported here, so callers write
``ledger.record_pledge(...)`` whichever module holds the rule.
"""

from portal.services.ledger.entries import (
    FIRST_FISCAL_YEAR,
    FISCAL_YEARS_AHEAD,
    REVERSIBLE,
    TOTAL_OF,
    allowed_fiscal_years,
    check_fiscal_year,
    fiscal_year_of,
    has_active_membership,
)
from portal.services.ledger.federal import (
    MatchRow,
    ObligationRow,
    federal_total,
    match_table,
    obligations,
    record_federal_obligation,
    standing_cents,
)
from portal.services.ledger.pledges import (
    PledgeInput,
    cancel_remainder,
    cost_share_approved,
    cost_share_pledges,
    record_pledge,
    release_cost_share,
)
from portal.services.ledger.receipts import (
    is_reversed,
    net_verified,
    record_receipt,
    reverse,
    verify_receipt,
)
from portal.services.ledger.reports import (
    CSV_COLUMNS,
    DUE_SOON_DAYS,
    LedgerFilters,
    Totals,
    conditional_ids,
    entries_csv,
    entries_of,
    entries_query,
    instalments_due,
    institute_totals,
    network_totals,
    pledges_query,
    reconcile,
    remind,
    status_choices,
    totals,
)

__all__ = [
    "CSV_COLUMNS",
    "DUE_SOON_DAYS",
    "FIRST_FISCAL_YEAR",
    "FISCAL_YEARS_AHEAD",
    "REVERSIBLE",
    "TOTAL_OF",
    "LedgerFilters",
    "MatchRow",
    "ObligationRow",
    "PledgeInput",
    "Totals",
    "allowed_fiscal_years",
    "cancel_remainder",
    "check_fiscal_year",
    "conditional_ids",
    "cost_share_approved",
    "cost_share_pledges",
    "entries_csv",
    "entries_of",
    "entries_query",
    "federal_total",
    "fiscal_year_of",
    "has_active_membership",
    "instalments_due",
    "institute_totals",
    "is_reversed",
    "match_table",
    "net_verified",
    "network_totals",
    "obligations",
    "pledges_query",
    "reconcile",
    "record_federal_obligation",
    "record_pledge",
    "record_receipt",
    "release_cost_share",
    "remind",
    "reverse",
    "standing_cents",
    "status_choices",
    "totals",
    "verify_receipt",
]
