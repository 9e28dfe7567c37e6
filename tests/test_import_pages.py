"""The import pages: network administrators only, a report by row and column, two people for money, undo."""

import io

import sqlalchemy as sa

from portal.extensions import db
from portal.models import FederalObligation, ImportBatch, ImportStatus, Organization, Role
from tests.conftest import login
from tests.factories import make_user
from tests.test_imports import FEDERAL, ORGS, world  # noqa: F401 (the fixture)


def post_file(client, kind, text, decision="import", filename="file.csv"):
    return client.post("/imports/", data={"kind": kind, "decision": decision,
                                          "file": (io.BytesIO(text.encode()), filename)},
                       content_type="multipart/form-data")


def organizations(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Organization))


def test_people_other_than_network_administrators_never_reach_the_import(app, client, world):  # noqa: F811
    assert client.get("/imports/").status_code == 302  # to sign in
    member = make_user(app, email="member@example.com")
    staff = make_user(app, email="staff@example.com", role=Role.MEMBER, second_factor=True)
    for person in (member, staff):
        client.post("/logout")
        login(client, person.email)
        assert client.get("/imports/").status_code == 403
        assert post_file(client, "organizations", ORGS).status_code == 403
        assert client.get("/imports/templates/organizations.csv").status_code == 403
        assert client.post("/imports/1/undo").status_code == 403
    assert organizations(app) == 0


def test_a_file_with_errors_is_reported_fixed_and_imported_then_undone(app, client, world):  # noqa: F811
    login(client, "first@example.com")
    page = client.get("/imports/")
    assert page.status_code == 200 and b"Check (dry run)" in page.data
    bad = ORGS.replace("academic", "university").replace("ABCDEF123456", "TOO-SHORT")
    answer = post_file(client, "organizations", bad, "check")
    assert answer.status_code == 422
    assert b"2 problems in the file" in answer.data
    assert b'<th scope="row">2</th><td>uei</td>' in answer.data
    assert b'<th scope="row">3</th><td>sector</td>' in answer.data
    assert post_file(client, "organizations", bad).status_code == 422 and organizations(app) == 0
    checked = post_file(client, "organizations", ORGS, "check")
    assert checked.status_code == 200 and b"would create\n    2 organizations" in checked.data
    assert organizations(app) == 0
    done = post_file(client, "organizations", ORGS)
    assert done.status_code == 302 and organizations(app) == 2
    batch_page = client.get(done.headers["Location"])
    assert b"Undo this batch" in batch_page.data
    again = post_file(client, "organizations", ORGS)
    assert again.status_code == 422 and b"imported already" in again.data
    undone = client.post(done.headers["Location"] + "/undo")
    assert undone.status_code == 302 and organizations(app) == 0


def test_money_waits_for_another_network_administrator(app, client, world):  # noqa: F811
    login(client, "first@example.com")
    uploaded = post_file(client, "federal", FEDERAL)
    assert uploaded.status_code == 302
    detail = client.get(uploaded.headers["Location"])
    assert b"another network administrator approves it" in detail.data and b"Approve and import" not in detail.data
    assert client.post(uploaded.headers["Location"] + "/approve").status_code == 403
    client.post("/logout")
    login(client, "second@example.com")
    assert b"Approve and import" in client.get(uploaded.headers["Location"]).data
    assert client.post(uploaded.headers["Location"] + "/approve").status_code == 302
    with app.app_context():
        batch = db.session.scalar(sa.select(ImportBatch))
        assert batch.status == ImportStatus.COMMITTED and batch.approved_by_id == world["second"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FederalObligation)) == 1


def test_a_template_per_kind_and_the_columns_page(app, client, world):  # noqa: F811
    login(client, "first@example.com")
    template = client.get("/imports/templates/receipts.csv")
    assert template.status_code == 200
    assert template.data.decode().splitlines()[0] == "receipt_ref,pledge_ref,amount,received_on,verified_on,note"
    assert client.get("/imports/templates/nothing.csv").status_code == 404
    assert b"pledge_ref" in client.get("/imports/columns").data


def test_an_oversized_upload_is_answered_413_with_a_page(make_app):
    small = make_app(MAX_CONTENT_LENGTH=2000)
    admin = make_user(small, email="admin@example.com", role=Role.NETWORK_ADMIN)
    client = small.test_client()
    login(client, admin.email)
    answer = post_file(client, "organizations", "x" * 5000)
    assert answer.status_code == 413 and b"File too large" in answer.data
    assert organizations(small) == 0


def test_a_file_of_another_type_is_answered_422_with_the_reason_and_nothing_written(app, client, world):  # noqa: F811
    login(client, "first@example.com")
    for decision in ("check", "import"):
        answer = post_file(client, "organizations", "%PDF-1.7", decision, filename="members.pdf")
        assert answer.status_code == 422
        assert b"A .pdf file cannot be imported: save it as CSV UTF-8 (.csv) or as Excel (.xlsx)" in answer.data
    assert organizations(app) == 0
