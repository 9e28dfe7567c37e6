"""The window each date a person types must fall in, in one place.

Everyday forms (and the services behind them) record what is happening now: a membership that starts about
now, money received lately, installments around the pledge's fiscal year, calls that open soon. A date outside
its window is far more likely a typo (1999 for 2029) than a fact, and is refused with a message naming the
field. Records of the past belong to the bulk import, which will call these checks with ``historical=True``:
then only the institute's founding year bounds a date from below.

Each check raises DomainError on the field the date was typed in.
"""

from datetime import date, datetime, timedelta

from portal.services import DomainError
from portal.services.clock import long_date
from portal.services.clock import now as clock_now
from portal.services.clock import today as clock_today

# A membership may be approved to start at most this far ahead (an application decided early in the year
# before), and, on everyday forms, at most this far back (a late decision dated to when the term began).
MEMBERSHIP_START_AHEAD = timedelta(days=366)
MEMBERSHIP_START_BACK = timedelta(days=366)
# Instalments fall between the start of the pledge's fiscal year, less this allowance (money paid early) ...
INSTALMENTS_BEFORE = timedelta(days=366)
# ... and the end of that fiscal year plus this many years (a multi-year commitment).
INSTALMENT_YEARS_AFTER = 5
# A call opens at most this far ahead, stays open at most this long, and is not dated further back than this.
CALL_OPENS_AHEAD = timedelta(days=2 * 366)
CALL_OPEN_AT_MOST = timedelta(days=2 * 366)
CALL_OPENS_BACK = timedelta(days=366)
# A workforce session is scheduled at most this far ahead, put on record at most this long after it started,
# and lasts at most this long (an apprenticeship); an outreach event is recorded at most this long after.
SESSION_STARTS_AHEAD = timedelta(days=3 * 365)
SESSION_STARTS_BACK = timedelta(days=365)
SESSION_LASTS_AT_MOST = timedelta(days=4 * 365)
OUTREACH_BACK = timedelta(days=365)


def fiscal_year_start(fiscal_year: int) -> date:
    """US federal fiscal year N runs from 1 October of N-1 to 30 September of N."""
    return date(fiscal_year - 1, 10, 1)


def fiscal_year_end(fiscal_year: int) -> date:
    return date(fiscal_year, 9, 30)


def check_not_before_founding(day: date, founded_year: int, field: str, what: str) -> None:
    if day.year < founded_year:
        raise DomainError(field, f"{what} cannot be before {founded_year}, when the institute was founded")


def check_fiscal_year_for_institute(fiscal_year: int, founded_year: int, field: str = "fiscal_year") -> None:
    """Money for an institute counts from the fiscal year named by its founding year on."""
    if fiscal_year < founded_year:
        raise DomainError(field, f"FY{fiscal_year} is before the institute was founded ({founded_year}); "
                                 f"choose FY{founded_year} or later")


def check_membership_term(starts_on: date, ends_on: date, founded_year: int, *, today: date | None = None,
                          historical: bool = False) -> None:
    """An approval's start date: not before the institute's founding year, not more than a year ahead, and
    (on everyday forms) not more than a year back; and the term must end after today, so an approval never
    creates a membership that has already lapsed."""
    today = today or clock_today()
    if ends_on <= starts_on:
        raise DomainError("ends_on", "The term must end after it starts")
    check_not_before_founding(starts_on, founded_year, "starts_on", "The start date")
    if starts_on > today + MEMBERSHIP_START_AHEAD:
        raise DomainError("starts_on", f"The start date can be at most a year ahead "
                                       f"(by {long_date(today + MEMBERSHIP_START_AHEAD)})")
    if historical:
        return
    if starts_on < today - MEMBERSHIP_START_BACK:
        raise DomainError("starts_on", f"The start date can be at most a year back "
                                       f"(from {long_date(today - MEMBERSHIP_START_BACK)})")
    if ends_on <= today:
        raise DomainError("starts_on", f"A term starting {long_date(starts_on)} would end on {long_date(ends_on)}, "
                                       "which has passed; choose a later start date or a longer term")


def check_received_on(received_on: date, *, fiscal_year: int, pledged_on: date, founded_year: int,
                      today: date | None = None, historical: bool = False) -> None:
    """A receipt's date: not in the future, and not before the pledge's fiscal year starts or the pledge was
    made, whichever is earlier (money paid early on a pledge already made is fine; money dated before both is
    a typo)."""
    today = today or clock_today()
    if received_on > today:
        raise DomainError("received_on", "The date received cannot be in the future")
    check_not_before_founding(received_on, founded_year, "received_on", "The date received")
    if historical:
        return
    earliest = min(fiscal_year_start(fiscal_year), pledged_on)
    if received_on < earliest:
        raise DomainError("received_on", f"The date received cannot be before {long_date(earliest)}, when this "
                                         f"FY{fiscal_year} pledge's fiscal year began or it was made")


def instalment_window(fiscal_year: int) -> tuple[date, date]:
    """The first and last day an installment of a pledge for ``fiscal_year`` may fall due."""
    start = fiscal_year_start(fiscal_year) - INSTALMENTS_BEFORE
    end = fiscal_year_end(fiscal_year)
    return start, end.replace(year=end.year + INSTALMENT_YEARS_AFTER)


def check_instalments(due_dates: list[date], fiscal_year: int, field: str = "schedule") -> None:
    """Every installment falls within ``instalment_window`` of the pledge's fiscal year."""
    first, last = instalment_window(fiscal_year)
    for number, due in enumerate(due_dates, start=1):
        if not first <= due <= last:
            raise DomainError(field, f"Installment {number} is due {long_date(due)}; installments of an "
                                     f"FY{fiscal_year} pledge fall from {long_date(first)} to {long_date(last)}")


def check_call_window(opens_at: datetime, closes_at: datetime, founded_year: int, *,
                      now: datetime | None = None) -> None:
    """A call opens no earlier than a year back (and never before the institute was founded) and at most two
    years ahead; it closes after it opens, in the future, and within two years of opening."""
    now = now or clock_now()
    check_not_before_founding(opens_at.date(), founded_year, "opens_at", "A call's opening")
    if opens_at < now - CALL_OPENS_BACK:
        raise DomainError("opens_at", "A call cannot open more than a year back; check the year")
    if opens_at > now + CALL_OPENS_AHEAD:
        raise DomainError("opens_at", "A call opens at most two years ahead; check the year")
    if closes_at <= opens_at:
        raise DomainError("closes_at", "The call must close after it opens")
    if closes_at <= now:
        raise DomainError("closes_at", "The closing time has passed; a call must close in the future")
    if closes_at - opens_at > CALL_OPEN_AT_MOST:
        raise DomainError("closes_at", "A call stays open at most two years; check the year")


def check_session_times(starts_at: datetime, ends_at: datetime, *, now: datetime | None = None) -> None:
    """A workforce session's start and end (aware times): starting within the last year or the next three
    years, ending after it starts and at most four years later."""
    now = now or clock_now()
    if not now - SESSION_STARTS_BACK <= starts_at <= now + SESSION_STARTS_AHEAD:
        raise DomainError("starts_at", "Sessions start within the last year or the next three years")
    if ends_at <= starts_at:
        raise DomainError("ends_at", "The session must end after it starts")
    if ends_at - starts_at > SESSION_LASTS_AT_MOST:
        raise DomainError("ends_at", "A session lasts at most four years (an apprenticeship)")


def check_outreach_day(held_on: date | None, *, today: date | None = None) -> date:
    """The day an outreach event was held: within the last year, not in the future."""
    today = today or clock_today()
    if held_on is None or not today - OUTREACH_BACK <= held_on <= today:
        raise DomainError("held_on", "Give the date it was held: within the last year, not in the future")
    return held_on
