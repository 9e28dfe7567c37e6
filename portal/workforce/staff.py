"""The institute's staff change what they published: edit a program, edit a session (its seats too), and
cancel a session as a whole. Registered on the workforce blueprint."""

from flask import render_template, request, url_for
from flask_login import current_user, login_required

from portal.models import ProgramSession
from portal.services import clock, workforce_changes, workforce_listing
from portal.services.parsing import parse_cents, utc_to_eastern_input
from portal.services.workforce import ProgramInput, SessionInput
from portal.views import csv_download, run_change
from portal.workforce.forms import ProgramForm, ReasonForm, SessionForm, from_eastern
from portal.workforce.routes import bp, get_program, get_session


def _program_input(form: ProgramForm) -> ProgramInput:
    return ProgramInput(kind=form.kind.data, title=form.title.data or "", format=form.format.data,
                        audiences=form.audiences.data or [], description=form.description.data or "",
                        credential=form.credential.data or "", partners=form.partners.data or "",
                        cost_cents=parse_cents(form.cost.data, "cost", allow_zero=True))


@bp.route("/programs/<int:program_id>/edit", methods=["GET", "POST"])
@login_required
def edit_program(program_id: int):
    """Staff change a program's details."""
    program = get_program(program_id, "program.manage")
    form = ProgramForm(obj=program) if request.method == "GET" else ProgramForm()
    if request.method == "GET":
        form.audiences.data = [str(a) for a in program.audience_values]
        form.cost.data = f"{program.cost_cents / 100:.2f}"

    def render(status: int = 200):
        return render_template("workforce/edit_program.html", program=program, form=form), status

    if request.method == "GET":
        return render()
    return run_change(form, lambda: workforce_changes.edit_program(current_user, program, _program_input(form)),
                      success="The program is changed.",
                      redirect_to=url_for("workforce.manage_program", program_id=program.id), render=render)


def _session_form(session: ProgramSession) -> SessionForm:
    form = SessionForm(formdata=None, capacity=session.capacity, online=session.online, place=session.place,
                       state=session.state)
    form.starts_at.data = utc_to_eastern_input(session.starts_at)
    form.ends_at.data = utc_to_eastern_input(session.ends_at)
    return form


def render_session(session: ProgramSession, form: SessionForm, cancel_form: ReasonForm, status: int = 200):
    return render_template("workforce/edit_session.html", session=session, program=session.program, form=form,
                           cancel_form=cancel_form), status


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit_session(session_id: int):
    """Staff change a session's dates, place and seats; more seats go to the waitlist in order."""
    session = get_session(session_id, "program.manage")
    if request.method == "GET":
        return render_session(session, _session_form(session), ReasonForm(formdata=None))
    form = SessionForm()
    return run_change(
        form, lambda: workforce_changes.edit_session(current_user, session, SessionInput(
            starts_at=from_eastern(form.starts_at.data), ends_at=from_eastern(form.ends_at.data),
            capacity=form.capacity.data, online=bool(form.online.data), place=form.place.data or "",
            state=form.state.data or "")),
        success="The session is changed.", redirect_to=url_for("workforce.roster", session_id=session.id),
        render=lambda status: render_session(session, form, ReasonForm(formdata=None), status))


@bp.post("/sessions/<int:session_id>/cancel")
@login_required
def cancel_session(session_id: int):
    """Staff cancel a session as a whole: every sign-up is cancelled and its person told."""
    session = get_session(session_id, "program.manage")
    form = ReasonForm()
    return run_change(
        form, lambda: workforce_changes.cancel_session(current_user, session, form.reason.data or ""),
        success=lambda n: f"The session is cancelled; {n} sign-up{'' if n == 1 else 's'} cancelled and told.",
        redirect_to=url_for("workforce.manage_program", program_id=session.program_id),
        render=lambda status: render_session(session, _session_form(session), form, status))





@bp.get("/sessions/<int:session_id>/roster.csv")
@login_required
def roster_csv(session_id: int):
    """Staff: the session's sign-ups as CSV (personal data: the institute's staff only)."""
    session = get_session(session_id, "program.manage")
    filename = f"session-{session.id}-roster-{clock.today().isoformat()}.csv"
    return csv_download(workforce_listing.roster_csv(session), filename)
