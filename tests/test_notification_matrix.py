"""The notification matrix: each event, triggered through the services, tells exactly the people the README's
matrix names (in the portal, and by mail unless they chose otherwise); choices per kind, digests, imports."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationStatus,
    Delivery,
    Digest,
    InstituteStaff,
    LedgerEntry,
    Membership,
    NoticeKind,
    Notification,
    OutboxMessage,
    Partner,
    Review,
    Role,
    Signup,
    User,
)
from portal.services import (
    DomainError,
    ledger,
    memberships,
    notifications,
    organizations,
    proposals,
    workforce,
    workforce_changes,
)
from portal.services.clock import today
from portal.services.ledger import PledgeInput
from tests.factories import make_call, make_organization, make_proposal, make_user, org_admin
from tests.workforce_factories import attended_and_completed, program, session

README = Path(__file__).resolve().parent.parent / "README.md"

DRAFT = {"abstract": "We will qualify printed brackets.", "technical_plan": "A new heat treatment.",
         "technology_area": "Additive manufacturing", "trl_start": 4, "trl_target": 6, "mrl_start": 4,
         "mrl_target": 6, "duration_months": 18, "federal_request_cents": 500_000_00,
         "milestones": [(6, "Alloy trials", "Test report")]}


class People:
    """The people of the walk, by the names the matrix uses, reloaded in the current session."""

    def __init__(self, world, app):
        w = world
        self.ids = {"staff": w.staff.id, "lead admin": w.lead_admin.id, "author": w.engineer.id,
                    "partner admin": w.small_admin.id, "academic admin": w.uni_admin.id,
                    "reviewer": w.reviewer_one.id, "second reviewer": w.reviewer_two.id,
                    "requester": w.outsider.id}
        for name, fields in (("second staff", {"second_factor": True}),
                             ("network admin", {"role": Role.NETWORK_ADMIN}), ("new administrator", {}),
                             ("learner", {}), ("waiting learner", {}), ("third reviewer", {})):
            self.ids[name] = make_user(app, email=f"{name.replace(' ', '.')}@example.com", **fields).id
        db.session.add(InstituteStaff(institute_id=w.institute.id, user_id=self.ids["second staff"]))
        newco_admin, newco = org_admin(app, make_organization(app, name="NewCo"), email="boss@newco.example")
        self.ids["applicant admin"] = newco_admin.id
        self.newco_id = newco.id
        db.session.flush()
        self.names = {user_id: name for name, user_id in self.ids.items()}

    def __getitem__(self, name: str) -> User:
        return db.session.get(User, self.ids[name])


def told_by(people: People, action) -> set[str]:
    """Run ``action``; the people it put a notification in front of (by name), checking each also got a mail."""
    db.session.flush()
    last = db.session.scalar(sa.select(sa.func.max(Notification.id))) or 0
    last_mail = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0
    action()
    db.session.flush()
    rows = db.session.execute(sa.select(Notification.user_id, User.email, Notification.message)
                              .join(User, User.id == Notification.user_id).where(Notification.id > last)).all()
    mailed = set(db.session.scalars(sa.select(OutboxMessage.to_address).where(OutboxMessage.id > last_mail)))
    assert {email for _, email, _ in rows} <= mailed, "every notice is mailed at once by default"
    return {people.names.get(user_id, f"someone else ({email}: {message})") for user_id, email, message in rows}


def events_in_readme() -> set[str]:
    """The events of the README's matrix (its first column)."""
    section = README.read_text().split("### Who is told of what", 1)[1].split("\n#", 1)[0]
    return {match.group(1) for match in re.finditer(r"^\| `([^`]+)` \|", section, flags=re.M)}


STAFF = {"staff", "second staff"}
# Each event, and whom it tells in the walk below: the README's matrix in the walk's people. The person who
# acts is never told of their own action.
EXPECTED = {
    "organization.join_requested": {"lead admin"},
    "organization.join_decided": {"requester"},
    "institute.staff_added": {"new administrator"} | STAFF,
    "institute.staff_removed": {"new administrator"},
    "membership.applied": {"applicant admin"} | STAFF,  # the applicant too: a receipt of the application
    "membership.approved": {"applicant admin", "second staff"},
    "membership.renewed": STAFF,
    "membership.tier_change_requested": STAFF,
    "membership.tier_change_decided": {"applicant admin"},
    "membership.ended": {"applicant admin", "second staff"},
    "membership.declined": {"applicant admin", "staff"},
    "membership.withdrawn": STAFF,
    "membership.lapsed": {"lead admin", "partner admin", "academic admin"} | STAFF,
    "ledger.pledge": STAFF,
    "ledger.pledge (cost share)": {"author"},
    "ledger.receipt": {"lead admin", "second staff"},
    "ledger.verification": {"lead admin"},
    "ledger.reversal": {"lead admin"},
    "ledger.cancellation (by the institute)": {"lead admin"},
    "ledger.cancellation (by the organization)": STAFF,
    "proposal.partner_invited": {"partner admin"},
    "proposal.partner_answered": {"lead admin", "author"},
    "proposal.submitted": {"lead admin"} | STAFF,
    "proposal.reviewer_assigned (the first: under review)": {"reviewer", "author", "lead admin"},
    "proposal.reviewer_assigned": {"second reviewer"},
    "proposal.review_submitted": STAFF,
    "proposal.conflict_declared": STAFF,
    "proposal.reviewer_removed": {"third reviewer"},
    "proposal.approved": {"author", "lead admin", "partner admin"},
    "proposal.declined (its cost share released)": {"author", "lead admin", "partner admin"},
    "proposal.returned_to_draft": {"author", "lead admin"},
    "proposal.withdrawn": {"lead admin"} | STAFF,
    "project.started": {"lead admin"} | STAFF,
    "project.milestone_reported": STAFF,
    "project.milestone_sent_back": {"author", "lead admin"},
    "project.milestone_accepted": {"author", "lead admin"},
    "project.completion_requested": STAFF,
    "proposal.completed": {"author", "lead admin"},
    "workforce.signup": {"learner"},
    "workforce.cancelled (the waitlist moves up)": {"learner", "waiting learner"},
    "workforce.credential_issued": {"learner"},
    "workforce.session_cancelled": {"waiting learner"},
}


def walk(people: People, world) -> dict[str, set[str]]:
    """Trigger every event of the matrix through the services, in an order in which each is possible."""
    p, w = people, world
    got: dict[str, set[str]] = {}
    inst = lambda: db.session.get(type(w.institute), w.institute.id)  # noqa: E731
    org = lambda model, id_: db.session.get(model, id_)  # noqa: E731
    lead = org(type(w.lead), w.lead.id)
    newco = org(type(w.lead), p.newco_id)
    gold, silver = org(type(w.lead_tier), w.lead_tier.id), org(type(w.join_tier), w.join_tier.id)

    # organizations
    got["organization.join_requested"] = told_by(p, lambda: organizations.join_or_create(
        p["requester"], organizations.OrganizationChoice(name=lead.name)))
    request = db.session.scalar(sa.select(Affiliation).where(Affiliation.user_id == p.ids["requester"],
                                                             Affiliation.status == AffiliationStatus.PENDING))
    got["organization.join_decided"] = told_by(p, lambda: organizations.decide_affiliation(
        p["lead admin"], request, approve=True))

    # institute administrators
    got["institute.staff_added"] = told_by(p, lambda: memberships.add_staff(
        p["network admin"], inst(), p["new administrator"].email))
    added = db.session.scalar(sa.select(InstituteStaff).where(InstituteStaff.user_id == p.ids["new administrator"]))
    got["institute.staff_removed"] = told_by(p, lambda: memberships.remove_staff(p["network admin"], added))

    # memberships
    def apply():
        return memberships.apply(p["applicant admin"], newco, inst(), silver, statement="We machine parts.",
                                 contact_name="Boss", contact_email="boss@newco.example")

    got["membership.applied"] = told_by(p, apply)
    membership = db.session.scalar(sa.select(Membership).where(Membership.organization_id == newco.id))
    got["membership.approved"] = told_by(p, lambda: memberships.approve(p["staff"], membership))
    got["membership.renewed"] = told_by(p, lambda: memberships.renew(
        p["applicant admin"], membership, expected_ends_on=membership.ends_on))
    got["membership.tier_change_requested"] = told_by(p, lambda: memberships.request_tier_change(
        p["applicant admin"], membership, gold))
    got["membership.tier_change_decided"] = told_by(p, lambda: memberships.decide_tier_change(
        p["staff"], membership, approve_change=True))
    got["membership.ended"] = told_by(p, lambda: memberships.end(p["staff"], membership, reason="Dues unpaid"))
    again = apply()
    got["membership.declined"] = told_by(p, lambda: memberships.decline(p["second staff"], again, reason="Full"))
    third = apply()
    got["membership.withdrawn"] = told_by(p, lambda: memberships.withdraw(p["applicant admin"], third))

    # the ledger
    def pledge(actor="lead admin", cents=100_000_00):
        return ledger.record_pledge(p[actor], lead, inst(), PledgeInput(
            amount_cents=cents, kind="cash", fiscal_year=ledger.fiscal_year_of(today())), key=None)

    pledges = []
    got["ledger.pledge"] = told_by(p, lambda: pledges.append(pledge()))
    receipts: list[LedgerEntry] = []
    got["ledger.receipt"] = told_by(p, lambda: receipts.append(ledger.record_receipt(
        p["staff"], pledges[0], amount_cents=10_000_00, received_on=today(), key=None)))
    verifications: list[LedgerEntry] = []
    got["ledger.verification"] = told_by(p, lambda: verifications.append(ledger.verify_receipt(
        p["second staff"], receipts[0], key=None)))
    got["ledger.reversal"] = told_by(p, lambda: ledger.reverse(p["staff"], verifications[0],
                                                                 reason="Bank recalled it", key=None))
    got["ledger.cancellation (by the institute)"] = told_by(p, lambda: ledger.cancel_remainder(
        p["staff"], pledges[0], reason="Closing FY", key=None))
    second = pledge()
    got["ledger.cancellation (by the organization)"] = told_by(p, lambda: ledger.cancel_remainder(
        p["lead admin"], second, reason="Budget cut", key=None))

    # proposals: the whole way, and the other ways out
    call = make_call(None, p["staff"], inst())
    draft = make_proposal(None, p["author"], call, lead, title="Lighter brackets", **DRAFT)
    small = org(type(w.small), w.small.id)
    got["proposal.partner_invited"] = told_by(p, lambda: proposals.invite(p["lead admin"], draft, small))
    partner = db.session.scalar(sa.select(Partner).where(Partner.proposal_id == draft.id,
                                                         Partner.organization_id == small.id))
    got["proposal.partner_answered"] = told_by(p, lambda: proposals.respond(p["partner admin"], partner, accept=True))
    got["ledger.pledge (cost share)"] = told_by(p, lambda: proposals.commit_cost_share(
        p["partner admin"], partner, amount_cents=50_000_00, kind="cash", in_kind_description="", key=None))
    got["proposal.submitted"] = told_by(p, lambda: proposals.submit(p["author"], draft))
    got["proposal.reviewer_assigned (the first: under review)"] = told_by(p, lambda: proposals.assign_reviewer(
        p["staff"], draft, p["reviewer"]))
    got["proposal.reviewer_assigned"] = told_by(p, lambda: proposals.assign_reviewer(
        p["staff"], draft, p["second reviewer"]))
    review = db.session.scalar(sa.select(Review).where(Review.reviewer_id == p.ids["reviewer"]))
    criterion = call.criteria[0].id
    got["proposal.review_submitted"] = told_by(p, lambda: proposals.save_review(
        p["reviewer"], review, {criterion: (4, "Solid")}, final=True))
    second_review = db.session.scalar(sa.select(Review).where(Review.reviewer_id == p.ids["second reviewer"]))
    got["proposal.conflict_declared"] = told_by(p, lambda: proposals.declare_conflict(
        p["second reviewer"], second_review, reason="I consult for them"))
    third_review = proposals.assign_reviewer(p["staff"], draft, p["third reviewer"])
    got["proposal.reviewer_removed"] = told_by(p, lambda: proposals.remove_reviewer(
        p["staff"], third_review, reason="Not needed"))
    got["proposal.approved"] = told_by(p, lambda: proposals.decide(p["staff"], draft, approve=True, note="Strong"))
    got["project.started"] = told_by(p, lambda: proposals.start_project(p["author"], draft))
    milestone = draft.milestones[0]
    got["project.milestone_reported"] = told_by(p, lambda: proposals.report_milestone(p["author"], milestone))
    got["project.milestone_sent_back"] = told_by(p, lambda: proposals.send_back_milestone(
        p["staff"], milestone, reason="Attach the report"))
    proposals.report_milestone(p["author"], milestone)
    got["project.milestone_accepted"] = told_by(p, lambda: proposals.accept_milestone(p["staff"], milestone))
    got["project.completion_requested"] = told_by(p, lambda: proposals.request_completion(
        p["author"], draft, trl_reached=6, mrl_reached=5))
    got["proposal.completed"] = told_by(p, lambda: proposals.complete(p["staff"], draft, trl_reached=6,
                                                                       mrl_reached=5))

    returned = make_proposal(None, p["author"], call, lead, title="Returned", **DRAFT)
    proposals.submit(p["author"], returned)
    got["proposal.returned_to_draft"] = told_by(p, lambda: proposals.return_to_draft(
        p["staff"], returned, "Add a partner"))
    proposals.submit(p["author"], returned)
    got["proposal.withdrawn"] = told_by(p, lambda: proposals.withdraw(p["author"], returned))
    declined = make_proposal(None, p["author"], call, lead, title="Declined", **DRAFT)
    proposals.invite(p["lead admin"], declined, small)
    joined = db.session.scalar(sa.select(Partner).where(Partner.proposal_id == declined.id,
                                                        Partner.organization_id == small.id))
    proposals.respond(p["partner admin"], joined, accept=True)
    proposals.commit_cost_share(p["partner admin"], joined, amount_cents=20_000_00, kind="cash",
                                in_kind_description="", key=None)
    proposals.submit(p["author"], declined)
    proposals.assign_reviewer(p["staff"], declined, p["reviewer"])
    proposals.save_review(p["reviewer"], db.session.scalar(sa.select(Review).where(
        Review.proposal_id == declined.id)), {criterion: (2, "")}, final=True)
    got["proposal.declined (its cost share released)"] = told_by(p, lambda: proposals.decide(
        p["staff"], declined, approve=False, note="Out of scope"))

    # workforce
    prog = program(p["staff"], inst())
    sess = session(p["staff"], prog, capacity=1)
    got["workforce.signup"] = told_by(p, lambda: workforce.sign_up(p["learner"], sess, "incumbent"))
    workforce.sign_up(p["waiting learner"], sess, "veteran")
    place = db.session.scalar(sa.select(Signup).where(Signup.user_id == p.ids["learner"]))
    got["workforce.cancelled (the waitlist moves up)"] = told_by(p, lambda: workforce.cancel(
        p["staff"], place, reason="Moved"))
    past = session(p["staff"], prog, capacity=1, starts_in=timedelta(days=1))
    signup = workforce.sign_up(p["learner"], past, "incumbent")
    attended_and_completed(p["staff"], past, signup)
    got["workforce.credential_issued"] = told_by(p, lambda: workforce.issue_credential(p["staff"], signup))
    got["workforce.session_cancelled"] = told_by(p, lambda: workforce_changes.cancel_session(
        p["staff"], sess, "The room flooded"))

    # last, as it ends the partner's membership
    small_membership = db.session.scalar(sa.select(Membership).where(Membership.organization_id == small.id))
    got["membership.lapsed"] = told_by(p, lambda: memberships.expire(on=small_membership.ends_on
                                                                      + timedelta(days=1)))
    return got


def test_every_event_of_the_matrix_tells_exactly_whom_it_names(app, ctx, proposal_world):
    people = People(proposal_world, app)
    got = walk(people, proposal_world)
    assert set(EXPECTED) == events_in_readme(), "the README's matrix lists the events the walk checks"
    assert set(got) == set(EXPECTED)
    wrong = {event: {"expected": sorted(EXPECTED[event]), "told": sorted(got[event])}
             for event in got if got[event] != EXPECTED[event]}
    assert not wrong, wrong


def test_a_daily_digest_holds_mail_and_is_sent_once_a_day(app, ctx, membership_world):
    w = membership_world
    staff = db.session.get(User, w.staff.id)
    notifications.set_preferences(staff, {NoticeKind.MEMBERSHIP: Delivery.DIGEST})
    admin = db.session.get(User, w.admin.id)
    institute, tier = db.session.get(type(w.institute), w.institute.id), db.session.get(type(w.tier), w.tier.id)
    memberships.apply(admin, db.session.get(type(w.organization), w.organization.id), institute, tier,
                      statement="We make parts.", contact_name="Pat", contact_email="pat@acme.example")
    db.session.flush()
    assert not db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == staff.email)).all()
    assert notifications.unread_count(staff) == 1  # the bell has it at once
    later = notifications.utcnow() + timedelta(seconds=1)
    assert notifications.send_digests(now=later) == 1
    assert notifications.send_digests(now=later + timedelta(hours=2)) == 0  # the same day: nothing more
    [digest] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_address == staff.email)).all()
    assert digest.subject == "Your daily digest: 1 notification"
    assert "Acme" in digest.body or w.organization.name in digest.body
    assert db.session.scalar(sa.select(sa.func.count(Digest.id))) == 1


def test_the_digest_command_sends_once_when_run_twice(app, runner, membership_world):
    with app.app_context():
        staff = db.session.get(User, membership_world.staff.id)
        notifications.set_preferences(staff, {NoticeKind.MEMBERSHIP: Delivery.DIGEST})
        notifications.notify([staff], "Something to read", "main.index", notice_kind=NoticeKind.MEMBERSHIP)
        db.session.commit()
    first = runner.invoke(args=["notifications", "digest"])
    second = runner.invoke(args=["notifications", "digest"])
    assert (first.output, second.output) == ("1 digest(s) queued.\n", "0 digest(s) queued.\n")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
            OutboxMessage.subject.like("Your daily digest%"))) == 1


def test_off_means_no_mail_and_security_cannot_be_turned_off(app, ctx):
    person = make_user(app)
    notifications.set_preferences(person, {NoticeKind.LEDGER: Delivery.OFF})
    notifications.notify([person], "A receipt", "main.index", notice_kind=NoticeKind.LEDGER)
    notifications.notify([person], "Your password changed", "auth.account")  # security, by its page
    db.session.flush()
    assert [m.subject for m in db.session.scalars(sa.select(OutboxMessage))] == ["Your password changed"]
    assert notifications.unread_count(person) == 2
    with pytest.raises(DomainError):
        notifications.set_preferences(person, {NoticeKind.SECURITY: Delivery.OFF})


def test_an_import_tells_no_one(app, ctx, membership_world):
    w = membership_world
    with notifications.suppressed():
        memberships.apply(db.session.get(User, w.admin.id), db.session.get(type(w.organization), w.organization.id),
                          db.session.get(type(w.institute), w.institute.id), db.session.get(type(w.tier), w.tier.id),
                          statement="Historical.", contact_name="Pat", contact_email="pat@acme.example")
    db.session.flush()
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
    assert not notifications.is_suppressed()


def test_choices_are_saved_from_the_account_page_and_bad_input_is_refused(client, app, membership_world):
    from tests.conftest import login
    login(client, membership_world.admin.email)
    page = client.get("/account").get_data(as_text=True)
    assert "Notifications by email" in page and 'name="ledger"' in page and 'name="security"' not in page
    choices = {kind.value: "now" for kind in notifications.CHOOSABLE} | {"ledger": "digest"}
    response = client.post("/account/notifications", data=choices)
    assert response.status_code == 302
    with app.app_context():
        assert notifications.preferences_of(db.session.get(User, membership_world.admin.id))[NoticeKind.LEDGER] \
            == Delivery.DIGEST
    response = client.post("/account/notifications", data=choices | {"ledger": "sometimes"})
    assert response.status_code == 422 and "Choose one of the options" in response.get_data(as_text=True)
    with app.app_context():  # nothing changed
        assert notifications.preferences_of(db.session.get(User, membership_world.admin.id))[NoticeKind.LEDGER] \
            == Delivery.DIGEST
