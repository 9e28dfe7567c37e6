"""A deterministic synthetic network for demonstrations and load tests, written with bulk inserts.

`large` is the program's ten-year vision at real density; `small` is what CI uses. The same seed
always makes the same network. Every figure obeys the portal's rules (pledge totals equal their
entries, one live membership per organization and institute), so `flask ledger verify` passes on it;
and beside every change it writes what the services would: an audit event, and notifications to the
people the services tell. It has network administrators, institute administrators, reviewers,
organization administrators and members, calls in every state and proposals in every state.
"""

import base64
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Affiliation,
    AuditEvent,
    Criterion,
    FederalObligation,
    Institute,
    InstituteStaff,
    LedgerEntry,
    Membership,
    Notification,
    Organization,
    Partner,
    Pledge,
    ProjectCall,
    Proposal,
    Review,
    Score,
    StatusChange,
    Tier,
    User,
)
from portal.services import institutes as institute_service
from portal.services import passwords, summary
from portal.services.synthetic import money, projects, workforce
from portal.services.synthetic.bulk import Activity, Rows, Tick, indexes_afterwards, insert, next_id
from portal.services.synthetic.names import organization_name, place

DOMAIN = "synthetic.example.org"


@dataclass(frozen=True)
class Scale:
    institutes: int
    organizations: int
    users: int
    memberships: int
    proposals: int
    ledger_entries: int
    participants: int = 0  # workforce sign-ups over a year


SCALES = {
    "small": Scale(institutes=18, organizations=300, users=600, memberships=450, proposals=150, ledger_entries=3_000,
                   participants=1_000),
    "large": Scale(institutes=45, organizations=100_000, users=200_000, memberships=150_000, proposals=50_000,
                   ledger_entries=1_000_000, participants=100_000),
}
STAFF_PER_INSTITUTE = 2
REVIEWERS_PER_INSTITUTE = 3
NETWORK_ADMINS = 2


def password(seed: int) -> str:
    """Every synthetic account's password (one shared hash keeps the load fast)."""
    return f"synthetic network {seed}"


def totp_secret(seed: int) -> str:
    """The authenticator setup key of every synthetic administrator (they must have a second factor)."""
    return base64.b32encode(hashlib.sha256(f"synthetic network {seed}".encode()).digest()[:20]).decode()


def has_real_data() -> bool:
    """Anything made by real people: an account outside the synthetic and demo domains."""
    return db.session.scalar(sa.select(User.id).where(
        ~User.email.like(f"%@{DOMAIN}"), ~User.email.like("%@demo.example.org")).limit(1)) is not None


def _fix_sequences() -> None:
    """Rows were written with explicit ids; move PostgreSQL's sequences past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (Institute, Tier, Organization, User, Affiliation, InstituteStaff, Membership, ProjectCall,
                  Criterion, Proposal, Partner, StatusChange, Review, Score, Pledge, LedgerEntry,
                  FederalObligation, AuditEvent, Notification, *workforce.SEQUENCED):
        table = model.__tablename__
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 1))"))


# the tables written in bulk, whose indexes and foreign keys are made once all their rows are in
BULK = [Organization, User, Affiliation, InstituteStaff, Membership, ProjectCall, Criterion, Proposal, Partner,
        StatusChange, Review, Score, Pledge, LedgerEntry, FederalObligation, AuditEvent, Notification,
        *workforce.SEQUENCED]


@dataclass
class World:
    """What later steps of the load need from earlier ones."""
    rng: random.Random
    now: datetime
    seed: int
    activity: Activity
    tick: Tick
    institute_ids: list[int]
    tiers: dict[int, list[int]]
    staff: dict[int, list[int]]  # institute id -> staff user ids
    reviewers: dict[int, list[int]]
    admin_of: dict[int, int]  # organization id -> its administrator's user id
    org_ids: list[int]
    members: list[dict]  # active memberships

    def days_ago(self, low: int, high: int) -> datetime:
        return self.now - timedelta(days=self.rng.randint(low, high), seconds=self.rng.randint(0, 86_399))

    def read(self, at: datetime) -> datetime | None:
        """When a notification sent at ``at`` was read: most are, a few weeks later; recent ones often not."""
        if self.rng.random() < 0.25:
            return None
        read = at + timedelta(days=self.rng.randint(0, 20))
        return read if read < self.now else None


def _institutes(rng: random.Random, scale: Scale, now: datetime, tick: Tick) -> tuple[list[int], dict]:
    """The real 18 institutes, then synthetic ones up to the scale, each with the default tiers."""
    institute_service.seed(institute_service.seed_records())
    db.session.flush()
    existing = db.session.scalar(sa.select(sa.func.count(Institute.id)))
    rows: Rows = []
    start = next_id(Institute)
    for n in range(existing or 0, scale.institutes):
        city, state = place(rng)
        rows.append({
            "id": start + len(rows), "slug": f"synthetic-{n + 1}", "acronym": f"SYN{n + 1}",
            "name": f"Synthetic Institute {n + 1}", "focus": rng.choice(["Advanced materials", "Digital twins",
                                                                          "Biomanufacturing", "Robotics"]),
            "agency": rng.choice(["DOD", "DOE", "DOC", "NSF"]), "founded_year": 2026, "city": city,
            "state": state, "website": "", "description": "A synthetic institute.",
            "federal_base_award_cents": 70_000_000_00, "created_at": now})
    insert(Institute, rows, tick)
    default_tiers = [("Platinum", 150_000_00, True, True), ("Gold", 50_000_00, True, False),
                     ("Silver", 10_000_00, False, False)]
    have_tiers = set(db.session.scalars(sa.select(Tier.institute_id).distinct()))
    tier_rows, next_tier = [], next_id(Tier)
    for institute_id in db.session.scalars(sa.select(Institute.id)):
        if institute_id in have_tiers:
            continue
        for name, fee, lead, vote in default_tiers:
            tier_rows.append({"id": next_tier, "institute_id": institute_id, "name": name, "annual_fee_cents": fee,
                              "may_lead_projects": lead, "may_join_projects": True, "governance_vote": vote,
                              "named_seats": 2, "created_at": now})
            next_tier += 1
    insert(Tier, tier_rows, tick)
    institute_ids = list(db.session.scalars(sa.select(Institute.id).order_by(Institute.id)))
    tiers: dict[int, list[int]] = {}
    for tier_id, institute_id in db.session.execute(
            sa.select(Tier.id, Tier.institute_id).where(Tier.retired_at.is_(None)).order_by(Tier.id)):
        tiers.setdefault(institute_id, []).append(tier_id)
    return institute_ids, tiers


def _people(w: World, scale: Scale, tick: Tick) -> dict[str, int]:
    """Organizations; their administrators and members; institute staff, reviewers and network administrators."""
    rng, seed, now, activity = w.rng, w.seed, w.now, w.activity
    org_start = next_id(Organization)
    org_rows: Rows = []
    for n in range(scale.organizations):
        roll = rng.random()
        sector = ("industry" if roll < 0.63 else "academic" if roll < 0.83
                  else "government" if roll < 0.93 else "nonprofit")
        name = organization_name(rng, sector, n + 1)
        city, state = place(rng)
        org_rows.append({"id": org_start + n, "name": name, "name_key": name.casefold(), "sector": sector,
                         "size": ("small" if rng.random() < 0.7 else "large") if sector == "industry" else None,
                         "state": state, "city": city, "website": "", "description": "Synthetic.",
                         "listed": rng.random() < 0.9, "created_at": now})
    w.org_ids = [row["id"] for row in org_rows]

    hashed = passwords.hash_password(password(seed))
    user_rows: Rows = []

    def person(email: str, name: str, role: str = "member", *, administers: bool = False) -> int:
        user_id = user_start + len(user_rows)
        joined = w.days_ago(900, 1400)
        administers = administers or role == "network_admin"
        user_rows.append({"id": user_id, "email": email, "full_name": name, "password_hash": hashed, "active": True,
                          "email_verified_at": joined, "role": role, "session_token": f"synthetic-{seed}-{user_id}",
                          "totp_secret": totp_secret(seed) if administers else None,
                          "totp_enrolled_at": joined if administers else None, "created_at": joined})
        activity.event(joined, user_id, "user.registered", "users", user_id, to_state="unverified")
        activity.event(joined + timedelta(minutes=5), user_id, "user.email_verified", "users", user_id,
                       from_state="unverified", to_state="verified")
        return user_id

    user_start, affiliation_start = next_id(User), next_id(Affiliation)
    affiliation_rows: Rows = []
    for n in range(scale.users):
        user_id = person(f"person{seed}-{n + 1}@{DOMAIN}", f"Person {n + 1}")
        organization = w.org_ids[n % len(w.org_ids)]
        admin = n < len(w.org_ids)
        at = user_rows[-1]["created_at"] + timedelta(hours=1)
        affiliation_id = affiliation_start + n
        affiliation_rows.append({"id": affiliation_id, "user_id": user_id, "organization_id": organization,
                                 "role": "admin" if admin else "member", "status": "active", "created_at": at,
                                 "decided_at": None if admin else at + timedelta(days=1),
                                 "decided_by_id": None if admin else w.admin_of[organization]})
        if admin:
            w.admin_of[organization] = user_id
            org_rows[n]["created_at"] = at
            activity.event(at, user_id, "organization.created", "organizations", organization)
        else:
            activity.event(at, user_id, "affiliation.requested", "affiliations", affiliation_id, to_state="pending")
            activity.event(at + timedelta(days=1), w.admin_of[organization], "affiliation.approved", "affiliations",
                           affiliation_id, from_state="pending", to_state="active")
    admins = [person(f"network{seed}-{k + 1}@{DOMAIN}", f"Network Administrator {k + 1}", "network_admin")
              for k in range(NETWORK_ADMINS)]
    for network_admin in admins:
        activity.event(user_rows[network_admin - user_start]["created_at"] + timedelta(minutes=10), None,
                       "user.role_changed", "users", network_admin, from_state="member", to_state="network_admin")
    staff_rows: Rows = []
    staff_start = next_id(InstituteStaff)
    for institute_id in w.institute_ids:
        for k in range(STAFF_PER_INSTITUTE):
            user_id = person(f"staff{seed}-{institute_id}-{k + 1}@{DOMAIN}", f"Institute Staff {institute_id}.{k + 1}",
                             administers=True)
            at = user_rows[-1]["created_at"] + timedelta(hours=2)
            staff_id = staff_start + len(staff_rows)
            staff_rows.append({"id": staff_id, "institute_id": institute_id, "user_id": user_id,
                               "added_by_id": admins[0], "created_at": at})
            w.staff.setdefault(institute_id, []).append(user_id)
            activity.event(at, admins[0], "institute.staff_added", "institute_staff", staff_id, institute=institute_id)
        w.reviewers[institute_id] = [
            person(f"reviewer{seed}-{institute_id}-{k + 1}@{DOMAIN}", f"Reviewer {institute_id}.{k + 1}")
            for k in range(REVIEWERS_PER_INSTITUTE)]
    insert(Organization, org_rows, tick)
    insert(User, user_rows, tick)
    insert(Affiliation, affiliation_rows, tick)
    insert(InstituteStaff, staff_rows, tick)
    return {"organizations": len(org_rows), "users": scale.users,
            "staff": len(staff_rows), "reviewers": sum(map(len, w.reviewers.values())), "network_admins": len(admins)}


MEMBERSHIP_STATES = (["active", "pending", "lapsed", "declined", "withdrawn", "ended"], [80, 5, 8, 4, 2, 1])


def _memberships(w: World, scale: Scale, tick: Tick) -> int:
    """Distinct organization and institute pairs, in every state; a few institutes draw most members."""
    rng, now, activity = w.rng, w.now, w.activity
    on = now.date()
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(w.institute_ids))]
    rows: Rows = []
    start, pairs = next_id(Membership), set()
    while len(rows) < scale.memberships:
        org_id, institute_id = rng.choice(w.org_ids), rng.choices(w.institute_ids, weights)[0]
        if (org_id, institute_id) in pairs:
            continue
        pairs.add((org_id, institute_id))
        membership_id = start + len(rows)
        applicant, decider = w.admin_of[org_id], rng.choice(w.staff[institute_id])
        applied = w.days_ago(20, 900)
        status = rng.choices(*MEMBERSHIP_STATES)[0]
        decided = applied + timedelta(days=rng.randint(1, 60)) if status not in ("pending", "withdrawn") else None
        starts = decided.date() if decided and status != "declined" else None
        ends = (on - timedelta(days=rng.randint(1, 200)) if status in ("lapsed", "ended")
                else on + timedelta(days=rng.randint(30, 700)) if starts else None)
        if starts and ends and ends <= starts:
            starts = ends - timedelta(days=365)
        closed = (applied + timedelta(days=3) if status == "withdrawn"
                  else datetime.combine(ends, applied.timetz()) if ends and status in ("lapsed", "ended") else None)
        rows.append({
            "id": membership_id, "organization_id": org_id, "institute_id": institute_id,
            "tier_id": rng.choice(w.tiers[institute_id]), "status": status, "statement": "Synthetic.",
            "contact_name": "Contact", "contact_email": f"contact@{DOMAIN}", "applied_by_id": applicant,
            "applied_at": applied, "decided_by_id": decider if decided else None, "decided_at": decided,
            "decision_reason": "Not a fit for our roadmap this year." if status == "declined" else None,
            "starts_on": starts, "ends_on": ends, "closed_at": closed})
        link = activity.link("memberships.detail", "membership_id", membership_id)
        activity.event(applied, applicant, "membership.applied", "memberships", membership_id,
                       institute=institute_id, to_state="pending")
        for staff in w.staff[institute_id]:
            activity.notify(applied, staff, "A new membership application is waiting for a decision.", link,
                            decided or w.read(applied))
        if decided:
            to = "declined" if status == "declined" else "active"
            activity.event(decided, decider, f"membership.{'declined' if to == 'declined' else 'approved'}",
                           "memberships", membership_id, institute=institute_id, from_state="pending", to_state=to)
            verdict = "declined" if to == "declined" else "approved"
            activity.notify(decided, applicant, f"Your membership application was {verdict}.", link, w.read(decided))
        if closed:
            action = {"withdrawn": "withdrawn", "lapsed": "lapsed", "ended": "ended"}[status]
            activity.event(closed, None if status == "lapsed" else applicant, f"membership.{action}", "memberships",
                           membership_id, institute=institute_id,
                           from_state="pending" if status == "withdrawn" else "active", to_state=status)
    insert(Membership, rows, tick)
    w.members = [row for row in rows if row["status"] == "active"]
    return len(rows)


def load(scale_name: str | Scale, seed: int = 2026, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write the synthetic network (of a named scale, or any ``Scale``); returns how many rows of each kind."""
    scale = SCALES[scale_name] if isinstance(scale_name, str) else scale_name
    if db.session.scalar(sa.select(User.id).where(User.email == f"person{seed}-1@{DOMAIN}")) is not None:
        return {}  # this seed's network is already here
    rng = random.Random(seed)
    tick = progress or (lambda n: None)
    now = datetime.now(UTC).replace(microsecond=0)
    institute_ids, tiers = _institutes(rng, scale, now, tick)
    w = World(rng=rng, now=now, seed=seed, activity=Activity(), tick=tick, institute_ids=institute_ids, tiers=tiers,
              staff={}, reviewers={}, admin_of={}, org_ids=[], members=[])
    with indexes_afterwards(BULK):
        counts = _people(w, scale, tick)
        counts["memberships"] = _memberships(w, scale, tick)
        counts |= projects.load(w, scale.proposals)
        counts |= money.load(w, scale.ledger_entries)
        counts |= workforce.load(w, scale.participants)
        w.activity.event(now, None, "demo.synthetic_loaded", "institutes", None,
                         details={"scale": str(scale_name), "seed": seed})
        counts["audit_events"], counts["notifications"] = w.activity.write(tick)
    _fix_sequences()
    summary.rebuild()  # the rows went in without the services, so the snapshot's figures are counted afresh
    order = ["institutes", "organizations", "users", "memberships", "proposals", "ledger_entries", "pledges"]
    return {"institutes": len(institute_ids)} | {key: counts[key] for key in order[1:]} | {
        key: value for key, value in counts.items() if key not in order}


def sign_in_accounts(seed: int = 2026) -> list[tuple[str, str | None]]:
    """One account for each role, on the busiest objects: (what it is, email)."""
    staff_email = f"staff{seed}-%@{DOMAIN}"
    busiest = db.session.scalar(sa.select(Membership.institute_id).group_by(Membership.institute_id)
                                .order_by(sa.func.count().desc(), Membership.institute_id).limit(1))
    heavy_org = db.session.scalar(sa.select(Pledge.organization_id).group_by(Pledge.organization_id)
                                  .order_by(sa.func.count().desc(), Pledge.organization_id).limit(1))
    org_admin = db.session.scalar(sa.select(User.email).join(Affiliation, Affiliation.user_id == User.id).where(
        Affiliation.organization_id == heavy_org, Affiliation.role == "admin").limit(1))
    org_member = db.session.scalar(sa.select(User.email).join(Affiliation, Affiliation.user_id == User.id).where(
        Affiliation.role == "member", User.email.like(f"person{seed}-%")).order_by(User.id).limit(1))
    reviewer = db.session.scalar(sa.select(User.email).join(Review, Review.reviewer_id == User.id)
                                 .where(User.email.like(f"reviewer{seed}-%")).group_by(User.id, User.email)
                                 .order_by(sa.func.count().desc(), User.id).limit(1))
    slug = db.session.scalar(sa.select(Institute.slug).where(Institute.id == busiest))
    staff = db.session.scalar(sa.select(User.email).join(InstituteStaff, InstituteStaff.user_id == User.id)
                              .where(InstituteStaff.institute_id == busiest, User.email.like(staff_email))
                              .order_by(User.id).limit(1))
    return [("network administrator", f"network{seed}-1@{DOMAIN}"),
            (f"institute administrator of {slug} (the busiest institute)", staff),
            ("organization administrator (the most pledges)", org_admin),
            ("organization member", org_member),
            ("reviewer", reviewer)]


def total_rows(scale_name: str) -> int:
    """Roughly how many rows the load writes, for the progress bar."""
    s = SCALES[scale_name]
    events = 3 * s.users + 4 * s.memberships + 8 * s.proposals + s.ledger_entries
    notifications = 3 * s.memberships + 3 * s.proposals + s.ledger_entries // 2
    workforce_rows = 5 * s.participants  # sign-ups, their events and notifications, attendance, credentials
    return (s.organizations + 2 * s.users + s.memberships + 10 * s.proposals + s.ledger_entries
            + s.ledger_entries // 4 + events + notifications + workforce_rows)
