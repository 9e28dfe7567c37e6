"""Bulk import: dry runs that report every problem, all-or-nothing commits, two people for money, undo."""

import io
import json
from datetime import date
from importlib import resources

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from portal.extensions import db
from portal.models import (
    NETWORK,
    AuditEvent,
    EntryKind,
    FederalObligation,
    ImportBatch,
    ImportKind,
    ImportStatus,
    Institute,
    LedgerEntry,
    Membership,
    MembershipStatus,
    Notification,
    Organization,
    OutboxMessage,
    Pledge,
    Role,
    User,
)
from portal.services import DomainError, imports, institutes, memberships, summary
from portal.services.ledger import reports
from tests import network_files
from tests.factories import make_user

ORGS = ("name,sector,size,state,city,uei,ein\n"
        "Acme Additive,industry,small,OH,Youngstown,ABCDEF123456,12-3456789\n"
        "Buckeye University,academic,,OH,Columbus,,\n")
MEMBERSHIPS = ("organization,institute,tier,starts_on,ends_on,applied_on,decided_on\n"
               "Acme Additive,America Makes,Gold,2017-10-01,2018-09-30,2017-08-01,2017-09-15\n"
               "Buckeye University,America Makes,Silver,2016-10-01,2030-09-30,,\n")
PLEDGES = ("pledge_ref,organization,institute,fiscal_year,kind,amount,pledged_on\n"
           "AM-1,Acme Additive,America Makes,2018,cash,\"250,000\",2017-11-02\n"
           "AM-2,Buckeye University,America Makes,2018,cash,100000,2017-12-01\n")
RECEIPTS = ("receipt_ref,pledge_ref,amount,received_on,verified_on\n"
            "R-1,AM-1,125000,2018-03-01,2018-03-15\n"
            "R-2,AM-2,100000,2018-04-01,\n")
FEDERAL = ("institute,fiscal_year,amount,reference\n"
           "America Makes,2018,\"15,000,000\",FA8650-12-2-7230 P00012\n")


@pytest.fixture
def world(app):
    """The network's institutes and tiers as `flask seed` loads them, and two network administrators."""
    with app.app_context():
        institutes.seed(institutes.seed_records())
        memberships.seed_tiers(json.loads(resources.files("portal").joinpath("data/tiers.json").read_text("utf-8")))
        db.session.commit()
    first = make_user(app, email="first@example.com", role=Role.NETWORK_ADMIN)
    second = make_user(app, email="second@example.com", role=Role.NETWORK_ADMIN)
    return {"first": first.id, "second": second.id}


def user(user_id):
    return db.session.get_one(User, user_id)


def load(kind, text, actor_id, approver_id=None, filename="file.csv"):
    """Upload (and approve, for money) a file, committing as a request would."""
    batch = imports.upload(user(actor_id), kind, text.encode(), filename)
    db.session.commit()
    if approver_id is not None:
        imports.approve(user(approver_id), batch)
        db.session.commit()
    return batch


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_a_network_loads_from_files_alone_with_historical_dates_and_no_mail(app, world):
    with app.app_context():
        load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        load(ImportKind.MEMBERSHIPS, MEMBERSHIPS, world["first"])
        load(ImportKind.PLEDGES, PLEDGES, world["first"], world["second"])
        load(ImportKind.RECEIPTS, RECEIPTS, world["first"], world["second"])
        load(ImportKind.FEDERAL, FEDERAL, world["first"], world["second"])

        acme = db.session.scalar(sa.select(Organization).where(Organization.name == "Acme Additive"))
        assert (acme.uei, acme.ein, acme.import_batch_id is not None) == ("ABCDEF123456", "12-3456789", True)
        ended = db.session.scalar(sa.select(Membership).where(Membership.organization_id == acme.id))
        assert ended.status == MembershipStatus.LAPSED and ended.decision_days == 45
        assert count(Membership, Membership.status == MembershipStatus.ACTIVE) == 1
        pledge = db.session.scalar(sa.select(Pledge).where(Pledge.import_ref == "AM-1"))
        assert (pledge.pledged_cents, pledge.received_cents, pledge.verified_cents) == (25_000_000, 12_500_000,
                                                                                        12_500_000)
        verification = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.kind == EntryKind.VERIFICATION))
        receipt = db.session.get(LedgerEntry, verification.verifies_id)
        assert receipt.actor_id == world["first"] and verification.actor_id == world["second"]
        assert str(receipt.received_on) == "2018-03-01"
        assert reports.reconcile() == [] and summary.problems() == []
        assert summary.stored()[(pledge.institute_id, "federal", "2018")] == 1_500_000_000
        assert count(Notification) == 0 and count(OutboxMessage) == 0
        assert count(AuditEvent, AuditEvent.action == "import.committed") == 5


def test_a_dry_run_reports_every_problem_with_row_and_column_and_writes_nothing(app, world):
    bad = ("name,sector,size,state,uei\n"
           "Acme,industry,huge,OH,\n"            # bad size
           "Good One,academic,,ZZ,\n"            # bad state
           "Acme,industry,small,OH,SHORT\n"       # duplicate in file, bad UEI
           ",nonprofit,,OH,\n")                   # no name
    with app.app_context():
        plan = imports.check(ImportKind.ORGANIZATIONS, bad.encode(), "orgs.csv")
        where = {(p.row, p.column) for p in plan.problems}
        assert {(2, "size"), (3, "state"), (4, "uei"), (5, "name")} <= where
        assert count(Organization) == 0 and count(ImportBatch) == 0
        with pytest.raises(imports.ImportProblems):
            imports.upload(user(world["first"]), ImportKind.ORGANIZATIONS, bad.encode(), "orgs.csv")
        db.session.rollback()
        assert count(Organization) == 0


@pytest.mark.parametrize(("kind", "text", "expected"), [
    (ImportKind.ORGANIZATIONS, "", (None, None, "empty")),
    (ImportKind.ORGANIZATIONS, "name,sector\n", (1, "state", "missing")),
    (ImportKind.ORGANIZATIONS, FEDERAL, (1, None, "federal obligations")),
    (ImportKind.ORGANIZATIONS, "name,sector,state,colour\nA,academic,OH,red\n", (1, "colour", "not a column")),
    (ImportKind.MEMBERSHIPS, "organization,institute,tier,starts_on,ends_on\nNobody,XYZ,Gold,2018-01-01,2017-01-01\n",
     (2, "institute", "No institute")),
    (ImportKind.FEDERAL, "institute,fiscal_year,amount,reference\nMxD,2018,1e6,A\nMxD,2018,12.345,B\n"
                         "MxD,2018,100,C\nMxD,2018,100,C\n", (2, "amount", "scientific")),
    (ImportKind.RECEIPTS, "receipt_ref,pledge_ref,amount,received_on\nR,NOPE,10,2018-01-01\n",
     (2, "pledge_ref", "No pledge")),
])
def test_bad_files_are_reported_with_their_row(app, world, kind, text, expected):
    with app.app_context():
        plan = imports.check(kind, text.encode(), "f.csv")
        row, column, words = expected
        assert any(p.row == row and p.column == column and words in p.message for p in plan.problems), plan.problems


def test_every_federal_row_problem_is_listed_not_only_the_first(app, world):
    text = ("institute,fiscal_year,amount,reference\nMxD,2018,1e6,A\nMxD,2018,12.345,B\n"
            "MxD,2018,100,C\nMxD,2018,100,C\nMxD,2010,100,D\n")
    with app.app_context():
        where = {(p.row, p.column) for p in imports.check(ImportKind.FEDERAL, text.encode(), "f.csv").problems}
    assert where == {(2, "amount"), (3, "amount"), (5, "reference"), (6, "fiscal_year")}


def test_memberships_out_of_order_and_overlapping_are_refused(app, world):
    with app.app_context():
        load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        text = ("organization,institute,tier,starts_on,ends_on,applied_on,decided_on\n"
                "Acme Additive,America Makes,Gold,2018-01-01,2017-01-01,,\n"
                "Acme Additive,America Makes,Gold,2017-10-01,2018-09-30,2017-09-01,2017-08-01\n"
                "Acme Additive,America Makes,Bronze,2019-10-01,2020-09-30,,\n"
                "Buckeye University,America Makes,Gold,2017-10-01,2019-09-30,,\n"
                "Buckeye University,America Makes,Gold,2018-10-01,2020-09-30,,\n"
                "Acme Additive,America Makes,Gold,2001-10-01,2002-09-30,,\n")
        where = {(p.row, p.column) for p in imports.check(ImportKind.MEMBERSHIPS, text.encode(), "m.csv").problems}
    assert where == {(2, "ends_on"), (3, "decided_on"), (4, "tier"), (6, "starts_on"), (7, "starts_on")}


def test_the_same_file_twice_creates_nothing_the_second_time(app, world):
    with app.app_context():
        load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        plan = imports.check(ImportKind.ORGANIZATIONS, ORGS.encode(), "again.csv")
        assert plan.problems and "imported already" in plan.problems[0].message
        # the same rows in another file: recognised by their natural keys, nothing created
        reordered = ORGS.replace("Columbus", "Columbus") + "\n"
        plan = imports.check(ImportKind.ORGANIZATIONS, reordered.encode(), "copy.csv")
        assert plan.problems == [] and plan.records == [] and plan.present == [2, 3]
        assert count(Organization) == 2


def test_money_needs_a_second_network_administrator(app, world):
    with app.app_context():
        batch = load(ImportKind.FEDERAL, FEDERAL, world["first"])
        assert batch.status == ImportStatus.AWAITING_APPROVAL and count(FederalObligation) == 0
        with pytest.raises(DomainError, match="another network administrator"):
            imports.approve(user(world["first"]), batch)
        db.session.rollback()
        member = make_user(app, email="member@example.com")
        with pytest.raises(DomainError):
            imports.approve(user(member.id), batch)
        db.session.rollback()
        imports.approve(user(world["second"]), batch)
        db.session.commit()
        assert batch.status == ImportStatus.COMMITTED and batch.content is None and count(FederalObligation) == 1


def test_undoing_money_reverses_it_and_never_deletes(app, world):
    with app.app_context():
        load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        load(ImportKind.MEMBERSHIPS, MEMBERSHIPS, world["first"])
        pledges = load(ImportKind.PLEDGES, PLEDGES, world["first"], world["second"])
        receipts = load(ImportKind.RECEIPTS, RECEIPTS, world["first"], world["second"])
        federal = load(ImportKind.FEDERAL, FEDERAL, world["first"], world["second"])
        entries = count(LedgerEntry)
        with pytest.raises(DomainError, match="receipts first"):
            imports.undo(user(world["second"]), pledges)
        db.session.rollback()
        for batch in (receipts, pledges, federal):
            imports.undo(user(world["second"]), db.session.get(ImportBatch, batch.id))
            db.session.commit()
        assert count(LedgerEntry) == entries + 3 + 2  # 2 receipts, 1 verification reversed; 2 pledges cancelled
        assert all(p.remaining_cents == 0 and p.received_cents == 0 for p in db.session.scalars(sa.select(Pledge)))
        assert db.session.scalar(sa.select(sa.func.sum(FederalObligation.amount_cents))) == 0
        assert reports.reconcile() == [] and summary.problems() == []
        # after an undo the same file may be imported again
        again = load(ImportKind.FEDERAL, FEDERAL.replace("P00012", "P00013"), world["first"], world["second"])
        assert again.status == ImportStatus.COMMITTED


def test_undoing_organizations_waits_for_the_batches_that_use_them(app, world):
    with app.app_context():
        orgs = load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        members = load(ImportKind.MEMBERSHIPS, MEMBERSHIPS, world["first"])
        with pytest.raises(DomainError, match="memberships"):
            imports.undo(user(world["first"]), orgs)
        db.session.rollback()
        imports.undo(user(world["first"]), db.session.get(ImportBatch, members.id))
        imports.undo(user(world["first"]), db.session.get(ImportBatch, orgs.id))
        db.session.commit()
        assert count(Organization) == 0 and count(Membership) == 0 and summary.problems() == []
        assert imports.check(ImportKind.ORGANIZATIONS, ORGS.encode(), "orgs.csv").problems == []


def test_excel_files_read_like_csv(app, world):
    workbook = Workbook()
    sheet = workbook.active
    for line in ORGS.strip().splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    with app.app_context():
        plan = imports.check(ImportKind.ORGANIZATIONS, buffer.getvalue(), "orgs.xlsx")
        assert plan.problems == [] and len(plan.records) == 2
        assert imports.check(ImportKind.ORGANIZATIONS, b"PK\x03\x04not a workbook", "x.xlsx").problems[0].message \
            .startswith("The file could not be read")


def test_the_command_checks_imports_and_waits_for_a_second_person_on_money(app, world, runner, tmp_path):
    orgs, federal = tmp_path / "orgs.csv", tmp_path / "federal.csv"
    orgs.write_text(ORGS)
    federal.write_text(FEDERAL)
    result = runner.invoke(args=["import", "organizations", str(orgs), "--as", "first@example.com", "--dry-run"])
    assert result.exit_code == 0 and "would create 2 organizations" in result.output
    with app.app_context():
        assert count(Organization) == 0
    result = runner.invoke(args=["import", "organizations", str(orgs), "--as", "first@example.com"])
    assert result.exit_code == 0 and "imported: 2 organizations" in result.output
    result = runner.invoke(args=["import", "federal", str(federal), "--as", "first@example.com"])
    assert result.exit_code == 0 and "waits for another network administrator" in result.output
    with app.app_context():
        batch_id = db.session.scalar(sa.select(ImportBatch.id).where(ImportBatch.kind == ImportKind.FEDERAL))
    refused = runner.invoke(args=["import-batch", "approve", str(batch_id), "--as", "first@example.com"])
    assert refused.exit_code == 1 and "another network administrator" in refused.output
    approved = runner.invoke(args=["import-batch", "approve", str(batch_id), "--as", "second@example.com"])
    assert approved.exit_code == 0
    with app.app_context():
        assert count(FederalObligation) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("name,sector,state\nX,spaceship,OH\nY,academic,QQ\n")
    result = runner.invoke(args=["import", "organizations", str(bad), "--as", "first@example.com"])
    assert result.exit_code == 1 and "row 2, column sector" in result.output and "row 3, column state" in result.output
    member = runner.invoke(args=["import", "organizations", str(orgs), "--as", "nobody@example.com"])
    assert member.exit_code == 1 and "not an active network administrator" in member.output


def test_a_network_shaped_like_the_fy2018_annual_report_loads_from_files_alone(app, world):
    """The FY2018 report's figures (tests/fixtures): 14 institutes, 1,937 members (63% industry, 70% of it small
    or mid-sized), $183M federal and $304M non-federal, loaded from files and read back from the portal."""
    report = network_files.REPORT
    with app.app_context():
        founded = list(db.session.scalars(sa.select(Institute.acronym).where(Institute.founded_year <= 2017)
                                          .order_by(Institute.founded_year, Institute.acronym)))
        assert len(founded) == report["institutes"]
        files = network_files.network_files(
            founded, members=report["members"], fiscal_year=report["fiscal_year"],
            industry_share=report["industry_share"], small_share=report["small_or_mid_share_of_industry"],
            federal_usd=report["federal_usd"], non_federal_usd=report["non_federal_usd"])
        for kind in ("organizations", "memberships"):
            load(ImportKind(kind), files[kind], world["first"])
        for kind in ("pledges", "receipts", "federal"):
            load(ImportKind(kind), files[kind], world["first"], world["second"])

        year_end = date(2018, 9, 30)
        in_force = sa.and_(Membership.starts_on <= year_end, Membership.ends_on >= year_end)
        assert count(Membership, in_force) == report["members"]
        industry = db.session.execute(sa.select(Organization.size, sa.func.count()).where(
            Organization.sector == "industry").group_by(Organization.size)).all()
        sizes = {str(size): n for size, n in industry}
        assert round((sizes["small"] + sizes["large"]) / report["members"], 2) == report["industry_share"]
        assert round(sizes["small"] / (sizes["small"] + sizes["large"]), 2) == report["small_or_mid_share_of_industry"]
        figures = summary.stored()
        federal = sum(v for (scope, figure, key), v in figures.items()
                      if scope != NETWORK and figure == "federal" and key == "2018")
        pledged = sum(v for (scope, figure, key), v in figures.items()
                      if scope != NETWORK and figure == "money" and key == "2018:pledged")
        verified = sum(v for (scope, figure, key), v in figures.items()
                       if scope != NETWORK and figure == "money" and key == "2018:verified")
        assert (federal, pledged, verified) == (report["federal_usd"] * 100, report["non_federal_usd"] * 100,
                                                report["non_federal_usd"] * 100)
        assert reports.reconcile() == [] and summary.problems() == []
        assert count(Notification) == 0 and count(OutboxMessage) == 0

    # The public snapshot as of FY2018 reads the report's figures back.
    tables = app.test_client().get("/snapshot.json?fy=2018").get_json()["tables"]

    def column(name: str, heading: str) -> list:
        index = tables[name]["columns"].index(heading)
        return [row[index] for row in tables[name]["rows"]]

    assert len(tables["fy_institutes"]["rows"]) == report["institutes"]
    assert sum(column("fy_members_by_sector", "organizations")) == report["members"]
    assert sum(column("fy_members_by_sector", "memberships")) == report["members"]
    network = dict(zip(tables["fy_money_by_institute"]["columns"],
                       next(row for row in tables["fy_money_by_institute"]["rows"] if row[0] == "network"),
                       strict=True))
    assert (network["federal_cents"], network["pledged_cents"], network["verified_cents"]) == (
        report["federal_usd"] * 100, report["non_federal_usd"] * 100, report["non_federal_usd"] * 100)


def test_the_same_file_uploaded_twice_at_once_is_imported_once(app, world):
    data = ORGS.encode()
    with app.app_context():
        plan = imports.check(ImportKind.ORGANIZATIONS, data, "orgs.csv")  # both checked before either commits
        imports.upload(user(world["second"]), ImportKind.ORGANIZATIONS, data, "orgs.csv")
        with pytest.raises(DomainError, match="being imported already") as refused:
            imports.upload(user(world["first"]), ImportKind.ORGANIZATIONS, data, "orgs.csv", plan=plan)
        assert refused.value.status == 409
        db.session.commit()
        assert count(ImportBatch) == 1 and count(Organization) == 2


WORKFORCE = ("institute,fiscal_year,title,held_on,k12,postsecondary,incumbent,educator,veteran\n"
             "America Makes,2018,FY2018 programs,,\"1,200\",800,450,60,35\n"
             "MxD,2018,Manufacturing Day,2017-10-06,300,,,,\n")


def test_workforce_counts_load_into_the_snapshot_figures_and_undo(app, world):
    bad = ("institute,fiscal_year,title,held_on,k12,postsecondary,incumbent,educator,veteran\n"
           "MxD,2018,Day,2018-10-06,10,,,,\n"      # after the fiscal year
           "MxD,2018,Night,,-5,,,,\n"              # not a whole number
           "MxD,2018,Nothing,,0,0,,,\n"            # nobody counted
           "MxD,2018,Twice,,1,,,,\nMxD,2018,Twice,,2,,,,\n"
           "MxD,2012,Early,,1,,,,\n")              # before MxD was founded
    with app.app_context():
        where = {(p.row, p.column) for p in imports.check(ImportKind.WORKFORCE, bad.encode(), "w.csv").problems}
        assert where == {(2, "held_on"), (3, "k12"), (4, "k12"), (6, "title"), (7, "fiscal_year")}
        batch = load(ImportKind.WORKFORCE, WORKFORCE, world["first"])
        america_makes = db.session.scalar(sa.select(Institute.id).where(Institute.acronym == "America Makes"))
        figures = summary.stored()
        assert figures[(america_makes, "workforce", "2018:k12")] == 1200
        assert figures[(america_makes, "workforce", "2018:veteran")] == 35
        assert summary.problems() == []
        assert imports.check(ImportKind.WORKFORCE, WORKFORCE.encode() + b"\n", "again.csv").present == [2, 3]
        imports.undo(user(world["first"]), batch)
        db.session.commit()
        assert (america_makes, "workforce", "2018:k12") not in summary.stored()


def test_every_imported_record_is_audited_as_its_page_would_and_the_chain_holds(app, world, runner):
    from portal.services import audit, audit_log

    def events(action, batch):
        return [e for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                              .order_by(AuditEvent.id))
                if (e.details or {}).get("import_batch") == batch.id]

    with app.app_context():
        orgs = load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        members = load(ImportKind.MEMBERSHIPS, MEMBERSHIPS, world["first"])
        pledges = load(ImportKind.PLEDGES, PLEDGES, world["first"], world["second"])
        receipts = load(ImportKind.RECEIPTS, RECEIPTS, world["first"], world["second"])
        federal = load(ImportKind.FEDERAL, FEDERAL, world["first"], world["second"])
        assert audit.verify_chain().problem is None

        created = events("organization.created", orgs)
        assert sorted(e.subject_id for e in created) == sorted(
            db.session.scalars(sa.select(Organization.id)))
        approved = events("membership.approved", members)
        assert [(e.subject_type, e.to_state, e.details["starts_on"]) for e in approved] == [
            ("memberships", "active", "2017-10-01"), ("memberships", "active", "2016-10-01")]
        pledged = events("ledger.pledge", pledges)
        am1 = db.session.scalar(sa.select(Pledge).where(Pledge.import_ref == "AM-1"))
        assert (pledged[0].subject_id, pledged[0].actor_id, pledged[0].institute_id, pledged[0].details) == (
            am1.id, world["first"], am1.institute_id,
            {"amount_cents": 25_000_000, "kind": "cash", "fiscal_year": 2018, "import_batch": pledges.id})
        assert len(events("ledger.receipt", receipts)) == 2
        [verified] = events("ledger.verification", receipts)
        assert verified.actor_id == world["second"] and verified.subject_type == "ledger_entries"
        assert db.session.get(LedgerEntry, verified.subject_id).kind == EntryKind.VERIFICATION
        [obligation] = events("ledger.federal_obligation", federal)
        assert obligation.details["amount_cents"] == 1_500_000_000
        lines = {line.text for line in audit_log.describe(pledged + approved)}
        assert "Test Person recorded a pledge of $250,000: Acme Additive's FY2018 pledge to America Makes" in lines
        assert "Test Person approved Acme Additive's membership of America Makes" in lines

        for batch in (receipts, federal):
            imports.undo(user(world["second"]), db.session.get(ImportBatch, batch.id))
            db.session.commit()
        assert len(events("ledger.reversal", receipts)) == 3
        assert [e.details["amount_cents"] for e in events("ledger.federal_obligation", federal)] == [
            1_500_000_000, -1_500_000_000]
        imports.undo(user(world["second"]), db.session.get(ImportBatch, pledges.id))
        imports.undo(user(world["first"]), db.session.get(ImportBatch, members.id))
        db.session.commit()
        assert len(events("ledger.cancellation", pledges)) == 2
        assert len(events("import.record_removed", members)) == 2
        assert audit.verify_chain().problem is None
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_the_import_and_the_pages_refuse_with_the_same_rules(app, world):
    """The import calls the domain services' own rule functions: the same words as the pages."""
    with app.app_context():
        load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        bad_members = MEMBERSHIPS.replace("Gold,2017-10-01,2018-09-30", "Diamond,2018-09-30,2017-10-01")
        problems = {(p.column, p.message) for p in
                    imports.check(ImportKind.MEMBERSHIPS, bad_members.encode(), "m.csv").problems}
        assert ("tier", "America Makes has no tier called 'Diamond'") in problems
        assert ("ends_on", "The term must end after it starts") in problems
        load(ImportKind.MEMBERSHIPS, MEMBERSHIPS, world["first"])
        load(ImportKind.PLEDGES, PLEDGES, world["first"], world["second"])
        too_much = RECEIPTS.replace("R-2,AM-2,100000", "R-2,AM-2,100001")
        [problem] = imports.check(ImportKind.RECEIPTS, too_much.encode(), "r.csv").problems
        assert (problem.column, problem.message) == (
            "amount", "That is more than remains on pledge AM-2 after the rows above ($100,000 remains)")
        in_kind = PLEDGES.replace("AM-2,Buckeye University,America Makes,2018,cash", "AM-3,Buckeye University,"
                                  "America Makes,2018,in kind")
        [problem] = imports.check(ImportKind.PLEDGES, in_kind.encode(), "p.csv").problems
        assert problem.message == "Describe what is given in kind and how it was valued"


def test_a_file_too_large_is_refused_before_it_is_read_and_nothing_is_written(app, world, runner, tmp_path,
                                                                               monkeypatch):
    """Stands for a 200 MB file: the limit is lowered, so nothing large is made."""
    from portal.services.imports import reading

    monkeypatch.setattr(reading, "MAX_BYTES", len(ORGS) - 1)
    with app.app_context():
        [problem] = imports.check(ImportKind.ORGANIZATIONS, ORGS.encode(), "orgs.csv").problems
        assert "larger than" in problem.message and "split it into several files" in problem.message
        with pytest.raises(imports.ImportProblems):
            imports.upload(user(world["first"]), ImportKind.ORGANIZATIONS, ORGS.encode(), "orgs.csv")
        db.session.rollback()
    big = tmp_path / "orgs.csv"
    big.write_text(ORGS)
    read = []
    monkeypatch.setattr(type(big), "read_bytes", lambda self: read.append(self) or b"")
    result = runner.invoke(args=["import", "organizations", str(big), "--as", "first@example.com"])
    assert result.exit_code == 1 and "larger than" in result.output and read == []  # refused unread
    with app.app_context():
        assert count(Organization) == 0 and count(ImportBatch) == 0


@pytest.mark.parametrize(("filename", "data", "words"), [
    ("report.pdf", b"%PDF-1.7\n1 0 obj\n", "A .pdf file cannot be imported"),
    ("members.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "A .xls file cannot be imported"),
    ("members.docx", b"PK\x03\x04not a workbook", "A .docx file cannot be imported"),
    ("photo", b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
    ("members.xlsx", b"PK\x03\x04not a workbook", "could not be read as an Excel workbook"),
    ("members.csv", b"name\x00,sector\n", "not a CSV file"),
])
def test_a_file_of_another_type_is_refused_with_a_clear_message(app, world, filename, data, words):
    with app.app_context():
        [problem] = imports.check(ImportKind.ORGANIZATIONS, data, filename).problems
        assert problem.row is None and words in problem.message
        with pytest.raises(imports.ImportProblems):
            imports.upload(user(world["first"]), ImportKind.ORGANIZATIONS, data, filename)
        db.session.rollback()
        assert count(Organization) == 0 and count(ImportBatch) == 0
