"""Mail goes through one outbox: SMTP when configured, the log otherwise, retried by a command."""

import logging
import smtplib

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import OutboxMessage
from portal.services import outbox
from tests.factories import make_user


class FakeSMTP:
    """Stands in for smtplib.SMTP and records what would have been sent."""

    sent: list = []
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


def test_without_a_mail_server_mail_is_written_to_the_log(client, app, caplog):
    make_user(app, email="someone@example.com")
    with caplog.at_level(logging.INFO, logger="portal.mail"):
        client.post("/forgot-password", data={"email": "someone@example.com"})
    assert "To: someone@example.com" in caplog.text
    assert "/reset-password/" in caplog.text


def test_with_a_mail_server_mail_is_sent_by_smtp_after_the_commit(client, app, smtp):
    make_user(app, email="someone@example.com")
    client.post("/forgot-password", data={"email": "someone@example.com"})
    [message] = smtp.sent
    assert message["To"] == "someone@example.com"
    assert message["From"] == "Portal <portal@example.org>"
    assert message["Subject"] == "Choose a new password"
    with app.app_context():
        stored = db.session.scalar(sa.select(OutboxMessage))
        assert stored.sent_at is not None and stored.attempts == 1


def test_failed_mail_stays_queued_and_the_command_retries_it(client, app, smtp, runner):
    make_user(app, email="someone@example.com")
    smtp.fail = True
    response = client.post("/forgot-password", data={"email": "someone@example.com"})
    assert response.status_code == 302  # the user is not shown a mail server's trouble
    with app.app_context():
        stored = db.session.scalar(sa.select(OutboxMessage))
        assert stored.sent_at is None and "try later" in stored.last_error
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 1 and "failed 1" in result.output
    smtp.fail = False
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "Sent 1, failed 0" in result.output
    assert len(smtp.sent) == 1
    result = runner.invoke(args=["outbox", "send"])
    assert "Sent 0, failed 0" in result.output  # nothing is sent twice


def test_links_in_mail_from_commands_use_portal_url(app):
    app.config["PORTAL_URL"] = "https://portal.example.org"
    with app.app_context():
        assert outbox.link("auth.login") == "https://portal.example.org/login"
