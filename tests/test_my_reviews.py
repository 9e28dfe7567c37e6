"""A reviewer's own reviews: a page of them at a time (/reviews and /api/v1/me/reviews), and on the account
page only a count and the few due soonest, however many a reviewer was asked for."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import ProposalStatus, Review, User
from portal.services import proposals
from portal.services.clock import today
from tests.api_helpers import assert_problem, bearer, count_queries, make_token
from tests.conftest import login
from tests.factories import make_call, make_proposal

ASKED = 7


@pytest.fixture
def reviewer_of_seven(app, proposal_world):
    """Rev One asked to review seven proposals (due in 7, 6, ... 1 days; the third submitted), Rev Two one.
    (Made in an app context of its own: requests in a test must not share one, or they share `g`.)"""
    w = proposal_world
    call = make_call(app, w.staff, w.institute)
    reviews = []
    for n in range(1, ASKED + 1):
        proposal = make_proposal(app, w.engineer, call, w.lead, title=f"Proposal {n}")
        with app.app_context():
            staff, proposal = db.session.get(User, w.staff.id), db.session.merge(proposal)
            proposals._move(staff, proposal, ProposalStatus.SUBMITTED, [ProposalStatus.DRAFT])
            reviews.append(proposals.assign_reviewer(staff, proposal, db.session.get(User, w.reviewer_one.id),
                                                     due_on=today() + timedelta(days=ASKED + 1 - n)).id)
            if n == ASKED:
                proposals.assign_reviewer(staff, proposal, db.session.get(User, w.reviewer_two.id))
            db.session.commit()
    with app.app_context():
        third = db.session.get(Review, reviews[2])
        proposals.save_review(db.session.get(User, w.reviewer_one.id), third,
                              {third.proposal.call.criteria[0].id: (4, "Sound.")}, final=True)
        db.session.commit()
    w.reviews = reviews
    return w


def titles(html: str) -> list[str]:
    return [f"Proposal {n}" for n in range(ASKED, 0, -1) if f">Proposal {n}</a>" in html]


def test_a_reviewer_lists_their_own_reviews_newest_first_and_by_state(app, reviewer_of_seven):
    client = app.test_client()
    login(client, "reviewer1@example.com")
    every = client.get("/reviews")
    assert every.status_code == 200
    html = every.get_data(as_text=True)
    assert titles(html) == [f"Proposal {n}" for n in range(ASKED, 0, -1)]  # newest first
    assert "7 reviews." in html and "Submitted " in html
    to_do = client.get("/reviews?state=todo").get_data(as_text=True)
    assert "Proposal 3<" not in to_do and len(titles(to_do)) == ASKED - 1 and "6 reviews." in to_do
    submitted = client.get("/reviews?state=submitted").get_data(as_text=True)
    assert titles(submitted) == ["Proposal 3"] and "1 review." in submitted
    # Rev Two sees only their one review, never Rev One's
    other = app.test_client()
    login(other, "reviewer2@example.com")
    assert titles(other.get("/reviews").get_data(as_text=True)) == ["Proposal 7"]


def test_a_filter_that_is_not_offered_is_named_next_to_its_field_and_lists_nothing(app, reviewer_of_seven):
    client = app.test_client()
    login(client, "reviewer1@example.com")
    refused = client.get("/reviews?state=everything")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="state-error"' in html and "Choose one of the options" in html and titles(html) == []


def test_signed_out_the_list_asks_to_sign_in(client):
    response = client.get("/reviews")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_account_page_counts_reviews_and_lists_the_five_due_soonest(app, reviewer_of_seven):
    client = app.test_client()
    login(client, "reviewer1@example.com")
    html = client.get("/account").get_data(as_text=True)
    assert "You have 6 reviews to do and have submitted 1." in html and 'href="/reviews"' in html
    # due soonest first: Proposal 7 (in 1 day), 6, 5, 4, then 2 (3 is submitted); Proposal 1 left for /reviews
    listed = [n for n in range(1, ASKED + 1) if f">Proposal {n}</a>: to do" in html]
    assert sorted(listed, key=lambda n: html.index(f">Proposal {n}</a>")) == [7, 6, 5, 4, 2]


def test_the_api_pages_a_reviewers_reviews_with_their_scores(app, reviewer_of_seven):
    client = app.test_client()
    token = make_token(app, reviewer_of_seven.reviewer_one, "read")
    seen, cursor, pages = [], None, 0
    while True:
        response = client.get("/api/v1/me/reviews", headers=bearer(token),
                              query_string={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        body = response.get_json()
        assert len(body["items"]) <= 3
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and [r["id"] for r in seen] == list(reversed(reviewer_of_seven.reviews))
    scored = next(r for r in seen if r["id"] == reviewer_of_seven.reviews[2])
    assert scored["submitted_at"] and [s["score"] for s in scored["scores"]] == [4] and scored["criteria"]
    to_do = client.get("/api/v1/me/reviews?state=todo", headers=bearer(token)).get_json()["items"]
    assert len(to_do) == ASKED - 1 and all(r["submitted_at"] is None for r in to_do)
    body = assert_problem(client.get("/api/v1/me/reviews?state=everything", headers=bearer(token)), 422)
    assert "state" in body["errors"]


def test_seven_reviews_cost_the_queries_one_does(app, reviewer_of_seven):
    w = reviewer_of_seven
    one, seven = app.test_client(), app.test_client()
    login(one, "reviewer2@example.com")
    login(seven, "reviewer1@example.com")
    for url in ("/reviews", "/account"):
        count_queries(app, one, url), count_queries(app, seven, url)  # warm: what is kept per person is kept
        assert count_queries(app, one, url) == count_queries(app, seven, url), url
    tokens = {who: make_token(app, who, "read") for who in (w.reviewer_one, w.reviewer_two)}
    api = app.test_client()
    assert (count_queries(app, api, "/api/v1/me/reviews", bearer(tokens[w.reviewer_two]))
            == count_queries(app, api, "/api/v1/me/reviews", bearer(tokens[w.reviewer_one])))


def test_a_reviewer_declares_a_conflict_through_the_api(app, reviewer_of_seven):
    from portal.models import Notification

    w = reviewer_of_seven
    client = app.test_client()
    with app.app_context():
        proposal_id = db.session.get(Review, w.reviews[0]).proposal_id
    url = f"/api/v1/proposals/{proposal_id}/review/conflict"
    writer = make_token(app, w.reviewer_one)
    # a read token may not; no reason is refused at its field; Rev Two was never asked for this one
    assert_problem(client.post(url, headers=bearer(make_token(app, w.reviewer_one, "read")),
                               json={"reason": "I consult for the lead."}), 403)
    body = assert_problem(client.post(url, headers=bearer(writer), json={"reason": "  "}), 422)
    assert list(body["errors"]) == ["reason"]
    assert client.post(url, headers=bearer(make_token(app, w.reviewer_two)),
                       json={"reason": "Not mine."}).status_code in (403, 404)
    with app.app_context():
        assert db.session.get(Review, w.reviews[0]) is not None  # nothing changed yet
    declared = client.post(url, headers=bearer(writer), json={"reason": "I consult for the lead."})
    assert declared.status_code == 204 and declared.get_data() == b""
    with app.app_context():
        assert db.session.get(Review, w.reviews[0]) is None
        told = db.session.scalars(sa.select(Notification.message).where(Notification.user_id == w.staff.id)).all()
        assert any("declared a conflict of interest" in message for message in told)
    ids = [r["id"] for r in client.get("/api/v1/me/reviews", headers=bearer(writer)).get_json()["items"]]
    assert w.reviews[0] not in ids and len(ids) == ASKED - 1
