"""The second factor: an authenticator app (TOTP, RFC 6238) with one-time recovery codes.

Institute and network administrators must have one before any staff page opens; everyone else may.
A code is accepted once: the last accepted time step is kept. Recovery codes are stored as SHA-256
(they are long and random, so a slow hash adds nothing) and each works once.
"""

import hashlib
import hmac
import secrets

import pyotp
import sqlalchemy as sa

from portal.extensions import db
from portal.models import InstituteStaff, RecoveryCode, User
from portal.models.base import utcnow
from portal.services import DomainError, audit, outbox, sessions

ISSUER = "Manufacturing Innovation Network"
RECOVERY_CODES = 10
WRONG_CODE = "That code is not right. Enter the 6 digits your authenticator app shows now, or a recovery code."


def must_use(user: User) -> bool:
    """Whether ``user`` moves money or decides for an institute, and so must have a second factor."""
    if user.is_network_admin:
        return True
    return db.session.scalar(sa.select(sa.exists().where(InstituteStaff.user_id == user.id))) or False


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads (from a QR code, or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def _hash_code(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _accept_totp(user: User, secret: str, code: str) -> bool:
    """Whether ``code`` is the code of this step or either next to it, and newer than the last accepted."""
    code = _normalize(code)
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and step > (user.totp_last_step or -1):
            user.totp_last_step = step
            return True
    return False


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_code(code)) for code in codes)
    return codes


def enrol(user: User, secret: str, code: str) -> list[str]:
    """Turn on the authenticator app whose ``secret`` ``code`` proves; return the new recovery codes."""
    if user.has_second_factor:
        raise DomainError(None, "Your account already has an authenticator app.")
    if not _accept_totp(user, secret, code):
        raise DomainError("code", "That code is not right. Enter the 6 digits the app shows now.")
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()
    audit.record(user, "user.second_factor_enrolled", user, to_state="totp")
    return _new_recovery_codes(user)


def check(user: User, code: str) -> str:
    """Accept an authenticator code or an unused recovery code of ``user``; return which ("totp" or
    "recovery code"), or raise DomainError on the field ``code``."""
    if user.totp_secret is None:
        raise DomainError("code", "Your account has no second factor.")
    if _accept_totp(user, user.totp_secret, code):
        return "totp"
    recovery = db.session.scalar(sa.select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_code(code),
        RecoveryCode.used_at.is_(None)).with_for_update())
    if recovery is None:
        raise DomainError("code", WRONG_CODE)
    recovery.used_at = utcnow()
    audit.record(user, "user.recovery_code_used", user)
    return "recovery code"


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def renew_recovery_codes(user: User) -> list[str]:
    """New recovery codes for ``user``; the old ones stop working."""
    audit.record(user, "user.recovery_codes_renewed", user)
    return _new_recovery_codes(user)


def reset(actor: User, user: User, *, reason: str) -> None:
    """A network administrator takes away ``user``'s second factor (a lost device): audited, the owner is
    told by mail, and every session of the account ends, so the next sign-in enrols again."""
    if not actor.is_network_admin:
        raise DomainError(None, "Only a network administrator may reset a second factor.", status=403)
    if actor.id == user.id:
        raise DomainError(None, "Another network administrator must reset your own second factor.")
    if not user.has_second_factor:
        raise DomainError(None, f"{user.email} has no second factor to reset.")
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError("reason", "Say why (how the owner asked, and how you checked it was them)")
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    sessions.end_all(user)
    audit.record(actor, "user.second_factor_reset", user, from_state="totp", to_state="none", reason=reason[:1000])
    outbox.queue(user.email, "second_factor_reset", user=user, actor=actor, reason=reason,
                 login_url=outbox.link("auth.login"))
