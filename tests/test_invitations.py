"""Invitations by email: sent to an address with or without an account, accepted once (signed in, or by
registering through the link), expiring, withdrawn; partners' invitations withdrawn by the lead."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import has_app_context

from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    AuditEvent,
    InstituteStaff,
    Invitation,
    InvitationStatus,
    Notification,
    Organization,
    Partner,
    PartnerStatus,
    ProposalStatus,
    Review,
    Role,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, invitations, proposals
from tests.conftest import link_in, login, mails_to
from tests.factories import PASSWORD, affiliate, make_call, make_proposal, make_user, org_admin

NEW_PASSWORD = "granite lantern orchard velvet"


def invitation_link(app, address: str) -> str:
    """The link in the last invitation mailed to ``address`` (a test holding an app context ends its read
    first: the mail is read in a context of its own, on the same SQLite connection)."""
    if has_app_context():
        db.session.commit()
    return link_in(mails_to(app, address)[-1], "/invitations/")


def flashed(response) -> list[str]:
    """The success messages on a page."""
    return [m.decode() for m in re.findall(rb'usa-alert--success.*?<p class="usa-alert__text">(.*?)</p>',
                                           response.data, re.S)]


@pytest.fixture
def colleague_world(app):
    admin, organization = org_admin(app, email="admin@acme.example")
    return admin, organization


def test_a_colleague_registers_through_the_link_and_is_a_member_at_once(client, app, colleague_world):
    admin, organization = colleague_world
    login(client, admin.email)
    response = client.post(f"/organizations/{organization.id}/invitations",
                           data={"email": "New.Person@Example.com", "message": "Join us on the portal"})
    assert response.status_code == 302
    link = invitation_link(app, "new.person@example.com")
    client.post("/logout")

    page = client.get(link)
    assert page.status_code == 200 and b"Register to accept" in page.data and b"Join us on the portal" in page.data
    response = client.post(link + "/register", data={"full_name": "New Person", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/organizations/{organization.id}")
    assert client.get("/account").status_code == 200  # signed in
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "new.person@example.com"))
        assert user is not None and user.is_verified  # the link proved the address
        affiliation = db.session.scalar(sa.select(Affiliation).where(Affiliation.user_id == user.id))
        assert affiliation is not None and affiliation.organization_id == organization.id
        assert (affiliation.status, affiliation.role) == (AffiliationStatus.ACTIVE, AffiliationRole.MEMBER)
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
        assert {"invitation.sent", "invitation.accepted", "affiliation.joined_by_invitation"} <= actions
        told = db.session.scalar(sa.select(Notification.message).where(Notification.user_id == admin.id))
        assert told == f"New Person accepted your invitation to join {organization.name} on the portal."

    client.post("/logout")
    again = client.get(link)  # the link works once
    assert again.status_code == 410 and b"not valid" in again.data
    assert client.get(link + "/register").status_code == 302


def test_the_inviter_is_answered_the_same_whether_or_not_the_address_has_an_account(client, app, colleague_world):
    admin, organization = colleague_world
    make_user(app, email="known@example.com")
    login(client, admin.email)
    answers = []
    for address in ("known@example.com", "unknown@example.com"):
        response = client.post(f"/organizations/{organization.id}/invitations", data={"email": address},
                               follow_redirects=True)
        answers.append([m.replace(address, "ADDRESS") for m in flashed(response) if "invitation" in m])
        assert len(mails_to(app, address)) == 1
    assert answers[0] == answers[1] == ["An invitation has been sent to ADDRESS."]


def test_registering_through_the_link_with_an_address_that_has_an_account_creates_nothing(
        client, app, colleague_world):
    admin, organization = colleague_world
    existing = make_user(app, email="known@example.com", full_name="Known Person")
    login(client, admin.email)
    client.post(f"/organizations/{organization.id}/invitations", data={"email": "known@example.com"})
    link = invitation_link(app, "known@example.com")
    client.post("/logout")
    response = client.post(link + "/register", data={"full_name": "Someone Else", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/register/check-email")
    assert mails_to(app, "known@example.com")[-1].subject == "You already have an account"
    with app.app_context():
        assert db.session.get(User, existing.id).full_name == "Known Person"
        assert db.session.scalar(sa.select(Invitation.status)) == InvitationStatus.PENDING
    # the owner signs in and accepts
    login(client, "known@example.com")
    response = client.post(link + "/accept")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Affiliation.status).where(Affiliation.user_id == existing.id)) \
            == AffiliationStatus.ACTIVE


def test_another_account_cannot_accept_an_invitation_sent_to_someone_else(client, app, colleague_world):
    admin, organization = colleague_world
    make_user(app, email="intruder@example.com")
    login(client, admin.email)
    client.post(f"/organizations/{organization.id}/invitations", data={"email": "friend@example.com"})
    link = invitation_link(app, "friend@example.com")
    client.post("/logout")
    login(client, "intruder@example.com")
    response = client.post(link + "/accept", follow_redirects=True)
    assert b"sent to another address" in response.data
    with app.app_context():
        assert db.session.scalar(sa.select(Invitation.status)) == InvitationStatus.PENDING
        assert db.session.scalar(sa.select(sa.func.count(Affiliation.id))) == 1  # the admin's only


def test_an_expired_invitation_is_refused(client, app, colleague_world):
    admin, organization = colleague_world
    login(client, admin.email)
    client.post(f"/organizations/{organization.id}/invitations", data={"email": "late@example.com"})
    link = invitation_link(app, "late@example.com")
    with app.app_context():
        db.session.execute(sa.update(Invitation).values(created_at=utcnow() - timedelta(days=20),
                                                        expires_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    page = client.get(link)
    assert page.status_code == 410 and b"has expired" in page.data
    client.post("/logout")
    assert client.get(link + "/register").status_code == 302
    response = client.post(link + "/register", data={"full_name": "Late Person", "password": NEW_PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "late@example.com")) is None


def test_an_unknown_token_is_not_found(client):
    assert client.get("/invitations/not-a-real-token").status_code == 404
    assert client.get("/invitations/not-a-real-token/register").status_code == 404


def test_a_withdrawn_invitation_no_longer_works_and_only_its_managers_withdraw_it(client, app, colleague_world):
    admin, organization = colleague_world
    member = make_user(app, email="member@acme.example")
    affiliate(app, member, organization)
    org_admin(app, email="admin@other.example")
    login(client, admin.email)
    client.post(f"/organizations/{organization.id}/invitations", data={"email": "maybe@example.com"})
    link = invitation_link(app, "maybe@example.com")
    with app.app_context():
        invitation_id = db.session.scalar(sa.select(Invitation.id))
    page = client.get(f"/organizations/{organization.id}/invitations")
    assert b"maybe@example.com" in page.data and b"Withdraw" in page.data
    client.post("/logout")
    for outsider in ("member@acme.example", "admin@other.example"):
        login(client, outsider)
        assert client.post(f"/invitations/{invitation_id}/withdraw").status_code == 404
        assert client.get(f"/organizations/{organization.id}/invitations").status_code == 403
        client.post("/logout")
    login(client, admin.email)
    response = client.post(f"/invitations/{invitation_id}/withdraw", follow_redirects=True)
    assert b"has been withdrawn" in response.data
    again = client.post(f"/invitations/{invitation_id}/withdraw", follow_redirects=True)
    assert b"already been accepted or withdrawn" in again.data
    client.post("/logout")
    assert client.get(link).status_code == 410
    with app.app_context():
        assert db.session.scalar(sa.select(Invitation.status)) == InvitationStatus.WITHDRAWN
        assert "invitation.withdrawn" in set(db.session.scalars(sa.select(AuditEvent.action)))


def test_a_bad_address_is_refused_next_to_its_field(client, app, colleague_world):
    admin, organization = colleague_world
    login(client, admin.email)
    response = client.post(f"/organizations/{organization.id}/invitations", data={"email": "not an address"})
    assert response.status_code == 422
    assert b"Enter an email address in the form name@example.com" in response.data
    response = client.post(f"/organizations/{organization.id}/invitations", data={"email": "twice@example.com"})
    response = client.post(f"/organizations/{organization.id}/invitations", data={"email": "twice@example.com"})
    assert response.status_code == 409 and b"already waiting" in response.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 1


def test_an_unlisted_organizations_invitations_are_not_found_by_outsiders(client, app):
    _, organization = org_admin(app, email="admin@hidden.example")
    with app.app_context():
        db.session.execute(sa.update(Organization).where(Organization.id == organization.id).values(listed=False))
        db.session.commit()
    make_user(app, email="someone@example.com")
    login(client, "someone@example.com")
    assert client.get(f"/organizations/{organization.id}/invitations").status_code == 404
    assert client.get("/organizations/999999/invitations").status_code == 404


def test_a_network_administrator_invites_institute_staff_who_accept_signed_in(client, app, membership_world):
    w = membership_world
    network = make_user(app, email="network@example.gov", role=Role.NETWORK_ADMIN)
    future = make_user(app, email="future.staff@example.com")
    assert client.get(f"/institutes/{w.institute.slug}/invitations").status_code == 302  # to sign in
    login(client, w.staff.email)  # an institute's own administrator does not pick its staff
    assert client.get(f"/institutes/{w.institute.slug}/invitations").status_code == 403
    client.post("/logout")
    login(client, network.email)
    response = client.post(f"/institutes/{w.institute.slug}/invitations", data={"email": future.email})
    assert response.status_code == 302
    link = invitation_link(app, future.email)
    client.post("/logout")
    login(client, future.email)
    page = client.get(link)
    assert b"Accept the invitation" in page.data
    response = client.post(link + "/accept")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/institutes/{w.institute.slug}/manage")
    with app.app_context():
        assert db.session.scalar(sa.select(InstituteStaff).where(InstituteStaff.user_id == future.id)) is not None
        assert db.session.scalar(sa.select(Invitation.status)) == InvitationStatus.ACCEPTED


@pytest.fixture
def submitted(app, ctx, proposal_world):
    w = proposal_world
    w.call = make_call(app, w.staff, w.institute)
    w.proposal = make_proposal(app, w.engineer, w.call, w.lead, abstract="Printed brackets.",
                               technical_plan="A new heat treatment.")
    proposals._move(w.staff, w.proposal, ProposalStatus.SUBMITTED, [ProposalStatus.DRAFT])
    db.session.commit()
    return w


def test_staff_invite_a_reviewer_who_registers_and_is_assigned(client, app, submitted):
    w = submitted
    login(client, w.staff.email)
    response = client.post(f"/proposals/{w.proposal.id}/invitations",
                           data={"kind": "reviewer", "reviewer-email": "expert@university.example"})
    assert response.status_code == 302
    link = invitation_link(app, "expert@university.example")
    client.post("/logout")
    page = client.get(link + "/register")
    assert b"Your organization" in page.data
    response = client.post(link + "/register", data={
        "full_name": "Ada Expert", "password": NEW_PASSWORD, "organization": "Lakeside University",
        "sector": "academic", "state": "MI"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/proposals/{w.proposal.id}/review")
    db.session.expire_all()
    expert = db.session.scalar(sa.select(User).where(User.email == "expert@university.example"))
    review = db.session.scalar(sa.select(Review).where(Review.reviewer_id == expert.id))
    assert review is not None and review.assigned_by_id == w.staff.id and review.due_on is not None
    assert db.session.get(type(w.proposal), w.proposal.id).status == ProposalStatus.UNDER_REVIEW


def test_a_conflicted_reviewer_accepts_into_an_account_but_not_the_review(client, app, submitted):
    """Conflicts are checked on accepting: an engineer of the lead organization is told why, nothing changes."""
    w = submitted
    invitation = invitations.invite_reviewer(w.staff, w.proposal, w.engineer.email)
    db.session.commit()
    token = invitation_link(app, w.engineer.email).rsplit("/", 1)[1]
    with pytest.raises(DomainError, match="Conflict of interest"):
        invitations.accept(w.engineer, token)
    db.session.rollback()
    assert db.session.get(Invitation, invitation.id).status == InvitationStatus.PENDING


def test_only_staff_invite_reviewers_and_only_the_lead_invites_partners(client, app, submitted):
    w = submitted
    login(client, w.outsider.email)
    assert client.get(f"/proposals/{w.proposal.id}/invitations").status_code == 404
    client.post("/logout")
    login(client, w.small_admin.email)  # not on the team
    assert client.get(f"/proposals/{w.proposal.id}/invitations").status_code == 404
    client.post("/logout")
    login(client, w.engineer.email)  # the lead's, but the proposal is submitted: no reviewer invitations
    response = client.post(f"/proposals/{w.proposal.id}/invitations",
                           data={"kind": "reviewer", "reviewer-email": "x@example.com"})
    assert response.status_code == 400
    with pytest.raises(DomainError):
        invitations.invite_reviewer(w.engineer, w.proposal, "x@example.com")


def test_a_partner_contact_registers_their_new_organization_onto_the_team(client, app, ctx, proposal_world):
    w = proposal_world
    call = make_call(app, w.staff, w.institute)
    proposal = make_proposal(app, w.engineer, call, w.lead)
    db.session.commit()
    login(client, w.engineer.email)
    response = client.post(f"/proposals/{proposal.id}/invitations", data={
        "kind": "partner", "partner-organization": "", "partner-email": "cto@newcomposites.example"})
    assert response.status_code == 422 and b"Enter the partner organization" in response.data
    response = client.post(f"/proposals/{proposal.id}/invitations", data={
        "kind": "partner", "partner-organization": "New Composites", "partner-email": "cto@newcomposites.example"})
    assert response.status_code == 302
    link = invitation_link(app, "cto@newcomposites.example")
    client.post("/logout")
    response = client.post(link + "/register", data={"full_name": "Casey Composite", "password": NEW_PASSWORD,
                                                     "sector": "industry", "size": "small", "state": "OH"})
    assert response.status_code == 302, response.data
    db.session.expire_all()
    organization = db.session.scalar(sa.select(Organization).where(Organization.name == "New Composites"))
    partner = db.session.scalar(sa.select(Partner).where(Partner.organization_id == organization.id))
    assert partner.proposal_id == proposal.id and partner.status == PartnerStatus.ACCEPTED


def test_the_lead_withdraws_an_invitation_to_a_partner_organization(client, app, ctx, proposal_world):
    w = proposal_world
    call = make_call(app, w.staff, w.institute)
    proposal = make_proposal(app, w.engineer, call, w.lead)
    invitations.invite_partner(w.engineer, proposal, "Tiny Parts", "buyer@tiny.example")
    db.session.commit()
    partner = db.session.scalar(sa.select(Partner).where(Partner.organization_id == w.small.id))
    assert partner.status == PartnerStatus.INVITED  # an organization on the portal is on the team at once
    login(client, w.small_admin.email)  # the partner cannot withdraw the lead's invitation
    assert client.post(f"/proposals/{proposal.id}/partners/{partner.id}/withdraw").status_code == 403
    client.post("/logout")
    login(client, w.engineer.email)
    page = client.get(f"/proposals/{proposal.id}")
    assert b"Withdraw the invitation" in page.data
    response = client.post(f"/proposals/{proposal.id}/partners/{partner.id}/withdraw", follow_redirects=True)
    assert b"The invitation to Tiny Parts has been withdrawn." in response.data
    db.session.expire_all()
    assert db.session.get(Partner, partner.id).status == PartnerStatus.WITHDRAWN
    assert db.session.scalar(sa.select(Invitation.status)) == InvitationStatus.WITHDRAWN  # the mailed link too
    assert db.session.scalar(sa.select(Notification).where(Notification.user_id == w.small_admin.id,
                                                           Notification.message.contains("withdrew")))
    again = client.post(f"/proposals/{proposal.id}/partners/{partner.id}/withdraw", follow_redirects=True)
    assert b"already been answered or withdrawn" in again.data
    # and it can be invited again
    proposals.invite(w.engineer, proposal, w.small)
    assert partner.status == PartnerStatus.INVITED


def test_the_invitation_mail_says_who_invites_to_what(app, client, colleague_world):
    admin, organization = colleague_world
    login(client, admin.email, PASSWORD)
    client.post(f"/organizations/{organization.id}/invitations", data={"email": "pal@example.com"})
    mail = mails_to(app, "pal@example.com")[-1]
    assert f"join {organization.name}" in mail.subject and "expires in 14 days" in mail.body


def test_a_signed_in_person_accepts_an_invitation_to_their_address_without_the_link(client, app, colleague_world):
    admin, organization = colleague_world
    friend = make_user(app, email="friend@example.com")
    make_user(app, email="other@example.com")
    login(client, admin.email)
    client.post(f"/organizations/{organization.id}/invitations", data={"email": "friend@example.com"})
    client.post("/logout")
    with app.app_context():
        waiting = invitations.waiting_for(db.session.get(User, friend.id))
        assert [i.email for i in waiting] == ["friend@example.com"]
        invitation_id = waiting[0].id
    login(client, "other@example.com")
    assert client.post(f"/invitations/{invitation_id}/accept").status_code == 404
    client.post("/logout")
    login(client, "friend@example.com")
    response = client.post(f"/invitations/{invitation_id}/accept")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/organizations/{organization.id}")
    with app.app_context():
        assert invitations.waiting_for(db.session.get(User, friend.id)) == []


def test_an_invitation_to_ones_address_waits_on_the_home_page_and_is_accepted_from_there(client, app, colleague_world):
    admin, organization = colleague_world
    make_user(app, email="friend@example.com")
    login(client, admin.email)
    client.post(f"/organizations/{organization.id}/invitations", data={"email": "friend@example.com"})
    client.post("/logout")
    login(client, "friend@example.com")
    home = client.get("/").get_data(as_text=True)
    assert "Invitations to you" in home and "<title>(1) Home" in home
    action = re.search(r'<form method="post" action="(/invitations/\d+/accept)"', home).group(1)
    response = client.post(action)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/organizations/{organization.id}")
    home = client.get("/").get_data(as_text=True)
    assert "Invitations to you" not in home
