"""Flask extensions, created unbound and wired in ``create_app``."""

import sqlalchemy as sa
from flask import request
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


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_connect(dbapi_connection, _record) -> None:
    """Foreign keys and a busy timeout on every SQLite connection, and transactions that
    SQLAlchemy begins itself (pysqlite's own handling breaks SAVEPOINT)."""
    if _is_sqlite(dbapi_connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


@sa.event.listens_for(sa.Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


def form_email_key() -> str:
    """Rate-limit key for the account named in a submitted form."""
    email = (request.form.get("email") or "").strip().casefold()
    return f"account:{email}"
