"""Forms for applying, deciding and keeping memberships, tiers and institute staff."""

from wtforms import (
    BooleanField,
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

from portal.forms import Form


class ApplyForm(Form):
    organization = SelectField("Organization", coerce=int,
                               description="Organizations you are an admin of.")
    tier = RadioField("Membership tier", coerce=int, validators=[InputRequired("Choose a tier")])
    statement = TextAreaField("Statement of interest", validators=[
        InputRequired("Say briefly why your organization wants to join"), Length(max=2000)],
        description="What your organization hopes to do with the institute, in at most 2,000 characters.")
    contact_name = StringField("Contact name", validators=[InputRequired("Enter the contact's name"),
                                                            Length(max=120)],
                               description="The person the institute should talk to about this membership.")
    contact_email = EmailField("Contact email address", validators=[
        InputRequired("Enter the contact's email address"), Length(max=254)])


class DecideForm(Form):
    starts_on = DateField("Start date", validators=[Optional()],
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
    tier = SelectField("New tier", coerce=int)


class TierForm(Form):
    name = StringField("Tier name", validators=[InputRequired("Enter the tier's name"), Length(max=60)])
    annual_fee = StringField("Annual fee in dollars", validators=[InputRequired("Enter the annual fee")],
                             description="For example 15,000 or 15000.00.", render_kw={"inputmode": "decimal"})
    named_seats = IntegerField("Named seats", default=1, validators=[
        InputRequired("Enter the number of named seats"), NumberRange(0, 1000, "Enter a number from 0 to 1,000")])
    may_lead_projects = BooleanField("May lead project proposals")
    may_join_projects = BooleanField("May join project teams", default=True)
    governance_vote = BooleanField("Has a governance vote")


class StaffForm(Form):
    email = EmailField("Email address of the new administrator",
                       validators=[InputRequired("Enter an email address"), Length(max=254)])
