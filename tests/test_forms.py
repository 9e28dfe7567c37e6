"""The rules every form and every address apply to what is typed, before any service or query sees it."""

import re

import pytest
from wtforms import (
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    PasswordField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

import portal.auth.forms
import portal.institute_admin.forms
import portal.institutes.forms
import portal.ledger.forms
import portal.memberships.forms
import portal.organizations.forms
import portal.proposals.forms
from portal.forms import DateWindow, Form, optional_record_id, record_id
from portal.models import Role
from portal.models.base import MAX_ID
from tests.conftest import login
from tests.factories import make_user

BLUEPRINT_FORMS = (portal.auth.forms, portal.institute_admin.forms, portal.institutes.forms, portal.ledger.forms,
                   portal.memberships.forms, portal.organizations.forms, portal.proposals.forms)


class TextForm(Form):
    line = StringField()
    text = TextAreaField()
    hidden = HiddenField()
    secret = PasswordField()
    email = EmailField()
    search = SearchField()
    choice = SelectField(coerce=record_id, choices=[SelectChoice(1, "One"), SelectChoice(MAX_ID, "Last")])
    maybe = SelectField(coerce=optional_record_id, choices=[SelectChoice("", "Any"), SelectChoice(2, "Two")])


def submit(app, **data) -> TextForm:
    values = {"choice": "1", "maybe": "", **data}
    with app.test_request_context("/", method="POST", data=values):
        form = TextForm()
        form.validate()
        return form


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f"])
def test_every_kind_of_text_field_refuses_control_characters_with_a_message(app, character):
    form = submit(app, **dict.fromkeys(("line", "text", "hidden", "secret", "email", "search"), f"a{character}b"))
    for name in ("line", "text", "hidden", "secret", "email", "search"):
        assert form[name].errors == ["Remove the invisible control characters (such as a NUL byte) from this text"]


def test_tabs_line_breaks_and_any_script_are_text(app):
    form = submit(app, line="Zoë\tMüller", text="First line\r\nSecond line\n", search="東京 💥 \u200b")
    assert form.errors == {}


@pytest.mark.parametrize("value", [str(MAX_ID + 1), str(2**63), "9" * 5000, "0", "-1", "1.0", "\u0661", "\uff11", " ",
                                   "x"])
def test_an_id_no_row_can_have_is_choose_one_of_the_options(app, value):
    form = submit(app, choice=value, maybe=value)
    assert form.choice.errors == ["Choose one of the options"]
    assert form.maybe.errors == ["Choose one of the options"]


def test_ids_within_range_are_read(app):
    form = submit(app, choice=str(MAX_ID), maybe="2")
    assert form.errors == {} and (form.choice.data, form.maybe.data) == (MAX_ID, 2)
    assert optional_record_id("") is None and record_id(7) == 7


def test_every_date_typed_into_a_form_has_a_window():
    """A date field without a window lets 9999-12-31 reach the services' date arithmetic."""
    dated = []
    for module in BLUEPRINT_FORMS:
        for form_class in vars(module).values():
            if isinstance(form_class, type) and issubclass(form_class, Form):
                for name, unbound in vars(form_class).items():
                    if getattr(unbound, "field_class", None) in (DateField, DateTimeLocalField):
                        windows = [v for v in unbound.kwargs.get("validators", []) if isinstance(v, DateWindow)]
                        assert windows, f"{form_class.__name__}.{name} has no DateWindow"
                        dated.append(name)
    assert {"received_on", "starts_on", "opens_at", "closes_at"} <= set(dated)


def test_an_id_beyond_what_a_row_can_have_matches_no_address(client, app):
    """Every route with an id answers 404 for 2^31 and beyond, signed in or not, before any view or query."""
    admin = make_user(app, email="network@example.com", role=Role.NETWORK_ADMIN)
    login(client, admin.email)
    routes = [rule for rule in app.url_map.iter_rules() if "int" in re.findall(r"<(\w+):", rule.rule)]
    assert len(routes) > 20
    for rule in routes:
        for number in (MAX_ID + 1, 2**63, 10**30):
            path = re.sub(r"<int:\w+>", str(number), rule.rule).replace("<slug>", "america-makes")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method)
                assert response.status_code == 404, (method, path, response.status_code)
    assert client.get(f"/organizations/{MAX_ID}").status_code == 404  # the largest id is an id like any other
