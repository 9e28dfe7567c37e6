"""Errors a screen-reader user finds: after a failed submit the page title starts with "Error: ", a skip
link leads to the error summary, every message sits beside its field, and a form reports all its errors in
one round, amounts among them."""

import re

import pytest
import sqlalchemy as sa
from wtforms.validators import ValidationError

from portal.extensions import db
from portal.forms import Cents
from portal.models import Proposal, Tier
from tests.conftest import login
from tests.test_proposals import open_call


def title(html: str) -> str:
    match = re.search(r"<title>([^<]*)</title>", html)
    assert match
    return match.group(1)


def error_beside(html: str, field: str) -> str:
    match = re.search(rf'<span class="usa-error-message" id="{field}-error">([^<]*)</span>', html)
    assert match, f"no error beside {field}"
    return match.group(1)


def test_a_proposal_with_an_empty_title_shows_the_error_beside_the_title(client, app, proposal_world):
    call_id = open_call(client, proposal_world)
    login(client, proposal_world.engineer.email)
    response = client.post(f"/calls/{call_id}/proposals", data={"organization": proposal_world.lead.id, "title": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_beside(html, "title") == "Enter a working title"
    assert '<a href="#title">Enter a working title</a>' in html  # and in the summary, linked to the field
    assert title(html).startswith("Error: ")
    assert '<a class="usa-skipnav" href="#error-summary">Skip to the errors in the form</a>' in html
    assert 'id="error-summary" role="alert"' in html and 'tabindex="-1"' in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0


def test_a_tier_reports_every_error_in_one_round(client, app, membership_world):
    login(client, membership_world.staff.email)
    response = client.post(f"/institutes/{membership_world.institute.slug}/tiers",
                           data={"name": "", "annual_fee": "-5,000", "named_seats": "2000"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_beside(html, "name") == "Enter the tier&#39;s name"
    assert error_beside(html, "annual_fee") == "Enter a positive amount"
    assert error_beside(html, "named_seats") == "Enter a number from 0 to 1,000"
    assert title(html).startswith("Error: ")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Tier.id))) == 1  # the world's own tier only


def test_a_negative_fee_alone_is_still_refused_beside_its_field(client, app, membership_world):
    login(client, membership_world.staff.email)
    response = client.post(f"/institutes/{membership_world.institute.slug}/tiers",
                           data={"name": "Bronze", "annual_fee": "-1", "named_seats": "1"})
    assert response.status_code == 422
    assert error_beside(response.get_data(as_text=True), "annual_fee") == "Enter a positive amount"


def test_a_page_without_errors_has_a_plain_title_and_no_skip_link_to_errors(client, membership_world):
    login(client, membership_world.staff.email)
    html = client.get(f"/institutes/{membership_world.institute.slug}/manage").get_data(as_text=True)
    assert not title(html).startswith("Error")
    assert "Skip to the errors" not in html


class Field:
    name = "amount"

    def __init__(self, data):
        self.data = data


@pytest.mark.parametrize("validator, text, message", [
    (Cents(), "-5", "Enter a positive amount"),
    (Cents(), "0", "Enter an amount greater than zero"),
    (Cents(), "1e6", "Write the amount in full, such as 1,000,000, not in scientific notation"),
    (Cents(), "", "Enter an amount in dollars, such as 15,000 or 15000.00"),
    (Cents(signed=True), "-abc", "Enter an amount in dollars, such as 15,000 or 15000.00"),
])
def test_cents_refuses_what_parse_cents_refuses_with_its_message(validator, text, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        validator(None, Field(text))


@pytest.mark.parametrize("validator, text", [(Cents(), "1,250.50"), (Cents(allow_zero=True), "0"),
                                             (Cents(signed=True), "-1,000")])
def test_cents_accepts_what_parse_cents_accepts(validator, text):
    validator(None, Field(text))
