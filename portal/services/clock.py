"""Dates and times the rules count with (now and today in UTC, the same day some years or months on), and
how people read them: "December 29, 2026", and times in the reader's own time zone."""

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from portal.geography import DEFAULT_TIME_ZONE, TIME_ZONES


def now() -> datetime:
    """This moment, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    return now().date()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter (31 January + 1: 28 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def long_date(day: date) -> str:
    """A date as US readers write it: December 29, 2026."""
    return f"{day:%B} {day.day}, {day.year}"


def local_time(moment: datetime, zone: str | None = None) -> str:
    """A UTC moment in ``zone`` (US Eastern by default), with the zone named: December 29, 2026, 3:05 PM EST."""
    name = zone if zone in TIME_ZONES else DEFAULT_TIME_ZONE
    local = moment.astimezone(ZoneInfo(name))
    hour = local.hour % 12 or 12
    return f"{long_date(local.date())}, {hour}:{local:%M} {local:%p} {local.tzname()}"
