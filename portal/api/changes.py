"""The one way an API route runs a change, the Idempotency-Key, and opaque cursors for lists.

A change: call one service -> on ``DomainError`` roll back and answer a problem naming the field (422, or the
status the service gave) -> otherwise commit once and answer. The same as ``views.run_change`` for the pages."""

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from typing import Any, NoReturn

import sqlalchemy as sa
from flask import Response, abort, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import abort as abort_with
from marshmallow import Schema
from sqlalchemy.exc import IntegrityError

from portal import paging
from portal.api.auth import current_token
from portal.errors import MESSAGES
from portal.extensions import db
from portal.models import IdempotentRequest
from portal.problems import problem
from portal.services import DomainError, Repeat

KEY_HEADER = "Idempotency-Key"


# A service names the field of the page's form; the API's body names some of them otherwise.
BODY_FIELDS = {"amount": "amount_cents", "organization": "organization_id", "tier": "tier_id"}


def refused(error: DomainError) -> ResponseReturnValue:
    """The service's refusal as a problem, naming the field of the request's body it concerns."""
    title = MESSAGES.get(error.status, ("Refused", ""))[0]
    field = BODY_FIELDS.get(error.field, error.field) if error.field else None
    return problem(error.status, title, error.message, {field: [error.message]} if field else None)


def refuse_field(field: str, message: str) -> NoReturn:
    """422 naming a field of the request's body, as a malformed body is answered."""
    abort_with(422, messages={"json": {field: [message]}})
    raise AssertionError("abort raises")  # flask-smorest's abort is not typed NoReturn


def showing(record: Any, schema: Schema) -> Callable[[Any], dict]:
    """The answer for a service that changes ``record`` in place and returns nothing: the record after it."""
    return lambda _result: schema.dump(record)


def run(change: Callable[[], Any], dump: Callable[[Any], dict], status: int = 200) -> ResponseReturnValue:
    """Run ``change`` (one service call) and answer ``dump(result)`` with ``status``, or the refusal."""
    try:
        result = change()
    except DomainError as error:
        db.session.rollback()
        return refused(error)
    except Repeat:
        db.session.rollback()
        return problem(409, "Conflict", "That was already recorded; it has not been recorded twice.")
    body = dump(result)
    db.session.commit()
    return answer(body, status)


def answer(body: dict, status: int, headers: dict[str, str] | None = None) -> ResponseReturnValue:
    """A JSON answer made here, so that the route's schema does not dump it again (204: no body at all)."""
    response = Response(status=204) if status == 204 else jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def run_idempotent(change: Callable[[], Any], dump: Callable[[Any], dict], status: int = 201) -> ResponseReturnValue:
    """``run`` with the request's Idempotency-Key (optional): the same key with the same body answers what the
    first request was answered, without acting again; with another body, 422. The key is written first, in the
    change's transaction, under a unique constraint: a second request with the key waits for the first to commit
    and then replays it. A refused change keeps no key (the caller may correct the body and send it again)."""
    key = request.headers.get(KEY_HEADER)
    token = current_token()
    if key is None or token is None:
        return run(change, dump, status)
    if not key.strip() or len(key) > 255:
        abort(400, description=f"An {KEY_HEADER} has 1 to 255 characters.")
    body_hash = hashlib.sha256(request.get_data()).hexdigest()
    record = IdempotentRequest(token_id=token.id, key=key, request_hash=body_hash)
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        earlier = db.session.scalar(sa.select(IdempotentRequest).where(
            IdempotentRequest.token_id == token.id, IdempotentRequest.key == key))
        assert earlier is not None
        if earlier.request_hash != body_hash:
            db.session.rollback()
            return problem(422, "Unprocessable content", f"This {KEY_HEADER} was used with another request body.",
                           {KEY_HEADER: ["Used before with another body: use a new key for a new request"]})
        replay = answer(earlier.response or {}, earlier.status, {"Idempotent-Replayed": "true"})
        db.session.rollback()
        return replay
    try:
        result = change()
    except DomainError as error:
        db.session.rollback()
        return refused(error)
    body = dump(result)
    record.status, record.response = status, body
    db.session.commit()
    return answer(body, status)


def encode_cursor(after: str | None) -> str | None:
    """paging.keyset's cursor (the last row's keys as JSON) as an opaque URL-safe string."""
    return base64.urlsafe_b64encode(after.encode()).decode().rstrip("=") if after else None


def paged(page: paging.Page) -> dict:
    """A page of a list as the API answers it: its items and the opaque cursor of the next page."""
    return {"items": page.items, "next_cursor": encode_cursor(page.after)}


def decode_cursor(cursor: str | None) -> str | None:
    """The keys a cursor holds; 400 for one this API did not give."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        abort(400, description="That cursor is not one this API gave; start from the first page.")
    return text
