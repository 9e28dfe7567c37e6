"""Forms of the network administration pages."""

from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; not in its stubs yet
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.forms import STATE_CHOICES, TYPED_DATE, Cents, Form
from portal.models.institute import AGENCY_NAMES
from portal.services.clock import today


def reason_field(label: str = "Reason", hint: str = "Kept in the audit log.") -> StringField:
    return StringField(label, validators=[InputRequired("Give the reason"), Length(max=1000)], description=hint)


class InstituteForm(Form):
    name = StringField("Name", validators=[InputRequired("Enter the institute's name"), Length(max=200)])
    acronym = StringField("Acronym", validators=[InputRequired("Enter its acronym"), Length(max=40)],
                          description="Also makes its address, such as /institutes/niimbl.")
    agency = SelectField("Sponsoring agency", choices=[SelectChoice("", "- Select -")] + [
        SelectChoice(agency.value, label) for agency, label in AGENCY_NAMES.items()],
        validators=[InputRequired("Choose the sponsoring agency")])
    founded_year = IntegerField("Founding year", validators=[InputRequired("Enter the year it was founded"),
                                                             NumberRange(min=1900, max=2100, message=(
                                                                 "Enter a year such as 2017"))],
                                render_kw={"inputmode": "numeric"})
    city = StringField("City of its headquarters", validators=[InputRequired("Enter the city"), Length(max=100)])
    state = SelectField("State or territory", choices=STATE_CHOICES,
                        validators=[InputRequired("Choose a state or territory")])
    focus = StringField("Technology area", validators=[InputRequired("Enter its technology area"),
                                                       Length(max=200)],
                        description="As the directory's filter shows it, such as Additive manufacturing.")
    website = StringField("Website", validators=[Optional(), Length(max=255)],
                          description="Such as https://www.example.org")
    federal_base_award = StringField("Federal base award in dollars", validators=[Cents(allow_zero=True)],
                                     default="0", description="Such as 70,000,000; 0 if not yet known.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    default_tiers = BooleanField("Start with the network's default membership tiers (Platinum, Gold, Silver, "
                                 "Academic/Government)", default=True,
                                 description="Its administrators change them on the institute's own page.")


class RetireInstituteForm(Form):
    retired_on = DateField("Last day in the network", validators=[InputRequired("Enter the date"), TYPED_DATE],
                           default=today, description="As YYYY-MM-DD; today or earlier.")
    reason = reason_field()


class ReasonForm(Form):
    reason = reason_field()


class RenameForm(Form):
    name = StringField("New name", validators=[InputRequired("Enter the new name"), Length(max=200)])


class MergeForm(Form):
    absorbed = StringField("Name of the duplicate organization", validators=[
        InputRequired("Enter the name of the organization to merge into this one"), Length(max=200)],
        description="Its exact name, as the list shows it. It is removed; everything of it moves here.")
    reason = reason_field(hint="Such as: the same company registered twice. Kept in the audit log.")
