"""The one way mail leaves the portal.

Messages are queued in the same transaction as the change they report and delivered after the
commit: by SMTP when MAIL_SERVER is set, otherwise written to the log so that a local user can
still follow the links. ``flask outbox send`` retries anything left undelivered.
"""

import logging
import smtplib
from email.message import EmailMessage

import sqlalchemy as sa
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, render_template, url_for

from portal.extensions import db
from portal.models import OutboxMessage
from portal.models.base import utcnow

log = logging.getLogger("portal.mail")


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
    g.setdefault("queued_mail", []).append(message.id)
    return message


def deliver(ids: list[int] | None = None) -> tuple[int, int]:
    """Send queued messages (all unsent ones when ``ids`` is None); return (sent, failed)."""
    query = sa.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    sent = failed = 0
    for message in db.session.scalars(query.order_by(OutboxMessage.id)):
        message.attempts += 1
        try:
            _send(message)
        except (OSError, smtplib.SMTPException) as exc:
            message.last_error = str(exc)[:500]
            failed += 1
            log.warning("mail %s to %s not sent: %s", message.id, message.to_address, exc)
        else:
            message.sent_at = utcnow()
            message.last_error = None
            sent += 1
    db.session.commit()
    return sent, failed


def deliver_queued_after_request(response):
    """After a request that queued mail (and committed), deliver just that mail."""
    ids = g.pop("queued_mail", None)
    if ids and response.status_code < 400:
        deliver(ids)
    return response


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
