"""The institute directory, the home page and the seed network."""

import json

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from portal.extensions import db
from portal.models import AuditEvent, Institute
from portal.services import institutes


@pytest.fixture
def seeded(app):
    with app.app_context():
        institutes.seed(institutes.seed_records())
        db.session.commit()


def card_headings(response) -> int:
    return response.data.count(b'class="usa-card__heading"')


def test_seed_loads_the_18_institutes_and_running_it_again_changes_nothing(runner, app):
    result = runner.invoke(args=["seed"])
    assert "18 created" in result.output
    result = runner.invoke(args=["seed"])
    assert "0 created, 0 updated, 18 unchanged" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Institute.id))) == 18
        audits = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action.like("institute.%")))
        assert audits == 18
        america_makes = db.session.scalar(sa.select(Institute).where(Institute.slug == "america-makes"))
        assert america_makes.federal_base_award_cents == 30_000_000 * 100
        assert america_makes.agency == "DOD" and america_makes.state == "OH"


def test_seed_updates_a_changed_institute(ctx):
    records = institutes.seed_records()
    institutes.seed(records)
    changed = [dict(records[0], city="Pittsburgh"), *records[1:]]
    assert institutes.seed(changed) == {"created": 0, "updated": 1, "unchanged": 17}


def test_seed_data_is_complete(ctx):
    records = institutes.seed_records()
    assert len(records) == 18
    assert len({r["slug"] for r in records}) == 18
    for record in records:
        assert record["description"] and record["focus"] and len(record["state"]) == 2
        assert record["agency"] in {"DOD", "DOE", "DOC", "NASA", "NSF", "other"}


def test_home_page_shows_headline_figures(client, seeded):
    response = client.get("/")
    assert response.status_code == 200
    assert b'<span class="portal-stats__figure">18</span> institutes' in response.data
    total = sum(r["federal_base_award_usd"] for r in institutes.seed_records())
    assert f"${total:,}".encode() in response.data


def test_directory_lists_every_institute(client, seeded):
    response = client.get("/institutes/")
    assert response.status_code == 200
    assert card_headings(response) == 18
    assert b"18 institutes." in response.data


@pytest.mark.parametrize("query, expected", [
    ({"q": "additive"}, {"America Makes"}),
    ({"q": "PHOTONICS"}, {"AIM Photonics"}),
    ({"q": "cyber"}, {"MxD", "CyManII"}),
    ({"agency": "DOC"}, {"NIIMBL", "SMART USA"}),
    ({"state": "NY"}, {"AIM Photonics", "RAPID", "REMADE"}),
    ({"agency": "DOE", "state": "NY"}, {"RAPID", "REMADE"}),
    ({"focus": "Lightweight metals"}, {"LIFT"}),
    ({"q": "no such technology"}, set()),
])
def test_directory_filters_and_search(client, seeded, query, expected):
    response = client.get("/institutes/", query_string=query)
    assert response.status_code == 200
    assert card_headings(response) == len(expected)
    for acronym in expected:
        assert f">{acronym}</a></h2>".encode() in response.data


def test_search_box_is_labelled_search(client, seeded):
    response = client.get("/institutes/")
    assert b'<label class="usa-label" for="q">Search</label>' in response.data


def test_unknown_filter_value_is_reported_on_the_field(client, seeded):
    response = client.get("/institutes/", query_string={"agency": "XYZ"})
    assert b'id="agency-error"' in response.data


def test_institute_detail(client, seeded):
    response = client.get("/institutes/niimbl")
    assert response.status_code == 200
    assert b"Biopharmaceutical manufacturing" in response.data
    assert b"Department of Commerce" in response.data
    assert b"Newark, Delaware" in response.data
    assert b"$70,000,000" in response.data


def test_unknown_institute_is_404(client, seeded):
    response = client.get("/institutes/not-an-institute")
    assert response.status_code == 404
    assert b"Page not found" in response.data


def test_directory_runs_a_fixed_number_of_queries(app, client, seeded):
    statements = []

    def count_statement(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        client.get("/institutes/")
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 2, queries  # filter choices, then the institutes


def test_seed_file_is_valid_json_with_sources(ctx):
    from importlib import resources
    data = json.loads(resources.files("portal").joinpath("data/institutes.json").read_text("utf-8"))
    assert "GAO" in data["about"]
