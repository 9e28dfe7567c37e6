"""Error pages in the site's layout, and problem+json under /api."""

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back, reload the page and try again."),
    403: ("Not allowed", "You do not have permission to see or do that."),
    404: ("Page not found", "There is no page at this address. Check it, or start from the home page."),
    405: ("Not allowed", "That action is not available at this address."),
    413: ("File too large", "The file is larger than the portal accepts (25 MB). Split it into several files and "
                            "upload each; nothing was imported."),
    429: ("Too many attempts", "You have tried this too many times. Wait a few minutes, then try again."),
    500: ("Something went wrong", "The portal had a problem and nothing was changed. Try again in a moment."),
}


def render_error(code: int, message: str | None = None):
    title, default = MESSAGES.get(code, MESSAGES[500])
    if request.path.startswith("/api/"):
        body = {"type": "about:blank", "title": title, "status": code, "detail": message or default}
        response = jsonify(body)
        response.status_code = code
        response.mimetype = "application/problem+json"
        return response
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
        return render_error(error.code or 500)

    @app.errorhandler(InternalServerError)
    def server_error(error):
        db.session.rollback()
        return render_error(500)
