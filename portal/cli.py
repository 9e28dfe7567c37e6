"""Operator commands: ``flask seed``, ``flask create-admin``, ``flask outbox work``, ..."""

import json
import logging
import os
import signal
import threading
import time
from importlib import resources

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from portal import jobs
from portal.extensions import db
from portal.imports.commands import batch_cli, import_command
from portal.models import AuditEvent
from portal.services import (
    DomainError,
    accounts,
    audit,
    demo,
    institutes,
    ledger,
    memberships,
    mfa,
    notifications,
    outbox,
    proposals,
    summary,
    synthetic,
    workforce_upkeep,
)
from portal.services.parsing import format_cents

outbox_cli = AppGroup("outbox", help="Mail waiting to be delivered.")
memberships_cli = AppGroup("memberships", help="Membership upkeep, for a daily scheduler.")
ledger_cli = AppGroup("ledger", help="Co-investment ledger checks and reminders.")
workforce_cli = AppGroup("workforce", help="Workforce programs: reminders, for a daily scheduler.")
reviews_cli = AppGroup("reviews", help="Proposal reviews: reminders of due dates, for a daily scheduler.")
jobs_cli = AppGroup("jobs", help="Background jobs: the worker and the scheduler (RQ on Redis, or in-process).")
accounts_cli = AppGroup("accounts", help="Accounts: disable or enable one (audited).")


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the 18 institutes of the network; running it again changes nothing."""
    counts = institutes.seed(institutes.seed_records())
    tiers = memberships.seed_tiers(json.loads(
        resources.files("portal").joinpath("data/tiers.json").read_text("utf-8")))
    db.session.commit()
    click.echo("Institutes: {created} created, {updated} updated, {unchanged} unchanged.".format(**counts))
    click.echo(f"Membership tiers: {tiers} created.")


@click.command("create-admin")
@with_appcontext
@click.argument("email")
@click.option("--name", default="Network administrator", help="Full name for a new account.")
def create_admin_command(email: str, name: str) -> None:
    """Make EMAIL a network administrator (password from ADMIN_PASSWORD or a prompt)."""
    existing = accounts.find_by_email(email)
    password = ""
    if existing is None:
        password = os.environ.get("ADMIN_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
    try:
        user = accounts.create_network_admin(email, password, full_name=name)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"{user.email} is a network administrator.")


@click.command("demo")
@click.option("--scale", type=click.Choice(sorted(synthetic.SCALES)), default=None,
              help="Instead of the small hand-made demo, a synthetic network of this size.")
@click.option("--seed", default=2026, show_default=True, help="The same seed makes the same network.")
@click.option("--force", is_flag=True, help="Run even though the database holds real (non-demo) data.")
@with_appcontext
def demo_command(scale: str | None, seed: int, force: bool) -> None:
    """Add demonstration data (after `flask seed`): a hand-made demo, or a synthetic network with --scale."""
    if synthetic.has_real_data() and not force:
        raise click.ClickException("This database holds real accounts; the demo would mix made-up data into "
                                   "them. Use a fresh database, or --force if you really mean it.")
    if scale is not None:
        started = time.perf_counter()
        with click.progressbar(length=synthetic.total_rows(scale), label=f"Writing the {scale} network") as bar:
            counts = synthetic.load(scale, seed=seed, progress=bar.update)
        db.session.commit()
        if not counts:
            click.echo(f"The synthetic network with seed {seed} is already loaded.")
            return
        click.echo(", ".join(f"{value:,} {name.replace('_', ' ')}" for name, value in counts.items())
                   + f" in {time.perf_counter() - started:.1f} s.")
        click.echo(f"Sign in with the password {synthetic.password(seed)!r} as:")
        for role, email in synthetic.sign_in_accounts(seed):
            click.echo(f"  {role}: {email}")
        click.echo(f"Administrators' authenticator setup key (time-based): {synthetic.totp_secret(seed)}")
        return
    password = os.environ.get("DEMO_PASSWORD") or "demonstration only 2026"
    result = demo.load(password)
    db.session.commit()
    if not result["created"]:
        click.echo("The demo network is already loaded.")
        return
    click.echo(f"Demo loaded: {result['organizations']} organizations, {result['pledges']} pledges, "
               f"{result['entries']} ledger entries, {result['programs']} workforce programs with "
               f"{result['signups']} sign-ups and {result['credentials']} credentials. "
               f"Sign in as network@{demo.DEMO_DOMAIN}, receipts@, checks@, admin1@ to admin3@ or "
               f"participant1@ with the password {password!r}.")


def answer_reset_requests() -> None:
    """Turn the waiting password-reset requests into mail (for the addresses that have an account)."""
    accounts.answer_reset_requests()
    db.session.commit()


@outbox_cli.command("send")
def outbox_send_command() -> None:
    """Answer the waiting password-reset requests, then deliver every message that has not been sent yet."""
    answer_reset_requests()
    sent, failed = outbox.deliver()
    click.echo(f"Sent {sent}, failed {failed}.")
    if failed:
        raise SystemExit(1)


@outbox_cli.command("work")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks when nothing is due.")
@click.option("--once", is_flag=True, help="Deliver what is due now, then stop.")
@click.option("--for-seconds", type=float, default=None, help="Stop after about this many seconds.")
def outbox_work_command(interval: float, once: bool, for_seconds: float | None) -> None:
    """Deliver mail as it is queued (answering password-reset requests first), retrying failures with growing
    waits, until stopped (SIGTERM or Ctrl-C finish the message in hand, then stop)."""
    stop = threading.Event()
    handled = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in handled}
    deadline = None if for_seconds is None else time.monotonic() + for_seconds
    server = current_app.config.get("MAIL_SERVER")
    click.echo(f"Delivering mail from the outbox{' once' if once else ''} (pid {os.getpid()}): "
               + (f"SMTP to {server}." if server else "no MAIL_SERVER set, so each message is written here."))
    sent = failed = 0
    try:
        while not stop.is_set():
            try:
                answer_reset_requests()
                done = outbox.deliver_due(should_stop=stop.is_set)
            except SQLAlchemyError:  # the database went away for a moment: keep going
                db.session.rollback()
                logging.getLogger("portal.mail").exception("outbox worker: the database did not answer")
                done = (0, 0)
            sent, failed = sent + done[0], failed + done[1]
            if once or (deadline is not None and time.monotonic() >= deadline):
                break
            if done == (0, 0):
                stop.wait(interval)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        db.session.remove()
    click.echo(f"Outbox worker stopped: sent {sent}, failed {failed}.")


@memberships_cli.command("expire")
def memberships_expire_command() -> None:
    """Record as lapsed every active membership whose end date has passed."""
    count = memberships.expire()
    db.session.commit()
    click.echo(f"{count} membership(s) recorded as lapsed.")


@memberships_cli.command("remind")
def memberships_remind_command() -> None:
    """Notify organizations and institute staff of memberships ending within 30 days."""
    count = memberships.remind()
    db.session.commit()
    outbox.deliver()
    click.echo(f"{count} reminder(s) sent.")


def read_one_moment() -> None:
    """Begin the session's transaction as one snapshot of the database, so that every query after sees
    the same moment and a change committed meanwhile cannot look like a difference: REPEATABLE READ on
    PostgreSQL; on SQLite a deferred transaction, which in WAL reads one snapshot and locks out no one."""
    if db.engine.dialect.name == "sqlite":
        db.session.connection(execution_options={"sqlite_begin": "DEFERRED"})
    else:
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


@ledger_cli.command("verify")
def ledger_verify_command() -> None:
    """Recompute every balance from the ledger entries, and every snapshot figure from the tables;
    exit 1 with a report on any difference. Safe while people write: it reads one moment."""
    read_one_moment()
    problems = ledger.reconcile()
    if problems:
        click.echo(f"{len(problems)} difference(s) between the ledger and the stored balances:")
        for problem in problems:
            click.echo(f"  - {problem}")
    figures = summary.problems()
    if figures:
        click.echo(f"{len(figures)} difference(s) between the snapshot's summary figures and a recount "
                   "(`flask ledger recount` replaces them with the recount):")
        for problem in figures:
            click.echo(f"  - {problem}")
    if problems or figures:
        raise SystemExit(1)
    totals = ledger.network_totals()
    click.echo("The ledger and every stored balance agree: "
               f"{format_cents(totals.pledged_cents)} pledged, {format_cents(totals.received_cents)} received, "
               f"{format_cents(totals.verified_cents)} verified, {format_cents(totals.cancelled_cents)} cancelled.")
    click.echo("The snapshot's summary figures agree with a recount from the tables.")


@ledger_cli.command("recount")
def ledger_recount_command() -> None:
    """Replace the snapshot's summary figures with a recount from the tables (after a repair by hand)."""
    rows = summary.rebuild()
    # a change like any other: it goes to the audit log, and moves the snapshot's version
    db.session.add(AuditEvent(action="summary.recounted", subject_type="summary_figures", subject_id=None,
                              details={"rows": rows}))
    db.session.commit()
    click.echo(f"{rows} summary figure(s) recounted.")


@ledger_cli.command("remind")
def ledger_remind_command() -> None:
    """Notify organizations of installments falling due within 30 days (once each)."""
    count = ledger.remind()
    db.session.commit()
    outbox.deliver()
    click.echo(f"{count} reminder(s) sent.")


audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def audit_verify_command() -> None:
    """Check the audit log's hash chain from the first event; exit 1 and name the first break."""
    read_one_moment()
    report = audit.verify_chain()
    if report.problem:
        click.echo(f"The audit log's chain is broken after {report.checked} good event(s): {report.problem}.")
        raise SystemExit(1)
    click.echo(f"The audit log's chain holds: {report.checked} event(s), head {report.head}.")


mfa_cli = AppGroup("mfa", help="Second factors.")


@mfa_cli.command("rekey")
def mfa_rekey_command() -> None:
    """Encrypt the authenticator secrets again under the first key of MFA_ENCRYPTION_KEY (key rotation:
    put the new key first, keep the old one after it, run this, then drop the old key)."""
    count = mfa.rekey()
    db.session.commit()
    click.echo(f"{count} secret(s) encrypted under the first key.")


@workforce_cli.command("remind")
def workforce_remind_command() -> None:
    """Remind everyone with a place of sessions starting within two days (once per session)."""
    count = workforce_upkeep.remind()
    db.session.commit()
    outbox.deliver()
    click.echo(f"{count} reminder(s) sent.")


notifications_cli = AppGroup("notifications", help="Notifications: the daily digest.")


@notifications_cli.command("digest")
def notifications_digest_command() -> None:
    """Send each person who chose a daily digest one mail listing what waited (once a day: running it again
    the same day sends nothing more). Run it daily from cron; the outbox worker delivers the mail."""
    count = notifications.send_digests()
    db.session.commit()
    click.echo(f"{count} digest(s) queued.")


@reviews_cli.command("remind")
def reviews_remind_command() -> None:
    """Remind reviewers of reviews due within three days, and once more of overdue ones (once each)."""
    count = proposals.remind_reviewers()
    db.session.commit()
    outbox.deliver()
    click.echo(f"{count} reminder(s) sent.")


def _stop_on_signals() -> tuple[threading.Event, dict]:
    stop = threading.Event()
    handled = (signal.SIGTERM, signal.SIGINT)
    return stop, {number: signal.signal(number, lambda *_: stop.set()) for number in handled}


@jobs_cli.command("work")
@click.option("--burst", is_flag=True, help="Run what is queued (or due, without Redis) once, then stop.")
@click.option("--interval", default=1.0, show_default=True,
              help="Without Redis: seconds between looks at the outbox when nothing is due.")
def jobs_work_command(burst: bool, interval: float) -> None:
    """The worker: with REDIS_URL, runs the jobs on the queue (RQ), retrying failures with growing waits;
    without it, delivers the outbox every second and runs each daily job once a day in this process.
    SIGTERM or Ctrl-C finish the job in hand, then stop."""
    config = current_app.config
    if config.get("REDIS_URL"):
        click.echo(f"Job worker (pid {os.getpid()}) on the queue {jobs.QUEUE!r} at {config['REDIS_URL']}.")
        jobs.work_with_redis(jobs.worker_connection(), burst=burst)
        return
    server = config.get("MAIL_SERVER")
    click.echo(f"Job worker (pid {os.getpid()}), in this process (no REDIS_URL): the outbox every {interval:g} s, "
               f"daily jobs from {config['DAILY_JOBS_HOUR']}:00 UTC; mail "
               + (f"by SMTP to {server}." if server else "written here (no MAIL_SERVER set)."))
    stop, previous = _stop_on_signals()
    try:
        jobs.work_in_process(stop, interval, config["DAILY_JOBS_HOUR"], once=burst)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    click.echo("Job worker stopped.")


@jobs_cli.command("schedule")
@click.option("--every", default=5.0, show_default=True, help="Seconds between two deliveries of the outbox.")
def jobs_schedule_command(every: float) -> None:
    """The scheduler (needs REDIS_URL): enqueues a delivery of the outbox every few seconds and each daily job
    once a day from DAILY_JOBS_HOUR (UTC); one per day whatever restarts or other schedulers do."""
    config = current_app.config
    if not config.get("REDIS_URL"):
        raise click.ClickException("The scheduler needs REDIS_URL; without Redis, `flask jobs work` runs the "
                                   "daily jobs itself.")
    click.echo(f"Job scheduler (pid {os.getpid()}): the outbox every {every:g} s, daily jobs "
               f"({', '.join(jobs.DAILY)}) from {config['DAILY_JOBS_HOUR']}:00 UTC.")
    stop, previous = _stop_on_signals()
    try:
        jobs.schedule(stop, every, config["DAILY_JOBS_HOUR"], jobs.worker_connection())
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    click.echo("Job scheduler stopped.")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice([*jobs.DAILY, "outbox"]))
def jobs_run_command(name: str) -> None:
    """Run one job now in this process (a daily job by name, or `outbox`), as the worker would."""
    if name == "outbox":
        sent, failed = jobs.deliver_outbox()
        click.echo(f"Sent {sent}, failed {failed}.")
        return
    click.echo(f"{name}: {jobs.run_daily(name)} done.")


def _account_change(email: str, change, done: str) -> None:
    user = accounts.find_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the address {email}.")
    try:
        change(user)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"The account of {user.email} {done}.")


@accounts_cli.command("disable")
@click.argument("email")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
def accounts_disable_command(email: str, reason: str) -> None:
    """Disable EMAIL's account: its sessions end and it cannot sign in until enabled."""
    _account_change(email, lambda user: accounts.disable(None, user, reason=reason),
                    "is disabled; its sessions have ended")


@accounts_cli.command("enable")
@click.argument("email")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
def accounts_enable_command(email: str, reason: str) -> None:
    """Enable EMAIL's disabled account again."""
    _account_change(email, lambda user: accounts.enable(None, user, reason=reason), "is enabled again")


def init_app(app: Flask) -> None:
    app.cli.add_command(accounts_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(reviews_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(seed_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(memberships_cli)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(workforce_cli)
    app.cli.add_command(import_command)
    app.cli.add_command(batch_cli)
    app.cli.add_command(mfa_cli)
