"""Forms for accounts: registration, sign-in, passwords and the account page."""

from wtforms import EmailField, HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length

from portal.forms import TIME_ZONE_CHOICES, Form, OrganizationChoiceFields, SelectChoice
from portal.geography import DEFAULT_TIME_ZONE
from portal.models import Delivery, NoticeKind
from portal.services.notifications import CHOOSABLE
from portal.services.passwords import MIN_LENGTH

NEW_PASSWORD_HINT = (f"At least {MIN_LENGTH} characters. A few unrelated words make a strong "
                     "password that is easy to remember; very common passwords are refused.")


def email_field(label: str = "Email address") -> EmailField:
    return EmailField(label, validators=[InputRequired("Enter your email address"), Length(max=254)],
                      render_kw={"autocomplete": "email", "spellcheck": "false"})


def new_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(label, validators=[InputRequired("Enter a password")],
                         description=NEW_PASSWORD_HINT, render_kw={"autocomplete": "new-password"})


# The "did you mean" answer that the typed organization is new after all.
NEW_ORGANIZATION = "new"


class RegisterForm(OrganizationChoiceFields, Form):
    full_name = StringField("Full name", validators=[InputRequired("Enter your full name"), Length(max=120)],
                            render_kw={"autocomplete": "name"})
    email = email_field()
    password = new_password_field()
    # asked only when the typed name is close to organizations already on the portal; choices set by the view
    organization_match = RadioField("Is your organization one of these, already on the portal?", choices=[],
                                    validate_choice=False)


class LoginForm(Form):
    email = email_field()
    password = PasswordField("Password", validators=[InputRequired("Enter your password")],
                             render_kw={"autocomplete": "current-password"})


class ForgotPasswordForm(Form):
    email = email_field()


class ResetPasswordForm(Form):
    password = new_password_field("New password")


class ProfileForm(Form):
    full_name = StringField("Full name", validators=[InputRequired("Enter your full name"), Length(max=120)],
                            render_kw={"autocomplete": "name"})
    time_zone = SelectField("Time zone", choices=TIME_ZONE_CHOICES, default=DEFAULT_TIME_ZONE,
                            validate_choice=False,  # the service says which zones it takes, beside the field
                            description="Times in the portal are shown in this zone. Exports keep UTC.")


class ChangePasswordForm(Form):
    current_password = PasswordField("Current password",
                                     validators=[InputRequired("Enter your current password")],
                                     render_kw={"autocomplete": "current-password"})
    new_password = new_password_field("New password")


class JoinOrganizationForm(OrganizationChoiceFields, Form):
    pass


class CodeForm(Form):
    code = StringField("Code", validators=[InputRequired("Enter the code"), Length(max=40)],
                       description="The 6 digits your authenticator app shows now, or one of your recovery codes.",
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"})


class PasskeyForm(Form):
    """The answer of a passkey, filled in by static/js/passkeys.js."""

    credential = HiddenField()


class AddPasskeyForm(Form):
    name = StringField("Name of the passkey", validators=[InputRequired("Name the passkey"), Length(max=100)],
                       description="So that you can tell your passkeys apart, for example: Work laptop.")
    credential = HiddenField()


class EnrolForm(Form):
    code = StringField("Code from the app", validators=[InputRequired("Enter the code"), Length(max=20)],
                       description="The 6 digits the app shows once you have added the account.",
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ResetSecondFactorForm(Form):
    email = email_field("Email address of the account")
    reason = StringField("Why", validators=[InputRequired("Say why"), Length(max=1000)],
                         description="How the owner asked, and how you checked that it was them.")


class LockedLoginForm(Form):
    email = email_field()
    password = PasswordField("Password", validators=[InputRequired("Enter your password")],
                             render_kw={"autocomplete": "current-password"})
    code = StringField("Code from your authenticator app", validators=[InputRequired("Enter the code"),
                                                                       Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false"})


class ChangeEmailForm(Form):
    new_email = email_field("New email address")
    # its own id: the account page also shows the password form's current_password
    current_password = PasswordField("Current password", id="email_current_password",
                                     validators=[InputRequired("Enter your current password")],
                                     render_kw={"autocomplete": "current-password"})


class LinkPasswordForm(Form):
    password = PasswordField("Password", validators=[InputRequired("Enter your password")],
                             render_kw={"autocomplete": "current-password"})


def notification_preferences_form(choices: dict[NoticeKind, Delivery] | None = None, **kwargs) -> Form:
    """One radio group per kind of notification: at once, daily digest, or off (security is never off)."""

    class NotificationPreferencesForm(Form):
        pass

    options = [SelectChoice(d.value, d.label) for d in Delivery]
    for kind in CHOOSABLE:
        setattr(NotificationPreferencesForm, kind.value, RadioField(
            kind.label, choices=options, default=(choices or {}).get(kind, Delivery.NOW).value,
            validators=[InputRequired("Choose at once, daily digest or off")]))
    return NotificationPreferencesForm(**kwargs)


class ApiTokenForm(Form):
    name = StringField("Name of the token", validators=[InputRequired("Name the token"), Length(max=100)],
                       description="So that you can tell your tokens apart, for example: Membership CRM sync.")
    scope = RadioField("What it may do", choices=[SelectChoice("read", "Read only"),
                                                 SelectChoice("write", "Read and make changes")],
                       default="read", validators=[InputRequired("Choose what the token may do")])
    days = SelectField("Expires after", choices=[SelectChoice("30", "30 days"), SelectChoice("90", "90 days"),
                                                  SelectChoice("365", "One year")],
                       default="90", validators=[InputRequired("Choose when the token expires")])
