"""The co-investment ledger in a real browser: a pledge with a schedule, receipts, the two-person
verification rule, a reversal, cancelling the remainder, the institute's ledger and its CSV, and the
network's federal match.

The people are made in the database; every step after that goes through the pages, with axe-core and
console checks on each ledger page.
"""

import csv
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.services.clock import long_date, today
from portal.services.ledger import fiscal_year_of
from tests import factories
from tests.e2e.test_journeys import PASSWORD, choose, expect, heading, sign_in
from tests.e2e.test_memberships import sign_out

pytestmark = pytest.mark.e2e

INSTITUTE, SLUG = "America Makes", "america-makes"
ORG = "Juniper Ridge Castings"
NETWORK_ADMIN = "match.admin@portal.example"
ORG_ADMIN_EMAIL = "noor.haddad@juniper-ridge.example"
RECORDER_EMAIL, RECORDER_NAME = "ines.moreau@americamakes.example", "Ines Moreau"
CHECKER_EMAIL, CHECKER_NAME = "theo.brandt@americamakes.example", "Theo Brandt"


def make_people(app) -> int:
    """A network administrator, two administrators of America Makes, and an organization with a
    verified admin and an active America Makes membership. Returns the organization's id."""
    from portal.extensions import db
    from portal.models import Institute, Tier
    from portal.services import accounts

    with app.app_context():
        factories.give_second_factor(accounts.create_network_admin(NETWORK_ADMIN, PASSWORD))
        institute = db.session.scalar(sa.select(Institute).where(Institute.slug == SLUG))
        tier = db.session.scalar(sa.select(Tier).where(Tier.institute_id == institute.id, Tier.name == "Gold"))
        factories.make_staff(app, institute, email=RECORDER_EMAIL, full_name=RECORDER_NAME, password=PASSWORD)
        factories.make_staff(app, institute, email=CHECKER_EMAIL, full_name=CHECKER_NAME, password=PASSWORD)
        _, organization = factories.org_admin(app, factories.make_organization(app, name=ORG),
                                              email=ORG_ADMIN_EMAIL, full_name="Noor Haddad", password=PASSWORD)
        factories.make_membership(app, organization, institute, tier)
        db.session.commit()
        return organization.id


def flash(page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def figures(page):
    """The pledged / received / verified / cancelled / still-to-come figures, in that order."""
    return page.get_by_role("main").locator(".portal-stats > li")


def entry_id(page, kind: str, amount: str) -> str:
    """The number of the ledger entry of ``kind`` for ``amount`` in the pledge's entries table."""
    row = (page.get_by_role("row").filter(has=page.get_by_role("cell", name=re.compile(f"^{kind}")))
           .filter(has=page.get_by_role("cell", name=amount, exact=True)))
    expect(row).to_have_count(1)
    return row.get_by_role("rowheader").inner_text().strip()


def test_pledge_receive_verify_reverse_cancel_export_and_match(new_page, live_server, audit):
    org_id = make_people(live_server.app)
    day = today()
    first_due, second_due = day + timedelta(days=20), day + timedelta(days=200)
    fiscal_year = fiscal_year_of(day)
    page = new_page()

    # The organization's admin pledges $1,250,000 in two installments.
    sign_in(page, ORG_ADMIN_EMAIL, PASSWORD)
    page.goto(f"/organizations/{org_id}")
    page.get_by_role("link", name="Co-investment", exact=True).click()
    expect(heading(page, f"{ORG}: co-investment")).to_be_visible()
    expect(page.get_by_text("Nothing falls due in the next 90 days.")).to_be_visible()
    audit(page, "the organization's empty ledger")

    page.get_by_role("link", name="Pledge co-investment").click()
    expect(heading(page, f"Pledge co-investment for {ORG}")).to_be_visible()
    expect(page.get_by_label("Federal fiscal year")).to_have_value(str(fiscal_year))
    audit(page, "the pledge form")

    page.get_by_label("Institute").select_option(label=INSTITUTE)
    page.get_by_label("Amount pledged").fill("1e6")
    choose(page, "Kind", "Cash")
    schedule = f"{first_due.isoformat()} 1,000,000\n{second_due.isoformat()} 250,000"
    page.get_by_label("Installment schedule (optional)").fill(schedule)
    page.get_by_role("button", name="Record pledge").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name=re.compile("scientific notation"))).to_have_attribute("href", "#amount")
    expect(page.locator("#amount-error")).to_contain_text("scientific notation")  # next to the field
    expect(page.get_by_label("Amount pledged")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Installment schedule (optional)")).to_have_value(schedule)
    audit(page, "the pledge form with an error")

    page.get_by_label("Amount pledged").fill("1,250,000")
    page.get_by_role("button", name="Record pledge").click()
    expect(heading(page, re.compile(r"^Pledge #\d+"))).to_be_visible()
    expect(flash(page, "The pledge has been recorded.")).to_be_visible()
    pledge_url = page.url
    pledge_id = re.search(r"/pledges/(\d+)$", pledge_url).group(1)
    expect(heading(page, f"Pledge #{pledge_id}: {ORG} to {INSTITUTE}, FY{fiscal_year}")).to_be_visible()
    expect(figures(page)).to_have_text(["$1,250,000 pledged", "$0 received", "$0 verified", "$0 cancelled",
                                        "$1,250,000 still to come"])
    audit(page, "a new pledge, as the organization's admin")

    page.goto(f"/organizations/{org_id}/ledger")
    due = page.get_by_role("table", name="Installments due in the next 90 days")
    expect(due.get_by_role("row")).to_have_count(2)  # the header and the installment in 20 days
    expect(due.get_by_role("row").nth(1)).to_contain_text(long_date(first_due))
    expect(due.get_by_role("row").nth(1)).to_contain_text("$1,000,000")
    expect(due.get_by_role("link", name=f"#{pledge_id}")).to_be_visible()
    audit(page, "the organization's ledger with a pledge")
    sign_out(page)

    # One institute administrator records two receipts, and may not verify them.
    sign_in(page, RECORDER_EMAIL, PASSWORD)
    page.goto(pledge_url)
    receipt = page.get_by_role("form", name="Record a receipt")
    expect(receipt).to_be_visible()
    audit(page, "a pledge, as an institute administrator")

    for amount in ("300,000", "200000.00"):
        receipt = page.get_by_role("form", name="Record a receipt")
        receipt.get_by_label("Amount received").fill(amount)
        receipt.get_by_label("Date received").fill(day.isoformat())
        receipt.get_by_role("button", name="Record receipt").click()
        expect(flash(page, "The receipt has been recorded. Another administrator must verify it.")).to_be_visible()
    expect(figures(page)).to_have_text(["$1,250,000 pledged", "$500,000 received", "$0 verified", "$0 cancelled",
                                        "$750,000 still to come"])
    expect(page.get_by_role("button", name=re.compile("^Verify"))).to_have_count(0)
    audit(page, "a pledge with receipts, as the administrator who recorded them")
    sign_out(page)

    # The other administrator verifies the first, reverses the second and cancels the rest.
    sign_in(page, CHECKER_EMAIL, PASSWORD)
    page.goto(pledge_url)
    first, second = entry_id(page, "Receipt", "$300,000"), entry_id(page, "Receipt", "$200,000")
    expect(page.get_by_role("button", name=re.compile("^Verify"))).to_have_count(2)
    audit(page, "a pledge with receipts, as another administrator")

    page.get_by_role("button", name=f"Verify entry {first}", exact=True).click()
    expect(flash(page, "The receipt has been verified.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Verify entry {first}", exact=True)).to_have_count(0)
    audit(page, "a pledge after a verification")

    page.get_by_label(f"Reason to reverse entry {second}", exact=True).fill("Bounced: the transfer was recalled.")
    page.get_by_role("button", name=f"Reverse entry {second}", exact=True).click()
    expect(flash(page, "The entry has been reversed.")).to_be_visible()
    expect(page.get_by_role("row").filter(has=page.get_by_role("cell", name=f"Reversal of entry {second}"))
           ).to_contain_text("-$200,000")
    audit(page, "a pledge after a reversal")

    cancel = page.get_by_role("form", name="Cancel the remaining $950,000")
    cancel.get_by_label("Reason", exact=True).fill("The program was scaled back.")
    cancel.get_by_role("button", name="Cancel the remainder").click()
    expect(flash(page, "The remainder of the pledge has been cancelled.")).to_be_visible()
    expect(figures(page)).to_have_text(["$1,250,000 pledged", "$300,000 received", "$300,000 verified",
                                        "$950,000 cancelled", "$0 still to come"])
    expect(page.get_by_role("main").locator(".usa-tag")).to_have_text("Fulfilled")
    expect(page.get_by_role("form", name="Record a receipt")).to_have_count(0)
    audit(page, "a fulfilled pledge")

    # The institute's ledger, filtered, and its CSV.
    page.goto(f"/institutes/{SLUG}/manage")
    page.get_by_role("link", name="Co-investment", exact=True).click()
    expect(heading(page, f"{INSTITUTE}: co-investment")).to_be_visible()
    audit(page, "the institute's ledger")

    filters = page.get_by_role("form", name="Filter the ledger")
    filters.get_by_label("Status").select_option(label="Pledged")
    filters.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="No pledges match.")).to_be_visible()
    audit(page, "the institute's ledger filtered to nothing")

    filters.get_by_label("Status").select_option(label="Fulfilled")
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]status=fulfilled(&|$)"))
    pledges = page.get_by_role("table", name="Pledges")
    expect(pledges.get_by_role("link", name=f"#{pledge_id}", exact=True)).to_be_visible()
    expect(pledges.get_by_role("row").filter(has_text=ORG)).to_contain_text("Fulfilled")
    for figure in ("$1,250,000 pledged", "$300,000 received", "$300,000 verified", "$950,000 cancelled",
                   "$0 still to come"):
        expect(page.locator(".portal-stats")).to_contain_text(figure)
    expect(page.get_by_role("main")).not_to_contain_text("Net of")
    audit(page, "the institute's ledger filtered to fulfilled pledges")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the ledger entries of these pledges as CSV").click()
    with open(download.value.path(), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["kind"] for r in rows] == ["pledge", "receipt", "receipt", "verification", "reversal", "cancellation"]
    assert {r["pledge_id"] for r in rows} == {pledge_id}
    amounts = [Decimal(r["amount"]) for r in rows]
    assert amounts == [Decimal(a) for a in ("1250000.00", "300000.00", "200000.00", "300000.00",
                                            "-200000.00", "950000.00")]
    sign_out(page)

    # A network administrator records federal money and sees the match.
    sign_in(page, NETWORK_ADMIN, PASSWORD)
    page.get_by_role("link", name="Co-investment against federal funding, across the network").click()
    expect(heading(page, "Co-investment against federal funding")).to_be_visible()
    audit(page, "the federal match")

    federal = page.get_by_role("form", name="Record a federal obligation")
    federal.get_by_label("Institute").select_option(label=INSTITUTE)
    federal.get_by_label("Amount obligated").fill("500,000")
    federal.get_by_label("Award reference").fill("Cooperative agreement modification 7")
    federal.get_by_role("button", name="Record obligation").click()
    recorded = "The federal obligation Cooperative agreement modification 7 has been recorded."
    expect(flash(page, recorded)).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=INSTITUTE, exact=True))
    expect(row.get_by_role("cell")).to_have_text(["$500,000", "$300,000", "0.60 : 1", "$300,000", "0.60 : 1",
                                                  "Below match"])
    audit(page, "the federal match with an obligation")

    # It was recorded for the current fiscal year (the form's default).
    years = page.get_by_role("form", name="Choose a fiscal year")
    years.get_by_label("Fiscal year", exact=True).select_option(label=f"FY{fiscal_year}")
    years.get_by_role("button", name="Show").click()
    expect(heading(page, f"Co-investment against federal funding, FY{fiscal_year}")).to_be_visible()
    expect(row.get_by_role("cell")).to_have_text(["$500,000", "$300,000", "0.60 : 1", "$300,000", "0.60 : 1",
                                                  "Below match"])
    audit(page, f"the federal match for FY{fiscal_year}")

    # The obligation form's fiscal year must be labelled and offer the current year. The page also has a
    # year filter; should both selects share an id, the label would name the filter instead (axe 4.14
    # does not catch a duplicate id on a labelled control), so this checks the label reaches this one.
    federal = page.get_by_role("form", name="Record a federal obligation")
    expect(federal.get_by_label("Federal fiscal year")).to_have_value(str(fiscal_year))
