"""Home page and health probes."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db, limiter
from portal.services import institutes

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """What the network is, with headline figures."""
    return render_template("main/index.html", counts=institutes.network_counts())


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Liveness: the process answers; no database work."""
    return "ok\n", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Readiness: the database answers."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return "database unavailable\n", 503, {"Content-Type": "text/plain", "Cache-Control": "no-store"}
    return "ready\n", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}
