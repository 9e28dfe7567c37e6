"""The JSON API at /api/v1: flask-smorest blueprints (marshmallow schemas, apispec), one per domain, and the
OpenAPI 3.1 description made from them at /api/v1/openapi.json with a documentation page at /api/v1/docs.

Callers authenticate with a personal access token (``auth``); errors are problem+json (``portal.problems``); CORS is
allowed on public reads only, without credentials."""

import http

from flask import Flask
from flask_cors import CORS
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from portal.api import auth, docs, invitations, members, public
from portal.extensions import csrf, limiter
from portal.problems import ProblemSchema

# Public reads that other sites' pages may fetch: the API's public GETs and the open data files.
CORS_PATHS = [r"/api/v1/(institutes|calls|snapshot|openapi\.json).*", r"/snapshot\.(json|csv)",
              r"/institutes/[^/]+/snapshot\.(json|csv)", r"/open-data/.*", r"/datapackage\.json", r"/data\.json"]


class PortalApi(Api):
    """flask-smorest's Api, leaving errors to ``portal.errors`` (problem+json under /api, the site's error page
    elsewhere) instead of registering its own handler for every HTTP error of the app."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"

    def _register_error_handlers(self) -> None:
        return None

    def _register_responses(self) -> None:
        """The error answers flask-smorest describes for each status, as problem+json."""
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, "application/problem+json")
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, "application/problem+json")
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


api = PortalApi()


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Manufacturing Innovation Network portal API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "The portal's public data and the work of organizations and institutes, for "
                                "scripts. Errors are problem+json (RFC 9457)."},
        "components": {"securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "A personal access token made on the account page."}}},
    })
    auth.init_app(app)
    api.init_app(app)
    for blueprint in (public.bp, members.bp, invitations.bp):
        csrf.exempt(blueprint)  # cookies never authenticate the API (auth._identify), so no CSRF token is needed
        limiter.limit(auth.rate_limit, key_func=auth.rate_key)(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    CORS(app, resources={path: {"methods": ["GET", "HEAD", "OPTIONS"]} for path in CORS_PATHS},
         supports_credentials=False, origins="*", expose_headers=["Link"], vary_header=True)
