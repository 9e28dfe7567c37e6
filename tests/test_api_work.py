"""The API's member and staff actions: the same services and authorization as the pages, answered in JSON
and, when refused, in problem+json."""

import sqlalchemy as sa

from portal.extensions import db
from portal.models import LedgerEntry, Membership, Pledge, Proposal
from portal.services import ledger
from portal.services.clock import today
from tests.api_helpers import age_token, assert_problem, bearer, make_token
from tests.factories import make_call, make_institute, make_membership, make_tier, org_admin

DRAFT = {"title": "Lighter brackets", "abstract": "Printed titanium brackets.", "technical_plan": "Print, test.",
         "technology_area": "Additive", "trl_start": 4, "trl_target": 6, "mrl_start": 4, "mrl_target": 6,
         "duration_months": 12, "federal_request_cents": 100_000_00,
         "milestones": [{"month": 6, "title": "Prototype", "deliverable": "A bracket"}]}


def fiscal_year() -> int:
    return ledger.fiscal_year_of(today())


def test_an_organization_applies_and_the_institute_decides(app, client, membership_world):
    w = membership_world
    member, staff = make_token(app, w.admin), make_token(app, w.staff)
    mine = client.get("/api/v1/me/organizations", headers=bearer(member)).get_json()
    assert [(o["id"], o["role"]) for o in mine] == [(w.organization.id, "admin")]
    applied = client.post("/api/v1/memberships", headers=bearer(member), json={
        "organization_id": w.organization.id, "institute": w.institute.slug, "tier_id": w.tier.id,
        "statement": "We make parts.", "contact_name": "Pat", "contact_email": "pat@acme.example"})
    assert applied.status_code == 201, applied.get_json()
    membership_id = applied.get_json()["id"]
    assert applied.get_json()["status"] == "pending"
    # a member cannot decide: they see the application, so 403
    assert_problem(client.post(f"/api/v1/memberships/{membership_id}/decision", headers=bearer(member),
                               json={"decision": "approve"}), 403)
    decided = client.post(f"/api/v1/memberships/{membership_id}/decision", headers=bearer(staff),
                          json={"decision": "approve"})
    assert decided.status_code == 200 and decided.get_json()["status"] == "active"
    with app.app_context():
        assert db.session.get(Membership, membership_id).status == "active"


def test_a_service_refusal_is_a_422_naming_the_field(app, client, membership_world):
    w = membership_world
    staff = make_token(app, w.staff)
    member = make_token(app, w.admin)
    applied = client.post("/api/v1/memberships", headers=bearer(member), json={
        "organization_id": w.organization.id, "institute": w.institute.slug, "tier_id": w.tier.id,
        "statement": "We make parts.", "contact_name": "Pat", "contact_email": "pat@acme.example"}).get_json()
    body = assert_problem(client.post(f"/api/v1/memberships/{applied['id']}/decision", headers=bearer(staff),
                                      json={"decision": "decline", "reason": ""}), 422)
    assert list(body["errors"]) == ["reason"]
    with app.app_context():
        assert db.session.get(Membership, applied["id"]).status == "pending"  # nothing changed


def test_a_malformed_body_is_a_422_with_the_fields_and_bad_json_a_400(app, client, ledger_world):
    token = make_token(app, ledger_world.admin)
    body = assert_problem(client.post("/api/v1/pledges", headers=bearer(token), json={"amount_cents": "lots"}), 422)
    assert {"amount_cents", "organization_id", "institute", "fiscal_year"} <= set(body["errors"])
    assert_problem(client.post("/api/v1/pledges", headers=bearer(token, **{"Content-Type": "application/json"}),
                               data="{not json"), 400)
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def pledge_body(w, cents=250_000_00):
    return {"organization_id": w.organization.id, "institute": w.institute.slug, "amount_cents": cents,
            "kind": "cash", "fiscal_year": fiscal_year()}


def test_a_pledge_a_receipt_and_its_verification_by_a_second_person(app, client, ledger_world):
    w = ledger_world
    admin, recorder, checker = (make_token(app, u) for u in (w.admin, w.recorder, w.checker))
    made = client.post("/api/v1/pledges", headers=bearer(admin), json=pledge_body(w))
    assert made.status_code == 201, made.get_json()
    pledge_id = made.get_json()["id"]
    assert client.get(f"/api/v1/pledges/{pledge_id}", headers=bearer(recorder)).get_json()["remaining_cents"] \
        == 250_000_00
    receipt = client.post(f"/api/v1/pledges/{pledge_id}/receipts", headers=bearer(recorder),
                          json={"amount_cents": 100_000_00, "received_on": today().isoformat()})
    assert receipt.status_code == 201, receipt.get_json()
    entry_id = receipt.get_json()["id"]
    # the two-person rule: the recorder cannot verify
    body = assert_problem(client.post(f"/api/v1/pledges/{pledge_id}/receipts/{entry_id}/verification",
                                      headers=bearer(recorder)), 403)
    assert "another administrator" in body["detail"]
    # the organization's admin may see the pledge but not record on it
    assert_problem(client.post(f"/api/v1/pledges/{pledge_id}/receipts", headers=bearer(admin),
                               json={"amount_cents": 1, "received_on": today().isoformat()}), 403)
    verified = client.post(f"/api/v1/pledges/{pledge_id}/receipts/{entry_id}/verification", headers=bearer(checker))
    assert verified.status_code == 201 and verified.get_json()["kind"] == "verification"
    with app.app_context():
        assert db.session.get(Pledge, pledge_id).verified_cents == 100_000_00
    kinds = [e["kind"] for e in client.get(f"/api/v1/pledges/{pledge_id}/entries", headers=bearer(admin)).get_json()]
    assert kinds == ["pledge", "receipt", "verification"]


def test_verification_needs_a_token_made_within_the_step_up_window(app, client, ledger_world):
    w = ledger_world
    pledge = client.post("/api/v1/pledges", headers=bearer(make_token(app, w.admin)), json=pledge_body(w)).get_json()
    receipt = client.post(f"/api/v1/pledges/{pledge['id']}/receipts", headers=bearer(make_token(app, w.recorder)),
                          json={"amount_cents": 100, "received_on": today().isoformat()}).get_json()
    old = make_token(app, w.checker)
    age_token(app, old, minutes=16)
    body = assert_problem(client.post(f"/api/v1/pledges/{pledge['id']}/receipts/{receipt['id']}/verification",
                                      headers=bearer(old)), 403)
    assert "15 minutes" in body["detail"]
    with app.app_context():
        verifications = sa.select(sa.func.count(LedgerEntry.id)).where(LedgerEntry.kind == "verification")
        assert db.session.scalar(verifications) == 0


def test_another_organizations_pledge_by_id_is_404(app, client, ledger_world):
    w = ledger_world
    pledge = client.post("/api/v1/pledges", headers=bearer(make_token(app, w.admin)), json=pledge_body(w)).get_json()
    stranger, _ = org_admin(app, email="other@elsewhere.example")
    token = make_token(app, stranger)
    assert_problem(client.get(f"/api/v1/pledges/{pledge['id']}", headers=bearer(token)), 404)
    assert_problem(client.get(f"/api/v1/pledges/{pledge['id']}/entries", headers=bearer(token)), 404)
    assert_problem(client.post(f"/api/v1/pledges/{pledge['id']}/receipts", headers=bearer(token),
                               json={"amount_cents": 1, "received_on": today().isoformat()}), 404)
    # pledging for an organization one is not an admin of: 403 (organizations are listed publicly)
    assert_problem(client.post("/api/v1/pledges", headers=bearer(token), json=pledge_body(w)), 403)
    # another institute's staff do not see it either
    other_institute = make_institute(app, slug="other", acronym="OI")
    from tests.factories import make_staff
    outsider_staff = make_token(app, make_staff(app, other_institute, email="staff@other.example"))
    assert_problem(client.get(f"/api/v1/pledges/{pledge['id']}", headers=bearer(outsider_staff)), 404)


def test_the_idempotency_key_replays_the_first_answer_and_refuses_another_body(app, client, ledger_world):
    w = ledger_world
    token = make_token(app, w.admin)
    headers = bearer(token, **{"Idempotency-Key": "pledge-2026-001"})
    first = client.post("/api/v1/pledges", headers=headers, json=pledge_body(w))
    again = client.post("/api/v1/pledges", headers=headers, json=pledge_body(w))
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other = assert_problem(client.post("/api/v1/pledges", headers=headers, json=pledge_body(w, cents=1)), 422)
    assert "Idempotency-Key" in other["errors"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Pledge.id))) == 1
    # the key is the token's own: another token's same key is another request
    second = client.post("/api/v1/pledges", headers=bearer(make_token(app, w.admin), **{
        "Idempotency-Key": "pledge-2026-001"}), json=pledge_body(w))
    assert second.status_code == 201 and second.get_json()["id"] != first.get_json()["id"]


def test_a_refused_request_keeps_no_key(app, client, ledger_world):
    w = ledger_world
    headers = bearer(make_token(app, w.admin), **{"Idempotency-Key": "k1"})
    refused = client.post("/api/v1/pledges", headers=headers, json={**pledge_body(w), "fiscal_year": 2001})
    assert_problem(refused, 422)
    assert client.post("/api/v1/pledges", headers=headers, json=pledge_body(w)).status_code == 201


def test_a_draft_is_started_written_submitted_and_decided(app, client, proposal_world):
    w = proposal_world
    call = make_call(app, w.staff, w.institute)
    engineer, staff = make_token(app, w.engineer), make_token(app, w.staff)
    started = client.post("/api/v1/proposals", headers=bearer(engineer),
                          json={"call_id": call.id, "organization_id": w.lead.id, "title": "Brackets"})
    assert started.status_code == 201, started.get_json()
    proposal_id = started.get_json()["id"]
    refused = assert_problem(client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=bearer(engineer)), 409)
    assert "Still to fill in" in refused["detail"]
    bad = assert_problem(client.put(f"/api/v1/proposals/{proposal_id}/draft", headers=bearer(engineer),
                                    json={**DRAFT, "trl_target": 3}), 422)
    assert list(bad["errors"]) == ["trl_target"]
    saved = client.put(f"/api/v1/proposals/{proposal_id}/draft", headers=bearer(engineer), json=DRAFT)
    assert saved.status_code == 200 and saved.get_json()["title"] == "Lighter brackets"
    # an outsider does not see the draft; the staff see it but a member of the team cannot decide
    outsider = make_token(app, w.outsider)
    assert_problem(client.get(f"/api/v1/proposals/{proposal_id}", headers=bearer(outsider)), 404)
    assert_problem(client.put(f"/api/v1/proposals/{proposal_id}/draft", headers=bearer(outsider), json=DRAFT), 404)
    submitted = client.post(f"/api/v1/proposals/{proposal_id}/submit", headers=bearer(engineer))
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"
    assert_problem(client.post(f"/api/v1/proposals/{proposal_id}/decision", headers=bearer(engineer),
                               json={"decision": "approve", "note": "Mine"}), 403)
    assigned = client.post(f"/api/v1/proposals/{proposal_id}/reviewers", headers=bearer(staff),
                           json={"email": w.reviewer_one.email})
    assert assigned.status_code == 201, assigned.get_json()
    reviewer = make_token(app, w.reviewer_one)
    review = client.get("/api/v1/me/reviews", headers=bearer(reviewer)).get_json()["items"][0]
    criterion = review["criteria"][0]["id"]
    # someone who is not its reviewer does not see the proposal at all
    other_reviewer = make_token(app, w.reviewer_two)
    assert_problem(client.put(f"/api/v1/proposals/{proposal_id}/review", headers=bearer(other_reviewer),
                              json={"scores": [], "final": True}), 404)
    reviewed = client.put(f"/api/v1/proposals/{proposal_id}/review", headers=bearer(reviewer),
                          json={"scores": [{"criterion_id": criterion, "score": 4, "comment": "Sound."}],
                                "final": True})
    assert reviewed.status_code == 200 and reviewed.get_json()["submitted_at"], reviewed.get_json()
    decided = client.post(f"/api/v1/proposals/{proposal_id}/decision", headers=bearer(staff),
                          json={"decision": "approve", "note": "Well planned."})
    assert decided.status_code == 200, decided.get_json()
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == "approved"


def test_another_membership_by_id_is_404(app, client, membership_world):
    w = membership_world
    other_admin, other = org_admin(app, email="other@elsewhere.example")
    membership = make_membership(app, other, w.institute, make_tier(app, w.institute, name="Silver"))
    token = make_token(app, w.admin)
    assert_problem(client.get(f"/api/v1/memberships/{membership.id}", headers=bearer(token)), 404)
    assert_problem(client.post(f"/api/v1/memberships/{membership.id}/decision", headers=bearer(token),
                               json={"decision": "approve"}), 404)
    assert client.get(f"/api/v1/memberships/{membership.id}", headers=bearer(make_token(app, other_admin))) \
        .status_code == 200



def test_a_receipt_sent_again_with_its_key_is_recorded_once(app, client, ledger_world):
    w = ledger_world
    pledge = client.post("/api/v1/pledges", headers=bearer(make_token(app, w.admin)), json=pledge_body(w)).get_json()
    headers = bearer(make_token(app, w.recorder), **{"Idempotency-Key": "wire-7781"})
    body = {"amount_cents": 10_000_00, "received_on": today().isoformat()}
    first = client.post(f"/api/v1/pledges/{pledge['id']}/receipts", headers=headers, json=body)
    again = client.post(f"/api/v1/pledges/{pledge['id']}/receipts", headers=headers, json=body)
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    with app.app_context():
        assert db.session.get(Pledge, pledge["id"]).received_cents == 10_000_00


def test_an_unknown_institute_or_tier_is_a_422_naming_the_field(app, client, ledger_world):
    w = ledger_world
    token = make_token(app, w.admin)
    body = assert_problem(client.post("/api/v1/pledges", headers=bearer(token),
                                      json={**pledge_body(w), "institute": "no-such-institute"}), 422)
    assert list(body["errors"]) == ["institute"]
    body = assert_problem(client.post("/api/v1/memberships", headers=bearer(token), json={
        "organization_id": w.organization.id, "institute": w.institute.slug, "tier_id": 999_999, "statement": "",
        "contact_name": "Pat", "contact_email": "pat@acme.example"}), 422)
    assert list(body["errors"]) == ["tier_id"]


def test_a_change_of_tier_is_asked_for_and_decided(app, client, membership_world):
    w = membership_world
    silver = make_tier(app, w.institute, name="Silver", fee_cents=1_000_000)
    other_institute = make_institute(app, slug="other-institute", acronym="OI")
    elsewhere = make_tier(app, other_institute, name="Elsewhere")
    membership = make_membership(app, w.organization, w.institute, w.tier)
    member, staff = make_token(app, w.admin), make_token(app, w.staff)
    url = f"/api/v1/memberships/{membership.id}/tier"
    # a tier of another institute, or the one it has, is refused at tier_id; staff may not ask for the member
    assert list(assert_problem(client.post(url, headers=bearer(member), json={"tier_id": elsewhere.id}),
                               422)["errors"]) == ["tier_id"]
    assert list(assert_problem(client.post(url, headers=bearer(member), json={"tier_id": w.tier.id}),
                               422)["errors"]) == ["tier_id"]
    assert_problem(client.post(url, headers=bearer(staff), json={"tier_id": silver.id}), 403)
    asked = client.post(url, headers=bearer(member), json={"tier_id": silver.id})
    assert asked.status_code == 200 and asked.get_json()["requested_tier_id"] == silver.id
    assert asked.get_json()["tier_id"] == w.tier.id  # not changed until the institute decides
    # the member cannot decide their own request; staff do, once
    assert_problem(client.post(f"{url}/decision", headers=bearer(member), json={"decision": "approve"}), 403)
    decided = client.post(f"{url}/decision", headers=bearer(staff), json={"decision": "approve"})
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["tier_id"] == silver.id and decided.get_json()["requested_tier_id"] is None
    assert_problem(client.post(f"{url}/decision", headers=bearer(staff), json={"decision": "approve"}), 409)
    with app.app_context():
        assert db.session.get(Membership, membership.id).tier_id == silver.id
