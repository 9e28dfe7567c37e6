"""The institute directory's search form (GET, so no CSRF token)."""

from wtforms import SearchField, SelectField

from portal.forms import Form, SelectChoice
from portal.geography import state_name
from portal.models.institute import AGENCY_NAMES, Agency


class InstituteSearchForm(Form):
    class Meta:
        csrf = False

    q = SearchField("Search", description="Matches name, acronym, focus and description.")
    agency = SelectField("Sponsoring agency", choices=[], default="")
    state = SelectField("State", choices=[], default="")
    focus = SelectField("Technology focus", choices=[], default="")

    def set_choices(self, available: dict[str, list[str]]) -> None:
        self.agency.choices = [SelectChoice("", "Any agency")] + [
            SelectChoice(a, AGENCY_NAMES[Agency(a)] + ("" if a == Agency.OTHER else f" ({a})"))
            for a in available["agency"]
        ]
        self.state.choices = [SelectChoice("", "Any state")] + [
            SelectChoice(s, state_name(s)) for s in available["state"]
        ]
        self.focus.choices = [SelectChoice("", "Any focus")] + [SelectChoice(f, f) for f in available["focus"]]
