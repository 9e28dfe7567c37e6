"""Who calls the API: a personal access token in ``Authorization: Bearer``, never a cookie.

Before any other hook runs for a path under /api/, the token (or nobody) becomes the request's user, and the
session cookie is never read there (``CookielessApiSessions``): a page's session cannot act through the API,
and so the API needs no CSRF token (its blueprints are exempt for that reason alone)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Request, Response, abort, current_app, g, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_login import AnonymousUserMixin
from flask_smorest import Blueprint

from portal.extensions import db
from portal.models import ApiToken, TokenScope, User
from portal.services import api_tokens

API_PREFIX = "/api/"
DOCS_PAGE = "/api/v1/docs"  # a page of the site like any other (it shows who is signed in); it changes nothing


def is_api(path: str) -> bool:
    """A path the API answers (its documentation page is one of the site's pages)."""
    return path.startswith(API_PREFIX) and path != DOCS_PAGE


class CookielessApiSessions(SecureCookieSessionInterface):
    """The site's signed-cookie sessions, except under /api/: there the cookie is not read (an empty session
    stands in) and no session is written, so an API answer never sets a cookie nor says ``Vary: Cookie``.
    Flask adds that header whenever the session was accessed at all (``RequestContext.session``), and
    Flask-Login's after-request hook reads the session on every request; the API's answers do not vary with
    cookies, and a cache in front may share them."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_api(request.path):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if has_request_context() and is_api(request.path):
            return
        super().save_session(app, session, response)


def _identify() -> None:
    """The token's owner as ``current_user`` for an API request (anonymous without a token); 401 for a token
    that is unknown, expired, revoked, or whose account is disabled."""
    if not is_api(request.path):
        return
    g.api_token = None
    g._login_user = AnonymousUserMixin()  # Flask-Login's per-request user: the cookie is never consulted
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        abort(401, description="Send the token as 'Authorization: Bearer TOKEN'.")
    token = api_tokens.authenticate(secret.strip())
    if token is None:
        abort(401, description="The token is not known, has expired or was revoked, or its account is disabled.")
    db.session.commit()  # its last use, when noted (at most once a minute), is kept whatever follows
    g.api_token = token
    g._login_user = token.user


def init_app(app: Flask) -> None:
    app.session_interface = CookielessApiSessions()
    # First of all before-request hooks, so that no other (the second factor's redirect, say) reads the cookie.
    app.before_request_funcs.setdefault(None, []).insert(0, _identify)


def current_token() -> ApiToken | None:
    return g.get("api_token")


def caller() -> User:
    """The token's owner (call only within ``token_required``)."""
    token = current_token()
    assert token is not None
    return token.user


def token_required(scope: str = TokenScope.READ) -> Callable:
    """401 without a token; 403 when a read token tries to change something."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            token = current_token()
            if token is None:
                abort(401, description="This needs a personal access token: send 'Authorization: Bearer TOKEN'.")
            if scope == TokenScope.WRITE and token.scope != TokenScope.WRITE:
                abort(403, description="This token may only read; make a write token for changes.")
            return view(*args, **kwargs)
        return wrapped
    return decorate


def rate_key() -> str:
    """Rate limits count per token, and per address for callers without one."""
    token = current_token()
    return f"api-token:{token.id}" if token is not None else f"api-address:{request.remote_addr}"


def rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


class ApiBlueprint(Blueprint):
    """flask-smorest's Blueprint, naming each operation in the description after its view (``record_pledge``),
    so that generated clients read well."""

    def register_views_in_doc(self, api, app, spec, *, name, parameters):
        for endpoint, info in self._docs.items():
            for method, operation in info.items():
                if method != "parameters":
                    operation.setdefault("manual_doc", {}).setdefault("operationId", endpoint)
        return super().register_views_in_doc(api, app, spec, name=name, parameters=parameters)
