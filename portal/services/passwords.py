"""Password hashing (argon2id) and the password rules."""

from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from portal.services import DomainError

MIN_LENGTH = 12
MAX_LENGTH = 256


@cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher(
        config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST_KIB"], config["ARGON2_PARALLELISM"]
    )


@cache
def _dummy_hash(ph: PasswordHasher) -> str:
    return ph.hash("a password that nobody has; checked to keep timing even")


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time and fail."""
    ph = hasher()
    try:
        return ph.verify(password_hash or _dummy_hash(ph), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("portal").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def check_new_password(password: str, *, email: str = "", field: str = "password") -> None:
    """Raise DomainError unless ``password`` may be used: length and the common-password list only."""
    if len(password) < MIN_LENGTH:
        raise DomainError(field, f"Password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise DomainError(field, f"Password must be {MAX_LENGTH} characters or fewer")
    if password.casefold() in common_passwords():
        raise DomainError(field, "That password is too common; choose one that is harder to guess")
    if email and password.casefold() == email.casefold():
        raise DomainError(field, "Password must not be your email address")
