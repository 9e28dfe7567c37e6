"""The second factor: signing in with it, enrolling, step-up before the most sensitive changes, and a
network administrator's reset of someone else's."""

from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from portal.auth.forms import (
    CodeForm,
    EnrolForm,
    ForgotPasswordForm,
    LinkPasswordForm,
    LockedLoginForm,
    PasskeyForm,
    ResetSecondFactorForm,
)
from portal.auth.routes import (
    GENERIC_LOCKED_ERROR,
    address_limits,
    bp,
    current_session,
    limited,
    pending_user,
    safe_next,
    start_session,
)
from portal.extensions import db, limiter
from portal.forms import ConfirmForm, filled, show_domain_error
from portal.models import User
from portal.models.base import utcnow
from portal.services import DomainError, accounts, mfa, passkeys
from portal.views import refusal, run_change


def _second_step_key() -> str:
    """Rate-limit key for codes tried against one account: the one signing in, or the one signed in."""
    user_id = current_user.id if current_user.is_authenticated else session.get("pending_uid")
    return f"second-factor:{user_id}"


# Codes tried from one address, and against one account (six digits are guessed in time without this).
code_limits = [
    limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"]),
    limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_second_step_key,
                  methods=["POST"]),
]

def _link_account_key() -> str:
    return f"sign-in-link:{(request.form.get('link-email') or '').strip().casefold()}"


# Sign-in links: kept apart from the sign-in attempts, which a guesser may have used up.
link_limits = [
    limiter.limit(lambda: current_app.config["EMAIL_LIMIT_PER_ADDRESS"], methods=["POST"]),
    limiter.limit("3 per hour", key_func=_link_account_key, methods=["POST"]),
]

# Pages that stay open to someone who must still enrol or prove their second factor.
OPEN_ENDPOINTS = {"static", "main.healthz", "main.readyz", "main.index"}


def step_up_fresh() -> bool:
    record = current_session()
    if record is None or record.second_factor_at is None:
        return False
    return utcnow() - record.second_factor_at <= timedelta(seconds=current_app.config["STEP_UP_MAX_AGE"])


def _back() -> str:
    """Where a person was when a change asked for a fresh second factor: the page the form was on."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return url_for("auth.account")
    path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return safe_next(path) or url_for("auth.account")


def step_up_needed() -> ResponseReturnValue | None:
    """None when a second factor was proved in the last 15 minutes; otherwise the redirect that asks for it
    (and then sends the person back to the page they were on, to do it again). Views call it once they have
    checked that the person may make the change at all."""
    if not current_user.has_second_factor:
        flash("Set up an authenticator app first.", "info")
        return redirect(url_for("auth.enrol"), 303)
    if not step_up_fresh():
        flash("To do that, confirm it is you with your authenticator app, then do it again.", "info")
        return redirect(url_for("auth.step_up", next=_back()), 303)
    return None


@bp.before_app_request
def require_second_factor():
    """Institute and network administrators see no page but their account's until their second factor is
    set up and proved in this session."""
    endpoint = request.endpoint or ""
    if endpoint in OPEN_ENDPOINTS or endpoint.startswith("auth.") or not current_user.is_authenticated:
        return None
    if request.path.startswith("/api/"):  # a token's owner proved the second factor when the token was made
        return None
    record = current_session()
    if record is not None and record.second_factor_at is not None:
        return None
    if not mfa.must_use(current_user):
        return None
    if current_user.has_second_factor:
        flash("Confirm it is you with your authenticator app to continue.", "info")
        return redirect(url_for("auth.step_up", next=request.full_path.rstrip("?")))
    flash("Administrators need a second factor: set up an authenticator app to continue.", "info")
    return redirect(url_for("auth.enrol"))


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limited(code_limits)
def second_factor():
    """The second step of signing in: a code from the authenticator app or a recovery code."""
    user = pending_user()
    if user is None:
        flash("Sign in again: that took too long.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            used = mfa.check(user, filled(form.code.data))
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            return signed_in(user, used)
    return render_second_step(user, form, PasskeyForm(formdata=None, prefix="passkey"))


def signed_in(user: User, used: str) -> ResponseReturnValue:
    """The second step is done: the session starts, and the person goes where they were going."""
    accounts.record_login(user)
    next_url = session.get("pending_next")
    start_session(user, second_factor=True)
    if used == "recovery code":
        flash(f"You used a recovery code; {mfa.recovery_codes_left(user)} are left.", "info")
    flash(f"Signed in as {user.email}.", "success")
    return redirect(safe_next(next_url) or url_for("main.index"))


def render_second_step(user: User, form: CodeForm, passkey_form: PasskeyForm) -> ResponseReturnValue:
    status = 422 if form.errors or passkey_form.errors else 200
    return render_template("auth/second_factor.html", form=form, passkey_form=passkey_form,
                           has_passkeys=bool(passkeys.passkeys_of(user))), status


@bp.route("/login/locked", methods=["GET", "POST"])
@limited(address_limits)
def locked_login():
    """Sign in while the account's sign-in attempts are used up (someone else may be guessing): the
    password and a second factor together, so that guessing cannot lock the owner out."""
    form = LockedLoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(filled(form.email.data), filled(form.password.data))
        try:
            if user is None or not user.is_verified or not user.has_second_factor:
                raise DomainError(None, GENERIC_LOCKED_ERROR)
            mfa.check(user, filled(form.code.data))
        except DomainError:
            db.session.rollback()
            form.form_errors.append(GENERIC_LOCKED_ERROR)
        else:
            accounts.record_login(user)
            start_session(user, second_factor=True)
            flash(f"Signed in as {user.email}.", "success")
            return redirect(url_for("main.index"))
    status = 422 if form.errors or form.form_errors else 200
    link_form = ForgotPasswordForm(formdata=None, prefix="link")
    return render_template("auth/locked_login.html", form=form, link_form=link_form), status


@bp.post("/login/link")
@limited(link_limits)
def request_link():
    """Mail a sign-in link to an account's owner (the same answer whether or not the account exists)."""
    form = ForgotPasswordForm(prefix="link")
    if form.validate_on_submit():
        accounts.request_sign_in_link(filled(form.email.data))
        db.session.commit()
        flash("If that address has an account, we have sent it a sign-in link. It works once, for 15 minutes.",
              "info")
    return redirect(url_for("auth.locked_login"))


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@limited(address_limits)
def link_login(token: str):
    """Sign in from a mailed link with the password: the password alone may be paused by someone guessing."""
    if (error := refusal(lambda: accounts.user_for_sign_in_link(token))) is not None:
        flash(error.message, "error")
        return redirect(url_for("auth.locked_login"))
    form = LinkPasswordForm()
    if request.method == "GET":
        return render_template("auth/link_login.html", form=form)
    return run_change(form, lambda: accounts.sign_in_by_link(token, filled(form.password.data)),
                      success=lambda user: f"Signed in as {user.email}.", redirect_to=url_for("main.index"),
                      render=lambda status: (render_template("auth/link_login.html", form=form), status),
                      then=start_session)


@bp.route("/account/second-factor/confirm", methods=["GET", "POST"])
@login_required
@limited(code_limits)
def step_up():
    """Prove the second factor again (step-up) before a sensitive change."""
    if not current_user.has_second_factor:
        return redirect(url_for("auth.enrol"))
    next_url = safe_next(request.values.get("next")) or url_for("auth.account")
    form = CodeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            mfa.check(user, filled(form.code.data))
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            return stepped_up(next_url)
    return render_step_up(form, PasskeyForm(formdata=None, prefix="passkey"), next_url)


def stepped_up(next_url: str) -> ResponseReturnValue:
    current_session().second_factor_at = utcnow()
    db.session.commit()
    flash("Confirmed. You can go on for the next 15 minutes.", "success")
    return redirect(next_url)


def render_step_up(form: CodeForm, passkey_form: PasskeyForm, next_url: str) -> ResponseReturnValue:
    status = 422 if form.errors or passkey_form.errors else 200
    return render_template("auth/step_up.html", form=form, passkey_form=passkey_form, next_url=next_url,
                           has_passkeys=bool(passkeys.passkeys_of(current_user))), status


@bp.route("/account/second-factor", methods=["GET", "POST"])
@login_required
def enrol():
    """Set up an authenticator app; the recovery codes are shown once."""
    user = current_user._get_current_object()
    if user.has_second_factor:
        return redirect(url_for("auth.account"))
    record = current_session()
    secret = mfa.pending_secret(record)
    if request.method == "GET" or secret is None:  # a new secret for each visit, kept server-side
        secret = mfa.start_enrolment(record)
        db.session.commit()
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = mfa.enrol(user, record, filled(form.code.data))
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            record.second_factor_at = utcnow()
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, enrolled=True)
    status = 422 if form.errors else 200
    return render_template("auth/enrol.html", form=form, secret=secret,
                           uri=mfa.provisioning_uri(secret, user.email)), status


@bp.post("/account/second-factor/recovery-codes")
@login_required
def renew_recovery_codes():
    """New recovery codes, shown once; the old ones stop working."""
    if (ask := step_up_needed()) is not None:
        return ask
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.account"))
    codes = mfa.renew_recovery_codes(current_user)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes, enrolled=False)


@bp.route("/admin/second-factor-reset", methods=["GET", "POST"])
@login_required
def reset_second_factor():
    """A network administrator removes someone's lost second factor (audited; the owner is told)."""
    if not current_user.is_network_admin:
        abort(403)
    if (ask := step_up_needed()) is not None:
        return ask
    form = ResetSecondFactorForm()
    if request.method == "GET":
        return render_template("auth/reset_second_factor.html", form=form)

    def reset():
        user = accounts.find_by_email(filled(form.email.data))
        if user is None:
            raise DomainError("email", "No account has that email address")
        mfa.reset(current_user, user, reason=filled(form.reason.data))
        return user

    return run_change(form, reset, success=lambda user: f"The second factor of {user.email} has been reset.",
                      redirect_to=url_for("auth.reset_second_factor"),
                      render=lambda status: (render_template("auth/reset_second_factor.html", form=form), status))
