"""Money forms. Each carries a one-time key so that a repeated submission records nothing new."""

import secrets

from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import TYPED_DATE, Cents, Form, SelectChoice, record_id
from portal.models import PledgeKind, PledgeStatus

AMOUNT_HINT = "In dollars, such as 1,250,000 or 1250000.00; at most $1,000,000,000."


KEY_LENGTH = 64  # the ledger's idempotency_key columns


class KeyedForm(Form):
    """A money form: ``key`` is minted when the form is first shown and kept through re-displays. The page
    writes it; a longer one was not, so the form is refused with a message rather than stored cut short."""

    key = HiddenField(validators=[Length(max=KEY_LENGTH, message="This form could not be read; reload the page "
                                                                 "and submit it again.")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.key.data:
            self.key.data = secrets.token_urlsafe(24)


class PledgeForm(KeyedForm):
    institute = SelectField("Institute", coerce=record_id,
                            description="Institutes your organization is an active member of.")
    amount = StringField("Amount pledged", description=AMOUNT_HINT, render_kw={"inputmode": "decimal"},
                         validators=[Cents()])
    kind = RadioField("Kind", choices=[SelectChoice(PledgeKind.CASH.value, "Cash"),
                                       SelectChoice(PledgeKind.IN_KIND.value, "In kind")],
                      validators=[InputRequired("Choose cash or in kind")])
    in_kind_description = TextAreaField(
        "What is given in kind, and how it was valued", validators=[Optional(), Length(max=1000)],
        description="In-kind only. For example: 400 hours of metallurgist time at $150 an hour.")
    fiscal_year = SelectField("Federal fiscal year", coerce=int)
    schedule = TextAreaField(
        "Installment schedule (optional)", validators=[Optional(), Length(max=4000)],
        description="One installment a line: the date due and the amount, such as 2027-01-15 250,000. "
                    "The amounts must add up to the pledge.")
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=1000)])


class ReceiptForm(KeyedForm):
    amount = StringField("Amount received", description=AMOUNT_HINT, render_kw={"inputmode": "decimal"},
                         validators=[Cents()])
    received_on = DateField("Date received", validators=[InputRequired("Enter the date it was received"), TYPED_DATE])
    note = StringField("Note (optional)", validators=[Optional(), Length(max=1000)],
                       description="For example a check or transfer number.")


class ReasonForm(KeyedForm):
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=1000)])


class FederalForm(KeyedForm):
    institute = SelectField("Institute", coerce=record_id)
    fiscal_year = SelectField("Federal fiscal year", coerce=int)
    amount = StringField("Amount obligated", render_kw={"inputmode": "decimal"}, validators=[Cents(signed=True)],
                         description="In dollars. Start with a minus sign to correct an earlier obligation downwards.")
    reference = StringField("Award reference", validators=[Optional(), Length(max=100)],
                            description="The award or modification number, recorded once per institute. "
                                        "A correction gives the reference of the obligation it corrects.")
    note = StringField("Note", validators=[Optional(), Length(max=1000)],
                       description="Required for a correction: what it corrects and why.")


class LedgerFilterForm(Form):
    class Meta:
        csrf = False

    fiscal_year = SelectField("Fiscal year", coerce=lambda v: int(v) if v else None, default="")
    kind = SelectField("Kind", default="", choices=[SelectChoice("", "Cash and in kind"),
                                                     SelectChoice("cash", "Cash"),
                                                     SelectChoice("in_kind", "In kind")])
    status = SelectField("Status", default="", choices=[SelectChoice("", "Any status")] + [
        SelectChoice(s.value, s.label) for s in PledgeStatus])
    organization = StringField("Organization", validators=[Optional(), Length(max=200)],
                               description="All or part of its name.")
