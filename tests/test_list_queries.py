"""Every list page runs as many queries at a larger network as at a smaller one, and pages by keyset."""

import re

import sqlalchemy as sa
from sqlalchemy import event

from portal.extensions import db
from portal.models import PUBLIC_STATUSES, Institute, Organization, Pledge, ProjectCall, Proposal
from portal.services import synthetic
from portal.services.synthetic import DOMAIN, Scale
from tests.conftest import login

SEED = 7
SIGN_IN = {"password": synthetic.password(SEED), "totp_secret": synthetic.totp_secret(SEED)}
SMALLER = Scale(institutes=18, organizations=80, users=160, memberships=120, proposals=60, ledger_entries=400)
LARGER = Scale(institutes=18, organizations=400, users=800, memberships=600, proposals=300, ledger_entries=2_400)


def network(make_app, scale: Scale):
    app = make_app()
    with app.app_context():
        synthetic.load(scale, seed=SEED)
        db.session.commit()
        busiest = db.session.scalar(sa.select(Institute).where(Institute.id == 1))
        heavy_org = db.session.scalar(sa.select(Pledge.organization_id).where(Pledge.institute_id == busiest.id)
                                      .group_by(Pledge.organization_id).order_by(sa.func.count().desc()).limit(1))
        open_call = db.session.scalar(sa.select(ProjectCall.id).where(ProjectCall.institute_id == busiest.id,
                                                                     ProjectCall.status == "open"))
        word = db.session.scalar(sa.select(Organization.name).order_by(Organization.id).limit(1)).split()[0]
        return app, busiest.slug, heavy_org, open_call, word


def pages(slug: str, org_id: int, call_id: int, word: str) -> dict[str, list[str]]:
    """Each list page, with who looks at it."""
    staff = f"staff{SEED}-1-1@{DOMAIN}"
    return {
        "anonymous": ["/projects", f"/projects?q={word}", "/organizations/", f"/organizations/?q={word}",
                      f"/organizations/?institute={slug}", f"/institutes/{slug}", f"/institutes/{slug}/calls",
                      "/institutes/"],
        staff: [f"/institutes/{slug}", f"/institutes/{slug}/manage", f"/institutes/{slug}/ledger",
                f"/institutes/{slug}/ledger?organization={word}", f"/institutes/{slug}/audit",
                f"/institutes/{slug}/calls", f"/calls/{call_id}", "/notifications/"],
        f"person{SEED}-{org_id}@{DOMAIN}": [f"/organizations/{org_id}/ledger", f"/organizations/{org_id}",
                                            f"/organizations/{org_id}/manage", "/notifications/", "/account",
                                            "/proposals"],
        f"network{SEED}-1@{DOMAIN}": ["/ledger/match", "/ledger/match?fiscal_year=2026"],
        f"reviewer{SEED}-1-1@{DOMAIN}": ["/reviews", "/reviews?state=todo", "/account"],
    }


def query_counts(app, slug, org_id, call_id, word) -> dict[str, int]:
    counts = {}
    with app.app_context():
        engine = db.engine
    for who, urls in pages(slug, org_id, call_id, word).items():
        client = app.test_client()
        if who != "anonymous":
            assert login(client, who, **SIGN_IN).status_code == 302
        for url in urls:
            statements: list[str] = []
            listener = lambda conn, cursor, statement, *args, seen=statements: seen.append(statement)  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            try:
                response = client.get(url)
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            assert response.status_code == 200, (who, url, response.status_code)
            label = url.replace(slug, "<slug>").replace(str(org_id), "<org>").replace(str(call_id), "<call>")
            role = ("anonymous" if who == "anonymous" else "staff" if who.startswith("staff")
                    else "network" if who.startswith("network") else "reviewer" if who.startswith("reviewer")
                    else "organization")
            selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
            counts[f"{role} {label.replace(word, '<word>')}"] = len(selects)
    return counts


def test_list_pages_run_the_same_queries_at_two_sizes(make_app):
    smaller, larger = network(make_app, SMALLER), network(make_app, LARGER)
    assert query_counts(*smaller) == query_counts(*larger)


def test_a_list_pages_by_keyset_to_its_end(make_app):
    app, *_ = network(make_app, SMALLER)
    client = app.test_client()
    with app.app_context():
        listed = db.session.scalar(sa.select(sa.func.count()).where(Organization.listed))
    seen, url = [], "/organizations/"
    while url:
        page = client.get(url).data.decode()
        seen += re.findall(r'href="/organizations/(\d+)"', page)
        following = re.search(r'href="([^"]+)" rel="next"', page)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert len(seen) == len(set(seen)) == listed  # every listed organization once, none twice
    assert f"{listed:,} organization" in client.get("/organizations/").data.decode()


def test_exports_stream_the_header_before_any_row_is_read(make_app):
    app, slug, _, _, _ = network(make_app, SMALLER)
    client = app.test_client()
    assert login(client, f"staff{SEED}-1-1@{DOMAIN}", **SIGN_IN).status_code == 302
    with app.app_context():
        entries = db.session.scalar(sa.select(sa.func.count()).select_from(Pledge).join(
            Pledge.institute).where(Institute.slug == slug))
    for url in (f"/institutes/{slug}/ledger.csv", f"/institutes/{slug}/roster.csv"):
        response = client.get(url, buffered=False)
        assert response.is_streamed and response.mimetype == "text/csv"
        try:
            chunks = iter(response.response)
            first = next(chunks)
            assert (first if isinstance(first, str) else first.decode()).count("\n") == 1  # the header alone
            body = "".join(c if isinstance(c, str) else c.decode() for c in chunks)
        finally:
            response.close()
        assert body.count("\n") > 1
    assert entries > 0


def test_the_ledger_filters_by_part_of_an_organization_name_with_suggestions(make_app):
    app, slug, org_id, _, _ = network(make_app, SMALLER)
    with app.app_context():
        name = db.session.get(Organization, org_id).name
    client = app.test_client()
    assert name in client.get("/organizations/suggest.json", query_string={"q": name[:-1].lower()}).json
    assert client.get("/organizations/suggest.json", query_string={"q": "a"}).json == []  # too short to ask
    assert login(client, f"staff{SEED}-1-1@{DOMAIN}", **SIGN_IN).status_code == 302
    page = client.get(f"/institutes/{slug}/ledger", query_string={"organization": name.upper()}).data.decode()
    assert 'list="organization-names"' in page and "<select" not in page.split('id="organization"')[0][-200:]
    assert set(re.findall(r"<td>([^<]+ \d+)</td>", page)) == {name}
    csv_text = client.get(f"/institutes/{slug}/ledger.csv", query_string={"organization": name}).data.decode()
    assert {line.split(",")[5] for line in csv_text.splitlines()[1:]} == {name}


def test_search_finds_cities_and_on_postgresql_close_spellings(make_app):
    app, *_ = network(make_app, SMALLER)
    client = app.test_client()
    assert "Additive manufacturing" in client.get("/projects", query_string={"q": "additive"}).data.decode()
    page = client.get("/organizations/", query_string={"q": "dayton"}).data.decode()
    assert "0 organizations" not in page
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect == "postgresql":
        page = client.get("/projects", query_string={"q": "addditive"}).data.decode()
        assert "Additive manufacturing" in page and "0 projects" not in page


def test_the_projects_count_is_exact_from_the_figures_however_filtered(make_app):
    app, slug, *_ = network(make_app, SMALLER)
    client = app.test_client()
    with app.app_context():
        public = (sa.select(sa.func.count()).select_from(Proposal).join(ProjectCall, ProjectCall.id == Proposal.call_id)
                  .where(Proposal.status.in_(PUBLIC_STATUSES)))
        institute_id = db.session.scalar(sa.select(Institute.id).where(Institute.slug == slug))
        area = db.session.scalar(sa.select(Proposal.technology_area).where(Proposal.status.in_(PUBLIC_STATUSES),
                                                                           Proposal.technology_area != "").limit(1))
        expected = [
            ({}, db.session.scalar(public)),
            ({"institute": slug}, db.session.scalar(public.where(ProjectCall.institute_id == institute_id))),
            ({"status": "active"}, db.session.scalar(public.where(Proposal.status == "active"))),
            ({"area": area}, db.session.scalar(public.where(Proposal.technology_area == area))),
            ({"status": "completed", "area": area},
             db.session.scalar(public.where(Proposal.status == "completed", Proposal.technology_area == area))),
        ]
    assert expected[0][1] > 0
    for query, count in expected:
        page = client.get("/projects", query_string=query).data.decode()
        assert f">{count:,} project{'' if count == 1 else 's'}.<" in page, query
