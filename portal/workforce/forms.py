"""Workforce forms: the program finder, publishing programs and sessions, signing up, outreach counts."""

from datetime import datetime

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import STATE_CHOICES, Form, SelectChoice
from portal.models import AUDIENCE_LABELS, Audience, Format, ProgramKind
from portal.services.parsing import eastern_to_utc

AUDIENCE_CHOICES = [SelectChoice(a.value, AUDIENCE_LABELS[a]) for a in Audience]
FORMAT_CHOICES = [SelectChoice(f.value, f.label) for f in Format]
KIND_CHOICES = [SelectChoice(k.value, k.label) for k in ProgramKind]


def from_eastern(local: datetime | None) -> datetime | None:
    """A time typed in US Eastern time, as an aware datetime."""
    return eastern_to_utc(local) if local is not None else None


class FinderForm(Form):
    """The public program finder's filters (a GET form)."""

    institute = SelectField("Institute", default="")
    state = SelectField("Held in", default="", choices=[SelectChoice("", "Any state"), *STATE_CHOICES[1:]])
    audience = SelectField("Audience", default="", choices=[SelectChoice("", "Anyone"), *AUDIENCE_CHOICES])
    format = SelectField("Format", default="", choices=[SelectChoice("", "In person or online"), *FORMAT_CHOICES])
    credential = SelectField("Credential", default="", choices=[SelectChoice("", "With or without"),
                                                                 SelectChoice("yes", "Offers a credential")])
    starting = DateField("Sessions starting on or after", validators=[Optional()],
                         description="Leave empty for sessions from today on.")


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ProgramForm(Form):
    title = StringField("Title", validators=[InputRequired("Give the program a title"), Length(max=200)])
    kind = SelectField("Kind of program", choices=KIND_CHOICES)
    format = RadioField("Format", choices=FORMAT_CHOICES, validators=[InputRequired("Choose in person or online")])
    audiences = CheckboxesField("Audience", choices=AUDIENCE_CHOICES,
                                description="Everyone the program is meant for; they choose one when they sign up.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    credential = StringField("Credential offered (optional)", validators=[Optional(), Length(max=200)],
                             description="For example: Certified Additive Manufacturing Technician. "
                                         "Leave empty if none.")
    cost = StringField("Cost to the participant", default="0", render_kw={"inputmode": "decimal"},
                       description="In dollars; 0 if free.")
    partners = StringField("Partner organizations (optional)", validators=[Optional(), Length(max=1000)],
                           description="Such as community colleges, separated by commas.")


class SessionForm(Form):
    starts_at = DateTimeLocalField("Starts (US Eastern time)", format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired("Enter when the session starts")])
    ends_at = DateTimeLocalField("Ends (US Eastern time)", format="%Y-%m-%dT%H:%M",
                                 validators=[InputRequired("Enter when the session ends")])
    capacity = IntegerField("Seats", validators=[InputRequired("Enter how many people can take part")],
                            description="How many people can take part; others join a waitlist.")
    online = BooleanField("Held online")
    place = StringField("Place (if in person)", validators=[Optional(), Length(max=300)],
                        description="The address or campus and room.")
    state = SelectField("State or territory (if in person)", choices=STATE_CHOICES, validators=[Optional()])


class SignupForm(Form):
    category = SelectField("Which describes you?", validators=[InputRequired("Choose which describes you")],
                           description="Counted in the network's published figures, never with your name.")


class ReasonForm(Form):
    reason = StringField("Reason (staff only)", validators=[Optional(), Length(max=1000)])


class ButtonForm(Form):
    """A row's button: nothing to fill in (the CSRF token is checked for every POST)."""

    value = HiddenField()


class OutreachForm(Form):
    title = StringField("Event", validators=[InputRequired("Name the event"), Length(max=200)],
                        description="For example: Manufacturing Day at Lincoln High School.")
    held_on = DateField("Held on", validators=[InputRequired("Enter the date it was held")])
    k12 = IntegerField(AUDIENCE_LABELS[Audience.K12], default=0, validators=[Optional(), NumberRange(min=0)])
    postsecondary = IntegerField(AUDIENCE_LABELS[Audience.POSTSECONDARY], default=0,
                                 validators=[Optional(), NumberRange(min=0)])
    incumbent = IntegerField(AUDIENCE_LABELS[Audience.INCUMBENT], default=0,
                             validators=[Optional(), NumberRange(min=0)])
    educator = IntegerField(AUDIENCE_LABELS[Audience.EDUCATOR], default=0, validators=[Optional(), NumberRange(min=0)])
    veteran = IntegerField(AUDIENCE_LABELS[Audience.VETERAN], default=0, validators=[Optional(), NumberRange(min=0)])


class AttendanceUploadForm(Form):
    file = FileField("Attendance sheet (CSV)", description="Columns: email, attended (yes or no), "
                                                           "completed (yes or no). One row a person.")
    text = HiddenField()  # the checked sheet, carried from the dry run to the confirmation
    confirm = HiddenField()


class DeleteRecordsForm(Form):
    confirm = BooleanField("Yes, delete my workforce records",
                           validators=[DataRequired("Tick the box to confirm that you want them deleted")])
