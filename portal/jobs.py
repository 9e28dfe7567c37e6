"""Background jobs: mail delivery from the outbox and the daily upkeep, on RQ (Redis Queue).

With ``REDIS_URL`` set, the scheduler (``flask jobs schedule``) enqueues the jobs on Redis and the worker
(``flask jobs work``) runs them, retrying a failed job after 30 s, 1, 2, 5 and 10 minutes. A change that
queues mail also enqueues a delivery as soon as its transaction commits. Without ``REDIS_URL`` (``make run``)
``flask jobs work`` does the same work in its own process: the outbox every second and each daily job once a
day from the configured hour.

The outbox table stays the source of truth for mail: a delivery job only delivers the rows that are due, and
claims each row before sending it, so two jobs at once, a job that dies, or a job run twice never send a
message twice. Each daily job is safe to run twice (a reminder, a digest or a lapse is recorded once), so the
scheduler may enqueue it again after a restart and a retry may repeat part of it.
"""

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import redis
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from rq import Queue, Retry, SimpleWorker

from portal.extensions import db, redis_client, redis_failed
from portal.services import (
    accounts,
    api_tokens,
    ledger,
    memberships,
    notifications,
    outbox,
    proposals,
    workforce_upkeep,
)

log = logging.getLogger("portal.jobs")

QUEUE = "portal"
# Waits before each retry of a failed job (RQ's Retry): growing, so a mail server or database that is down for
# a while is not hammered; after the last the job stays in RQ's failed registry (`rq info`).
RETRY_INTERVALS = (30, 60, 120, 300, 600)
DAILY_TIMEOUT = 30 * 60   # seconds a daily job may run before the worker stops it (it is retried)
OUTBOX_TIMEOUT = 5 * 60
# After a delivery was enqueued, commits within this many milliseconds enqueue none: the one enqueued looks
# for everything due when it runs (and the scheduler enqueues one every few seconds anyway).
OUTBOX_DEBOUNCE_MS = 500


# The daily upkeep, by name: each returns how many things it did and is safe to run twice the same day.
DAILY: dict[str, Callable[[], int]] = {
    "memberships-expire": lambda: memberships.expire(),
    "memberships-remind": lambda: memberships.remind(),
    "ledger-remind": lambda: ledger.remind(),
    "notifications-digest": lambda: notifications.send_digests(),
    "reviews-remind": lambda: proposals.remind_reviewers(),
    "workforce-remind": lambda: workforce_upkeep.remind(),
    "api-keys-prune": lambda: api_tokens.prune_keys(),
}


def _app() -> Flask:
    """The app to run a job in: the worker's own (``flask jobs work``), or one made for a plain RQ worker."""
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    from portal import create_app  # a worker started without the app (``rq worker``) builds it once
    global _made_app
    if _made_app is None:
        _made_app = create_app()
    return _made_app


_made_app: Flask | None = None


# The jobs (what RQ calls by name) --------------------------------------------------------------------------

def deliver_outbox() -> tuple[int, int]:
    """Answer password-reset requests, then deliver every message that is due; return (sent, failed). A
    message that fails waits its own backoff in the outbox; a database error fails the job, which RQ retries."""
    with _app().app_context():
        try:
            accounts.answer_reset_requests()
            db.session.commit()
            return outbox.deliver_due()
        finally:
            db.session.remove()


def run_daily(name: str) -> int:
    """Run one daily job in a transaction of its own, then deliver the mail it queued."""
    with _app().app_context():
        try:
            count = DAILY[name]()
            db.session.commit()
        finally:
            db.session.remove()
        log.info("daily job %s: %s done", name, count)
        enqueue_outbox()
        return count


# Enqueueing ------------------------------------------------------------------------------------------------

def queue(connection: redis.Redis | None = None) -> Queue | None:
    """The jobs' queue on the app's Redis client (short timeouts: a request never waits on Redis), or None
    without REDIS_URL or while Redis is down."""
    connection = connection or redis_client()
    if connection is None:
        return None
    return Queue(QUEUE, connection=connection, default_timeout=OUTBOX_TIMEOUT)


def retry() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS))


def enqueue_outbox(connection: redis.Redis | None = None) -> bool:
    """Enqueue a delivery of the outbox unless one was enqueued within OUTBOX_DEBOUNCE_MS; True when it was.
    Without Redis nothing happens: the in-process worker looks every second."""
    if connection is None and not current_app.config["JOBS_ENQUEUE"]:
        return False
    jobs = queue(connection)
    if jobs is None:
        return False
    try:
        key = f"{current_app.config['CACHE_KEY_PREFIX']}:jobs:outbox-enqueued"
        if not jobs.connection.set(key, b"1", nx=True, px=OUTBOX_DEBOUNCE_MS):
            return False
        jobs.enqueue(deliver_outbox, retry=retry(), job_timeout=OUTBOX_TIMEOUT, result_ttl=60, failure_ttl=86400)
    except redis.RedisError as error:  # the scheduler enqueues one every few seconds: nothing is lost
        if connection is None:
            redis_failed(error)
        log.warning("could not enqueue a delivery of the outbox: %s", error)
        return False
    return True


def enqueue_daily(name: str, day: str, connection: redis.Redis) -> bool:
    """Enqueue ``name`` for ``day`` (ISO date) once, however many schedulers or restarts ask: the first to
    set the day's key enqueues it. True when this call enqueued it."""
    key = f"{current_app.config['CACHE_KEY_PREFIX']}:jobs:daily:{name}:{day}"
    if not connection.set(key, b"1", nx=True, ex=3 * 86400):
        return False
    jobs = queue(connection)
    assert jobs is not None
    jobs.enqueue(run_daily, name, retry=retry(), job_timeout=DAILY_TIMEOUT, result_ttl=86400, failure_ttl=7 * 86400,
                 job_id=f"daily-{name}-{day}")
    return True


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _enqueue_after_commit(session) -> None:
    """Enqueue a delivery after each commit that queued mail (``outbox.queue`` marks the session): after the
    commit, so the worker never looks before the rows are there, and never for a transaction rolled back."""
    if session.info.pop(outbox.QUEUED_MAIL, False) and has_app_context() and current_app.config.get("REDIS_URL"):
        enqueue_outbox()


@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _forget_queued_mail(session) -> None:
    session.info.pop(outbox.QUEUED_MAIL, None)


# The scheduler and the worker ------------------------------------------------------------------------------

def due_daily(now: datetime, hour: int) -> list[str]:
    """The daily jobs due at ``now`` (UTC): all of them from ``hour`` on, none before."""
    return list(DAILY) if now.hour >= hour else []


def worker_connection() -> redis.Redis:
    """A connection for the worker and the scheduler: they block on Redis, so no short read timeout."""
    return redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=5,
                                health_check_interval=30)


def schedule(stop: threading.Event, every: float, hour: int, connection: redis.Redis) -> None:
    """Enqueue a delivery of the outbox every ``every`` seconds and each daily job once a day from ``hour``
    (UTC) until ``stop`` is set. A scheduler started after the hour enqueues that day's jobs at once."""
    while not stop.is_set():
        try:
            now = datetime.now(UTC)
            for name in due_daily(now, hour):
                if enqueue_daily(name, now.date().isoformat(), connection):
                    log.info("enqueued the daily job %s for %s", name, now.date())
            enqueue_outbox(connection)
        except redis.RedisError as error:
            log.warning("scheduler: Redis is not answering (%s); trying again", error)
        stop.wait(every)


def work_with_redis(connection: redis.Redis, burst: bool = False) -> None:
    """RQ's SimpleWorker (jobs run in this process, which keeps the app and its connection pool; a job that
    runs past its timeout is stopped by SIGALRM), with RQ's scheduler for the retries' waits."""
    worker = SimpleWorker([Queue(QUEUE, connection=connection)], connection=connection,
                          name=f"portal-{os.uname().nodename}-{os.getpid()}")
    worker.work(with_scheduler=True, burst=burst, logging_level="WARNING")


def work_in_process(stop: threading.Event, interval: float, hour: int, once: bool = False) -> None:
    """Without Redis: deliver the outbox every ``interval`` seconds and run each daily job once a day from
    ``hour`` (UTC), in this process, until ``stop`` is set."""
    done: set[tuple[str, str]] = set()
    while not stop.is_set():
        now = datetime.now(UTC)
        for name in due_daily(now, hour):
            if (name, now.date().isoformat()) not in done:
                done.add((name, now.date().isoformat()))
                _in_process(lambda name=name: run_daily(name), f"daily job {name}")
        sent = _in_process(deliver_outbox, "outbox delivery")
        if once:
            return
        if not sent or sent == (0, 0):
            stop.wait(interval)


def _in_process(job: Callable, what: str):
    """Run a job here; a failure is logged and tried again on the next turn (the loop is the retry)."""
    started = time.monotonic()
    try:
        return job()
    except Exception:
        log.exception("%s failed after %.1f s; it runs again on the next turn", what, time.monotonic() - started)
        return None
