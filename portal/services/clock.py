"""Dates the rules count with: today in UTC, and the same day some years on."""

from datetime import UTC, date, datetime


def today() -> date:
    return datetime.now(UTC).date()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
