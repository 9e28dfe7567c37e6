"""Synthetic co-investment: pledges with their ledger entries, and federal obligations."""

from datetime import timedelta
from typing import TYPE_CHECKING

from portal.models import FederalObligation, LedgerEntry, Pledge
from portal.services.ledger import fiscal_year_of
from portal.services.synthetic.bulk import Rows, insert, insert_tuples, next_id

if TYPE_CHECKING:  # the package imports this module; the type is only for checkers
    from portal.services.synthetic import World

ENTRY_COLUMNS = ["id", "pledge_id", "kind", "amount_cents", "reverses_id", "verifies_id", "received_on", "reason",
                 "actor_id", "occurred_at", "idempotency_key"]


def load(w: "World", how_many_entries: int) -> dict[str, int]:
    """Pledges of about four entries each (pledge, receipt, verification, and a cancellation or not),
    totals kept equal to the entries; each entry with its audit event and the notification it sends."""
    rng, activity = w.rng, w.activity
    fy = fiscal_year_of(w.now.date())
    pledge_start, entry_start = next_id(Pledge), next_id(LedgerEntry)
    pledge_rows: Rows = []
    entry_rows: list[tuple] = []
    entry_id = entry_start
    n = 0
    while len(entry_rows) < how_many_entries:
        membership = w.members[n % len(w.members)]
        organization, institute_id = membership["organization_id"], membership["institute_id"]
        pledged = rng.randint(10, 500) * 1_000_00
        received = pledged // 2
        cancelled = pledged - received if rng.random() < 0.2 else 0
        pledge_id = pledge_start + n
        year = fy - rng.randint(0, 4)
        admin = w.admin_of[organization]
        recorder, checker = w.staff[institute_id][0], w.staff[institute_id][-1]
        made = min(w.days_ago(0, 60) - timedelta(days=365 * (fy - year)), w.now - timedelta(days=20))
        pledge_rows.append({"id": pledge_id, "organization_id": organization, "institute_id": institute_id,
                            "kind": "cash", "fiscal_year": year, "in_kind_description": "", "note": "",
                            "created_by_id": admin, "created_at": made, "pledged_cents": pledged,
                            "received_cents": received, "verified_cents": received, "cancelled_cents": cancelled})
        activity.event(made, admin, "ledger.pledge", "pledges", pledge_id, institute=institute_id,
                       details={"amount_cents": pledged, "fiscal_year": year})
        link = activity.link("ledger.pledge", "pledge_id", pledge_id)
        receipt_at = made + timedelta(days=rng.randint(5, 15))
        entries = [("pledge", pledged, None, None, admin, made), ("receipt", received, None, receipt_at.date(),
                                                                  recorder, receipt_at),
                   ("verification", received, entry_id + 1, None, checker, receipt_at + timedelta(days=2))]
        if cancelled:
            entries.append(("cancellation", cancelled, None, None, checker, receipt_at + timedelta(days=3)))
        for kind, amount, verifies, received_on, actor, at in entries:
            entry_rows.append((entry_id, pledge_id, kind, amount, None, verifies, received_on,
                               "Grant period ended" if kind == "cancellation" else "", actor, at, None))
            if kind != "pledge":
                activity.event(at, actor, f"ledger.{kind}", "ledger_entries", entry_id, institute=institute_id,
                               reason="Grant period ended" if kind == "cancellation" else None,
                               details={"amount_cents": amount})
            if kind in ("receipt", "verification"):
                activity.notify(at, admin, f"A {kind} was recorded against your pledge.", link, w.read(at))
            entry_id += 1
        n += 1
    insert(Pledge, pledge_rows, w.tick)
    insert_tuples(LedgerEntry, ENTRY_COLUMNS, entry_rows, w.tick)
    federal_rows: Rows = []
    federal_start = next_id(FederalObligation)
    network_admin = None
    for institute_id in w.institute_ids:
        for year in range(fy - 4, fy + 1):
            obligation_id = federal_start + len(federal_rows)
            at = w.now - timedelta(days=365 * (fy - year) + 30)
            amount = rng.randint(5, 20) * 1_000_000_00
            federal_rows.append({"id": obligation_id, "institute_id": institute_id, "fiscal_year": year,
                                 "amount_cents": amount, "reference": f"SYN-{institute_id}-{year}",
                                 "corrects_id": None, "note": "Synthetic", "actor_id": network_admin,
                                 "occurred_at": at, "idempotency_key": None})
            activity.event(at, network_admin, "ledger.federal_obligation", "federal_obligations", obligation_id,
                           institute=institute_id, details={"amount_cents": amount, "fiscal_year": year})
    insert(FederalObligation, federal_rows, w.tick)
    return {"ledger_entries": len(entry_rows), "pledges": len(pledge_rows)}
