"""A walk through the portal's JSON API with personal access tokens: what an organization's admin does on the
pages (apply for membership, pledge, draft a proposal, build its team with a partner organization whose admin
accepts and commits cost share, submit it) and what an institute's staff do (decide the application, record a
receipt, have a second administrator verify it, ask for a review, decide the proposal).

Tokens are read from the environment, never from the command line (where other users of the machine see them):

    PORTAL_MEMBER_TOKEN    a write token of the organization's admin
    PORTAL_STAFF_TOKEN     a write token of an administrator of the institute
    PORTAL_CHECKER_TOKEN   a write token of a second administrator, made in the last 15 minutes (to verify)
    PORTAL_REVIEWER_TOKEN  a write token of the reviewer named by --reviewer
    PORTAL_PARTNER_TOKEN   a write token of an admin of another organization, a member of the institute, that
                           joins the proposal's team and commits cost share (a call may require partners)

    python examples/api_walkthrough.py --url http://127.0.0.1:5000 --institute america-makes \\
        --reviewer reviewer@example.com

Only the standard library is used. Every answer that is not what the step expects stops the script with the
problem the portal gave (problem+json: title, detail and the fields refused).
"""

import argparse
import json
import os
import sys
import uuid
from datetime import date
from urllib.error import HTTPError
from urllib.request import Request, urlopen


class Portal:
    """Requests to the API as the holder of one token."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url.rstrip("/") + "/api/v1", token

    def call(self, method: str, path: str, body: dict | None = None, **headers: str):
        data = json.dumps(body).encode() if body is not None else None
        request = Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json",
            **({"Content-Type": "application/json"} if data is not None else {}), **headers})
        try:
            with urlopen(request, timeout=30) as response:
                return json.load(response)
        except HTTPError as error:
            problem = json.load(error)
            raise SystemExit(f"{method} {path}: {problem.get('status')} {problem.get('title')}: "
                             f"{problem.get('detail')} {problem.get('errors', '')}") from error


def fiscal_year(day: date) -> int:
    """The federal fiscal year a day falls in (it starts on 1 October)."""
    return day.year + 1 if day.month >= 10 else day.year


def walk(url: str, institute: str, reviewer_email: str, tokens: dict[str, str], say=print) -> dict:
    member, staff = Portal(url, tokens["member"]), Portal(url, tokens["staff"])
    checker, reviewer = Portal(url, tokens["checker"]), Portal(url, tokens["reviewer"])
    partner = Portal(url, tokens["partner"])

    organization = next(o for o in member.call("GET", "/me/organizations") if o["role"] == "admin")
    tier = member.call("GET", f"/institutes/{institute}/tiers")[0]
    application = member.call("POST", "/memberships", {
        "organization_id": organization["id"], "institute": institute, "tier_id": tier["id"],
        "statement": "We machine aerospace parts and want to join the institute's projects.",
        "contact_name": "Membership contact", "contact_email": "membership@example.com"})
    say(f"{organization['name']} applied for {tier['name']}: application {application['id']}")
    decided = staff.call("POST", f"/memberships/{application['id']}/decision", {"decision": "approve"})
    say(f"The institute decided: {decided['status']}")

    # A retry with the same key (after a timeout, say) is answered the first answer and records nothing more.
    key = str(uuid.uuid4())
    pledge_body = {"organization_id": organization["id"], "institute": institute, "amount_cents": 250_000_00,
                   "kind": "cash", "fiscal_year": fiscal_year(date.today())}
    pledge = member.call("POST", "/pledges", pledge_body, **{"Idempotency-Key": key})
    again = member.call("POST", "/pledges", pledge_body, **{"Idempotency-Key": key})
    assert again["id"] == pledge["id"]
    say(f"Pledged $250,000.00: pledge {pledge['id']} (sent twice, recorded once)")
    receipt = staff.call("POST", f"/pledges/{pledge['id']}/receipts",
                         {"amount_cents": 100_000_00, "received_on": date.today().isoformat(),
                          "note": "Wire transfer"})
    verification = checker.call("POST", f"/pledges/{pledge['id']}/receipts/{receipt['id']}/verification")
    say(f"Receipt {receipt['id']} recorded by one administrator, verified by another ({verification['id']})")

    call = member.call("GET", f"/calls?institute={institute}")["items"][0]
    proposal = member.call("POST", "/proposals", {"call_id": call["id"], "organization_id": organization["id"],
                                                  "title": "Lighter titanium brackets"})
    member.call("PUT", f"/proposals/{proposal['id']}/draft", {
        "title": "Lighter titanium brackets", "abstract": "Printed brackets a third lighter than machined ones.",
        "technical_plan": "Design, print, test to the airframer's loads.", "technology_area": "Additive",
        "trl_start": 4, "trl_target": 6, "mrl_start": 4, "mrl_target": 6, "duration_months": 12,
        "federal_request_cents": 100_000_00,
        "milestones": [{"month": 6, "title": "Prototype", "deliverable": "A printed bracket"}]})

    # The team: the lead invites the partner organization, whose admin accepts and commits cost share.
    ally = next(o for o in partner.call("GET", "/me/organizations") if o["role"] == "admin")
    team = f"/proposals/{proposal['id']}/partners"
    invited = member.call("POST", team, {"organization_id": ally["id"]})
    partner.call("POST", f"{team}/{invited['id']}/answer", {"decision": "accept"})
    share = partner.call("POST", f"{team}/{invited['id']}/cost-share", {"amount_cents": 50_000_00, "kind": "cash"},
                         **{"Idempotency-Key": str(uuid.uuid4())})
    say(f"{ally['name']} joined the team and committed ${share['cost_share_cents'] / 100:,.2f} of cost share")
    submitted = member.call("POST", f"/proposals/{proposal['id']}/submit")
    say(f"Proposal {proposal['id']} drafted and {submitted['status']}")
    staff.call("POST", f"/proposals/{proposal['id']}/reviewers", {"email": reviewer_email})
    to_do = reviewer.call("GET", "/me/reviews?state=todo")["items"]
    review = next(r for r in to_do if r["proposal_id"] == proposal["id"])
    reviewer.call("PUT", f"/proposals/{proposal['id']}/review", {
        "scores": [{"criterion_id": c["id"], "score": 4, "comment": "Sound plan."} for c in review["criteria"]],
        "final": True})
    outcome = staff.call("POST", f"/proposals/{proposal['id']}/decision",
                         {"decision": "approve", "note": "A clear plan with a committed team."})
    say(f"Reviewed and {outcome['status']}")
    return {"membership": decided, "pledge": member.call("GET", f"/pledges/{pledge['id']}"), "proposal": outcome}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the portal's address, such as http://127.0.0.1:5000")
    parser.add_argument("--institute", required=True, help="the institute's slug")
    parser.add_argument("--reviewer", required=True, help="the email address of the reviewer to ask")
    args = parser.parse_args(argv)
    names = ("member", "staff", "checker", "reviewer", "partner")
    missing = [f"PORTAL_{n.upper()}_TOKEN" for n in names if not os.environ.get(f"PORTAL_{n.upper()}_TOKEN")]
    if missing:
        parser.error(f"set {', '.join(missing)} in the environment")
    tokens = {n: os.environ[f"PORTAL_{n.upper()}_TOKEN"] for n in names}
    result = walk(args.url, args.institute, args.reviewer, tokens)
    print(f"Done: the pledge has ${result['pledge']['verified_cents'] / 100:,.2f} verified.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
