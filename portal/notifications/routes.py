"""The signed-in user's notifications."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.auth.forms import ConfirmForm
from portal.extensions import db
from portal.services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index():
    """Recent notifications, unread first in bold."""
    return render_template("notifications/index.html", items=notifications.recent(current_user),
                           form=ConfirmForm(formdata=None))


@bp.post("/read")
@login_required
def mark_read():
    """Mark every notification read."""
    if ConfirmForm().validate_on_submit():
        count = notifications.mark_all_read(current_user)
        db.session.commit()
        flash(f"{count} notification(s) marked as read.", "success")
    return redirect(url_for("notifications.index"))
