"""Bad input is a message, never a server error.

A network is built through the pages: the seed and the demo, then a call with three proposals (a draft with an
invitation waiting, one under review, one approved and under way as a project with a submitted review), an
application and a change of tier waiting for the institute, a request to join an organization, a receipt waiting
for its second administrator, and links to confirm an address and to choose a new password. Then every page in
``app.url_map`` is fetched as each of five kinds of people with hostile query strings, and every form those pages
show (and forms left open from before a change, such as a review form after the review was submitted) is posted
back with hostile and generated values. No answer may be a 5xx; in testing an exception propagates and fails the
test just the same.

One network serves the module (building it takes seconds): its tests run in the order written, those that
only fetch pages first and the sweep of every form last, its final buttons (decide, withdraw, end) last of all.
The generated tests are bounded (a fixed number of examples, derandomized, no example database) so that the
module stays under a minute and a half on a small machine, on SQLite and on PostgreSQL.
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from itertools import product
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import create_app
from portal.extensions import db
from portal.models import (
    Institute,
    LedgerEntry,
    Membership,
    Notification,
    Organization,
    OutboxMessage,
    Partner,
    Pledge,
    Proposal,
    ProposalStatus,
    Review,
    User,
)
from portal.models.base import utcnow
from portal.services import mfa
from portal.services.parsing import EASTERN
from tests.conftest import link_in, login
from tests.factories import give_second_factor

PASSWORD = "demonstration only 2026"
DEMO = "demo.example.org"
PEOPLE = {"anonymous": None, "member": f"admin1@{DEMO}", "reviewer": f"admin3@{DEMO}",
          "staff": f"checks@{DEMO}", "network": f"network@{DEMO}"}

# Values that broke pages before, or could: control characters, huge and negative numbers, dates at the
# edges of the calendar, digits of other scripts, addresses that do not parse, formulas, long text.
NASTY = [
    "", "\x00", "\x1b[2J", "-1", "2147483648", "9223372036854775808",
    "99999999999999999999999999", "1e309", "1.005", "\u0661\u0662\u0663", "\uff11\uff12\uff13", "9999-12-31",
    "0001-01-01", "2026-02-30", "9999-12-31T23:59", "0001-01-01T00:00", "https://[]", "x" * 65, "x" * 5000, "💥",
    "[99999999999999999999,1]", '["\\u0000",2147483648]',  # a list's cursor, beyond what its columns hold
]
# More of the same kind, for the generated tests only.
ODD = [" ", "a\x00b", "\r\n", "0", "7", "NaN", "<script>alert(1)</script>", "javascript:x", "=HYPERLINK(\"http://x\")",
       "' OR 1=1 --", "%00", "\ud7ff", "../../etc/passwd"]
# Values a page or form takes as valid: with them, generated posts get past the first check to the rules.
PLAIN = ["1", "2", "[2026,1]", '["A",1]', '["2026-01-01T00:00:00+00:00",1]', "1999-01-01", "approve", "decline",
         "accept", "submit", "save", "open", "closed", "cash", "in_kind", "industry", "academic", "small", "OH", "true",
         "on", "fulfilled", "active"]
# The values tried in each field alone (the others as the page offered them); "" last, as it often passes.
SHORT = ["\x00", "2147483648", "99999999999999999999999999", "-1", "\u0661\u0662\u0663", "9999-12-31T23:59",
         "https://[]", ""]
values = st.one_of(st.sampled_from(NASTY + ODD + PLAIN), st.text(max_size=40), st.integers(-2**70, 2**70).map(str))

# Query parameters read outside any form on a page; the names of every GET form's fields are added to these.
QUERY_NAMES = ["q", "page", "per_page", "after", "projects_after", "next", "find", "institute", "status", "area",
               "organization", "fiscal_year", "kind", "sort"]

# Buttons that end something (a decision, a withdrawal, a status): posted after the rest, so that the forms
# before them still meet the network as it was built.
FINAL = re.compile(r"/(decision|withdraw|end|cancel|retire|remove|submit|complete|completion|status|return|start|"
                   r"answer|verify|reverse|report|accept|send-back|sessions|requests/\d+)$")

FUZZ = settings(max_examples=100, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def eastern(days: int) -> str:
    return (utcnow() + timedelta(days=days)).astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M")


@dataclass
class Form:
    who: str
    action: str
    fields: dict[str, list[str]]


class FormReader(HTMLParser):
    """Every POST form on a page (its action, the names of its fields with the values offered; a button with its
    own ``formaction`` is a form of its own) and the names of the fields of its GET forms."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, list[str]]]] = []
        self.query_names: set[str] = set()
        self.current: dict[str, list[str]] | None = None
        self.method = ""
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.method = (attrs.get("method") or "get").lower()
            self.current = {}
            if self.method == "post":
                self.forms.append((attrs.get("action") or "", self.current))
        elif self.current is not None and tag in {"input", "textarea", "select", "button"} and attrs.get("name"):
            if attrs["name"] == "csrf_token":  # not checked in testing, and never read by a view
                return
            if self.method != "post":
                self.query_names.add(attrs["name"])
                return
            offered = self.current.setdefault(attrs["name"], [])
            if attrs.get("value") is not None:
                offered.append(attrs["value"])
            self.select = attrs["name"] if tag == "select" else None
        elif self.current is not None and tag == "option" and self.select and attrs.get("value") is not None:
            self.current[self.select].append(attrs["value"])
        if self.current is not None and self.method == "post" and tag == "button" and attrs.get("formaction"):
            self.forms.append((attrs["formaction"], self.current))

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def get(client, page: str, query: dict | None = None):
    """GET ``page`` (which may carry a query string of its own) with ``query`` on top."""
    parts = urlsplit(page)
    return client.get(parts.path, query_string={**dict(parse_qsl(parts.query)), **(query or {})})


def forms_on(client, who: str, page: str) -> tuple[list[Form], set[str]]:
    response = get(client, page)
    assert response.status_code < 500, (who, page)
    if response.mimetype != "text/html":
        return [], set()
    reader = FormReader()
    reader.feed(response.get_data(as_text=True))
    forms = [Form(who, urlsplit(action).path or urlsplit(page).path, fields) for action, fields in reader.forms
             if urlsplit(action).path != "/logout"]
    return forms, reader.query_names


def one(app, query):
    with app.app_context():
        return db.session.scalar(query)


@dataclass
class Network:
    people: dict
    ids: dict[str, list]
    stale: list[Form]
    pages: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    query_names: list[str] = field(default_factory=list)


def build_network(app) -> Network:
    """The seed and the demo, then through the pages everything the forms below need to meet."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed"]).exit_code == 0
    assert runner.invoke(args=["demo"], env={"DEMO_PASSWORD": PASSWORD}).exit_code == 0
    with app.app_context():  # administrators have the test authenticator, which login() answers
        for user in db.session.scalars(sa.select(User)):
            if mfa.must_use(user):
                give_second_factor(user)
        db.session.commit()
    people = {}
    for who, email in PEOPLE.items():
        people[who] = app.test_client()
        if email:
            assert login(people[who], email, PASSWORD).status_code == 302
    member, reviewer, staff = people["member"], people["reviewer"], people["staff"]
    orgs = {name: one(app, sa.select(Organization.id).where(Organization.name == name)) for name in (
        "Buckeye Precision Castings", "Great Lakes Aerostructures", "Mahoning Valley State University")}
    lead, university = orgs["Buckeye Precision Castings"], orgs["Mahoning Valley State University"]

    # A call, and three proposals of the lead's
    response = staff.post("/institutes/america-makes/calls/new", data={
        "title": "Printed titanium", "description": "Faster qualification.", "opens_at": eastern(-1),
        "closes_at": eastern(30), "max_federal": "1,000,000", "min_cost_share": "0.5", "trl_min": "3",
        "trl_max": "8", "mrl_min": "3", "mrl_max": "8", "min_industry": "1", "min_academic": "0",
        "min_small_business": "0", "criteria": "50 Merit\n50 Impact"})
    assert response.status_code == 302, response.data
    call_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert staff.post(f"/calls/{call_id}/status", data={"status": "open"}).status_code == 302
    stale: list[Form] = []

    def proposal(title: str, *, submit: bool, keep_draft_form: bool = False) -> int:
        response = member.post(f"/calls/{call_id}/proposals", data={"organization": lead, "title": title})
        assert response.status_code == 302, response.data
        proposal_id = int(response.headers["Location"].split("/proposals/")[1].split("#")[0])
        assert member.post(f"/proposals/{proposal_id}/edit", data={
            "title": title, "abstract": "Qualify the parts.", "technical_plan": "Heat treatment.",
            "technology_area": "Additive manufacturing", "trl_start": "4", "trl_target": "6", "mrl_start": "4",
            "mrl_target": "6", "duration_months": "18", "federal_request": "500,000",
            "milestones": "6 | Alloy trials | Test report\n18 | Flight part | Part"}).status_code == 302
        if submit:  # the draft's cost-share form stays on its page
            partner = one(app, sa.select(Partner.id).where(Partner.proposal_id == proposal_id,
                                                           Partner.organization_id == lead))
            assert member.post(f"/proposals/{proposal_id}/partners/{partner}/cost-share", data={
                "amount": "300,000", "kind": "cash", "key": f"fuzz-cost-share-{proposal_id}"}).status_code == 302
            if keep_draft_form:  # the draft's form, left open while it is submitted
                stale.extend(forms_on(member, "member", f"/proposals/{proposal_id}/edit")[0])
            assert member.post(f"/proposals/{proposal_id}/submit").status_code == 302
            assert staff.post(f"/proposals/{proposal_id}/reviewers",
                              data={"email": f"admin3@{DEMO}"}).status_code == 302
        return proposal_id

    project = proposal("Printed brackets", submit=True, keep_draft_form=True)
    review_form = forms_on(reviewer, "reviewer", f"/proposals/{project}/review")[0]
    stale.extend(review_form)  # the review form, left open after the review is submitted
    scores = {name: "4" for name in review_form[0].fields if name.startswith("score_")}
    assert reviewer.post(f"/proposals/{project}/review", data={**scores, "action": "submit"}).status_code == 302
    assert staff.post(f"/proposals/{project}/decision", data={"decision": "approve", "note": "Go."}).status_code == 302
    assert member.post(f"/proposals/{project}/start").status_code == 302
    under_review = proposal("Cast housings", submit=True)
    draft = proposal("Sintered gears", submit=False)
    assert member.post(f"/proposals/{draft}/partners", data={"organization": university}).status_code == 302
    assert one(app, sa.select(Proposal.status).where(Proposal.id == project)) == ProposalStatus.ACTIVE

    # An application and a change of tier waiting for the institute
    response = member.post("/account/organizations", data={
        "organization": "Fuzz Foundry", "sector": "industry", "size": "small", "state": "OH"})
    assert response.status_code == 302, response.data
    foundry = one(app, sa.select(Organization.id).where(Organization.name == "Fuzz Foundry"))
    tiers = one(app, sa.select(sa.func.min(Membership.tier_id)))
    response = member.post("/institutes/america-makes/apply", data={
        "organization": foundry, "tier": tiers, "statement": "We cast.", "contact_name": "Admin 1",
        "contact_email": f"admin1@{DEMO}"})
    assert response.status_code == 302, response.data
    pending = one(app, sa.select(Membership.id).where(Membership.organization_id == foundry))
    lead_membership = one(app, sa.select(Membership.id).where(Membership.organization_id == lead))
    other_tier = one(app, sa.select(sa.func.max(Membership.tier_id)))
    assert member.post(f"/memberships/{lead_membership}/tier", data={"tier": other_tier}).status_code in (302, 303)

    # A receipt waiting for a second administrator
    lead_pledge = one(app, sa.select(sa.func.min(Pledge.id)).where(Pledge.organization_id == lead))
    receipts = app.test_client()
    assert login(receipts, f"receipts@{DEMO}", PASSWORD).status_code == 302
    assert receipts.post(f"/pledges/{lead_pledge}/receipts", data={
        "receipt-amount": "1,000", "receipt-received_on": utcnow().date().isoformat(),
        "receipt-key": "fuzz-receipt"}).status_code == 302

    # Someone asks to join the lead; links to confirm an address and to choose a new password
    joiner = app.test_client()
    assert joiner.post("/register", data={
        "full_name": "Jo Iner", "email": "joiner@example.com", "password": "a long enough passphrase",
        "organization": "Buckeye Precision Castings"}).status_code == 302
    assert joiner.post("/forgot-password", data={"email": "joiner@example.com"}).status_code == 302
    assert runner.invoke(args=["outbox", "work", "--once"]).exit_code == 0
    with app.app_context():
        mail = list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == "joiner@example.com")
                                       .order_by(OutboxMessage.id)))
        verify_token = link_in(mail[0], "/verify-email/").rsplit("/", 1)[1]
        reset_token = link_in(mail[-1], "/reset-password/").rsplit("/", 1)[1]

    ids = {
        "call_id": [call_id], "proposal_id": [project, under_review, draft], "org_id": [lead, foundry],
        "membership_id": [lead_membership, pending],
        "pledge_id": [lead_pledge, one(app, sa.select(sa.func.max(Pledge.id)))],
        "notification_id": [one(app, sa.select(sa.func.max(Notification.id)))],
        "verify_email": [verify_token], "reset_password": [reset_token], "slug": ["america-makes"],
    }
    assert one(app, sa.select(sa.func.count(Review.id)).where(Review.submitted_at.is_not(None))) == 1
    assert one(app, sa.select(sa.func.count(LedgerEntry.id)).where(LedgerEntry.idempotency_key == "fuzz-receipt")) == 1
    assert one(app, sa.select(Institute.id).where(Institute.slug == "america-makes")) is not None
    return Network(people=people, ids=ids, stale=stale)


def paths_for(rule, ids: dict) -> list[str]:
    """The rule's path once for each combination of ids from the network (tokens by endpoint)."""
    choices = []
    for name in sorted(rule.arguments):
        key = rule.endpoint.split(".")[-1] if name == "token" else name
        if key not in ids:
            return []
        choices.append([(name, value) for value in ids[key]])
    paths = []
    for combination in product(*choices):
        path = rule.rule
        for name, value in combination:
            path = re.sub(r"<(?:[^:<>]+:)?" + name + r">", str(value), path)
        paths.append(path)
    return paths


def walk(app) -> Network:
    """Build the network, then fetch every page as everyone and gather the forms and query names they show."""
    built = build_network(app)
    pages = [path for rule in app.url_map.iter_rules() if rule.endpoint != "static" and "GET" in rule.methods
             for path in paths_for(rule, built.ids)]
    pages += [f"/proposals/{proposal_id}?find=1" for proposal_id in built.ids["proposal_id"]]  # the partner finder
    seen, query_names = set(), set(QUERY_NAMES)
    forms = []
    for who, client in built.people.items():
        for page in pages:
            found, names = forms_on(client, who, page)
            query_names |= names
            for form in found:
                # One person per form, and one row's button for a column of them (retire each tier, verify each
                # receipt): the same code with another id.
                shape = (re.sub(r"\d+", "#", form.action), tuple(sorted(form.fields)))
                if shape not in seen:
                    seen.add(shape)
                    forms.append(form)
    forms += built.stale
    built.forms = sorted(forms, key=lambda form: bool(FINAL.search(form.action)))
    built.pages, built.query_names = sorted(set(pages)), sorted(query_names)
    return built


def fresh_schema(app) -> None:
    """An empty schema and empty caches, as the app fixture gives each test."""
    app.config["CACHE_KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"  # a shared Redis keeps the builds apart
    app.extensions.pop("snapshot_cache", None)
    with app.app_context():
        latest = app.extensions.get("snapshot_latest")  # the snapshot's own connection (PostgreSQL)
        if latest and latest["connection"] is not None:
            latest["connection"].close()
            latest["connection"] = None
        db.session.remove()
        db.drop_all()
        db.create_all()


@pytest.fixture(scope="module")
def fuzz_app():
    """One app for the module: building the network takes seconds, so the tests that only read share one."""
    app = create_app("testing", CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}")
    yield app
    fresh_schema(app)
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="module")
def network(fuzz_app):
    """One network for the module's tests, which run in the order written: those that fetch pages (and change
    next to nothing), the generated posts, and last the sweep of every form, which decides, withdraws and ends
    things as it goes (its final buttons last of all)."""
    fresh_schema(fuzz_app)
    return walk(fuzz_app)


def test_the_network_shows_the_forms_to_fuzz(network):
    """The walk reaches the pages that change things, or the fuzzing below would prove little."""
    ids = network.ids
    project, under_review, draft = ids["proposal_id"]
    actions = {form.action for form in network.forms}
    expected = {
        "/login", "/register", "/forgot-password", f"/reset-password/{ids['reset_password'][0]}",
        f"/verify-email/{ids['verify_email'][0]}", "/account/profile", "/account/organizations", "/ledger/federal",
        f"/organizations/{ids['org_id'][0]}/manage", f"/organizations/{ids['org_id'][0]}/pledges/new",
        f"/pledges/{ids['pledge_id'][0]}/receipts", f"/pledges/{ids['pledge_id'][0]}/cancel",
        f"/memberships/{ids['membership_id'][1]}/decision", f"/memberships/{ids['membership_id'][0]}/tier/decision",
        f"/calls/{ids['call_id'][0]}/edit", f"/calls/{ids['call_id'][0]}/proposals",
        f"/proposals/{project}/review", f"/proposals/{project}/edit", f"/proposals/{project}/updates",
f"/proposals/{under_review}/review", f"/proposals/{under_review}/decision",
        f"/proposals/{under_review}/return", f"/proposals/{under_review}/reviewers", f"/proposals/{draft}/edit",
        f"/proposals/{draft}/partners", f"/proposals/{draft}/submit", "/institutes/america-makes/tiers",
        "/institutes/america-makes/staff",
    }
    assert expected <= actions, sorted(expected - actions)
    patterns = [r"/pledges/\d+/entries/\d+/verify", r"/proposals/\d+/milestones/\d+/report",
                r"/proposals/\d+/partners/\d+/answer", r"/proposals/\d+/partners/\d+/cost-share",
                r"/organizations/\d+/requests/\d+"]
    for pattern in patterns:
        assert any(re.fullmatch(pattern, action) for action in actions), pattern
    assert {"q", "sector", "state", "institute", "agency", "focus", "members", "size", "fiscal_year",
            "organization", "kind", "status", "page"} <= set(network.query_names)
    assert len(network.pages) > 50


def test_every_page_takes_every_nasty_query_string(network):
    """Each kind of page once (the first of its ids) with every value in every query parameter at once."""
    people = sorted(network.people)
    pages = {}
    for page in network.pages:
        pages.setdefault(re.sub(r"\d+", "#", page), page)
    for number, value in enumerate(NASTY + PLAIN[:4]):
        for index, page in enumerate(sorted(pages.values())):
            who = people[(number + index) % len(people)]
            response = get(network.people[who], page, dict.fromkeys(network.query_names, value))
            assert response.status_code < 500, (who, page, value)


@FUZZ
@given(data=st.data())
def test_no_page_answers_a_query_string_with_a_server_error(network, data):
    who = data.draw(st.sampled_from(sorted(network.people)))
    page = data.draw(st.sampled_from(network.pages))
    query = data.draw(st.dictionaries(st.sampled_from(network.query_names), values, max_size=4))
    response = get(network.people[who], page, query)
    assert response.status_code < 500, (who, page, query)


@FUZZ
@given(data=st.data())
def test_no_form_answers_generated_values_with_a_server_error(network, data):
    form = data.draw(st.sampled_from(network.forms))
    posted = {}
    for name, offered in form.fields.items():
        posted[name] = data.draw(st.one_of(st.sampled_from(offered), values) if offered else values)
    dropped = data.draw(st.sets(st.sampled_from(sorted(posted)), max_size=2)) if posted else set()
    response = network.people[form.who].post(form.action, data={k: v for k, v in posted.items() if k not in dropped})
    assert response.status_code < 500, (form.who, form.action, posted)


def test_every_form_takes_every_nasty_value(network):
    """Every value in every field at once, then each of the shorter list in each field alone (the others as
    offered, so that the rules behind the form are reached), then nothing at all."""
    for form in network.forms:
        client = network.people[form.who]
        offered = {name: choices[0] if choices else "" for name, choices in form.fields.items()}
        for value in NASTY if form.fields else []:
            response = client.post(form.action, data=dict.fromkeys(form.fields, value))
            assert response.status_code < 500, (form.who, form.action, value)
        for name in form.fields if len(form.fields) > 1 else []:  # a single field had every value already
            for value in SHORT:
                response = client.post(form.action, data={**offered, name: value})
                assert response.status_code < 500, (form.who, form.action, name, value)
        response = client.post(form.action, data={})
        assert response.status_code < 500, (form.who, form.action, "empty")
