"""Money as people write it, kept as integer cents."""

import re

from portal.services import DomainError

_AMOUNT = re.compile(r"^\$?\s*(\d{1,3}(,\d{3})+|\d+)(\.(\d{1,2}))?$")


def parse_cents(text: str, field: str, *, allow_zero: bool = False) -> int:
    """'1,250,000', '$15,000' or '1250000.00' to integer cents; DomainError on anything else."""
    cleaned = (text or "").strip()
    match = _AMOUNT.match(cleaned)
    if not match:
        raise DomainError(field, "Enter an amount in dollars, such as 15,000 or 15000.00")
    whole = int(match.group(1).replace(",", ""))
    fraction = (match.group(4) or "").ljust(2, "0")
    cents = whole * 100 + int(fraction or 0)
    if cents == 0 and not allow_zero:
        raise DomainError(field, "Enter an amount greater than zero")
    if cents > 10**15:
        raise DomainError(field, "That amount is too large")
    return cents


def format_cents(cents: int) -> str:
    """Integer cents as dollars with separators: $70,000,000 or $1,250.50."""
    whole, rest = divmod(int(cents), 100)
    return f"${whole:,}" if rest == 0 else f"${whole:,}.{rest:02d}"
