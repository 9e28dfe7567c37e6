"""Forms for applying for, deciding and keeping memberships."""

from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.forms import TYPED_DATE, Form, PressedButton, record_id


class ApplyForm(Form):
    organization = SelectField("Organization", coerce=record_id,
                               description="Organizations you are an admin of.")
    tier = RadioField("Membership tier", coerce=record_id, validators=[InputRequired("Choose a tier")])
    statement = TextAreaField("Statement of interest", validators=[
        InputRequired("Say briefly why your organization wants to join"), Length(max=2000)],
        description="What your organization hopes to do with the institute, in at most 2,000 characters.")
    contact_name = StringField("Contact name", validators=[InputRequired("Enter the contact's name"),
                                                            Length(max=120)],
                               description="The person the institute should talk to about this membership.")
    contact_email = EmailField("Contact email address", validators=[
        InputRequired("Enter the contact's email address"), Length(max=254)])


class DecideForm(PressedButton, Form):
    starts_on = DateField("Start date", validators=[Optional(), TYPED_DATE],
                          description="Leave empty to start today.")
    term_years = IntegerField("Term in years", default=1, validators=[
        InputRequired("Enter the term in years"), NumberRange(1, 10, "The term must be between 1 and 10 years")])
    reason = TextAreaField("Reason for declining", validators=[Optional(), Length(max=1000)],
                           description="Required to decline; the applicant will see it.")


class ReasonForm(Form):
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=1000)])


class RenewForm(Form):
    expected_ends_on = HiddenField()


class TierChangeForm(Form):
    tier = SelectField("New tier", coerce=record_id)
