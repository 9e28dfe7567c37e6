"""Importing historical projects: their real dates in the snapshot as of a fiscal year, every problem by row and
column, nothing twice, undo, network administrators only."""

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    AuditEvent,
    ImportBatch,
    ImportKind,
    LedgerEntry,
    Notification,
    OutboxMessage,
    Partner,
    Pledge,
    ProjectCall,
    Proposal,
    ProposalStatus,
    Role,
    StatusChange,
)
from portal.services import DomainError, imports
from tests.conftest import login
from tests.factories import make_user
from tests.test_import_pages import post_file
from tests.test_imports import ORGS, count, load, user, world  # noqa: F401 (the fixture)

HEADER = ("project_ref,institute,title,lead_organization,partners,technology_area,status,awarded_on,started_on,"
          "completed_on,federal_amount,cost_share,trl_start,trl_target,trl_reached\n")
PROJECTS = (HEADER
            + "AM-P-1,America Makes,Powder reuse,Acme Additive,Buckeye University,Metals,completed,2017-06-15,"
              "2017-10-02,2019-03-29,\"1,000,000\",\"1,200,000\",4,6,6\n"
            + "AM-P-2,America Makes,Lattice design,Buckeye University,,Design,active,2020-01-10,2020-02-03,,"
              "500000,,3,5,\n")


def projects_in(client, fiscal_year: int) -> int:
    rows = client.get(f"/snapshot.json?fy={fiscal_year}").get_json()["tables"]["fy_overview"]["rows"]
    return dict(rows)["projects active during the year"]


def test_imported_projects_are_listed_and_counted_in_the_fiscal_years_of_their_dates(app, client, world):  # noqa: F811
    with app.app_context():
        load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        batch = load(ImportKind.PROJECTS, PROJECTS, world["first"])
        assert batch.counts == {"rows": 2, "already_present": 0, "projects": 2}
        done = db.session.scalar(sa.select(Proposal).where(Proposal.import_ref == "AM-P-1"))
        assert (done.status, done.import_batch_id, done.federal_request_cents, done.cost_share_cents) == (
            ProposalStatus.COMPLETED, batch.id, 100_000_000, 120_000_000)
        assert (done.trl_start, done.trl_target, done.trl_reached) == (4, 6, 6)
        assert [(p.organization.name, p.is_lead) for p in done.partners] == [("Acme Additive", True),
                                                                             ("Buckeye University", False)]
        changes = db.session.execute(sa.select(StatusChange.to_status, StatusChange.at)
                                     .where(StatusChange.proposal_id == done.id).order_by(StatusChange.at)).all()
        assert [(status, at.date().isoformat()) for status, at in changes] == [
            ("approved", "2017-06-15"), ("active", "2017-10-02"), ("completed", "2019-03-29")]
        # cost share is the project's figure: no pledge, no ledger entry; and no one was told anything
        assert count(Pledge) == 0 and count(LedgerEntry) == 0
        assert count(Notification) == 0 and count(OutboxMessage) == 0
        assert count(AuditEvent, AuditEvent.action == "import.committed") == 2
        done_id = done.id
    page = client.get(f"/proposals/{done_id}")  # a public project: its page as any other's
    assert page.status_code == 200 and "Powder reuse" in page.get_data(as_text=True)
    listed = client.get("/projects").get_data(as_text=True)
    assert "Powder reuse" in listed and "Lattice design" in listed
    # started 2 October 2017 (FY2018), signed off March 2019 (FY2019); the other started February 2020
    assert [projects_in(client, year) for year in (2017, 2018, 2019, 2020)] == [0, 1, 1, 1]


def test_a_bad_projects_file_reports_every_problem_with_row_and_column_and_writes_nothing(app, world):  # noqa: F811
    good = "Acme Additive,,Metals,active,2018-01-10,2018-02-01,,,,,"
    bad = (HEADER
           + f"P-1,XYZ,Unknown institute,{good}\n"
           + "P-2,MxD,Unknown lead,Nobody Inc,,Metals,active,2018-01-10,2018-02-01,,,,,,\n"
           + "P-3,MxD,Unknown partner,Acme Additive,Buckeye University; Ghost Co,,active,2018-01-10,2018-02-01,"
             ",,,,,\n"
           + "P-4,MxD,Starts before award,Acme Additive,,,active,2018-01-10,2017-12-01,,,,,,\n"
           + "P-5,MxD,Ends before start,Acme Additive,,,completed,2018-01-10,2018-02-01,2018-01-20,,,,,\n"
           + "P-6,MxD,Levels,Acme Additive,,,active,2018-01-10,2018-02-01,,,,0,12,\n"
           + f"P-7,MxD,First,{good}\n"
           + f"P-7,MxD,Second with the same key,{good}\n"
           + "P-8,MxD,In the future,Acme Additive,,,approved,2031-01-01,,,,,,,\n"
           + "P-9,MxD,Completed without a date,Acme Additive,,,completed,2018-01-10,2018-02-01,,,,,,\n"
           + "P-10,MxD,Before founding,Acme Additive,,,approved,2010-01-10,,,,,,,\n"
           + "P-11,MxD,Reached below start,Acme Additive,,,completed,2018-01-10,2018-02-01,2019-01-01,,"
             "\"1,000\",5,6,3\n"
           + "P-12,MxD,Lead twice,Acme Additive,Acme Additive,,approved,2018-01-10,,,12.345,,,,\n")
    with app.app_context():
        load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        plan = imports.check(ImportKind.PROJECTS, bad.encode(), "projects.csv")
        where = {(p.row, p.column) for p in plan.problems}
        assert where == {(2, "institute"), (3, "lead_organization"), (4, "partners"), (5, "started_on"),
                         (6, "completed_on"), (7, "trl_start"), (7, "trl_target"), (9, "project_ref"),
                         (10, "awarded_on"), (11, "completed_on"), (12, "awarded_on"), (13, "trl_reached"),
                         (14, "partners"), (14, "federal_amount")}
        assert all(p.message for p in plan.problems)
        with pytest.raises(imports.ImportProblems):
            imports.upload(user(world["first"]), ImportKind.PROJECTS, bad.encode(), "projects.csv")
        db.session.rollback()
        assert count(Proposal) == count(ProjectCall) == count(Partner) == count(StatusChange) == 0
        assert count(ImportBatch) == 1  # the organizations' batch alone


def test_the_same_projects_twice_create_nothing_the_second_time(app, world):  # noqa: F811
    with app.app_context():
        load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        load(ImportKind.PROJECTS, PROJECTS, world["first"])
        plan = imports.check(ImportKind.PROJECTS, PROJECTS.encode(), "same.csv")
        assert plan.problems and "imported already" in plan.problems[0].message
        # the same rows in another file (another name, one more line) are recognised by their key
        again = load(ImportKind.PROJECTS, PROJECTS + "\n", world["first"], filename="again.csv")
        assert again.counts == {"rows": 2, "already_present": 2, "projects": 0}
        assert count(Proposal) == 2 and count(StatusChange) == 5 and count(Partner) == 3


def test_undoing_projects_removes_them_and_their_years(app, client, world):  # noqa: F811
    with app.app_context():
        load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        batch_id = load(ImportKind.PROJECTS, PROJECTS, world["first"]).id
    assert projects_in(client, 2018) == 1
    with app.app_context():
        imports.undo(user(world["second"]), db.session.get_one(ImportBatch, batch_id))
        db.session.commit()
        assert count(Proposal) == count(ProjectCall) == count(Partner) == count(StatusChange) == 0
        assert count(AuditEvent, AuditEvent.action == "import.undone") == 1
        # undone, the file may be imported again
        assert imports.check(ImportKind.PROJECTS, PROJECTS.encode(), "projects.csv").problems == []
    assert projects_in(client, 2018) == 0
    assert "Powder reuse" not in client.get("/projects").get_data(as_text=True)


def test_only_network_administrators_import_projects(app, client, world):  # noqa: F811
    member = make_user(app, email="member@example.com", role=Role.MEMBER, second_factor=True)
    with app.app_context():
        load(ImportKind.ORGANIZATIONS, ORGS, world["first"])
        with pytest.raises(DomainError) as refused:
            imports.upload(user(member.id), ImportKind.PROJECTS, PROJECTS.encode(), "projects.csv")
        assert refused.value.status == 403
        db.session.rollback()
    login(client, member.email)
    assert post_file(client, "projects", PROJECTS).status_code == 403
    assert client.get("/imports/templates/projects.csv").status_code == 403
    with app.app_context():
        assert count(Proposal) == 0


def test_the_projects_template_and_its_columns_are_linked_from_the_data_dictionary(app, client, world):  # noqa: F811
    login(client, "first@example.com")
    template = client.get("/imports/templates/projects.csv").get_data(as_text=True)
    assert template.splitlines()[0] == HEADER.strip()
    columns = client.get("/imports/columns").get_data(as_text=True)
    assert "trl_reached" in columns and "no pledge or ledger entry is made" in columns
    assert 'href="/imports/columns"' in client.get("/snapshot/data").get_data(as_text=True)
