"""The one way a view runs a change, and the pressed button read through the form."""

from flask import get_flashed_messages
from wtforms import StringField

from portal.forms import Form
from portal.services import DomainError
from portal.views import refusal, run_change
from tests.conftest import login
from tests.factories import make_institute, make_membership, make_staff, make_tier, org_admin


class NameForm(Form):
    name = StringField()


def post(app, data):
    return app.test_request_context("/", method="POST", data=data)


def refuse(field, status=422):
    def change():
        raise DomainError(field, "Not like that", status=status)
    return change


def test_a_refusal_naming_a_field_is_shown_beside_it_with_the_services_status(app):
    with post(app, {"name": "x"}):
        form = NameForm()
        response = run_change(form, refuse("name", 409), success="Saved", redirect_to="/done", back="/page",
                              render=lambda status: ("page", status))
        assert response == ("page", 409) and form.name.errors == ["Not like that"]
        assert get_flashed_messages() == []


def test_a_refusal_naming_no_field_is_flashed_and_sends_the_person_back(app):
    with post(app, {"name": "x"}):
        response = run_change(NameForm(), refuse(None, 409), success="Saved", redirect_to="/done", back="/page",
                              render=lambda status: ("page", status))
        assert (response.status_code, response.location) == (303, "/page")
        assert get_flashed_messages(with_categories=True) == [("error", "Not like that")]


def test_without_back_every_refusal_is_shown_on_the_page(app):
    with post(app, {"name": "x"}):
        form = NameForm()
        assert run_change(form, refuse(None), success="Saved", redirect_to="/done",
                          render=lambda status: ("page", status)) == ("page", 422)
        assert form.form_errors == ["Not like that"]


def test_a_change_that_passes_runs_then_and_flashes_its_message(app):
    ran = []
    with post(app, {"name": "x"}):
        response = run_change(NameForm(), lambda: 7, success=lambda n: f"Made {n}", redirect_to=lambda n: f"/n/{n}",
                              then=ran.append)
        assert (response.status_code, response.location, ran) == (302, "/n/7", [7])
        assert get_flashed_messages() == ["Made 7"]
    with post(app, {"name": "x"}):
        run_change(NameForm(), lambda: 7, success=None, redirect_to="/")
        assert get_flashed_messages() == []


def test_refusal_answers_what_a_read_only_check_says(app):
    assert refusal(lambda: None) is None
    assert refusal(refuse("name")).message == "Not like that"


def test_a_button_value_no_page_offers_is_a_bad_request(client, app):
    institute = make_institute(app)
    staff = make_staff(app, institute, email="staff@institute.example")
    _, organization = org_admin(app)
    membership = make_membership(app, organization, institute, make_tier(app, institute), status="pending")
    login(client, staff.email)
    assert client.post(f"/memberships/{membership.id}/decision", data={"decision": "maybe"}).status_code == 400
    assert client.post(f"/memberships/{membership.id}/decision", data={}).status_code == 400
    assert client.post(f"/memberships/{membership.id}/tier/decision", data={"decision": "sure"}).status_code == 400
    assert client.get(f"/memberships/{membership.id}").status_code == 200  # nothing was decided
    response = client.post(f"/memberships/{membership.id}/decision", data={"decision": "decline", "term_years": "1"})
    assert response.status_code == 422 and b"Give the reason for declining" in response.data
