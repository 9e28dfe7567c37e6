"""Request ids and JSON logs: nginx's id is taken and echoed, every line carries it, and LOG_FORMAT=json
writes one JSON object per line with each request's method, path, status, duration and user."""

import json
import logging
import sys

from portal import request_log
from tests.conftest import login
from tests.factories import make_user


def test_the_proxys_request_id_is_echoed_and_a_missing_or_odd_one_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["X-Request-ID"] == "abc123"
    made = client.get("/healthz").headers["X-Request-ID"]
    odd = client.get("/healthz", headers={"X-Request-ID": "a b;<c>"}).headers["X-Request-ID"]
    assert len(made) == 32 and len(odd) == 32 and made != odd


def test_with_json_logs_each_request_has_a_line_with_its_id_status_duration_and_user(make_app, caplog):
    app = make_app(LOG_FORMAT="json")
    user = make_user(app, email="someone@example.com")
    client = app.test_client()
    login(client, "someone@example.com")
    with caplog.at_level(logging.INFO, logger="portal.request"):
        client.get("/account", headers={"X-Request-ID": "req-1"})
    [record] = [r for r in caplog.records if r.name == "portal.request" and r.request_id == "req-1"]
    assert (record.method, record.path, record.status, record.user_id) == ("GET", "/account", 200, user.id)
    assert record.duration_ms >= 0
    line = json.loads(request_log.formatter("json").format(record))
    assert line["message"] == "request" and line["level"] == "INFO" and line["request_id"] == "req-1"
    assert line["path"] == "/account" and line["status"] == 200 and "time" in line


def test_an_error_line_carries_its_traceback_in_json():
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.LogRecord("portal", logging.ERROR, __file__, 1, "Exception on /x", None, sys.exc_info())
    line = json.loads(request_log.formatter("json").format(record))
    assert "ValueError: broken" in line["exc_info"] and "Traceback" in line["exc_info"]


def test_the_human_format_names_the_request_only_inside_one():
    outside = logging.LogRecord("portal", logging.INFO, __file__, 1, "started", None, None)
    outside.request_id = None
    inside = logging.LogRecord("portal", logging.INFO, __file__, 1, "a page", None, None)
    inside.request_id = "req-2"
    human = request_log.formatter("human")
    assert human.format(outside).endswith("INFO portal: started")
    assert human.format(inside).endswith("INFO portal: a page [request req-2]")
