"""Proposal teams through the API: the lead invites partner organizations and may withdraw an unanswered
invitation; a partner's admin accepts or declines and commits cost share (with an Idempotency-Key); a proposal
to a call that needs partners and cost share goes from draft to submitted with two tokens."""

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Partner, Pledge
from tests.api_helpers import assert_problem, bearer, count_queries, make_token
from tests.factories import make_call, make_proposal
from tests.test_api_work import DRAFT


def call_needing_partners(app, w):
    """An academic partner and cost share of at least half the federal request are needed."""
    return make_call(app, w.staff, w.institute, min_academic=1, min_cost_share_bp=5000, all_partners_members=True)


def test_a_proposal_needing_a_partner_goes_from_draft_to_submitted_with_two_tokens(app, client, proposal_world):
    w = proposal_world
    call = call_needing_partners(app, w)
    lead, partner_admin = make_token(app, w.engineer), make_token(app, w.uni_admin)
    proposal = client.post("/api/v1/proposals", headers=bearer(lead),
                           json={"call_id": call.id, "organization_id": w.lead.id, "title": "Brackets"}).get_json()
    base = f"/api/v1/proposals/{proposal['id']}"
    assert client.put(f"{base}/draft", headers=bearer(lead), json=DRAFT).status_code == 200
    refused = assert_problem(client.post(f"{base}/submit", headers=bearer(lead)), 409)
    assert "academic partner" in refused["detail"] and "Cost share" in refused["detail"]

    invited = client.post(f"{base}/partners", headers=bearer(lead), json={"organization_id": w.uni.id})
    assert invited.status_code == 201, invited.get_json()
    assert invited.get_json()["status"] == "invited"
    # the invited organization's admin finds its row on the team and answers
    team = client.get(f"{base}/partners", headers=bearer(partner_admin)).get_json()
    mine = next(p for p in team if p["organization_id"] == w.uni.id)
    accepted = client.post(f"{base}/partners/{mine['id']}/answer", headers=bearer(partner_admin),
                           json={"decision": "accept"})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert_problem(client.post(f"{base}/partners/{mine['id']}/answer", headers=bearer(partner_admin),
                               json={"decision": "decline"}), 409)  # answered once

    share = {"amount_cents": 50_000_00, "kind": "cash"}
    headers = bearer(partner_admin, **{"Idempotency-Key": "cost-share-1"})
    first = client.post(f"{base}/partners/{mine['id']}/cost-share", headers=headers, json=share)
    again = client.post(f"{base}/partners/{mine['id']}/cost-share", headers=headers, json=share)
    assert first.status_code == again.status_code == 201, first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert first.get_json()["cost_share_cents"] == 50_000_00
    twice = assert_problem(client.post(f"{base}/partners/{mine['id']}/cost-share", headers=bearer(partner_admin),
                                       json=share), 409)
    assert list(twice["errors"]) == ["amount_cents"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Pledge.id)).where(Pledge.proposal_id == proposal["id"])) == 1

    submitted = client.post(f"{base}/submit", headers=bearer(lead))
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted", submitted.get_json()


def test_who_may_invite_answer_and_commit(app, client, proposal_world):
    w = proposal_world
    call = call_needing_partners(app, w)
    proposal = make_proposal(app, w.engineer, call, w.lead)
    base = f"/api/v1/proposals/{proposal.id}"
    lead, uni, small, outsider = (make_token(app, u) for u in (w.engineer, w.uni_admin, w.small_admin, w.outsider))
    # someone who does not see the draft: 404; an invited partner sees it but may not invite: 403
    assert_problem(client.post(f"{base}/partners", headers=bearer(outsider), json={"organization_id": w.uni.id}), 404)
    partner = client.post(f"{base}/partners", headers=bearer(lead), json={"organization_id": w.uni.id}).get_json()
    assert_problem(client.post(f"{base}/partners", headers=bearer(uni), json={"organization_id": w.small.id}), 403)
    # another organization's admin does not see the draft; the lead sees it but does not answer for the partner
    assert_problem(client.post(f"{base}/partners/{partner['id']}/answer", headers=bearer(small),
                               json={"decision": "accept"}), 404)
    assert_problem(client.post(f"{base}/partners/{partner['id']}/answer", headers=bearer(lead),
                               json={"decision": "accept"}), 403)
    assert_problem(client.post(f"{base}/partners/{partner['id']}/cost-share", headers=bearer(lead),
                               json={"amount_cents": 1}), 403)
    # cost share before accepting is refused, and nothing is pledged
    assert_problem(client.post(f"{base}/partners/{partner['id']}/cost-share", headers=bearer(uni),
                               json={"amount_cents": 1}), 409)
    # bad input names the field
    unknown = assert_problem(client.post(f"{base}/partners", headers=bearer(lead),
                                         json={"organization_id": 999_999}), 422)
    assert list(unknown["errors"]) == ["organization_id"]
    already = assert_problem(client.post(f"{base}/partners", headers=bearer(lead),
                                         json={"organization_id": w.uni.id}), 409)
    assert list(already["errors"]) == ["organization_id"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Pledge.id))) == 0


def test_the_lead_withdraws_an_unanswered_invitation(app, client, proposal_world):
    w = proposal_world
    proposal = make_proposal(app, w.engineer, call_needing_partners(app, w), w.lead)
    base = f"/api/v1/proposals/{proposal.id}"
    lead, small = make_token(app, w.engineer), make_token(app, w.small_admin)
    partner = client.post(f"{base}/partners", headers=bearer(lead), json={"organization_id": w.small.id}).get_json()
    assert_problem(client.post(f"{base}/partners/{partner['id']}/withdraw", headers=bearer(small)), 403)
    withdrawn = client.post(f"{base}/partners/{partner['id']}/withdraw", headers=bearer(lead))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert_problem(client.post(f"{base}/partners/{partner['id']}/withdraw", headers=bearer(lead)), 409)
    # the lead's own row is not an invitation
    with app.app_context():
        lead_row = db.session.scalar(sa.select(Partner.id).where(Partner.proposal_id == proposal.id,
                                                                  Partner.is_lead.is_(True)))
    assert_problem(client.post(f"{base}/partners/{lead_row}/withdraw", headers=bearer(lead)), 404)


def test_the_team_list_makes_as_many_queries_for_one_partner_as_for_three(app, client, proposal_world):
    w = proposal_world
    proposal = make_proposal(app, w.engineer, call_needing_partners(app, w), w.lead)
    base = f"/api/v1/proposals/{proposal.id}"
    lead = make_token(app, w.engineer)
    client.get(f"{base}/partners", headers=bearer(lead))  # the token's last use is written once
    before = count_queries(app, client, f"{base}/partners", bearer(lead))
    for organization in (w.uni, w.small):
        client.post(f"{base}/partners", headers=bearer(lead), json={"organization_id": organization.id})
    client.get(f"{base}/partners", headers=bearer(lead))
    assert len(client.get(f"{base}/partners", headers=bearer(lead)).get_json()) == 3
    assert count_queries(app, client, f"{base}/partners", bearer(lead)) == before


def test_the_lead_finds_partners_who_are_not_on_the_team_yet(app, client, proposal_world):
    w = proposal_world
    call = call_needing_partners(app, w)
    lead = make_token(app, w.engineer, "read")
    proposal = make_proposal(app, w.engineer, call, w.lead, title="Brackets")
    url = f"/api/v1/proposals/{proposal.id}/partner-candidates"

    def names(**query) -> list[str]:
        response = client.get(url, headers=bearer(lead), query_string=query)
        assert response.status_code == 200, response.get_json()
        return [o["name"] for o in response.get_json()]

    assert names() == ["State Tech", "Tiny Parts"]  # members in force, by name; the lead itself is on the team
    assert names(sector="academic") == ["State Tech"] and names(q="tiny") == ["Tiny Parts"]
    assert names(institute=w.institute.slug) == ["State Tech", "Tiny Parts"]
    assert "institute" in assert_problem(client.get(url, headers=bearer(lead), query_string={"institute": "nowhere"}),
                                         422)["errors"]
    writer = make_token(app, w.engineer)
    assert client.post(f"/api/v1/proposals/{proposal.id}/partners", headers=bearer(writer),
                       json={"organization_id": w.uni.id}).status_code == 201
    assert names() == ["Tiny Parts"]  # invited: on the team now
    # someone who may not edit the draft: a partner's admin sees the proposal but may not look for partners;
    # an outsider does not see it at all
    assert_problem(client.get(url, headers=bearer(make_token(app, w.uni_admin, "read"))), 403)
    assert_problem(client.get(url, headers=bearer(make_token(app, w.outsider, "read"))), 404)
