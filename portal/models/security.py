"""What keeps an account safe: its signed-in sessions, its second factor and its recovery codes."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, utcnow
from portal.models.encryption import EncryptedString


class UserSession(Base):
    """One signed-in browser. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    ip_address: so.Mapped[str] = so.mapped_column(sa.String(45), default="")
    # When this session last proved the second factor (None: never); step-up asks for a recent one.
    second_factor_at: so.Mapped[datetime | None]
    # The secret an authenticator app is being set up with, until its first code proves it (encrypted).
    pending_totp_secret: so.Mapped[str | None] = so.mapped_column(EncryptedString())

    def __repr__(self) -> str:
        return f"<UserSession {self.id} user={self.user_id}>"


class RecoveryCode(Base):
    """A one-time code for signing in without the authenticator; only its argon2id hash is stored.

    ``legacy`` codes were made before 80-bit codes: 12 hexadecimal digits, stored then as SHA-256, whose
    hashes were wrapped in argon2id (the code itself was never known); they work until used or renewed."""

    __tablename__ = "recovery_codes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    legacy: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    used_at: so.Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} user={self.user_id}>"


class PasskeyCredential(Base):
    """A passkey or security key (WebAuthn) registered as a second factor: its credential ID and public key
    (nothing secret), and the signature counter it last reported."""

    __tablename__ = "passkey_credentials"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary(1023), unique=True)
    public_key: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary(2048))
    sign_count: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_used_at: so.Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<PasskeyCredential {self.id} user={self.user_id}>"
