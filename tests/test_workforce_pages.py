"""Workforce pages: the public finder and credential check, signing up, my sessions, the staff's pages,
and privacy (someone else's sign-ups are 404, staff pages of another institute 403)."""

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, Credential, Program, ProgramSession, Signup, User
from portal.services import workforce
from portal.workforce.routes import PER_PAGE
from tests.conftest import login
from tests.factories import make_institute, make_staff, make_user
from tests.test_snapshot import selects, statements_of
from tests.workforce_factories import now, program, session


@pytest.fixture
def scene(app):
    """An institute with staff and a published program with two sessions (one in Michigan, online later)."""
    with app.app_context():
        institute = make_institute(app)
        other = make_institute(app, slug="other-institute", acronym="OI")
        staff = make_staff(app, institute, email="staff@example.com")
        outsider = make_staff(app, other, email="outsider@example.com")
        prog = program(staff, institute, audiences=["veteran", "incumbent"])
        first = session(staff, prog, capacity=1, state="MI")
        online = program(staff, institute, title="Robotics for teachers", kind="educator_training", credential="",
                         audiences=["educator"], format="online")
        later = session(staff, online, online=True, starts_in=timedelta(days=40))
        db.session.commit()
        return {"institute": institute.slug, "staff": staff.email, "outsider": outsider.email,
                "program": prog.id, "session": first.id, "online_program": online.id, "later": later.id}


def test_the_finder_filters_without_signing_in(client, scene):
    page = client.get("/programs").get_data(as_text=True)
    assert "Metal 3D printing basics" in page and "Robotics for teachers" in page
    for query, shown, hidden in [
        ("audience=educator", "Robotics for teachers", "Metal 3D printing"),
        ("format=in_person", "Metal 3D printing", "Robotics for teachers"),
        ("state=MI", "Metal 3D printing", "Robotics for teachers"),
        ("credential=yes", "Metal 3D printing", "Robotics for teachers"),
        ("institute=other-institute", None, "Metal 3D printing"),
        (f"starting={(now() + timedelta(days=20)).date().isoformat()}", "Robotics for teachers", "Metal 3D printing"),
    ]:
        page = client.get(f"/programs?{query}").get_data(as_text=True)
        assert shown is None or shown in page, query
        assert hidden not in page, query


def test_a_bad_date_filter_shows_a_message_not_an_error(client, scene):
    response = client.get("/programs?starting=31-31-2026")
    assert response.status_code == 200
    assert "usa-error-message" in response.get_data(as_text=True)


def test_signing_up_needs_an_account_then_gives_a_seat_then_the_waitlist(app, client, scene):
    program_page = client.get(f"/programs/{scene['program']}").get_data(as_text=True)
    assert "Sign in" in program_page and "1 of 1 places left" in program_page
    response = client.post(f"/sessions/{scene['session']}/signup", data={"category": "veteran"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    first, second = make_user(app, email="first@example.com"), make_user(app, email="second@example.com")
    login(client, first.email)
    response = client.post(f"/sessions/{scene['session']}/signup", data={"category": "veteran"}, follow_redirects=True)
    assert "You have a place." in response.get_data(as_text=True)
    client.post("/logout")
    login(client, second.email)
    response = client.post(f"/sessions/{scene['session']}/signup", data={"category": "incumbent"},
                           follow_redirects=True)
    assert "Waitlist, number 1" in response.get_data(as_text=True)


def test_a_category_not_offered_is_shown_beside_the_field(app, client, scene):
    login(client, make_user(app).email)
    response = client.post(f"/sessions/{scene['session']}/signup", data={"category": "k12"})
    assert response.status_code == 422
    assert 'id="category-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Signup.id))) == 0


def test_my_sessions_cancel_and_someone_elses_sign_up_is_not_found(app, client, scene):
    me, other = make_user(app), make_user(app)
    with app.app_context():
        mine = workforce.sign_up(db.session.merge(me), db.session.get(ProgramSession, scene["session"]), "veteran")
        theirs = workforce.sign_up(db.session.merge(other), db.session.get(ProgramSession, scene["later"]), "educator")
        db.session.commit()
        mine_id, theirs_id = mine.id, theirs.id
    login(client, me.email)
    page = client.get("/my/sessions").get_data(as_text=True)
    assert "Metal 3D printing basics" in page and "Robotics for teachers" not in page
    assert client.post(f"/signups/{theirs_id}/cancel").status_code == 404
    assert client.post(f"/signups/{theirs_id}/attendance", data={"value": "yes"}).status_code == 404
    response = client.post(f"/signups/{mine_id}/cancel", follow_redirects=True)
    assert "The sign-up has been cancelled." in response.get_data(as_text=True)
    # a participant cannot mark their own attendance
    assert client.post(f"/signups/{mine_id}/attendance", data={"value": "yes"}).status_code == 403


def test_staff_pages_are_the_institutes_own(app, client, scene):
    assert client.get(f"/institutes/{scene['institute']}/programs").status_code == 302  # to sign in
    login(client, scene["outsider"])
    assert client.get(f"/institutes/{scene['institute']}/programs").status_code == 403
    assert client.get(f"/sessions/{scene['session']}/roster").status_code == 403
    assert client.get(f"/programs/{scene['program']}/manage").status_code == 403
    assert client.post(f"/programs/{scene['program']}/sessions", data={}).status_code == 403


def test_staff_publish_a_program_and_see_errors_beside_the_fields(app, client, scene):
    login(client, scene["staff"])
    url = f"/institutes/{scene['institute']}/programs/new"
    response = client.post(url, data={"title": "Welding", "kind": "course", "format": "in_person", "cost": "12e3"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="cost-error"' in page
    response = client.post(url, data={"title": "Welding", "kind": "course", "format": "in_person", "cost": "0",
                                      "audiences": ["incumbent", "veteran"], "credential": "AWS D1.1"})
    assert response.status_code == 302
    with app.app_context():
        made = db.session.scalar(sa.select(Program).where(Program.title == "Welding"))
        assert [a.value for a in made.audience_values] == ["incumbent", "veteran"]


def test_a_session_ending_before_it_starts_is_shown_beside_the_field(app, client, scene):
    login(client, scene["staff"])
    starts = (now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    ends = (now() + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/programs/{scene['program']}/sessions", data={
        "starts_at": starts, "ends_at": ends, "capacity": "0", "place": "Hall", "state": "OH"})
    assert response.status_code == 422 and 'id="ends_at-error"' in response.get_data(as_text=True)
    response = client.post(f"/programs/{scene['program']}/sessions", data={
        "starts_at": starts, "ends_at": starts, "capacity": "0", "place": "Hall", "state": "OH"})
    assert 'id="ends_at-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ProgramSession.id))) == 2


def test_from_attendance_to_a_public_credential_that_names_nobody(app, client, scene):
    person = make_user(app, full_name="Quinn Participant", email="quinn@example.com")
    with app.app_context():
        sess = db.session.get(ProgramSession, scene["session"])
        signup = workforce.sign_up(db.session.merge(person), sess, "veteran")
        db.session.commit()
        signup_id = signup.id
        # the session starts: move it into the past as time would
        sess.starts_at, sess.ends_at = now() - timedelta(hours=2), now() - timedelta(hours=1)
        db.session.commit()
    login(client, scene["staff"])
    roster = client.get(f"/sessions/{scene['session']}/roster").get_data(as_text=True)
    assert "Quinn Participant" in roster and "quinn@example.com" in roster
    assert client.post(f"/signups/{signup_id}/credential", follow_redirects=True).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Credential.id))) == 0
    for step in ("attendance", "complete", "credential"):
        response = client.post(f"/signups/{signup_id}/{step}", data={"value": "yes"})
        assert response.status_code == 302, step
    with app.app_context():
        code = db.session.scalar(sa.select(Credential.code))
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action == "workforce.credential_issued")) == 1
    client.post("/logout")
    page = client.get(f"/credentials/{code}").get_data(as_text=True)
    assert code in page and "Certified Technician" in page and "TI Institute" in page
    assert "Quinn" not in page and "quinn@" not in page
    assert client.get("/credentials/NOPE-NOPE-NOPE").status_code == 404
    assert client.get(f"/credentials?code={code.lower()}").headers["Location"].endswith(f"/credentials/{code}")


def test_outreach_counts_from_the_staff_page(app, client, scene):
    login(client, scene["staff"])
    url = f"/institutes/{scene['institute']}/outreach"
    response = client.post(url, data={"title": "School day", "held_on": now().date().isoformat(), "k12": "0"})
    assert response.status_code == 422 and 'id="k12-error"' in response.get_data(as_text=True)
    response = client.post(url, data={"title": "School day", "held_on": now().date().isoformat(), "k12": "300"})
    assert response.status_code == 302


def test_no_inline_script_or_style_on_the_new_pages(app, client, scene):
    login(client, scene["staff"])
    for url in ["/programs", f"/programs/{scene['program']}", "/my/sessions",
                f"/institutes/{scene['institute']}/programs",
                f"/institutes/{scene['institute']}/programs/new", f"/programs/{scene['program']}/manage",
                f"/sessions/{scene['session']}/roster", "/credentials"]:
        page = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert "style=" not in page, url


def test_the_finder_and_the_roster_take_as_many_queries_for_many_rows_as_for_few(app, client, scene):
    def queries(url: str) -> int:
        with statements_of(app) as statements:
            assert client.get(url).status_code == 200
        return len(selects(statements))

    def grow():
        with app.app_context():
            institute = db.session.scalar(sa.select(Program).where(Program.id == scene["program"])).institute
            staff = db.session.scalar(sa.select(User).where(User.email == scene["staff"]))
            for n in range(PER_PAGE + 5):  # more than a page of programs
                session(staff, program(staff, institute, title=f"Extra {n}"), starts_in=timedelta(days=8 + n))
            sess = db.session.get(ProgramSession, scene["session"])
            for _ in range(5):
                workforce.sign_up(make_user(app), sess, "veteran")
            db.session.commit()

    login(client, scene["staff"])
    with app.app_context():
        workforce.sign_up(make_user(app), db.session.get(ProgramSession, scene["session"]), "veteran")
        db.session.commit()
    few = queries("/programs"), queries(f"/sessions/{scene['session']}/roster")
    grow()
    assert (queries("/programs"), queries(f"/sessions/{scene['session']}/roster")) == few
    first = client.get("/programs").text
    after = re.search(r'href="(/programs\?after=[^"]+)" rel="next"', first)
    assert after, "a second page of programs"
    second = html.unescape(after.group(1))
    # the header's count of what waits is kept until the network changes: compare pages both served with it kept
    assert queries(second) == queries("/programs")
    titles = set(re.findall(r'id="program-\d+">.*?>([^<]+)</a>', first))
    later = set(re.findall(r'id="program-\d+">.*?>([^<]+)</a>', client.get(second).text))
    assert len(titles) == PER_PAGE and later and not titles & later  # the second page goes on where the first ended
