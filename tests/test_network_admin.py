"""Network administration: institutes added and retired, accounts disabled and enabled (also from the command
line), organizations verified, renamed and merged, with the figures and the audit log kept true."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    AuditEvent,
    Institute,
    LedgerEntry,
    Membership,
    Organization,
    Pledge,
    Role,
    Tier,
    User,
    UserSession,
)
from portal.models.base import utcnow
from portal.services import DomainError, accounts, ledger, memberships, network, summary
from portal.services.clock import today
from tests.conftest import login
from tests.factories import (
    PASSWORD,
    affiliate,
    make_institute,
    make_membership,
    make_organization,
    make_pledge,
    make_tier,
    make_user,
    org_admin,
)

FY = ledger.fiscal_year_of(today())


def get(model, obj):
    return db.session.get(model, obj.id)


def actions(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def admin(app):
    return make_user(app, email="netadmin@example.gov", role=Role.NETWORK_ADMIN)


INSTITUTE_FORM = {"name": "Bioprocessing Institute", "acronym": "BIO-X", "agency": "DOC", "founded_year": "2017",
                  "city": "Newark", "state": "DE", "focus": "Biopharmaceutical manufacturing",
                  "website": "bio-x.example.org", "federal_base_award": "70,000,000", "description": "Cells.",
                  "default_tiers": "y"}


# Who may ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/network/", "/network/institutes", "/network/users", "/network/organizations",
                                  "/network/users/1", "/network/organizations/1", "/network/users/99999"])
def test_pages_are_for_network_administrators_only(client, app, path):
    assert client.get(path).status_code == 302  # to sign in
    staff = make_user(app, email="someone@example.com")
    login(client, staff.email)
    assert client.get(path).status_code == 403  # the same for an account that exists and one that does not
    assert client.post("/network/users/1/disable", data={"reason": "x"}).status_code == 403


def test_the_landing_page_lists_the_tools(client, app, admin):
    login(client, admin.email)
    page = client.get("/network/").get_data(as_text=True)
    for link in ("/network/institutes", "/network/users", "/network/organizations", "/ledger/federal"):
        assert f'href="{link}"' in page


def test_a_member_is_refused_by_the_services_too(app, ctx):
    member = make_user(app)
    with pytest.raises(DomainError) as error:
        network.add_institute(member, network.InstituteInput(name="X", acronym="X", agency="DOD", founded_year=2020,
                                                             city="Here", state="OH", focus="Things"))
    assert error.value.status == 403


# Institutes ---------------------------------------------------------------------------------

def test_an_institute_is_added_with_its_tiers_and_audited(client, app, admin):
    login(client, admin.email)
    response = client.post("/network/institutes", data=INSTITUTE_FORM)
    assert response.status_code == 302 and response.headers["Location"].endswith("/network/institutes/bio-x")
    with app.app_context():
        institute = db.session.scalar(sa.select(Institute).where(Institute.slug == "bio-x"))
        assert (institute.acronym, institute.agency, institute.founded_year, institute.state, institute.focus,
                institute.website, institute.federal_base_award_cents) == (
            "BIO-X", "DOC", 2017, "DE", "Biopharmaceutical manufacturing", "https://bio-x.example.org",
            70_000_000_00)
        tiers = set(db.session.scalars(sa.select(Tier.name).where(Tier.institute_id == institute.id)))
        assert tiers == {"Platinum", "Gold", "Silver", "Academic/Government"}
        event = actions("institute.created")[0]
        assert event.actor_id == admin.id and event.details["founded_year"] == 2017
    assert client.get("/institutes/bio-x").status_code == 200


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"founded_year": "1990"}, "founded_year", "Enter a year from 2012"),
    ({"founded_year": "twenty"}, "founded_year", "Enter a whole number"),
    ({"state": "ZZ"}, "state", "Choose one of the options"),
    ({"agency": "FBI"}, "agency", "Choose one of the options"),
    ({"federal_base_award": "1e9"}, "federal_base_award", "scientific notation"),
    ({"acronym": "TI"}, "acronym", "already an institute"),
    ({"website": "not a site"}, "website", "Enter a web address"),
])
def test_bad_institute_input_is_shown_beside_its_field_and_nothing_is_added(client, app, admin, change, field,
                                                                           words):
    make_institute(app)  # TI
    login(client, admin.email)
    response = client.post("/network/institutes", data={**INSTITUTE_FORM, **change})
    assert response.status_code in (409, 422)
    page = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert error is not None and words in error.group(1)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Institute)) == 1


def test_a_retired_institute_takes_no_applications(client, app, admin):
    institute = make_institute(app)
    tier = make_tier(app, institute)
    applicant, organization = org_admin(app)
    login(client, admin.email)
    assert client.post(f"/network/institutes/{institute.slug}/retire",
                       data={"retired_on": "2999-01-01", "reason": "Funding ended"}).status_code == 422
    response = client.post(f"/network/institutes/{institute.slug}/retire",
                           data={"retired_on": today().isoformat(), "reason": "Funding ended"})
    assert response.status_code == 302
    with app.app_context():
        retired = get(Institute, institute)
        assert retired.retired_on == today() and actions("institute.retired")[0].reason == "Funding ended"
        with pytest.raises(DomainError, match="left the network"):
            memberships.apply(get(User, applicant), get(Organization, organization), retired, get(Tier, tier),
                              statement="Join", contact_name="Pat", contact_email="pat@example.com")
    assert "left the network on" in client.get(f"/institutes/{institute.slug}").get_data(as_text=True)
    again = client.post(f"/network/institutes/{institute.slug}/retire",
                        data={"retired_on": today().isoformat(), "reason": "Again"}, follow_redirects=True)
    assert "retired already" in again.get_data(as_text=True)


# Accounts -----------------------------------------------------------------------------------

def test_users_are_listed_by_keyset_and_searched(client, app, admin):
    for n in range(55):
        make_user(app, email=f"user{n:02d}@example.com", full_name=f"Person {n}")
    login(client, admin.email)
    first = client.get("/network/users").get_data(as_text=True)
    assert "user00@example.com" in first and "user49@example.com" not in first and 'rel="next"' in first
    found = client.get("/network/users?q=person 7").get_data(as_text=True)
    assert "user07@example.com" in found and "user08@example.com" not in found


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(client, app, admin):
    user = make_user(app, email="leaver@example.com")
    signed_in = app.test_client()
    login(signed_in, user.email)
    assert signed_in.get("/account").status_code == 200
    login(client, admin.email)
    assert client.post(f"/network/users/{user.id}/disable", data={"reason": ""}).status_code == 422
    assert client.post(f"/network/users/{user.id}/disable", data={"reason": "Left the company"}).status_code == 302
    assert signed_in.get("/account").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                                 .where(UserSession.user_id == user.id)) == 0
        assert actions("user.disabled")[0].reason == "Left the company"
    again = app.test_client()
    assert login(again, user.email).status_code == 422  # the form again, with its message; not signed in
    assert again.get("/account").status_code == 302
    assert client.post(f"/network/users/{user.id}/enable", data={"reason": "Came back"}).status_code == 302
    assert login(app.test_client(), user.email).status_code == 302
    with app.app_context():
        assert actions("user.enabled")[0].actor_id == admin.id


def test_an_administrator_cannot_disable_themself(client, app, admin):
    login(client, admin.email)
    response = client.post(f"/network/users/{admin.id}/disable", data={"reason": "Oops"}, follow_redirects=True)
    assert "your own account" in response.get_data(as_text=True)
    with app.app_context():
        assert get(User, admin).active


def test_the_command_line_disables_and_enables(runner, app):
    user = make_user(app, email="cli@example.com")
    result = runner.invoke(args=["accounts", "disable", "cli@example.com", "--reason", "Compromised"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert not get(User, user).active
        assert actions("user.disabled")[0].actor_id is None
    assert runner.invoke(args=["accounts", "disable", "cli@example.com", "--reason", "x"]).exit_code == 1
    assert runner.invoke(args=["accounts", "disable", "nobody@example.com", "--reason", "x"]).exit_code == 1
    assert runner.invoke(args=["accounts", "enable", "cli@example.com", "--reason", "Cleaned"]).exit_code == 0
    with app.app_context():
        assert get(User, user).active


# Organizations ------------------------------------------------------------------------------

def test_verify_and_rename(client, app, admin):
    organization = make_organization(app, name="Acme Widgets", listed=False)
    make_organization(app, name="Other Co")
    login(client, admin.email)
    listing = client.get("/network/organizations").get_data(as_text=True)
    assert "Acme Widgets" in listing  # unlisted ones too
    assert client.post(f"/network/organizations/{organization.id}/verify",
                       data={"decision": "verify"}).status_code == 302
    clash = client.post(f"/network/organizations/{organization.id}/rename", data={"rename-name": "other co"})
    assert clash.status_code == 409 and "merge them instead" in clash.get_data(as_text=True)
    assert client.post(f"/network/organizations/{organization.id}/rename",
                       data={"rename-name": "Acme Widgets Inc."}).status_code == 302
    with app.app_context():
        renamed = get(Organization, organization)
        assert renamed.verified_by_id == admin.id and renamed.name == "Acme Widgets Inc."
        assert renamed.name_key == "acme widgets inc."
        assert actions("organization.renamed")[0].details == {"name": ["Acme Widgets", "Acme Widgets Inc."]}


class Duplicates:
    """Acme (the survivor) and ACME Corp (a duplicate registered in another state), each with people, a
    membership of its own institute, and a pledge."""

    def __init__(self, app):
        self.one = make_institute(app, slug="one", acronym="ONE")
        self.two = make_institute(app, slug="two", acronym="TWO")
        self.tier_one, self.tier_two = make_tier(app, self.one), make_tier(app, self.two)
        self.admin, self.survivor = org_admin(app, make_organization(app, name="Acme", state="OH"))
        self.dup_admin, self.absorbed = org_admin(app, make_organization(app, name="ACME Corp", state="MI"))
        self.both = make_user(app, email="both@acme.example")
        affiliate(app, self.both, self.survivor, role=AffiliationRole.MEMBER, status=AffiliationStatus.PENDING)
        affiliate(app, self.both, self.absorbed, role=AffiliationRole.ADMIN)
        make_membership(app, self.survivor, self.one, self.tier_one)
        self.moving = make_membership(app, self.absorbed, self.two, self.tier_two)
        make_pledge(app, self.admin, self.survivor, self.one, cents=50_000_00, fiscal_year=FY)
        self.pledge = make_pledge(app, self.dup_admin, self.absorbed, self.two, cents=70_000_00, fiscal_year=FY)


def test_a_merge_moves_everything_and_keeps_the_figures_true(client, app, admin):
    d = Duplicates(app)
    with app.app_context():
        entries_before = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))
        assert summary.problems() == []
    login(client, admin.email)
    response = client.post(f"/network/organizations/{d.survivor.id}/merge",
                           data={"merge-absorbed": "acme corp", "merge-reason": "Registered twice"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Organization, d.absorbed.id) is None
        assert get(Membership, d.moving).organization_id == d.survivor.id
        assert get(Pledge, d.pledge).organization_id == d.survivor.id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == entries_before
        both = db.session.scalars(sa.select(Affiliation).where(Affiliation.user_id == d.both.id)).all()
        assert [(a.organization_id, a.role, a.status) for a in both] == [
            (d.survivor.id, AffiliationRole.ADMIN, AffiliationStatus.ACTIVE)]
        assert db.session.scalar(sa.select(Affiliation.organization_id)
                                 .where(Affiliation.user_id == d.dup_admin.id)) == d.survivor.id
        assert summary.problems() == []  # members by state, pledgers: moved by exactly the difference
        event = actions("organization.merged")[0]
        assert event.subject_id == d.survivor.id and event.reason == "Registered twice"
        assert event.details["absorbed"]["name"] == "ACME Corp" and event.details["pledges"] == [d.pledge.id]
        assert actions("pledge.organization_changed")[0].subject_id == d.pledge.id


def test_two_live_memberships_of_one_institute_stop_a_merge_with_a_message(client, app, admin):
    d = Duplicates(app)
    make_membership(app, d.absorbed, d.one, d.tier_one, status="pending")
    login(client, admin.email)
    response = client.post(f"/network/organizations/{d.survivor.id}/merge",
                           data={"merge-absorbed": "ACME Corp", "merge-reason": "Registered twice"})
    assert response.status_code == 409
    assert "Both have a pending or active membership of ONE" in response.get_data(as_text=True)
    with app.app_context():
        assert get(Organization, d.absorbed) is not None
        assert get(Pledge, d.pledge).organization_id == d.absorbed.id
        assert actions("organization.merged") == []


def test_merge_input_is_checked(client, app, admin):
    d = Duplicates(app)
    login(client, admin.email)
    url = f"/network/organizations/{d.survivor.id}/merge"
    unknown = client.post(url, data={"merge-absorbed": "Nobody Inc", "merge-reason": "x"})
    assert unknown.status_code == 422 and "No organization has that name" in unknown.get_data(as_text=True)
    itself = client.post(url, data={"merge-absorbed": "Acme", "merge-reason": "x"})
    assert itself.status_code == 422 and "cannot be merged into itself" in itself.get_data(as_text=True)
    no_reason = client.post(url, data={"merge-absorbed": "ACME Corp", "merge-reason": ""})
    assert no_reason.status_code == 422


def test_every_reference_to_an_organization_is_moved_by_a_merge():
    """A table added later that refers to organizations is moved too: the merge walks the foreign keys."""
    columns = {(c.table.name, c.name) for c in network.organization_references()}
    assert {("memberships", "organization_id"), ("pledges", "organization_id"),
            ("proposals", "lead_organization_id"), ("proposal_partners", "organization_id"),
            ("affiliations", "organization_id")} <= columns


def test_a_member_of_the_absorbed_organization_is_still_signed_in(app, ctx):
    d = Duplicates(app)
    admin = make_user(app, role=Role.NETWORK_ADMIN)
    network.merge_organizations(admin, get(Organization, d.survivor), get(Organization, d.absorbed),
                                reason="Same firm")
    db.session.commit()
    assert accounts.authenticate(d.dup_admin.email, PASSWORD) is not None


@pytest.mark.parametrize("change", ["disable", "merge", "retire", "add"])
def test_sensitive_changes_ask_for_a_fresh_second_factor(client, app, admin, change):
    d = Duplicates(app)
    user = make_user(app, email="target@example.com")
    url, data = {
        "disable": (f"/network/users/{user.id}/disable", {"reason": "Left"}),
        "merge": (f"/network/organizations/{d.survivor.id}/merge",
                  {"merge-absorbed": "ACME Corp", "merge-reason": "Twice"}),
        "retire": (f"/network/institutes/{d.one.slug}/retire",
                   {"retired_on": today().isoformat(), "reason": "Ended"}),
        "add": ("/network/institutes", INSTITUTE_FORM),
    }[change]
    login(client, admin.email)
    with app.app_context():
        db.session.execute(sa.update(UserSession).values(second_factor_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    response = client.post(url, data=data)
    assert response.status_code == 303 and "/account/second-factor/confirm" in response.headers["Location"]
    with app.app_context():
        assert get(User, user).active and get(Organization, d.absorbed) is not None
        assert get(Institute, d.one).retired_on is None
        assert db.session.scalar(sa.select(Institute).where(Institute.slug == "bio-x")) is None
        assert actions("user.disabled") == actions("organization.merged") == actions("institute.retired") == []


def test_a_retired_institute_is_not_counted_now_and_is_listed_apart(client, app, admin):
    """The snapshot of now counts the institutes active now and the organizations with a membership in force at
    one of them, as a recount from the tables says; the directory lists retired institutes apart."""
    staying, leaving = make_institute(app), make_institute(app, slug="leaving", acronym="LV")
    members = [make_organization(app, name=f"Member {n}") for n in range(4)]
    for n, organization in enumerate(members):  # 0 and 1 at both, 2 at the one staying, 3 at the one leaving
        for institute in ([staying, leaving] if n < 2 else [staying] if n == 2 else [leaving]):
            make_membership(app, organization, institute, make_tier(app, institute, name=f"Tier {n}"))
    login(client, admin.email)
    before = dict(client.get("/snapshot.json").get_json()["tables"]["overview"]["rows"])
    assert (before["institutes"], before["member organizations"]) == (2, 4)
    response = client.post(f"/network/institutes/{leaving.slug}/retire",
                           data={"retired_on": today().isoformat(), "reason": "Funding ended"})
    assert response.status_code == 302
    client.get("/logout")
    with app.app_context():
        active = db.session.scalars(sa.select(Institute.id).where(Institute.retired_on.is_(None))).all()
        recount = len(set(db.session.scalars(sa.select(Membership.organization_id).where(
            Membership.in_force(today()), Membership.institute_id.in_(active)))))
        assert summary.problems() == []  # `flask ledger verify` agrees
    data = client.get("/snapshot.json").get_json()["tables"]
    now = dict(data["overview"]["rows"])
    assert (now["institutes"], now["member organizations"]) == (len(active), recount) == (1, 3)
    assert sum(row[1] for row in data["members_by_sector"]["rows"]) == 3
    assert "LV" in [row[0] for row in data["coinvestment_by_institute"]["rows"]]  # its history stays
    year = ledger.fiscal_year_of(today())
    as_of = dict(client.get(f"/snapshot.json?fy={year}").get_json()["tables"]["fy_overview"]["rows"])
    assert as_of["institutes active"] == 2  # active during the fiscal year: it left on its last day, this year
    directory = client.get("/institutes/").get_data(as_text=True)
    active_part, retired_part = directory.split('<h2 id="retired-heading"')
    assert ">TI</a>" in active_part and ">LV</a>" not in active_part
    assert f">LV</a>: {leaving.name}, retired in {today().year}" in retired_part
    assert "1 institute; 1 retired." in directory
