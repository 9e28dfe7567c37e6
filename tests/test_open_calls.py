"""Open calls across the network at /calls, with filters and each call's rules, and the feeds: new calls (Atom)
and deadlines (iCalendar: calls closing, workforce sessions)."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import CallStatus, Institute
from portal.models.base import utcnow
from portal.services import workforce_changes
from tests import workforce_factories as wf
from tests.factories import make_call, make_institute, make_staff

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def calls_world(app, ctx):
    first = make_institute(app, slug="metals", acronym="MET")
    second = make_institute(app, slug="fibres", acronym="FIB")
    db.session.execute(sa.update(Institute).where(Institute.id == second.id).values(focus="Composites"))
    staff_one, staff_two = make_staff(app, first), make_staff(app, second)
    soon = make_call(app, staff_one, first, title="Printed alloys", closes_at=utcnow() + timedelta(days=5),
                     max_federal_cents=500_000_00, min_cost_share_bp=5000, min_industry=2)
    later = make_call(app, staff_two, second, title="Recycled fibre", closes_at=utcnow() + timedelta(days=60))
    make_call(app, staff_one, first, title="Secret draft", status=CallStatus.DRAFT)
    make_call(app, staff_one, first, title="Already closed", status=CallStatus.CLOSED)
    program = wf.program(staff_two, second, title="Composite layup workshop")
    session = wf.session(staff_two, program, starts_in=timedelta(days=20))
    db.session.commit()
    return type("World", (), {"soon": soon, "later": later, "session": session, "staff": staff_two})


def test_open_calls_across_the_network_with_their_rules(client, calls_world):
    page = client.get("/calls")
    assert page.status_code == 200
    text = page.data.decode()
    assert "Printed alloys" in text and "Recycled fibre" in text
    assert "Secret draft" not in text and "Already closed" not in text
    assert text.index("Printed alloys") < text.index("Recycled fibre")  # closing soonest first
    assert "Federal request of at most $500,000 per project." in text
    assert "Cost share of at least 0.5 times the federal request." in text
    assert "at least 2 industry" in text
    assert 'href="/calls"' in client.get("/").data.decode()  # in the header


def test_open_calls_filter_by_institute_area_and_closing_soon(client, calls_world):
    by_institute = client.get("/calls?institute=fibres").data.decode()
    assert "Recycled fibre" in by_institute and "Printed alloys" not in by_institute
    by_area = client.get("/calls?area=Composites").data.decode()
    assert "Recycled fibre" in by_area and "Printed alloys" not in by_area
    soon = client.get("/calls?closing_soon=y").data.decode()
    assert "Printed alloys" in soon and "Recycled fibre" not in soon
    bad = client.get("/calls?institute=nowhere")
    assert bad.status_code == 422 and "Choose one of the options" in bad.data.decode()


def test_the_atom_feed_lists_new_calls_with_their_rules(client, calls_world):
    response = client.get("/calls/feed.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    titles = [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]
    assert "MET: Printed alloys" in titles and "FIB: Recycled fibre" in titles and "MET: Already closed" in titles
    assert not any("Secret draft" in t for t in titles)
    entry = next(e for e in feed.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == "MET: Printed alloys")
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/calls/{calls_world.soon.id}")
    assert "Federal request of at most $500,000" in entry.findtext(f"{ATOM}summary")


def test_the_calendar_has_calls_closing_and_sessions(client, calls_world):
    response = client.get("/calls/deadlines.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "public, max-age=900"  # calendars poll
    calendar = icalendar.Calendar.from_ical(response.data)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    closing = events[next(uid for uid in events if uid.startswith(f"call-{calls_world.soon.id}-"))]
    assert str(closing["summary"]) == "Call closes: MET, Printed alloys"
    assert abs(closing.decoded("dtstart") - calls_world.soon.closes_at) < timedelta(seconds=1)
    session = events[next(uid for uid in events if uid.startswith(f"session-{calls_world.session.id}@"))]
    assert "Composite layup workshop" in str(session["summary"])
    assert not any("Already closed" in str(e["summary"]) for e in events.values())
    again = icalendar.Calendar.from_ical(client.get("/calls/deadlines.ics").data)
    assert {str(e["uid"]) for e in again.walk("VEVENT")} == set(events)  # a subscribed calendar updates in place


def test_the_calendar_is_made_once_per_version_and_a_change_shows_at_once(client, calls_world):
    from tests.test_home import Counter

    first = client.get("/calls/deadlines.ics")
    with Counter() as counter:
        again = client.get("/calls/deadlines.ics")
    assert again.data == first.data and len(counter.statements) <= 1  # the version's query, no rebuild
    unchanged = client.get("/calls/deadlines.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and not unchanged.data  # a polling calendar downloads nothing
    staff = db.session.get(type(calls_world.staff), calls_world.staff.id)
    workforce_changes.cancel_session(staff, db.session.merge(calls_world.session), "Room flooded")
    db.session.commit()
    changed = client.get("/calls/deadlines.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    uids = {str(e["uid"]) for e in icalendar.Calendar.from_ical(changed.data).walk("VEVENT")}
    assert f"session-{calls_world.session.id}@localhost" not in uids
    assert any(uid.startswith(f"call-{calls_world.soon.id}-") for uid in uids)
