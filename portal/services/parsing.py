"""What people type, read into the values the services take: money as integer cents, installment
schedules, rubrics, ratios, milestones and US Eastern times; and cents written back as dollars.

Each reader raises DomainError naming the form field, so the message lands next to what was typed.
"""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from portal.services import DomainError

EASTERN = ZoneInfo("America/New_York")

# The largest single amount the portal accepts: one billion dollars, about three times the largest
# federal award to any institute so far. Anything above it is far more likely a typo than a pledge.
MAX_CENTS = 1_000_000_000 * 100

_AMOUNT = re.compile(r"^\$?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.([0-9]+))?$")


def parse_cents(text: str | None, field: str, *, allow_zero: bool = False, max_cents: int = MAX_CENTS) -> int:
    """'1,250,000', '$15,000' or '1250000.00' to integer cents; DomainError with a clear message otherwise."""
    cleaned = (text or "").strip().replace(" ", "")
    if not cleaned:
        raise DomainError(field, "Enter an amount in dollars, such as 15,000 or 15000.00")
    if cleaned.startswith("-") or cleaned.startswith("$-"):
        raise DomainError(field, "Enter a positive amount")
    match = _AMOUNT.match(cleaned)
    if not match:
        if re.search(r"\d[eE][+-]?\d", cleaned):
            raise DomainError(field, "Write the amount in full, such as 1,000,000, not in scientific notation")
        raise DomainError(field, "Enter an amount in dollars, such as 15,000 or 15000.00")
    fraction = match.group(4) or ""
    if len(fraction) > 2:
        raise DomainError(field, "Amounts have at most two decimal places (whole cents)")
    cents = int(match.group(1).replace(",", "")) * 100 + int(fraction.ljust(2, "0") or 0)
    if cents == 0 and not allow_zero:
        raise DomainError(field, "Enter an amount greater than zero")
    if cents > max_cents:
        raise DomainError(field, f"Amounts above {format_cents(max_cents)} are not accepted; check the figure")
    return cents


def parse_signed_cents(text: str | None, field: str) -> int:
    """Like ``parse_cents``, but a leading minus sign makes a negative amount (a correction downwards)."""
    cleaned = (text or "").strip()
    if cleaned.startswith("-"):
        return -parse_cents(cleaned[1:], field)
    return parse_cents(cleaned, field)


def format_cents(cents: int) -> str:
    """Integer cents as dollars with separators: $70,000,000 or -$1,250.50."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}${whole:,}" if rest == 0 else f"{sign}${whole:,}.{rest:02d}"


def parse_schedule(text: str | None, field: str = "schedule") -> list[tuple[date, int]]:
    """Lines of 'YYYY-MM-DD amount' into (date, cents) pairs; DomainError naming the bad line."""
    schedule = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = re.match(r"^\s*(\d{4}-\d{2}-\d{2})[\s,;]+(.+?)\s*$", line)
        if not match:
            raise DomainError(field, f"Line {number}: write the date as YYYY-MM-DD, then the amount")
        try:
            due = date.fromisoformat(match.group(1))
        except ValueError as error:
            raise DomainError(field, f"Line {number}: {match.group(1)} is not a real date") from error
        try:
            cents = parse_cents(match.group(2), field)
        except DomainError as error:
            raise DomainError(field, f"Line {number}: {error.message}") from error
        schedule.append((due, cents))
    return schedule


def parse_ratio_bp(text: str | None, field: str = "min_cost_share") -> int:
    """'0.5' -> 5000 basis points, exactly."""
    match = re.fullmatch(r"\s*(\d{1,2})(?:\.(\d{1,4}))?\s*", text or "")
    if not match:
        raise DomainError(field, "Enter a ratio such as 0.5 or 1.0")
    return int(match.group(1)) * 10_000 + int((match.group(2) or "").ljust(4, "0"))


def parse_criteria(text: str | None, field: str = "criteria") -> list[tuple[str, int]]:
    criteria = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = re.fullmatch(r"\s*(\d{1,3})\s+(.+?)\s*", line)
        if not match:
            raise DomainError(field, f"Line {number}: start with the weight, then the name")
        criteria.append((match.group(2)[:200], int(match.group(1))))
    return criteria


def parse_milestones(text: str | None, field: str = "milestones") -> list[tuple[int, str, str]]:
    milestones = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 2 or not parts[0].isdigit() or not parts[1]:
            raise DomainError(field, f"Line {number}: write the month, a bar, the title, and optionally a bar "
                                     "and the deliverable")
        month = int(parts[0])
        if not 1 <= month <= 120:
            raise DomainError(field, f"Line {number}: the month must be from 1 to 120")
        milestones.append((month, parts[1][:200], (parts[2] if len(parts) > 2 else "")[:500]))
    return milestones


def eastern_to_utc(value: datetime) -> datetime:
    """A naive date and time typed in US Eastern time, as an aware UTC datetime."""
    return value.replace(tzinfo=EASTERN).astimezone(UTC)


def utc_to_eastern_input(value: datetime) -> datetime:
    return value.astimezone(EASTERN).replace(tzinfo=None)
