"""The sitemap (the sitemaps.org protocol 0.9, https://www.sitemaps.org/protocol.html): the public pages a search
engine should find, with the day each last changed where the portal knows it.

A sitemap file holds at most 50,000 addresses; past that, /sitemap.xml is a sitemap index naming one file of
the fixed pages and institutes and as many files of public projects as it takes. Each file is read with a
fixed number of queries and streamed.
"""

from collections.abc import Callable, Iterator
from datetime import date
from xml.sax.saxutils import escape

import sqlalchemy as sa

from portal.extensions import db
from portal.models import PUBLIC_STATUSES, AuditEvent, Institute, Proposal
from portal.services import csvfile, proposals

LIMIT = 50_000  # addresses per sitemap file, the protocol's most
Link = Callable[..., str]
Entry = tuple[str, date | None]  # (address, last changed)


def last_change() -> date | None:
    """The day of the latest recorded change: the network's snapshot and its data change with every one."""
    latest = db.session.scalar(sa.select(AuditEvent.occurred_at).order_by(AuditEvent.id.desc()).limit(1))
    return latest.date() if latest else None


def head(link: Link) -> list[Entry]:
    """The fixed public pages, then each active institute's page and snapshot (two queries)."""
    changed = last_change()
    entries: list[Entry] = [
        (link("main.index"), None), (link("institutes.index"), None), (link("proposals.open_calls"), None),
        (link("proposals.projects"), None), (link("workforce.finder"), None), (link("snapshot.page"), changed),
        (link("snapshot.dictionary"), None)]
    for slug in db.session.scalars(sa.select(Institute.slug).where(Institute.retired_on.is_(None))
                                   .order_by(Institute.acronym)):
        entries += [(link("institutes.detail", slug=slug), None), (link("snapshot.page", slug=slug), None)]
    return entries


def project_count() -> int:
    """How many public projects there are, from the summary figures (one small query at any size)."""
    return proposals.public_projects_count() or 0


def projects(link: Link, part: int | None = None) -> Iterator[Entry]:
    """Public projects by number: all of them, or the ``part``-th LIMIT of them (from 0). A project's public
    page changes with its status (a draft is edited, a project is not), so that is its last change."""
    query = (sa.select(Proposal.id, Proposal.status_changed_at).where(Proposal.status.in_(PUBLIC_STATUSES))
             .order_by(Proposal.id))  # the statuses public_projects_query lists, the page's address only
    if part is not None:
        query = query.offset(part * LIMIT).limit(LIMIT)
    for project_id, changed in csvfile.rows_of(query):
        yield link("proposals.detail", proposal_id=project_id), changed.date() if changed else None


def urlset(entries: Iterator[Entry] | list[Entry]) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    for address, changed in entries:
        modified = f"<lastmod>{changed.isoformat()}</lastmod>" if changed else ""
        yield f"<url><loc>{escape(address)}</loc>{modified}</url>\n"
    yield "</urlset>\n"


def index(addresses: list[str]) -> Iterator[str]:
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
    for address in addresses:
        yield f"<sitemap><loc>{escape(address)}</loc></sitemap>\n"
    yield "</sitemapindex>\n"
