"""Mail waiting to be delivered, written in the same transaction as the change it reports, and requests for a
password reset link waiting for the worker to answer them."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    to_address: so.Mapped[str] = so.mapped_column(sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(index=True)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # when the worker may try next: after a failure (backing off), or while a worker is sending it
    next_attempt_at: so.Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} to={self.to_address}>"


class PasswordResetRequest(Base):
    """Someone asked for a link to choose a new password for ``email``: whether an account has that address is
    found out by the outbox worker, never by the request (see ``accounts.request_password_reset``)."""

    __tablename__ = "password_reset_requests"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    requested_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<PasswordResetRequest {self.id}>"
