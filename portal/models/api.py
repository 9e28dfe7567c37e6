"""What the JSON API keeps: personal access tokens and the answers to requests sent with an Idempotency-Key."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.models.base import Base, enum_column, utcnow


class TokenScope(StrEnum):
    READ = "read"
    WRITE = "write"


class ApiToken(Base):
    """A personal access token: a script acts as its owner. The secret is shown once; only its SHA-256 is kept
    (the secret is 256 random bits, so a fast hash is enough: nothing shorter than the whole secret can be
    guessed, and looking it up by its hash takes one indexed query per request)."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # The first characters of the secret after its prefix, so that the owner recognizes a token in the list.
    hint: so.Mapped[str] = so.mapped_column(sa.String(16))
    scope: so.Mapped[TokenScope] = so.mapped_column(enum_column(TokenScope, "token_scope"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    last_used_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]
    # When the owner last proved the second factor before the token was made (verification through the API).
    second_factor_at: so.Mapped[datetime | None]

    user = so.relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} user={self.user_id} {self.scope}>"


class IdempotentRequest(Base):
    """A change sent with an ``Idempotency-Key``: the SHA-256 of its body and the answer it was given, per token.
    The unique key makes a second request with the same key wait for the first and then replay its answer,
    so two at once never both act."""

    __tablename__ = "api_idempotent_requests"
    __table_args__ = (sa.UniqueConstraint("token_id", "key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: so.Mapped[str] = so.mapped_column(sa.String(255))
    request_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    status: so.Mapped[int] = so.mapped_column(sa.SmallInteger, default=0)
    response: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<IdempotentRequest {self.id} token={self.token_id}>"
