"""Institute memberships: applying, deciding, lifecycle, access, rosters, timers and notifications."""

import csv
import io
import re
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
from portal.services.clock import add_years, today
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

TODAY = today()


def apply_form(membership_world, **changes):
    return {"organization": membership_world.organization.id, "tier": membership_world.tier.id,
            "statement": "We print titanium.", "contact_name": "Ada Admin", "contact_email": "ada@acme.example",
            **changes}


def application(app, world, organization=None, **values):
    """A membership of the world's organization (or another) in its institute's tier, pending unless told."""
    return make_membership(app, organization or world.organization, world.institute, world.tier,
                           **{"status": "pending", **values})


def get(model, id_):
    return db.session.get(model, id_)


def count_memberships(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Membership.id)))


# Applying ------------------------------------------------------------------------------------

def test_org_admin_applies_and_staff_and_admins_are_notified(client, app, membership_world):
    login(client, membership_world.admin.email)
    page = client.get(f"/institutes/{membership_world.institute.slug}/apply")
    assert page.status_code == 200 and b"Gold: $50,000 a year" in page.data
    response = client.post(f"/institutes/{membership_world.institute.slug}/apply", data=apply_form(membership_world))
    assert response.status_code == 302
    with app.app_context():
        membership = db.session.scalar(sa.select(Membership))
        assert membership.status == MembershipStatus.PENDING
        assert membership.applied_by_id == membership_world.admin.id
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "membership.applied"))
        assert event.institute_id == membership_world.institute.id and event.to_state == "pending"
        told = set(db.session.scalars(sa.select(Notification.user_id)))
    assert told == {membership_world.admin.id, membership_world.staff.id}
    assert any("applied for Gold" in m.subject for m in mails_to(app, "staff@institute.example"))


def test_applying_twice_is_refused_with_a_clear_message(client, app, membership_world):
    login(client, membership_world.admin.email)
    client.post(f"/institutes/{membership_world.institute.slug}/apply", data=apply_form(membership_world))
    response = client.post(f"/institutes/{membership_world.institute.slug}/apply", data=apply_form(membership_world))
    assert response.status_code == 409
    assert b"already has an application waiting" in response.data
    assert count_memberships(app) == 1


def test_the_database_refuses_a_second_live_membership(ctx, app, membership_world):
    application(app, membership_world)
    db.session.add(Membership(organization_id=membership_world.organization.id,
                              institute_id=membership_world.institute.id,
                              tier_id=membership_world.tier.id, status="active", statement="x", contact_name="x",
                              contact_email="x@example.com", applied_by_id=membership_world.admin.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_an_organization_may_apply_again_after_a_decline(ctx, app, membership_world):
    application(app, membership_world, status="declined")
    again = memberships.apply(get(User, membership_world.admin.id), get(Organization, membership_world.organization.id),
                              membership_world.institute, membership_world.tier, statement="Please", contact_name="A",
                              contact_email="a@example.com")
    assert again.status == MembershipStatus.PENDING


def test_retired_and_other_institutes_tiers_are_refused(client, app, membership_world):
    retired = make_tier(app, membership_world.institute, name="Bronze", retired=True)
    other_tier = make_tier(app, make_institute(app, slug="other", acronym="OI"), name="Gold")
    login(client, membership_world.admin.email)
    for tier in (retired, other_tier):
        response = client.post(f"/institutes/{membership_world.institute.slug}/apply",
                               data=apply_form(membership_world, tier=tier.id))
        assert response.status_code == 422
        assert b'id="tier-error"' in response.data
    with app.app_context(), pytest.raises(DomainError, match="retired"):
        memberships.apply(get(User, membership_world.admin.id), get(Organization, membership_world.organization.id),
                          membership_world.institute, get(Tier, retired.id), statement="x", contact_name="x",
                          contact_email="x@example.com")
    assert count_memberships(app) == 0


def test_forging_the_organization_id_is_refused(client, app, membership_world):
    stranger = make_organization(app, name="Not Mine Inc")
    login(client, membership_world.admin.email)
    response = client.post(f"/institutes/{membership_world.institute.slug}/apply",
                           data=apply_form(membership_world, organization=stranger.id))
    assert response.status_code == 422
    assert b'id="organization-error"' in response.data
    assert count_memberships(app) == 0


def test_a_plain_member_cannot_apply(client, app, membership_world):
    member = make_user(app)
    affiliate(app, member, membership_world.organization)
    login(client, member.email)
    response = client.get(f"/institutes/{membership_world.institute.slug}/apply", follow_redirects=True)
    assert b"Only an organization&#39;s admins can apply" in response.data
    response = client.post(f"/institutes/{membership_world.institute.slug}/apply", data=apply_form(membership_world))
    assert response.status_code == 302
    assert count_memberships(app) == 0


def test_apply_requires_sign_in(client, membership_world):
    response = client.get(f"/institutes/{membership_world.institute.slug}/apply")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_bad_input_on_the_application_is_shown_next_to_the_field(client, app, membership_world):
    login(client, membership_world.admin.email)
    response = client.post(f"/institutes/{membership_world.institute.slug}/apply",
                           data=apply_form(membership_world, statement="", contact_name=""))
    assert response.status_code == 422
    assert b'id="statement-error"' in response.data and b'id="contact_name-error"' in response.data
    assert count_memberships(app) == 0


# Deciding ------------------------------------------------------------------------------------

def test_staff_approve_with_a_start_date_and_term(client, app, membership_world):
    pending = application(app, membership_world)
    login(client, membership_world.staff.email)
    response = client.post(f"/memberships/{pending.id}/decision",
                           data={"decision": "approve", "starts_on": "2026-12-01", "term_years": "2"})
    assert response.status_code == 302
    with app.app_context():
        membership = get(Membership, pending.id)
        assert membership.status == MembershipStatus.ACTIVE
        assert (membership.starts_on.isoformat(), membership.ends_on.isoformat()) == ("2026-12-01", "2028-12-01")
        assert membership.decided_by_id == membership_world.staff.id


@pytest.mark.parametrize("starts_on", ["9999-12-31", "0001-01-01"])  # beyond a term's arithmetic: the form's
def test_a_start_date_far_from_today_gets_a_message_and_decides_nothing(client, app, membership_world, starts_on):
    pending = make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier,
                              status="pending")
    login(client, membership_world.staff.email)
    response = client.post(f"/memberships/{pending.id}/decision",
                           data={"decision": "approve", "starts_on": starts_on, "term_years": "1"})
    assert response.status_code == 422
    assert b'id="starts_on-error"' in response.data and b"Enter a date from" in response.data
    with app.app_context():
        assert get(Membership, pending.id).status == MembershipStatus.PENDING


def test_declining_needs_a_reason_which_the_applicant_sees(client, app, membership_world):
    pending = application(app, membership_world)
    login(client, membership_world.staff.email)
    response = client.post(f"/memberships/{pending.id}/decision", data={"decision": "decline", "term_years": "1"})
    assert response.status_code == 422
    assert b'id="reason-error"' in response.data
    with app.app_context():
        assert get(Membership, pending.id).status == MembershipStatus.PENDING
    client.post(f"/memberships/{pending.id}/decision",
                data={"decision": "decline", "term_years": "1", "reason": "Our Gold tier is full this year."})
    client.post("/logout")
    login(client, membership_world.admin.email)
    page = client.get(f"/memberships/{pending.id}")
    assert b"Declined" in page.data and b"Our Gold tier is full this year." in page.data


def test_an_already_decided_application_cannot_be_decided_again(client, app, membership_world):
    pending = application(app, membership_world)
    login(client, membership_world.staff.email)
    client.post(f"/memberships/{pending.id}/decision", data={"decision": "approve", "term_years": "1"})
    response = client.post(f"/memberships/{pending.id}/decision",
                           data={"decision": "decline", "term_years": "1", "reason": "Changed my mind"},
                           follow_redirects=True)
    assert b"already active; nothing was changed" in response.data
    with app.app_context():
        assert get(Membership, pending.id).status == MembershipStatus.ACTIVE


def test_only_that_institutes_admins_may_decide(client, app, membership_world):
    pending = application(app, membership_world)
    other_staff = make_staff(app, make_institute(app, slug="other", acronym="OI"))
    for user in (other_staff, membership_world.admin):
        login(client, user.email)
        response = client.post(f"/memberships/{pending.id}/decision", data={"decision": "approve", "term_years": "1"})
        assert response.status_code == 403
        client.post("/logout")
    with app.app_context():
        assert get(Membership, pending.id).status == MembershipStatus.PENDING


# Lifecycle -----------------------------------------------------------------------------------

def test_renew_extends_by_a_year_and_a_repeat_changes_nothing(client, app, membership_world):
    active = make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier)
    login(client, membership_world.admin.email)
    data = {"expected_ends_on": active.ends_on.isoformat()}
    assert client.post(f"/memberships/{active.id}/renew", data=data).status_code == 302
    response = client.post(f"/memberships/{active.id}/renew", data=data, follow_redirects=True)
    assert b"already renewed" in response.data
    with app.app_context():
        assert get(Membership, active.id).ends_on == add_years(active.ends_on, 1)


def test_renewing_someone_elses_membership_is_403(client, app, membership_world):
    active = make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier)
    other_admin, _ = org_admin(app)
    login(client, other_admin.email)
    response = client.post(f"/memberships/{active.id}/renew", data={"expected_ends_on": active.ends_on.isoformat()})
    assert response.status_code == 403
    assert client.get(f"/memberships/{active.id}").status_code == 403
    with app.app_context():
        assert get(Membership, active.id).ends_on == active.ends_on


def test_withdraw_and_end(client, app, membership_world):
    active = make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier)
    login(client, membership_world.staff.email)
    assert client.post(f"/memberships/{active.id}/end", data={"end-reason": ""}).status_code == 422
    assert client.post(f"/memberships/{active.id}/end", data={"end-reason": "Fees unpaid"}).status_code == 302
    with app.app_context():
        ended = get(Membership, active.id)
        assert (ended.status, ended.close_reason) == (MembershipStatus.ENDED, "Fees unpaid")
    client.post("/logout")
    pending = application(app, membership_world)
    login(client, membership_world.admin.email)
    assert client.post(f"/memberships/{pending.id}/withdraw", data={"withdraw-reason": ""}).status_code == 302
    with app.app_context():
        assert get(Membership, pending.id).status == MembershipStatus.WITHDRAWN


def test_tier_change_is_requested_by_the_organization_and_approved_by_the_institute(client, app, membership_world):
    platinum = make_tier(app, membership_world.institute, name="Platinum", fee_cents=20_000_000)
    active = make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier)
    login(client, membership_world.admin.email)
    assert client.post(f"/memberships/{active.id}/tier", data={"tier": platinum.id}).status_code == 302
    client.post("/logout")
    login(client, membership_world.staff.email)
    assert b"Requested changes of tier" in client.get(f"/institutes/{membership_world.institute.slug}/manage").data
    assert client.post(f"/memberships/{active.id}/tier/decision", data={"decision": "approve"}).status_code == 302
    response = client.post(f"/memberships/{active.id}/tier/decision", data={"decision": "approve"},
                           follow_redirects=True)
    assert b"already" in response.data
    with app.app_context():
        changed = get(Membership, active.id)
        assert (changed.tier_id, changed.requested_tier_id) == (platinum.id, None)


def test_a_membership_past_its_end_date_is_lapsed_everywhere(client, app, membership_world):
    member = make_user(app)
    affiliate(app, member, membership_world.organization)
    lapsed = make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier,
                             starts_on=TODAY - timedelta(days=400), ends_on=TODAY - timedelta(days=1))
    with app.app_context():
        assert get(Membership, lapsed.id).current_status(TODAY) == MembershipStatus.LAPSED
        assert not memberships.access(get(User, member.id), membership_world.institute).member
        assert memberships.public_roster(membership_world.institute).total == 0
    login(client, membership_world.admin.email)
    assert b"Lapsed" in client.get(f"/memberships/{lapsed.id}").data
    response = client.post(f"/memberships/{lapsed.id}/renew", data={"expected_ends_on": lapsed.ends_on.isoformat()},
                           follow_redirects=True)
    assert b"only an active membership" in response.data
    # and the organization may apply afresh
    response = client.post(f"/institutes/{membership_world.institute.slug}/apply", data=apply_form(membership_world))
    assert response.status_code == 302
    with app.app_context():
        assert get(Membership, lapsed.id).status == MembershipStatus.LAPSED


def test_expire_command_records_lapses_once(runner, app, membership_world):
    lapsed = make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier,
                             starts_on=TODAY - timedelta(days=400), ends_on=TODAY - timedelta(days=1))
    result = runner.invoke(args=["memberships", "expire"])
    assert "1 membership(s) recorded as lapsed" in result.output
    assert "0 membership(s)" in runner.invoke(args=["memberships", "expire"]).output
    with app.app_context():
        assert get(Membership, lapsed.id).status == MembershipStatus.LAPSED
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action == "membership.lapsed")) == 1


def test_remind_command_tells_once_per_end_date(runner, app, membership_world):
    make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier,
                    starts_on=TODAY - timedelta(days=340), ends_on=TODAY + timedelta(days=20))
    make_membership(app, make_organization(app), membership_world.institute, membership_world.tier)  # ends in 335 days
    assert "1 reminder(s) sent" in runner.invoke(args=["memberships", "remind"]).output
    assert "0 reminder(s) sent" in runner.invoke(args=["memberships", "remind"]).output
    assert any("ends on" in m.subject for m in mails_to(app, membership_world.admin.email))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == membership_world.staff.id)) == 1


# Access --------------------------------------------------------------------------------------

def test_every_active_user_of_a_member_organization_gets_member_access(ctx, app, membership_world):
    lead_tier = membership_world.tier
    make_membership(app, membership_world.organization, membership_world.institute, lead_tier)
    colleague, pending, outsider = make_user(app), make_user(app), make_user(app)
    affiliate(app, colleague, membership_world.organization)
    affiliate(app, pending, membership_world.organization, status=AffiliationStatus.PENDING)
    access = memberships.access(get(User, colleague.id), membership_world.institute)
    assert access.member and access.may_lead_projects and access.may_join_projects and not access.staff
    assert not memberships.access(get(User, pending.id), membership_world.institute).member
    assert not memberships.access(get(User, outsider.id), membership_world.institute).member
    staff_access = memberships.access(get(User, membership_world.staff.id), membership_world.institute)
    assert staff_access.staff and not staff_access.member and staff_access.sees_member_content


def test_tier_rights_decide_leading_and_joining(ctx, app, membership_world):
    join_only = make_tier(app, membership_world.institute, name="Silver", may_lead=False)
    make_membership(app, membership_world.organization, membership_world.institute, join_only)
    access = memberships.access(get(User, membership_world.admin.id), membership_world.institute)
    assert access.member and access.may_join_projects and not access.may_lead_projects


def test_member_contacts_are_for_members_and_staff_only(client, app, membership_world):
    make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier)
    url = f"/institutes/{membership_world.institute.slug}"
    assert b"pat@example.com" not in client.get(url).data
    login(client, make_user(app).email)
    assert b"pat@example.com" not in client.get(url).data
    client.post("/logout")
    login(client, membership_world.admin.email)
    assert b"pat@example.com" in client.get(url).data
    client.post("/logout")
    login(client, membership_world.staff.email)
    assert b"pat@example.com" in client.get(url).data


# Rosters and timers --------------------------------------------------------------------------

def test_public_roster_groups_listed_members_by_sector_and_counts_unlisted_ones(client, app, membership_world):
    make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier)
    hidden = make_organization(app, name="Quiet Corp", listed=False)
    university = make_organization(app, name="State University", sector=Sector.ACADEMIC)
    make_membership(app, hidden, membership_world.institute, membership_world.tier)
    make_membership(app, university, membership_world.institute, membership_world.tier)
    application(app, membership_world, make_organization(app, name="Applicant Co"))
    page = client.get(f"/institutes/{membership_world.institute.slug}").data
    assert b"3 member organizations: 2 industry, 1 academic." in page
    assert b"State University" in page and membership_world.organization.name.encode() in page
    assert b"Quiet Corp" not in page and b"Applicant Co" not in page


def test_organization_page_lists_its_memberships(client, app, membership_world):
    make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier)
    page = client.get(f"/organizations/{membership_world.organization.id}").data
    assert b"Institute memberships" in page and b"TI</a>: Gold, active" in page


def test_staff_export_the_roster_as_csv(client, app, membership_world):
    make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier)
    application(app, membership_world, make_organization(app, name="=HYPERLINK(1)"), status="active")
    login(client, membership_world.staff.email)
    response = client.get(f"/institutes/{membership_world.institute.slug}/roster.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert {row["organization"] for row in rows} == {membership_world.organization.name, "'=HYPERLINK(1)"}
    assert rows[0]["annual_fee"] == "50000.00"
    client.post("/logout")
    login(client, membership_world.admin.email)
    assert client.get(f"/institutes/{membership_world.institute.slug}/roster.csv").status_code == 403


def test_wait_times_median_and_longest_open_wait(ctx, app, membership_world):
    now = utcnow()
    for days in (2, 4, 10):  # decided (and counted in the summary figures) after this many days
        application(app, membership_world, make_organization(app), status="declined",
                    applied_at=now - timedelta(days=30), decided_at=now - timedelta(days=30 - days))
    application(app, membership_world, make_organization(app), applied_at=now - timedelta(days=12))
    application(app, membership_world, make_organization(app), applied_at=now - timedelta(days=3))
    db.session.flush()
    waits = memberships.wait_times(membership_world.institute, now)
    assert (waits.decided, waits.median_days, waits.longest_open_days) == (3, 4.0, 12)


def test_manage_page_shows_the_queue_oldest_first_with_days_waiting(client, app, membership_world):
    now = utcnow()
    application(app, membership_world, make_organization(app, name="Newer Co"), applied_at=now - timedelta(days=2))
    application(app, membership_world, make_organization(app, name="Older Co"), applied_at=now - timedelta(days=9))
    login(client, membership_world.staff.email)
    page = client.get(f"/institutes/{membership_world.institute.slug}/manage").data.decode()
    assert page.index("Older Co") < page.index("Newer Co")
    assert "<td>9</td>" in page and "days, the longest open wait" in page


def test_the_queue_pages_oldest_first_and_counts_every_application_waiting(client, app, membership_world):
    now = utcnow()
    for n in range(30):  # Applicant 00 applied 40 days ago, Applicant 29 eleven days ago
        application(app, membership_world, make_organization(app, name=f"Applicant {n:02d}"),
                    applied_at=now - timedelta(days=40 - n))
    login(client, membership_world.staff.email)
    page = client.get(f"/institutes/{membership_world.institute.slug}/manage").data.decode()
    assert '"portal-stats__figure">30</span> waiting' in page
    shown = re.findall(r">(Applicant \d\d)</a>", page)
    assert shown == [f"Applicant {n:02d}" for n in range(25)]
    following = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    rest = re.findall(r">(Applicant \d\d)</a>", client.get(following).data.decode())
    assert rest == [f"Applicant {n:02d}" for n in range(25, 30)]


def test_manage_page_is_for_that_institutes_admins(client, app, membership_world):
    assert client.get(f"/institutes/{membership_world.institute.slug}/manage").status_code == 302
    other = make_staff(app, make_institute(app, slug="other", acronym="OI"))
    login(client, other.email)
    assert client.get(f"/institutes/{membership_world.institute.slug}/manage").status_code == 403
    assert client.get(f"/institutes/{membership_world.institute.slug}/audit").status_code == 403


def test_staff_read_their_institutes_audit_log(client, app, membership_world):
    pending = application(app, membership_world)
    login(client, membership_world.staff.email)
    client.post(f"/memberships/{pending.id}/decision",
                data={"decision": "decline", "term_years": "1", "reason": "Not this year"})
    page = client.get(f"/institutes/{membership_world.institute.slug}/audit").data
    assert b"membership.declined" in page and b"Not this year" in page


# Tiers and staff -----------------------------------------------------------------------------

def test_staff_add_a_tier_with_the_fee_written_as_people_write_it(client, app, membership_world):
    login(client, membership_world.staff.email)
    response = client.post(f"/institutes/{membership_world.institute.slug}/tiers", data={
        "name": "Platinum", "annual_fee": "$1,250,000.50", "named_seats": "10", "may_lead_projects": "y"})
    assert response.status_code == 302
    with app.app_context():
        tier = db.session.scalar(sa.select(Tier).where(Tier.name == "Platinum"))
        assert tier.annual_fee_cents == 125_000_050 and tier.may_lead_projects
    response = client.post(f"/institutes/{membership_world.institute.slug}/tiers", data={
        "name": "Diamond", "annual_fee": "12.345", "named_seats": "1"})
    assert response.status_code == 422 and b'id="annual_fee-error"' in response.data


def test_a_tier_in_use_is_retired_and_an_unused_one_deleted(client, app, membership_world):
    unused = make_tier(app, membership_world.institute, name="Bronze")
    make_membership(app, membership_world.organization, membership_world.institute, membership_world.tier)
    login(client, membership_world.staff.email)
    client.post(f"/institutes/{membership_world.institute.slug}/tiers/{membership_world.tier.id}/retire")
    client.post(f"/institutes/{membership_world.institute.slug}/tiers/{unused.id}/retire")
    with app.app_context():
        assert get(Tier, membership_world.tier.id).is_retired
        assert get(Tier, unused.id) is None


def test_network_admin_assigns_and_removes_institute_staff(client, app, membership_world):
    network_admin = make_user(app, role=Role.NETWORK_ADMIN)
    newcomer = make_user(app, email="newcomer@example.com")
    staff_url = f"/institutes/{membership_world.institute.slug}/staff"
    login(client, membership_world.staff.email)  # institute staff cannot appoint staff
    assert client.post(staff_url, data={"email": newcomer.email}).status_code == 403
    client.post("/logout")
    login(client, network_admin.email)
    assert client.post(staff_url, data={"email": newcomer.email}).status_code == 302
    response = client.post(staff_url, data={"email": "nobody@example.com"})
    assert response.status_code == 422 and b"No active account" in response.data
    with app.app_context():
        institute = db.session.merge(membership_world.institute)
        assert memberships.is_staff(get(User, newcomer.id), institute)
        staff_id = next(s.id for s in memberships.staff_of(institute) if s.user_id == newcomer.id)
    client.post(f"/institutes/{membership_world.institute.slug}/staff/{staff_id}/remove")
    with app.app_context():
        assert not memberships.is_staff(get(User, newcomer.id), db.session.merge(membership_world.institute))


# Notifications -------------------------------------------------------------------------------

def test_bell_shows_unread_count_and_the_list_marks_them_read(client, app, membership_world):
    login(client, membership_world.admin.email)
    client.post(f"/institutes/{membership_world.institute.slug}/apply", data=apply_form(membership_world))
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


def test_following_a_notification_marks_it_read_and_stays_on_this_site(client, app, membership_world):
    login(client, membership_world.admin.email)
    client.post(f"/institutes/{membership_world.institute.slug}/apply", data=apply_form(membership_world))
    with app.app_context():
        notification_id = db.session.scalar(sa.select(Notification.id)
                                            .where(Notification.user_id == membership_world.admin.id))
        db.session.execute(sa.update(Notification).where(Notification.id == notification_id)
                           .values(link="https://evil.example/memberships/1"))
        db.session.commit()
    response = client.get(f"/notifications/{notification_id}")
    assert response.status_code == 302 and response.headers["Location"] == "/memberships/1"
    with app.app_context():
        assert db.session.get(Notification, notification_id).read_at is not None
    client.post("/logout")
    login(client, membership_world.staff.email)  # someone else's notification is not found
    assert client.get(f"/notifications/{notification_id}").status_code == 404


def test_the_person_who_decides_is_not_notified_of_their_own_decision(client, app, membership_world):
    pending = application(app, membership_world)
    login(client, membership_world.staff.email)
    client.post(f"/memberships/{pending.id}/decision", data={"decision": "approve", "term_years": "1"})
    with app.app_context():
        told = set(db.session.scalars(sa.select(Notification.user_id)))
    assert told == {membership_world.admin.id}
