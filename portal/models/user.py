"""People who sign in."""

import secrets
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from portal.geography import DEFAULT_TIME_ZONE
from portal.models.base import Base, enum_column, utcnow
from portal.models.encryption import EncryptedString

if TYPE_CHECKING:  # for type checkers only: SQLAlchemy resolves these names itself, and importing them would loop
    from portal.models.organization import Affiliation


class Role(StrEnum):
    MEMBER = "member"
    NETWORK_ADMIN = "network_admin"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    full_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    email_verified_at: so.Mapped[datetime | None]
    role: so.Mapped[Role] = so.mapped_column(enum_column(Role, "user_role"), default=Role.MEMBER)
    session_token: so.Mapped[str] = so.mapped_column(
        sa.String(64), unique=True, default=new_session_token
    )
    # Changed each time a reset link is asked for: only the newest link works.
    password_reset_nonce: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    # The authenticator app's shared secret (base32, encrypted at rest), once enrolment is confirmed; the
    # last time step whose code was accepted, so that a code is never accepted twice.
    totp_secret: so.Mapped[str | None] = so.mapped_column(EncryptedString())
    totp_enrolled_at: so.Mapped[datetime | None]
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    # The challenge of the passkey ceremony under way (adding one, or proving one), and when it was made.
    passkey_challenge: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary(64))
    passkey_challenge_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # Times are shown to this person in this zone (one of geography.TIME_ZONES).
    time_zone: so.Mapped[str] = so.mapped_column(sa.String(40), default=DEFAULT_TIME_ZONE,
                                                 server_default=DEFAULT_TIME_ZONE)

    affiliations: so.WriteOnlyMapped["Affiliation"] = so.relationship(
        back_populates="user", foreign_keys="Affiliation.user_id"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    def get_id(self) -> str:
        """Flask-Login keeps this token in the session; rotating it ends every session."""
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_network_admin(self) -> bool:
        return self.role == Role.NETWORK_ADMIN

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enrolled_at is not None

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

