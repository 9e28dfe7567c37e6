"""The API's public reads: no token, the pages' filters, opaque cursors, a fixed number of queries whatever
the size, CORS without credentials, and problem+json for what is refused."""

from datetime import timedelta

from openapi_spec_validator import validate

from portal.extensions import db
from portal.models import Institute, User
from tests.api_helpers import assert_problem, count_queries
from tests.factories import make_call, make_institute, make_staff, make_tier
from tests.workforce_factories import program, session


def network(app, size: int, start: int = 0) -> None:
    """``size`` institutes (numbered from ``start``), each with a tier, an open call, and a program with two
    sessions to come."""
    for n in range(start, start + size):
        institute = make_institute(app, slug=f"inst-{n}", acronym=f"I{n}")
        make_tier(app, institute)
        staff = make_staff(app, institute, email=f"staff{n}@inst.example")
        make_call(app, staff, institute, closes_at=__import__("portal.models.base", fromlist=["utcnow"]).utcnow()
                  + timedelta(days=5 + n))
        with app.app_context():
            actor, found = db.session.get(User, staff.id), db.session.get(Institute, institute.id)
            made = program(actor, found)
            session(actor, made)
            session(actor, made, starts_in=timedelta(days=9))
            db.session.commit()


def test_institutes_filter_and_page_by_opaque_cursors(app, client):
    network(app, 3)
    first = client.get("/api/v1/institutes?limit=2")
    assert first.status_code == 200 and first.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in first.headers
    page = first.get_json()
    assert len(page["items"]) == 2 and page["next_cursor"] and "[" not in page["next_cursor"]
    rest = client.get(f"/api/v1/institutes?limit=2&cursor={page['next_cursor']}").get_json()
    assert [i["slug"] for i in page["items"] + rest["items"]] == ["inst-0", "inst-1", "inst-2"]
    assert rest["next_cursor"] is None
    assert [i["slug"] for i in client.get("/api/v1/institutes?q=I1").get_json()["items"]] == ["inst-1"]
    assert client.get("/api/v1/institutes?state=CA").get_json()["items"] == []
    assert_problem(client.get("/api/v1/institutes?cursor=%%%"), 400)
    assert_problem(client.get("/api/v1/institutes?limit=1000"), 422)
    assert client.get("/api/v1/institutes/inst-2").get_json()["acronym"] == "I2"
    assert_problem(client.get("/api/v1/institutes/nowhere"), 404)
    assert [t["name"] for t in client.get("/api/v1/institutes/inst-0/tiers").get_json()] == ["Gold"]


def test_calls_projects_programs_and_sessions(app, client):
    network(app, 2)
    calls = client.get("/api/v1/calls").get_json()["items"]
    assert [c["institute"] for c in calls] == ["inst-0", "inst-1"]  # closing soonest first
    assert [c["institute"] for c in client.get("/api/v1/calls?institute=inst-1").get_json()["items"]] == ["inst-1"]
    assert client.get(f"/api/v1/calls/{calls[0]['id']}").get_json()["title"] == "A call for projects"
    assert client.get("/api/v1/projects").get_json() == {"items": [], "next_cursor": None}
    assert_problem(client.get("/api/v1/projects?status=draft"), 422)
    programs = client.get("/api/v1/programs?institute=inst-0").get_json()["items"]
    assert len(programs) == 1 and len(programs[0]["sessions"]) == 2
    sessions = client.get(f"/api/v1/programs/{programs[0]['id']}/sessions").get_json()
    assert [s["capacity"] for s in sessions] == [10, 10]


def test_the_snapshot_now_and_as_of_a_fiscal_year(app, client):
    network(app, 1)
    now = client.get("/api/v1/snapshot")
    assert now.status_code == 200 and now.headers["Access-Control-Allow-Origin"] == "*"
    assert now.get_json().keys() == client.get("/snapshot.json").get_json().keys()
    assert client.get("/snapshot.json").headers["Access-Control-Allow-Origin"] == "*"  # the open data too
    body = assert_problem(client.get("/api/v1/snapshot?fy=1999"), 422)
    assert "fy" in body["errors"]


def test_cors_is_for_public_reads_only(app, client):
    preflight = client.options("/api/v1/pledges", headers={"Origin": "https://crm.example",
                                                            "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/me/organizations",
                                                           headers={"Origin": "https://crm.example"}).headers
    assert "Access-Control-Allow-Origin" not in client.get("/account", headers={"Origin": "https://x.example"}).headers


LISTS = ["/api/v1/institutes", "/api/v1/calls", "/api/v1/projects", "/api/v1/programs"]


def test_each_list_makes_as_many_queries_at_two_sizes(app, client):
    network(app, 2)
    for path in LISTS:
        client.get(path)  # the first request of an app warms what it keeps
    before = {path: count_queries(app, client, path) for path in LISTS}
    network(app, 4, start=2)
    assert {path: count_queries(app, client, path) for path in LISTS} == before


def test_the_description_is_openapi_3_1_with_a_documentation_page(app, client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["openapi"] == "3.1.0"
    assert spec.headers["Access-Control-Allow-Origin"] == "*"
    assert "/api/v1/pledges" in spec.get_json()["paths"]
    validate(spec.get_json())  # against the OpenAPI 3.1 specification's schema (openapi-spec-validator)
    assert {"/api/v1/proposals/{proposal_id}/partners", "/api/v1/pledges/{pledge_id}/cancel",
            "/api/v1/pledges/{pledge_id}/entries/{entry_id}/reversal"} <= set(spec.get_json()["paths"])
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"POST /api/v1/pledges" in docs.data and b"<script>" not in docs.data

