"""`flask ledger verify` reads one moment: pledges written while it runs never look like differences."""

import threading
import time

import pytest

from portal.extensions import db
from portal.models import Institute, Organization, User
from portal.services import ledger
from portal.services.clock import today
from portal.services.ledger import PledgeInput
from tests.conftest import postgres_url
from tests.factories import make_institute, make_membership, make_tier, org_admin

WRITERS = 4


@pytest.fixture(params=["sqlite-file", "postgresql"])
def app(request, make_app, tmp_path):
    if request.param == "postgresql":
        return make_app(SQLALCHEMY_DATABASE_URI=postgres_url())
    return make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'portal.db'}")


def test_verify_while_pledges_are_written(app):
    institute = make_institute(app)
    tier = make_tier(app, institute)
    members = []
    for number in range(WRITERS):
        admin, organization = org_admin(app, email=f"cfo{number}@member{number}.example")
        make_membership(app, organization, institute, tier)
        members.append((admin.id, organization.id))
    stop = threading.Event()
    written, errors = [0] * WRITERS, []

    def write_pledges(index, admin_id, organization_id):
        with app.app_context():
            try:
                while not stop.is_set():
                    ledger.record_pledge(
                        db.session.get(User, admin_id), db.session.get(Organization, organization_id),
                        db.session.get(Institute, institute.id),
                        PledgeInput(amount_cents=1_000_00, kind="cash", fiscal_year=ledger.fiscal_year_of(today())),
                        key=f"writer-{index}-{written[index]}")
                    db.session.commit()
                    written[index] += 1
            except Exception as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write_pledges, args=(i, *member)) for i, member in enumerate(members)]
    for thread in threads:
        thread.start()
    outputs = []
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            result = app.test_cli_runner().invoke(args=["ledger", "verify"])
            outputs.append((result.exit_code, result.output))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert sum(written) > 20, "the writers hardly wrote: the test proves nothing"
    assert len(outputs) >= 3
    assert [output for output in outputs if output[0] != 0] == []
    final = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert final.exit_code == 0, final.output
