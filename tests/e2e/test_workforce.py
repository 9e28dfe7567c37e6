"""Workforce in a real browser: staff publish a program and a session, a participant finds it without signing
in and signs up, staff take attendance, record completion and issue the credential, an employer checks it,
and an outreach day moves the public snapshot; axe-core checks every new page."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.models.base import utcnow
from portal.services.ledger import fiscal_year_of
from tests import factories
from tests.e2e.test_journeys import PASSWORD, choose, expect, heading, sign_in
from tests.e2e.test_memberships import sign_out

pytestmark = pytest.mark.e2e

SLUG = "america-makes"
STAFF_EMAIL, PARTICIPANT_EMAIL = "rosa.vega@americamakes.example", "sam.okafor@example.com"


def make_people(app) -> None:
    from portal.extensions import db
    from portal.models import Institute

    with app.app_context():
        institute = db.session.scalar(sa.select(Institute).where(Institute.slug == SLUG))
        factories.make_staff(app, institute, email=STAFF_EMAIL, full_name="Rosa Vega", password=PASSWORD)
        factories.make_user(app, email=PARTICIPANT_EMAIL, full_name="Sam Okafor", password=PASSWORD)
        db.session.commit()


def session_has_started(app) -> None:
    """Time passes: the session's start moves an hour into the past."""
    from portal.extensions import db
    from portal.models import ProgramSession

    with app.app_context():
        session = db.session.scalar(sa.select(ProgramSession))
        session.starts_at, session.ends_at = utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=2)
        db.session.commit()


def status(page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def test_from_publishing_a_program_to_a_verified_credential(new_page, live_server, audit):
    make_people(live_server.app)
    page = new_page()
    sign_in(page, STAFF_EMAIL, PASSWORD)

    page.goto(f"/institutes/{SLUG}/programs")
    expect(heading(page, "America Makes: workforce and education")).to_be_visible()
    audit(page, "the institute's programs")
    page.get_by_role("link", name="Publish a program").click()
    page.get_by_label("Title").fill("Powder-bed fusion operator")
    page.get_by_label("Kind of program").select_option(label="Course")
    choose(page, "Format", "In person")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#audiences-error")).to_contain_text("Choose at least one audience")
    audit(page, "the program form with an error")
    page.locator("label", has_text="Veterans").click()
    page.locator("label", has_text="Incumbent workers").click()
    page.get_by_label("Credential offered (optional)").fill("Powder-Bed Operator, Level 1")
    page.get_by_role("button", name="Publish").click()
    expect(status(page, "The program is published.")).to_be_visible()

    start = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT10:00")
    page.get_by_label("Starts (US Eastern time)").fill(start)
    page.get_by_label("Ends (US Eastern time)").fill(start.replace("T10", "T08"))
    page.get_by_label("Seats").fill("0")
    page.get_by_role("button", name="Add the session").click()
    expect(page.locator("#ends_at-error")).to_contain_text("end after it starts")
    audit(page, "the session form with an error")
    page.get_by_label("Ends (US Eastern time)").fill(start.replace("T10", "T16"))
    page.get_by_label("Seats").fill("12")
    page.get_by_label("Place (if in person)").fill("Youngstown Business Incubator")
    page.get_by_label("State or territory (if in person)").select_option(label="Ohio")
    page.get_by_role("button", name="Add the session").click()
    expect(status(page, "The session is scheduled.")).to_be_visible()
    audit(page, "a program's sessions")
    sign_out(page)

    # Without signing in, the program is found by audience and state.
    page.goto("/programs")
    page.get_by_label("Audience").select_option(label="Veterans")
    page.get_by_label("Held in").select_option(label="Ohio")
    page.get_by_role("button", name="Find programs").click()
    expect(page.get_by_role("link", name="Powder-bed fusion operator")).to_be_visible()
    audit(page, "the program finder")
    page.get_by_role("link", name="Powder-bed fusion operator").click()
    expect(page.get_by_text("12 of 12 places left.")).to_be_visible()
    audit(page, "a program, not signed in")

    sign_in(page, PARTICIPANT_EMAIL, PASSWORD)
    page.goto("/programs")
    page.get_by_role("link", name="Powder-bed fusion operator").click()
    page.get_by_label("Which describes you?").select_option(label="Veterans")
    audit(page, "a program, signed in")
    page.get_by_role("button", name=re.compile("^Sign up")).click()
    expect(status(page, "You have a place.")).to_be_visible()
    expect(heading(page, "My sessions")).to_be_visible()
    expect(page.get_by_role("cell", name="Place confirmed")).to_be_visible()
    audit(page, "my sessions")
    sign_out(page)

    session_has_started(live_server.app)
    sign_in(page, STAFF_EMAIL, PASSWORD)
    page.goto(f"/institutes/{SLUG}/programs")
    page.get_by_role("link", name="Powder-bed fusion operator").click()
    page.get_by_role("link", name=re.compile("^Roster")).click()
    expect(page.get_by_role("rowheader", name=re.compile("Sam Okafor"))).to_be_visible()
    audit(page, "the roster")
    page.get_by_role("button", name="Mark attended for Sam Okafor").click()
    expect(status(page, "Attendance recorded.")).to_be_visible()
    page.get_by_role("button", name="Record completion for Sam Okafor").click()
    expect(status(page, "Completion recorded.")).to_be_visible()
    page.get_by_role("button", name="Issue Powder-Bed Operator, Level 1 to Sam Okafor").click()
    expect(status(page, "The credential is issued.")).to_be_visible()
    code = page.get_by_role("link", name=re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")).inner_text()
    audit(page, "the roster with a credential")

    # An outreach day moves the public snapshot.
    page.goto(f"/institutes/{SLUG}/programs")
    page.get_by_label("Event").fill("Manufacturing Day at Chaney High School")
    page.get_by_label("Held on").fill(utcnow().date().isoformat())
    page.get_by_label("K-12 students").fill("300")
    page.get_by_role("button", name="Record the counts").click()
    expect(status(page, "The outreach event's counts are recorded.")).to_be_visible()
    sign_out(page)

    page.goto("/credentials")
    audit(page, "the credential check")
    page.get_by_label("Verification code").fill(code.lower())
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_text("This credential is genuine")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Powder-Bed Operator, Level 1")
    expect(page.get_by_role("main")).not_to_contain_text("Sam")
    audit(page, "a verified credential")

    page.goto("/snapshot")
    by_year = page.locator("#table-workforce_by_fiscal_year")
    year = by_year.get_by_role("row").filter(has=page.get_by_role("rowheader", name=str(fiscal_year_of(
        utcnow().date())), exact=True))
    expect(year.get_by_role("cell").first).to_have_text("300")
    expect(year.get_by_role("cell").nth(4)).to_have_text("fewer than 10")  # the one veteran
    # the only institute with K-12 students: beside the others' zeros and the year's total it is withheld
    table = page.locator("#table-workforce_by_institute")
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="America Makes", exact=True))
    expect(row.get_by_role("cell").first).to_have_text("withheld")
    expect(row.get_by_role("cell").nth(4)).to_have_text("fewer than 10")
    audit(page, "the snapshot with workforce figures")


def test_find_sign_up_and_cancel_without_javascript(new_page, live_server):
    from portal.extensions import db
    from portal.models import Institute, Program
    from portal.services import workforce, workforce_listing
    from tests.workforce_factories import program, session

    app = live_server.app
    with app.app_context():
        institute = db.session.scalar(sa.select(Institute).where(Institute.slug == SLUG))
        staff = factories.make_staff(app, institute, email="noscript.staff@americamakes.example")
        session(staff, program(staff, institute, title="Welding for veterans", audiences=["veteran"]), capacity=1)
        factories.make_user(app, email="noscript@example.com", full_name="Noor Script", password=PASSWORD)
        taken = factories.make_user(app, email="first.in.line@example.com")
        db.session.commit()
    page = new_page(java_script_enabled=False)
    page.goto("/programs")
    search = page.get_by_role("search", name="Programs")
    search.get_by_label("Audience").select_option(label="Veterans")
    search.get_by_label("Credential").select_option(label="Offers a credential")
    search.get_by_role("button", name="Find programs").click()
    expect(page).to_have_url(re.compile(r"audience=veteran"))
    page.get_by_role("link", name="Welding for veterans").click()
    expect(page.get_by_text("1 of 1 places left.")).to_be_visible()
    program_url = page.url

    with app.app_context():  # someone else takes the last place first
        welding = db.session.scalar(sa.select(Program).where(Program.title == "Welding for veterans"))
        workforce.sign_up(db.session.merge(taken), workforce_listing.sessions_of(welding)[0], "veteran")
        db.session.commit()
    sign_in(page, "noscript@example.com", PASSWORD)
    page.goto(program_url)
    expect(page.get_by_text("Full: new sign-ups join the waitlist.")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Sign up")).click()
    expect(status(page, "you are on the waitlist")).to_be_visible()
    expect(page.get_by_role("cell", name="Waitlist, number 1")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Cancel Welding for veterans")).click()
    expect(status(page, "The sign-up has been cancelled.")).to_be_visible()
    expect(page.get_by_role("cell", name="Cancelled")).to_be_visible()



def test_staff_change_a_program_change_a_session_and_cancel_it(new_page, live_server, audit):
    """The pages staff use to change what they published, with and without errors, each checked by axe."""
    from portal.extensions import db
    from portal.models import Institute
    from portal.services import workforce
    from tests.workforce_factories import program, session

    app = live_server.app
    with app.app_context():
        institute = db.session.scalar(sa.select(Institute).where(Institute.slug == SLUG))
        staff = factories.make_staff(app, institute, email="changes.staff@americamakes.example", password=PASSWORD)
        sess = session(staff, program(staff, institute, title="Laser cutting safety"), capacity=2)
        for email in ("first.seat@example.com", "second.seat@example.com", "waiting@example.com"):
            workforce.sign_up(factories.make_user(app, email=email), sess, "incumbent")
        db.session.commit()
    page = new_page()
    sign_in(page, "changes.staff@americamakes.example", PASSWORD)
    page.goto(f"/institutes/{SLUG}/programs")
    page.get_by_role("link", name="Laser cutting safety").click()

    page.get_by_role("link", name="change the program").click()
    expect(heading(page, "Change Laser cutting safety")).to_be_visible()
    audit(page, "changing a program")
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.locator("#title-error")).to_be_visible()
    audit(page, "changing a program, with an error")
    page.get_by_label("Title").fill("Laser cutter safety")
    page.get_by_role("button", name="Save the changes").click()
    expect(status(page, "The program is changed.")).to_be_visible()

    page.get_by_role("link", name=re.compile("^Change or cancel")).click()
    expect(heading(page, "Change the session of Laser cutter safety")).to_be_visible()
    expect(page.get_by_text("2 of 2 places taken.")).to_be_visible()
    audit(page, "changing a session")
    page.get_by_label("Seats").fill("1")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.locator("#capacity-error")).to_contain_text("2 places are taken")
    audit(page, "changing a session, with an error")
    page.get_by_label("Seats").fill("3")
    page.get_by_role("button", name="Save the changes").click()
    expect(status(page, "The session is changed.")).to_be_visible()
    expect(page.get_by_text("3 of 3 places taken.")).to_be_visible()  # the one waiting got the new seat

    page.goto(page.url.replace("/roster", "/edit"))
    page.get_by_role("button", name="Cancel the session").click()
    expect(page.locator("#reason-error")).to_contain_text("reason for cancelling")
    audit(page, "cancelling a session, with an error")
    page.get_by_label("Reason").fill("The laser is being repaired")
    page.get_by_role("button", name="Cancel the session").click()
    expect(status(page, "The session is cancelled; 3 sign-ups cancelled and told.")).to_be_visible()
    expect(page.get_by_role("cell", name="Cancelled")).to_be_visible()
    audit(page, "a program's sessions, one cancelled")
