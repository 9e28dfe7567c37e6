"""The API over HTTP against a live server: a client generated from the OpenAPI description (openapi-python-client,
into a temporary folder, so it always matches the description) records a pledge and a receipt; and the example
script walks through an organization admin's and the staff's work with four tokens."""

import importlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db
from portal.models import Sector
from portal.services import ledger
from portal.services.clock import today
from tests.api_helpers import make_token
from tests.factories import (
    make_call,
    make_institute,
    make_membership,
    make_organization,
    make_staff,
    make_tier,
    make_user,
    org_admin,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def live(tmp_path):
    """The portal on a free port of 127.0.0.1, on a SQLite file of its own; stops when the test ends."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'live.db'}", RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-live-server", daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


def generated_client(app, folder: Path):
    """The package openapi-python-client makes from the app's description, imported."""
    (folder / "openapi.json").write_text(json.dumps(app.test_client().get("/api/v1/openapi.json").get_json()))
    (folder / "config.yml").write_text("package_name_override: portal_client\n")
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run([str(generator), "generate", "--path", "openapi.json", "--config", "config.yml",
                             "--meta", "none", "--output-path", "portal_client"], cwd=folder, capture_output=True,
                            text=True, timeout=120, check=False)
    assert (folder / "portal_client" / "client.py").exists(), result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        return (importlib.import_module("portal_client"),
                importlib.import_module("portal_client.api.api_members"),
                importlib.import_module("portal_client.models"))
    finally:
        sys.path.remove(str(folder))


def test_a_generated_client_records_a_pledge_and_a_receipt(live, tmp_path):
    app, url = live
    institute = make_institute(app)
    admin, organization = org_admin(app, email="cfo@acme.example")
    make_membership(app, organization, institute, make_tier(app, institute))
    recorder = make_staff(app, institute, email="recorder@institute.example")
    package, operations, models = generated_client(app, tmp_path)
    for name in ("record_pledge", "record_receipt", "pledge_detail"):
        importlib.import_module(f"portal_client.api.api_members.{name}")
    member = package.AuthenticatedClient(base_url=url, token=make_token(app, admin))
    staff = package.AuthenticatedClient(base_url=url, token=make_token(app, recorder))

    answer = operations.record_pledge.sync_detailed(
        client=member, idempotency_key="crm-pledge-1",
        body=models.PledgeIn(organization_id=organization.id, institute=institute.slug, amount_cents=50_000_00,
                             fiscal_year=ledger.fiscal_year_of(today())))
    assert answer.status_code == 201, answer.content
    pledge = answer.parsed
    assert pledge.remaining_cents == 50_000_00
    receipt = operations.record_receipt.sync(client=staff, pledge_id=pledge.id,
                                             body=models.ReceiptIn(amount_cents=20_000_00, received_on=today()))
    assert receipt.kind == "receipt" and receipt.amount_cents == 20_000_00
    assert operations.pledge_detail.sync(client=member, pledge_id=pledge.id).received_cents == 20_000_00


def test_the_example_script_does_an_admins_and_the_staffs_work(live):
    app, url = live
    institute = make_institute(app, slug="test-institute")
    make_tier(app, institute)
    admin, _ = org_admin(app, email="cfo@acme.example")
    staff = make_staff(app, institute, email="staff@institute.example")
    checker = make_staff(app, institute, email="checker@institute.example")
    reviewer = make_user(app, email="reviewer@example.com")
    ally_admin, ally = org_admin(app, make_organization(app, name="State Tech", sector=Sector.ACADEMIC),
                                 email="dean@statetech.example")
    make_membership(app, ally, institute, make_tier(app, institute, name="Silver", may_lead=False))
    # the call needs an academic partner and cost share of half the federal request, from members only
    make_call(app, staff, institute, min_academic=1, min_cost_share_bp=5000, all_partners_members=True)
    tokens = {f"PORTAL_{name}_TOKEN": make_token(app, user)
              for name, user in (("MEMBER", admin), ("STAFF", staff), ("CHECKER", checker), ("REVIEWER", reviewer),
                                 ("PARTNER", ally_admin))}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "api_walkthrough.py"), "--url", url, "--institute", institute.slug,
         "--reviewer", reviewer.email], env={**os.environ, **tokens}, capture_output=True, text=True, timeout=120,
        check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sent twice, recorded once" in result.stdout
    assert "State Tech joined the team and committed $50,000.00 of cost share" in result.stdout
    assert "drafted and submitted" in result.stdout
    assert "Reviewed and approved" in result.stdout
    assert "Done: the pledge has $100,000.00 verified." in result.stdout
