"""Form pieces shared by several blueprints, and the rules every form applies to what is typed."""

import re
from datetime import date, datetime, timedelta
from typing import TypeVar

from flask import abort
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; not in its stubs yet
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.geography import TIME_ZONES, US_STATES
from portal.models import Sector
from portal.models.base import MAX_ID
from portal.services import DomainError
from portal.services.clock import long_date, today
from portal.services.organizations import OrganizationChoice
from portal.services.parsing import parse_cents, parse_signed_cents

SECTOR_CHOICES = [SelectChoice(sector.value, sector.value.capitalize()) for sector in Sector]
SIZE_CHOICES = [
    SelectChoice("small", "Small: fewer than 500 employees"),
    SelectChoice("large", "Large: 500 employees or more"),
]
TIME_ZONE_CHOICES = [SelectChoice(zone, label) for zone, label in TIME_ZONES.items()]
STATE_CHOICES = [SelectChoice("", "- Select -")] + [
    SelectChoice(code, name) for code, name in sorted(US_STATES.items(), key=lambda item: item[1])
]


# Characters no one types: C0 and C1 controls other than tab, line feed and carriage return. PostgreSQL
# cannot store NUL in text at all, and none of them belongs in a name, an address or a note.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_CHARACTER_MESSAGE = "Remove the invisible control characters (such as a NUL byte) from this text"
CHOOSE_AN_OPTION = "Choose one of the options"

# WTForms' own messages, said the way the portal's are.
MESSAGES = {
    "Not a valid choice.": CHOOSE_AN_OPTION,
    "Invalid Choice: could not coerce.": CHOOSE_AN_OPTION,
    "Not a valid integer value.": "Enter a whole number, such as 12",
    "Not a valid date value.": "Enter a real date as YYYY-MM-DD, such as 2027-01-15",
    "Not a valid datetime value.": "Enter a real date and time, such as 2027-01-15 09:00",
    "This field is required.": "Fill in this field",
    "Field cannot be longer than %(max)d characters.": "Shorten this to at most %(max)d characters "
                                                       "(it has %(length)d)",
}


class Messages:
    """The translations WTForms asks for its built-in messages."""

    def gettext(self, text: str) -> str:
        return MESSAGES.get(text, text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def has_control_characters(text: str | None) -> bool:
    return text is not None and CONTROL_CHARACTERS.search(text) is not None


def no_control_characters(form, field: Field) -> None:
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise ValidationError(CONTROL_CHARACTER_MESSAGE)


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
    prefix, so the forms do not check it a second time (a prefixed form would look for a prefixed token).

    Every text field (hidden and password fields included) refuses control characters with a message next to
    it, so none reaches a service or the database; WTForms' own messages are said in the portal's words."""

    class Meta:
        csrf = False

        def get_translations(self, form):
            return Messages()

    def validate(self, extra_validators=None) -> bool:
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, StringField):
                extra.setdefault(name, []).append(no_control_characters)
        return super().validate(extra)


def record_id(value) -> int:
    """A row's id from a form: ASCII digits within the range ids take (``MAX_ID``); anything else is a
    ValueError, which a select field shows as "Choose one of the options" without asking the database."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
            raise ValueError(CHOOSE_AN_OPTION)
        number = int(text)
    if not 1 <= number <= MAX_ID:
        raise ValueError(CHOOSE_AN_OPTION)
    return number


def optional_record_id(value) -> int | None:
    """``record_id``, with an empty choice ("any") as None."""
    return None if value is None or value == "" else record_id(value)


class DateWindow:
    """A typed date (or date and time) no more than ``days_back`` days before today and ``days_ahead`` days
    after it. Each date's own window is a rule of the services (services/dates.py), with a message that names
    it; a form only refuses, with ``TYPED_DATE``, dates no window could hold, so that years such as 9999 or 0001
    never reach the services' date arithmetic (a term's end, ten years on) nor a time zone conversion."""

    def __init__(self, days_back: int, days_ahead: int, message: str | None = None):
        self.days_back, self.days_ahead, self.message = days_back, days_ahead, message

    def bounds(self) -> tuple[date, date]:
        now = today()
        return now - timedelta(days=self.days_back), now + timedelta(days=self.days_ahead)

    def __call__(self, form, field: Field) -> None:
        if field.data is None:
            return
        day = field.data.date() if isinstance(field.data, datetime) else field.data
        first, last = self.bounds()
        if not first <= day <= last:
            raise ValidationError(self.message or f"Enter a date from {long_date(first)} to {long_date(last)}")


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


# Every date typed into a form: a century back and fifty years ahead, far wider than any rule's window.
TYPED_DATE = DateWindow(days_back=100 * 366, days_ahead=50 * 366)
