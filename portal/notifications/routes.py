"""The signed-in user's notifications."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.extensions import db
from portal.forms import ConfirmForm
from portal.services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index():
    """Recent notifications, unread first in bold."""
    return render_template("notifications/index.html", items=notifications.recent(current_user),
                           form=ConfirmForm(formdata=None))


@bp.get("/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Follow a notification: it is marked read and the user goes to what it is about."""
    notification = notifications.open_for(current_user, notification_id)
    if notification is None:
        abort(404)
    db.session.commit()
    return redirect(urlsplit(notification.link)._replace(scheme="", netloc="").geturl() or url_for("main.index"))


@bp.post("/read")
@login_required
def mark_read():
    """Mark every notification read."""
    if ConfirmForm().validate_on_submit():
        count = notifications.mark_all_read(current_user)
        db.session.commit()
        flash(f"{count} notification(s) marked as read.", "success")
    return redirect(url_for("notifications.index"))
