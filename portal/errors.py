"""Error pages in the site's layout, and problem+json under /api."""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db
from portal.problems import field_errors, problem

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back, reload the page and try again."),
    401: ("Not signed in", "Send a personal access token as 'Authorization: Bearer TOKEN' (make one on your "
                           "account page)."),
    403: ("Not allowed", "You do not have permission to see or do that."),
    404: ("Page not found", "There is no page at this address. Check it, or start from the home page."),
    405: ("Not allowed", "That action is not available at this address."),
    413: ("File too large", "The file is larger than the portal accepts (25 MB). Split it into several files and "
                            "upload each; nothing was imported."),
    409: ("Conflict", "That cannot be done in the state the record is in."),
    415: ("Unsupported media type", "Send the request's body as application/json."),
    422: ("Unprocessable content", "The request was understood but some of what it said cannot be accepted."),
    429: ("Too many attempts", "You have tried this too many times. Wait a few minutes, then try again."),
    500: ("Something went wrong", "The portal had a problem and nothing was changed. Try again in a moment."),
}


def render_error(code: int, message: str | None = None, errors: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None):
    title, default = MESSAGES.get(code, MESSAGES[500])
    if request.path.startswith("/api/"):
        return problem(code, title, message or default, errors, headers)
    return render_template("errors/error.html", code=code, title=title, message=message or default), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, "The form had expired or was not sent by this site. "
                                 "Go back, reload the page and submit it again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 500:
            return server_error(error)
        data = getattr(error, "data", None) or {}  # webargs' abort: the request's fields that were refused
        errors = field_errors(data["messages"]) if isinstance(data.get("messages"), dict) else None
        detail = ("Some fields of the request were refused: see errors." if errors
                  else error.description if request.path.startswith("/api/")
                  and error.description != type(error).description else None)
        headers = {"WWW-Authenticate": 'Bearer realm="api"'} if error.code == 401 else None
        return render_error(error.code or 500, detail, errors, headers)

    @app.errorhandler(InternalServerError)
    def server_error(error):
        db.session.rollback()
        return render_error(500)
