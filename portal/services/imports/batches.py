"""Import batches: a dry run, an upload (committed at once, or held for a second person when it moves money),
its approval, and undoing a batch.

A batch writes all its rows in the caller's transaction or none: any problem raises before the view
commits. Rows are written in bulk with the values the services would write, each marked with the batch;
each record leaves the audit event its page would write (the same action, subject and details, marked with
the batch), appended in bulk to the hash chain, and one more event records the batch; no notification or
mail is sent, and the snapshot's summary is recounted
once at the end (``summary.rebuild``). Undoing deletes what holds no money (organizations, memberships) and
reverses what does with ledger entries (cancellations, reversals, corrections), never deleting them.
Workforce counts (outreach counts by category) hold no money and are deleted too, as are projects (their cost
share is a figure of the project, not ledger money).
"""

import hashlib
from collections import defaultdict
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    MONEY_KINDS,
    Affiliation,
    Audience,
    CallStatus,
    EntryKind,
    FederalObligation,
    ImportBatch,
    ImportKind,
    ImportStatus,
    Invitation,
    LedgerEntry,
    Membership,
    MembershipStatus,
    Milestone,
    Organization,
    OutreachEvent,
    Partner,
    PartnerStatus,
    Pledge,
    ProjectCall,
    ProjectUpdate,
    Proposal,
    ProposalStatus,
    Review,
    StatusChange,
    User,
)
from portal.models.base import utcnow
from portal.services import DomainError, audit, summary
from portal.services.imports.checks import CHECKS, Plan, Progress, at_noon, check_header
from portal.services.imports.reading import read_table
from portal.services.ledger.entries import check_second_person

WRITE_CHUNK = 5000


class ImportProblems(DomainError):
    """The file has problems (``plan.problems``); nothing was written."""

    def __init__(self, plan: Plan):
        first = "; ".join(f"row {p.row}{f', {p.column}' if p.column else ''}: {p.message}" if p.row else p.message
                          for p in plan.problems[:3])
        super().__init__("file", f"The file has {len(plan.problems):,} problem(s); nothing was imported "
                                 f"({first}{'; ...' if len(plan.problems) > 3 else ''})")
        self.plan = plan


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def standing_batch(kind: ImportKind, digest: str) -> ImportBatch | None:
    return db.session.scalar(sa.select(ImportBatch).where(
        ImportBatch.kind == kind, ImportBatch.file_sha256 == digest,
        ImportBatch.status.in_([ImportStatus.AWAITING_APPROVAL, ImportStatus.COMMITTED])))


def check(kind: ImportKind, data: bytes, filename: str, *, progress: Progress | None = None) -> Plan:
    """The dry run: every problem of the file with its row and column, and what it would create. Reads only."""
    kind = ImportKind(kind)
    plan = Plan(kind=kind)
    try:
        table = read_table(data, filename)
    except DomainError as error:
        plan.add(None, None, error.message)
        return plan
    plan.rows = len(table.rows)
    earlier = standing_batch(kind, sha256(data))
    if earlier is not None:
        plan.add(None, None, f"This file was imported already (batch {earlier.id}, "
                             f"{earlier.status.label.lower()}); importing it again would create nothing")
        return plan
    if not check_header(kind, table, plan):
        return plan
    if not table.rows:
        plan.add(None, None, "The file has a header but no rows")
        return plan
    CHECKS[kind](table, plan, progress)
    return plan


def count_rows(data: bytes, filename: str) -> int:
    """How many rows the file has (0 when it cannot be read), for a progress bar."""
    try:
        return len(read_table(data, filename).rows)
    except DomainError:
        return 0


def _count(plan: Plan) -> dict[str, Any]:
    return {"rows": plan.rows, "already_present": len(plan.present), **plan.creates}


def upload(actor: User, kind: ImportKind, data: bytes, filename: str, *, plan: Plan | None = None,
           progress: Progress | None = None) -> ImportBatch:
    """Import a file checked whole: committed now, or, for money, held until another network administrator
    approves it. ``ImportProblems`` (nothing written) when any row has a problem."""
    _require_admin(actor)
    kind = ImportKind(kind)
    plan = plan if plan is not None else check(kind, data, filename, progress=progress)
    if plan.problems:
        raise ImportProblems(plan)
    batch = ImportBatch(kind=kind, filename=filename[:255] or "upload", file_sha256=sha256(data),
                        rows=plan.rows, counts=_count(plan), uploaded_by_id=actor.id,
                        status=ImportStatus.AWAITING_APPROVAL if kind in MONEY_KINDS else ImportStatus.COMMITTED)
    try:
        with db.session.begin_nested():
            db.session.add(batch)
    except IntegrityError:  # the same file uploaded at the same moment by someone else
        raise DomainError("file", "This file is being imported already; nothing was imported again",
                          status=409) from None
    if kind in MONEY_KINDS:
        batch.content = data
        audit.record(actor, "import.uploaded", batch, to_state=batch.status,
                     details={"kind": str(kind), "filename": batch.filename, **batch.counts})
        return batch
    _write(actor, actor, batch, plan, progress)
    return batch


def approve(actor: User, batch: ImportBatch, *, progress: Progress | None = None) -> ImportBatch:
    """A second network administrator approves a money batch: it is checked again against the portal as it is
    now and committed whole."""
    _require_admin(actor)
    if batch.status != ImportStatus.AWAITING_APPROVAL:
        raise DomainError(None, "This batch is not waiting for approval.", status=409)
    if batch.uploaded_by_id == actor.id:
        raise DomainError(None, "You uploaded this batch, so another network administrator must approve it.",
                          status=403)
    assert batch.content is not None  # kept until approval
    batch.status = ImportStatus.REFUSED  # its own file no longer counts as imported while it is checked again
    db.session.flush()
    plan = check(batch.kind, batch.content, batch.filename, progress=progress)
    if plan.problems:
        raise ImportProblems(plan)
    batch.status, batch.approved_by_id, batch.counts = ImportStatus.COMMITTED, actor.id, _count(plan)
    uploader = db.session.get(User, batch.uploaded_by_id)
    assert uploader is not None
    _write(uploader, actor, batch, plan, progress)
    batch.content = None
    return batch


def refuse(actor: User, batch: ImportBatch) -> ImportBatch:
    """Set aside a batch waiting for approval (its uploader or another network administrator)."""
    _require_admin(actor)
    if batch.status != ImportStatus.AWAITING_APPROVAL:
        raise DomainError(None, "This batch is not waiting for approval.", status=409)
    batch.status, batch.content, batch.undone_by_id, batch.undone_at = ImportStatus.REFUSED, None, actor.id, utcnow()
    audit.record(actor, "import.refused", batch, from_state=ImportStatus.AWAITING_APPROVAL, to_state=batch.status)
    return batch


def _require_admin(actor: User) -> None:
    if not actor.is_network_admin:
        raise DomainError(None, "Only network administrators import records.", status=403)


def _insert(model, rows: list[dict[str, Any]], progress: Progress | None) -> None:
    """Insert ``rows`` in chunks (multi-row INSERTs; no RETURNING, which costs more than reading ids after)."""
    table = model.__table__
    for start in range(0, len(rows), WRITE_CHUNK):
        chunk = rows[start:start + WRITE_CHUNK]
        db.session.execute(sa.insert(table), chunk)
        if progress is not None:
            progress(len(chunk))


def _ids_by_ref(model, batch: ImportBatch, *where) -> dict[str, int]:
    """The ids of what ``batch`` just inserted into ``model``, by the file's own key."""
    return {str(ref): id_ for ref, id_ in db.session.execute(
        sa.select(model.import_ref, model.id).where(model.import_batch_id == batch.id, *where))}


def _batch_ids(model, batch: ImportBatch, *where) -> list[int]:
    """The ids of what ``batch`` inserted into ``model``, in the order its rows were inserted (ids come from one
    sequence, taken in the order of the rows of each INSERT, and the batch's INSERTs run one after another)."""
    return list(db.session.scalars(sa.select(model.id).where(model.import_batch_id == batch.id, *where)
                                   .order_by(model.id)))


def _audit_each(actor: User, action: str, model, batch: ImportBatch, items: list[tuple[int, dict[str, Any]]]) -> None:
    """One audit event per record, as its page writes it (``items``: subject id and the event's fields), each
    marked with the batch; appended in bulk."""
    audit.record_many(actor, action, model.__tablename__, [
        {**event, "subject_id": subject_id, "details": {**(event.get("details") or {}), "import_batch": batch.id}}
        for subject_id, event in items])


def _write(uploader: User, approver: User, batch: ImportBatch, plan: Plan, progress: Progress | None) -> None:
    now, marked = utcnow(), {"import_batch_id": batch.id}
    records = plan.records
    if batch.kind == ImportKind.ORGANIZATIONS:
        _insert(Organization, [{**r, **marked, "created_at": now} for r in records], progress)
        _audit_each(uploader, "organization.created", Organization, batch,
                    [(id_, {}) for id_ in _batch_ids(Organization, batch)])
    elif batch.kind == ImportKind.MEMBERSHIPS:
        _insert(Membership, [{**r, **marked, "applied_by_id": uploader.id, "decided_by_id": uploader.id}
                             for r in records], progress)
        _audit_each(uploader, "membership.approved", Membership, batch, [
            (id_, {"institute_id": r["institute_id"], "from_state": MembershipStatus.PENDING,
                   "to_state": MembershipStatus.ACTIVE,
                   "details": {"starts_on": r["starts_on"].isoformat(), "ends_on": r["ends_on"].isoformat()}})
            for id_, r in zip(_batch_ids(Membership, batch), records, strict=True)])
    elif batch.kind == ImportKind.PLEDGES:
        _insert(Pledge, [{**r, **marked, "created_by_id": uploader.id, "received_cents": 0, "verified_cents": 0,
                          "cancelled_cents": 0} for r in records], progress)
        ids = _ids_by_ref(Pledge, batch)
        _insert(LedgerEntry, [{"pledge_id": ids[r["import_ref"]], "kind": EntryKind.PLEDGE,
                               "amount_cents": r["pledged_cents"], "actor_id": uploader.id,
                               "occurred_at": r["created_at"], "import_ref": r["import_ref"], **marked}
                              for r in records], None)
        _audit_each(uploader, "ledger.pledge", Pledge, batch, [
            (ids[r["import_ref"]], {"institute_id": r["institute_id"], "details": {
                "amount_cents": r["pledged_cents"], "kind": str(r["kind"]), "fiscal_year": r["fiscal_year"]}})
            for r in records])
    elif batch.kind == ImportKind.RECEIPTS:
        _write_receipts(uploader, approver, batch, records, progress)
    elif batch.kind == ImportKind.FEDERAL:
        _insert(FederalObligation, [{**r, **marked, "actor_id": approver.id, "occurred_at": now} for r in records],
                progress)
        _audit_each(approver, "ledger.federal_obligation", FederalObligation, batch, [
            (id_, {"institute_id": r["institute_id"], "details": {
                "fiscal_year": r["fiscal_year"], "amount_cents": r["amount_cents"], "reference": r["reference"],
                "corrects_id": None}})
            for id_, r in zip(_batch_ids(FederalObligation, batch), records, strict=True)])
    elif batch.kind == ImportKind.WORKFORCE:
        _insert(OutreachEvent, [{**r, **marked, "recorded_by_id": uploader.id, "recorded_at": now} for r in records],
                progress)
        _audit_each(uploader, "workforce.outreach_recorded", OutreachEvent, batch, [
            (id_, {"institute_id": r["institute_id"], "details": {a.value: r[a.value] for a in Audience}})
            for id_, r in zip(_batch_ids(OutreachEvent, batch), records, strict=True)])
    elif batch.kind == ImportKind.PROJECTS:
        _write_projects(uploader, batch, records, progress)
    batch.committed_at = now
    summary.rebuild()
    audit.record(approver, "import.committed", batch, to_state=ImportStatus.COMMITTED,
                 details={"kind": str(batch.kind), "filename": batch.filename, "uploaded_by": uploader.id,
                          **batch.counts})


def _write_projects(uploader: User, batch: ImportBatch, records: list[dict], progress: Progress | None) -> None:
    """Historical projects: per institute one closed call that holds the batch's projects (no one applies to
    it); each project with its team accepted and its status changes on the file's days, so that the snapshot
    dates it. Cost share is the project's figure, not a pledge."""
    marked = {"import_batch_id": batch.id}
    calls = []
    for institute_id in sorted({r["institute_id"] for r in records}):
        ours = [r for r in records if r["institute_id"] == institute_id]
        first = at_noon(min(r["awarded_on"] for r in ours))
        calls.append({"institute_id": institute_id, "title": f"Projects imported in batch {batch.id}",
                      "description": f"Historical projects loaded from {batch.filename}; not open to proposals.",
                      "opens_at": first - timedelta(days=1), "closes_at": first,
                      "max_federal_cents": max([r["federal_request_cents"] or 1 for r in ours]),
                      "min_cost_share_bp": 0, "trl_min": 1, "trl_max": 9, "mrl_min": 1, "mrl_max": 10,
                      "min_industry": 0, "min_academic": 0, "min_small_business": 0, "all_partners_members": False,
                      "status": CallStatus.CLOSED, "created_by_id": uploader.id, "created_at": first, **marked})
    _insert(ProjectCall, calls, None)
    call_ids = {int(institute_id): int(id_) for institute_id, id_ in db.session.execute(
        sa.select(ProjectCall.institute_id, ProjectCall.id).where(ProjectCall.import_batch_id == batch.id))}
    _audit_each(uploader, "call.created", ProjectCall, batch, [
        (call_id, {"institute_id": institute_id, "to_state": CallStatus.CLOSED})
        for institute_id, call_id in sorted(call_ids.items())])
    fields = ("title", "lead_organization_id", "technology_area", "status", "federal_request_cents",
              "cost_share_cents", "trl_start", "trl_target", "trl_reached", "import_ref")
    _insert(Proposal, [{**{f: r[f] for f in fields}, **marked, "call_id": call_ids[r["institute_id"]],
                        "created_by_id": uploader.id, "abstract": "", "technical_plan": "", "decision_note": "",
                        "return_note": "", "created_at": at_noon(r["awarded_on"]),
                        "status_changed_at": at_noon(r["completed_on"] or r["started_on"] or r["awarded_on"])}
                       for r in records], progress)
    ids = {(call_id, ref): id_ for call_id, ref, id_ in db.session.execute(
        sa.select(Proposal.call_id, Proposal.import_ref, Proposal.id).where(Proposal.import_batch_id == batch.id))}
    partners, changes, events = [], [], []
    for r in records:
        proposal_id = ids[(call_ids[r["institute_id"]], r["import_ref"])]
        awarded = at_noon(r["awarded_on"])
        for org_id in (r["lead_organization_id"], *r["partners"]):
            partners.append({"proposal_id": proposal_id, "organization_id": org_id,
                             "is_lead": org_id == r["lead_organization_id"], "status": PartnerStatus.ACCEPTED,
                             "pledge_id": None, "invited_by_id": None, "responded_by_id": None,
                             "responded_at": awarded})
        steps = [(None, ProposalStatus.APPROVED, r["awarded_on"]),
                 (ProposalStatus.APPROVED, ProposalStatus.ACTIVE, r["started_on"]),
                 (ProposalStatus.ACTIVE, ProposalStatus.COMPLETED, r["completed_on"])]
        steps = [(before, after, day) for before, after, day in steps if day is not None]
        changes += [{"proposal_id": proposal_id, "from_status": None if before is None else str(before),
                     "to_status": str(after), "actor_id": uploader.id, "at": at_noon(day)}
                    for before, after, day in steps]
        # each move as the page records it (proposal.approved, proposal.active, proposal.completed)
        events += [(proposal_id, {"action": f"proposal.{after}", "institute_id": r["institute_id"],
                                  "from_state": before, "to_state": after, "details": {"on": day.isoformat()}})
                   for before, after, day in steps]
    _insert(Partner, partners, None)
    _insert(StatusChange, changes, None)
    _audit_each(uploader, "proposal.approved", Proposal, batch, events)


def _undo_projects(actor: User, batch: ImportBatch) -> None:
    """Delete a batch's projects, teams, status changes and calls; refused once the portal has built on them."""
    ours = sa.select(Proposal.id).where(Proposal.import_batch_id == batch.id)
    for model, what in ((Milestone, "milestones"), (ProjectUpdate, "updates"), (Review, "reviews"),
                        (Invitation, "invitations"), (Pledge, "cost-share pledges")):
        used = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.proposal_id.in_(ours)))
        if used:
            raise DomainError(None, f"{used:,} {what} were added in the portal to projects of this batch; they "
                                    "would be lost, so the batch cannot be undone.", status=409)
    db.session.execute(sa.delete(StatusChange).where(StatusChange.proposal_id.in_(ours)))
    db.session.execute(sa.delete(Partner).where(Partner.proposal_id.in_(ours)))
    _removed(actor, batch, Proposal, sa.select(ProjectCall.institute_id)
             .where(ProjectCall.id == Proposal.call_id).scalar_subquery())


def _entry(pledge_id: int, kind: EntryKind, amount: int, actor: User, at, marked: dict, **values) -> dict:
    return {"pledge_id": pledge_id, "kind": kind, "amount_cents": amount, "actor_id": actor.id, "occurred_at": at,
            "reverses_id": None, "verifies_id": None, "received_on": None, "reason": "", "import_ref": None,
            **marked, **values}


def _write_receipts(uploader: User, approver: User, batch: ImportBatch, records: list[dict],
                    progress: Progress | None) -> None:
    """Receipts recorded by the uploader; those the file says were verified, verified by the approver (the
    two-person rule), on the day the file gives. The pledges' totals move by the sums."""
    marked = {"import_batch_id": batch.id}
    _insert(LedgerEntry, [_entry(r["pledge_id"], EntryKind.RECEIPT, r["amount_cents"], uploader,
                                 at_noon(r["received_on"]), marked, received_on=r["received_on"],
                                 reason=r["reason"], import_ref=r["import_ref"]) for r in records], progress)
    ids = _ids_by_ref(LedgerEntry, batch, LedgerEntry.kind == EntryKind.RECEIPT)
    if any(r["verified_on"] for r in records):
        check_second_person(uploader.id, approver.id)  # approve() holds to it too
    verified = [_entry(r["pledge_id"], EntryKind.VERIFICATION, r["amount_cents"], approver,
                       at_noon(r["verified_on"]), marked, verifies_id=ids[r["import_ref"]])
                for r in records if r["verified_on"]]
    _insert(LedgerEntry, verified, None)
    institutes = {r["pledge_id"]: r["institute_id"] for r in records}
    _audit_each(uploader, "ledger.receipt", LedgerEntry, batch, [
        (ids[r["import_ref"]], {"institute_id": institutes[r["pledge_id"]],
                                "details": {"pledge_id": r["pledge_id"], "amount_cents": r["amount_cents"]}})
        for r in records])
    verification_ids = _batch_ids(LedgerEntry, batch, LedgerEntry.kind == EntryKind.VERIFICATION)
    _audit_each(approver, "ledger.verification", LedgerEntry, batch, [
        (id_, {"institute_id": institutes[v["pledge_id"]], "details": {
            "pledge_id": v["pledge_id"], "receipt_id": v["verifies_id"], "amount_cents": v["amount_cents"]}})
        for id_, v in zip(verification_ids, verified, strict=True)])
    totals: dict[int, dict[str, int]] = defaultdict(lambda: {"received": 0, "verified": 0, "cancelled": 0})
    for r in records:
        totals[r["pledge_id"]]["received"] += r["amount_cents"]
        if r["verified_on"]:
            totals[r["pledge_id"]]["verified"] += r["amount_cents"]
    _move_totals(totals)


def _move_totals(totals: dict[int, dict[str, int]]) -> None:
    """Add to pledges' running totals in one statement per chunk (the CHECKs refuse an overdrawn pledge)."""
    table = Pledge.__table__
    statement = sa.update(table).where(table.c.id == sa.bindparam("pid")).values(
        received_cents=table.c.received_cents + sa.bindparam("received"),
        verified_cents=table.c.verified_cents + sa.bindparam("verified"),
        cancelled_cents=table.c.cancelled_cents + sa.bindparam("cancelled"))
    params = [{"pid": pledge_id, **values} for pledge_id, values in sorted(totals.items())]
    for start in range(0, len(params), WRITE_CHUNK):
        db.session.execute(statement, params[start:start + WRITE_CHUNK])


# Undoing a batch ------------------------------------------------------------------------------------

def undo(actor: User, batch: ImportBatch) -> ImportBatch:
    """Take a committed batch back: records without money are deleted (refused while later records use them),
    money is reversed by ledger entries that point at what they undo."""
    _require_admin(actor)
    if batch.status != ImportStatus.COMMITTED:
        raise DomainError(None, "Only a committed batch can be undone.", status=409)
    marked = {"import_batch_id": batch.id}
    reason = f"Undo of import batch {batch.id}"
    if batch.kind == ImportKind.ORGANIZATIONS:
        _undo_organizations(batch)
        _removed(actor, batch, Organization)
    elif batch.kind == ImportKind.MEMBERSHIPS:
        _removed(actor, batch, Membership, Membership.institute_id)
    elif batch.kind == ImportKind.WORKFORCE:
        _removed(actor, batch, OutreachEvent, OutreachEvent.institute_id)
    elif batch.kind == ImportKind.PROJECTS:
        _undo_projects(actor, batch)
        _removed(actor, batch, ProjectCall, ProjectCall.institute_id)
    elif batch.kind == ImportKind.PLEDGES:
        _undo_pledges(actor, batch, marked, reason)
    elif batch.kind == ImportKind.RECEIPTS:
        _undo_receipts(actor, batch, marked, reason)
    elif batch.kind == ImportKind.FEDERAL:
        _undo_federal(actor, batch, marked, reason)
    batch.status, batch.undone_by_id, batch.undone_at = ImportStatus.UNDONE, actor.id, utcnow()
    summary.rebuild()
    audit.record(actor, "import.undone", batch, from_state=ImportStatus.COMMITTED, to_state=ImportStatus.UNDONE,
                 details={"kind": str(batch.kind)})
    return batch


def _removed(actor: User, batch: ImportBatch, model, institute=None) -> None:
    """Delete what ``batch`` put into ``model``, each record leaving an ``import.record_removed`` event."""
    rows = db.session.execute(sa.select(model.id, institute if institute is not None else sa.null())
                              .where(model.import_batch_id == batch.id).order_by(model.id)).all()
    _audit_each(actor, "import.record_removed", model, batch,
                [(id_, {"institute_id": institute_id}) for id_, institute_id in rows])
    db.session.execute(sa.delete(model).where(model.import_batch_id == batch.id))


def _undo_organizations(batch: ImportBatch) -> None:
    ours = sa.select(Organization.id).where(Organization.import_batch_id == batch.id)
    for model, what in ((Membership, "memberships"), (Pledge, "pledges"), (Affiliation, "people")):
        used = db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                 .where(model.organization_id.in_(ours)))
        if used:
            raise DomainError(None, f"{used:,} {what} belong to organizations of this batch; undo the batches "
                                    "that use them first.", status=409)


def _undo_pledges(actor: User, batch: ImportBatch, marked: dict, reason: str) -> None:
    pledges = list(db.session.execute(sa.select(Pledge.id, Pledge.institute_id, Pledge.pledged_cents,
                                                Pledge.received_cents, Pledge.cancelled_cents)
                                      .where(Pledge.import_batch_id == batch.id).with_for_update()))
    received = sum(1 for p in pledges if p.received_cents)
    if received:
        raise DomainError(None, f"{received:,} pledges of this batch have money received; undo the receipts "
                                "first.", status=409)
    now = utcnow()
    remaining = {p.id: p.pledged_cents - p.cancelled_cents for p in pledges if p.pledged_cents > p.cancelled_cents}
    _insert(LedgerEntry, [_entry(pledge_id, EntryKind.CANCELLATION, amount, actor, now, marked, reason=reason)
                          for pledge_id, amount in sorted(remaining.items())], None)
    institutes = {p.id: p.institute_id for p in pledges}
    _audit_each(actor, "ledger.cancellation", LedgerEntry, batch, [
        (id_, {"institute_id": institutes[pledge_id], "reason": reason,
               "details": {"pledge_id": pledge_id, "amount_cents": amount}})
        for id_, pledge_id, amount in db.session.execute(
            sa.select(LedgerEntry.id, LedgerEntry.pledge_id, LedgerEntry.amount_cents)
            .where(LedgerEntry.import_batch_id == batch.id, LedgerEntry.kind == EntryKind.CANCELLATION)
            .order_by(LedgerEntry.id))])
    _move_totals({pledge_id: {"received": 0, "verified": 0, "cancelled": amount}
                  for pledge_id, amount in remaining.items()})


def _undo_receipts(actor: User, batch: ImportBatch, marked: dict, reason: str) -> None:
    reversed_ids = sa.select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.is_not(None))
    entries = list(db.session.execute(
        sa.select(LedgerEntry.id, LedgerEntry.pledge_id, LedgerEntry.kind, LedgerEntry.amount_cents)
        .where(LedgerEntry.import_batch_id == batch.id,
               LedgerEntry.kind.in_([EntryKind.RECEIPT, EntryKind.VERIFICATION]),
               LedgerEntry.id.not_in(reversed_ids)).order_by(LedgerEntry.id)))
    later = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
        LedgerEntry.verifies_id.in_([e.id for e in entries if e.kind == EntryKind.RECEIPT]),
        LedgerEntry.import_batch_id.is_distinct_from(batch.id), LedgerEntry.id.not_in(reversed_ids)))
    if later:
        raise DomainError(None, f"{later:,} receipts of this batch were verified in the portal since; reverse "
                                "those verifications first.", status=409)
    db.session.execute(sa.select(Pledge.id).where(Pledge.id.in_({e.pledge_id for e in entries}))
                       .order_by(Pledge.id).with_for_update())
    now = utcnow()
    # verifications first, so that no receipt is reversed while it stands verified
    ordered = sorted(entries, key=lambda e: (e.kind != EntryKind.VERIFICATION, e.id))
    _insert(LedgerEntry, [_entry(e.pledge_id, EntryKind.REVERSAL, -e.amount_cents, actor, now, marked,
                                 reverses_id=e.id, reason=reason) for e in ordered], None)
    _audit_each(actor, "ledger.reversal", LedgerEntry, batch, [
        (id_, {"institute_id": institute_id, "reason": reason,
               "details": {"pledge_id": pledge_id, "reverses_id": reverses_id, "amount_cents": amount}})
        for id_, institute_id, pledge_id, reverses_id, amount in db.session.execute(
            sa.select(LedgerEntry.id, Pledge.institute_id, LedgerEntry.pledge_id, LedgerEntry.reverses_id,
                      LedgerEntry.amount_cents).join(Pledge, Pledge.id == LedgerEntry.pledge_id)
            .where(LedgerEntry.import_batch_id == batch.id, LedgerEntry.kind == EntryKind.REVERSAL)
            .order_by(LedgerEntry.id))])
    totals: dict[int, dict[str, int]] = defaultdict(lambda: {"received": 0, "verified": 0, "cancelled": 0})
    for e in entries:
        totals[e.pledge_id]["received" if e.kind == EntryKind.RECEIPT else "verified"] -= e.amount_cents
    _move_totals(totals)


def _undo_federal(actor: User, batch: ImportBatch, marked: dict, reason: str) -> None:
    corrections = sa.select(FederalObligation.corrects_id, sa.func.sum(FederalObligation.amount_cents)
                            .label("corrected")).where(FederalObligation.corrects_id.is_not(None)) \
        .group_by(FederalObligation.corrects_id).subquery()
    rows = db.session.execute(
        sa.select(FederalObligation, sa.func.coalesce(corrections.c.corrected, 0))
        .outerjoin(corrections, corrections.c.corrects_id == FederalObligation.id)
        .where(FederalObligation.import_batch_id == batch.id, FederalObligation.corrects_id.is_(None))
        .order_by(FederalObligation.id))
    now = utcnow()
    _insert(FederalObligation, [
        {"institute_id": o.institute_id, "fiscal_year": o.fiscal_year, "amount_cents": -(o.amount_cents + corrected),
         "reference": o.reference, "corrects_id": o.id, "note": reason, "actor_id": actor.id, "occurred_at": now,
         **marked} for o, corrected in rows if o.amount_cents + corrected > 0], None)
    _audit_each(actor, "ledger.federal_obligation", FederalObligation, batch, [
        (o.id, {"institute_id": o.institute_id, "details": {
            "fiscal_year": o.fiscal_year, "amount_cents": o.amount_cents, "reference": o.reference,
            "corrects_id": o.corrects_id}})
        for o in db.session.scalars(sa.select(FederalObligation).where(
            FederalObligation.import_batch_id == batch.id, FederalObligation.corrects_id.is_not(None))
            .order_by(FederalObligation.id))])

