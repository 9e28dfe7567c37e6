"""Feeds people subscribe to: an Atom feed of new project calls (feedgen) and an iCalendar feed of deadlines
(icalendar): calls closing and workforce sessions. Both libraries write the formats' escaping, dates and
required fields, which hand-written XML or .ics text tends to get subtly wrong (line folding, UTC stamps)."""

from datetime import datetime, timedelta

import icalendar
import sqlalchemy as sa
import sqlalchemy.orm as so
from feedgen.feed import FeedGenerator

from portal.extensions import db
from portal.models import CallStatus, Program, ProgramSession, ProjectCall
from portal.models.base import utcnow
from portal.services import outbox
from portal.services.proposals.calls import newest_calls, rules_summary

AHEAD = timedelta(days=366)  # how far ahead the calendar looks
NAME = "Manufacturing Innovation Network"


def calls_atom(limit: int = 50) -> bytes:
    """An Atom feed of the calls most recently opened, each with its rules summary."""
    calls = newest_calls(limit)
    feed = FeedGenerator()
    feed.id(outbox.link("proposals.open_calls"))
    feed.title(f"{NAME}: new project calls")
    feed.author({"name": NAME})
    feed.link(href=outbox.link("proposals.calls_feed"), rel="self")
    feed.link(href=outbox.link("proposals.open_calls"), rel="alternate")
    feed.language("en")
    feed.updated(max((c.opens_at for c in calls), default=datetime(2020, 1, 1, tzinfo=utcnow().tzinfo)))
    for call in reversed(calls):  # feedgen puts each new entry first
        url = outbox.link("proposals.call", call_id=call.id)
        entry = feed.add_entry()
        entry.id(url)
        entry.title(f"{call.institute.acronym}: {call.title}")
        entry.link(href=url)
        entry.published(call.opens_at)
        entry.updated(call.opens_at)
        closes = f"Closes {call.closes_at:%Y-%m-%d %H:%M} UTC."
        entry.summary(" ".join([call.description.strip()[:500], closes, *rules_summary(call)]))
    return feed.atom_str(pretty=True)


def deadlines_ics(now: datetime | None = None) -> bytes:
    """An iCalendar feed: each open call's closing time, and each workforce session not cancelled, from now to
    AHEAD. UIDs are stable, so a subscribed calendar updates an event rather than adding another."""
    now = now or utcnow()
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{NAME}//Deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{NAME}: deadlines")
    host = outbox.link("main.index").split("/")[2]
    calls = db.session.scalars(
        sa.select(ProjectCall).where(ProjectCall.status == CallStatus.OPEN, ProjectCall.closes_at > now,
                                     ProjectCall.closes_at <= now + AHEAD)
        .options(so.joinedload(ProjectCall.institute)).order_by(ProjectCall.closes_at, ProjectCall.id))
    for call in calls:
        event = icalendar.Event()
        event.add("uid", f"call-{call.id}-closes@{host}")
        event.add("summary", f"Call closes: {call.institute.acronym}, {call.title}")
        event.add("dtstart", call.closes_at)
        event.add("dtend", call.closes_at)
        event.add("dtstamp", now)
        event.add("url", outbox.link("proposals.call", call_id=call.id))
        event.add("description", " ".join(rules_summary(call)))
        calendar.add_component(event)
    sessions = db.session.scalars(
        sa.select(ProgramSession).join(Program, Program.id == ProgramSession.program_id)
        .where(ProgramSession.cancelled_at.is_(None), ProgramSession.starts_at > now,
               ProgramSession.starts_at <= now + AHEAD)
        .options(so.contains_eager(ProgramSession.program).joinedload(Program.institute))
        .order_by(ProgramSession.starts_at, ProgramSession.id))
    for session in sessions:
        event = icalendar.Event()
        event.add("uid", f"session-{session.id}@{host}")
        event.add("summary", f"{session.program.institute.acronym}: {session.program.title}")
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        event.add("dtstamp", now)
        event.add("location", "Online" if session.online else session.place)
        event.add("url", outbox.link("workforce.program", program_id=session.program_id))
        calendar.add_component(event)
    return calendar.to_ical()
