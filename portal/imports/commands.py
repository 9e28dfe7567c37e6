"""``flask import KIND FILE`` and ``flask import-batch approve|undo|list``: the import from a terminal."""

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup, with_appcontext

from portal.extensions import db
from portal.models import ImportBatch, ImportKind, User
from portal.services import DomainError, imports
from portal.services.imports import reading

batch_cli = AppGroup("import-batch", help="Import batches: approve a money batch, undo a batch, list them.")


def _admin(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_network_admin or not user.is_active:
        raise click.ClickException(f"{email} is not an active network administrator")
    return user


def _show(plan: imports.Plan) -> None:
    for problem in plan.problems:
        where = ", ".join(part for part in (f"row {problem.row}" if problem.row else "",
                                            f"column {problem.column}" if problem.column else "") if part)
        click.echo(f"  {where or 'file'}: {problem.message}", err=True)


def _run(change, rows: int, label: str):
    """Run ``change(progress)`` under a progress bar; commit, or roll back and stop on a problem."""
    try:
        with click.progressbar(length=max(rows, 1), label=label) as bar:
            result = change(bar.update)
    except imports.ImportProblems as problems:
        db.session.rollback()
        _show(problems.plan)
        raise click.ClickException(f"{len(problems.plan.problems):,} problem(s); nothing was imported") from None
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    return result


@click.command("import")
@click.argument("kind", type=click.Choice([str(k) for k in ImportKind]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "email", required=True, help="The network administrator importing (an email address).")
@click.option("--dry-run", is_flag=True, help="Check the file and say what it would create; write nothing.")
@with_appcontext
def import_command(kind: str, file: Path, email: str, dry_run: bool) -> None:
    """Import KIND records from FILE (CSV or .xlsx), all or nothing; money waits for a second approval."""
    actor = _admin(email)
    try:  # a file too large, or of another type, is refused before it is read
        reading.check_file_name(file.name)
        reading.check_size(file.stat().st_size)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    data = file.read_bytes()
    rows = imports.count_rows(data, file.name)
    if dry_run:
        with click.progressbar(length=max(rows, 1), label="Checking") as bar:
            plan = imports.check(ImportKind(kind), data, file.name, progress=bar.update)
        db.session.rollback()
        if plan.problems:
            _show(plan)
            raise click.ClickException(f"{len(plan.problems):,} problem(s) in {plan.rows:,} row(s)")
        click.echo(f"Dry run: {plan.rows:,} row(s) would create "
                   + ", ".join(f"{n:,} {what}" for what, n in plan.creates.items())
                   + f"; {len(plan.present):,} already in the portal. Nothing was written.")
        return
    batch = _run(lambda progress: imports.upload(actor, ImportKind(kind), data, file.name, progress=progress),
                 rows * 2, "Importing")
    done = ", ".join(f"{n:,} {what}" for what, n in batch.counts.items() if what not in ("rows", "already_present"))
    if batch.status == "awaiting_approval":
        click.echo(f"Batch {batch.id} ({done}) waits for another network administrator: "
                   f"flask import-batch approve {batch.id} --as EMAIL")
    else:
        click.echo(f"Batch {batch.id} imported: {done}; {batch.counts['already_present']:,} already present.")


def _batch(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        raise click.ClickException(f"No import batch {batch_id}")
    return batch


@batch_cli.command("approve")
@click.argument("batch_id", type=int)
@click.option("--as", "email", required=True, help="A network administrator other than the uploader.")
@with_appcontext
def approve_command(batch_id: int, email: str) -> None:
    """Approve a money batch: checked again, then committed whole."""
    actor, batch = _admin(email), _batch(batch_id)
    _run(lambda progress: imports.approve(actor, batch, progress=progress), batch.rows * 2, "Importing")
    click.echo(f"Batch {batch.id} approved and imported.")


@batch_cli.command("undo")
@click.argument("batch_id", type=int)
@click.option("--as", "email", required=True, help="The network administrator undoing it.")
@with_appcontext
def undo_command(batch_id: int, email: str) -> None:
    """Undo a committed batch (money by reversing entries)."""
    actor, batch = _admin(email), _batch(batch_id)
    _run(lambda progress: imports.undo(actor, batch), 1, "Undoing")
    click.echo(f"Batch {batch.id} undone.")


@batch_cli.command("list")
@with_appcontext
def list_command() -> None:
    """The latest import batches."""
    for batch in db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id.desc()).limit(50)):
        click.echo(f"{batch.id:>6}  {batch.kind:<13} {batch.status:<17} {batch.rows:>8,} rows  {batch.filename}")
