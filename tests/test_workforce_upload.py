"""Attendance uploaded as CSV: a dry run lists every row's problem by row number, then all rows or none."""

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, ProgramSession, Signup
from portal.services import DomainError, summary, workforce, workforce_upload
from tests.conftest import login
from tests.factories import make_institute, make_staff, make_user
from tests.workforce_factories import now, program, session


@pytest.fixture
def scene(app):
    """A session that started an hour ago: ann and bob have places, cy waits, dee is not signed up."""
    with app.app_context():
        institute = make_institute(app)
        staff = make_staff(app, institute, email="staff@example.com")
        sess = session(staff, program(staff, institute), capacity=2)
        for name in ("ann", "bob", "cy"):
            workforce.sign_up(make_user(app, email=f"{name}@example.com"), sess, "incumbent")
        make_user(app, email="dee@example.com")
        sess.starts_at, sess.ends_at = now() - timedelta(hours=1), now() + timedelta(hours=1)
        db.session.commit()
        return sess.id


def recorded() -> list[tuple[str, bool, bool]]:
    return sorted((s.user.email, s.attended, s.completed_at is not None) for s in db.session.scalars(sa.select(Signup)))


GOOD = "email,attended,completed\nann@example.com,yes,yes\nBOB@example.com,no,no\n"


def test_a_dry_run_lists_every_rows_problem_and_writes_nothing(app, scene):
    text = ("email,attended,completed\nann@example.com,yes,yes\ndee@example.com,yes,no\ncy@example.com,yes,no\n"
            "bob@example.com,maybe,no\nann@example.com,yes,no\nbob@example.com,no,yes\nbob@example.com\n")
    with app.app_context():
        check = workforce_upload.check(db.session.get(ProgramSession, scene), text)
        assert [p.split(":")[0] for p in check.problems] == ["Row 3", "Row 4", "Row 5", "Row 6", "Row 7", "Row 8"]
        assert "not signed up" in check.problems[0] and "waitlist" in check.problems[1]
        assert "yes or no" in check.problems[2] and "already on row 2" in check.problems[3]
        assert "did not attend" in check.problems[4] and "1 cells" in check.problems[5]
        with pytest.raises(DomainError):
            workforce_upload.record(make_user(app), db.session.get(ProgramSession, scene), text)
        db.session.rollback()
        assert all(not attended for _, attended, _ in recorded())


@pytest.mark.parametrize("text, problem", [
    ("name,attended\nann,yes\n", "Row 1: the columns must be email, attended, completed"),
    ("email,attended,completed\n", "no rows"),
    ("", "Row 1: the columns"),
])
def test_wrong_columns_or_an_empty_sheet(app, scene, text, problem):
    with app.app_context():
        check = workforce_upload.check(db.session.get(ProgramSession, scene), text)
        assert len(check.problems) == 1 and problem in check.problems[0]


def test_a_session_not_yet_started_takes_no_attendance(app, scene):
    with app.app_context():
        sess = db.session.get(ProgramSession, scene)
        check = workforce_upload.check(sess, GOOD, now=sess.starts_at - timedelta(minutes=1))
        assert check.problems == ["The session has not started yet, so no attendance can be recorded"]


def test_through_the_page_check_then_confirm_records_every_row(app, client, scene):
    login(client, "staff@example.com")
    url = f"/sessions/{scene}/attendance"
    bad = client.post(url, data={"file": (io.BytesIO(b"email,attended,completed\nzed@example.com,yes,no\n"), "a.csv")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "Row 2: zed@example.com is not signed up" in bad.get_data(as_text=True)
    good = client.post(url, data={"file": (io.BytesIO(GOOD.encode()), "a.csv")}, content_type="multipart/form-data")
    page = good.get_data(as_text=True)
    assert good.status_code == 200 and "Record all 2 rows" in page
    with app.app_context():
        assert not any(attended for _, attended, _ in recorded())  # the dry run wrote nothing
        events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    response = client.post(url, data={"confirm": "yes", "text": GOOD}, follow_redirects=True)
    assert "Attendance recorded for 2 rows." in response.get_data(as_text=True)
    with app.app_context():
        assert recorded() == [("ann@example.com", True, True), ("bob@example.com", False, False),
                              ("cy@example.com", False, False)]
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events + 2
        assert summary.problems() == []


def test_a_confirmation_that_no_longer_checks_records_nothing(app, client, scene):
    login(client, "staff@example.com")
    tampered = GOOD + "dee@example.com,yes,no\n"
    response = client.post(f"/sessions/{scene}/attendance", data={"confirm": "yes", "text": tampered})
    assert response.status_code == 422 and "Nothing was recorded" in response.get_data(as_text=True)
    with app.app_context():
        assert not any(attended for _, attended, _ in recorded())


def test_someone_elses_session_cannot_be_uploaded_to(app, client, scene):
    institute = make_institute(app, slug="other", acronym="OT")
    outsider = make_staff(app, institute)
    login(client, outsider.email)
    response = client.post(f"/sessions/{scene}/attendance", data={"confirm": "yes", "text": GOOD})
    assert response.status_code == 403
