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
from hypothesis import given, settings
from hypothesis import strategies as st

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


def expected_rows(app):
    """Both tables from the recount, suppressed by the published rule (tested on its own below)."""
    from portal.services.workforce_figures import published

    with app.app_context():
        by_institute, by_year = recounted()
        institutes = ["SI", "TH", "TI"]
    years = sorted(by_year)
    columns = [published([by_institute.get(a, Counter())[c] for a in institutes], [by_year[y][c] for y in years])
               for c in COLUMNS]
    return ([[a, *(column[0][i] for column in columns)] for i, a in enumerate(institutes)],
            [[y, *(column[1][i] for column in columns)] for i, y in enumerate(years)])


def page_rows(page: str, name: str) -> list[list[str]]:
    table = re.search(rf'<table[^>]*id="table-{name}".*?</table>', page, re.S).group(0)
    body = table.split("<tbody>")[1]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_page_json_and_csv_agree_with_a_recount_from_the_rows(app, client, network):
    by_institute, by_year = expected_rows(app)
    veterans, k12 = COLUMNS.index("veterans") + 1, COLUMNS.index("k12_students") + 1
    assert by_institute[0][veterans] == "fewer than 10"  # the 4 at SI
    assert by_institute[2][veterans] == "withheld"  # the 11 at TI: with the year's 15, it would give the 4 away
    assert by_year[0][k12] == 300 and by_institute[0][k12] == "withheld"  # beside TH's and TI's zeros
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
    network = client.get("/snapshot.json").get_json()["tables"]["workforce_by_institute"]["rows"]
    assert data["workforce_by_institute"]["rows"] == [network[0]]
    # an institute's counts per year, with the network's, would give away the counts below 10
    assert "workforce_by_fiscal_year" not in data
    assert "Workforce and education" in client.get("/institutes/second/snapshot").get_data(as_text=True)


def test_beside_a_count_below_ten_the_largest_others_are_withheld_until_it_cannot_be_worked_out():
    from portal.services.workforce_figures import published

    # the by-year total is shown, so the largest other count goes, and the 4 could be anything from 0 to 9
    assert published([15, 4, 20], [39]) == ([15, "fewer than 10", "withheld"], [39])
    assert published([4], [4]) == (["fewer than 10"], ["fewer than 10"]) and published([40], [40]) == ([40], [40])
    # zeros are counts below 10 too: beside a shown total they would all read as exactly 0
    assert published([20, 0, 0], [20]) == (["withheld", "fewer than 10", "fewer than 10"], [20])
    # with the smallest other withheld (the rule before), 3 + 10 + 10 = 23 gave the 3 away: a withheld count
    # is at least 10 and at most the 10 shown beside it. Ties at the top take more cells, and the total.
    assert published([3, 10, 10], [23]) == (["fewer than 10", "withheld", "withheld"], ["withheld"])
    assert published([12, 12, 3], [27]) == (["withheld", "withheld", "fewer than 10"], ["withheld"])
    # 300 withheld beside a shown 295 is between 295 and 300, so the 0 would be at most 5: 295 goes too
    assert published([300, 295, 120, 0], [715]) == (["withheld", "withheld", 120, "fewer than 10"], [715])
    assert published([300, 290, 120, 0], [710]) == (["withheld", 290, 120, "fewer than 10"], [710])


def test_a_measure_that_cannot_be_protected_otherwise_is_withheld_everywhere():
    """Ten institutes with 9 each and nine years with 10 each: any cell shown, or "withheld" (at least 10)
    cells summing to 90, pin every 9."""
    from portal.services.workforce_figures import published

    assert published([9] * 10, [10] * 9) == (["withheld"] * 10, ["withheld"] * 9)


def possible_worlds(by_institute: list[int], by_year: list[int], largest: int = 40):
    """Every pair of columns, with equal totals and counts up to ``largest``, that the rule publishes exactly
    as it publishes the true one: all a reader who knows the rule cannot tell apart from the truth."""
    from itertools import product

    from portal.services.workforce_figures import published

    seen = published(by_institute, by_year)
    hidden = [(side, i) for side, column in enumerate(seen) for i, cell in enumerate(column)
              if not isinstance(cell, int)]
    *free, (last_side, last) = hidden  # the equal totals fix the last hidden count
    for values in product(range(largest + 1), repeat=len(free)):
        world = [list(by_institute), list(by_year)]
        for (side, i), value in zip(free, values, strict=True):
            world[side][i] = value
        world[last_side][last] = 0
        world[last_side][last] = sum(world[1 - last_side]) - sum(world[last_side])
        if 0 <= world[last_side][last] <= largest and published(*world) == seen:
            yield world


@pytest.mark.parametrize("by_institute, by_year", [
    ([15, 4, 20], [39]), ([20, 0, 0], [20]), ([3, 10, 10], [23]), ([12, 12, 3], [27]), ([15, 3], [9, 9]),
    ([9, 9, 20], [12, 26]), ([4, 11], [15]), ([0, 14], [7, 7]), ([10, 0, 25], [35]), ([9, 9], [18]),
])
def test_no_count_below_ten_can_be_worked_out_by_a_reader_who_knows_the_rule(by_institute, by_year):
    """Checked by brute force, apart from the rule's own reasoning: every count below 10 could have been
    at least two numbers."""
    worlds = list(possible_worlds(by_institute, by_year))
    assert [by_institute, by_year] in worlds
    for side, column in enumerate((by_institute, by_year)):
        for i, count in enumerate(column):
            if count < 10:
                assert len({world[side][i] for world in worlds}) >= 2, (side, i)


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
    def k12_this_year():
        rows = client.get("/snapshot.json").get_json()["tables"]["workforce_by_fiscal_year"]["rows"]
        return {row[0]: row[COLUMNS.index("k12_students") + 1] for row in rows}

    before = k12_this_year()
    with app.app_context():
        staff = db.session.scalar(sa.select(Program)).created_by_id
        sess = db.session.scalar(sa.select(ProgramSession).order_by(ProgramSession.id))
        extra = workforce.sign_up(make_user(app), sess, "k12", now=sess.starts_at - timedelta(hours=1))
        workforce.set_attendance(db.session.get(type(extra.user), staff), extra, True, now=started(sess))
        db.session.commit()
        year = sess.fiscal_year
    assert (before[year], k12_this_year()[year]) == (300, 301)


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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=5), min_size=1, max_size=8))
def test_on_any_grid_each_count_below_ten_could_be_anything_from_0_to_9(grid):
    """The grid is institutes (rows) by fiscal years (columns); its two margins are published. Where some
    count below 10 could still be narrowed, nothing was left to withhold; none is ever pinned."""
    from portal.services.workforce_figures import SUPPRESSED, WITHHELD, protection, published

    years = len(grid[0])
    grid = [(row * years)[:years] for row in grid]
    by_institute, by_year = [sum(row) for row in grid], [sum(column) for column in zip(*grid, strict=True)]
    seen = published(by_institute, by_year)
    assert all(cell >= 10 for column in seen for cell in column if isinstance(cell, int))
    assert all((cell == SUPPRESSED) == (count < 10) for column, counts in zip(seen, (by_institute, by_year),
                                                                             strict=True)
               for cell, count in zip(column, counts, strict=True) if cell != WITHHELD)
    for (side, i), (low, high) in protection(*seen).items():
        assert low <= (by_institute, by_year)[side][i] <= high and low < high
        if (low, high) != (0, 9):
            assert not any(isinstance(cell, int) for column in seen for cell in column)
