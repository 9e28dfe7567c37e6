"""Flask extensions, created unbound and wired in ``create_app``."""

import logging
import time

import redis
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from portal.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)

log = logging.getLogger("portal.redis")

# After Redis fails, requests leave it alone for this many seconds rather than each waiting on it.
REDIS_RETRY_AFTER = 30


# How long a SQLite transaction waits for another's write to finish before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_connect(dbapi_connection, _record) -> None:
    """Foreign keys, a busy timeout and WAL on every SQLite connection, and transactions that SQLAlchemy
    begins itself (pysqlite's own handling breaks SAVEPOINT).

    WAL lets readers go on while a transaction writes (and a writer while others read); an in-memory
    database stays in its own journal mode."""
    if _is_sqlite(dbapi_connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


@sa.event.listens_for(sa.Engine, "begin")
def _sqlite_begin(connection) -> None:
    """SQLite transactions begin IMMEDIATE: they take the write lock first (waiting their turn up to the
    busy timeout), so one that reads and then writes never fails with "database is locked" because
    another wrote in between, as a deferred BEGIN does. A transaction that only reads and may be long
    (``flask ledger verify``) asks for ``sqlite_begin="DEFERRED"``; in WAL it then holds no lock and sees
    one snapshot."""
    if connection.dialect.name == "sqlite":
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def form_email_key() -> str:
    """Rate-limit key for the account named in a submitted form."""
    email = (request.form.get("email") or "").strip().casefold()
    return f"account:{email}"


def redis_client():
    """The app's Redis client (one pool of connections per app), with REDIS_TIMEOUT on connecting and
    on every answer; None without REDIS_URL, and None for a while after Redis failed (``redis_failed``).

    Redis is shared cache here, never the only copy of anything, so callers go on without it."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    state = current_app.extensions.get("portal_redis")
    if state is None:
        timeout = current_app.config["REDIS_TIMEOUT"]
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        state = current_app.extensions["portal_redis"] = {"client": client, "down_until": 0.0}
    if time.monotonic() < state["down_until"]:
        return None
    return state["client"]


def redis_failed(error: Exception) -> None:
    """Note that Redis did not answer: warn once, and leave it alone for REDIS_RETRY_AFTER seconds."""
    state = current_app.extensions["portal_redis"]
    if time.monotonic() >= state["down_until"]:
        log.warning("Redis is not answering (%s); going on without it for %s s", error, REDIS_RETRY_AFTER)
    state["down_until"] = time.monotonic() + REDIS_RETRY_AFTER


# Answers kept for the rest of a transaction -----------------------------------------------------------------

def per_transaction(key: tuple, make):
    """``make()``, asked once per transaction for ``key``: a page asks "is this person on the team?" or "does
    this person administer the institute?" in several places (the check that lets them in, the buttons, the
    template), and each asking was a query. Any flush, commit or rollback forgets every answer, so a change
    is never judged by what was true before it."""
    kept = db.session.info.setdefault("per_transaction", {})
    if key not in kept:
        kept[key] = make()
    return kept[key]


@sa.event.listens_for(so.Session, "after_flush")
@sa.event.listens_for(so.Session, "after_commit")
@sa.event.listens_for(so.Session, "after_rollback")
@sa.event.listens_for(so.Session, "after_soft_rollback")
def _forget_answers(session, *_args) -> None:
    session.info.pop("per_transaction", None)
