"""Forms for project calls, proposals, teams, reviews and projects."""

from datetime import UTC, datetime

from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from portal.forms import (
    SECTOR_CHOICES,
    STATE_CHOICES,
    TYPED_DATE,
    Cents,
    Form,
    PressedButton,
    SelectChoice,
    optional_record_id,
    record_id,
)
from portal.ledger.forms import AMOUNT_HINT, KeyedForm
from portal.models import ProposalStatus
from portal.services.proposals import REVIEW_STATES


def level(label, low, high, required=True):
    presence = InputRequired(f"Enter the {label.split(',')[0]}") if required else Optional()
    return IntegerField(label, validators=[presence, NumberRange(low, high, f"Enter a number from {low} to {high}")])


class CallForm(Form):
    title = StringField("Title", validators=[InputRequired("Enter the call's title"), Length(max=200)])
    description = TextAreaField("Description", validators=[InputRequired("Describe the call"), Length(max=20000)])
    opens_at = DateTimeLocalField("Opens (US Eastern time)", validators=[InputRequired("Enter when the call opens"),
                                                                       TYPED_DATE])
    closes_at = DateTimeLocalField("Closes (US Eastern time)", validators=[InputRequired("Enter when the call closes"),
                                                                         TYPED_DATE])
    max_federal = StringField("Most federal funding a project may request", description=AMOUNT_HINT,
                              validators=[Cents()])
    min_cost_share = StringField("Minimum cost share, as a ratio of the federal request",
                                 description="For example 0.5 (half) or 1.0 (one to one).", default="1.0")
    trl_min = level("Lowest TRL at the start", 1, 9)
    trl_max = level("Highest TRL at the start", 1, 9)
    mrl_min = level("Lowest MRL at the start", 1, 10)
    mrl_max = level("Highest MRL at the start", 1, 10)
    min_industry = level("At least this many industry partners", 0, 50)
    min_academic = level("At least this many academic partners", 0, 50)
    min_small_business = level("At least this many small businesses", 0, 50)
    all_partners_members = BooleanField("Every partner must be an active member (not only the lead)")
    criteria = TextAreaField(
        "Scoring rubric", validators=[InputRequired("Give the scoring criteria")],
        description="One criterion a line: its weight, then its name, such as “40 Technical merit”. "
                    "The weights must add up to 100.")


class StartForm(Form):
    organization = SelectField("Lead organization", coerce=record_id)
    title = StringField("Working title", validators=[InputRequired("Enter a working title"), Length(max=200)])


class DraftForm(Form):
    title = StringField("Title", validators=[InputRequired("Enter a title"), Length(max=200)])
    abstract = TextAreaField("Public abstract", validators=[Optional(), Length(max=5000)],
                             description="At most 300 words. Shown to the public if the proposal is approved.")
    technical_plan = TextAreaField("Technical plan (confidential)", validators=[Optional(), Length(max=50000)],
                                   description="Seen only by the team, its reviewers and the institute.")
    technology_area = StringField("Technology area", validators=[Optional(), Length(max=200)])
    trl_start = level("TRL at the start", 1, 9, required=False)
    trl_target = level("Target TRL", 1, 9, required=False)
    mrl_start = level("MRL at the start", 1, 10, required=False)
    mrl_target = level("Target MRL", 1, 10, required=False)
    duration_months = IntegerField("Duration in months",
                                   validators=[Optional(), NumberRange(1, 120, "From 1 to 120 months")])
    federal_request = StringField("Federal funding requested", validators=[Optional()], description=AMOUNT_HINT)
    milestones = TextAreaField(
        "Milestones", validators=[Optional(), Length(max=10000)],
        description="One a line: the month, a bar, the title, a bar, the deliverable; "
                    "for example “6 | Alloy trials | Test report”.")


class FinderForm(Form):
    q = StringField("Name or description")
    sector = SelectField("Sector", choices=[SelectChoice("", "Any sector"), *SECTOR_CHOICES], default="")
    state = SelectField("State", choices=[SelectChoice("", "Any state"), *STATE_CHOICES[1:]], default="")
    institute = SelectField("Member of", coerce=optional_record_id, default="")


class InviteForm(Form):
    organization = HiddenField(filters=[optional_record_id])


class CostShareForm(KeyedForm):
    amount = StringField("Cost share committed", description=AMOUNT_HINT, render_kw={"inputmode": "decimal"},
                         validators=[Cents()])
    kind = RadioField("Kind", choices=[SelectChoice("cash", "Cash"), SelectChoice("in_kind", "In kind")],
                      default="cash", validators=[InputRequired("Choose cash or in kind")])
    in_kind_description = TextAreaField("What is given in kind, and how it was valued",
                                        validators=[Optional(), Length(max=1000)])


class DecisionForm(PressedButton, Form):
    note = TextAreaField("Note to the team", validators=[Optional(), Length(max=5000)],
                         description="Required. The team sees it with the decision, or with the return to draft.",
                         render_kw={"required": True})


class ReviewerForm(Form):
    email = EmailField("Reviewer's email address", validators=[InputRequired("Enter the reviewer's email address")])
    due_on = DateField("Review due by (optional)", validators=[Optional(), TYPED_DATE],
                       description="Three weeks from today if left empty. The reviewer is reminded three days before.")


class UpdateForm(Form):
    body = TextAreaField("Progress update", validators=[Optional(), Length(max=10000)])


class CompleteForm(Form):
    trl_reached = level("TRL reached", 1, 9)
    mrl_reached = level("MRL reached", 1, 10)


class ReasonForm(Form):
    """A reason the other side sees: a milestone sent back, a conflict declared, a reviewer removed."""

    reason = TextAreaField("Reason", validators=[Optional(), Length(max=1000)], render_kw={"required": True})


class ScreenForm(Form):
    """Screening a proposal out without review: the reason the team sees."""

    reason = TextAreaField("Reason the team sees", validators=[Optional(), Length(max=5000)],
                           render_kw={"required": True})


class ReviewForm(Form):
    """A reviewer's scores: ``score_<id>`` and ``comment_<id>`` per criterion (see ``review_form``)."""

    action = HiddenField()

    def entries(self, criteria) -> dict[int, tuple[int, str]]:
        """{criterion id: (score, comment)} for every criterion given a valid score."""
        return {c.id: (int(self[f"score_{c.id}"].data), self[f"comment_{c.id}"].data or "") for c in criteria
                if self[f"score_{c.id}"].data and not self[f"score_{c.id}"].errors}

    def typed(self, criteria) -> dict[int, tuple[int | None, str]]:
        """{criterion id: (score or None, comment)} for every criterion, as typed, to show the form again with
        nothing lost: a comment without a score, or beside a score that was refused, stays."""
        typed = {}
        for c in criteria:
            raw = self[f"score_{c.id}"].data
            score = int(raw) if raw and not self[f"score_{c.id}"].errors and raw.isdigit() else None
            typed[c.id] = (score, self[f"comment_{c.id}"].data or "")
        return typed

    def score_errors(self, criteria) -> dict[int, str]:
        return {c.id: self[f"score_{c.id}"].errors[0] for c in criteria if self[f"score_{c.id}"].errors}


def review_form(criteria) -> type[ReviewForm]:
    """A review form class with a score (1 to 5, or empty) and a comment for each of ``criteria``."""
    fields = {}
    for criterion in criteria:
        fields[f"score_{criterion.id}"] = StringField(
            filters=[lambda value: value.strip() if isinstance(value, str) else value],
            validators=[Optional(), AnyOf([str(n) for n in range(1, 6)], "Score each criterion from 1 to 5")])
        fields[f"comment_{criterion.id}"] = TextAreaField()
    return type("CriteriaReviewForm", (ReviewForm,), fields)


def now_utc() -> datetime:
    return datetime.now(UTC)


class MyReviewsForm(Form):
    """The filter of one's own reviews (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    state = SelectField("Show", choices=[SelectChoice(k, v) for k, v in REVIEW_STATES.items()], default="")


class MyProposalsForm(Form):
    """The filter of one's organizations' proposals (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=[SelectChoice("", "Any status")] + [
        SelectChoice(status.value, status.label) for status in ProposalStatus], default="")


class OpenCallsForm(Form):
    """The open calls' filters (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    institute = SelectField("Institute", choices=[], default="")
    area = SelectField("Technology area", choices=[], default="")
    closing_soon = BooleanField("Closing within two weeks")
