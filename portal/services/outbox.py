"""The one way mail leaves the portal.

Messages are queued in the same transaction as the change they report; a request never talks to a
mail server. The worker (``flask outbox work``) delivers them: by SMTP when MAIL_SERVER is set,
otherwise written to the log so that a local user can still follow the links. A message that fails
is tried again later, waiting twice as long after each failure (``backoff``). ``flask outbox send``
delivers everything unsent in one pass.
"""

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template, url_for

from portal.extensions import db
from portal.models import OutboxMessage
from portal.models.base import utcnow
from portal.services import updated_rows

log = logging.getLogger("portal.mail")

FIRST_RETRY = timedelta(seconds=30)  # after the first failure; doubled after each one after that
LAST_RETRY = timedelta(hours=1)      # the longest wait between two tries
SENDING = timedelta(minutes=5)       # a worker that claimed a message and died: another tries after this
# Set on the session by queue(); after the commit, portal/jobs.py enqueues a delivery (with Redis).
QUEUED_MAIL = "portal_queued_mail"


def link(endpoint: str, **values) -> str:
    """An absolute URL for a mail: from the request, or from PORTAL_URL in commands."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = urlsplit(current_app.config["PORTAL_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def queue(to_address: str, template: str, **context) -> OutboxMessage:
    """Render ``email/<template>.txt`` (first line is the subject) and queue it."""
    text = render_template(f"email/{template}.txt", **context)
    subject, _, body = text.partition("\n")
    message = OutboxMessage(to_address=to_address, subject=subject.strip(), body=body.strip() + "\n")
    db.session.add(message)
    db.session.flush()
    db.session.info[QUEUED_MAIL] = True
    return message


def deliver() -> tuple[int, int]:
    """One pass over every unsent message, failed ones too without waiting out their backoff (the
    operator's retry, ``flask outbox send``); return (sent, failed)."""
    db.session.execute(sa.update(OutboxMessage)
                       .where(OutboxMessage.sent_at.is_(None), OutboxMessage.last_error.is_not(None))
                       .values(next_attempt_at=None).execution_options(synchronize_session=False))
    db.session.commit()
    return deliver_due()


def backoff(attempts: int) -> timedelta:
    """How long to wait before trying a message again after its ``attempts``-th failed try."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def _due(now):
    return sa.and_(OutboxMessage.sent_at.is_(None),
                   sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))


def claim_next() -> OutboxMessage | None:
    """Claim the oldest message that is due and commit the claim, so that no other worker sends it
    meanwhile (and no lock is held while the mail server answers); None when nothing is due."""
    now = utcnow()
    message_id = db.session.scalar(sa.select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(1))
    if message_id is None:
        db.session.rollback()
        return None
    claimed = updated_rows(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id, _due(now))
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + SENDING)
        .execution_options(synchronize_session=False))
    db.session.commit()
    if not claimed:  # another worker took it first: look again
        return claim_next()
    return db.session.get(OutboxMessage, message_id)


def deliver_due(should_stop=lambda: False) -> tuple[int, int]:
    """Deliver every message that is due, one at a time; return (sent, failed). A failed message waits
    ``backoff(attempts)`` before it is due again."""
    sent = failed = 0
    while not should_stop() and (message := claim_next()) is not None:
        try:
            _send(message)
        except (OSError, smtplib.SMTPException) as exc:
            message.last_error = str(exc)[:500]
            message.next_attempt_at = utcnow() + backoff(message.attempts)
            failed += 1
            log.warning("mail %s to %s not sent (try %s; next in %s): %s", message.id, message.to_address,
                        message.attempts, backoff(message.attempts), exc)
        else:
            message.sent_at = utcnow()
            message.last_error = message.next_attempt_at = None
            sent += 1
        db.session.commit()
    return sent, failed


def _send(message: OutboxMessage) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        log.info(
            "mail (no MAIL_SERVER set, so written here)\nTo: %s\nSubject: %s\n\n%s",
            message.to_address, message.subject, message.body,
        )
        return
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)
