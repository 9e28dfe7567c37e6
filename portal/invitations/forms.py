"""Forms for invitations: sending one, and registering through one."""

from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.auth.forms import email_field, new_password_field
from portal.forms import SECTOR_CHOICES, SIZE_CHOICES, STATE_CHOICES, Form, OrganizationChoiceFields


class InvitationForm(Form):
    email = email_field("Their email address")
    message = TextAreaField("A message for them (optional)", validators=[Optional(), Length(max=1000)],
                            description="Sent with the invitation.")


class PartnerInvitationForm(InvitationForm):
    organization = StringField("Partner organization", validators=[
        InputRequired("Enter the partner organization's name"), Length(max=200)],
        description="Its full name. If it is not on the portal yet, your contact adds it when they register.",
        render_kw={"autocomplete": "organization"})


def full_name_field() -> StringField:
    return StringField("Full name", validators=[InputRequired("Enter your full name"), Length(max=120)],
                       render_kw={"autocomplete": "name"})


class ColleagueRegisterForm(Form):
    """Registration through a colleague's invitation: the organization is the one inviting."""

    full_name = full_name_field()
    password = new_password_field()


class InvitedRegisterForm(OrganizationChoiceFields, ColleagueRegisterForm):
    """Registration through a staff or reviewer invitation: the person names their organization."""


class PartnerRegisterForm(ColleagueRegisterForm):
    """Registration through a partner invitation: the organization is named; what is asked only if it is new."""

    sector = RadioField("Sector", choices=SECTOR_CHOICES, validators=[Optional()],
                        description="Only needed if your organization is new to the portal.")
    size = RadioField("Size", choices=SIZE_CHOICES, validators=[Optional()],
                      description="Industry only; small means fewer than 500 employees.")
    state = SelectField("State or territory", choices=STATE_CHOICES, validators=[Optional()],
                        description="Where the organization is based; only needed if it is new.")
