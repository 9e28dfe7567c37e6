"""The public snapshot of the network or one institute, as a page, JSON and CSV, and its data dictionary."""

import csv
import hashlib
import io
import json
import zipfile

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from portal.extensions import db
from portal.maps import VIEWBOX, state_paths
from portal.models import Institute
from portal.services import snapshot

bp = Blueprint("snapshot", __name__)

MAP_SHADES = [(0, "#f0f0f0", "none"), (1, "#97d4ea", "1 to 2"), (3, "#28a0cb", "3 to 9"),
              (10, "#0d7ea2", "10 to 49"), (50, "#074b69", "50 or more")]


def not_modified(tag: str, cache_control: str) -> Response | None:
    """A 304 when the client already has this version: no figures are computed or sent."""
    if request.if_none_match.contains(tag) or request.if_none_match.star_tag:
        response = Response(status=304)
        response.set_etag(tag)
        response.headers["Cache-Control"] = cache_control
        return response
    return None


def conditional(response: Response, cache_control: str, tag: str) -> Response:
    response.set_etag(tag)
    response.headers["Cache-Control"] = cache_control
    return response


def etag(kind: str, version: str) -> str:
    return hashlib.sha256(f"{kind}:{version}".encode()).hexdigest()[:32]


def institute_or_404(slug: str | None) -> Institute | None:
    if slug is None:
        return None
    return db.first_or_404(sa.select(Institute).where(Institute.slug == slug))


def shade(count: int) -> str:
    colour = MAP_SHADES[0][1]
    for threshold, fill, _ in MAP_SHADES:
        if count >= threshold:
            colour = fill
    return colour


@bp.get("/snapshot")
@bp.get("/institutes/<slug>/snapshot")
def page(slug: str | None = None):
    """The snapshot page: figures, charts, the map and the tables behind them."""
    institute = institute_or_404(slug)
    version = snapshot.version(institute)
    # the page also shows who is signed in, so its tag covers the user too
    tag = etag(f"page:{current_user.get_id() if current_user.is_authenticated else '-'}", version)
    if (response := not_modified(tag, "private, no-cache")) is not None:
        return response
    data = snapshot.cached(institute, version)
    counts = {row[0]: row[2] for row in data["tables"]["members_by_state"]["rows"]}
    states = [(code, d, counts.get(code, 0), shade(counts.get(code, 0))) for code, d in state_paths().items()]
    response = Response(render_template(
        "snapshot/page.html", data=data, tables=data["tables"], institute=institute, states=states,
        viewbox=VIEWBOX, shades=MAP_SHADES[1:], dictionary=snapshot.DICTIONARY))
    return conditional(response, "private, no-cache", tag)


@bp.get("/snapshot.json")
@bp.get("/institutes/<slug>/snapshot.json")
def as_json(slug: str | None = None):
    """The snapshot as JSON (CC0)."""
    institute = institute_or_404(slug)
    version = snapshot.version(institute)
    tag = etag("json", version)
    if (response := not_modified(tag, "public, max-age=60")) is not None:
        return response
    data = snapshot.cached(institute, version)
    return conditional(Response(json.dumps(data, indent=1), mimetype="application/json"), "public, max-age=60", tag)


@bp.get("/snapshot.csv")
@bp.get("/institutes/<slug>/snapshot.csv")
def as_csv(slug: str | None = None):
    """The snapshot as a zip of one CSV per table, with a README (CC0)."""
    institute = institute_or_404(slug)
    version = snapshot.version(institute)
    tag = etag("csv", version)
    if (response := not_modified(tag, "public, max-age=60")) is not None:
        return response
    data = snapshot.cached(institute, version)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, table in data["tables"].items():
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(table["columns"])
            writer.writerows(["" if value is None else value for value in row] for row in table["rows"])
            info = zipfile.ZipInfo(f"{name}.csv", date_time=(2000, 1, 1, 0, 0, 0))  # same bytes, same ETag
            archive.writestr(info, out.getvalue())
        readme = zipfile.ZipInfo("README.txt", date_time=(2000, 1, 1, 0, 0, 0))
        archive.writestr(readme, render_template("snapshot/readme.txt", data=data, dictionary=snapshot.DICTIONARY))
    name = f"snapshot-{institute.slug if institute else 'network'}.zip"
    response = Response(buffer.getvalue(), mimetype="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return conditional(response, "public, max-age=60", tag)


@bp.get("/snapshot/data")
def dictionary():
    """The data dictionary: every table and field of the open data, and its licence."""
    return render_template("snapshot/dictionary.html", dictionary=snapshot.DICTIONARY,
                           suppress_below=snapshot.SUPPRESS_BELOW)
