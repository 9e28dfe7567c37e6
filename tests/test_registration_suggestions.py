"""Registration suggests organizations already on the portal before it creates one with a close name."""

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Affiliation, AffiliationStatus, Organization, User
from portal.services import organizations
from tests.factories import make_organization

FORM = {"full_name": "Robin Rivet", "email": "robin@gla.example", "password": "granite lantern orchard velvet",
        "organization": "Great Lakes Aerostructures, Inc.", "sector": "industry", "size": "small", "state": "MI"}


def count_organizations(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Organization.id)))


def test_close_names_are_matched_but_not_the_same_name_or_strangers(app, ctx):
    make_organization(app, name="Great Lakes Aerostructures")
    make_organization(app, name="Great Plains Bakery")
    make_organization(app, name="Hidden Aerostructures Co", listed=False)
    assert organizations.close_matches("Great Lakes Aerostructures, Inc.") == ["Great Lakes Aerostructures"]
    assert organizations.close_matches("great lakes aerostructure") == ["Great Lakes Aerostructures"]
    assert organizations.close_matches("Great Lakes Aerostructures") == []  # that is the organization itself
    assert organizations.close_matches("Lakeside Foundry") == []
    make_organization(app, name="Lakeside Plant 2")
    assert organizations.close_matches("Lakeside Plant 3") == []  # numbered sites are different organizations
    assert organizations.close_matches("Lakeside Plant 2 LLC") == ["Lakeside Plant 2"]
    assert organizations.close_matches("Hidden Aerostructures") == []  # unlisted names are not shown
    assert organizations.core_name("The Acme Co.") == "acme"


def test_registration_asks_did_you_mean_and_joins_the_one_chosen(client, app):
    existing = make_organization(app, name="Great Lakes Aerostructures")
    page = client.get("/register")
    assert b'list="organization-suggestions"' in page.data
    assert b'data-suggest="/organizations/suggest.json"' in page.data
    response = client.post("/register", data=FORM)
    assert response.status_code == 422
    text = response.data.decode()
    assert "Organizations with close names are on the portal already" in text
    assert 'value="Great Lakes Aerostructures"' in text
    assert "None of these: add “Great Lakes Aerostructures, Inc.” as a new organization" in text
    assert count_organizations(app) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(User)) is None  # nothing created yet

    response = client.post("/register", data={**FORM, "organization_match": "Great Lakes Aerostructures"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/register/check-email")
    assert count_organizations(app) == 1
    with app.app_context():
        affiliation = db.session.scalar(sa.select(Affiliation))
        assert affiliation.organization_id == existing.id and affiliation.status == AffiliationStatus.PENDING


def test_a_person_may_say_their_organization_is_new_after_all(client, app):
    make_organization(app, name="Great Lakes Aerostructures")
    response = client.post("/register", data={**FORM, "organization": "Great Lakes Aerostructure Holdings",
                                              "organization_match": "new"})
    assert response.status_code == 302
    assert count_organizations(app) == 2


def test_a_forged_choice_is_refused_next_to_the_question(client, app):
    make_organization(app, name="Great Lakes Aerostructures")
    make_organization(app, name="Secret Unrelated Org")
    response = client.post("/register", data={**FORM, "organization_match": "Secret Unrelated Org"})
    assert response.status_code == 422 and b"choose yours, or say that it is new" in response.data
    assert count_organizations(app) == 2


def test_a_name_with_no_close_match_registers_at_once(client, app):
    make_organization(app, name="Great Lakes Aerostructures")
    response = client.post("/register", data={**FORM, "organization": "Lakeside Foundry"})
    assert response.status_code == 302
    assert count_organizations(app) == 2
