"""Logs: a request id on every request and log line, and JSON lines when LOG_FORMAT=json.

The id comes from the proxy in front (nginx sets ``X-Request-ID`` to its ``$request_id``) or is made here,
is sent back in the response's ``X-Request-ID``, and is on every log line written while the request runs, so
nginx's access log, the app's lines and an error's traceback can be matched. With ``LOG_FORMAT=json`` each
line is one JSON object (python-json-logger), and each request ends with a line giving its method, path,
status, duration in milliseconds and the signed-in user's id; without it the format is the usual human one
(``make run``, where the development server logs each request itself).
"""

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from flask_login import current_user
from pythonjsonlogger.json import JsonFormatter

log = logging.getLogger("portal.request")

# What an id from the proxy may look like (nginx's $request_id is 32 hex digits); anything else is replaced.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"  # and "time", in ISO 8601 (UTC)


def _with_request_id(make_record):
    """A log record factory that puts the current request's id (or None) on every record."""
    def make(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.request_id = g.get("request_id") if has_request_context() else None
        return record
    make.portal = True  # type: ignore[attr-defined]
    return make


class HumanFormatter(logging.Formatter):
    """The usual one-line format, with the request's id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return line if not request_id else f"{line} [request {request_id}]"


def formatter(log_format: str) -> logging.Formatter:
    """JSON lines (python-json-logger; a traceback goes in ``exc_info``) or the human format."""
    if log_format == "json":
        return JsonFormatter(JSON_FIELDS, timestamp="time", rename_fields={"levelname": "level", "name": "logger"})
    return HumanFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure(log_format: str) -> None:
    """Once per process: request ids on every record, and, unless something (a test runner) set up logging
    already, one handler on standard error in the chosen format."""
    if not getattr(logging.getLogRecordFactory(), "portal", False):
        logging.setLogRecordFactory(_with_request_id(logging.getLogRecordFactory()))
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter(log_format))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    logging.getLogger("portal").setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    configure(app.config.get("LOG_FORMAT", "human"))
    as_json = app.config.get("LOG_FORMAT") == "json"

    @app.before_request
    def take_request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def give_request_id(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        if as_json and "request_started" in g:
            user_id = current_user.id if current_user and current_user.is_authenticated else None
            log.info("request", extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1),
                "user_id": user_id,
            })
        return response
