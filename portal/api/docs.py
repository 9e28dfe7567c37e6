"""The API's documentation: a page made on the server from the OpenAPI description, with no script (the site's
CSP allows none inline and nothing from elsewhere)."""

from flask import Blueprint, current_app, render_template

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
def docs():
    """Every operation of the API with its parameters, body and answers."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("api/docs.html", spec=spec)
