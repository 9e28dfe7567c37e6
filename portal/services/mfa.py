"""The second factor: an authenticator app (TOTP, RFC 6238) with one-time recovery codes.

Institute and network administrators must have one before any staff page opens; everyone else may.
A code is accepted once: the last accepted time step is kept. The app's shared secret is encrypted at rest
(``portal.models.encryption``), and while it is being set up it waits in the server-side session record,
never in the cookie.

Recovery codes are 16 characters of Crockford's base32 (80 random bits) in groups of four, stored as argon2id;
each works once. Codes made before these were 12 hexadecimal digits stored as SHA-256: the migration wrapped
those hashes in argon2id, so they keep working (until used or renewed) and the account page asks their owners
to make new ones.
"""

import hashlib
import hmac
import secrets
from functools import cache

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from portal.extensions import db
from portal.models import InstituteStaff, RecoveryCode, User, UserSession, encryption
from portal.models.base import utcnow
from portal.services import DomainError, audit, outbox, passkeys, sessions

ISSUER = "Manufacturing Innovation Network"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O or U
RECOVERY_GROUPS, RECOVERY_GROUP = 4, 4  # 16 characters of 5 bits: 80 bits
WRONG_CODE = "That code is not right. Enter the 6 digits your authenticator app shows now, or a recovery code."


def must_use(user: User) -> bool:
    """Whether ``user`` moves money or decides for an institute, and so must have a second factor."""
    if user.is_network_admin:
        return True
    return db.session.scalar(sa.select(sa.exists().where(InstituteStaff.user_id == user.id))) or False


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads (from a QR code, or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


@cache
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)


def _recovery_hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher(config["RECOVERY_ARGON2_TIME_COST"], config["RECOVERY_ARGON2_MEMORY_COST_KIB"])


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("no recovery code is this")


def _recovery_secret(code: str) -> str:
    """A typed recovery code as hashed: separators and case dropped, Crockford's look-alikes read as digits."""
    return _normalize(code).upper().translate(str.maketrans("OIL", "011"))


def _legacy_secret(code: str) -> str:
    """What an old code was hashed from: the SHA-256 of its lower-case hexadecimal digits."""
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def _could_be_recovery_code(code: str) -> bool:
    secret, legacy = _recovery_secret(code), _normalize(code)
    return ((len(secret) == RECOVERY_GROUPS * RECOVERY_GROUP and set(secret) <= set(RECOVERY_ALPHABET))
            or (len(legacy) == 12 and set(legacy) <= set("0123456789abcdef")))


def new_recovery_code() -> str:
    return "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP))
                    for _ in range(RECOVERY_GROUPS))


def hash_recovery_secret(secret: str) -> str:
    return _recovery_hasher().hash(secret)


def _matches(stored: RecoveryCode | None, code: str) -> bool:
    hasher = _recovery_hasher()
    try:
        if stored is None:  # keeps the time the same whatever the number of codes left
            hasher.verify(_dummy_hash(hasher), code)
            return False
        return hasher.verify(stored.code_hash, _legacy_secret(code) if stored.legacy else _recovery_secret(code))
    except (VerificationError, InvalidHashError):
        return False


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
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_recovery_secret(_recovery_secret(code)))
                       for code in codes)
    return codes


def start_enrolment(record: UserSession) -> str:
    """A new secret for the authenticator app being set up in this session, kept in its server-side record."""
    record.pending_totp_secret = pyotp.random_base32()
    return record.pending_totp_secret


def pending_secret(record: UserSession) -> str | None:
    return record.pending_totp_secret


def enrol(user: User, record: UserSession, code: str) -> list[str]:
    """Turn on the authenticator app being set up in session ``record``, whose secret ``code`` proves;
    return the new recovery codes."""
    if user.has_second_factor:
        raise DomainError(None, "Your account already has an authenticator app.")
    secret = record.pending_totp_secret
    if record.user_id != user.id or secret is None:
        raise DomainError("code", "Start again: scan the new code this page shows.")
    if not _accept_totp(user, secret, code):
        raise DomainError("code", "That code is not right. Enter the 6 digits the app shows now.")
    record.pending_totp_secret = None
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
    if not _could_be_recovery_code(code):  # a mistyped 6 digits costs no hashing
        raise DomainError("code", WRONG_CODE)
    unused = list(db.session.scalars(sa.select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)).order_by(RecoveryCode.id)
        .with_for_update()))  # one use of a code at a time
    padded: list[RecoveryCode | None] = [*unused, *[None] * (RECOVERY_CODES - len(unused))]
    recovery = next((stored for stored in padded if _matches(stored, code)), None)
    if recovery is None:
        raise DomainError("code", WRONG_CODE)
    recovery.used_at = utcnow()
    audit.record(user, "user.recovery_code_used", user)
    return "recovery code"


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def has_old_recovery_codes(user: User) -> bool:
    """Whether unused codes of the old, shorter kind remain (the account page asks for new ones)."""
    return db.session.scalar(sa.select(sa.exists().where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None), RecoveryCode.legacy))) or False


def renew_recovery_codes(user: User) -> list[str]:
    """New recovery codes for ``user``; the old ones stop working."""
    audit.record(user, "user.recovery_codes_renewed", user)
    return _new_recovery_codes(user)


def rekey() -> int:
    """Encrypt every stored authenticator secret again under the first key of MFA_ENCRYPTION_KEY (after a new
    key is put first); returns how many. The rows are read as stored, past the column type."""
    changed = 0
    for name, column in (("users", "totp_secret"), ("user_sessions", "pending_totp_secret")):
        raw = sa.table(name, sa.column("id", sa.Integer), sa.column(column, sa.String))
        for row_id, token in db.session.execute(sa.select(raw.c.id, raw.c[column]).where(raw.c[column].is_not(None))):
            db.session.execute(sa.update(raw).where(raw.c.id == row_id).values({column: encryption.rotated(token)}))
            changed += 1
    return changed


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
    passkeys.remove_all(user)
    sessions.end_all(user)
    audit.record(actor, "user.second_factor_reset", user, from_state="totp", to_state="none", reason=reason[:1000])
    outbox.queue(user.email, "second_factor_reset", user=user, actor=actor, reason=reason,
                 login_url=outbox.link("auth.login"))
