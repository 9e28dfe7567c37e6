"""The snapshot's workforce figures: page, JSON and CSV agree with a recount made here from the rows, people
counts below 10 are never published as numbers, and `flask ledger verify` checks the figures."""

import csv
import html
import io
import re
import zipfile
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Credential, Figure, OutreachEvent, Program, ProgramSession, Signup, Summary
from portal.services import workforce
from tests.factories import make_institute, make_staff, make_user
from tests.workforce_factories import attended_and_completed, now, program, session, started

COLUMNS = ["k12_students", "postsecondary_students", "incumbent_workers", "educators_trainers", "veterans",
           "educators_trained", "credentials_awarded"]
CATEGORY_COLUMN = {"k12": 0, "postsecondary": 1, "incumbent": 2, "educator": 3, "veteran": 4}


@pytest.fixture
def network(app):
    """Two institutes: eleven veterans and a teacher attend at one, an outreach day at the other."""
    with app.app_context():
        first, second = make_institute(app), make_institute(app, slug="second", acronym="SI")
        make_institute(app, slug="third", acronym="TH")  # nothing happens there
        staff, other_staff = make_staff(app, first), make_staff(app, second)
        sess = session(staff, program(staff, first), capacity=12)
        signups = [workforce.sign_up(make_user(app), sess, "veteran") for _ in range(11)]
        for signup in signups:
            workforce.set_attendance(staff, signup, True, now=started(sess))
        for signup in signups[:3]:
            workforce.complete(staff, signup, now=started(sess))
            workforce.issue_credential(staff, signup)
        teach = session(staff, program(staff, first, kind="educator_training", audiences=["educator"]))
        attended_and_completed(staff, teach, workforce.sign_up(make_user(app), teach, "educator"))
        workforce.record_outreach(other_staff, second, title="Manufacturing Day", held_on=now().date(),
                                  counts={"k12": 300, "educator": 12, "veteran": 4})
        db.session.commit()


def recounted() -> tuple[dict[str, Counter], dict[int, Counter]]:
    """Per institute acronym and per fiscal year, straight from the rows, in the published columns."""
    by_institute: dict[str, Counter] = {}
    by_year: dict[int, Counter] = {}

    def add(acronym, year, column, n=1):
        by_institute.setdefault(acronym, Counter())[column] += n
        by_year.setdefault(year, Counter())[column] += n

    for signup in db.session.scalars(sa.select(Signup)):
        sess = signup.session
        acronym = sess.program.institute.acronym
        if signup.attended:
            add(acronym, sess.fiscal_year, COLUMNS[CATEGORY_COLUMN[signup.category]])
        if signup.completed_at and sess.program.kind == "educator_training":
            add(acronym, sess.fiscal_year, "educators_trained")
    for credential in db.session.scalars(sa.select(Credential)):
        add(credential.institute.acronym, credential.fiscal_year, "credentials_awarded")
    for event in db.session.scalars(sa.select(OutreachEvent)):
        for category, column in CATEGORY_COLUMN.items():
            add(event.institute.acronym, event.fiscal_year, COLUMNS[column], getattr(event, category))
    return by_institute, by_year


def shown(values: list[int]) -> list:
    """A column as the published rule says: below 10 in words; with exactly one such, the smallest other
    count withheld too."""
    column = [n if n >= 10 else "fewer than 10" for n in values]
    if column.count("fewer than 10") == 1 and len(column) > 1:
        column[min((n, i) for i, n in enumerate(values) if n >= 10)[1]] = "withheld"
    return column


def table(labels: list, counters: list[Counter]) -> list[list]:
    columns = [shown([counter[c] for counter in counters]) for c in COLUMNS]
    return [[label, *(column[i] for column in columns)] for i, label in enumerate(labels)]


def expected_rows(app):
    with app.app_context():
        by_institute, by_year = recounted()
        institutes = ["SI", "TH", "TI"]
    years = sorted(by_year)
    return (table(institutes, [by_institute.get(a, Counter()) for a in institutes]),
            table(years, [by_year[y] for y in years]))


def page_rows(page: str, name: str) -> list[list[str]]:
    table = re.search(rf'<table[^>]*id="table-{name}".*?</table>', page, re.S).group(0)
    body = table.split("<tbody>")[1]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_page_json_and_csv_agree_with_a_recount_from_the_rows(app, client, network):
    by_institute, by_year = expected_rows(app)
    assert by_institute[2][COLUMNS.index("veterans") + 1] == 11  # the veterans at TI are published
    assert by_institute[0][COLUMNS.index("veterans") + 1] == "fewer than 10"  # the 4 at SI are not
    tables = client.get("/snapshot.json").get_json()["tables"]
    assert tables["workforce_by_institute"]["columns"] == ["institute", *COLUMNS]
    assert tables["workforce_by_institute"]["rows"] == by_institute
    assert tables["workforce_by_fiscal_year"]["rows"] == by_year
    archive = zipfile.ZipFile(io.BytesIO(client.get("/snapshot.csv").data))
    for name, rows in (("workforce_by_institute", by_institute), ("workforce_by_fiscal_year", by_year)):
        read = list(csv.reader(io.StringIO(archive.read(f"{name}.csv").decode())))
        assert read[1:] == [[str(v) for v in row] for row in rows]
        assert page_rows(client.get("/snapshot").get_data(as_text=True), name) == [[str(v) for v in r] for r in rows]


def test_no_count_below_ten_is_published_anywhere(app, client, network):
    small = {str(n) for n in range(10)}
    data = client.get("/snapshot.json").get_json()["tables"]
    for name in ("workforce_by_institute", "workforce_by_fiscal_year"):
        for row in data[name]["rows"]:
            assert not any(isinstance(v, int) and v < 10 for v in row[1:]), row
        assert not any(cell in small for row in page_rows(client.get("/snapshot").get_data(as_text=True), name)
                       for cell in row[1:])


def test_an_institutes_snapshot_has_only_its_own_figures_and_no_inner_cells(client, network):
    data = client.get("/institutes/second/snapshot.json").get_json()["tables"]
    assert [row[0] for row in data["workforce_by_institute"]["rows"]] == ["SI"]
    assert data["workforce_by_institute"]["rows"][0][1] == 300
    # an institute's counts per year, with the network's, would give away the counts below 10
    assert "workforce_by_fiscal_year" not in data
    assert "Workforce and education" in client.get("/institutes/second/snapshot").get_data(as_text=True)


def test_one_count_below_ten_in_a_column_takes_the_smallest_other_with_it():
    from portal.services.workforce_figures import published

    assert published([15, 4, 20]) == ["withheld", "fewer than 10", 20]
    assert published([15, 4, 0, 20]) == [15, "fewer than 10", "fewer than 10", 20]
    assert published([4]) == ["fewer than 10"] and published([40]) == [40]
    assert published([12, 12, 3]) == ["withheld", 12, "fewer than 10"]


def test_the_dictionary_describes_the_workforce_tables(client, network):
    page = client.get("/snapshot/data").get_data(as_text=True)
    for column in ["workforce_by_institute", "workforce_by_fiscal_year", *COLUMNS]:
        assert f"<code>{column}</code>" in page
    assert "fewer than 10" in page


def test_verify_checks_the_workforce_figures(app, runner, network):
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    with app.app_context():
        db.session.execute(sa.update(Summary).where(Summary.figure == Figure.WORKFORCE,
                                                    Summary.key.like("%:veteran")).values(value=Summary.value + 1))
        db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and "summary workforce" in result.output
    assert runner.invoke(args=["ledger", "recount"]).exit_code == 0
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_the_figure_moves_when_attendance_is_recorded(app, client, network):
    before = client.get("/snapshot.json").get_json()["tables"]["workforce_by_institute"]["rows"]
    with app.app_context():
        staff = db.session.scalar(sa.select(Program)).created_by_id
        sess = db.session.scalar(sa.select(ProgramSession).order_by(ProgramSession.id))
        extra = workforce.sign_up(make_user(app), sess, "veteran", now=sess.starts_at - timedelta(hours=1))
        workforce.set_attendance(db.session.get(type(extra.user), staff), extra, True, now=started(sess))
        db.session.commit()
    after = client.get("/snapshot.json").get_json()["tables"]["workforce_by_institute"]["rows"]
    veterans = COLUMNS.index("veterans") + 1
    assert (before[2][veterans], after[2][veterans]) == (11, 12)


def test_the_workforce_migration_goes_down_and_up_with_the_demo_in_place(tmp_path):
    """Down to the revision before it: its tables and their figures go, every other figure stays."""
    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from portal.services import summary
    from tests.test_migrations import upgraded_with_the_demo

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'data.db'}")
    with app.app_context():
        upgraded_with_the_demo()
        assert summary.problems() == []
        everything = summary.stored()
        assert db.session.scalar(sa.select(sa.func.count(Credential.id))) == 8
        db.session.remove()
        downgrade(revision="86d8d3349f22")
        assert summary.stored() == {k: v for k, v in everything.items() if k[1] != "workforce"}
        assert summary.problems() == []
        db.session.remove()
        upgrade()
        assert summary.problems() == []
        db.session.remove()
        db.engine.dispose()


def test_an_institutes_own_row_is_the_networks_row_withheld_counts_included(app, client):
    """Two institutes with veterans 15 and 4: the 15 is withheld on the network's page, and so on the institute's
    own, or the network's total would give the 4 away."""
    with app.app_context():
        big, small = make_institute(app), make_institute(app, slug="small", acronym="SM")
        for institute, veterans in ((big, 15), (small, 4)):
            workforce.record_outreach(make_staff(app, institute), institute, title="Open day", held_on=now().date(),
                                      counts={"veteran": veterans})
        db.session.commit()
    veterans = COLUMNS.index("veterans") + 1
    network = client.get("/snapshot.json").get_json()["tables"]
    assert [row[veterans] for row in network["workforce_by_institute"]["rows"]] == ["fewer than 10", "withheld"]
    assert network["workforce_by_fiscal_year"]["rows"][0][veterans] == 19
    own = client.get("/institutes/test-institute/snapshot.json").get_json()["tables"]
    assert own["workforce_by_institute"]["rows"] == [network["workforce_by_institute"]["rows"][1]]
