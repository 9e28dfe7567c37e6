"""Organization profiles, the admins' page, and deciding requests to join."""

import sqlalchemy as sa

from portal import authz
from portal.extensions import db
from portal.models import Affiliation, AffiliationRole, AffiliationStatus, AuditEvent, Organization, Role, User
from portal.services import DomainError, organizations
from portal.services.organizations import OrganizationChoice
from tests.conftest import login, mails_to
from tests.factories import affiliate, make_organization, make_user, org_admin

PROFILE = {"name": "Acme Works", "sector": "industry", "size": "large", "state": "MI", "city": "Detroit",
           "website": "acme.example.com", "description": "Stamping and forming.", "listed": "y"}


def pending_request(app, organization, **user_fields):
    user = make_user(app, **user_fields)
    return user, affiliate(app, user, organization, status=AffiliationStatus.PENDING)


def test_public_profile_of_a_listed_organization(client, app):
    organization = make_organization(app, name="Listed Labs", state="PA")
    response = client.get(f"/organizations/{organization.id}")
    assert response.status_code == 200
    assert b"Listed Labs" in response.data and b"Pennsylvania" in response.data
    assert b"Manage this organization" not in response.data


def test_unlisted_organization_is_hidden_from_outsiders(client, app):
    organization = make_organization(app, listed=False)
    member = make_user(app)
    affiliate(app, member, organization)
    assert client.get(f"/organizations/{organization.id}").status_code == 404
    login(client, make_user(app).email)
    assert client.get(f"/organizations/{organization.id}").status_code == 404
    client.post("/logout")
    login(client, member.email)
    assert client.get(f"/organizations/{organization.id}").status_code == 200


def test_manage_page_redirects_anonymous_users_to_sign_in(client, app):
    organization = make_organization(app)
    response = client.get(f"/organizations/{organization.id}/manage")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_manage_page_is_403_for_another_organizations_admin_and_plain_members(client, app):
    _, organization = org_admin(app)
    other_admin, _ = org_admin(app)
    member = make_user(app)
    affiliate(app, member, organization)
    for user in (other_admin, member):
        login(client, user.email)
        assert client.get(f"/organizations/{organization.id}/manage").status_code == 403
        assert client.post(f"/organizations/{organization.id}/manage", data=PROFILE).status_code == 403
        client.post("/logout")
    with app.app_context():
        assert db.session.get(Organization, organization.id).name != "Acme Works"


def test_admin_approves_a_request_and_the_requester_is_told(client, app):
    admin, organization = org_admin(app)
    _requester, affiliation = pending_request(app, organization, email="joiner@example.com")
    login(client, admin.email)
    page = client.get(f"/organizations/{organization.id}/manage")
    assert b"joiner@example.com" in page.data
    response = client.post(f"/organizations/{organization.id}/requests/{affiliation.id}",
                           data={"decision": "approve"})
    assert response.status_code == 302
    with app.app_context():
        decided = db.session.get(Affiliation, affiliation.id)
        assert decided.status == AffiliationStatus.ACTIVE
        assert decided.decided_by_id == admin.id and decided.decided_at is not None
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "affiliation.approved"))
        assert (event.actor_id, event.from_state, event.to_state) == (admin.id, "pending", "active")
    [mail] = mails_to(app, "joiner@example.com")
    assert "approved" in mail.subject


def test_admin_declines_a_request(client, app):
    admin, organization = org_admin(app)
    _, affiliation = pending_request(app, organization)
    login(client, admin.email)
    client.post(f"/organizations/{organization.id}/requests/{affiliation.id}", data={"decision": "decline"})
    with app.app_context():
        assert db.session.get(Affiliation, affiliation.id).status == AffiliationStatus.DECLINED


def test_deciding_twice_says_it_was_already_decided_and_changes_nothing(client, app):
    admin, organization = org_admin(app)
    _, affiliation = pending_request(app, organization)
    login(client, admin.email)
    url = f"/organizations/{organization.id}/requests/{affiliation.id}"
    client.post(url, data={"decision": "approve"})
    response = client.post(url, data={"decision": "decline"}, follow_redirects=True)
    assert b"already been decided" in response.data
    with app.app_context():
        assert db.session.get(Affiliation, affiliation.id).status == AffiliationStatus.ACTIVE


def test_cannot_decide_another_organizations_request(client, app):
    admin, own = org_admin(app)
    other = make_organization(app)
    _, affiliation = pending_request(app, other)
    login(client, admin.email)
    assert client.post(f"/organizations/{other.id}/requests/{affiliation.id}",
                       data={"decision": "approve"}).status_code == 403
    # naming one's own organization in the URL does not reach another organization's request
    assert client.post(f"/organizations/{own.id}/requests/{affiliation.id}",
                       data={"decision": "approve"}).status_code == 404
    with app.app_context():
        assert db.session.get(Affiliation, affiliation.id).status == AffiliationStatus.PENDING


def test_unknown_decision_is_refused(client, app):
    admin, organization = org_admin(app)
    _, affiliation = pending_request(app, organization)
    login(client, admin.email)
    response = client.post(f"/organizations/{organization.id}/requests/{affiliation.id}",
                           data={"decision": "promote"})
    assert response.status_code == 400


def test_admin_edits_the_profile(client, app):
    admin, organization = org_admin(app)
    login(client, admin.email)
    response = client.post(f"/organizations/{organization.id}/manage", data=PROFILE)
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.get(Organization, organization.id)
        assert (saved.name, saved.size, saved.city) == ("Acme Works", "large", "Detroit")
        assert saved.website == "https://acme.example.com"
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "organization.updated"))
        assert event.details["name"][1] == "Acme Works"


def test_profile_bad_input_is_shown_next_to_the_field_and_saves_nothing(client, app):
    admin, organization = org_admin(app)
    taken = make_organization(app, name="Taken Name Inc")
    login(client, admin.email)
    for changes, field, message in [
        ({"website": "not a url"}, "website", b"Enter a web address"),
        ({"name": "  taken   name inc "}, "name", b"Another organization already has that name"),
        ({"sector": "industry", "size": ""}, "size", b"choose its size"),
        ({"state": "ZZ"}, "state", b"Choose one of the options"),
        ({"website": "https://[]"}, "website", b"Enter a web address"),  # not an address urlsplit can read
        ({"website": "example.com/" + "x" * 238}, "website", b"at most 255 characters"),  # once https:// is added
        ({"city": "Detroit\x00"}, "city", b"control characters"),
        ({"description": "Stamping\x1b[2J"}, "description", b"control characters"),
    ]:
        response = client.post(f"/organizations/{organization.id}/manage", data={**PROFILE, **changes})
        assert response.status_code == 422, field
        assert f'id="{field}-error"'.encode() in response.data, field
        assert message in response.data, field
    with app.app_context():
        saved = db.session.get(Organization, organization.id)
        assert (saved.name, saved.city, saved.website) == (organization.name, organization.city, organization.website)
        assert db.session.get(Organization, taken.id).name == "Taken Name Inc"


def test_the_directory_reads_a_cursor_no_column_can_hold_as_the_first_page(client, app):
    make_organization(app, name="Listed Labs")
    for cursor in ('["Listed Labs",99999999999999999999]', '["Listed Labs",2147483648]', '["Listed\u0000",1]',
                   "[1,1]", '["A"]', "{}", "x"):
        response = client.get("/organizations/", query_string={"after": cursor})
        assert response.status_code == 200, cursor
        assert b"Listed Labs" in response.data, cursor
    assert b"Listed Labs" not in client.get('/organizations/?after=["Listed Labs",999]').data  # a real cursor counts


def test_a_control_character_in_a_directory_search_is_a_message_and_no_filter(client, app):
    make_organization(app, name="Listed Labs")
    response = client.get("/organizations/", query_string={"q": "Labs\x00"})
    assert response.status_code == 200
    assert b'id="q-error"' in response.data and b"control characters" in response.data
    assert b"Listed Labs" in response.data


def test_network_admin_may_manage_any_organization(ctx, app):
    organization = make_organization(app, listed=False)
    admin = make_user(app, role=Role.NETWORK_ADMIN)
    plain = make_user(app)
    assert authz.can(db.session.get(User, admin.id), "organization.manage", organization)
    assert authz.can(db.session.get(User, admin.id), "organization.view", organization)
    assert not authz.can(db.session.get(User, plain.id), "organization.manage", organization)


def test_pending_and_declined_admins_cannot_manage(ctx, app):
    organization = make_organization(app)
    user = make_user(app)
    affiliate(app, user, organization, role=AffiliationRole.ADMIN, status=AffiliationStatus.PENDING)
    assert not authz.can(db.session.get(User, user.id), "organization.manage", organization)


def test_join_or_create_service(ctx, app):
    user = db.session.get(User, make_user(app).id)
    created = organizations.join_or_create(
        user, OrganizationChoice(name="Ohio  State University", sector="academic", state="OH"))
    assert created.is_active_admin
    assert created.organization.size is None  # size is for industry only
    other = db.session.get(User, make_user(app).id)
    joined = organizations.join_or_create(other, OrganizationChoice(name="ohio state university"))
    assert joined.organization_id == created.organization_id
    assert joined.status == AffiliationStatus.PENDING
    try:
        organizations.join_or_create(other, OrganizationChoice(name="OHIO STATE UNIVERSITY"))
    except DomainError as error:
        assert error.status == 409
    else:
        raise AssertionError("joining twice should be refused")


def test_asking_again_after_a_decline(ctx, app):
    admin_user, organization = org_admin(app)
    user, affiliation = pending_request(app, organization)
    admin = db.session.get(User, admin_user.id)
    organizations.decide_affiliation(admin, db.session.get(Affiliation, affiliation.id), approve=False)
    again = organizations.join_or_create(db.session.get(User, user.id), OrganizationChoice(name=organization.name))
    assert again.id == affiliation.id
    assert again.status == AffiliationStatus.PENDING


def test_organization_name_is_unique_without_regard_to_case(ctx, app):
    make_organization(app, name="Unique Name")
    db.session.add(Organization(name="UNIQUE NAME", name_key="unique name", sector="academic", state="OH"))
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
    else:
        raise AssertionError("the database should refuse a second organization with the same name")


def test_database_refuses_a_size_for_non_industry(ctx):
    db.session.add(Organization(name="Uni", name_key="uni", sector="academic", size="small", state="OH"))
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
    else:
        raise AssertionError("an academic organization must not have a business size")


def test_the_directory_lists_listed_organizations_with_filters(client, app):
    from portal.models import Sector
    from tests.factories import make_institute, make_membership, make_tier

    make_organization(app, name="Ohio Castings", state="OH")
    uni = make_organization(app, name="Lake University", sector=Sector.ACADEMIC, state="MI")
    make_organization(app, name="Hidden Works", listed=False)
    institute = make_institute(app)
    make_membership(app, uni, institute, make_tier(app, institute))
    page = client.get("/organizations/").data
    assert b"Ohio Castings" in page and b"Lake University" in page and b"Hidden Works" not in page
    page = client.get("/organizations/", query_string={"state": "MI"}).data
    assert b"Lake University" in page and b"Ohio Castings" not in page
    page = client.get("/organizations/", query_string={"members": "y"}).data
    assert b"Lake University" in page and b"Ohio Castings" not in page and b"1 organization." in page
    page = client.get("/organizations/", query_string={"q": "castings", "sector": "industry"}).data
    assert b"Ohio Castings" in page and b"Lake University" not in page
