"""Mail goes through one outbox: requests queue it, the worker delivers it (SMTP when configured, the log
otherwise) and retries failures with growing waits."""

import logging
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import OutboxMessage
from portal.models.base import utcnow
from portal.services import outbox
from tests.conftest import PASSWORD
from tests.factories import make_user


class FakeSMTP:
    """Stands in for smtplib.SMTP and records what would have been sent."""

    sent: ClassVar[list] = []
    fail = False

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def __enter__(self):
        if FakeSMTP.fail:
            raise smtplib.SMTPConnectError(421, "try later")
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, username, password):
        pass

    def send_message(self, message):
        FakeSMTP.sent.append(message)


@pytest.fixture
def smtp(monkeypatch, app):
    FakeSMTP.sent, FakeSMTP.fail = [], False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(MAIL_SERVER="smtp.example.org", MAIL_SENDER="Portal <portal@example.org>")
    return FakeSMTP


def test_without_a_mail_server_the_worker_writes_mail_to_the_log(client, app, runner, caplog):
    make_user(app, email="someone@example.com")
    with caplog.at_level(logging.INFO, logger="portal.mail"):
        client.post("/forgot-password", data={"email": "someone@example.com"})
        assert "To: someone@example.com" not in caplog.text  # the request only queued it
        result = runner.invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0 and "sent 1, failed 0" in result.output
    assert "To: someone@example.com" in caplog.text
    assert "/reset-password/" in caplog.text


def test_with_a_mail_server_the_worker_sends_by_smtp(client, app, smtp, runner):
    make_user(app, email="someone@example.com")
    client.post("/forgot-password", data={"email": "someone@example.com"})
    assert smtp.sent == []
    runner.invoke(args=["outbox", "work", "--once"])
    [message] = smtp.sent
    assert message["To"] == "someone@example.com"
    assert message["From"] == "Portal <portal@example.org>"
    assert message["Subject"] == "Choose a new password"
    with app.app_context():
        stored = db.session.scalar(sa.select(OutboxMessage))
        assert stored.sent_at is not None and stored.attempts == 1 and stored.next_attempt_at is None
    runner.invoke(args=["outbox", "work", "--once"])
    assert len(smtp.sent) == 1  # nothing is sent twice


def test_a_request_never_talks_to_the_mail_server(client, app):
    """The mail server is a real socket here: the request queues the mail and opens no connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=listener.getsockname()[1], MAIL_USE_TLS=False)
    make_user(app, email="someone@example.com")
    try:
        assert client.post("/forgot-password", data={"email": "someone@example.com"}).status_code == 302
        assert client.post("/register", data={
            "full_name": "Ada Lovelace", "email": "ada@acme.example", "password": PASSWORD,
            "organization": "Acme Additive LLC", "sector": "industry", "size": "small",
            "state": "OH"}).status_code == 302
        with pytest.raises(BlockingIOError):
            listener.accept()  # no connection was attempted
    finally:
        listener.close()
    with app.app_context():
        queued = list(db.session.scalars(sa.select(OutboxMessage)))
    assert len(queued) == 2 and all(m.sent_at is None and m.attempts == 0 for m in queued)


def test_a_failed_message_is_retried_later_with_growing_waits(client, app, smtp, runner):
    make_user(app, email="someone@example.com")
    response = client.post("/forgot-password", data={"email": "someone@example.com"})
    assert response.status_code == 302
    smtp.fail = True
    waits = []
    for attempt in (1, 2, 3):
        started = utcnow()
        result = runner.invoke(args=["outbox", "work", "--once"])
        assert "sent 0, failed 1" in result.output
        with app.app_context():
            stored = db.session.scalar(sa.select(OutboxMessage))
            assert stored.sent_at is None and stored.attempts == attempt and "try later" in stored.last_error
            waits.append(stored.next_attempt_at - started)
        # not due yet: the worker leaves it alone
        assert "sent 0, failed 0" in runner.invoke(args=["outbox", "work", "--once"]).output
        with app.app_context():  # time passes
            db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()
    assert [round(wait.total_seconds() / 30) for wait in waits] == [1, 2, 4]
    assert outbox.backoff(20) == outbox.LAST_RETRY
    smtp.fail = False
    assert "sent 1, failed 0" in runner.invoke(args=["outbox", "work", "--once"]).output
    assert len(smtp.sent) == 1


def test_the_send_command_retries_at_once(client, app, smtp, runner):
    make_user(app, email="someone@example.com")
    client.post("/forgot-password", data={"email": "someone@example.com"})
    smtp.fail = True
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 1 and "failed 1" in result.output
    smtp.fail = False
    result = runner.invoke(args=["outbox", "send"])  # without waiting out the backoff
    assert result.exit_code == 0 and "Sent 1, failed 0" in result.output
    assert len(smtp.sent) == 1
    result = runner.invoke(args=["outbox", "send"])
    assert "Sent 0, failed 0" in result.output  # nothing is sent twice


def test_two_workers_never_send_one_message_twice(make_app, tmp_path, monkeypatch):
    FakeSMTP.sent, FakeSMTP.fail = [], False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    database = tmp_path / "portal.db" if not os.environ.get("DATABASE_URL") else None
    app = make_app(**({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"} if database else {}),
                   MAIL_SERVER="smtp.example.org")
    with app.app_context():
        for number in range(20):
            db.session.add(OutboxMessage(to_address=f"p{number}@example.com", subject="s", body="b"))
        db.session.commit()

    def work():
        with app.app_context():
            outbox.deliver_due()
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(message["To"] for message in FakeSMTP.sent) == sorted(f"p{n}@example.com" for n in range(20))


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_stops_cleanly_when_told(make_app, tmp_path, stop_with):
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    make_app(SQLALCHEMY_DATABASE_URI=url)
    environment = {**os.environ, "PORTAL_ENV": "testing", "DATABASE_URL": url}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "work", "--interval", "0.1"],
                              cwd=Path(__file__).parent.parent, env=environment, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        assert worker.stdout.readline().startswith("Delivering mail from the outbox")  # started and waiting
        time.sleep(0.3)
        worker.send_signal(stop_with)
        output, _ = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, output
    assert "Outbox worker stopped: sent 0, failed 0." in output


def test_links_in_mail_from_commands_use_portal_url(app):
    app.config["PORTAL_URL"] = "https://portal.example.org"
    with app.app_context():
        assert outbox.link("auth.login") == "https://portal.example.org/login"
