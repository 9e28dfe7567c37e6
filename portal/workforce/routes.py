"""Workforce and education: the public program finder, signing up, my sessions, the staff's programs,
sessions and rosters, outreach counts and public credential verification."""


import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import authz, paging
from portal.extensions import db
from portal.forms import SelectChoice
from portal.models import AUDIENCE_LABELS, Institute, Program, ProgramSession, Signup
from portal.services import clock, workforce, workforce_listing, workforce_upkeep, workforce_upload
from portal.services.parsing import parse_cents
from portal.services.workforce import ProgramInput, SessionInput
from portal.services.workforce_listing import Filters
from portal.views import run_change
from portal.workforce.forms import (
    AttendanceUploadForm,
    ButtonForm,
    DeleteRecordsForm,
    FinderForm,
    OutreachForm,
    ProgramForm,
    ReasonForm,
    SessionForm,
    SignupForm,
    from_eastern,
)

bp = Blueprint("workforce", __name__)

PER_PAGE = 20


def get_institute(slug: str, action: str = "institute.manage") -> Institute:
    institute = db.first_or_404(sa.select(Institute).where(Institute.slug == slug))
    authz.require(current_user, action, institute)
    return institute


def get_program(program_id: int, action: str | None = None) -> Program:
    program = db.get_or_404(Program, program_id)
    if action:
        authz.require(current_user, action, program)
    return program


def get_session(session_id: int, action: str | None = None) -> ProgramSession:
    session = db.get_or_404(ProgramSession, session_id)
    if action:
        authz.require(current_user, "program.manage", session.program)
    return session


def get_signup(signup_id: int, action: str) -> Signup:
    """A sign-up is personal: 404 for anyone who may not see it, so its existence is not revealed."""
    signup = db.get_or_404(Signup, signup_id)
    if not authz.can(current_user, "signup.view", signup):
        abort(404)
    authz.require(current_user, action, signup)
    return signup


# Public --------------------------------------------------------------------------------------

@bp.get("/programs")
def finder():
    """Programs across the network, filtered by institute, state, audience, format, credential and date."""
    form = FinderForm(request.args)
    institutes = db.session.execute(sa.select(Institute.slug, Institute.acronym).order_by(Institute.acronym)).all()
    form.institute.choices = [SelectChoice("", "Any institute")] + [SelectChoice(s, a) for s, a in institutes]
    filters = Filters()
    if form.validate():
        filters = Filters(institute=form.institute.data or "", state=form.state.data or "",
                          audience=form.audience.data or "", format=form.format.data or "",
                          credential=form.credential.data == "yes", starting=form.starting.data)
    query, keys = workforce_listing.find_programs(filters)
    page = paging.keyset(query, keys, lambda row: [row.soonest, row.Program.id], descending=False,
                         per_page=PER_PAGE, scalars=False)
    programs = [row.Program for row in page.items]
    sessions = workforce_listing.upcoming_by_program([p.id for p in programs], filters)
    return render_template("workforce/finder.html", form=form, page=page, programs=programs, sessions=sessions)


@bp.get("/programs/<int:program_id>")
def program(program_id: int):
    """A program and its upcoming sessions, with a sign-up form for each."""
    program = get_program(program_id)
    return render_program(program)


def render_program(program: Program, status: int = 200, form: SignupForm | None = None, session_id: int | None = None):
    sessions = workforce_listing.sessions_of(program, upcoming_only=True)
    mine = (workforce_listing.live_signups_of(current_user, [s.id for s in sessions])
            if current_user.is_authenticated else {})
    form = form or SignupForm(formdata=None)
    form.category.choices = [SelectChoice(a.value, AUDIENCE_LABELS[a]) for a in program.audience_values]
    return render_template("workforce/program.html", program=program, sessions=sessions, mine=mine, form=form,
                           errors_for=session_id,
                           can_manage=authz.can(current_user, "program.manage", program)), status


@bp.post("/sessions/<int:session_id>/signup")
@login_required
def sign_up(session_id: int):
    """Sign up for a session: a seat, or a place on the waitlist."""
    session = get_session(session_id)
    program = session.program
    form = SignupForm()
    form.category.choices = [SelectChoice(a.value, AUDIENCE_LABELS[a]) for a in program.audience_values]
    return run_change(
        form, lambda: workforce.sign_up(current_user, session, form.category.data),
        success=lambda s: ("You have a place." if s.status == "confirmed" else
                           "The session is full: you are on the waitlist, and we will tell you if a place opens."),
        redirect_to=url_for("workforce.my_sessions"),
        render=lambda status: render_program(program, status, form, session.id),
        back=url_for("workforce.program", program_id=program.id))


@bp.get("/credentials")
def credential_lookup():
    """Check a credential by its code."""
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("workforce.credential", code=code.upper()))
    return render_template("workforce/credential.html", credential=None, code=None)


@bp.get("/credentials/<code>")
def credential(code: str):
    """Public verification: the code, the credential, the institute and the date; nothing about the person."""
    found = workforce.credential_by_code(code)
    return render_template("workforce/credential.html", credential=found, code=code), 200 if found else 404


# The participant -----------------------------------------------------------------------------

@bp.get("/my/sessions")
@login_required
def my_sessions():
    """The sessions I signed up for, my waitlist places and my credentials."""
    return render_my_sessions(DeleteRecordsForm(formdata=None))


def render_my_sessions(delete_form: DeleteRecordsForm, status: int = 200):
    return render_template("workforce/my_sessions.html", rows=workforce_listing.my_signups(current_user),
                           now=clock.now(), delete_form=delete_form), status


@bp.post("/my/sessions/delete")
@login_required
def delete_records():
    """The participant deletes their workforce records; the published counts stay, unnamed."""
    form = DeleteRecordsForm()
    return run_change(form, lambda: workforce_upkeep.forget(current_user),
                      success="Your workforce records are deleted: your name is no longer on any sign-up, and any "
                              "places to come are cancelled.",
                      redirect_to=url_for("workforce.my_sessions"),
                      render=lambda status: render_my_sessions(form, status))


@bp.post("/signups/<int:signup_id>/cancel")
@login_required
def cancel(signup_id: int):
    """The participant, or the institute's staff with a reason, cancel a sign-up."""
    signup = get_signup(signup_id, "signup.cancel")
    form = ReasonForm()
    mine = signup.user_id == current_user.id
    back = url_for("workforce.my_sessions") if mine else url_for("workforce.roster", session_id=signup.session_id)
    return run_change(form, lambda: workforce.cancel(current_user, signup, reason=form.reason.data or ""),
                      success="The sign-up has been cancelled.", redirect_to=back)


# The institute's staff -----------------------------------------------------------------------

@bp.get("/institutes/<slug>/programs")
@login_required
def institute_programs(slug: str):
    """An institute's programs, and the outreach counts form."""
    institute = get_institute(slug)
    return render_institute(institute, OutreachForm(formdata=None))


def render_institute(institute: Institute, outreach_form: OutreachForm, status: int = 200):
    return render_template("workforce/institute.html", institute=institute, outreach_form=outreach_form,
                           programs=workforce_listing.programs_of(institute)), status


@bp.route("/institutes/<slug>/programs/new", methods=["GET", "POST"])
@login_required
def new_program(slug: str):
    """Staff publish a program."""
    institute = get_institute(slug)
    form = ProgramForm()

    def render(status: int = 200):
        return render_template("workforce/new_program.html", institute=institute, form=form), status

    if request.method == "GET":
        return render()
    return run_change(
        form, lambda: workforce.publish_program(current_user, institute, ProgramInput(
            kind=form.kind.data, title=form.title.data or "", format=form.format.data,
            audiences=form.audiences.data or [], description=form.description.data or "",
            credential=form.credential.data or "", partners=form.partners.data or "",
            cost_cents=parse_cents(form.cost.data, "cost", allow_zero=True))),
        success="The program is published.",
        redirect_to=lambda p: url_for("workforce.manage_program", program_id=p.id), render=render)


@bp.post("/institutes/<slug>/outreach")
@login_required
def record_outreach(slug: str):
    """Staff record an outreach event's counts by category."""
    institute = get_institute(slug)
    form = OutreachForm()
    return run_change(
        form, lambda: workforce.record_outreach(
            current_user, institute, title=form.title.data or "", held_on=form.held_on.data,
            counts={name: form[name].data for name in ("k12", "postsecondary", "incumbent", "educator", "veteran")}),
        success="The outreach event's counts are recorded.",
        redirect_to=url_for("workforce.institute_programs", slug=slug),
        render=lambda status: render_institute(institute, form, status))


@bp.get("/programs/<int:program_id>/manage")
@login_required
def manage_program(program_id: int):
    """Staff: a program's sessions and the form to add one."""
    program = get_program(program_id, "program.manage")
    return render_manage(program, SessionForm(formdata=None))


def render_manage(program: Program, form: SessionForm, status: int = 200):
    return render_template("workforce/manage_program.html", program=program, form=form,
                           sessions=workforce_listing.sessions_of(program)), status


@bp.post("/programs/<int:program_id>/sessions")
@login_required
def new_session(program_id: int):
    """Staff add a session to a program."""
    program = get_program(program_id, "program.manage")
    form = SessionForm()
    return run_change(
        form, lambda: workforce.schedule_session(current_user, program, SessionInput(
            starts_at=from_eastern(form.starts_at.data), ends_at=from_eastern(form.ends_at.data),
            capacity=form.capacity.data, online=bool(form.online.data), place=form.place.data or "",
            state=form.state.data or "")),
        success="The session is scheduled.", redirect_to=url_for("workforce.manage_program", program_id=program.id),
        render=lambda status: render_manage(program, form, status))


@bp.get("/sessions/<int:session_id>/roster")
@login_required
def roster(session_id: int):
    """Staff: who signed up, the waitlist, attendance, completion and credentials."""
    session = get_session(session_id, "program.manage")
    return render_roster(session, AttendanceUploadForm(formdata=None))


def render_roster(session: ProgramSession, upload_form: AttendanceUploadForm, status: int = 200, check=None):
    return render_template("workforce/roster.html", session=session, program=session.program,
                           rows=workforce_listing.roster(session), form=ButtonForm(formdata=None),
                           reason_form=ReasonForm(formdata=None), upload_form=upload_form, check=check), status


def _record(signup_id: int, change, success: str):
    signup = get_signup(signup_id, "signup.record")
    return run_change(ButtonForm(), lambda: change(signup), success=success,
                      redirect_to=url_for("workforce.roster", session_id=signup.session_id))


@bp.post("/signups/<int:signup_id>/attendance")
@login_required
def attendance(signup_id: int):
    """Staff mark a participant as attended (value=yes) or absent."""
    attended = request.form.get("value") == "yes"
    return _record(signup_id, lambda s: workforce.set_attendance(current_user, s, attended),
                   "Attendance recorded." if attended else "Marked as absent.")


@bp.post("/signups/<int:signup_id>/complete")
@login_required
def complete(signup_id: int):
    """Staff record that a participant completed the session."""
    return _record(signup_id, lambda s: workforce.complete(current_user, s), "Completion recorded.")


@bp.post("/signups/<int:signup_id>/credential")
@login_required
def issue_credential(signup_id: int):
    """Staff issue the program's credential to a participant who completed."""
    return _record(signup_id, lambda s: workforce.issue_credential(current_user, s), "The credential is issued.")


@bp.post("/sessions/<int:session_id>/attendance")
@login_required
def upload_attendance(session_id: int):
    """Staff upload attendance as CSV: a dry run lists every row's problem; confirming records all rows."""
    session = get_session(session_id, "program.manage")
    form = AttendanceUploadForm()
    if request.form.get("confirm") == "yes":
        text = request.form.get("text", "")
        return run_change(form, lambda: workforce_upload.record(current_user, session, text),
                          success=lambda n: f"Attendance recorded for {n} row{'' if n == 1 else 's'}.",
                          redirect_to=url_for("workforce.roster", session_id=session.id),
                          render=lambda status: render_roster(session, form, status,
                                                              workforce_upload.check(session, text)))
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = ["Choose a CSV file"]
        return render_roster(session, form, 422)
    try:
        text = upload.read(workforce_upload.MAX_BYTES + 1).decode("utf-8-sig")
    except UnicodeDecodeError:
        form.file.errors = ["Save the sheet as CSV (UTF-8) and upload it again"]
        return render_roster(session, form, 422)
    check = workforce_upload.check(session, text)
    return render_roster(session, form, 422 if check.problems else 200, check)
