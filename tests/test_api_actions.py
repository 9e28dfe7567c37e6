"""What the pages offer beyond the happy path, through the API: withdrawing a proposal or a membership
application, cancelling a pledge, reversing a ledger entry. The same services and authorization as the pages:
404 for what the caller cannot see, 403 for what they see but may not do, a 422 naming the field, and an
Idempotency-Key on the money changes."""

import sqlalchemy as sa

from portal.extensions import db
from portal.models import LedgerEntry, Membership, Pledge
from portal.services.clock import today
from tests.api_helpers import assert_problem, bearer, make_token
from tests.factories import affiliate, make_call, make_institute, make_proposal, make_staff, make_user, org_admin
from tests.test_api_work import pledge_body


def entries(app, pledge_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(LedgerEntry.kind).where(LedgerEntry.pledge_id == pledge_id)
                                       .order_by(LedgerEntry.id)))


def test_the_lead_withdraws_a_proposal_and_its_cost_share_is_released(app, client, proposal_world):
    w = proposal_world
    proposal = make_proposal(app, w.engineer, make_call(app, w.staff, w.institute), w.lead)
    base = f"/api/v1/proposals/{proposal.id}"
    lead, staff, outsider = (make_token(app, u) for u in (w.engineer, w.staff, w.outsider))
    lead_row = client.get(f"{base}/partners", headers=bearer(lead)).get_json()[0]
    share = client.post(f"{base}/partners/{lead_row['id']}/cost-share", headers=bearer(make_token(app, w.lead_admin)),
                        json={"amount_cents": 10_000_00})
    assert share.status_code == 201, share.get_json()
    assert_problem(client.post(f"{base}/withdraw", headers=bearer(outsider)), 404)
    assert_problem(client.post(f"{base}/withdraw", headers=bearer(staff)), 403)  # the institute sees it
    assert_problem(client.post(f"{base}/withdraw", headers=bearer(make_token(app, w.engineer, "read"))), 403)
    withdrawn = client.post(f"{base}/withdraw", headers=bearer(lead))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert_problem(client.post(f"{base}/withdraw", headers=bearer(lead)), 409)
    assert entries(app, share.get_json()["pledge_id"]) == ["pledge", "release"]


def test_an_organization_withdraws_its_application(app, client, membership_world):
    w = membership_world
    admin = make_token(app, w.admin)
    applied = client.post("/api/v1/memberships", headers=bearer(admin), json={
        "organization_id": w.organization.id, "institute": w.institute.slug, "tier_id": w.tier.id,
        "statement": "We make parts.", "contact_name": "Pat", "contact_email": "pat@acme.example"}).get_json()
    path = f"/api/v1/memberships/{applied['id']}/withdraw"
    colleague = make_user(app, email="colleague@acme.example")
    affiliate(app, colleague, w.organization)
    stranger, _ = org_admin(app, email="other@elsewhere.example")
    assert_problem(client.post(path, headers=bearer(make_token(app, stranger)), json={}), 404)
    assert_problem(client.post(path, headers=bearer(make_token(app, colleague)), json={}), 403)  # not an admin
    assert_problem(client.post(path, headers=bearer(make_token(app, w.staff)), json={}), 403)  # the institute
    bad = assert_problem(client.post(path, headers=bearer(admin), json={"reason": 5}), 422)
    assert list(bad["errors"]) == ["reason"]
    withdrawn = client.post(path, headers=bearer(admin), json={"reason": "Joining next year instead"})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert_problem(client.post(path, headers=bearer(admin), json={}), 409)
    with app.app_context():
        assert db.session.get(Membership, applied["id"]).close_reason == "Joining next year instead"


def test_a_pledge_is_cancelled_once_whatever_the_retries(app, client, ledger_world):
    w = ledger_world
    admin = make_token(app, w.admin)
    pledge = client.post("/api/v1/pledges", headers=bearer(admin), json=pledge_body(w)).get_json()
    path = f"/api/v1/pledges/{pledge['id']}/cancel"
    stranger, _ = org_admin(app, email="other@elsewhere.example")
    assert_problem(client.post(path, headers=bearer(make_token(app, stranger)), json={"reason": "No"}), 404)
    assert_problem(client.post(path, headers=bearer(make_token(app, w.admin, "read")), json={"reason": "No"}), 403)
    unexplained = assert_problem(client.post(path, headers=bearer(admin), json={}), 422)
    assert list(unexplained["errors"]) == ["reason"]
    headers = bearer(admin, **{"Idempotency-Key": "cancel-1"})
    first = client.post(path, headers=headers, json={"reason": "Budget cut"})
    again = client.post(path, headers=headers, json={"reason": "Budget cut"})
    assert first.status_code == again.status_code == 201, first.get_json()
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["kind"] == "cancellation" and first.get_json()["amount_cents"] == 250_000_00
    assert_problem(client.post(path, headers=bearer(admin), json={"reason": "Budget cut"}), 409)  # nothing remains
    assert entries(app, pledge["id"]) == ["pledge", "cancellation"]


def test_staff_reverse_a_receipt_after_its_verification(app, client, ledger_world):
    w = ledger_world
    admin, recorder, checker = (make_token(app, u) for u in (w.admin, w.recorder, w.checker))
    pledge = client.post("/api/v1/pledges", headers=bearer(admin), json=pledge_body(w)).get_json()
    receipt = client.post(f"/api/v1/pledges/{pledge['id']}/receipts", headers=bearer(recorder),
                          json={"amount_cents": 100_000_00, "received_on": today().isoformat()}).get_json()
    verification = client.post(f"/api/v1/pledges/{pledge['id']}/receipts/{receipt['id']}/verification",
                               headers=bearer(checker)).get_json()

    def reverse(token: str, entry_id: int, pledge_id: int = pledge["id"], **headers: str):
        return client.post(f"/api/v1/pledges/{pledge_id}/entries/{entry_id}/reversal",
                           headers=bearer(token, **headers), json={"reason": "Recorded against the wrong pledge"})

    outsider = make_staff(app, make_institute(app, slug="other", acronym="OI"), email="staff@other.example")
    assert_problem(reverse(make_token(app, outsider), receipt["id"]), 404)
    assert_problem(reverse(admin, receipt["id"]), 403)  # the organization sees the pledge, the institute reverses
    assert_problem(reverse(recorder, 999_999), 404)
    assert "verification first" in assert_problem(reverse(recorder, receipt["id"]), 409)["detail"]
    unexplained = assert_problem(client.post(
        f"/api/v1/pledges/{pledge['id']}/entries/{verification['id']}/reversal", headers=bearer(recorder),
        json={"reason": " "}), 422)
    assert list(unexplained["errors"]) == ["reason"]
    undone = reverse(recorder, verification["id"])
    assert undone.status_code == 201 and undone.get_json()["reverses_id"] == verification["id"]
    first = reverse(recorder, receipt["id"], **{"Idempotency-Key": "reverse-1"})
    again = reverse(recorder, receipt["id"], **{"Idempotency-Key": "reverse-1"})
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert first.get_json()["amount_cents"] == -100_000_00
    assert_problem(reverse(recorder, receipt["id"]), 409)  # reversed already
    assert entries(app, pledge["id"]) == ["pledge", "receipt", "verification", "reversal", "reversal"]
    with app.app_context():
        found = db.session.get(Pledge, pledge["id"])
        assert (found.received_cents, found.verified_cents) == (0, 0)
