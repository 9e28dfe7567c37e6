"""Form pieces shared by several blueprints."""

from typing import TypeVar

from flask import abort
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; not in its stubs yet
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.geography import US_STATES
from portal.models import Sector
from portal.services import DomainError
from portal.services.organizations import OrganizationChoice
from portal.services.parsing import parse_cents, parse_signed_cents

SECTOR_CHOICES = [SelectChoice(sector.value, sector.value.capitalize()) for sector in Sector]
SIZE_CHOICES = [
    SelectChoice("small", "Small: fewer than 500 employees"),
    SelectChoice("large", "Large: 500 employees or more"),
]
STATE_CHOICES = [SelectChoice("", "- Select -")] + [
    SelectChoice(code, name) for code, name in sorted(US_STATES.items(), key=lambda item: item[1])
]


T = TypeVar("T")


def filled(data: T | None) -> T:
    """The data of a field whose validators require it, read once the form has validated.

    WTForms types every field's data as optional, since a form that was never validated may hold nothing."""
    if data is None:
        raise ValueError("a required field is empty: validate the form before reading it")
    return data


class Cents:
    """A money field's validator: what ``parse_cents`` (or, ``signed``, ``parse_signed_cents``) would refuse
    is refused while the form validates, so it is reported with the form's other errors in one round.
    The view still reads the amount with the same function, which then cannot fail."""

    def __init__(self, *, allow_zero: bool = False, signed: bool = False) -> None:
        self.allow_zero = allow_zero
        self.signed = signed

    def __call__(self, form, field) -> None:
        try:
            if self.signed:
                parse_signed_cents(field.data, field.name)
            else:
                parse_cents(field.data, field.name, allow_zero=self.allow_zero)
        except DomainError as error:
            raise ValidationError(error.message) from error


class Form(FlaskForm):
    """Every form of the portal. CSRFProtect checks the token of every POST, whatever the form's
    prefix, so the forms do not check it a second time (a prefixed form would look for a prefixed token)."""

    class Meta:
        csrf = False


class PressedButton:
    """The button pressed, for a form with several (``<button name="decision" value="approve">``)."""

    decision = HiddenField()

    def pressed(self, *choices: str) -> str:
        """The value of the button pressed, one of ``choices``; anything else is a bad request (400)."""
        if self.decision.data not in choices:
            abort(400)
        return self.decision.data


class ConfirmForm(PressedButton, Form):
    """A button and its CSRF token: confirming an email, ending sessions, a row's action button."""


def confirmed() -> ConfirmForm:
    """The submitted confirm form; a submission it cannot read is a bad request (400)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    return form


class OrganizationChoiceFields:
    """The Organization field, and the facts asked for only when that organization is new."""

    organization = StringField(
        "Organization",
        validators=[InputRequired("Enter the name of your organization"), Length(max=200)],
        description="Its full name. If it is already on the portal, one of its admins approves "
                    "you; if not, you create it and become its admin.",
        render_kw={"autocomplete": "organization"},
    )
    sector = RadioField("Sector", choices=SECTOR_CHOICES, validators=[Optional()],
                        description="Only needed if your organization is new to the portal.")
    size = RadioField("Size", choices=SIZE_CHOICES, validators=[Optional()],
                      description="Industry only; small means fewer than 500 employees.")
    state = SelectField("State or territory", choices=STATE_CHOICES, validators=[Optional()],
                        description="Where the organization is based; only needed if it is new.")

    def organization_choice(self) -> OrganizationChoice:
        return OrganizationChoice(
            name=self.organization.data or "",
            sector=self.sector.data or None,
            size=self.size.data or None,
            state=self.state.data or None,
        )


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's message on the field it names, or on the form as a whole."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
