"""Home page and health probes."""

import redis
import sqlalchemy as sa
from flask import Blueprint, current_app, render_template
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import REDIS_RETRY_AFTER, db, limiter, redis_client, redis_failed
from portal.forms import ConfirmForm
from portal.services import home, institutes, invitations

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """Signed in: what waits for me, by role, each with a link to where I act. Otherwise: what the network
    is, with headline figures."""
    if current_user.is_authenticated:
        return render_template("main/home.html", home=home.home_of(current_user), limit=home.LIMIT,
                               invitation_what=invitations.what, accept_form=ConfirmForm())
    return render_template("main/index.html", counts=institutes.network_counts())


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement."""
    return render_template("main/accessibility.html")


@bp.get("/privacy")
def privacy():
    """What the portal stores about people and why; its one cookie."""
    return render_template("main/privacy.html")


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Liveness: the process answers; no database work."""
    return "ok\n", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Readiness: 503 when the database does not answer. Redis only shares rate limits and the snapshot
    cache, and the portal works without it, so a Redis that is down is reported in the body ("degraded")
    with 200: taking every app server out of the load balancer over it would make it an outage."""
    headers = {"Content-Type": "text/plain", "Cache-Control": "no-store"}
    redis_line = _redis_status()
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return f"database unavailable\ndatabase: down\n{redis_line}", 503, headers
    state = "degraded" if redis_line.startswith("redis: down") else "ready"
    return f"{state}\ndatabase: ok\n{redis_line}", 200, headers


def _redis_status() -> str:
    """One line on Redis: not configured, ok, or down (and what the portal does meanwhile)."""
    if not current_app.config.get("REDIS_URL"):
        return "redis: not configured\n"
    client = redis_client()
    meanwhile = "rate limits count per process, the snapshot cache is skipped"
    if client is None:
        return f"redis: down (no answer in the last {REDIS_RETRY_AFTER} s); {meanwhile}\n"
    try:
        client.ping()
    except redis.RedisError as error:
        redis_failed(error)
        return f"redis: down ({error}); {meanwhile}\n"
    return "redis: ok\n"
