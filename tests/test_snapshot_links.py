"""The snapshot's table rows link to the public lists behind them, and those lists match the figures."""

import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.extensions import db
from portal.models import Institute, OrgSize, Proposal, ProposalStatus, Sector, User
from portal.services import memberships, proposals
from tests.factories import (
    affiliate,
    make_call,
    make_institute,
    make_organization,
    make_proposal,
    make_staff,
    make_tier,
    make_user,
    org_admin,
)

S = ProposalStatus


# Making the network through the portal's own services, so every figure the snapshot keeps moves ------------

def add_member(app, institute, *, approve=True, **org_fields):
    """An organization that applied to ``institute`` and (unless approve=False) was approved."""
    admin, organization = org_admin(app, make_organization(app, **org_fields))
    staff = make_staff(app, institute)
    with app.app_context():
        tier = db.session.merge(make_tier(app, institute, name=f"Tier for {organization.name}"))
        membership = memberships.apply(db.session.get(User, admin.id), db.session.merge(organization),
                                       db.session.get(Institute, institute.id), tier, statement="We make parts.",
                                       contact_name="Pat", contact_email="pat@example.com")
        if approve:
            memberships.approve(db.session.get(User, staff.id), membership)
        db.session.commit()
    return organization


def add_project(app, institute, lead, title, *path, area=""):
    """A proposal to ``institute`` led by ``lead``, started and saved through the services and moved from
    draft along ``path`` the way the service moves every proposal (its rules, teams and reviews are not
    the point here)."""
    author = make_user(app)
    affiliate(app, author, lead)
    call = make_call(app, author, institute, title=f"Call for {title}")
    proposal = make_proposal(app, author, call, lead, title=title, technology_area=area)
    with app.app_context():
        proposal = db.session.get(Proposal, proposal.id)
        for status in path:
            proposals._move(None, proposal, status, [proposal.status])
        db.session.commit()


@pytest.fixture
def network(app):
    """Two institutes. TI: a small firm and a large one (listed), a university that is not listed and one
    that is; OI: another small firm in Ohio. Outside: a listed Ohio firm with no membership, and one
    whose application is still pending."""
    ti, oi = make_institute(app), make_institute(app, slug="other-institute", acronym="OI")
    orgs = {
        "Alpha Small": add_member(app, ti, name="Alpha Small", size=OrgSize.SMALL, state="OH"),
        "Beta Large": add_member(app, ti, name="Beta Large", size=OrgSize.LARGE, state="MI"),
        "Gamma University": add_member(app, ti, name="Gamma University", sector=Sector.ACADEMIC, state="OH",
                                       listed=False),
        "Delta University": add_member(app, ti, name="Delta University", sector=Sector.ACADEMIC, state="PA"),
        "Epsilon Small": add_member(app, oi, name="Epsilon Small", size=OrgSize.SMALL, state="OH"),
        "Eta Pending": add_member(app, ti, name="Eta Pending", size=OrgSize.SMALL, state="OH", approve=False),
        "Zeta Outside": make_organization(app, name="Zeta Outside", size=OrgSize.SMALL, state="OH"),
    }
    return type("Network", (), {"ti": ti, "oi": oi, "orgs": orgs})


@pytest.fixture
def projects(app, network):
    alpha, epsilon = network.orgs["Alpha Small"], network.orgs["Epsilon Small"]
    add_project(app, network.ti, alpha, "Printed brackets", S.SUBMITTED, S.APPROVED, area="Additive manufacturing")
    add_project(app, network.ti, alpha, "Cast housings", S.SUBMITTED, S.APPROVED, S.ACTIVE, area="Casting")
    add_project(app, network.ti, alpha, "Finished widgets", S.SUBMITTED, S.APPROVED, S.ACTIVE, S.COMPLETED)
    add_project(app, network.ti, alpha, "Waiting idea", S.SUBMITTED, area="Additive manufacturing")
    add_project(app, network.ti, alpha, "Turned-down idea", S.SUBMITTED, S.DECLINED, area="Additive manufacturing")
    add_project(app, network.ti, alpha, "Still a draft", area="Additive manufacturing")
    add_project(app, network.oi, epsilon, "Other brackets", S.SUBMITTED, S.APPROVED, area="Additive manufacturing")
    return network


# Reading pages --------------------------------------------------------------------------------------------

class Tables(HTMLParser):
    """Every table body with an id: {id: [[cell, ...], ...]}; a cell is {text, href, hidden}, where text is
    what is shown, href the link in the cell (or None) and hidden the words only a screen reader reads."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[dict]]] = {}
        self.rows = self.cell = None
        self.in_hidden = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self.rows = self.tables.setdefault(attrs["id"].removeprefix("table-"), [])
        elif tag == "tbody" and self.rows is not None:
            self.rows.clear()  # only the body's rows
        elif tag == "tr" and self.rows is not None:
            self.rows.append([])
        elif tag in ("th", "td") and self.rows is not None:
            self.cell = {"text": "", "href": None, "hidden": ""}
        elif tag == "a" and self.cell is not None:
            self.cell["href"] = attrs["href"]
        elif tag == "span" and self.cell is not None and "usa-sr-only" in (attrs.get("class") or ""):
            self.in_hidden = True

    def handle_endtag(self, tag):
        if tag == "span":
            self.in_hidden = False
        elif tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None
        elif tag == "table":
            self.rows = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["hidden" if self.in_hidden else "text"] += data


def snapshot_tables(client, slug=None) -> dict[str, dict[str, list[dict]]]:
    """{table: {row label: cells}} of the snapshot page."""
    response = client.get(f"/institutes/{slug}/snapshot" if slug else "/snapshot")
    assert response.status_code == 200
    return {name: {row[0]["text"]: row for row in rows}
            for name, rows in Tables(response.data.decode()).tables.items()}


def query(href: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(href)
    return parts.path, {key: values[0] for key, values in parse_qs(parts.query).items()}


def listed_names(client, href: str, link_prefix: str) -> set[str]:
    """The names in the list at ``href``: its table's row headers (organizations or projects)."""
    response = client.get(href)
    assert response.status_code == 200, href
    page = response.data.decode()
    names = {unescape(n) for n in re.findall(rf'<th scope="row"><a href="{link_prefix}\d+">([^<]*)</a></th>', page)}
    count = re.search(r'role="status"[^>]*>\s*(\d+) ', page)
    assert count and int(count.group(1)) == len(names), href  # the page's own count agrees
    return names


def organizations_at(client, href):
    return listed_names(client, href, "/organizations/")


def projects_at(client, href):
    return listed_names(client, href, "/proposals/")


# Members ------------------------------------------------------------------------------------------------

def test_sector_rows_link_to_the_directory_of_members_of_that_sector_and_size(client, network):
    rows = snapshot_tables(client)["members_by_sector"]
    expected = {  # group: (figure, directory filters, organizations the directory names)
        "industry (small)": (2, {"sector": "industry", "size": "small"}, {"Alpha Small", "Epsilon Small"}),
        "industry (large)": (1, {"sector": "industry", "size": "large"}, {"Beta Large"}),
        # Gamma University is a member but chose not to be listed: counted, not named
        "academic": (2, {"sector": "academic"}, {"Delta University"}),
    }
    for group, (figure, filters, names) in expected.items():
        count = rows[group][1]
        assert count["text"] == str(figure)
        path, args = query(count["href"])
        assert (path, args) == ("/organizations/", {"members": "y", **filters}), group
        assert organizations_at(client, count["href"]) == names, group
    for group in ("government", "nonprofit"):  # nothing to list
        assert rows[group][1]["text"] == "0" and rows[group][1]["href"] is None


def test_state_rows_list_exactly_the_listed_members_of_that_state(client, network):
    rows = snapshot_tables(client)["members_by_state"]
    assert {state: row[2]["text"] for state, row in rows.items()} == {"MI": "1", "OH": "3", "PA": "1"}
    expected = {"MI": {"Beta Large"}, "PA": {"Delta University"},
                # not Zeta (no membership) nor Eta (still pending); Gamma is counted but not listed
                "OH": {"Alpha Small", "Epsilon Small"}}
    for state, names in expected.items():
        href = rows[state][2]["href"]
        assert query(href) == ("/organizations/", {"members": "y", "state": state})
        assert organizations_at(client, href) == names, state


def test_an_institutes_member_rows_keep_to_its_own_members(client, network):
    tables = snapshot_tables(client, network.ti.slug)
    small = tables["members_by_sector"]["industry (small)"][1]
    assert small["text"] == "1"
    assert query(small["href"]) == ("/organizations/", {
        "members": "y", "sector": "industry", "size": "small", "institute": network.ti.slug})
    assert organizations_at(client, small["href"]) == {"Alpha Small"}  # not OI's Epsilon
    ohio = tables["members_by_state"]["OH"][2]
    assert ohio["text"] == "2"
    assert query(ohio["href"])[1] == {"members": "y", "state": "OH", "institute": network.ti.slug}
    assert organizations_at(client, ohio["href"]) == {"Alpha Small"}  # and unlisted Gamma University
    other = snapshot_tables(client, network.oi.slug)["members_by_state"]["OH"][2]
    assert organizations_at(client, other["href"]) == {"Epsilon Small"}


def test_the_page_says_the_directory_names_only_listed_organizations(client, network):
    page = client.get("/snapshot").data.decode()
    assert "names only the organizations that chose to be listed publicly" in page


# Projects -----------------------------------------------------------------------------------------------

def test_public_status_rows_link_to_those_projects_and_the_others_stay_plain(client, projects):
    rows = snapshot_tables(client)["projects_by_status"]
    expected = {"approved": {"Printed brackets", "Other brackets"}, "active": {"Cast housings"},
                "completed": {"Finished widgets"}}
    for status, names in expected.items():
        count = rows[status][1]
        assert count["text"] == str(len(names))
        assert query(count["href"]) == ("/projects", {"status": status})
        assert projects_at(client, count["href"]) == names
    for status in ("submitted", "declined", "under review", "withdrawn"):  # no public list behind these
        assert rows[status][1]["href"] is None, status
    assert rows["submitted"][1]["text"] == "1" and rows["declined"][1]["text"] == "1"


def test_area_rows_link_to_the_projects_in_that_area(client, projects):
    rows = snapshot_tables(client)["projects_by_area"]
    expected = {"Additive manufacturing": {"Printed brackets", "Other brackets"}, "Casting": {"Cast housings"},
                "not stated": {"Finished widgets"}}  # proposals not yet approved, or declined, are not counted
    assert set(rows) == set(expected)
    for area, names in expected.items():
        count = rows[area][1]
        assert count["text"] == str(len(names))
        assert query(count["href"]) == ("/projects", {"area": area})
        assert projects_at(client, count["href"]) == names, area


def test_an_institutes_project_rows_keep_to_its_own_projects(client, projects):
    tables = snapshot_tables(client, projects.ti.slug)
    approved = tables["projects_by_status"]["approved"][1]
    assert approved["text"] == "1"
    assert query(approved["href"]) == ("/projects", {"status": "approved", "institute": projects.ti.slug})
    assert projects_at(client, approved["href"]) == {"Printed brackets"}
    additive = tables["projects_by_area"]["Additive manufacturing"][1]
    assert query(additive["href"]) == ("/projects", {"area": "Additive manufacturing", "institute": projects.ti.slug})
    assert projects_at(client, additive["href"]) == {"Printed brackets"}
    page = client.get(additive["href"]).data.decode()
    assert "Showing only projects of TI in the technology area “Additive manufacturing”" in page


# Institutes ---------------------------------------------------------------------------------------------

def test_coinvestment_rows_link_to_each_institutes_snapshot(client, network):
    rows = snapshot_tables(client)["coinvestment_by_institute"]
    for acronym, slug in (("TI", network.ti.slug), ("OI", network.oi.slug)):
        cell = rows[acronym][0]
        assert cell["href"] == f"/institutes/{slug}/snapshot"
        assert cell["hidden"] == " at a glance"
        page = client.get(cell["href"])
        assert page.status_code == 200 and f"{acronym} Institute: at a glance" in page.data.decode()
    # on an institute's own snapshot its row would only lead back to the page itself
    own = snapshot_tables(client, network.ti.slug)["coinvestment_by_institute"]
    assert own["TI"][0]["href"] is None


# Accessibility ------------------------------------------------------------------------------------------

def test_every_row_link_makes_sense_out_of_context(client, projects):
    for slug in (None, projects.ti.slug):
        linked = [(name, cell) for name, rows in snapshot_tables(client, slug).items()
                  for row in rows.values() for cell in row if cell["href"]]
        assert len(linked) >= 8
        for name, cell in linked:
            words = (cell["text"] + cell["hidden"]).split()
            assert cell["hidden"].strip() and len(words) >= 3, (name, cell)  # never a bare number
    rows = snapshot_tables(client)
    small = rows["members_by_sector"]["industry (small)"][1]
    assert small["text"] + small["hidden"] == "2 industry (small) member organizations: see those listed publicly"
    ohio = rows["members_by_state"]["OH"][2]
    assert ohio["text"] + ohio["hidden"] == "3 member organizations in Ohio: see those listed publicly"
    mi = rows["members_by_state"]["MI"][2]
    assert mi["text"] + mi["hidden"] == "1 member organization in Michigan: see it if listed publicly"
    assert rows["projects_by_status"]["approved"][1]["hidden"] == " approved projects: see them"
    assert rows["projects_by_status"]["active"][1]["hidden"] == " active project: see it"
    assert rows["projects_by_area"]["not stated"][1]["hidden"] == " project with no technology area stated: see it"


def test_charts_and_map_stay_images_without_links(client, projects):
    """Links inside role="img" are hidden from screen readers (axe's nested-interactive rule fails them
    even with tabindex=-1), so the charts and the map stay images and the tables beside them carry the links."""
    page = client.get("/snapshot").data.decode()
    svgs = re.findall(r"<svg[^>]*role=\"img\".*?</svg>", page, re.S)
    assert len(svgs) >= 3
    assert not any("<a " in svg for svg in svgs)


# Filters that get bad values ----------------------------------------------------------------------------

def test_the_directory_filters_by_size_and_institute(client, network):
    assert organizations_at(client, "/organizations/?size=small") == {"Alpha Small", "Epsilon Small",
                                                                      "Eta Pending", "Zeta Outside"}
    assert organizations_at(client, "/organizations/?size=large") == {"Beta Large"}
    assert organizations_at(client, f"/organizations/?institute={network.oi.slug}") == {"Epsilon Small"}
    assert organizations_at(client, f"/organizations/?institute={network.ti.slug}&sector=academic") == {
        "Delta University"}
    page = client.get("/organizations/").data.decode()
    assert '<option value="other-institute">OI</option>' in page


@pytest.mark.parametrize("args, field", [
    ("size=huge", "size"), ("size=small%27%3Bdrop", "size"), ("institute=no-such-institute", "institute"),
    ("sector=alien", "sector"), ("state=ZZ", "state"), ("members=y&size=medium&state=OH", "size"),
])
def test_the_directory_shows_bad_filter_values_as_errors_and_lists_everything(client, network, args, field):
    response = client.get(f"/organizations/?{args}")
    assert response.status_code == 200
    page = response.data.decode()
    assert "There is a problem" in page and f'id="{field}-error"' in page
    # no filter applies while one is wrong: every listed organization, members or not
    assert organizations_at(client, f"/organizations/?{args}") == {
        "Alpha Small", "Beta Large", "Delta University", "Epsilon Small", "Eta Pending", "Zeta Outside"}


@pytest.mark.parametrize("args, message", [
    ("status=declined", "Only approved, active and completed projects are listed publicly"),
    ("status=draft", "Only approved, active and completed projects are listed publicly"),
    ("status=under_review", "Only approved, active and completed projects are listed publicly"),
    ("status=%3Cscript%3E", "Only approved, active and completed projects are listed publicly"),
    ("institute=no-such-institute", "There is no institute with that name"),
    ("area=" + "x" * 201, "A technology area is at most 200 characters long"),
    ("area=Additive%00manufacturing", "A technology area has no control characters"),
    ("institute=america%00makes", "There is no institute with that name"),
])
def test_projects_ignore_bad_filter_values_and_say_so(client, projects, args, message):
    response = client.get(f"/projects?{args}")
    assert response.status_code == 200
    page = response.data.decode()
    assert message in page and "<script>" not in page
    names = projects_at(client, f"/projects?{args}")
    assert names == {"Printed brackets", "Cast housings", "Finished widgets", "Other brackets"}
    assert not {"Waiting idea", "Turned-down idea", "Still a draft"} & names  # never listed, whatever is asked


def test_a_bad_filter_value_leaves_the_good_ones_in_force(client, projects):
    names = projects_at(client, f"/projects?status=declined&institute={projects.oi.slug}")
    assert names == {"Other brackets"}


def test_an_area_with_no_projects_is_an_empty_list_not_an_error(client, projects):
    response = client.get("/projects?area=Nothing%20like%20this")
    assert response.status_code == 200 and b"No projects match." in response.data
    assert projects_at(client, "/projects?area=Nothing%20like%20this") == set()


def test_public_projects_never_gives_a_proposal_that_is_not_public(app, projects):
    with app.app_context():
        for status in ("declined", "submitted", "draft", "bogus"):
            assert proposals.public_projects(status=status) == []
        assert [p.title for p in proposals.public_projects(status="completed")] == ["Finished widgets"]
        assert [p.title for p in proposals.public_projects(area="not stated")] == ["Finished widgets"]
