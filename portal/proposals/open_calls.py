"""Open calls across the network, and the feeds people subscribe to: new calls (Atom) and deadlines (iCalendar)."""

import hashlib

import sqlalchemy as sa
from flask import Response, render_template, request

from portal import paging
from portal.extensions import db
from portal.forms import SelectChoice
from portal.models import Institute, ProjectCall
from portal.proposals.blueprint import bp
from portal.proposals.forms import OpenCallsForm
from portal.services import feeds, institutes, proposals, snapshot
from portal.snapshot.routes import public_version


@bp.get("/calls")
def open_calls():
    """Every call open for proposals now, filtered by institute, technology area and closing soon."""
    form = OpenCallsForm(request.args)
    rows = db.session.execute(sa.select(Institute.slug, Institute.acronym).order_by(Institute.acronym)).all()
    form.institute.choices = [SelectChoice("", "Any institute")] + [SelectChoice(r.slug, r.acronym) for r in rows]
    form.area.choices = [SelectChoice("", "Any area")] + [
        SelectChoice(f, f) for f in institutes.filter_choices()["focus"]]
    valid = form.validate()
    query = proposals.open_calls_query(institute=form.institute.data or "", area=form.area.data or "",
                                       closing_soon=bool(form.closing_soon.data)) if valid else None
    calls = paging.keyset(query, [ProjectCall.closes_at, ProjectCall.id], lambda c: [c.closes_at, c.id],
                          descending=False)
    return render_template("proposals/open_calls.html", form=form, calls=calls, rules=proposals.rules_summary,
                           closing_soon_days=proposals.CLOSING_SOON.days), 200 if valid else 422


# Feed readers and calendars poll; the feeds are public and change slowly, so they may keep a copy this long.
FEED_CACHE = "public, max-age=900"


def _feed(name: str, make, mimetype: str, **headers: str) -> Response:
    """A feed made once per version of the network (every change moves it, and so does the date) and kept
    like the snapshot; its ETag is the version, so a reader polling an unchanged feed gets a 304."""
    version = public_version()
    text = snapshot.kept(f"{name}-{version}", lambda: make().decode())
    response = Response(text, mimetype=mimetype, headers={"Cache-Control": FEED_CACHE, **headers})
    response.set_etag(hashlib.sha256(f"{name}:{version}".encode()).hexdigest()[:32])
    response.make_conditional(request)  # a 304 without the body when the reader has this version
    return response


@bp.get("/calls/feed.atom")
def calls_feed():
    """An Atom feed of new calls."""
    return _feed("calls-atom", feeds.calls_atom, "application/atom+xml")


@bp.get("/calls/deadlines.ics")
def deadlines():
    """An iCalendar feed of deadlines: calls closing and workforce sessions."""
    return _feed("deadlines-ics", feeds.deadlines_ics, "text/calendar",
                 **{"Content-Disposition": 'inline; filename="deadlines.ics"'})
