"""The one way a view runs a change.

validate the form -> call one service -> on ``DomainError`` roll back and show the message on the field that
caused it (or flash it, for a button) -> otherwise commit once, flash, redirect (POST-redirect-GET).
A submission whose one-time key was used already (``Repeat``) commits nothing and lands where the first did.

And the one way a view sends a CSV download (``csv_download``): streamed as it is made.
"""

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Response, flash, redirect, stream_with_context
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from portal.extensions import db
from portal.forms import show_domain_error
from portal.services import DomainError, Repeat

T = TypeVar("T")

REPEATED = "That was already recorded; it has not been recorded twice."


def _resolve(value: str | Callable[[Any], str], result: Any) -> str:
    return value(result) if callable(value) else value


def run_change(
    form: FlaskForm | None,
    change: Callable[[], T],
    *,
    success: str | Callable[[T], str] | None,
    redirect_to: str | Callable[[T], str],
    render: Callable[[int], ResponseReturnValue] | None = None,
    back: str | None = None,
    repeated_to: Callable[[Repeat], str] | None = None,
    then: Callable[[T], object] | None = None,
) -> ResponseReturnValue:
    """Run ``change`` (one service call) for a submitted ``form`` and answer the request.

    ``render(status)`` shows the page again with the form's errors; when ``back`` is given too, a message that
    names no field of the form is flashed instead and the person sent ``back`` (303). Without ``render`` (a
    row's button, which has no room for messages) every message is flashed and the person is sent ``back``
    (default: ``redirect_to``).
    ``success`` (None: no message) and ``redirect_to`` may be functions of what the service returned.
    ``then(result)`` runs after the commit and before the flash (to sign someone in or out).
    """
    back_to = back if back is not None else redirect_to if isinstance(redirect_to, str) else None
    if form is not None and not form.validate_on_submit():
        if render is not None:
            return render(422)
        messages = [*form.form_errors, *(m for name, ms in form.errors.items() if name is not None for m in ms)]
        return _flash_back(messages or ["The form could not be read; reload the page and try again."], back_to)
    try:
        result = change()
    except Repeat as repeat:
        db.session.rollback()
        flash(REPEATED, "info")
        return redirect(repeated_to(repeat) if repeated_to else back_to or "/")
    except DomainError as error:
        db.session.rollback()
        field = getattr(form, error.field, None) if form is not None and error.field else None
        if render is not None and form is not None and (field is not None or back is None):
            show_domain_error(form, error)
            return render(error.status)
        return _flash_back([error.message], back_to)
    db.session.commit()
    if then is not None:
        then(result)
    if success is not None:
        flash(_resolve(success, result), "success")
    return redirect(_resolve(redirect_to, result))


def refusal(check: Callable[[], object]) -> DomainError | None:
    """What a service says against a read-only ``check`` (a link's token, say), or None when it passes."""
    try:
        check()
    except DomainError as error:
        return error
    return None


def _flash_back(messages: list[str], back_to: str | None) -> ResponseReturnValue:
    if back_to is None:
        raise ValueError("run_change needs render= or back= when redirect_to depends on the result")
    flash(" ".join(messages), "error")
    return redirect(back_to, 303)


def csv_download(chunks: Iterator[str], filename: str) -> Response:
    """A CSV download sent as ``chunks`` (from ``csvfile.stream``) make it, within the request's context:
    the first byte leaves before the last row is read, and memory does not grow with the rows."""
    return Response(stream_with_context(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
