"""Plain US English and one time convention: "December 29, 2026", installment and license, possessives that
read right, times in each person's chosen zone (US Eastern until they choose), UTC in exports."""

import io
import re
import tokenize
from datetime import UTC, date, datetime
from pathlib import Path

from portal.extensions import db
from portal.models import AuditEvent, User
from portal.services.clock import local_time, long_date
from portal.services.wording import possessive
from tests.conftest import login
from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent


def test_dates_read_month_day_year():
    assert long_date(date(2026, 12, 29)) == "December 29, 2026"
    assert long_date(date(2027, 3, 1)) == "March 1, 2027"


def test_times_are_shown_in_the_zone_with_its_name_and_daylight_saving():
    winter = datetime(2026, 12, 29, 20, 5, tzinfo=UTC)
    summer = datetime(2027, 7, 4, 16, 30, tzinfo=UTC)
    assert local_time(winter) == "December 29, 2026, 3:05 PM EST"  # US Eastern by default
    assert local_time(summer) == "July 4, 2027, 12:30 PM EDT"
    assert local_time(winter, "America/Los_Angeles") == "December 29, 2026, 12:05 PM PST"
    assert local_time(summer, "America/Phoenix") == "July 4, 2027, 9:30 AM MST"  # Arizona keeps standard time
    assert local_time(winter, "UTC") == "December 29, 2026, 8:05 PM UTC"
    assert local_time(datetime(2026, 12, 30, 2, 0, tzinfo=UTC)) == "December 29, 2026, 9:00 PM EST"  # the day before
    assert local_time(winter, "Mars/Olympus_Mons") == "December 29, 2026, 3:05 PM EST"  # unknown: Eastern


def test_possessives_of_names_ending_in_s():
    assert possessive("America Makes") == "America Makes'"
    assert possessive("Great Lakes Aerostructures") == "Great Lakes Aerostructures'"
    assert possessive("Acme Tooling") == "Acme Tooling's"


def test_a_person_chooses_their_time_zone_and_sees_times_in_it(client, app):
    user = make_user(app)
    login(client, user.email)
    page = client.get("/account").get_data(as_text=True)
    assert '<option selected value="America/New_York">Eastern</option>' in page

    response = client.post("/account/profile", data={"full_name": user.full_name, "time_zone": "America/Chicago"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).time_zone == "America/Chicago"
        event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "user.profile_updated")).one()
        assert event.details == {"time_zone": ["America/New_York", "America/Chicago"]}
    page = client.get("/account").get_data(as_text=True)
    assert re.search(r"\d{1,2}:\d\d [AP]M C[SD]T", page), "the sessions table shows Central time"
    assert not re.search(r"\d{1,2}:\d\d [AP]M E[SD]T", page)


def test_an_unknown_time_zone_is_refused_beside_the_field_and_nothing_changes(client, app):
    user = make_user(app)
    login(client, user.email)
    response = client.post("/account/profile", data={"full_name": "A New Name", "time_zone": "Europe/Paris"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="time_zone-error"' in page and "Choose a time zone from the list" in page
    with app.app_context():
        kept = db.session.get(User, user.id)
        assert (kept.time_zone, kept.full_name) == ("America/New_York", user.full_name)


def _user_facing_text() -> list[tuple[Path, str]]:
    """Template text outside {{ }} and {% %}, and Python string literals: what people read."""
    found = []
    for path in (ROOT / "templates").rglob("*"):
        if path.suffix in {".html", ".txt"}:
            found.append((path, re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", path.read_text(), flags=re.S)))
    for path in (ROOT / "portal").rglob("*.py"):
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
        strings = (re.sub(r"\{[^{}]*\}", " ", t.string) for t in tokens if t.type == tokenize.STRING
                   and not re.fullmatch(r"[\"'][\w.]*[\"']", t.string))  # a name in quotes ("instalments") is code
        found.append((path, "\n".join(strings)))  # an f-string's {expressions} are code, not text
    return found


def test_what_people_read_is_in_us_english():
    for path, text in _user_facing_text():
        for word in ("instalment", "instalments", "licence", "catalogue", "organisation", "organisations"):
            # whole words: names in the code (instalment_window, the Instalment model) are not read by people
            assert not re.search(rf"\b{word}\b", text, flags=re.I), f"{path.relative_to(ROOT)} says {word!r}"


def test_no_template_or_message_writes_a_possessive_or_a_date_by_hand():
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"\}\}'s\b", text), f"{path.relative_to(ROOT)}: use a phrase that needs no possessive"
        assert not re.search(r"\bA \{\{", text), f"{path.relative_to(ROOT)}: 'A' before a name reads 'A America'"
    for path in (ROOT / "portal").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"\}'s ", text), f"{path.relative_to(ROOT)}: use wording.possessive"
        assert "%-d %B %Y" not in text and "%B %Y" not in text, f"{path.relative_to(ROOT)}: use clock.long_date"
