"""The API's rate limits count per token (per address without one), an Idempotency-Key holds when two
requests with it arrive at once (PostgreSQL, real threads), and keys are forgotten after a week."""

import threading
from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import IdempotentRequest, Pledge
from portal.services import api_tokens, ledger
from portal.services.clock import today
from tests.api_helpers import assert_problem, bearer, make_token
from tests.conftest import postgres_url
from tests.factories import make_institute, make_membership, make_staff, make_tier, make_user, org_admin


def test_rate_limits_count_per_token_and_answer_problem_json(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", API_RATE_LIMIT="3 per minute")
    client = app.test_client()
    one, two = make_token(app, make_user(app), "read"), make_token(app, make_user(app), "read")
    for _ in range(3):
        assert client.get("/api/v1/me/organizations", headers=bearer(one)).status_code == 200
    body = assert_problem(client.get("/api/v1/me/organizations", headers=bearer(one)), 429)
    assert body["title"] == "Too many attempts"
    assert client.get("/api/v1/me/organizations", headers=bearer(two)).status_code == 200  # another token


def test_two_requests_with_one_key_at_once_make_one_pledge_on_postgresql(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=postgres_url())
    institute = make_institute(app)
    admin, organization = org_admin(app, email="cfo@acme.example")
    make_membership(app, organization, institute, make_tier(app, institute))
    make_staff(app, institute)
    token = make_token(app, admin)
    body = {"organization_id": organization.id, "institute": institute.slug, "amount_cents": 100_000,
            "kind": "cash", "fiscal_year": ledger.fiscal_year_of(today())}
    start, answers = threading.Barrier(4), []

    def send():
        client = app.test_client()
        start.wait()
        answers.append(client.post("/api/v1/pledges", json=body,
                                   headers=bearer(token, **{"Idempotency-Key": "one-at-a-time"})))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201] * 4, [a.get_json() for a in answers]
    assert len({a.get_json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 3
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Pledge.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(IdempotentRequest.id))) == 1


def test_keys_older_than_a_week_are_pruned_daily_and_a_retry_after_that_is_a_new_request(app, client, runner,
                                                                                           ledger_world):
    w = ledger_world
    token = make_token(app, w.admin)
    body = {"organization_id": w.organization.id, "institute": w.institute.slug, "amount_cents": 100_000,
            "kind": "cash", "fiscal_year": ledger.fiscal_year_of(today())}
    for key in ("old", "recent"):
        assert client.post("/api/v1/pledges", json=body,
                           headers=bearer(token, **{"Idempotency-Key": key})).status_code == 201
    with app.app_context():
        old = db.session.scalar(sa.select(IdempotentRequest).where(IdempotentRequest.key == "old"))
        old.created_at -= api_tokens.KEEP_KEYS + timedelta(minutes=1)
        recent = db.session.scalar(sa.select(IdempotentRequest).where(IdempotentRequest.key == "recent"))
        recent.created_at -= api_tokens.KEEP_KEYS - timedelta(minutes=1)
        db.session.commit()
    for done in ("1 done", "0 done"):  # the second run the same day finds nothing more
        result = runner.invoke(args=["jobs", "run", "api-keys-prune"])
        assert result.exit_code == 0 and done in result.output, result.output
    with app.app_context():
        assert list(db.session.scalars(sa.select(IdempotentRequest.key))) == ["recent"]
    replayed = client.post("/api/v1/pledges", json=body, headers=bearer(token, **{"Idempotency-Key": "recent"}))
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    anew = client.post("/api/v1/pledges", json=body, headers=bearer(token, **{"Idempotency-Key": "old"}))
    assert anew.status_code == 201 and "Idempotent-Replayed" not in anew.headers
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Pledge.id))) == 3
