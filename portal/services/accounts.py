"""Accounts: registration, email verification, sign-in checks, passwords and sessions."""

import hashlib
import secrets

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app

from portal.extensions import db
from portal.geography import TIME_ZONES
from portal.models import PasswordResetRequest, Role, User, UserSession
from portal.models.base import utcnow
from portal.services import DomainError, audit, outbox, passwords, sessions, tokens
from portal.services.organizations import OrganizationChoice, affiliations_of, join_or_create

VERIFY = "verify-email"
RESET = "reset-password"
CHANGE_EMAIL = "change-email"
SIGN_IN = "sign-in-link"
SIGN_IN_MAX_AGE = 15 * 60


def normalize_email(email: str) -> str:
    """The stored form of an address: trimmed and lower-cased, or DomainError if malformed."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainError("email", "Enter an email address in the form name@example.com") from exc
    return result.normalized.lower()


def find_by_email(email: str) -> User | None:
    try:
        normalized = normalize_email(email)
    except DomainError:
        return None
    return db.session.scalar(sa.select(User).where(User.email == normalized))


def register(
    *, email: str, full_name: str, password: str, organization: OrganizationChoice
) -> User | None:
    """Create an account and its affiliation, and mail a verification link.

    If the address already has an account nothing is created; its owner is told by mail instead,
    so the page a visitor sees never reveals whether an account exists. Returns the new user.
    """
    normalized = normalize_email(email)
    passwords.check_new_password(password, email=normalized, names=(full_name, organization.name))
    password_hash = passwords.hash_password(password)  # hashed on both paths: timing stays even
    existing = db.session.scalar(sa.select(User).where(User.email == normalized))
    if existing is not None:
        outbox.queue(existing.email, "account_exists", user=existing,
                     login_url=outbox.link("auth.login"),
                     reset_url=outbox.link("auth.forgot_password"))
        return None
    user = User(email=normalized, full_name=" ".join(full_name.split()), password_hash=password_hash)
    db.session.add(user)
    db.session.flush()
    audit.record(user, "user.registered", user, to_state="unverified")
    join_or_create(user, organization)
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    token = tokens.make(VERIFY, {"uid": user.id, "email": user.email})
    outbox.queue(user.email, "verify_email", user=user,
                 url=outbox.link("auth.verify_email", token=token))


def verify_email(token: str) -> User:
    """Mark the address in ``token`` verified; each link works once."""
    payload = tokens.load(VERIFY, token, current_app.config["EMAIL_VERIFY_MAX_AGE"])
    user = db.session.get(User, payload.get("uid"))
    if user is None or user.email != payload.get("email"):
        raise DomainError(None, "This link is not valid. Check that you copied all of it.")
    if user.is_verified:
        raise DomainError(None, "This link has already been used. Your email address is confirmed: sign in.")
    user.email_verified_at = utcnow()
    audit.record(user, "user.email_verified", user, from_state="unverified", to_state="verified")
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password these are, if active; None otherwise, in similar time."""
    user = find_by_email(email)
    if not passwords.verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.active:  # (None never gets here: without a hash nothing verifies)
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def record_login(user: User) -> None:
    audit.record(user, "user.logged_in", user)


def end_sessions(user: User, *, action: str, keep: UserSession | None = None) -> None:
    """End every session of ``user`` (but ``keep``): their records go, and without ``keep`` the token
    every cookie of the account carries changes too."""
    sessions.end_all(user, keep=keep)
    if keep is None:
        user.rotate_session_token()
    audit.record(user, action, user)


def log_out(user: User, record: UserSession) -> None:
    """End this one session."""
    db.session.delete(record)
    audit.record(user, "user.logged_out", user)


def disable(actor: User | None, user: User, *, reason: str) -> None:
    """Disable an account (a network administrator's decision, or an operator's at the command line, with
    no actor): every session of it ends at once and it cannot sign in until it is enabled again."""
    if actor is not None and not actor.is_network_admin:
        raise DomainError(None, "Only a network administrator may disable an account.", status=403)
    if actor is not None and actor.id == user.id:
        raise DomainError(None, "You cannot disable your own account; ask another network administrator.")
    if not reason.strip():
        raise DomainError("reason", "Give the reason for disabling the account")
    if not user.active:
        raise DomainError(None, f"The account of {user.email} is disabled already.", status=409)
    user.active = False
    end_sessions(user, action="user.sessions_ended")
    audit.record(actor, "user.disabled", user, from_state="active", to_state="disabled", reason=reason.strip())


def enable(actor: User | None, user: User, *, reason: str) -> None:
    """Enable a disabled account again: its owner signs in with their password (and second factor) as before."""
    if actor is not None and not actor.is_network_admin:
        raise DomainError(None, "Only a network administrator may enable an account.", status=403)
    if not reason.strip():
        raise DomainError("reason", "Give the reason for enabling the account")
    if user.active:
        raise DomainError(None, f"The account of {user.email} is enabled already.", status=409)
    user.active = True
    audit.record(actor, "user.enabled", user, from_state="disabled", to_state="active", reason=reason.strip())


def check_password_for(user: User, password: str, field: str = "password") -> None:
    """The password rules with the words tied to ``user``: name, email and organizations."""
    names = [user.full_name, *(a.organization.name for a in affiliations_of(user))]
    passwords.check_new_password(password, email=user.email, names=names, field=field)


def _set_password(user: User, password: str, *, action: str, template: str) -> None:
    user.password_hash = passwords.hash_password(password)
    user.password_reset_nonce = None  # any reset link still in a mailbox stops working
    end_sessions(user, action=action)
    outbox.queue(user.email, template, user=user, reset_url=outbox.link("auth.forgot_password"))


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Change the password, end every session of the account and tell its owner by mail."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise DomainError("current_password", "Your current password is not right")
    check_password_for(user, new_password, field="new_password")
    _set_password(user, new_password, action="user.password_changed", template="password_changed")


def _reset_fingerprint(user: User) -> str:
    """Changes whenever the password does, and whenever a new link is asked for, so a reset link works
    once and only the newest one works."""
    material = f"{user.password_hash}|{user.password_reset_nonce or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def request_password_reset(email: str) -> None:
    """Note that a reset link was asked for ``email``; the outbox worker answers it (``answer_reset_requests``).

    The request does the same work for every address: it writes this one row and looks nothing up. Whether an
    account has the address is found out later by the worker, so neither the answer nor the time it takes can
    tell anyone which accounts exist (a request that looked the account up and queued its mail would cost an
    insert and a rendered message more for a known address than for an unknown one).
    """
    db.session.add(PasswordResetRequest(email=email.strip()[:254]))


def answer_reset_requests(limit: int = 100) -> int:
    """Answer up to ``limit`` waiting reset requests: a link queued in the outbox for each active account, nothing
    for an address no active account has. Each request is claimed by deleting it, so two workers never answer one
    twice; the caller commits (a worker that dies first leaves the requests to the next). Returns how many."""
    waiting = sa.select(PasswordResetRequest.id).order_by(PasswordResetRequest.id).limit(limit)
    claimed = db.session.scalars(sa.delete(PasswordResetRequest).where(PasswordResetRequest.id.in_(waiting))
                                 .returning(PasswordResetRequest.email)).all()
    for email in claimed:
        user = find_by_email(email)
        if user is not None and user.active:
            user.password_reset_nonce = secrets.token_hex(8)  # a newer link voids every earlier one
            token = tokens.make(RESET, {"uid": user.id, "fp": _reset_fingerprint(user)})
            outbox.queue(user.email, "reset_password", user=user,
                         url=outbox.link("auth.reset_password", token=token))
    return len(claimed)


def user_for_reset(token: str) -> User:
    payload = tokens.load(RESET, token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    user = db.session.get(User, payload.get("uid"))
    if user is None or not user.active or payload.get("fp") != _reset_fingerprint(user):
        raise DomainError(None, "This link has already been used or is no longer valid. Ask for a new one.")
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link; this also proves the address, so it verifies it."""
    user = user_for_reset(token)
    check_password_for(user, new_password)
    if not user.is_verified:
        user.email_verified_at = utcnow()
    _set_password(user, new_password, action="user.password_reset", template="password_reset")
    return user


def update_profile(user: User, *, full_name: str, time_zone: str | None = None) -> None:
    """Change a person's name and, when given, the time zone the portal shows times in."""
    full_name = " ".join(full_name.split())
    if not full_name:
        raise DomainError("full_name", "Enter your full name")
    zone = user.time_zone if time_zone is None else time_zone
    if zone not in TIME_ZONES:
        raise DomainError("time_zone", "Choose a time zone from the list")
    changes = {name: [before, after] for name, before, after in
               (("full_name", user.full_name, full_name), ("time_zone", user.time_zone, zone)) if before != after}
    if changes:
        audit.record(user, "user.profile_updated", user, details=changes)
        user.full_name, user.time_zone = full_name, zone


def create_verified_user(email: str, password: str, full_name: str) -> User:
    """An account whose address an operator vouches for (commands and the demo, not the web)."""
    normalized = normalize_email(email)
    passwords.check_new_password(password, email=normalized, names=(full_name,))
    user = User(email=normalized, full_name=full_name, password_hash=passwords.hash_password(password),
                email_verified_at=utcnow())
    db.session.add(user)
    db.session.flush()
    audit.record(None, "user.registered", user, to_state="verified")
    return user


def create_network_admin(email: str, password: str, full_name: str = "Network administrator") -> User:
    """Create a verified network administrator, or promote the existing account."""
    user = find_by_email(email)
    if user is None:
        user = create_verified_user(email, password, full_name)
    if user.role != Role.NETWORK_ADMIN:
        audit.record(None, "user.role_changed", user, from_state=user.role, to_state=Role.NETWORK_ADMIN)
        user.role = Role.NETWORK_ADMIN
    return user


def request_email_change(user: User, *, new_email: str, current_password: str) -> None:
    """Mail a confirmation link to the new address and a notice to the current one. Nothing changes until
    the link is followed. An address that has an account already gets no link, and the page says the same."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise DomainError("current_password", "Your current password is not right")
    try:
        normalized = normalize_email(new_email)
    except DomainError as error:
        raise DomainError("new_email", error.message) from error
    if normalized == user.email:
        raise DomainError("new_email", "That is the address your account has now")
    audit.record(user, "user.email_change_requested", user)
    outbox.queue(user.email, "email_change_requested", user=user, new_email=normalized,
                 reset_url=outbox.link("auth.forgot_password"))
    if find_by_email(normalized) is not None:
        return
    token = tokens.make(CHANGE_EMAIL, {"uid": user.id, "from": user.email, "to": normalized})
    outbox.queue(normalized, "confirm_new_email", user=user, url=outbox.link("auth.confirm_email_change", token=token))


def confirm_email_change(token: str) -> User:
    """Move the account to the new address in ``token``; the old address is told."""
    payload = tokens.load(CHANGE_EMAIL, token, current_app.config["EMAIL_VERIFY_MAX_AGE"])
    user = db.session.get(User, payload.get("uid"))
    new_email = payload.get("to")
    if user is None or not user.active or user.email != payload.get("from") or not isinstance(new_email, str):
        raise DomainError(None, "This link has already been used or is no longer valid.")
    if find_by_email(new_email) is not None:
        raise DomainError(None, "That address has an account already, so this one cannot move to it.")
    old_email = user.email
    user.email = new_email
    user.email_verified_at = utcnow()
    user.password_reset_nonce = None  # a reset link sent to the old address stops working
    audit.record(user, "user.email_changed", user, details={"email": [old_email, new_email]})
    outbox.queue(old_email, "email_changed", user=user, old_email=old_email,
                 reset_url=outbox.link("auth.forgot_password"))
    return user


def _sign_in_fingerprint(user: User) -> str:
    """Changes when the link is used (the session token rotates) or the password changes."""
    return hashlib.sha256(f"{user.password_hash}|{user.session_token}".encode()).hexdigest()[:24]


def request_sign_in_link(email: str) -> None:
    """Mail the owner a link that, with their password, signs in even while the account's sign-in attempts
    are used up by someone guessing; say nothing either way."""
    user = find_by_email(email)
    if user is None or not user.active or not user.is_verified:
        return
    token = tokens.make(SIGN_IN, {"uid": user.id, "fp": _sign_in_fingerprint(user)})
    outbox.queue(user.email, "sign_in_link", user=user, url=outbox.link("auth.link_login", token=token))


def user_for_sign_in_link(token: str) -> User:
    payload = tokens.load(SIGN_IN, token, SIGN_IN_MAX_AGE)
    user = db.session.get(User, payload.get("uid"))
    if user is None or not user.active or payload.get("fp") != _sign_in_fingerprint(user):
        raise DomainError(None, "This link has already been used or is no longer valid. Ask for a new one.")
    return user


def sign_in_by_link(token: str, password: str) -> User:
    """Check the password for the link's account; the link then stops working, and so do the account's
    other sessions (someone was guessing its password)."""
    user = user_for_sign_in_link(token)
    if not passwords.verify_password(user.password_hash, password):
        raise DomainError("password", "That password is not right")
    end_sessions(user, action="user.sessions_ended")
    audit.record(user, "user.logged_in_by_link", user)
    return user
