"""The call's rules checked against a proposal, each with the reason it is met or not."""

from dataclasses import dataclass
from datetime import datetime

from portal.models import (
    OrgSize,
    PartnerStatus,
    Proposal,
    Sector,
)
from portal.models.base import utcnow
from portal.services.parsing import format_cents
from portal.services.proposals.calls import accepting
from portal.services.proposals.drafts import ABSTRACT_MAX_WORDS, words
from portal.services.proposals.people import in_force_tiers
from portal.services.proposals.teams import cost_share_cents
from portal.services.wording import possessive

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
        standing.append(f"{possessive(proposal.lead_organization.name)} tier may not lead proposals")
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
        rules.append(Rule("Federal request", request <= call.max_federal_cents,
                          f"{format_cents(request)} requested; "
                          f"the call allows up to {format_cents(call.max_federal_cents)}"))
        share = cost_share_cents(proposal)
        needed_bp = call.min_cost_share_bp * request  # compare share * 10000 >= ratio_bp * request, exactly
        rules.append(Rule("Cost share", share * 10_000 >= needed_bp,
                          f"{format_cents(share)} committed by the team; at least "
                          f"{format_cents(-(-needed_bp // 10_000))} needed "
                          f"({call.min_cost_share_bp / 10_000:g} of the request)"))

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
