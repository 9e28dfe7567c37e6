"""The proposals of one's organizations: a page of them at a time (/proposals), and on the account page only
the newest few, however many an organization has."""

import pytest

from portal.extensions import db
from portal.models import Organization, Proposal, ProposalStatus, User
from portal.services import proposals
from tests.conftest import login
from tests.factories import make_call, make_proposal

MADE = 7


@pytest.fixture
def seven_proposals(app, proposal_world):
    """Big Aero leads seven proposals (the 2nd and 4th submitted). Tiny Parts is invited to the 6th and accepts;
    State Tech is invited to the 5th and declines."""
    w = proposal_world
    call = make_call(app, w.staff, w.institute)
    for n in range(1, MADE + 1):
        proposal = make_proposal(app, w.engineer, call, w.lead, title=f"Proposal {n}")
        with app.app_context():
            proposal, engineer = db.session.merge(proposal), db.session.get(User, w.engineer.id)
            if n in (2, 4):
                proposals._move(db.session.get(User, w.staff.id), proposal, ProposalStatus.SUBMITTED,
                                [ProposalStatus.DRAFT])
            if n in (5, 6):
                invited = db.session.get(Organization, (w.uni if n == 5 else w.small).id)
                partner = proposals.invite(engineer, proposal, invited)
                answerer = db.session.get(User, (w.uni_admin if n == 5 else w.small_admin).id)
                proposals.respond(answerer, partner, accept=n == 6)
            db.session.commit()
    return w


def titles(html: str) -> list[int]:
    return [n for n in range(MADE, 0, -1) if f">Proposal {n}</a>" in html]


def signed_in(app, email: str):
    client = app.test_client()
    login(client, email)
    return client


def test_a_member_lists_their_organizations_proposals_newest_first_and_by_status(app, seven_proposals):
    engineer = signed_in(app, "engineer@bigaero.example")
    html = engineer.get("/proposals").get_data(as_text=True)
    assert titles(html) == [7, 6, 5, 4, 3, 2, 1] and "7 proposals." in html and "Big Aero" in html
    submitted = engineer.get("/proposals?status=submitted").get_data(as_text=True)
    assert titles(submitted) == [4, 2] and "2 proposals." in submitted
    # a partner's people see the proposal they joined; a declined invitation is not theirs
    assert titles(signed_in(app, "admin@tiny.example").get("/proposals").get_data(as_text=True)) == [6]
    assert titles(signed_in(app, "dean@statetech.example").get("/proposals").get_data(as_text=True)) == []
    # someone of no organization has none, and is told so
    outsider = signed_in(app, "outsider@example.com").get("/proposals")
    assert outsider.status_code == 200 and "0 proposals." in outsider.get_data(as_text=True)


def test_a_status_that_is_not_offered_is_named_next_to_its_field_and_lists_nothing(app, seven_proposals):
    refused = signed_in(app, "engineer@bigaero.example").get("/proposals?status=everything")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="status-error"' in html and "Choose one of the options" in html and titles(html) == []


def test_signed_out_the_list_asks_to_sign_in(client):
    response = client.get("/proposals")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_account_page_lists_the_five_newest_and_leads_to_the_rest(app, seven_proposals):
    html = signed_in(app, "engineer@bigaero.example").get("/account").get_data(as_text=True)
    assert titles(html) == [7, 6, 5, 4, 3] and 'href="/proposals"' in html


def test_the_list_pages_by_keyset_to_its_end(app, seven_proposals, monkeypatch):
    from portal import paging

    monkeypatch.setattr(paging, "PER_PAGE", 3)  # pages of three, read by the view at each request
    with app.app_context():
        assert db.session.query(Proposal).count() == MADE
    engineer = signed_in(app, "engineer@bigaero.example")
    url, seen, pages = "/proposals", [], 0
    while url:
        html = engineer.get(url).get_data(as_text=True)
        seen += titles(html)
        pages += 1
        marker = 'rel="next"'
        if marker not in html:
            break
        link = html[:html.index(marker)].rsplit('href="', 1)[1].split('"', 1)[0]
        url = link.replace("&amp;", "&")
    assert seen == [7, 6, 5, 4, 3, 2, 1] and pages == 3


def test_the_api_lists_the_proposals_of_ones_organizations_a_page_at_a_time(app, seven_proposals):
    from tests.api_helpers import assert_problem, bearer, make_token

    client = app.test_client()
    token = make_token(app, seven_proposals.engineer, "read")
    seen, cursor, pages = [], None, 0
    while True:
        body = client.get("/api/v1/me/proposals", headers=bearer(token),
                          query_string={"limit": 3, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += [p["title"] for p in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == [f"Proposal {n}" for n in range(MADE, 0, -1)]
    submitted = client.get("/api/v1/me/proposals?status=submitted", headers=bearer(token)).get_json()["items"]
    assert [p["title"] for p in submitted] == ["Proposal 4", "Proposal 2"]
    partner = make_token(app, seven_proposals.small_admin, "read")
    assert [p["title"] for p in client.get("/api/v1/me/proposals", headers=bearer(partner)).get_json()["items"]] == [
        "Proposal 6"]
    assert client.get("/api/v1/me/proposals", headers=bearer(make_token(app, seven_proposals.outsider, "read"))
                      ).get_json() == {"items": [], "next_cursor": None}
    assert "status" in assert_problem(client.get("/api/v1/me/proposals?status=everything", headers=bearer(token)),
                                      422)["errors"]
    assert_problem(client.get("/api/v1/me/proposals"), 401)
