"""The personal home: what waits for each person, by role, each linking to where they act; bounded queries."""

from datetime import timedelta

from sqlalchemy import event

from portal.extensions import db
from portal.models import (
    AffiliationStatus,
    Instalment,
    Institute,
    Organization,
    Pledge,
    Role,
    User,
)
from portal.services import home, ledger, memberships, organizations
from portal.services.clock import today
from tests.conftest import login
from tests.factories import (
    affiliate,
    make_institute,
    make_membership,
    make_pledge,
    make_staff,
    make_tier,
    make_user,
    org_admin,
)
from tests.test_proposals import submitted_proposal


class Counter:
    """Counts the SQL statements run while it is active."""

    def __init__(self):
        self.statements: list[str] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)


def get(model, id_):
    return db.session.get(model, id_)


def test_signed_out_home_is_the_public_page_and_signed_in_it_lists_what_waits(client, app, ledger_world):
    w = ledger_world
    response = client.get("/")
    assert b"The network at a glance" in response.data
    with app.app_context():
        pledge = make_pledge(app, w.admin, w.organization, w.institute, cents=50_000_00)
        pledge_id = pledge.id
        ledger.record_receipt(get(User, w.recorder.id), get(Pledge, pledge_id), amount_cents=12_345_00,
                              received_on=today(), key=None)
        db.session.commit()
    login(client, w.checker.email)
    page = client.get("/").get_data(as_text=True)
    assert "The network at a glance" not in page
    assert "Receipts to verify" in page
    assert f'href="/pledges/{pledge_id}"' in page and "Verify $12,345 from" in page
    assert "<title>(1) Home" in page
    assert '<span class="portal-home__count">1<span class="usa-sr-only"> waiting for you</span>' in page


def test_the_recorder_is_never_asked_to_verify_their_own_receipt(app, ctx, ledger_world):
    w = ledger_world
    pledge = make_pledge(app, w.admin, w.organization, w.institute)
    ledger.record_receipt(get(User, w.recorder.id), get(Pledge, pledge.id), amount_cents=1_000_00,
                          received_on=today(), key=None)
    db.session.flush()
    assert home.home_of(get(User, w.recorder.id)).tasks.get("receipts") is None
    [receipt] = home.home_of(get(User, w.checker.id)).tasks["receipts"]
    ledger.verify_receipt(get(User, w.checker.id), receipt, key=None)
    db.session.flush()
    assert home.home_of(get(User, w.checker.id)).tasks.get("receipts") is None
    assert home.waiting_count(get(User, w.checker.id)) == 0


def test_applications_join_requests_and_the_empty_state_of_a_new_organization(app, ctx, membership_world):
    w = membership_world
    admin = get(User, w.admin.id)
    start = home.home_of(admin)
    assert start.waiting == 0 and start.memberships == 0  # the page offers "Apply to an institute"
    memberships.apply(admin, get(Organization, w.organization.id), get(Institute, w.institute.id),
                      get(type(w.tier), w.tier.id), statement="We make parts.", contact_name="Pat",
                      contact_email="pat@example.com")
    colleague = make_user(app, email="colleague@acme.example")
    organizations.join_or_create(colleague, organizations.OrganizationChoice(name=w.organization.name))
    db.session.flush()
    staff_home = home.home_of(get(User, w.staff.id))
    [application] = staff_home.tasks["applications"]
    assert application.organization_id == w.organization.id
    admin_home = home.home_of(admin)
    [request] = admin_home.tasks["join_requests"]
    assert request.user_id == colleague.id
    assert admin_home.memberships == 1
    assert home.waiting_count(admin) == 1 and home.waiting_count(get(User, w.staff.id)) == 1


def test_instalments_due_are_those_not_yet_covered_by_what_was_received(app, ctx, ledger_world):
    w = ledger_world
    pledge = make_pledge(app, w.admin, w.organization, w.institute, cents=3_000_00)
    p = get(Pledge, pledge.id)
    for days, cents in ((-10, 1_000_00), (10, 1_000_00), (200, 1_000_00)):
        db.session.add(Instalment(pledge_id=p.id, due_on=today() + timedelta(days=days), amount_cents=cents))
    db.session.flush()
    due = home.home_of(get(User, w.admin.id)).tasks["instalments"]
    assert [i.due_on for i in due] == [today() - timedelta(days=10), today() + timedelta(days=10)]
    ledger.record_receipt(get(User, w.recorder.id), p, amount_cents=1_000_00, received_on=today(), key=None)
    db.session.flush()
    [left] = home.home_of(get(User, w.admin.id)).tasks["instalments"]
    assert left.due_on == today() + timedelta(days=10)


def test_reviews_proposals_to_assign_and_decide_and_the_authors_list(client, app, proposal_world):
    w = proposal_world
    _call_id, proposal_id = submitted_proposal(client, app, w)
    with app.app_context():
        assert [p.title for p in home.home_of(get(User, w.engineer.id)).proposals] == ["Printed titanium brackets"]
        assert [x.id for x in home.home_of(get(User, w.staff.id)).tasks["to_assign"]] == [proposal_id]
    login(client, w.staff.email)
    page = client.get("/").get_data(as_text=True)
    assert f'href="/proposals/{proposal_id}#review">Assign reviewers' in page
    client.post(f"/proposals/{proposal_id}/reviewers", data={"email": w.reviewer_one.email})
    client.post("/logout")
    with app.app_context():
        staff_home = home.home_of(get(User, w.staff.id))
        assert "to_assign" not in staff_home.tasks and "to_decide" not in staff_home.tasks  # the review is due
        [review] = home.home_of(get(User, w.reviewer_one.id)).tasks["reviews"]
        assert review.proposal_id == proposal_id
        assert home.home_of(get(User, w.reviewer_two.id)).waiting == 0


def test_a_network_administrator_is_asked_to_staff_institutes_nobody_administers(app, ctx):
    admin = make_user(app, role=Role.NETWORK_ADMIN)
    make_institute(app, slug="lonely", acronym="LONE")
    [institute] = home.home_of(admin).tasks["unstaffed"]
    assert institute.acronym == "LONE"
    assert home.waiting_count(make_user(app)) == 0  # not for anyone else


def _busy_world(app, n: int):
    """An institute with two administrators and ``n`` of everything that waits for them or for an
    organization's admin."""
    institute = make_institute(app, slug=f"busy{n}", acronym=f"B{n}")
    tier = make_tier(app, institute)
    recorder, checker = make_staff(app, institute), make_staff(app, institute)
    admin, organization = org_admin(app)
    make_membership(app, organization, institute, tier)
    for _ in range(n):
        pledge = make_pledge(app, admin, organization, institute, cents=10_000_00)
        db.session.add(Instalment(pledge_id=pledge.id, due_on=today() + timedelta(days=5), amount_cents=10_000_00))
        ledger.record_receipt(recorder, pledge, amount_cents=1_000_00, received_on=today(), key=None)
        asker = make_user(app)
        affiliate(app, asker, organization, status=AffiliationStatus.PENDING)
        make_membership(app, org_admin(app)[1], institute, tier, status="pending")
    db.session.flush()
    return checker, admin


def test_the_home_page_runs_the_same_number_of_queries_however_much_waits(app, client):
    with app.app_context():
        small_checker, small_admin = _busy_world(app, 2)
        big_checker, big_admin = _busy_world(app, 8)
        db.session.commit()
        people = [(u.email) for u in (small_checker, small_admin, big_checker, big_admin)]
    counts = {}
    for email in people:
        client.post("/logout")
        login(client, email)
        with app.app_context(), Counter() as counter:
            response = client.get("/")
        assert response.status_code == 200
        counts[email] = len(counter.statements)
    small_c, small_a, big_c, big_a = (counts[e] for e in people)
    assert small_c == big_c, counts
    assert small_a == big_a, counts


def test_the_headers_count_is_kept_until_something_changes_and_then_shows_the_change(app, client,
                                                                                       membership_world):
    w = membership_world
    login(client, w.staff.email)
    badge = '<span class="portal-home__count">1<span class="usa-sr-only"> waiting for you</span>'
    assert badge not in client.get("/account").get_data(as_text=True)
    with app.app_context(), Counter() as counter:
        client.get("/account")
    assert not any("institute_staff.institute_id" in s and "count(" in s for s in counter.statements), \
        "the count was kept, not asked again"
    with app.app_context():  # an organization applies: the staff has an application to decide at once
        memberships.apply(get(User, w.admin.id), get(Organization, w.organization.id),
                          get(Institute, w.institute.id), get(type(w.tier), w.tier.id), statement="We make parts.",
                          contact_name="Pat", contact_email="pat@example.com")
        db.session.commit()
    assert badge in client.get("/account").get_data(as_text=True)
