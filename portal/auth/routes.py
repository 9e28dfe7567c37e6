"""Registration, email verification, sign-in and out, password reset and the account page."""

import time
from dataclasses import replace
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth.forms import (
    NEW_ORGANIZATION,
    AddPasskeyForm,
    ApiTokenForm,
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    JoinOrganizationForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    notification_preferences_form,
)
from portal.extensions import db, form_email_key, limiter, login_manager
from portal.forms import ConfirmForm, SelectChoice, filled
from portal.models import Delivery, User
from portal.services import (
    DomainError,
    accounts,
    api_tokens,
    audit,
    memberships,
    mfa,
    notifications,
    organizations,
    passkeys,
    proposals,
    sessions,
)
from portal.views import refusal, run_change

bp = Blueprint("auth", __name__)

GENERIC_LOGIN_ERROR = "Email address or password is not right"
GENERIC_LOCKED_ERROR = "Email address, password or code is not right"


def _limit(setting: str):
    return lambda: current_app.config[setting]


login_limits = [
    limiter.limit(_limit("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"]),
    limiter.limit(_limit("LOGIN_LIMIT_PER_ACCOUNT"), key_func=form_email_key, methods=["POST"]),
]
address_limits = [limiter.limit(_limit("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"])]
email_limits = [
    limiter.limit(_limit("EMAIL_LIMIT_PER_ADDRESS"), methods=["POST"]),
    limiter.limit(_limit("LOGIN_LIMIT_PER_ACCOUNT"), key_func=form_email_key, methods=["POST"]),
]


def limited(limits):
    def decorate(view):
        for limit in limits:
            view = limit(view)
        return view
    return decorate


PENDING_FOR = 5 * 60  # seconds between the right password and the second factor
ACCOUNT_REVIEWS = 5  # reviews to do the account page lists, the soonest due first (the rest: /reviews)
ACCOUNT_PROPOSALS = 5  # the newest proposals of one's organizations the account page lists (the rest: /proposals)


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """The signed-in user, if their session is still live on the server (not ended, idle or too old).

    Sessions carry the user's session token (rotating it signs every copy out) and the token of a
    server-side session record; a touched record (at most once a minute) is written at once."""
    user = db.session.scalar(sa.select(User).where(User.session_token == session_token, User.active))
    if user is None:
        return None
    record = sessions.find(user, session.get("sid"))
    if record is None:
        return None
    if db.session.dirty:
        db.session.commit()
    g.user_session = record
    return user


def current_session():
    """The server-side record of this request's session (for signed-in requests)."""
    return g.get("user_session")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, otherwise None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target


def start_session(user: User, *, second_factor: bool = False) -> None:
    """A fresh session for ``user``: nothing from before sign-in is carried over; its server-side record
    is written (and committed) here."""
    token, record = sessions.start(user, user_agent=request.headers.get("User-Agent", ""),
                                   ip_address=request.remote_addr or "", second_factor=second_factor)
    db.session.commit()
    session.clear()
    login_user(user)
    session["sid"] = token
    session.permanent = True
    g.user_session = record


def proved_second_factor() -> bool:
    record = current_session()
    return bool(record and record.second_factor_at)


def hold_for_second_factor(user: User, next_url: str | None) -> None:
    """The password was right; the second factor is still to come (``auth.second_factor``)."""
    session.clear()
    session["pending_uid"] = user.id
    session["pending_at"] = time.time()
    session["pending_next"] = next_url


def pending_user() -> User | None:
    """Whoever gave the right password in this browser in the last few minutes."""
    if time.time() - session.get("pending_at", 0) > PENDING_FOR:
        return None
    user = db.session.get(User, session.get("pending_uid", 0))
    return user if user is not None and user.active else None


@bp.route("/register", methods=["GET", "POST"])
@limited(email_limits)
def register():
    """Create an account with an organization, then confirm the email address. A new organization's name close
    to ones already on the portal is asked about first ("did you mean"), so that no duplicate is made by a typo
    or an "Inc."."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    form = RegisterForm()
    suggest = {"list": "organization-suggestions", "data-suggest": url_for("organizations.suggest")}
    form.organization.render_kw = {**(form.organization.render_kw or {}), **suggest}
    if request.method == "GET":
        return render_template("auth/register.html", form=form)
    typed = " ".join((form.organization.data or "").split())
    matches = organizations.close_matches(typed) if typed else []
    form.organization_match.choices = [SelectChoice(name, name) for name in matches] + (
        [SelectChoice(NEW_ORGANIZATION, f"None of these: add “{typed}” as a new organization")] if matches else [])

    def change():
        choice = form.organization_match.data
        if matches and choice not in {*matches, NEW_ORGANIZATION}:
            raise DomainError("organization_match", "Organizations with close names are on the portal already: "
                                                    "choose yours, or say that it is new")
        organization = form.organization_choice()
        if choice in matches:
            organization = replace(organization, name=choice)
        return accounts.register(email=filled(form.email.data), full_name=filled(form.full_name.data),
                                 password=filled(form.password.data), organization=organization)

    return run_change(form, change, success=None, redirect_to=url_for("auth.check_email"),
                      render=lambda _status: (render_template("auth/register.html", form=form), 422))


@bp.get("/register/check-email")
def check_email():
    """Tell a new user to follow the link we sent (the same page whether or not the account existed)."""
    return render_template("auth/check_email.html")


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """Confirm an email address: the link opens a page, the button confirms (link scanners only GET)."""
    form = ConfirmForm()
    if request.method == "GET":
        return render_template("auth/verify_email.html", form=form)
    return run_change(form, lambda: accounts.verify_email(token),
                      success="Your email address is confirmed. Sign in to continue.",
                      redirect_to=url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limited(login_limits)
def login():
    """Sign in; the error never says whether the account exists."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(filled(form.email.data), filled(form.password.data))
        if user is None:
            form.form_errors.append(GENERIC_LOGIN_ERROR)
        elif not user.is_verified:
            accounts.send_verification(user)
            db.session.commit()
            form.form_errors.append("Confirm your email address first: we have sent you a new link.")
        elif user.has_second_factor:
            db.session.commit()  # a rehashed password
            hold_for_second_factor(user, next_url)
            return redirect(url_for("auth.second_factor"))
        else:
            accounts.record_login(user)
            start_session(user)
            flash(f"Signed in as {user.email}.", "success")
            return redirect(next_url or url_for("main.index"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form, next_url=next_url), status


@bp.post("/logout")
def logout():
    """Sign out, ending this session and any copy of it."""
    if current_user.is_authenticated and (record := current_session()) is not None:
        accounts.log_out(current_user, record)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("main.index"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limited(email_limits)
def forgot_password():
    """Ask for a password reset link (the answer is the same whether or not the account exists)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(filled(form.email.data))
        db.session.commit()
        flash("If that address has an account, we have sent it a link to choose a new password. "
              "The link works once, for one hour.", "info")
        return redirect(url_for("auth.login"))
    status = 422 if form.errors else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an emailed link."""
    if (error := refusal(lambda: accounts.user_for_reset(token))) is not None:
        flash(error.message, "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if request.method == "GET":
        return render_template("auth/reset_password.html", form=form)
    return run_change(
        form, lambda: accounts.reset_password(token, filled(form.password.data)),
        success="Your password has been changed. Sign in with it now.", redirect_to=url_for("auth.login"),
        render=lambda _status: (render_template("auth/reset_password.html", form=form), 422),
        then=lambda _: sign_out())


def sign_out() -> None:
    logout_user()
    session.clear()


def render_account(status: int = 200, **forms):
    forms.setdefault("profile_form", ProfileForm(formdata=None, full_name=current_user.full_name,
                                                 time_zone=current_user.time_zone))
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault("email_form", ChangeEmailForm(formdata=None))
    forms.setdefault("join_form", JoinOrganizationForm(formdata=None))
    forms.setdefault("sessions_form", ConfirmForm(formdata=None))
    forms.setdefault("passkey_form", AddPasskeyForm(formdata=None, prefix="passkey"))
    forms.setdefault("token_form", ApiTokenForm(formdata=None, prefix="token"))
    forms.setdefault("preferences_form", notification_preferences_form(notifications.preferences_of(current_user),
                                                                       formdata=None))
    record = current_session()
    return render_template(
        "auth/account.html", affiliations=organizations.affiliations_of(current_user),
        sessions=sessions.of(current_user), this_session=record.id if record else None, device=sessions.device,
        must_use_mfa=mfa.must_use(current_user), recovery_codes_left=mfa.recovery_codes_left(current_user),
        old_recovery_codes=mfa.has_old_recovery_codes(current_user), passkeys=passkeys.passkeys_of(current_user),
        audit_head=audit.head() if current_user.is_network_admin else None,
        proposals=proposals.proposals_of_user(current_user, ACCOUNT_PROPOSALS),
        reviews=proposals.reviews_due_first(current_user, ACCOUNT_REVIEWS),
        review_counts=proposals.review_counts(current_user),
        administers=memberships.institutes_administered(current_user),
        api_tokens=api_tokens.live_tokens(current_user), **forms
    ), status


@bp.get("/account")
@login_required
def account():
    """The signed-in user's profile, organizations, password and sessions."""
    return render_account()


@bp.post("/account/profile")
@login_required
def update_profile():
    """Change the user's name."""
    form = ProfileForm()
    return run_change(form, lambda: accounts.update_profile(current_user, full_name=filled(form.full_name.data),
                                                            time_zone=filled(form.time_zone.data)),
                      success="Your profile has been saved.", redirect_to=url_for("auth.account"),
                      render=lambda _status: render_account(422, profile_form=form))


@bp.post("/account/notifications")
@login_required
def notification_preferences():
    """Choose, per kind, whether notifications are mailed at once, in a daily digest, or not at all."""
    form = notification_preferences_form()
    return run_change(
        form, lambda: notifications.set_preferences(
            current_user, {kind: Delivery(form[kind.value].data) for kind in notifications.CHOOSABLE}),
        success="Your choices for notifications have been saved.",
        redirect_to=url_for("auth.account") + "#notification-preferences",
        render=lambda _status: render_account(422, preferences_form=form))


@bp.post("/account/password")
@login_required
def change_password():
    """Change password; every other session of this account ends."""
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    proved = proved_second_factor()  # this session's proof carries over to the one that replaces it
    return run_change(
        form, lambda: accounts.change_password(user, current_password=filled(form.current_password.data),
                                               new_password=filled(form.new_password.data)),
        success="Your password has been changed and your other sessions have been signed out.",
        redirect_to=url_for("auth.account"), render=lambda _status: render_account(422, password_form=form),
        then=lambda _: start_session(user, second_factor=proved))


@bp.post("/account/email")
@login_required
def change_email():
    """Ask to move the account to another address: a link goes there, a notice to the current one."""
    form = ChangeEmailForm()
    return run_change(
        form, lambda: accounts.request_email_change(current_user, new_email=filled(form.new_email.data),
                                                    current_password=filled(form.current_password.data)),
        success="We have sent a link to the new address: follow it to finish the change. "
                "Until then, your account keeps its current address.",
        redirect_to=url_for("auth.account"), render=lambda _status: render_account(422, email_form=form))


@bp.route("/account/email/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    """Finish an address change from the link mailed to the new address (the button confirms)."""
    form = ConfirmForm()
    if request.method == "GET":
        return render_template("auth/confirm_email_change.html", form=form)
    return run_change(form, lambda: accounts.confirm_email_change(token),
                      success=lambda user: f"Your account's address is now {user.email}.",
                      redirect_to=url_for("auth.account"))


@bp.post("/account/sessions")
@login_required
def end_other_sessions():
    """Sign out everywhere else, keeping this session."""
    form = ConfirmForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        accounts.end_sessions(user, action="user.sessions_ended", keep=current_session())
        db.session.commit()
        flash("All your other sessions have been signed out.", "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    """Sign out one session (this one too, if chosen)."""
    form = ConfirmForm()
    ending_this = (record := current_session()) is not None and record.id == session_id
    return run_change(form, lambda: sessions.end(current_user, session_id),
                      success="That session has been signed out.",
                      redirect_to=url_for("main.index") if ending_this else url_for("auth.account"),
                      then=lambda _: sign_out() if ending_this else None)


@bp.post("/account/organizations")
@login_required
def join_organization():
    """Ask to join another organization, or create it."""
    form = JoinOrganizationForm()
    return run_change(form, lambda: organizations.join_or_create(current_user, form.organization_choice()),
                      success=joined, redirect_to=url_for("auth.account"),
                      render=lambda status: render_account(status, join_form=form))


def joined(affiliation) -> str:
    if affiliation.is_active_admin:
        return f"{affiliation.organization.name} has been created and you are its admin."
    return (f"You have asked to join {affiliation.organization.name}. "
            "One of its admins will approve or decline.")
