"""Forms for an institute's administration: tiers, staff and a call's status."""

from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from portal.forms import Cents, Form, SelectChoice


class TierForm(Form):
    name = StringField("Tier name", validators=[InputRequired("Enter the tier's name"), Length(max=60)])
    annual_fee = StringField("Annual fee in dollars", validators=[InputRequired("Enter the annual fee"),
                                                                     Cents(allow_zero=True)],
                             description="For example 15,000 or 15000.00.", render_kw={"inputmode": "decimal"})
    named_seats = IntegerField("Named seats", default=1, validators=[
        InputRequired("Enter the number of named seats"), NumberRange(0, 1000, "Enter a number from 0 to 1,000")])
    may_lead_projects = BooleanField("May lead project proposals")
    may_join_projects = BooleanField("May join project teams", default=True)
    governance_vote = BooleanField("Has a governance vote")


class StaffForm(Form):
    email = EmailField("Email address of the new administrator",
                       validators=[InputRequired("Enter an email address"), Length(max=254)])


class CallStatusForm(Form):
    """Open or close a call: the button pressed names the status it moves to."""

    status = SelectField(choices=[SelectChoice("open"), SelectChoice("closed")])
