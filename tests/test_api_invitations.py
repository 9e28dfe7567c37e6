"""Invitations by email through the API: colleagues, an institute's staff, reviewers and partners' contacts, with
the pages' rules (who may send, one waiting invitation per address, a partner on the portal joins the team at
once), withdrawing, and a limit on mail per token."""

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Invitation, Partner, Proposal, ProposalStatus, User
from portal.services import proposals
from tests.api_helpers import assert_problem, bearer, make_token
from tests.conftest import mails_to
from tests.factories import make_call, make_proposal, make_user, org_admin


def test_an_organizations_admin_invites_a_colleague_and_withdraws_another(app, client, membership_world):
    w = membership_world
    admin = make_token(app, w.admin)
    url = f"/api/v1/organizations/{w.organization.id}/invitations"
    sent = client.post(url, headers=bearer(admin), json={"email": "Sam@Acme.example", "message": "Join us."})
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["email"] == "sam@acme.example" and sent.get_json()["status"] == "pending"
    assert len(mails_to(app, "sam@acme.example")) == 1
    # one waiting invitation per address; a malformed address is refused at its field
    again = assert_problem(client.post(url, headers=bearer(admin), json={"email": "sam@acme.example"}), 409)
    assert "already waiting" in again["detail"]
    assert "email" in assert_problem(client.post(url, headers=bearer(admin), json={"email": "not an address"}),
                                     422)["errors"]
    other = client.post(url, headers=bearer(admin), json={"email": "kim@acme.example"}).get_json()
    listed = client.get(url, headers=bearer(admin)).get_json()
    assert [i["email"] for i in listed] == ["kim@acme.example", "sam@acme.example"]
    withdrawn = client.post(f"/api/v1/invitations/{other['id']}/withdraw", headers=bearer(admin))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert_problem(client.post(f"/api/v1/invitations/{other['id']}/withdraw", headers=bearer(admin)), 409)
    assert [i["email"] for i in client.get(url, headers=bearer(admin)).get_json()] == ["sam@acme.example"]


def test_only_those_the_pages_let_send_may_send_or_withdraw(app, client, membership_world):
    w = membership_world
    url = f"/api/v1/organizations/{w.organization.id}/invitations"
    sent = client.post(url, headers=bearer(make_token(app, w.admin)), json={"email": "sam@acme.example"}).get_json()
    stranger = make_token(app, make_user(app, email="stranger@example.com"))
    assert_problem(client.post(url, headers=bearer(stranger), json={"email": "x@example.com"}), 403)
    assert_problem(client.get(url, headers=bearer(stranger)), 403)
    # an invitation the caller may not manage is not there for them at all
    assert_problem(client.post(f"/api/v1/invitations/{sent['id']}/withdraw", headers=bearer(stranger)), 404)
    # a read token sends nothing; staff invitations are for network administrators
    assert_problem(client.post(url, headers=bearer(make_token(app, w.admin, "read")),
                               json={"email": "x@example.com"}), 403)
    assert_problem(client.post(f"/api/v1/institutes/{w.institute.slug}/invitations",
                               headers=bearer(make_token(app, w.staff)), json={"email": "x@example.com"}), 403)
    assert len(mails_to(app, "x@example.com")) == 0


def test_a_network_administrator_invites_an_institutes_staff(app, client, membership_world):
    w = membership_world
    network = make_user(app, email="network@example.org")
    with app.app_context():
        db.session.get(User, network.id).role = "network_admin"
        db.session.commit()
    token = make_token(app, network)
    url = f"/api/v1/institutes/{w.institute.slug}/invitations"
    sent = client.post(url, headers=bearer(token), json={"email": "new.staff@institute.example"})
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["kind"] == "staff" and len(mails_to(app, "new.staff@institute.example")) == 1
    assert [i["kind"] for i in client.get(url, headers=bearer(token)).get_json()] == ["staff"]


def test_the_lead_invites_a_partners_contact_and_staff_invite_a_reviewer(app, client, proposal_world):
    w = proposal_world
    call = make_call(app, w.staff, w.institute)
    proposal = make_proposal(app, w.engineer, call, w.lead, title="Brackets")
    url = f"/api/v1/proposals/{proposal.id}/invitations"
    lead, staff = make_token(app, w.engineer), make_token(app, w.staff)
    # a partner on the portal: its contact is mailed and the organization is on the team at once
    sent = client.post(url, headers=bearer(lead), json={"kind": "partner", "email": "buyer@tiny.example",
                                                         "organization_name": "Tiny Parts"})
    assert sent.status_code == 201, sent.get_json()
    with app.app_context():
        assert db.session.scalar(sa.select(Partner.status).where(Partner.proposal_id == proposal.id,
                                                                Partner.organization_id == w.small.id)) == "invited"
    assert "organization_name" in assert_problem(client.post(url, headers=bearer(lead), json={
        "kind": "partner", "email": "someone@new.example"}), 422)["errors"]
    # reviewers are the institute's to invite, and only to a submitted proposal
    assert_problem(client.post(url, headers=bearer(lead), json={"kind": "reviewer", "email": "r@example.com"}), 403)
    assert_problem(client.post(url, headers=bearer(staff), json={"kind": "reviewer", "email": "r@example.com"}), 409)
    with app.app_context():
        proposals._move(db.session.get(User, w.staff.id), db.session.get(Proposal, proposal.id),
                        ProposalStatus.SUBMITTED, [ProposalStatus.DRAFT])
        db.session.commit()
    invited = client.post(url, headers=bearer(staff), json={"kind": "reviewer", "email": "r@example.com"})
    assert invited.status_code == 201 and invited.get_json()["kind"] == "reviewer"
    # each sees the kinds they send
    assert [i["kind"] for i in client.get(url, headers=bearer(staff)).get_json()] == ["reviewer"]
    assert [i["kind"] for i in client.get(url, headers=bearer(lead)).get_json()] == ["partner"]
    outsider = make_token(app, w.outsider)
    assert_problem(client.get(url, headers=bearer(outsider)), 404)


def test_mail_is_limited_per_token(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", EMAIL_LIMIT_PER_ADDRESS="2 per hour")
    client = app.test_client()
    admin, organization = org_admin(app, email="admin@acme.example")
    token = make_token(app, admin)
    url = f"/api/v1/organizations/{organization.id}/invitations"
    for n in range(2):
        assert client.post(url, headers=bearer(token), json={"email": f"p{n}@acme.example"}).status_code == 201
    assert_problem(client.post(url, headers=bearer(token), json={"email": "p2@acme.example"}), 429)
    assert client.get(url, headers=bearer(token)).status_code == 200  # reading is not mail
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 2
