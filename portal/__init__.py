"""The Manufacturing Innovation Network portal."""

import os
import secrets
from pathlib import Path

from flask import Flask, has_request_context
from flask_login import current_user
from jinja2 import pass_context
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms import Form as WTForm

from config import CONFIGS
from portal import api, cli, errors, headers, request_log, static_files
from portal.addresses import RecordIdConverter
from portal.audit.routes import bp as audit_bp
from portal.auth import bp as auth_bp
from portal.extensions import csrf, db, limiter, login_manager, migrate
from portal.geography import state_name
from portal.imports.routes import bp as imports_bp
from portal.institute_admin import bp as institute_admin_bp
from portal.institutes.routes import bp as institutes_bp
from portal.invitations import bp as invitations_bp
from portal.ledger.routes import bp as ledger_bp
from portal.main.routes import bp as main_bp
from portal.memberships.routes import bp as memberships_bp
from portal.models import encryption
from portal.network.routes import bp as network_bp
from portal.notifications.routes import bp as notifications_bp
from portal.open_data.routes import bp as open_data_bp
from portal.organizations.routes import bp as organizations_bp
from portal.proposals import bp as proposals_bp
from portal.services.clock import local_time, long_date
from portal.services.home import waiting_count_kept
from portal.services.notifications import unread_count
from portal.services.parsing import format_cents
from portal.snapshot.routes import bp as snapshot_bp
from portal.workforce.routes import bp as workforce_bp

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: str | type | None = None, **overrides) -> Flask:
    """Build the app: load configuration and wire extensions, blueprints and handlers."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    if config is None or isinstance(config, str):
        config = CONFIGS[config or os.environ.get("PORTAL_ENV", "development")]
    app.config.from_object(config)
    app.config.update(overrides)
    _ensure_secret_key(app)
    encryption.check_keys(app.config)
    request_log.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # the pool from DATABASE_POOL_SIZE and DATABASE_MAX_OVERFLOW, unless the engine options name it already
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": app.config["DATABASE_POOL_SIZE"],
                                                   "max_overflow": app.config["DATABASE_MAX_OVERFLOW"],
                                                   **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}

    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        # Flask's documented way to put middleware around the app; its stubs declare wsgi_app a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"

    app.url_map.converters["int"] = RecordIdConverter  # before any route is added
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(institutes_bp)
    app.register_blueprint(organizations_bp)
    app.register_blueprint(memberships_bp)
    app.register_blueprint(institute_admin_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(proposals_bp)
    app.register_blueprint(snapshot_bp)
    app.register_blueprint(open_data_bp)
    app.register_blueprint(workforce_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(network_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(invitations_bp)
    api.init_app(app)

    if app.config.get("STATIC_FOLDER"):
        app.static_folder = app.config["STATIC_FOLDER"]
    static_files.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    cli.init_app(app)
    app.jinja_env.add_extension("jinja2.ext.do")
    _template_helpers(app)
    return app


def _ensure_secret_key(app: Flask) -> None:
    """Use SECRET_KEY if set; otherwise keep a generated one in instance/secret_key."""
    if app.config.get("SECRET_KEY"):
        return
    if app.config.get("REQUIRE_SECRET_KEY"):
        raise RuntimeError("Set SECRET_KEY in production: every app server must share one key.")
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    app.config["SECRET_KEY"] = path.read_text().strip()


def _template_helpers(app: Flask) -> None:
    app.add_template_filter(format_cents, "dollars")
    app.add_template_global(lambda: secrets.token_urlsafe(24), "one_time_key")

    @app.context_processor
    def unread_notifications():
        """The bell's count: one small query on pages for signed-in users."""
        if has_request_context() and current_user.is_authenticated:  # mail is rendered outside requests too
            return {"unread_count": unread_count(current_user)}
        return {"unread_count": 0}

    @app.template_global()
    def tasks_waiting() -> int:
        """The header's count of what waits for the signed-in person (asked only by pages that show it;
        kept per version of the network, so a page usually pays one small query for it)."""
        if has_request_context() and current_user.is_authenticated:
            return waiting_count_kept(current_user)
        return 0

    @app.template_global()
    @pass_context
    def form_with_errors(context):
        """The first form on the page that failed to submit, or None: its page title starts with "Error: "
        and a skip link leads to its error summary."""
        return next((value for value in context.get_all().values() if isinstance(value, WTForm) and value.errors),
                    None)

    @app.template_filter("local_time")
    def _local_time(value) -> str:
        """A UTC time in the signed-in person's time zone (US Eastern for everyone else), the zone named."""
        zone = current_user.time_zone if has_request_context() and current_user.is_authenticated else None
        return local_time(value, zone)

    @app.template_filter("slice_pick")
    def slice_pick(row, label_index: int, value_index: int):
        """(row[label_index], row[value_index]): a chart's label and value from a table row."""
        return (row[label_index], row[value_index])

    @app.template_filter("state_name")
    def _state_name(code: str) -> str:
        return state_name(code)

    @app.template_filter("date")
    def date(value) -> str:
        """December 29, 2026."""
        return long_date(value) if value else ""
