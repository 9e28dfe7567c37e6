"""Passkeys and security keys beside the authenticator app: adding and removing them on the account page,
and proving one at the second step of signing in or for step-up. Registered on the auth blueprint.

The browser's part is static/js/passkeys.js: it asks for the options (JSON), lets the browser make or use
the passkey, puts the answer in the form's hidden field and submits the form, which goes through the usual
path. Without JavaScript the passkey forms stay hidden and the authenticator app does everything."""

from flask import Response, abort, flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from portal.auth.forms import AddPasskeyForm, CodeForm, PasskeyForm
from portal.auth.routes import bp, limited, pending_user, render_account, safe_next
from portal.auth.second_factor import (
    code_limits,
    render_second_step,
    render_step_up,
    signed_in,
    step_up_fresh,
    step_up_needed,
    stepped_up,
)
from portal.extensions import db
from portal.forms import ConfirmForm, show_domain_error
from portal.models import PasskeyCredential, User
from portal.services import DomainError, passkeys
from portal.views import run_change


def _options(make, user: User) -> ResponseReturnValue:
    try:
        options = make(user)
    except DomainError as error:
        db.session.rollback()
        return jsonify(error=error.message), 409
    db.session.commit()
    return Response(options, mimetype="application/json", headers={"Cache-Control": "no-store"})


@bp.post("/passkeys/authentication-options")
@limited(code_limits)
def passkey_options():
    """The options for proving a passkey: of the person signed in (step-up), or signing in (second step)."""
    user = current_user._get_current_object() if current_user.is_authenticated else pending_user()
    if user is None:
        return jsonify(error="Sign in again: that took too long."), 404
    return _options(passkeys.authentication_options, user)


def _check(user: User, form: PasskeyForm) -> str | None:
    """None when ``user``'s passkey answered; otherwise the form carries the message."""
    if not form.validate_on_submit():
        return "invalid"
    try:
        passkeys.check(user, form.credential.data or "")
    except DomainError as error:
        db.session.rollback()
        show_domain_error(form, error)
        return error.message
    return None


@bp.post("/login/second-factor/passkey")
@limited(code_limits)
def second_factor_passkey():
    """The second step of signing in, with a passkey."""
    user = pending_user()
    if user is None:
        return signed_in_again()
    form = PasskeyForm(prefix="passkey")
    if _check(user, form) is None:
        return signed_in(user, "passkey")
    return render_second_step(user, CodeForm(formdata=None), form)


def signed_in_again() -> ResponseReturnValue:
    flash("Sign in again: that took too long.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/account/second-factor/confirm/passkey")
@login_required
@limited(code_limits)
def step_up_passkey():
    """Step-up with a passkey."""
    next_url = safe_next(request.values.get("next")) or url_for("auth.account")
    form = PasskeyForm(prefix="passkey")
    if _check(current_user._get_current_object(), form) is None:
        return stepped_up(next_url)
    return render_step_up(CodeForm(formdata=None), form, next_url)


@bp.post("/account/passkeys/options")
@login_required
def passkey_registration_options():
    """The options for adding a passkey (after a recent second factor, like every change to the factors)."""
    if not step_up_fresh():
        return jsonify(error="Confirm it is you first."), 409
    return _options(passkeys.registration_options, current_user._get_current_object())


@bp.post("/account/passkeys")
@login_required
def add_passkey():
    """Add the passkey the browser made."""
    if (ask := step_up_needed()) is not None:
        return ask
    form = AddPasskeyForm(prefix="passkey")
    return run_change(form, lambda: passkeys.add(current_user, form.credential.data or "", form.name.data or ""),
                      success=lambda passkey: f"The passkey {passkey.name} is added.",
                      redirect_to=url_for("auth.account"),
                      render=lambda status: render_account(status, passkey_form=form))


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@login_required
def remove_passkey(passkey_id: int):
    """Remove one of one's passkeys."""
    passkey = db.session.get(PasskeyCredential, passkey_id)
    if passkey is None or passkey.user_id != current_user.id:
        abort(404)
    if (ask := step_up_needed()) is not None:
        return ask
    return run_change(ConfirmForm(), lambda: passkeys.remove(current_user, passkey),
                      success=lambda removed: f"The passkey {removed.name} is removed.",
                      redirect_to=url_for("auth.account"))
