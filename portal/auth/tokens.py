"""Personal access tokens for the JSON API, made and revoked on the account page."""

from flask import abort, render_template, url_for
from flask_login import current_user, login_required

from portal.auth.forms import ApiTokenForm
from portal.auth.routes import bp, current_session, render_account
from portal.auth.second_factor import step_up_needed
from portal.extensions import db
from portal.forms import ConfirmForm, filled, show_domain_error
from portal.services import DomainError, api_tokens
from portal.views import run_change


@bp.post("/account/tokens")
@login_required
def create_token():
    """Make a token after a fresh second factor; its secret is shown on this answer only (as recovery codes
    are), never stored, so there is no page to come back to."""
    if (ask := step_up_needed()) is not None:
        return ask
    form = ApiTokenForm(prefix="token")
    if not form.validate_on_submit():
        return render_account(422, token_form=form)
    record = current_session()
    try:
        token, secret = api_tokens.create(
            current_user, name=filled(form.name.data), scope=filled(form.scope.data),
            days=int(filled(form.days.data)), second_factor_at=record.second_factor_at if record else None)
    except DomainError as error:
        db.session.rollback()
        show_domain_error(form, error)
        return render_account(error.status, token_form=form)
    db.session.commit()
    return render_template("auth/token_created.html", token=token, secret=secret), 201


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of one's tokens: it stops working at once."""
    token = api_tokens.token_of(current_user, token_id)
    if token is None:
        abort(404)
    return run_change(ConfirmForm(), lambda: api_tokens.revoke(current_user, token),
                      success=f"The token {token.name} is revoked.",
                      redirect_to=url_for("auth.account") + "#tokens-heading")
