"""Answers in problem+json (RFC 9457, https://www.rfc-editor.org/rfc/rfc9457): ``type``, ``title``, ``status``,
``detail`` and, for a request the portal refused because of what it said, ``errors`` by field."""

from flask import jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

PROBLEM_TYPE = "about:blank"  # the status says it all (RFC 9457, section 4.2.1)


class ProblemSchema(Schema):
    """A problem (RFC 9457)."""

    type = fields.String(required=True, metadata={"description": "about:blank: the status says what it is"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Messages by the name of the field they are about"})


def problem(status: int, title: str, detail: str, errors: dict[str, list[str]] | None = None,
            headers: dict[str, str] | None = None) -> ResponseReturnValue:
    body: dict = {"type": PROBLEM_TYPE, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(messages: dict) -> dict[str, list[str]]:
    """webargs' messages ({location: {field: [message]}}, nested for nested fields) as {field: [message]},
    a nested field named by its path (``schedule.0.amount_cents``)."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            flat.setdefault(prefix or "request", []).extend(value)
        else:
            flat.setdefault(prefix or "request", []).append(str(value))

    for location in messages.values() if all(isinstance(v, dict) for v in messages.values()) else [messages]:
        walk("", location)
    return flat
