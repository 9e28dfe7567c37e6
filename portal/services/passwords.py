"""Password hashing (argon2id) and the password rules (NIST SP 800-63B: length, no repeated or
sequential characters, no words tied to the portal or the person, no password known from breaches)."""

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from portal.services import DomainError

MIN_LENGTH = 12
MAX_LENGTH = 256

# Words anyone attacking this portal would try first.
SITE_WORDS = ("manufacturing", "manufacture", "innovation", "institute", "network", "portal", "federal",
              "mfgusa", "manufacturingusa")
# Runs of these (forwards or backwards) count as sequential: the alphabet, digits (0 follows 9), keyboard rows.
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
MIN_SEQUENCE = 4   # a run this long counts as sequential
MIN_REPEAT = 3     # a character this many times in a row counts as repeated
TRIMMABLE = "0123456789!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~ "


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


def _line_from(f, position: int) -> bytes:
    """The first whole line that starts at or after ``position`` (b"" past the end)."""
    if position == 0:
        f.seek(0)
    else:
        f.seek(position - 1)
        f.readline()  # the rest of the line ``position`` falls in (just its newline if it starts there)
    return f.readline().rstrip(b"\n")


def is_breached(password: str) -> bool:
    """Whether ``password`` (case-folded) is in the sorted breached-password file.

    A binary search over byte offsets with seek: a few dozen short reads, whatever the file's size,
    and nothing of it kept in memory.
    """
    word = password.casefold().encode("utf-8")
    if b"\n" in word:
        return False
    with resources.as_file(resources.files("portal").joinpath("data/breached_passwords.txt")) as path, \
            open(path, "rb") as f:
        low, high = 0, f.seek(0, 2)
        while low < high:
            middle = (low + high) // 2
            line = _line_from(f, middle)
            if line and line < word:
                low = middle + 1
            else:
                high = middle
        return _line_from(f, low) == word


def _covered(text: str) -> tuple[int, int]:
    """How many characters of ``text`` sit in repeated runs, and how many in sequential runs."""
    repeated = sum(len(m.group()) for m in re.finditer(rf"(.)\1{{{MIN_REPEAT - 1},}}", text))
    in_sequence = [False] * len(text)
    for sequence in SEQUENCES:
        for ordered in (sequence, sequence[::-1]):
            for start in range(len(text)):
                end = start
                while end + 1 < len(text) and (pair := text[end:end + 2]) in ordered and len(pair) == 2:
                    end += 1
                if end - start + 1 >= MIN_SEQUENCE:
                    in_sequence[start:end + 1] = [True] * (end - start + 1)
    return repeated, sum(in_sequence)


def context_words(*, email: str = "", names: Iterable[str] = ()) -> set[str]:
    """Words tied to a person (name, parts of the email address, organizations) and to the portal."""
    words = set(SITE_WORDS)
    local, _, domain = email.casefold().partition("@")
    parts = [local, *re.split(r"[^a-z0-9]+", local), *domain.split(".")[:-1]]
    for name in names:
        parts += re.split(r"\W+", name.casefold())
        parts.append(re.sub(r"\W+", "", name.casefold()))
    words.update(part for part in parts if len(part) >= 3)
    return words


def check_new_password(password: str, *, email: str = "", names: Iterable[str] = (),
                       field: str = "password") -> None:
    """Raise DomainError unless ``password`` may be used. ``names`` are the person's name and their
    organizations' names; with ``email`` they make the words a password may not be built from."""
    if len(password) < MIN_LENGTH:
        raise DomainError(field, f"Password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise DomainError(field, f"Password must be {MAX_LENGTH} characters or fewer")
    folded = password.casefold()
    if email and folded == email.casefold():
        raise DomainError(field, "Password must not be your email address")
    if re.fullmatch(r"(.+?)\1+", folded):
        raise DomainError(field, "Password must not be the same characters repeated; "
                                 "a few unrelated words work better")
    repeated, sequential = _covered(folded)
    if repeated * 2 >= len(folded):
        raise DomainError(field, "Password must not be mostly one character repeated")
    if sequential * 2 >= len(folded):
        raise DomainError(field, "Password must not be mostly a sequence such as 12345 or abcde or qwerty")
    remainder = folded
    for word in sorted(context_words(email=email, names=names), key=len, reverse=True):
        remainder = remainder.replace(word, "")
    if len(remainder.strip(TRIMMABLE)) < MIN_LENGTH // 2:
        raise DomainError(field, "Password must not be built from your name, your email address, your "
                                 "organization or the portal's name")
    trimmed = folded.strip(TRIMMABLE)
    if folded in common_passwords() or is_breached(folded) or (len(trimmed) >= 8 and is_breached(trimmed)):
        raise DomainError(field, "That password has appeared in data breaches, so attackers try it early; "
                                 "choose another")
