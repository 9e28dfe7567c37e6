"""The public snapshot: figures, suppression, identical page/JSON/CSV, caching and a fixed query count."""

import csv
import io
import time
import zipfile
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from portal.extensions import db
from portal.models import OrgSize, Pledge, Sector, User
from portal.services import ledger, memberships
from portal.services.clock import today
from portal.services.ledger import PledgeInput
from portal.services.parsing import format_cents
from tests.conftest import login, postgres_url, redis_url
from tests.factories import make_institute, make_organization, make_staff, make_tier, make_user, org_admin


def add_member(app, institute, tier, *, pledge_cents=0, **org_fields):
    """An organization that applied and was approved through the portal's services, optionally pledging."""
    admin, organization = org_admin(app, make_organization(app, **org_fields))
    staff = make_staff(app, institute)
    with app.app_context():
        admin, organization, institute = (db.session.get(User, admin.id), db.session.merge(organization),
                                          db.session.merge(institute))
        membership = memberships.apply(admin, organization, institute, db.session.merge(tier),
                                       statement="We make parts.", contact_name="Pat", contact_email="p@example.com")
        memberships.approve(db.session.get(User, staff.id), membership)
        if pledge_cents:
            ledger.record_pledge(admin, organization, institute,
                                 PledgeInput(amount_cents=pledge_cents, kind="cash",
                                             fiscal_year=ledger.fiscal_year_of(today())), key=None)
        db.session.commit()
    return organization


@pytest.fixture
def network(app):
    institute = make_institute(app)
    tier = make_tier(app, institute)
    add_member(app, institute, tier, pledge_cents=100_00, size=OrgSize.SMALL, state="OH")
    add_member(app, institute, tier, pledge_cents=200_00, size=OrgSize.LARGE, state="MI")
    add_member(app, institute, tier, sector=Sector.ACADEMIC, state="OH", listed=False)
    return institute, tier


def table(data, name):
    return data["tables"][name]["rows"]


def test_members_by_sector_and_state_count_unlisted_members_too(client, network):
    data = client.get("/snapshot.json").json
    assert table(data, "members_by_sector")[:3] == [["industry (small)", 1, 0.333], ["industry (large)", 1, 0.333],
                                                    ["academic", 1, 0.333]]
    assert table(data, "members_by_state") == [["MI", "Michigan", 1], ["OH", "Ohio", 2]]
    overview = dict(table(data, "overview"))
    assert overview["percent of members in industry"] == 66.7
    assert overview["percent of industry members that are small"] == 50.0


def test_money_from_fewer_than_three_organizations_is_suppressed(client, app, network):
    institute, tier = network
    [row] = [r for r in table(client.get("/snapshot.json").json, "coinvestment_by_institute") if r[0] == "TI"]
    assert row[2] == 2 and row[3:6] == [None, None, None]  # two organizations pledged: hidden
    page = client.get("/snapshot").data.decode()
    assert "$100" not in page and "$200" not in page and "$300" not in page
    add_member(app, institute, tier, pledge_cents=300_00, state="PA")
    [row] = [r for r in table(client.get("/snapshot.json").json, "coinvestment_by_institute") if r[0] == "TI"]
    assert row[2:6] == [3, 600_00, 0, 0]


def test_page_json_and_csv_give_identical_numbers(client, app, network):
    institute, tier = network
    add_member(app, institute, tier, pledge_cents=300_00, state="PA")
    data = client.get("/snapshot.json").json
    archive = zipfile.ZipFile(io.BytesIO(client.get("/snapshot.csv").data))
    page = client.get("/snapshot").data.decode()
    for name, t in data["tables"].items():
        rows = list(csv.reader(io.StringIO(archive.read(f"{name}.csv").decode())))
        assert rows[0] == t["columns"], name
        assert rows[1:] == [["" if v is None else str(v) for v in row] for row in t["rows"]], name
        section = page[page.index(f'id="table-{name}"'):]
        section = section[:section.index("</table>")]
        for row in t["rows"]:
            for column, value in zip(t["columns"], row, strict=True):
                if value is None:
                    continue
                shown = format_cents(value) if column.endswith("_cents") else str(value)
                if column == "status":
                    shown = shown.replace("_", " ")  # the page says "under review" for under_review
                assert f">{shown}<" in section, (name, column, value)
    assert "README.txt" in archive.namelist() and "CC0" in archive.read("README.txt").decode()


def test_etag_makes_a_reload_cost_nothing_and_any_if_none_match_is_handled(client, app, network):
    first = client.get("/snapshot.json")
    again = client.get("/snapshot.json")
    assert first.headers["ETag"] == again.headers["ETag"]  # nothing changed, same tag
    assert "max-age" in first.headers["Cache-Control"]
    assert client.get("/snapshot.json", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.get("/snapshot.json", headers={"If-None-Match": "*"}).status_code == 304
    for junk in ('"nope"', "garbage,,\"x", "W/", ""):
        assert client.get("/snapshot.json", headers={"If-None-Match": junk}).status_code == 200
    institute, tier = network
    add_member(app, institute, tier, state="TX")
    assert client.get("/snapshot.json", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_each_institute_has_its_own_snapshot_and_unknown_ones_are_404(client, app, network):
    institute, _tier = network
    other = make_institute(app, slug="other", acronym="OI")
    add_member(app, other, make_tier(app, other), state="CA")
    mine = client.get(f"/institutes/{institute.slug}/snapshot.json").json
    assert mine["scope"] == "TI" and dict(table(mine, "overview"))["member organizations"] == 3
    assert dict(table(client.get("/snapshot.json").json, "overview"))["member organizations"] == 4
    assert client.get(f"/institutes/{institute.slug}/snapshot").status_code == 200
    assert client.get(f"/institutes/{institute.slug}/snapshot.csv").mimetype == "application/zip"
    for suffix in ("", ".json", ".csv"):
        response = client.get(f"/institutes/no-such-institute/snapshot{suffix}")
        assert response.status_code == 404


def test_charts_and_map_are_server_rendered_with_captions_and_tables(client, app, network):
    institute, tier = network
    add_member(app, institute, tier, pledge_cents=300_00, state="PA")
    recorder, checker = make_staff(app, institute), make_staff(app, institute)
    with app.app_context():
        ledger.record_federal_obligation(db.session.get(User, recorder.id), db.session.merge(institute),
                                         fiscal_year=ledger.fiscal_year_of(today()), amount_cents=1_000_00,
                                         reference="AWD-1", key=None)
        pledge = db.session.scalar(sa.select(Pledge).order_by(Pledge.id))
        receipt = ledger.record_receipt(db.session.get(User, recorder.id), pledge, amount_cents=50_00,
                                        received_on=today(), key=None)
        ledger.verify_receipt(db.session.get(User, checker.id), receipt, key=None)
        db.session.commit()
    page = client.get("/snapshot").data.decode()
    for chart in ("chart-sectors", "map", "chart-federal", "chart-verified", "chart-match"):
        assert f'role="img" aria-labelledby="{chart}-caption"' in page, chart
    assert 'aria-labelledby="map-caption"' in page and "<title>Ohio: 2</title>" in page
    assert 'id="table-members_by_state"' in page and "<script>" not in page


@contextmanager
def statements_of(app):
    """Every SQL statement ``app`` sends to its database inside the block (a list filled as they go)."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def selects(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_the_snapshot_runs_a_fixed_number_of_queries_whatever_the_size(client, app, network):
    def queries():
        with statements_of(app) as statements:
            assert client.get("/snapshot.json").status_code == 200
        return len(selects(statements))

    cold = queries()
    assert queries() == 0  # warm, within the second a visitor's version is held: nothing is read
    app.config["SNAPSHOT_VERSION_HOLD"] = 0
    assert queries() == 1  # warm and asking every time: only the version is read; the figures are kept
    institute, tier = network
    for n in range(6):
        add_member(app, institute, tier, pledge_cents=(n + 1) * 100, state="NY")
    assert queries() == cold  # a change moves the version: computed again, in as many queries as before


def test_a_revalidation_computes_nothing(client, app, network):
    app.config["SNAPSHOT_VERSION_HOLD"] = 0
    tag = client.get("/snapshot.json").headers["ETag"]
    with statements_of(app) as statements:
        assert client.get("/snapshot.json", headers={"If-None-Match": tag}).status_code == 304
    assert len(selects(statements)) == 1 and "FROM audit_events" in selects(statements)[0]  # the version only
    assert not any("summary_figures" in statement for statement in statements)


def another_app_server_changes_the_figures(app, institute) -> None:
    """What a change made by another app server (or `flask import`) looks like to this one: an audit event
    committed on a connection of its own, which this process's session never saw."""
    from portal.models import AuditEvent

    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.insert(AuditEvent).values(
            action="pledge.corrected", subject_type="pledges", subject_id=None, institute_id=institute.id,
            prev_hash="0" * 64, hash="1" * 64))


def test_a_visitor_sees_another_servers_change_within_the_hold_and_a_signed_in_person_at_once(
        client, app, network):
    institute, _tier = network
    app.config["SNAPSHOT_VERSION_HOLD"] = 0.3
    first = client.get("/snapshot.json")
    another_app_server_changes_the_figures(app, institute)
    # a visitor within the hold: the version this server read last, and so the figures kept for it
    held = client.get("/snapshot.json")
    assert held.headers["ETag"] == first.headers["ETag"]
    # a signed-in person asks the database every time, and gets the new version
    reader = app.test_client()
    login(reader, make_user(app).email)
    fresh = reader.get("/snapshot.json")
    assert fresh.headers["ETag"] != first.headers["ETag"]
    time.sleep(0.35)  # past the hold, visitors get it too
    later = client.get("/snapshot.json")
    assert later.headers["ETag"] == fresh.headers["ETag"]


def test_a_change_made_through_this_server_reaches_visitors_at_once(client, app, network):
    institute, tier = network
    app.config["SNAPSHOT_VERSION_HOLD"] = 3600  # only the commit can drop what is held
    before = client.get("/snapshot.json")
    add_member(app, institute, tier, pledge_cents=7_00, state="NY")
    after = client.get("/snapshot.json")
    assert after.headers["ETag"] != before.headers["ETag"]
    states = {row[0]: row[2] for row in table(after.json, "members_by_state")}
    assert "NY" in states and "NY" not in {row[0] for row in table(before.json, "members_by_state")}
    # a transaction rolled back writes nothing, and leaves what is held alone
    with app.app_context():
        from portal.services import audit
        audit.record(None, "test.nothing", db.session.get(User, make_user(app).id))
        db.session.rollback()
    assert client.get("/snapshot.json").headers["ETag"] == after.headers["ETag"]


def test_a_change_committed_after_a_newer_one_still_moves_the_version(app, network):
    """Two transactions take audit ids 100 and 101; 101 commits first; 100's commit must still count."""
    from portal.models import AuditEvent
    from portal.services import snapshot

    def commit_event(event_id):
        db.session.add(AuditEvent(id=event_id, action="test.change", subject_type="test", subject_id=None))
        db.session.commit()

    with app.test_request_context():
        newest = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
        commit_event(newest + 2)  # the later transaction commits first
        before = snapshot.version()
        commit_event(newest + 1)  # then the earlier one, with the lower id
        assert snapshot.version() != before


def test_the_committed_map_is_what_the_build_makes():
    from portal import maps
    assert maps.svg(maps.build()) == maps.TARGET.read_text()
    assert len(maps.state_codes()) == 51  # the 50 states and DC


def test_data_dictionary_describes_every_field(client, network):
    page = client.get("/snapshot/data").data.decode()
    data = client.get("/snapshot.json").json
    for name, t in data["tables"].items():
        assert f"<code>{name}</code>" in page
        for column in t["columns"]:
            assert f"<code>{column}</code>" in page
    assert "CC0" in page


def test_figures_link_to_the_public_lists_behind_them(client, network):
    page = client.get("/snapshot").data.decode()
    assert 'href="/organizations/?members=y"' in page and 'href="/projects"' in page
    assert client.get("/organizations/?members=y").status_code == 200
    assert client.get("/projects").status_code == 200


def test_the_page_kept_for_visitors_never_shows_anyone_else(client, app, network):
    user = make_user(app, full_name="Dana Signedin")
    assert "Dana Signedin" not in client.get("/snapshot").get_data(as_text=True)  # kept for visitors now
    login(client, user.email)
    signed_in = client.get("/snapshot").get_data(as_text=True)
    assert "Dana Signedin" in signed_in and "Sign out" in signed_in
    visitor = app.test_client().get("/snapshot").get_data(as_text=True)
    assert "Dana Signedin" not in visitor and "Sign in" in visitor
    # the figures are the same kept body either way
    assert visitor[visitor.index("<h1"):visitor.index("</main>")] == signed_in[
        signed_in.index("<h1"):signed_in.index("</main>")]
    # a visitor with a message waiting (here: just signed out) sees it, and nobody else does
    client.post("/logout")
    assert "You have signed out." in client.get("/snapshot").get_data(as_text=True)
    assert "You have signed out." not in app.test_client().get("/snapshot").get_data(as_text=True)


def test_app_servers_share_the_kept_snapshot_through_redis(app, make_app, network):
    postgres_url()  # both app servers must use the same database
    redis_url()
    other = make_app(CACHE_KEY_PREFIX=app.config["CACHE_KEY_PREFIX"])
    first = app.test_client().get("/snapshot.json")
    with statements_of(other) as statements:
        second = other.test_client().get("/snapshot.json")
    assert second.get_data() == first.get_data() and second.headers["ETag"] == first.headers["ETag"]
    assert [s for s in statements if "summary_figures" in s] == []  # computed once, by the first server


def test_a_new_release_does_not_serve_what_the_old_one_kept(client, app, network):
    first = client.get("/snapshot")
    app.extensions["snapshot_release"] = "next-release"  # what a deploy of changed code or templates does
    second = client.get("/snapshot", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]


def test_the_version_query_walks_back_along_the_key_whatever_the_size_of_the_log(app):
    """On PostgreSQL with a big audit log the version is an index walk of RECENT rows, never a table scan."""
    from tests.conftest import postgres_url

    postgres_url()
    from portal.services import snapshot

    with app.app_context():
        db.session.execute(sa.text(
            "INSERT INTO audit_events (occurred_at, action, subject_type, prev_hash, hash) "  # (unchained: the plan
            "SELECT now(), 'test.bulk', 'test', repeat('0', 64), md5(g::text) || md5(g::text) "  # is what counts)
            "FROM generate_series(1, 50000) AS g"))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE audit_events"))
        compiled = snapshot._LATEST.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN {compiled}")))
        assert "Seq Scan" not in plan and "Gather" not in plan, plan
        assert "Index" in plan and "Limit" in plan, plan
        db.session.rollback()
