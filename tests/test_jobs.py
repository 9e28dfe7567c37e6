"""Background jobs: each daily job run twice does its work once, a failed delivery waits and is tried again, a
commit that queued mail enqueues a delivery after it, and without Redis the worker does it all in-process."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import sqlalchemy as sa
from rq.registry import ScheduledJobRegistry

from portal import jobs
from portal.extensions import db
from portal.models import Membership, MembershipStatus, NoticeKind, OutboxMessage, User
from portal.models.base import utcnow
from portal.services import notifications, outbox
from portal.services.clock import today
from tests.conftest import redis_url
from tests.factories import make_membership
from tests.test_outbox import FakeSMTP


def mail_count(app, subject_like: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))
                                 .where(OutboxMessage.subject.like(subject_like)))


def deliver(app) -> tuple[int, int]:
    """The delivery job, as the worker runs it: in the worker's app."""
    with app.app_context():
        return jobs.deliver_outbox()


def test_each_daily_job_run_twice_does_its_work_once(app, runner, membership_world):
    w = membership_world
    lapsed = make_membership(app, w.organization, w.institute, w.tier, starts_on=today() - timedelta(days=400),
                             ends_on=today() - timedelta(days=1))
    with app.app_context():
        staff = db.session.get(User, w.staff.id)
        notifications.set_preferences(staff, {NoticeKind.MEMBERSHIP: notifications.Delivery.DIGEST})
        notifications.notify([staff], "Something to read", "main.index", notice_kind=NoticeKind.MEMBERSHIP)
        db.session.commit()
    for name in jobs.DAILY:
        for _ in range(2):
            result = runner.invoke(args=["jobs", "run", name])
            assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(Membership, lapsed.id).status == MembershipStatus.LAPSED
    assert mail_count(app, "Your daily digest%") == 1
    assert mail_count(app, "%lapsed%") == 1


def test_a_delivery_that_fails_waits_its_backoff_and_the_message_goes_once(app, monkeypatch):
    FakeSMTP.sent, FakeSMTP.fail = [], True
    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    app.config.update(MAIL_SERVER="smtp.example.org")
    with app.app_context():
        outbox.queue("someone@example.com", "notification", message="Hello", user=None)
        db.session.commit()
    assert deliver(app) == (0, 1)
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage))
        assert message.attempts == 1 and message.sent_at is None
        wait = message.next_attempt_at - utcnow()
        assert timedelta(seconds=25) < wait <= outbox.FIRST_RETRY
    FakeSMTP.fail = False
    assert deliver(app) == (0, 0)  # still waiting: the job does not hurry a failed message
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert deliver(app) == (1, 0)
    assert deliver(app) == (0, 0)
    assert len(FakeSMTP.sent) == 1


def test_without_redis_the_worker_runs_the_outbox_and_the_daily_jobs_in_process(app, runner, membership_world):
    w = membership_world
    lapsed = make_membership(app, w.organization, w.institute, w.tier, starts_on=today() - timedelta(days=400),
                             ends_on=today() - timedelta(days=1))
    app.config.update(DAILY_JOBS_HOUR=0, REDIS_URL=None)
    result = runner.invoke(args=["jobs", "work", "--burst"])
    assert result.exit_code == 0, result.output
    assert "in this process (no REDIS_URL)" in result.output
    with app.app_context():
        assert db.session.get(Membership, lapsed.id).status == MembershipStatus.LAPSED
        unsent = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None)))
    assert unsent == 0 and mail_count(app, "%lapsed%") == 2  # the organization's admin and the institute's, once


def test_the_daily_jobs_are_due_from_the_configured_hour():
    assert jobs.due_daily(datetime(2026, 11, 29, 5, 59, tzinfo=UTC), 6) == []
    assert jobs.due_daily(datetime(2026, 11, 29, 6, 0, tzinfo=UTC), 6) == list(jobs.DAILY)
    assert jobs.due_daily(datetime(2026, 11, 29, 23, 0, tzinfo=UTC), 24) == []  # 24: off


@pytest.fixture
def redis_app(make_app, monkeypatch):
    url = redis_url()
    connection = redis.Redis.from_url(url)
    try:
        connection.ping()
    except redis.RedisError as error:
        pytest.fail(f"REDIS_URL is set but Redis does not answer: {error}")
    monkeypatch.setattr(jobs, "QUEUE", f"test-jobs-{uuid.uuid4().hex}")  # a queue of this test's own
    app = make_app(REDIS_URL=url, JOBS_ENQUEUE=True)
    yield app, connection
    with app.app_context():
        queue = jobs.queue(connection)
        assert queue is not None
        queue.delete(delete_jobs=True)
        ScheduledJobRegistry(queue=queue).cleanup()
    connection.close()


def queued(app, connection) -> int:
    with app.app_context():
        queue = jobs.queue(connection)
        assert queue is not None
        return queue.count


def test_a_commit_that_queued_mail_enqueues_one_delivery_after_it(redis_app):
    app, connection = redis_app
    with app.app_context():
        outbox.queue("someone@example.com", "notification", message="Hello", user=None)
        assert queued(app, connection) == 0  # not before the commit: the row is not there yet
        db.session.commit()
    assert queued(app, connection) == 1
    with app.app_context():
        outbox.queue("other@example.com", "notification", message="Hello", user=None)
        db.session.rollback()
        db.session.commit()
    assert queued(app, connection) == 1  # a rolled-back change enqueues nothing


def test_the_scheduler_enqueues_each_daily_job_once_a_day(redis_app):
    app, connection = redis_app
    with app.app_context():
        assert jobs.enqueue_daily("ledger-remind", "2026-11-29", connection)
        assert not jobs.enqueue_daily("ledger-remind", "2026-11-29", connection)  # a restart, a second scheduler
        assert jobs.enqueue_daily("ledger-remind", "2026-11-30", connection)
        connection.delete(*(f"{app.config['CACHE_KEY_PREFIX']}:jobs:daily:ledger-remind:{day}"
                            for day in ("2026-11-29", "2026-11-30")))
    assert queued(app, connection) == 2


def test_a_failing_job_is_retried_later_with_growing_waits(redis_app, monkeypatch):
    app, connection = redis_app

    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("the database is restarting"))

    monkeypatch.setattr(outbox, "deliver_due", database_down)
    with app.app_context():
        assert jobs.enqueue_outbox(connection)
        queue = jobs.queue(connection)
        assert queue is not None
        [job] = queue.get_jobs()
        started = datetime.now(UTC)
        jobs.work_with_redis(connection, burst=True)
        job.refresh()
        assert job.get_status() == "scheduled" and job.retries_left == len(jobs.RETRY_INTERVALS) - 1
        at = ScheduledJobRegistry(queue=queue).get_scheduled_time(job)
        assert timedelta(seconds=25) < at - started < timedelta(seconds=40)  # the first wait, 30 s
