"""A small demonstration network on top of the seed: people, organizations, memberships and money.

Every step goes through the same services the pages use, so the demo data obeys every rule.
Running it again changes nothing.
"""

from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Institute, LedgerEntry, User
from portal.services import accounts, ledger, memberships, organizations, workforce_demo
from portal.services.clock import today
from portal.services.ledger import PledgeInput
from portal.services.organizations import OrganizationChoice

DEMO_DOMAIN = "demo.example.org"

ORGANIZATIONS = [
    ("Buckeye Precision Castings", "industry", "small", "OH", "Gold"),
    ("Great Lakes Aerostructures", "industry", "large", "MI", "Platinum"),
    ("Mahoning Valley State University", "academic", None, "OH", "Silver"),
]


def _user(email: str, name: str, password: str) -> User:
    return accounts.find_by_email(email) or accounts.create_verified_user(email, password, name)


def load(password: str) -> dict[str, int]:
    """Create the demo network once; returns what was created."""
    if db.session.scalar(sa.select(User).where(User.email == f"network@{DEMO_DOMAIN}")) is not None:
        return {"created": 0}
    institute = db.session.scalar(sa.select(Institute).where(Institute.slug == "america-makes"))
    if institute is None:
        raise RuntimeError("Run `flask seed` first: the demo builds on the seeded institutes.")
    network = accounts.create_network_admin(f"network@{DEMO_DOMAIN}", password, full_name="Nia Network")
    recorder = _user(f"receipts@{DEMO_DOMAIN}", "Rita Receipts", password)
    checker = _user(f"checks@{DEMO_DOMAIN}", "Chen Checks", password)
    for person in (recorder, checker):
        memberships.add_staff(network, institute, person.email)
    tiers = {t.name: t for t in memberships.tiers_of(institute)}
    fy = ledger.fiscal_year_of(today())
    created = {"organizations": 0, "pledges": 0}
    for number, (name, sector, size, state, tier_name) in enumerate(ORGANIZATIONS, start=1):
        admin = _user(f"admin{number}@{DEMO_DOMAIN}", f"Admin {number}", password)
        affiliation = organizations.join_or_create(admin, OrganizationChoice(name, sector, size, state))
        organization = affiliation.organization
        created["organizations"] += 1
        membership = memberships.apply(admin, organization, institute, tiers[tier_name],
                                       statement="We want to qualify printed parts faster.",
                                       contact_name=admin.full_name, contact_email=admin.email)
        memberships.approve(recorder, membership, starts_on=today() - timedelta(days=60))
        pledge = ledger.record_pledge(
            admin, organization, institute,
            PledgeInput(amount_cents=number * 250_000_00, kind="cash", fiscal_year=fy,
                        schedule=[(today() + timedelta(days=30 * k), number * 125_000_00)
                                  for k in (1, 5)]),
            key=None)
        created["pledges"] += 1
        first = ledger.record_receipt(recorder, pledge, amount_cents=number * 100_000_00,
                                      received_on=today() - timedelta(days=5), key=None)
        ledger.verify_receipt(checker, first, key=None)
        if number == 2:
            mistake = ledger.record_receipt(recorder, pledge, amount_cents=10_000_00,
                                            received_on=today(), note="entered twice", key=None)
            ledger.reverse(checker, mistake, reason="Duplicate of the first receipt", key=None)
        if number == 3:
            ledger.cancel_remainder(checker, pledge, reason="Grant period ended", key=None)
    ledger.record_federal_obligation(network, institute, fiscal_year=fy, amount_cents=500_000_00,
                                     reference=f"DEMO-{institute.acronym}-FY{fy}",
                                     note="Cooperative agreement, demo figure", key=None)
    created.update(workforce_demo.load(recorder, institute, DEMO_DOMAIN, password))
    created["entries"] = db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) or 0
    created["created"] = 1
    return created
