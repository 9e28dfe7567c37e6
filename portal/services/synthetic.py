"""A deterministic synthetic network for demonstrations and load tests, written with bulk inserts.

`large` is the program's ten-year vision at real density; `small` is what CI uses. The same seed
always makes the same network. Every figure obeys the portal's rules (pledge totals equal their
entries, one live membership per organization and institute), so `flask ledger verify` passes on it.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.geography import US_STATES
from portal.models import (
    Affiliation,
    AuditEvent,
    CallStatus,
    Criterion,
    FederalObligation,
    Institute,
    LedgerEntry,
    Membership,
    Organization,
    Partner,
    Pledge,
    ProjectCall,
    Proposal,
    StatusChange,
    Tier,
    User,
)
from portal.services import institutes as institute_service
from portal.services import passwords, summary
from portal.services.ledger import fiscal_year_of

DOMAIN = "synthetic.example.org"
CHUNK = 5_000

# Rows for a bulk insert, one dict of column values each.
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Scale:
    institutes: int
    organizations: int
    users: int
    memberships: int
    proposals: int
    ledger_entries: int


SCALES = {
    "small": Scale(institutes=18, organizations=300, users=600, memberships=450, proposals=150, ledger_entries=3_000),
    "large": Scale(institutes=45, organizations=100_000, users=200_000, memberships=150_000, proposals=50_000,
                   ledger_entries=1_000_000),
}


def has_real_data() -> bool:
    """Anything made by real people: an account outside the synthetic and demo domains."""
    return db.session.scalar(sa.select(User.id).where(
        ~User.email.like(f"%@{DOMAIN}"), ~User.email.like("%@demo.example.org")).limit(1)) is not None


def _next_id(model) -> int:
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


def _insert(model, rows: Rows, tick: Callable[[int], None]) -> None:
    """Bulk insert: COPY on PostgreSQL, multi-row INSERTs elsewhere, in the session's transaction."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        columns = list(rows[0])
        driver = connection.connection.driver_connection  # psycopg's own connection, for COPY
        assert driver is not None  # a connection checked out of the pool always has one
        with (driver.cursor() as cursor,
              cursor.copy(f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy):
            for start in range(0, len(rows), CHUNK):
                for row in rows[start:start + CHUNK]:
                    copy.write_row([value.value if isinstance(value, StrEnum) else value
                                    for value in (row[column] for column in columns)])
                tick(min(CHUNK, len(rows) - start))
        return
    for start in range(0, len(rows), CHUNK):
        batch = rows[start:start + CHUNK]
        db.session.execute(sa.insert(model), batch)
        tick(len(batch))


def _fix_sequences() -> None:
    """Rows were written with explicit ids; move PostgreSQL's sequences past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (Institute, Tier, Organization, User, Affiliation, Membership, ProjectCall, Criterion, Proposal,
                  Partner, StatusChange, Pledge, LedgerEntry, FederalObligation):
        table = model.__tablename__
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 1))"))


def load(scale_name: str, seed: int = 2026, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write the synthetic network; returns how many rows of each kind."""
    scale = SCALES[scale_name]
    if db.session.scalar(sa.select(User.id).where(User.email == f"person{seed}-1@{DOMAIN}")) is not None:
        return {}  # this seed's network is already here
    rng = random.Random(seed)
    tick = progress or (lambda n: None)
    now = datetime.now(UTC).replace(microsecond=0)
    on = now.date()
    fy = fiscal_year_of(on)

    # Institutes: the real 18, then synthetic ones up to the scale, each with the default tiers.
    institute_service.seed(institute_service.seed_records())
    db.session.flush()
    existing = db.session.scalar(sa.select(sa.func.count(Institute.id))) or 0
    institute_rows: Rows = []
    next_institute = _next_id(Institute)
    for n in range(existing, scale.institutes):
        institute_rows.append({
            "id": next_institute, "slug": f"synthetic-{n + 1}", "acronym": f"SYN{n + 1}",
            "name": f"Synthetic Institute {n + 1}", "focus": rng.choice(["Advanced materials", "Digital twins",
                                                                          "Biomanufacturing", "Robotics"]),
            "agency": rng.choice(["DOD", "DOE", "DOC", "NSF"]), "founded_year": 2026, "city": "Springfield",
            "state": rng.choice(list(US_STATES)[:51]), "website": "", "description": "A synthetic institute.",
            "federal_base_award_cents": 70_000_000_00, "created_at": now})
        next_institute += 1
    _insert(Institute, institute_rows, tick)
    default_tiers = [("Platinum", 150_000_00, True, True), ("Gold", 50_000_00, True, False),
                     ("Silver", 10_000_00, False, False)]
    have_tiers = set(db.session.scalars(sa.select(Tier.institute_id).distinct()))
    tier_rows: Rows = []
    next_tier = _next_id(Tier)
    for institute_id in db.session.scalars(sa.select(Institute.id)):
        if institute_id in have_tiers:
            continue
        for name, fee, lead, vote in default_tiers:
            tier_rows.append({"id": next_tier, "institute_id": institute_id, "name": name, "annual_fee_cents": fee,
                              "may_lead_projects": lead, "may_join_projects": True, "governance_vote": vote,
                              "named_seats": 2, "created_at": now})
            next_tier += 1
    _insert(Tier, tier_rows, tick)
    institute_ids = list(db.session.scalars(sa.select(Institute.id).order_by(Institute.id)))
    tiers_by_institute: dict[int, list[tuple[int, bool]]] = {}
    for tier_id, institute_id, lead in db.session.execute(
            sa.select(Tier.id, Tier.institute_id, Tier.may_lead_projects).where(Tier.retired_at.is_(None))):
        tiers_by_institute.setdefault(institute_id, []).append((tier_id, lead))

    # Organizations, weighted like the program's reports: about 63% industry, 70% of it small.
    org_start = _next_id(Organization)
    states = list(US_STATES)
    org_rows: Rows = []
    for n in range(scale.organizations):
        roll = rng.random()
        sector = ("industry" if roll < 0.63 else "academic" if roll < 0.83
                  else "government" if roll < 0.93 else "nonprofit")
        name = f"Synthetic {sector.capitalize()} {seed}-{n + 1}"
        org_rows.append({"id": org_start + n, "name": name, "name_key": name.casefold(), "sector": sector,
                         "size": ("small" if rng.random() < 0.7 else "large") if sector == "industry" else None,
                         "state": rng.choice(states), "city": "", "website": "", "description": "Synthetic.",
                         "listed": rng.random() < 0.9, "created_at": now})
    _insert(Organization, org_rows, tick)
    org_ids = [row["id"] for row in org_rows]

    # People: one shared password hash keeps the load fast; each person belongs to one organization.
    password_hash = passwords.hash_password(f"synthetic network {seed}")
    user_start, affiliation_start = _next_id(User), _next_id(Affiliation)
    user_rows: Rows = []
    affiliation_rows: Rows = []
    for n in range(scale.users):
        user_id = user_start + n
        user_rows.append({"id": user_id, "email": f"person{seed}-{n + 1}@{DOMAIN}", "full_name": f"Person {n + 1}",
                          "password_hash": password_hash, "active": True, "email_verified_at": now,
                          "role": "member", "session_token": f"synthetic-{seed}-{n + 1}", "created_at": now})
        affiliation_rows.append({"id": affiliation_start + n, "user_id": user_id,
                                 "organization_id": org_ids[n % len(org_ids)],
                                 "role": "admin" if n < len(org_ids) else "member", "status": "active",
                                 "created_at": now})
    _insert(User, user_rows, tick)
    _insert(Affiliation, affiliation_rows, tick)
    admin_of = {row["organization_id"]: row["user_id"] for row in affiliation_rows if row["role"] == "admin"}

    # Memberships: distinct organization and institute pairs; most active, some pending or lapsed.
    membership_start = _next_id(Membership)
    pairs: set[tuple[int, int]] = set()
    membership_rows: Rows = []
    while len(membership_rows) < scale.memberships:
        org_id, institute_id = rng.choice(org_ids), rng.choice(institute_ids)
        if (org_id, institute_id) in pairs:
            continue
        pairs.add((org_id, institute_id))
        tier_id, _ = rng.choice(tiers_by_institute[institute_id])
        applied = now - timedelta(days=rng.randint(20, 900))
        status = rng.choices(["active", "pending", "lapsed"], [85, 5, 10])[0]
        decided = applied + timedelta(days=rng.randint(1, 60)) if status != "pending" else None
        starts = decided.date() if decided else None
        ends = (on - timedelta(days=rng.randint(1, 200)) if status == "lapsed"
                else on + timedelta(days=rng.randint(30, 700)) if starts else None)
        if starts and ends and ends <= starts:
            starts = ends - timedelta(days=365)
        membership_rows.append({
            "id": membership_start + len(membership_rows), "organization_id": org_id, "institute_id": institute_id,
            "tier_id": tier_id, "status": status, "statement": "Synthetic.", "contact_name": "Contact",
            "contact_email": f"contact@{DOMAIN}", "applied_by_id": admin_of[org_id], "applied_at": applied,
            "decided_by_id": admin_of[org_id] if decided else None, "decided_at": decided, "starts_on": starts,
            "ends_on": ends, "closed_at": None})
    _insert(Membership, membership_rows, tick)

    # One open call per institute; proposals led by member organizations, at every stage.
    call_start, criterion_start = _next_id(ProjectCall), _next_id(Criterion)
    call_rows: Rows = []
    criterion_rows: Rows = []
    for n, institute_id in enumerate(institute_ids):
        call_rows.append({"id": call_start + n, "institute_id": institute_id, "title": f"Open call {fy}",
                          "description": "Synthetic call.", "opens_at": now - timedelta(days=400),
                          "closes_at": now + timedelta(days=60), "max_federal_cents": 2_000_000_00,
                          "min_cost_share_bp": 5_000, "trl_min": 3, "trl_max": 7, "mrl_min": 3, "mrl_max": 7,
                          "min_industry": 1, "min_academic": 1, "min_small_business": 0, "all_partners_members": False,
                          "status": CallStatus.OPEN, "created_by_id": user_start, "created_at": now})
        criterion_rows += [{"id": criterion_start + 2 * n, "call_id": call_start + n, "position": 0,
                            "name": "Technical merit", "weight": 50},
                           {"id": criterion_start + 2 * n + 1, "call_id": call_start + n, "position": 1,
                            "name": "Impact", "weight": 50}]
    _insert(ProjectCall, call_rows, tick)
    _insert(Criterion, criterion_rows, tick)
    call_of = {row["institute_id"]: row["id"] for row in call_rows}
    members = [row for row in membership_rows if row["status"] == "active"]
    proposal_start, partner_start, change_start = _next_id(Proposal), _next_id(Partner), _next_id(StatusChange)
    proposal_rows: Rows = []
    partner_rows: Rows = []
    change_rows: Rows = []
    areas = ["Additive manufacturing", "Composites", "Robotics", "Biomanufacturing", "Semiconductors", "Cybersecurity"]
    for n in range(scale.proposals):
        membership = members[n % len(members)]
        status = rng.choices(["submitted", "under_review", "approved", "declined", "active", "completed", "withdrawn"],
                             [10, 10, 10, 15, 25, 25, 5])[0]
        trl_start = rng.randint(3, 6)
        submitted = now - timedelta(days=rng.randint(30, 700))
        decided = submitted + timedelta(days=rng.randint(10, 120))
        proposal_id = proposal_start + n
        proposal_rows.append({
            "id": proposal_id, "call_id": call_of[membership["institute_id"]],
            "lead_organization_id": membership["organization_id"],
            "created_by_id": admin_of[membership["organization_id"]], "status": status,
            "title": f"Synthetic project {n + 1}", "abstract": "Synthetic.", "technical_plan": "Synthetic.",
            "technology_area": rng.choice(areas), "trl_start": trl_start, "trl_target": trl_start + 2,
            "mrl_start": trl_start, "mrl_target": trl_start + 2,
            "trl_reached": trl_start + rng.randint(1, 2) if status == "completed" else None,
            "mrl_reached": trl_start + rng.randint(0, 2) if status == "completed" else None,
            "duration_months": 18, "federal_request_cents": 1_000_000_00, "decision_note": "", "return_note": "",
            "status_changed_at": decided, "created_at": submitted - timedelta(days=20)})
        partner_rows.append({"id": partner_start + n, "proposal_id": proposal_id,
                             "organization_id": membership["organization_id"], "is_lead": True, "status": "accepted",
                             "responded_at": submitted})
        change_rows.append({"id": change_start + 2 * n, "proposal_id": proposal_id, "from_status": "draft",
                            "to_status": "submitted", "at": submitted})
        if status in ("approved", "declined", "active", "completed"):
            change_rows.append({"id": change_start + 2 * n + 1, "proposal_id": proposal_id,
                                "from_status": "under_review",
                                "to_status": "approved" if status != "declined" else "declined",
                                "at": decided})
    _insert(Proposal, proposal_rows, tick)
    _insert(Partner, partner_rows, tick)
    _insert(StatusChange, change_rows, tick)

    # Money: pledges of about four entries each (pledge, receipt, verification, and a cancellation or a
    # second receipt), totals kept equal to the entries.
    pledge_start, entry_start = _next_id(Pledge), _next_id(LedgerEntry)
    pledge_rows: Rows = []
    entry_rows: Rows = []
    entry_id = entry_start
    n = 0
    while len(entry_rows) < scale.ledger_entries:
        membership = members[n % len(members)]
        pledged = rng.randint(10, 500) * 1_000_00
        received = pledged // 2
        cancelled = pledged - received if rng.random() < 0.2 else 0
        pledge_id = pledge_start + n
        year = fy - rng.randint(0, 4)
        pledge_rows.append({"id": pledge_id, "organization_id": membership["organization_id"],
                            "institute_id": membership["institute_id"], "kind": "cash", "fiscal_year": year,
                            "in_kind_description": "", "note": "",
                            "created_by_id": admin_of[membership["organization_id"]],
                            "created_at": now, "pledged_cents": pledged, "received_cents": received,
                            "verified_cents": received, "cancelled_cents": cancelled})
        actor = admin_of[membership["organization_id"]]
        entries = [("pledge", pledged, None, None), ("receipt", received, None, on),
                   ("verification", received, entry_id + 1, None)]
        if cancelled:
            entries.append(("cancellation", cancelled, None, None))
        for kind, amount, verifies, received_on in entries:
            entry_rows.append({"id": entry_id, "pledge_id": pledge_id, "kind": kind, "amount_cents": amount,
                               "reverses_id": None, "verifies_id": verifies, "received_on": received_on, "reason": "",
                               "actor_id": actor, "occurred_at": now, "idempotency_key": None})
            entry_id += 1
        n += 1
    _insert(Pledge, pledge_rows, tick)
    _insert(LedgerEntry, entry_rows, tick)
    federal_rows: Rows = []
    federal_start = _next_id(FederalObligation)
    for institute_id in institute_ids:
        for year in range(fy - 4, fy + 1):
            federal_rows.append({"id": federal_start + len(federal_rows), "institute_id": institute_id,
                                 "fiscal_year": year, "amount_cents": rng.randint(5, 20) * 1_000_000_00,
                                 "reference": f"SYN-{institute_id}-{year}", "corrects_id": None,
                                 "note": "Synthetic", "actor_id": None, "occurred_at": now, "idempotency_key": None})
    _insert(FederalObligation, federal_rows, tick)
    db.session.add(AuditEvent(action="demo.synthetic_loaded", subject_type="institutes", subject_id=None,
                              details={"scale": scale_name, "seed": seed}))
    _fix_sequences()
    summary.rebuild()  # the rows went in without the services, so the snapshot's figures are counted afresh
    return {"institutes": len(institute_ids), "organizations": len(org_rows), "users": len(user_rows),
            "memberships": len(membership_rows), "proposals": len(proposal_rows), "ledger_entries": len(entry_rows),
            "pledges": len(pledge_rows)}


def total_rows(scale_name: str) -> int:
    s = SCALES[scale_name]
    return s.organizations + 2 * s.users + s.memberships + 3 * s.proposals + s.ledger_entries + s.ledger_entries // 3
