"""Money as people write it, kept as integer cents."""

import re

from portal.services import DomainError

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
