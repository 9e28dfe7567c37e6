"""A project proposal the whole way in a real browser: a call drafted and opened, a draft written against
the rules checklist, a team found and invited, cost share pledged, submission, reviewers assigned (one
refused for a conflict of interest), scoring, the decision, the project run to completion, and the
public page an anonymous visitor sees.

The people are made in the database; every step after that goes through the pages, with axe-core and
console checks on each proposal page.
"""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.models import AffiliationRole, OrgSize, Sector
from portal.models.base import utcnow
from portal.services.wording import possessive
from tests import factories
from tests.e2e.test_journeys import PASSWORD, choose, expect, heading, sign_in
from tests.e2e.test_ledger import flash

pytestmark = pytest.mark.e2e

INSTITUTE, SLUG = "America Makes", "america-makes"
CALL_TITLE = "Qualifying printed titanium"
WORKING_TITLE = "Printed titanium brackets"
ABSTRACT = "We will qualify printed titanium brackets for flight."
SECRET = "Secret sauce: a new heat treatment at 920 degrees."
LEAD, SMALL, UNIVERSITY = "Halyard Aerostructures", "Tinsmith Parts", "Keystone State Tech"
STAFF_EMAIL = "morgan.reid@americamakes.example"
ENGINEER_EMAIL = "ada.quinn@halyard.example"
LEAD_ADMIN_EMAIL = "omar.feld@halyard.example"
SMALL_ADMIN_EMAIL, SMALL_ADMIN_NAME = "jo.tinsmith@tinsmith.example", "Jo Tinsmith"
UNI_ADMIN_EMAIL = "dean.ruiz@keystone-tech.example"
REVIEWER_ONE_EMAIL, REVIEWER_ONE_NAME = "vera.okafor@review.example", "Vera Okafor"
REVIEWER_TWO_EMAIL, REVIEWER_TWO_NAME = "hal.brenner@review.example", "Hal Brenner"


def make_people(app) -> None:
    """An institute administrator of America Makes; a large industry lead (Gold, which may lead) with an
    engineer and an admin; a small business and a university (Silver), each with a verified admin; and
    two verified reviewers who belong to no organization."""
    from portal.extensions import db
    from portal.models import Institute, Tier

    with app.app_context():
        institute = db.session.scalar(sa.select(Institute).where(Institute.slug == SLUG))
        tiers = {t.name: t for t in db.session.scalars(sa.select(Tier).where(Tier.institute_id == institute.id))}
        assert tiers["Gold"].may_lead_projects
        factories.make_staff(app, institute, email=STAFF_EMAIL, full_name="Morgan Reid", password=PASSWORD)
        _, lead = factories.org_admin(
            app, factories.make_organization(app, name=LEAD, size=OrgSize.LARGE, state="WA"),
            email=LEAD_ADMIN_EMAIL, full_name="Omar Feld", password=PASSWORD)
        engineer = factories.make_user(app, email=ENGINEER_EMAIL, full_name="Ada Quinn", password=PASSWORD)
        factories.affiliate(app, engineer, lead, role=AffiliationRole.MEMBER)
        _, small = factories.org_admin(
            app, factories.make_organization(app, name=SMALL, size=OrgSize.SMALL, state="OH"),
            email=SMALL_ADMIN_EMAIL, full_name=SMALL_ADMIN_NAME, password=PASSWORD)
        _, university = factories.org_admin(
            app, factories.make_organization(app, name=UNIVERSITY, sector=Sector.ACADEMIC, state="PA"),
            email=UNI_ADMIN_EMAIL, full_name="Dee Ruiz", password=PASSWORD)
        for organization, tier in ((lead, "Gold"), (small, "Silver"), (university, "Silver")):
            factories.make_membership(app, organization, institute, tiers[tier])
        factories.make_user(app, email=REVIEWER_ONE_EMAIL, full_name=REVIEWER_ONE_NAME, password=PASSWORD)
        factories.make_user(app, email=REVIEWER_TWO_EMAIL, full_name=REVIEWER_TWO_NAME, password=PASSWORD)
        db.session.commit()


def eastern(delta_days: int) -> str:
    """A datetime-local value, in US Eastern time as the call form reads it, ``delta_days`` from now."""
    from portal.services.parsing import EASTERN
    return (utcnow() + timedelta(days=delta_days)).astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M")


def rule_items(page):
    return page.get_by_role("region", name="The call's rules").get_by_role("listitem")


def team_row(page, organization: str):
    return page.get_by_role("table", name="Organizations on the team").get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=re.compile(f"^{re.escape(organization)}")))


def score(page, criterion: str, value: int) -> None:
    choose(page, criterion, str(value))


def test_a_proposal_from_call_to_completed_project(new_page, live_server, audit):
    make_people(live_server.app)

    # The institute administrator drafts a call and opens it.
    staff = new_page()
    sign_in(staff, STAFF_EMAIL, PASSWORD)
    staff.goto(f"/institutes/{SLUG}")
    staff.get_by_role("link", name="Project calls and projects").click()
    expect(heading(staff, f"{INSTITUTE} project calls")).to_be_visible()
    expect(staff.get_by_text(f"{INSTITUTE} has no project calls yet.")).to_be_visible()
    audit(staff, "the institute's calls, as its administrator")

    staff.get_by_role("link", name="Draft a new call").click()
    expect(heading(staff, f"New project call for {INSTITUTE}")).to_be_visible()
    audit(staff, "the new-call form")

    staff.get_by_label("Title", exact=True).fill(CALL_TITLE)
    staff.get_by_label("Description", exact=True).fill("Faster qualification of printed flight parts.")
    staff.get_by_label("Opens (US Eastern time)").fill(eastern(-1))
    staff.get_by_label("Closes (US Eastern time)").fill(eastern(30))
    staff.get_by_label("Most federal funding a project may request").fill("1,000,000")
    staff.get_by_label("Minimum cost share, as a ratio of the federal request").fill("0.5")
    for label, value in (("Lowest TRL at the start", "4"), ("Highest TRL at the start", "7"),
                         ("Lowest MRL at the start", "4"), ("Highest MRL at the start", "7"),
                         ("At least this many industry partners", "1"),
                         ("At least this many academic partners", "1"),
                         ("At least this many small businesses", "1")):
        staff.get_by_label(label, exact=True).fill(value)
    staff.get_by_label("Scoring rubric").fill("40 Technical merit\n60 Impact")
    staff.get_by_role("button", name="Save call").click()
    expect(heading(staff, CALL_TITLE)).to_be_visible()
    expect(flash(staff, "The call has been saved as a draft.")).to_be_visible()
    call_url = staff.url
    staff.get_by_role("button", name="Open the call").click()
    expect(flash(staff, "The call is now open.")).to_be_visible()
    main = staff.get_by_role("main")
    expect(main.locator(".usa-tag")).to_have_text("Open")
    expect(main).to_contain_text(re.compile(r"Opens .+, \d{4}, \d+:\d\d [AP]M E[SD]T; closes .+ [AP]M E[SD]T\."))
    expect(main).to_contain_text("Federal request of at most $1,000,000 per project.")
    rubric = staff.get_by_role("table", name="Criteria and their weights")
    expect(rubric.get_by_role("row")).to_have_text([re.compile("Criterion"), re.compile("Technical merit.*40"),
                                                    re.compile("Impact.*60")])
    audit(staff, "an open call, as the institute's administrator")

    # The engineer finds the call and starts a proposal for the lead organization.
    engineer = new_page()
    sign_in(engineer, ENGINEER_EMAIL, PASSWORD)
    engineer.goto(f"/institutes/{SLUG}")
    engineer.get_by_role("link", name="Project calls and projects").click()
    calls = engineer.get_by_role("table", name="Project calls, latest closing first")
    expect(calls.get_by_role("row").filter(has_text=CALL_TITLE)).to_contain_text(
        re.compile(r"\d:\d\d [AP]M (EST|EDT)\b"))
    calls.get_by_role("link", name=CALL_TITLE).click()
    expect(engineer).to_have_url(call_url)
    start = engineer.get_by_role("form", name="Start a proposal")
    expect(start.get_by_label("Lead organization")).to_have_value(re.compile(r"^\d+$"))
    expect(start.get_by_label("Lead organization").locator("option")).to_have_text([LEAD])
    audit(engineer, "an open call, as someone who may lead")

    start.get_by_label("Working title").fill(WORKING_TITLE)
    start.get_by_role("button", name="Start a draft").click()
    expect(heading(engineer, WORKING_TITLE)).to_be_visible()
    expect(flash(engineer, "Your draft proposal has been started.")).to_be_visible()
    proposal_url = re.sub(r"#.*$", "", engineer.url)
    assert re.search(r"/proposals/\d+$", proposal_url), proposal_url
    expect(rule_items(engineer).filter(has_text="Not met: Proposal complete.")).to_be_visible()

    engineer.get_by_role("link", name="Edit the draft").click()
    expect(heading(engineer, "Edit the draft")).to_be_visible()
    expect(engineer.get_by_label("Title", exact=True)).to_have_value(WORKING_TITLE)
    audit(engineer, "the draft's edit form")

    engineer.get_by_label("Public abstract").fill(ABSTRACT)
    engineer.get_by_label("Technical plan (confidential)").fill(SECRET)
    engineer.get_by_label("Technology area").fill("Additive manufacturing")
    for label, value in (("TRL at the start", "4"), ("Target TRL", "6"), ("MRL at the start", "4"),
                         ("Target MRL", "6"), ("Duration in months", "18"),
                         ("Federal funding requested", "800,000")):
        engineer.get_by_label(label, exact=True).fill(value)
    engineer.get_by_label("Milestones").fill("6 | Alloy trials | Test report\n18 | Flight part | Part")
    engineer.get_by_role("button", name="Save draft").click()
    expect(flash(engineer, "The draft has been saved.")).to_be_visible()
    expect(engineer).to_have_url(f"{proposal_url}#rules")
    team_rule = rule_items(engineer).filter(has_text="Team composition")
    expect(team_rule).to_contain_text("Not met: Team composition.")
    expect(team_rule).to_contain_text("add 1 academic partner")
    expect(team_rule).to_contain_text("add 1 small business")
    for met in ("Proposal complete", "Membership standing", "Federal request", "Readiness levels", "Deadline"):
        expect(rule_items(engineer).filter(has_text=f"{met}.")).to_contain_text(f"Met: {met}.")
    expect(rule_items(engineer).filter(has_text="Cost share")).to_contain_text("Not met: Cost share.")
    expect(engineer.get_by_role("table", name="Milestones by month").get_by_role("rowheader")).to_have_text(
        ["Alloy trials", "Flight part"])
    audit(engineer, "a written draft with unmet rules")

    engineer.get_by_role("button", name="Submit the proposal").click()
    refusal = engineer.get_by_role("alert").filter(has_text="The proposal cannot be submitted yet.")
    expect(refusal).to_contain_text("Team composition")
    expect(refusal).to_contain_text("Cost share")
    expect(engineer.get_by_role("main").locator(".usa-tag").first).to_have_text("Draft")
    audit(engineer, "a draft after a refused submission")

    # The finder finds member organizations; the engineer invites the two partners.
    finder = engineer.get_by_role("form", name="Find partner organizations")
    finder.get_by_label("Name or description").fill("tinsmith")
    finder.get_by_role("button", name="Find").click()
    expect(engineer.get_by_role("button", name=f"Invite {SMALL}")).to_be_visible()
    expect(engineer.get_by_role("button", name=f"Invite {UNIVERSITY}")).to_have_count(0)
    expect(engineer.get_by_label("Name or description")).to_have_value("tinsmith")
    audit(engineer, "the partner finder's results")
    engineer.get_by_role("button", name=f"Invite {SMALL}").click()
    expect(flash(engineer, f"{SMALL} has been invited.")).to_be_visible()

    finder = engineer.get_by_role("form", name="Find partner organizations")
    finder.get_by_label("Sector").select_option(label="Academic")
    finder.get_by_role("button", name="Find").click()
    expect(engineer.get_by_role("button", name=re.compile("^Invite"))).to_have_count(1)
    engineer.get_by_role("button", name=f"Invite {UNIVERSITY}").click()
    expect(flash(engineer, f"{UNIVERSITY} has been invited.")).to_be_visible()
    for organization in (SMALL, UNIVERSITY):
        expect(team_row(engineer, organization)).to_contain_text("Invited")
    audit(engineer, "a draft with two invited partners")

    # Each partner's admin accepts; the lead's admin pledges the cost share.
    for email, organization in ((SMALL_ADMIN_EMAIL, SMALL), (UNI_ADMIN_EMAIL, UNIVERSITY)):
        partner = new_page()
        sign_in(partner, email, PASSWORD)
        partner.goto(proposal_url)
        expect(heading(partner, WORKING_TITLE)).to_be_visible()
        expect(partner.get_by_role("link", name="Edit the draft")).to_have_count(0)
        expect(partner.get_by_role("button", name="Submit the proposal")).to_have_count(0)
        if organization == SMALL:  # the university's admin sees the same page
            audit(partner, f"an invitation, as {organization}'s admin")
        partner.get_by_role("button", name=f"Accept for {organization}").click()
        expect(flash(partner, "You accepted the invitation.")).to_be_visible()
        expect(team_row(partner, organization)).to_contain_text("Accepted")

    lead_admin = new_page()
    sign_in(lead_admin, LEAD_ADMIN_EMAIL, PASSWORD)
    lead_admin.goto(proposal_url)
    audit(lead_admin, "a draft, as the lead organization's admin")
    row = team_row(lead_admin, LEAD)
    row.get_by_label("Cost share committed").fill("400,000")
    choose(lead_admin, "Kind", "Cash")
    row.get_by_role("button", name=f"Pledge cost share for {LEAD}").click()
    expect(flash(lead_admin, f"{possessive(LEAD)} cost share has been pledged.")).to_be_visible()
    expect(team_row(lead_admin, LEAD).get_by_role("link", name="$400,000")).to_be_visible()

    engineer.goto(proposal_url)
    expect(rule_items(engineer)).to_have_count(7)
    expect(rule_items(engineer).filter(has_text="Not met")).to_have_count(0)
    for item in rule_items(engineer).all():
        expect(item).to_contain_text(re.compile(r"^\s*Met: "))
    expect(rule_items(engineer).filter(has_text="Team composition")).to_contain_text(
        "2 industry partners, 1 academic partner, 1 small business on the team")
    audit(engineer, "a draft with every rule met")
    engineer.get_by_role("button", name="Submit the proposal").click()
    expect(flash(engineer, "The proposal has been submitted. It can no longer be edited.")).to_be_visible()
    expect(engineer.get_by_role("main").locator(".usa-tag").first).to_have_text("Submitted")
    expect(engineer.get_by_role("link", name="Edit the draft")).to_have_count(0)
    expect(engineer.get_by_role("region", name="The call's rules")).to_have_count(0)
    audit(engineer, "a submitted proposal, as the team")
    engineer.goto("/account")
    engineer.get_by_role("link", name="All your organizations' proposals").click()
    expect(heading(engineer, "Your organizations' proposals")).to_be_visible()
    theirs = engineer.get_by_role("table", name="Your organizations' proposals, the newest first")
    expect(theirs.get_by_role("row").nth(1)).to_contain_text("Submitted")
    audit(engineer, "the proposals of one's organizations")

    # The institute administrator assigns reviewers; the small business's admin is refused.
    staff.goto(proposal_url)
    expect(staff.get_by_role("heading", level=2, name="Review and decision")).to_be_visible()
    audit(staff, "a submitted proposal, as the institute's administrator")
    staff.get_by_label("Reviewer's email address").fill(SMALL_ADMIN_EMAIL)
    with staff.expect_response(lambda response: response.request.method == "POST") as answer:
        staff.get_by_role("button", name="Assign reviewer").click()
    assert answer.value.status == 409
    summary = staff.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name=re.compile("^Conflict of interest"))).to_have_attribute("href", "#email")
    email_field = staff.get_by_label("Reviewer's email address")
    conflict = f"Conflict of interest: {SMALL_ADMIN_NAME} belongs to {SMALL}, which is on the team"
    expect(staff.locator("#email-error")).to_have_text(conflict)  # next to the field, and read out with it
    expect(email_field).to_have_accessible_description(conflict)
    expect(email_field).to_have_attribute("aria-invalid", "true")
    expect(email_field).to_have_value(SMALL_ADMIN_EMAIL)
    audit(staff, "the reviewer form refused for a conflict of interest")

    for email, name in ((REVIEWER_ONE_EMAIL, REVIEWER_ONE_NAME), (REVIEWER_TWO_EMAIL, REVIEWER_TWO_NAME)):
        staff.get_by_label("Reviewer's email address").fill(email)
        staff.get_by_role("button", name="Assign reviewer").click()
        expect(flash(staff, f"{name} has been asked to review by ")).to_be_visible()
    expect(staff.get_by_role("main").locator(".usa-tag").first).to_have_text("Under review")
    reviewers = staff.get_by_role("table", name="Reviewers")
    expect(reviewers.get_by_role("rowheader")).to_have_text([REVIEWER_ONE_NAME, REVIEWER_TWO_NAME])
    expect(reviewers.get_by_role("rowheader", name=SMALL_ADMIN_NAME)).to_have_count(0)
    audit(staff, "a proposal under review with two reviewers")

    # Reviewer one scores, sees the weighted total, and submits.
    one = new_page()
    sign_in(one, REVIEWER_ONE_EMAIL, PASSWORD)
    one.goto(proposal_url)
    expect(one.get_by_role("main")).to_contain_text(SECRET)  # reviewers read the plan
    expect(one.get_by_role("heading", name="Review and decision")).to_have_count(0)
    audit(one, "a proposal, as an assigned reviewer")
    one.get_by_role("link", name="Score this proposal").click()
    expect(heading(one, "Your review")).to_be_visible()
    expect(one.get_by_role("main")).to_contain_text("score every criterion to see it")
    audit(one, "the review form, as reviewer one")
    score(one, "Technical merit", 4)
    score(one, "Impact", 5)
    one.get_by_label("Comment on technical merit").fill("Sound alloy plan.")
    one.get_by_role("button", name="Save and see the total").click()
    expect(flash(one, "Your scores have been saved.")).to_be_visible()
    expect(one.get_by_role("main")).to_contain_text("Weighted total so far: 4.60 out of 5.")
    expect(one.get_by_role("group", name="Technical merit", exact=True).get_by_role("radio", name="4")).to_be_checked()
    expect(one.get_by_role("group", name="Impact", exact=True).get_by_role("radio", name="5")).to_be_checked()
    expect(one.get_by_label("Comment on technical merit")).to_have_value("Sound alloy plan.")
    audit(one, "the review form with saved scores")
    one.get_by_role("button", name="Submit the review").click()
    expect(flash(one, "Your review has been submitted.")).to_be_visible()
    expect(one.get_by_role("table", name="Your scores").get_by_role("row").nth(1)).to_contain_text("Sound alloy plan.")
    expect(one.get_by_text("No other reviewer has submitted yet.")).to_be_visible()
    expect(one.get_by_role("button", name="Submit the review")).to_have_count(0)
    audit(one, "a submitted review, as reviewer one")
    one.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Your reviews").click()
    expect(heading(one, "Your reviews")).to_be_visible()
    mine = one.get_by_role("table", name="Your reviews, the most recently asked first")
    expect(mine.get_by_role("row").nth(1)).to_contain_text("Submitted")
    audit(one, "a reviewer's own reviews")
    one.get_by_label("Show").select_option("To do")
    one.get_by_role("button", name="Show").click()
    expect(one.get_by_role("status")).to_have_text("0 reviews.")

    # Reviewer two sees no other review until submitting theirs.
    two = new_page()
    sign_in(two, REVIEWER_TWO_EMAIL, PASSWORD)
    two.goto(proposal_url)
    two.get_by_role("link", name="Score this proposal").click()
    expect(heading(two, "Your review")).to_be_visible()
    expect(two.get_by_role("main")).not_to_contain_text(REVIEWER_ONE_NAME)
    expect(two.get_by_role("main")).not_to_contain_text("Sound alloy plan.")
    expect(two.get_by_role("heading", name="The other reviews")).to_have_count(0)
    score(two, "Technical merit", 3)
    score(two, "Impact", 4)
    two.get_by_role("button", name="Submit the review").click()
    expect(flash(two, "Your review has been submitted.")).to_be_visible()
    expect(two.get_by_role("heading", name="The other reviews")).to_be_visible()
    other = two.get_by_role("table", name=REVIEWER_ONE_NAME)
    expect(other.get_by_role("row").filter(has_text="Technical merit")).to_contain_text("Sound alloy plan.")
    expect(other.get_by_role("row").filter(has_text="Impact").get_by_role("cell").first).to_have_text("5")
    audit(two, "a submitted review with the other review, as reviewer two")

    # The institute administrator sees the weighted mean and approves.
    staff.goto(proposal_url)
    reviewers = staff.get_by_role("table", name=re.compile("^Reviewers"))
    expect(reviewers.locator("caption")).to_have_text("Reviewers: weighted mean 4.10 out of 5")
    expect(reviewers.get_by_role("row").filter(has_text=REVIEWER_ONE_NAME)).to_contain_text("4.60")
    expect(reviewers.get_by_role("row").filter(has_text=REVIEWER_TWO_NAME)).to_contain_text("3.60")
    decision = staff.get_by_role("form", name="Decide, or return to the team")
    expect(decision.get_by_role("button", name="Approve")).to_be_visible()
    audit(staff, "the decision section with two submitted reviews")
    decision.get_by_role("button", name="Approve").click()  # without the note the team must see
    expect(staff.locator("#note-error")).to_contain_text("Write a note for the team")
    decision = staff.get_by_role("form", name="Decide, or return to the team")
    decision.get_by_label("Note to the team").fill("Strong team and a credible plan.")
    decision.get_by_role("button", name="Approve").click()
    expect(flash(staff, "The proposal has been approved.")).to_be_visible()
    expect(staff.get_by_role("main").locator(".usa-tag").first).to_have_text("Approved")
    expect(staff.get_by_text("Decision note: Strong team and a credible plan.")).to_be_visible()
    expect(staff.get_by_role("form", name="Decide, or return to the team")).to_have_count(0)
    audit(staff, "an approved proposal, as the institute's administrator")

    # The engineer runs the project to completion.
    engineer.goto(proposal_url)
    expect(engineer.get_by_text("Decision note: Strong team and a credible plan.")).to_be_visible()
    expect(engineer.get_by_role("heading", name="Review and decision")).to_have_count(0)
    expect(engineer.get_by_role("main")).not_to_contain_text("4.60")
    engineer.get_by_role("button", name="Start the project").click()
    expect(flash(engineer, "The project is under way.")).to_be_visible()
    expect(engineer.get_by_role("main").locator(".usa-tag").first).to_have_text("Active")
    audit(engineer, "an active project, as the team")

    engineer.get_by_label("Progress update").fill("Alloy trials have started on the first build plate.")
    engineer.get_by_role("button", name="Post update").click()
    expect(flash(engineer, "Your update has been posted.")).to_be_visible()
    expect(engineer.get_by_role("region", name="Project")).to_contain_text(
        "Ada Quinn: Alloy trials have started on the first build plate.")
    for milestone in ("Alloy trials", "Flight part"):
        engineer.get_by_role("button", name=f"Report done {milestone}", exact=True).click()
        expect(flash(engineer, f"“{milestone}” is reported done; the institute has been asked to accept it.")
               ).to_be_visible()
    expect(engineer.get_by_role("button", name=re.compile("^Report done"))).to_have_count(0)
    expect(engineer.get_by_role("region", name="Milestones")).to_contain_text("waiting for the institute")
    expect(engineer.get_by_role("form", name="Ask the institute to sign the project off")).to_have_count(0)
    audit(engineer, "an active project with its milestones reported done")

    # The institute accepts each milestone; then the lead asks for sign-off and the institute gives it.
    staff.goto(proposal_url)
    for milestone in ("Alloy trials", "Flight part"):
        staff.get_by_role("button", name=f"Accept {milestone}", exact=True).click()
        expect(flash(staff, f"“{milestone}” is accepted.")).to_be_visible()
    expect(staff.get_by_role("region", name="Milestones")).to_contain_text("Accepted")
    audit(staff, "an active project with its milestones accepted, as the institute")

    engineer.goto(proposal_url)
    complete = engineer.get_by_role("form", name="Ask the institute to sign the project off")
    complete.get_by_label("TRL reached").fill("3")
    complete.get_by_label("MRL reached").fill("5")
    complete.get_by_role("button", name="Ask for sign-off").click()
    expect(engineer.locator("#trl_reached-error")).to_contain_text("cannot be below the TRL at the start (4)")
    complete = engineer.get_by_role("form", name="Ask the institute to sign the project off")
    complete.get_by_label("TRL reached").fill("6")
    complete.get_by_role("button", name="Ask for sign-off").click()
    expect(flash(engineer, "The institute has been asked to sign the project off.")).to_be_visible()
    expect(engineer.get_by_role("region", name="Project")).to_contain_text("waiting for the institute's sign-off")

    staff.goto(proposal_url)
    sign_off = staff.get_by_role("form", name="Sign the project off as complete")
    expect(sign_off.get_by_label("TRL reached")).to_have_value("6")
    audit(staff, "a project waiting for the institute's sign-off")
    sign_off.get_by_role("button", name="Sign off").click()
    expect(flash(staff, "The project is signed off as complete.")).to_be_visible()

    engineer.goto(proposal_url)
    expect(engineer.get_by_role("main").locator(".usa-tag").first).to_have_text("Completed")
    expect(engineer.get_by_role("main")).to_contain_text("TRL 4 to 6 (reached 6); MRL 4 to 6 (reached 5)")
    expect(engineer.get_by_role("region", name="Project")).to_contain_text("Signed off as complete by")
    audit(engineer, "a completed project, as the team")

    # An anonymous visitor sees the public page: no technical plan, no scores, no reviewers.
    visitor = new_page()
    visitor.goto(proposal_url)
    expect(heading(visitor, WORKING_TITLE)).to_be_visible()
    main = visitor.get_by_role("main")
    expect(main.locator(".usa-tag")).to_have_text("Completed")
    expect(main).to_contain_text(ABSTRACT)
    expect(main).to_contain_text(f"{LEAD} (lead)")
    expect(main).to_contain_text(SMALL)
    expect(main).to_contain_text(UNIVERSITY)
    expect(main).to_contain_text("4 at the start, 6 targeted, 6 reached")
    expect(main).to_contain_text("4 at the start, 6 targeted, 5 reached")
    for hidden in (SECRET, "Secret sauce", "4.60", "4.10", "3.60", REVIEWER_ONE_NAME, REVIEWER_TWO_NAME,
                   "Sound alloy plan.", "weighted", "$400,000"):
        expect(main).not_to_contain_text(hidden)
    expect(visitor.get_by_role("heading", name="Review and decision")).to_have_count(0)
    audit(visitor, "the public project page, as an anonymous visitor")

    visitor.get_by_role("link", name=f"{INSTITUTE} projects").click()
    expect(heading(visitor, f"{INSTITUTE} project calls")).to_be_visible()
    expect(visitor.get_by_role("listitem").filter(has_text=WORKING_TITLE)).to_contain_text(
        f"led by {LEAD} (completed)")
    audit(visitor, "the institute's calls and projects, as an anonymous visitor")

    # Notifications went out by mail along the way, with links to this server.
    assigned = [m for m in live_server.mails_to(REVIEWER_ONE_EMAIL) if "review" in m.subject]
    assert assigned and f"{live_server.url}/proposals/" in assigned[0].body, assigned
