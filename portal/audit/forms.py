"""The audit log's filters (a GET form: no CSRF token, nothing changes)."""

from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.forms import TYPED_DATE, Form, SelectChoice
from portal.services.audit_log import KINDS


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    kind = SelectField("Kind", default="", choices=[SelectChoice("", "Every kind"),
                                                     *(SelectChoice(k, label) for k, label in KINDS.items())])
    person = StringField("Person", validators=[Optional(), Length(max=254)],
                         description="Their email address, or part of their name.")
    since = DateField("From", validators=[Optional(), TYPED_DATE], description="For example: 2026-01-31")
    until = DateField("To", validators=[Optional(), TYPED_DATE], description="For example: 2026-12-31")
