"""The network administrators' import: upload a file (dry run or import), see a batch, approve, undo."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, url_for
from flask_login import current_user, login_required

from portal import authz, paging
from portal.auth.second_factor import step_up_needed
from portal.extensions import db
from portal.forms import confirmed
from portal.imports.forms import UploadForm
from portal.models import ImportBatch, ImportKind
from portal.services import csvfile, imports
from portal.views import csv_download, run_change

bp = Blueprint("imports", __name__, url_prefix="/imports")


def render_index(form: UploadForm, status: int = 200, plan: imports.Plan | None = None):
    batches = paging.keyset(sa.select(ImportBatch), [ImportBatch.id], lambda b: [b.id], descending=True)
    return render_template("imports/index.html", form=form, plan=plan, page=batches, labels=imports.LABELS,
                           kinds=list(ImportKind)), status


@bp.get("/")
@login_required
def index():
    """The upload form and the batches imported so far."""
    authz.require(current_user, "import.manage", None)
    return render_index(UploadForm())


@bp.post("/")
@login_required
def upload():
    """Check a file (dry run: its problems and what it would create), or import it whole."""
    authz.require(current_user, "import.manage", None)
    form = UploadForm()
    if not form.validate_on_submit():
        return render_index(form, 422)
    decision = form.pressed("check", "import")
    kind, data, filename = ImportKind(form.kind.data), form.file.data.read(), form.file.data.filename or "upload"
    plan = imports.check(kind, data, filename)
    db.session.rollback()  # the dry run only read
    if decision == "check" or plan.problems:
        return render_index(form, 422 if plan.problems else 200, plan)
    return run_change(
        form, lambda: imports.upload(current_user, kind, data, filename),
        success=lambda batch: (f"Batch {batch.id} waits for another network administrator's approval."
                               if batch.content is not None else f"Batch {batch.id} has been imported."),
        redirect_to=lambda batch: url_for("imports.detail", batch_id=batch.id),
        render=lambda status: render_index(form, status))


def get_batch(batch_id: int) -> ImportBatch:
    authz.require(current_user, "import.manage", None)
    return db.get_or_404(ImportBatch, batch_id)


@bp.get("/<int:batch_id>")
@login_required
def detail(batch_id: int):
    """One batch: what it created, who uploaded and approved it, and what may be done to it."""
    batch = get_batch(batch_id)
    return render_template("imports/detail.html", batch=batch, label=imports.LABELS[batch.kind],
                           actions=authz.import_actions(current_user, batch))


def _change(batch_id: int, action: str, change, success: str):
    batch = get_batch(batch_id)
    authz.require(current_user, action, batch)
    if batch.kind.moves_money and (ask := step_up_needed()) is not None:
        return ask
    confirmed()
    back = url_for("imports.detail", batch_id=batch.id)
    return run_change(None, lambda: change(current_user, batch), success=success, redirect_to=back)


@bp.post("/<int:batch_id>/approve")
@login_required
def approve(batch_id: int):
    """A second network administrator approves a money batch (checked again, then committed)."""
    return _change(batch_id, "import.approve", imports.approve, "The batch has been approved and imported.")


@bp.post("/<int:batch_id>/refuse")
@login_required
def refuse(batch_id: int):
    """Set aside a batch waiting for approval."""
    return _change(batch_id, "import.refuse", imports.refuse, "The batch has been set aside; nothing was imported.")


@bp.post("/<int:batch_id>/undo")
@login_required
def undo(batch_id: int):
    """Undo a committed batch: records without money removed, money reversed."""
    return _change(batch_id, "import.undo", imports.undo, "The batch has been undone.")


@bp.get("/templates/<kind>.csv")
@login_required
def template(kind: str) -> Response:
    """A file to fill in: the columns of ``kind`` and one example row."""
    authz.require(current_user, "import.manage", None)
    if kind not in set(ImportKind):
        abort(404)
    columns = imports.COLUMNS[ImportKind(kind)]
    return csv_download(csvfile.stream([c.name for c in columns], [[c.example for c in columns]]),
                        f"import-{kind}.csv")


@bp.get("/columns")
@login_required
def columns():
    """The data dictionary of import files: each kind's columns, whether required, and what they mean."""
    authz.require(current_user, "import.manage", None)
    return render_template("imports/columns.html", columns=imports.COLUMNS, labels=imports.LABELS)
