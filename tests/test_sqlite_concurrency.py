"""The embedded SQLite default under several people at once: real threads, a database file, no 500s."""

import threading

import sqlalchemy as sa

from portal.extensions import db
from portal.models import LedgerEntry, Pledge, User
from portal.services.clock import today
from portal.services.ledger import fiscal_year_of
from tests.conftest import login
from tests.factories import PASSWORD, make_institute, make_membership, make_tier, make_user, org_admin

PEOPLE = 16


def all_at_once(requests) -> list:
    """Make each request in its own thread, released together; return each status (or what was raised:
    the test client passes on a request's exception, which a server would answer with 500)."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def worker(index, request):
        barrier.wait(timeout=30)
        try:
            results[index] = request().status_code
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i, request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_registrations_sign_ins_and_pledges_at_once_on_a_database_file(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'portal.db'}")
    institute = make_institute(app)
    tier = make_tier(app, institute)
    members = []
    for number in range(PEOPLE):
        admin, organization = org_admin(app, email=f"cfo{number}@member{number}.example")
        make_membership(app, organization, institute, tier)
        members.append((admin, organization))
    people = [make_user(app, email=f"person{number}@people.example") for number in range(PEOPLE)]

    def register(number):
        data = {"full_name": f"New Person {number}", "email": f"new{number}@newcomers.example",
                "password": PASSWORD, "organization": f"Newcomer Works {number}", "sector": "industry",
                "size": "small", "state": "OH"}
        client = app.test_client()
        return lambda: client.post("/register", data=data)

    def sign_in(person):
        client = app.test_client()
        return lambda: login(client, person.email)

    def pledge(admin, organization):
        client = app.test_client()
        assert login(client, admin.email).status_code == 302
        form = {"institute": institute.id, "amount": "250,000", "kind": "cash", "fiscal_year": fiscal_year_of(today()),
                "schedule": "", "note": "", "key": f"pledge-{organization.id}"}
        return lambda: client.post(f"/organizations/{organization.id}/pledges/new", data=form)

    requests = ([register(number) for number in range(PEOPLE)] + [sign_in(person) for person in people]
                + [pledge(admin, organization) for admin, organization in members])
    results = all_at_once(requests)

    assert results == [302] * len(requests)
    with app.app_context():
        registered = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email.like("new%")))
        assert registered == PEOPLE
        assert db.session.scalar(sa.select(sa.func.count(Pledge.id))) == PEOPLE
        assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == PEOPLE
