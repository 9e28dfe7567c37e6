"""Test data made through the same models the portal uses; pledges, calls and proposals through the
services, so they meet the same rules as the pages'.

Outside an app context each helper commits in a context of its own and returns the object
detached but loaded; inside one (service tests) it flushes into that context's session.
"""

from collections.abc import Callable
from datetime import timedelta
from itertools import count
from typing import TypeVar

from argon2 import PasswordHasher
from flask import has_app_context

from portal.extensions import db
from portal.models import (
    Affiliation,
    AffiliationRole,
    AffiliationStatus,
    Agency,
    CallStatus,
    Institute,
    InstituteStaff,
    Membership,
    MembershipStatus,
    Organization,
    OrgSize,
    Pledge,
    ProjectCall,
    Proposal,
    Role,
    Sector,
    Tier,
    User,
    name_key,
)
from portal.models.base import utcnow
from portal.services import ledger, proposals, summary
from portal.services.clock import today
from portal.services.ledger import PledgeInput
from portal.services.proposals import CallInput, DraftInput

PASSWORD = "correct horse battery staple"
# The authenticator secret of every test person who has a second factor (administrators, and whoever asks):
# tests answer the second step of signing in with a code made from it (tests.conftest.login, totp_code).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
Made = TypeVar("Made")

_numbers = count(1)
_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # the testing config's cost


def save(app, obj):
    if has_app_context():
        db.session.add(obj)
        db.session.flush()
        return obj
    with app.app_context():
        db.session.add(obj)
        db.session.commit()
        db.session.refresh(obj)
    return obj


def make_user(app, *, email: str | None = None, full_name: str = "Test Person", password: str = PASSWORD,
              verified: bool = True, role: Role = Role.MEMBER, active: bool = True,
              second_factor: bool | None = None) -> User:
    """A user; network administrators (and whoever asks with ``second_factor=True``) have the authenticator
    app whose secret is TOTP_SECRET."""
    enrolled = second_factor if second_factor is not None else role == Role.NETWORK_ADMIN
    return save(app, User(
        email=email or f"person{next(_numbers)}@example.com",
        full_name=full_name,
        password_hash=_hasher.hash(password),
        email_verified_at=utcnow() if verified else None,
        role=role,
        active=active,
        totp_secret=TOTP_SECRET if enrolled else None,
        totp_enrolled_at=utcnow() if enrolled else None,
    ))


def give_second_factor(user: User) -> User:
    """Enrol ``user`` (made by the services, in an app context) in the authenticator app with TOTP_SECRET."""
    user.totp_secret = TOTP_SECRET
    user.totp_enrolled_at = utcnow()
    return user


def make_organization(app, *, name: str | None = None, sector: Sector = Sector.INDUSTRY,
                      size: OrgSize | None = OrgSize.SMALL, state: str = "OH", listed: bool = True) -> Organization:
    name = name or f"Organization {next(_numbers)}"
    return save(app, Organization(
        name=name, name_key=name_key(name), sector=sector,
        size=size if sector == Sector.INDUSTRY else None, state=state, listed=listed,
    ))


def affiliate(app, user: User, organization: Organization, *, role: AffiliationRole = AffiliationRole.MEMBER,
              status: AffiliationStatus = AffiliationStatus.ACTIVE) -> Affiliation:
    return save(app, Affiliation(user_id=user.id, organization_id=organization.id, role=role, status=status))


def org_admin(app, organization: Organization | None = None, **user_fields) -> tuple[User, Organization]:
    """A verified user who is the active admin of an organization."""
    organization = organization or make_organization(app)
    user = make_user(app, **user_fields)
    affiliate(app, user, organization, role=AffiliationRole.ADMIN)
    return user, organization


def make_institute(app, *, slug: str = "test-institute", acronym: str = "TI") -> Institute:
    return save(app, Institute(slug=slug, acronym=acronym, name=f"{acronym} Institute", focus="Testing",
                               agency=Agency.DOD, founded_year=2020, city="Dayton", state="OH",
                               description="An institute for tests.", federal_base_award_cents=7_000_000_000))


def make_tier(app, institute, *, name: str = "Gold", fee_cents: int = 5_000_000, may_lead: bool = True,
              retired: bool = False) -> Tier:
    return save(app, Tier(institute_id=institute.id, name=name, annual_fee_cents=fee_cents,
                          may_lead_projects=may_lead, may_join_projects=True, governance_vote=False,
                          named_seats=2, retired_at=utcnow() if retired else None))


def make_staff(app, institute, **user_fields) -> User:
    """An administrator of ``institute``, with the authenticator app (TOTP_SECRET) they must have."""
    user_fields.setdefault("second_factor", True)
    user = make_user(app, **user_fields)
    save(app, InstituteStaff(institute_id=institute.id, user_id=user.id))
    return user


def make_membership(app, organization, institute, tier, *, status="active", applied_by=None,
                    starts_on=None, ends_on=None, applied_at=None, decided_at=None) -> Membership:
    applied_by = applied_by or make_user(app)
    if status == "active":
        starts_on = starts_on or today() - timedelta(days=30)
        ends_on = ends_on or starts_on + timedelta(days=365)
    membership = save(app, Membership(
        organization_id=organization.id, institute_id=institute.id, tier_id=tier.id, status=status,
        statement="We make parts.", contact_name="Pat Contact", contact_email="pat@example.com",
        applied_by_id=applied_by.id, applied_at=applied_at or utcnow(), starts_on=starts_on, ends_on=ends_on,
        decided_at=(decided_at or utcnow()) if status != "pending" else None))
    _counted(app, membership)
    return membership


def _counted(app, membership) -> None:
    """Move the snapshot's summary figures as the services would have for this membership."""
    def count_it():
        row = db.session.get(Membership, membership.id)
        summary.membership_moved(row, MembershipStatus.PENDING, row.status)
        if row.decided_at is not None:
            summary.membership_decided(row)

    if has_app_context():
        count_it()
        return
    with app.app_context():
        count_it()
        db.session.commit()


def _through_service(app, make: Callable[[], Made]) -> Made:
    """Run ``make`` (a service call) in the test's app context (flush), or in one of its own (commit)."""
    if has_app_context():
        made = make()
        db.session.flush()
        return made
    with app.app_context():
        made = make()
        db.session.commit()
        db.session.refresh(made)
    return made


def make_pledge(app, admin: User, organization: Organization, institute: Institute, *, cents: int = 100_000_00,
                kind: str = "cash", fiscal_year: int | None = None, key: str | None = None, **fields) -> Pledge:
    """A pledge recorded by ``admin`` through ledger.record_pledge (the organization must be a member)."""
    return _through_service(app, lambda: ledger.record_pledge(
        db.session.get(User, admin.id), db.session.get(Organization, organization.id),
        db.session.get(Institute, institute.id),
        PledgeInput(amount_cents=cents, kind=kind, fiscal_year=fiscal_year or ledger.fiscal_year_of(today()),
                    **fields), key=key))


def make_call(app, staff: User, institute: Institute, *, status: CallStatus = CallStatus.OPEN, **fields) -> ProjectCall:
    """A call created by ``staff`` through the call services, open for ten more days unless ``status`` says."""
    data = {"title": "A call for projects", "description": "A call.", "opens_at": utcnow() - timedelta(days=10),
            "closes_at": utcnow() + timedelta(days=10), "max_federal_cents": 1_000_000_00, "min_cost_share_bp": 0,
            "trl_min": 1, "trl_max": 9, "mrl_min": 1, "mrl_max": 10, "criteria": [("Merit", 100)], **fields}

    def make() -> ProjectCall:
        actor = db.session.get(User, staff.id)
        call = proposals.create_call(actor, db.session.get(Institute, institute.id), CallInput(**data))
        if status != CallStatus.DRAFT:
            proposals.set_call_status(actor, call, CallStatus.OPEN)
        if status == CallStatus.CLOSED:
            proposals.set_call_status(actor, call, CallStatus.CLOSED)
        return call

    return _through_service(app, make)


def make_proposal(app, author: User, call: ProjectCall, organization: Organization, *, title: str = "A proposal",
                  **draft) -> Proposal:
    """A draft started by ``author`` (of a member organization that may lead) and saved through the services."""
    def make() -> Proposal:
        actor = db.session.get(User, author.id)
        proposal = proposals.start(actor, db.session.get(ProjectCall, call.id),
                                   db.session.get(Organization, organization.id), title)
        if draft:
            proposals.save_draft(actor, proposal, DraftInput(title=title, **draft))
        return proposal

    return _through_service(app, make)
