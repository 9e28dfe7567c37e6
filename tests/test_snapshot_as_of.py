"""The snapshot as of a fiscal year: the network as it stood on 30 September, its page, JSON and CSV in
agreement, each figure recounted here independently (in Python, over every row), and bad years answered with a
message, never an error page of the server."""

import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    FederalObligation,
    Institute,
    Membership,
    Organization,
    OrgSize,
    Pledge,
    Proposal,
    Role,
    Sector,
    StatusChange,
    User,
)
from portal.services import ledger, snapshot, snapshot_as_of
from portal.services.clock import today
from portal.services.summary import counted
from tests.factories import (
    make_call,
    make_institute,
    make_membership,
    make_organization,
    make_pledge,
    make_staff,
    make_tier,
    make_user,
    org_admin,
    save,
)

FY = 2018
DAY = date(2018, 9, 30)
SHARE = 10_000_00


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def closed(app, membership: Membership, when: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(Membership).where(Membership.id == membership.id).values(closed_at=at(when)))
        db.session.commit()


def institute(app, slug: str, founded: int, retired_on: date | None = None) -> Institute:
    made = make_institute(app, slug=slug, acronym=slug.upper())
    with app.app_context():
        row = db.session.get(Institute, made.id)
        row.founded_year, row.retired_on = founded, retired_on
        db.session.commit()
        db.session.refresh(row)
        return row


@pytest.fixture
def world(app):
    """Four institutes (A and D active in FY2018, B retired before it, C founded after), members whose terms
    begin, end and lapse around 30 September 2018, projects that start and finish around the fiscal year,
    pledges and federal money of FY2018 and FY2019."""
    a, d = institute(app, "aaa", 2015), institute(app, "ddd", 2016)
    institute(app, "bbb", 2015, retired_on=date(2017, 6, 30))
    institute(app, "ccc", 2019)
    tier_a, tier_d = make_tier(app, a), make_tier(app, d)
    admin1, o1 = org_admin(app, make_organization(app, name="One Inc", state="OH"))
    _, o2 = org_admin(app, make_organization(app, name="Two University", sector=Sector.ACADEMIC, state="MI"))
    admin3, o3 = org_admin(app, make_organization(app, name="Three Corp", size=OrgSize.LARGE, state="OH"))
    admin4, o4 = org_admin(app, make_organization(app, name="Four Lab", sector=Sector.NONPROFIT, state="PA"))
    # in force on 30 September 2018
    closed(app, make_membership(app, o1, a, tier_a, status="lapsed", starts_on=date(2017, 1, 1),
                                ends_on=date(2019, 1, 1)), "2019-01-03T02:00:00")
    closed(app, make_membership(app, o1, d, tier_d, status="ended", starts_on=date(2018, 1, 1),
                                ends_on=date(2018, 12, 31)), "2018-11-01T12:00:00")
    closed(app, make_membership(app, o3, a, tier_a, status="lapsed", starts_on=date(2017, 9, 30),
                                ends_on=date(2018, 9, 30)), "2018-10-02T02:00:00")  # its last day
    closed(app, make_membership(app, o4, d, tier_d, status="ended", starts_on=date(2018, 1, 1),
                                ends_on=date(2019, 1, 1)), "2018-10-05T12:00:00")
    # not in force that day
    closed(app, make_membership(app, o2, a, tier_a, status="ended", starts_on=date(2017, 10, 1),
                                ends_on=date(2019, 10, 1)), "2018-09-30T15:00:00")  # ended that very day
    closed(app, make_membership(app, o4, a, tier_a, status="withdrawn", starts_on=date(2018, 10, 1),
                                ends_on=date(2019, 10, 1)), "2019-02-01T12:00:00")  # began after it
    make_membership(app, o2, d, tier_d, status="pending")
    make_membership(app, o2, d, tier_d, status="declined", starts_on=None)
    # members today, so that they may pledge
    for organization, inst, tier in ((o1, a, tier_a), (o3, a, tier_a), (o4, d, tier_d)):
        make_membership(app, organization, inst, tier)
    make_pledge(app, admin1, o1, a, cents=100_000_00, fiscal_year=FY)
    make_pledge(app, admin3, o3, a, cents=50_000_00, fiscal_year=FY)
    make_pledge(app, admin4, o4, d, cents=30_000_00, fiscal_year=FY)
    make_pledge(app, admin1, o1, a, cents=999_000_00, fiscal_year=FY + 1)
    network_admin = make_user(app, role=Role.NETWORK_ADMIN)
    with app.app_context():
        actor = db.session.get(User, network_admin.id)
        ledger.record_federal_obligation(actor, db.session.get(Institute, a.id), fiscal_year=FY,
                                         amount_cents=200_000_00, reference="AWD-A-18", key=None)
        ledger.record_federal_obligation(actor, db.session.get(Institute, d.id), fiscal_year=FY,
                                         amount_cents=100_000_00, reference="AWD-D-18", key=None)
        ledger.record_federal_obligation(actor, db.session.get(Institute, a.id), fiscal_year=FY + 1,
                                         amount_cents=900_000_00, reference="AWD-A-19", key=None)
        db.session.commit()
    staff = make_staff(app, a, email="staff@aaa.example")
    call = make_call(app, staff, a)
    for title, area, moves in (
            ("Running", "Additive", [("active", "2017-05-01")]),
            ("Finished before", "Additive", [("active", "2016-01-01"), ("completed", "2017-09-15")]),
            ("Started after", "Composites", [("active", "2018-11-01")]),
            ("Finished during", "Composites", [("active", "2017-01-01"), ("completed", "2017-10-01T10:00:00")]),
            ("Approved only", "Sensors", [("approved", "2017-03-01")])):
        status = moves[-1][0]
        proposal = save(app, Proposal(call_id=call.id, lead_organization_id=o1.id, created_by_id=admin1.id,
                                      title=title, technology_area=area, status=status))
        for to, when in moves:
            save(app, StatusChange(proposal_id=proposal.id, to_status=to, at=at(when)))
    return type("World", (), {"a": a, "d": d})


def recount(fiscal_year: int) -> dict:
    """Every figure of the year, counted here in Python over every row, by the data dictionary's words."""
    begins, ends = date(fiscal_year - 1, 10, 1), date(fiscal_year, 9, 30)
    active = {i.id: i for i in db.session.scalars(sa.select(Institute))
              if i.founded_year <= fiscal_year and (i.retired_on is None or i.retired_on >= begins)}
    in_force = [m for m in db.session.scalars(sa.select(Membership))
                if m.institute_id in active and m.status in ("active", "ended", "withdrawn", "lapsed")
                and m.starts_on is not None and m.starts_on <= ends <= m.ends_on
                and (m.closed_at is None or m.closed_at.date() > ends)]
    projects = []
    for proposal in db.session.scalars(sa.select(Proposal)):
        moves = db.session.scalars(sa.select(StatusChange).where(StatusChange.proposal_id == proposal.id)).all()
        started = [c.at.date() for c in moves if c.to_status == "active"]
        completed = [c.at.date() for c in moves if c.to_status == "completed"]
        if (proposal.call.institute_id in active and proposal.status in ("active", "completed") and started
                and min(started) <= ends and (not completed or max(completed) >= begins)):
            projects.append(proposal)
    pledges = [p for p in db.session.scalars(sa.select(Pledge).where(counted()))
               if p.fiscal_year == fiscal_year and p.institute_id in active]
    federal = sum(o.amount_cents for o in db.session.scalars(sa.select(FederalObligation))
                  if o.fiscal_year == fiscal_year and o.institute_id in active)
    return {"institutes": len(active), "organizations": len({m.organization_id for m in in_force}),
            "memberships": len(in_force), "projects": len(projects),
            "states": len({db.session.get(Organization, m.organization_id).state for m in in_force}),
            "federal": federal, "pledged": sum(p.pledged_cents - p.cancelled_cents for p in pledges),
            "pledgers": len({p.organization_id for p in pledges})}


def overview(data: dict) -> dict:
    return dict(data["tables"]["fy_overview"]["rows"])


def test_the_figures_are_those_of_the_network_on_30_september(client, app, world):
    data = client.get(f"/snapshot.json?fy={FY}").get_json()
    with app.app_context():
        expected = recount(FY)
    # by the world's design: A and D; One (twice), Three and Four; "Running" and "Finished during"
    assert (expected["institutes"], expected["organizations"], expected["memberships"], expected["projects"]) == (
        2, 3, 4, 2)
    figures = overview(data)
    assert figures["institutes active"] == expected["institutes"]
    assert figures["member organizations"] == expected["organizations"]
    assert figures["memberships in force"] == expected["memberships"]
    assert figures["states and territories with members"] == expected["states"]
    assert figures["projects active during the year"] == expected["projects"]
    assert figures["federal obligations (cents)"] == expected["federal"] == 300_000_00
    assert figures["non-federal pledged less cancelled (cents)"] == expected["pledged"] == 180_000_00
    assert data["as_of"] == DAY.isoformat() and data["year_complete"] is True
    institutes = {row[0]: row for row in data["tables"]["fy_institutes"]["rows"]}
    assert set(institutes) == {"AAA", "DDD"}
    assert (institutes["AAA"][5], institutes["DDD"][5]) == (2, 2)  # memberships of each
    sectors = {row[0]: row[1:] for row in data["tables"]["fy_members_by_sector"]["rows"]}
    assert sectors["industry (small)"] == [1, 2]  # One Inc: one organization, two memberships
    assert sum(orgs for orgs, _ in sectors.values()) == expected["organizations"]
    assert sum(memberships for _, memberships in sectors.values()) == expected["memberships"]
    money = {row[0]: row for row in data["tables"]["fy_money_by_institute"]["rows"]}
    assert money["network"][2] == expected["pledgers"] == 3
    assert money["AAA"][3] is None and money["DDD"][3] is None  # fewer than 3 organizations: suppressed
    assert money["network"][6] == round(money["network"][5] / expected["federal"], 2)


def test_the_money_of_the_year_is_the_current_snapshots_row_for_that_year(client, app, world):
    now = client.get("/snapshot.json").get_json()
    row = next(r for r in now["tables"]["match_by_fiscal_year"]["rows"] if r[0] == FY)
    as_of = next(r for r in client.get(f"/snapshot.json?fy={FY}").get_json()["tables"]["fy_money_by_institute"]
                 ["rows"] if r[0] == "network")
    assert [as_of[1], as_of[2], as_of[3], as_of[5], as_of[6]] == row[1:]
    workforce_now = next((r for r in now["tables"]["workforce_by_fiscal_year"]["rows"] if r[0] == FY), None)
    workforce = client.get(f"/snapshot.json?fy={FY}").get_json()["tables"]["fy_workforce"]["rows"][0]
    assert workforce_now is None or workforce == workforce_now


def test_page_json_and_csv_agree(client, app, world):
    data = client.get(f"/snapshot.json?fy={FY}").get_json()
    page = client.get(f"/snapshot?fy={FY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"The network at the end of FY{FY}" in html
    figures = overview(data)
    for label in ("institutes active", "member organizations", "memberships in force"):
        assert re.search(rf'portal-stats__figure">{figures[label]}</span> [^<]*{label.split()[0][:6]}', html), label
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/snapshot.csv?fy={FY}").data))
    assert "README.txt" in archive.namelist()
    for name, table in data["tables"].items():
        rows = archive.read(f"{name}.csv").decode().splitlines()
        assert rows[0] == ",".join(table["columns"])
        assert len(rows) == len(table["rows"]) + 1
    overview_rows = dict(line.rsplit(",", 1) for line in archive.read("fy_overview.csv").decode().splitlines()[1:])
    assert {k: str(v) if v is not None else "" for k, v in figures.items()} == overview_rows


def test_the_default_stays_now(client, app, world):
    data = client.get("/snapshot.json").get_json()
    assert "fy_overview" not in data["tables"] and "overview" in data["tables"]


def test_each_year_is_computed_once_per_version(client, app, world, monkeypatch):
    computed = []
    real = snapshot_as_of.compute
    monkeypatch.setattr(snapshot_as_of, "compute", lambda year: computed.append(year) or real(year))
    client.get(f"/snapshot?fy={FY}")
    client.get(f"/snapshot.json?fy={FY}")
    client.get(f"/snapshot.csv?fy={FY}")
    assert computed == [FY]
    client.get(f"/snapshot.json?fy={FY - 1}")
    assert computed == [FY, FY - 1]
    with app.app_context():  # a change moves the version: the next request computes again
        organization = make_organization(app, name="New Co")
        from portal.services import audit
        audit.record(None, "organization.created", db.session.get(Organization, organization.id))
        db.session.commit()
    client.get(f"/snapshot.json?fy={FY}")
    assert computed == [FY, FY - 1, FY]


def test_a_year_in_progress_counts_members_today(client, app):
    year = ledger.fiscal_year_of(today())
    data = client.get(f"/snapshot.json?fy={year}").get_json()
    assert data["as_of"] == today().isoformat() and data["year_complete"] is False


@pytest.mark.parametrize(("fy", "status", "words"), [
    ("abc", 400, "is not a fiscal year"), ("", 400, "is not a fiscal year"), ("2018.0", 400, "not a fiscal year"),
    ("\u0662\u0660\u0661\u0668", 400, "not a fiscal year"), ("99999999999999999999", 400, "not a fiscal year"),
    ("1900", 422, "first fiscal year was FY2013"), ("2012", 422, "first fiscal year"),
    ("3000", 422, "has not begun yet"),
])
@pytest.mark.parametrize("path", ["/snapshot", "/snapshot.json", "/snapshot.csv"])
def test_a_bad_year_gets_a_message_not_a_server_error(client, path, fy, status, words):
    response = client.get(path, query_string={"fy": fy})
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert words in body and "Ask for a fiscal year from 2013" in body
    if path.endswith(".json"):
        assert response.mimetype == "application/problem+json" and words in json.loads(body)["detail"]


def test_next_year_is_refused_until_it_begins(client):
    year = ledger.fiscal_year_of(today() + timedelta(days=366))
    assert client.get(f"/snapshot.json?fy={year}").status_code == 422


def test_an_institutes_snapshot_has_no_fiscal_year(client, app):
    make_institute(app)
    assert client.get("/institutes/test-institute/snapshot.json?fy=2020").status_code == 400


def test_the_data_dictionary_defines_every_figure(client):
    page = client.get("/snapshot/data").get_data(as_text=True)
    for name, (_, columns) in snapshot_as_of.DICTIONARY.items():
        assert f'id="{name}"' in page
        for column in columns:
            assert f"<code>{column}</code>" in page


def test_the_current_snapshot_is_untouched(app, ctx):
    assert "fy_overview" not in snapshot.compute()["tables"]
