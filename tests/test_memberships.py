"""Institute memberships: applying, deciding, lifecycle, access, rosters, timers and notifications."""

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    AffiliationStatus,
    AuditEvent,
    Membership,
    MembershipStatus,
    Notification,
    Organization,
    Role,
    Sector,
    Tier,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, memberships
from tests.conftest import login, mails_to
from tests.factories import (
    affiliate,
    make_institute,
    make_membership,
    make_organization,
    make_staff,
    make_tier,
    make_user,
    org_admin,
)

TODAY = memberships.today()


@pytest.fixture
def world(app):
    """An institute with a Gold tier and one administrator; an organization with its admin."""
    institute = make_institute(app)
    tier = make_tier(app, institute)
    staff = make_staff(app, institute, email="staff@institute.example")
    admin, organization = org_admin(app, email="admin@acme.example")
    return type("World", (), dict(institute=institute, tier=tier, staff=staff, admin=admin,
                                  organization=organization))


def apply_form(world, **changes):
    return {"organization": world.organization.id, "tier": world.tier.id, "statement": "We print titanium.",
            "contact_name": "Ada Admin", "contact_email": "ada@acme.example", **changes}


def get(model, id_):
    return db.session.get(model, id_)


def count_memberships(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Membership.id)))


# Applying ------------------------------------------------------------------------------------

def test_org_admin_applies_and_staff_and_admins_are_notified(client, app, world):
    login(client, world.admin.email)
    page = client.get(f"/institutes/{world.institute.slug}/apply")
    assert page.status_code == 200 and b"Gold: $50,000 a year" in page.data
    response = client.post(f"/institutes/{world.institute.slug}/apply", data=apply_form(world))
    assert response.status_code == 302
    with app.app_context():
        membership = db.session.scalar(sa.select(Membership))
        assert membership.status == MembershipStatus.PENDING
        assert membership.applied_by_id == world.admin.id
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "membership.applied"))
        assert event.institute_id == world.institute.id and event.to_state == "pending"
        told = set(db.session.scalars(sa.select(Notification.user_id)))
    assert told == {world.admin.id, world.staff.id}
    assert any("applied for Gold" in m.subject for m in mails_to(app, "staff@institute.example"))


def test_applying_twice_is_refused_with_a_clear_message(client, app, world):
    login(client, world.admin.email)
    client.post(f"/institutes/{world.institute.slug}/apply", data=apply_form(world))
    response = client.post(f"/institutes/{world.institute.slug}/apply", data=apply_form(world))
    assert response.status_code == 409
    assert b"already has an application waiting" in response.data
    assert count_memberships(app) == 1


def test_the_database_refuses_a_second_live_membership(ctx, app, world):
    make_membership(app, world.organization, world.institute, world.tier, status="pending")
    db.session.add(Membership(organization_id=world.organization.id, institute_id=world.institute.id,
                              tier_id=world.tier.id, status="active", statement="x", contact_name="x",
                              contact_email="x@example.com", applied_by_id=world.admin.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_an_organization_may_apply_again_after_a_decline(ctx, app, world):
    make_membership(app, world.organization, world.institute, world.tier, status="declined")
    again = memberships.apply(get(User, world.admin.id), get(Organization, world.organization.id),
                              world.institute, world.tier, statement="Please", contact_name="A",
                              contact_email="a@example.com")
    assert again.status == MembershipStatus.PENDING


def test_retired_and_other_institutes_tiers_are_refused(client, app, world):
    retired = make_tier(app, world.institute, name="Bronze", retired=True)
    other_tier = make_tier(app, make_institute(app, slug="other", acronym="OI"), name="Gold")
    login(client, world.admin.email)
    for tier in (retired, other_tier):
        response = client.post(f"/institutes/{world.institute.slug}/apply", data=apply_form(world, tier=tier.id))
        assert response.status_code == 422
        assert b'id="tier-error"' in response.data
    with app.app_context():
        with pytest.raises(DomainError, match="retired"):
            memberships.apply(get(User, world.admin.id), get(Organization, world.organization.id),
                              world.institute, get(Tier, retired.id), statement="x", contact_name="x",
                              contact_email="x@example.com")
    assert count_memberships(app) == 0


def test_forging_the_organization_id_is_refused(client, app, world):
    stranger = make_organization(app, name="Not Mine Inc")
    login(client, world.admin.email)
    response = client.post(f"/institutes/{world.institute.slug}/apply",
                           data=apply_form(world, organization=stranger.id))
    assert response.status_code == 422
    assert b'id="organization-error"' in response.data
    assert count_memberships(app) == 0


def test_a_plain_member_cannot_apply(client, app, world):
    member = make_user(app)
    affiliate(app, member, world.organization)
    login(client, member.email)
    response = client.get(f"/institutes/{world.institute.slug}/apply", follow_redirects=True)
    assert b"Only an organization&#39;s admins can apply" in response.data
    response = client.post(f"/institutes/{world.institute.slug}/apply", data=apply_form(world))
    assert response.status_code == 302
    assert count_memberships(app) == 0


def test_apply_requires_sign_in(client, world):
    response = client.get(f"/institutes/{world.institute.slug}/apply")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_bad_input_on_the_application_is_shown_next_to_the_field(client, app, world):
    login(client, world.admin.email)
    response = client.post(f"/institutes/{world.institute.slug}/apply",
                           data=apply_form(world, statement="", contact_name=""))
    assert response.status_code == 422
    assert b'id="statement-error"' in response.data and b'id="contact_name-error"' in response.data
    assert count_memberships(app) == 0


# Deciding ------------------------------------------------------------------------------------

def test_staff_approve_with_a_start_date_and_term(client, app, world):
    pending = make_membership(app, world.organization, world.institute, world.tier, status="pending")
    login(client, world.staff.email)
    response = client.post(f"/memberships/{pending.id}/decision",
                           data={"decision": "approve", "starts_on": "2026-12-01", "term_years": "2"})
    assert response.status_code == 302
    with app.app_context():
        membership = get(Membership, pending.id)
        assert membership.status == MembershipStatus.ACTIVE
        assert (membership.starts_on.isoformat(), membership.ends_on.isoformat()) == ("2026-12-01", "2028-12-01")
        assert membership.decided_by_id == world.staff.id


def test_declining_needs_a_reason_which_the_applicant_sees(client, app, world):
    pending = make_membership(app, world.organization, world.institute, world.tier, status="pending")
    login(client, world.staff.email)
    response = client.post(f"/memberships/{pending.id}/decision", data={"decision": "decline", "term_years": "1"})
    assert response.status_code == 422
    assert b'id="reason-error"' in response.data
    with app.app_context():
        assert get(Membership, pending.id).status == MembershipStatus.PENDING
    client.post(f"/memberships/{pending.id}/decision",
                data={"decision": "decline", "term_years": "1", "reason": "Our Gold tier is full this year."})
    client.post("/logout")
    login(client, world.admin.email)
    page = client.get(f"/memberships/{pending.id}")
    assert b"Declined" in page.data and b"Our Gold tier is full this year." in page.data


def test_an_already_decided_application_cannot_be_decided_again(client, app, world):
    pending = make_membership(app, world.organization, world.institute, world.tier, status="pending")
    login(client, world.staff.email)
    client.post(f"/memberships/{pending.id}/decision", data={"decision": "approve", "term_years": "1"})
    response = client.post(f"/memberships/{pending.id}/decision",
                           data={"decision": "decline", "term_years": "1", "reason": "Changed my mind"},
                           follow_redirects=True)
    assert b"already active; nothing was changed" in response.data
    with app.app_context():
        assert get(Membership, pending.id).status == MembershipStatus.ACTIVE


def test_only_that_institutes_admins_may_decide(client, app, world):
    pending = make_membership(app, world.organization, world.institute, world.tier, status="pending")
    other_staff = make_staff(app, make_institute(app, slug="other", acronym="OI"))
    for user in (other_staff, world.admin):
        login(client, user.email)
        response = client.post(f"/memberships/{pending.id}/decision", data={"decision": "approve", "term_years": "1"})
        assert response.status_code == 403
        client.post("/logout")
    with app.app_context():
        assert get(Membership, pending.id).status == MembershipStatus.PENDING


# Lifecycle -----------------------------------------------------------------------------------

def test_renew_extends_by_a_year_and_a_repeat_changes_nothing(client, app, world):
    active = make_membership(app, world.organization, world.institute, world.tier)
    login(client, world.admin.email)
    data = {"expected_ends_on": active.ends_on.isoformat()}
    assert client.post(f"/memberships/{active.id}/renew", data=data).status_code == 302
    response = client.post(f"/memberships/{active.id}/renew", data=data, follow_redirects=True)
    assert b"already renewed" in response.data
    with app.app_context():
        assert get(Membership, active.id).ends_on == memberships.add_years(active.ends_on, 1)


def test_renewing_someone_elses_membership_is_403(client, app, world):
    active = make_membership(app, world.organization, world.institute, world.tier)
    other_admin, _ = org_admin(app)
    login(client, other_admin.email)
    response = client.post(f"/memberships/{active.id}/renew", data={"expected_ends_on": active.ends_on.isoformat()})
    assert response.status_code == 403
    assert client.get(f"/memberships/{active.id}").status_code == 403
    with app.app_context():
        assert get(Membership, active.id).ends_on == active.ends_on


def test_withdraw_and_end(client, app, world):
    active = make_membership(app, world.organization, world.institute, world.tier)
    login(client, world.staff.email)
    assert client.post(f"/memberships/{active.id}/end", data={"end-reason": ""}).status_code == 422
    assert client.post(f"/memberships/{active.id}/end", data={"end-reason": "Fees unpaid"}).status_code == 302
    with app.app_context():
        ended = get(Membership, active.id)
        assert (ended.status, ended.close_reason) == (MembershipStatus.ENDED, "Fees unpaid")
    client.post("/logout")
    pending = make_membership(app, world.organization, world.institute, world.tier, status="pending")
    login(client, world.admin.email)
    assert client.post(f"/memberships/{pending.id}/withdraw", data={"withdraw-reason": ""}).status_code == 302
    with app.app_context():
        assert get(Membership, pending.id).status == MembershipStatus.WITHDRAWN


def test_tier_change_is_requested_by_the_organization_and_approved_by_the_institute(client, app, world):
    platinum = make_tier(app, world.institute, name="Platinum", fee_cents=20_000_000)
    active = make_membership(app, world.organization, world.institute, world.tier)
    login(client, world.admin.email)
    assert client.post(f"/memberships/{active.id}/tier", data={"tier": platinum.id}).status_code == 302
    client.post("/logout")
    login(client, world.staff.email)
    assert b"Requested changes of tier" in client.get(f"/institutes/{world.institute.slug}/manage").data
    assert client.post(f"/memberships/{active.id}/tier/decision", data={"decision": "approve"}).status_code == 302
    response = client.post(f"/memberships/{active.id}/tier/decision", data={"decision": "approve"},
                           follow_redirects=True)
    assert b"already" in response.data
    with app.app_context():
        changed = get(Membership, active.id)
        assert (changed.tier_id, changed.requested_tier_id) == (platinum.id, None)


def test_a_membership_past_its_end_date_is_lapsed_everywhere(client, app, world):
    member = make_user(app)
    affiliate(app, member, world.organization)
    lapsed = make_membership(app, world.organization, world.institute, world.tier,
                             starts_on=TODAY - timedelta(days=400), ends_on=TODAY - timedelta(days=1))
    with app.app_context():
        assert get(Membership, lapsed.id).current_status(TODAY) == MembershipStatus.LAPSED
        assert not memberships.access(get(User, member.id), world.institute).member
        assert memberships.public_roster(world.institute).total == 0
    login(client, world.admin.email)
    assert b"Lapsed" in client.get(f"/memberships/{lapsed.id}").data
    response = client.post(f"/memberships/{lapsed.id}/renew", data={"expected_ends_on": lapsed.ends_on.isoformat()},
                           follow_redirects=True)
    assert b"only an active membership" in response.data
    # and the organization may apply afresh
    response = client.post(f"/institutes/{world.institute.slug}/apply", data=apply_form(world))
    assert response.status_code == 302
    with app.app_context():
        assert get(Membership, lapsed.id).status == MembershipStatus.LAPSED


def test_expire_command_records_lapses_once(runner, app, world):
    lapsed = make_membership(app, world.organization, world.institute, world.tier,
                             starts_on=TODAY - timedelta(days=400), ends_on=TODAY - timedelta(days=1))
    result = runner.invoke(args=["memberships", "expire"])
    assert "1 membership(s) recorded as lapsed" in result.output
    assert "0 membership(s)" in runner.invoke(args=["memberships", "expire"]).output
    with app.app_context():
        assert get(Membership, lapsed.id).status == MembershipStatus.LAPSED
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action == "membership.lapsed")) == 1


def test_remind_command_tells_once_per_end_date(runner, app, world):
    make_membership(app, world.organization, world.institute, world.tier,
                    starts_on=TODAY - timedelta(days=340), ends_on=TODAY + timedelta(days=20))
    make_membership(app, make_organization(app), world.institute, world.tier)  # ends in 335 days
    assert "1 reminder(s) sent" in runner.invoke(args=["memberships", "remind"]).output
    assert "0 reminder(s) sent" in runner.invoke(args=["memberships", "remind"]).output
    assert any("ends on" in m.subject for m in mails_to(app, world.admin.email))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == world.staff.id)) == 1


# Access --------------------------------------------------------------------------------------

def test_every_active_user_of_a_member_organization_gets_member_access(ctx, app, world):
    lead_tier = world.tier
    make_membership(app, world.organization, world.institute, lead_tier)
    colleague, pending, outsider = make_user(app), make_user(app), make_user(app)
    affiliate(app, colleague, world.organization)
    affiliate(app, pending, world.organization, status=AffiliationStatus.PENDING)
    access = memberships.access(get(User, colleague.id), world.institute)
    assert access.member and access.may_lead_projects and access.may_join_projects and not access.staff
    assert not memberships.access(get(User, pending.id), world.institute).member
    assert not memberships.access(get(User, outsider.id), world.institute).member
    staff_access = memberships.access(get(User, world.staff.id), world.institute)
    assert staff_access.staff and not staff_access.member and staff_access.sees_member_content


def test_tier_rights_decide_leading_and_joining(ctx, app, world):
    join_only = make_tier(app, world.institute, name="Silver", may_lead=False)
    make_membership(app, world.organization, world.institute, join_only)
    access = memberships.access(get(User, world.admin.id), world.institute)
    assert access.member and access.may_join_projects and not access.may_lead_projects


def test_member_contacts_are_for_members_and_staff_only(client, app, world):
    make_membership(app, world.organization, world.institute, world.tier)
    url = f"/institutes/{world.institute.slug}"
    assert b"pat@example.com" not in client.get(url).data
    login(client, make_user(app).email)
    assert b"pat@example.com" not in client.get(url).data
    client.post("/logout")
    login(client, world.admin.email)
    assert b"pat@example.com" in client.get(url).data
    client.post("/logout")
    login(client, world.staff.email)
    assert b"pat@example.com" in client.get(url).data


# Rosters and timers --------------------------------------------------------------------------

def test_public_roster_groups_listed_members_by_sector_and_counts_unlisted_ones(client, app, world):
    make_membership(app, world.organization, world.institute, world.tier)
    hidden = make_organization(app, name="Quiet Corp", listed=False)
    university = make_organization(app, name="State University", sector=Sector.ACADEMIC)
    make_membership(app, hidden, world.institute, world.tier)
    make_membership(app, university, world.institute, world.tier)
    make_membership(app, make_organization(app, name="Applicant Co"), world.institute, world.tier, status="pending")
    page = client.get(f"/institutes/{world.institute.slug}").data
    assert b"3 member organizations: 2 industry, 1 academic." in page
    assert b"State University" in page and world.organization.name.encode() in page
    assert b"Quiet Corp" not in page and b"Applicant Co" not in page


def test_organization_page_lists_its_memberships(client, app, world):
    make_membership(app, world.organization, world.institute, world.tier)
    page = client.get(f"/organizations/{world.organization.id}").data
    assert b"Institute memberships" in page and b"TI</a>: Gold, active" in page


def test_staff_export_the_roster_as_csv(client, app, world):
    make_membership(app, world.organization, world.institute, world.tier)
    make_membership(app, make_organization(app, name="=HYPERLINK(1)"), world.institute, world.tier)
    login(client, world.staff.email)
    response = client.get(f"/institutes/{world.institute.slug}/roster.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert {row["organization"] for row in rows} == {world.organization.name, "'=HYPERLINK(1)"}
    assert rows[0]["annual_fee"] == "50000.00"
    client.post("/logout")
    login(client, world.admin.email)
    assert client.get(f"/institutes/{world.institute.slug}/roster.csv").status_code == 403


def test_wait_times_median_and_longest_open_wait(ctx, app, world):
    now = utcnow()
    for days in (2, 4, 10):
        m = make_membership(app, make_organization(app), world.institute, world.tier, status="declined",
                            applied_at=now - timedelta(days=30))
        m.decided_at = m.applied_at + timedelta(days=days)
    make_membership(app, make_organization(app), world.institute, world.tier, status="pending",
                    applied_at=now - timedelta(days=12))
    make_membership(app, make_organization(app), world.institute, world.tier, status="pending",
                    applied_at=now - timedelta(days=3))
    db.session.flush()
    waits = memberships.wait_times(world.institute, now)
    assert (waits.decided, waits.median_days, waits.longest_open_days) == (3, 4.0, 12)


def test_manage_page_shows_the_queue_oldest_first_with_days_waiting(client, app, world):
    now = utcnow()
    make_membership(app, make_organization(app, name="Newer Co"), world.institute, world.tier, status="pending",
                    applied_at=now - timedelta(days=2))
    make_membership(app, make_organization(app, name="Older Co"), world.institute, world.tier, status="pending",
                    applied_at=now - timedelta(days=9))
    login(client, world.staff.email)
    page = client.get(f"/institutes/{world.institute.slug}/manage").data.decode()
    assert page.index("Older Co") < page.index("Newer Co")
    assert "<td>9</td>" in page and "days, the longest open wait" in page


def test_manage_page_is_for_that_institutes_admins(client, app, world):
    assert client.get(f"/institutes/{world.institute.slug}/manage").status_code == 302
    other = make_staff(app, make_institute(app, slug="other", acronym="OI"))
    login(client, other.email)
    assert client.get(f"/institutes/{world.institute.slug}/manage").status_code == 403
    assert client.get(f"/institutes/{world.institute.slug}/audit").status_code == 403


def test_staff_read_their_institutes_audit_log(client, app, world):
    pending = make_membership(app, world.organization, world.institute, world.tier, status="pending")
    login(client, world.staff.email)
    client.post(f"/memberships/{pending.id}/decision",
                data={"decision": "decline", "term_years": "1", "reason": "Not this year"})
    page = client.get(f"/institutes/{world.institute.slug}/audit").data
    assert b"membership.declined" in page and b"Not this year" in page


# Tiers and staff -----------------------------------------------------------------------------

def test_staff_add_a_tier_with_the_fee_written_as_people_write_it(client, app, world):
    login(client, world.staff.email)
    response = client.post(f"/institutes/{world.institute.slug}/tiers", data={
        "name": "Platinum", "annual_fee": "$1,250,000.50", "named_seats": "10", "may_lead_projects": "y"})
    assert response.status_code == 302
    with app.app_context():
        tier = db.session.scalar(sa.select(Tier).where(Tier.name == "Platinum"))
        assert tier.annual_fee_cents == 125_000_050 and tier.may_lead_projects
    response = client.post(f"/institutes/{world.institute.slug}/tiers", data={
        "name": "Diamond", "annual_fee": "12.345", "named_seats": "1"})
    assert response.status_code == 422 and b'id="annual_fee-error"' in response.data


def test_a_tier_in_use_is_retired_and_an_unused_one_deleted(client, app, world):
    unused = make_tier(app, world.institute, name="Bronze")
    make_membership(app, world.organization, world.institute, world.tier)
    login(client, world.staff.email)
    client.post(f"/institutes/{world.institute.slug}/tiers/{world.tier.id}/retire")
    client.post(f"/institutes/{world.institute.slug}/tiers/{unused.id}/retire")
    with app.app_context():
        assert get(Tier, world.tier.id).is_retired
        assert get(Tier, unused.id) is None


def test_network_admin_assigns_and_removes_institute_staff(client, app, world):
    network_admin = make_user(app, role=Role.NETWORK_ADMIN)
    newcomer = make_user(app, email="newcomer@example.com")
    login(client, world.staff.email)  # institute staff cannot appoint staff
    assert client.post(f"/institutes/{world.institute.slug}/staff", data={"email": newcomer.email}).status_code == 403
    client.post("/logout")
    login(client, network_admin.email)
    assert client.post(f"/institutes/{world.institute.slug}/staff", data={"email": newcomer.email}).status_code == 302
    response = client.post(f"/institutes/{world.institute.slug}/staff", data={"email": "nobody@example.com"})
    assert response.status_code == 422 and b"No active account" in response.data
    with app.app_context():
        institute = db.session.merge(world.institute)
        assert memberships.is_staff(get(User, newcomer.id), institute)
        staff_id = [s.id for s in memberships.staff_of(institute) if s.user_id == newcomer.id][0]
    client.post(f"/institutes/{world.institute.slug}/staff/{staff_id}/remove")
    with app.app_context():
        assert not memberships.is_staff(get(User, newcomer.id), db.session.merge(world.institute))


# Notifications -------------------------------------------------------------------------------

def test_bell_shows_unread_count_and_the_list_marks_them_read(client, app, world):
    login(client, world.admin.email)
    client.post(f"/institutes/{world.institute.slug}/apply", data=apply_form(world))
    page = client.get("/notifications/").data
    assert b'1<span class="usa-sr-only"> unread</span>' in page
    assert b"applied for Gold membership" in page
    client.post("/notifications/read")
    assert b"unread</span>" not in client.get("/notifications/").data


def test_seed_loads_tiers_for_every_institute_once(runner, app):
    runner.invoke(args=["seed"])
    result = runner.invoke(args=["seed"])
    assert "Membership tiers: 0 created." in result.output
    with app.app_context():
        names = list(db.session.scalars(sa.select(Tier.name).join(Tier.institute)
                                        .where(sa.text("institutes.slug = 'america-makes'"))
                                        .order_by(Tier.annual_fee_cents)))
        assert names == ["Silver", "Gold", "Platinum"]
        assert db.session.scalar(sa.select(sa.func.count(Tier.id))) == 3 + 17 * 4


def test_following_a_notification_marks_it_read_and_stays_on_this_site(client, app, world):
    login(client, world.admin.email)
    client.post(f"/institutes/{world.institute.slug}/apply", data=apply_form(world))
    with app.app_context():
        notification_id = db.session.scalar(sa.select(Notification.id).where(Notification.user_id == world.admin.id))
        db.session.execute(sa.update(Notification).where(Notification.id == notification_id)
                           .values(link="https://evil.example/memberships/1"))
        db.session.commit()
    response = client.get(f"/notifications/{notification_id}")
    assert response.status_code == 302 and response.headers["Location"] == "/memberships/1"
    with app.app_context():
        assert db.session.get(Notification, notification_id).read_at is not None
    client.post("/logout")
    login(client, world.staff.email)  # someone else's notification is not found
    assert client.get(f"/notifications/{notification_id}").status_code == 404


def test_the_person_who_decides_is_not_notified_of_their_own_decision(client, app, world):
    pending = make_membership(app, world.organization, world.institute, world.tier, status="pending")
    login(client, world.staff.email)
    client.post(f"/memberships/{pending.id}/decision", data={"decision": "approve", "term_years": "1"})
    with app.app_context():
        told = set(db.session.scalars(sa.select(Notification.user_id)))
    assert told == {world.admin.id}
