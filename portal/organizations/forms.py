"""Forms for an organization's admins."""

from collections.abc import Iterable, Sequence

from wtforms import BooleanField, RadioField, SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import SECTOR_CHOICES, SIZE_CHOICES, STATE_CHOICES, Form, SelectChoice


class OrganizationProfileForm(Form):
    name = StringField("Name", validators=[InputRequired("Enter the organization's name"), Length(max=200)])
    sector = RadioField("Sector", choices=SECTOR_CHOICES,
                        validators=[InputRequired("Choose the organization's sector")])
    size = RadioField("Size", choices=SIZE_CHOICES, validators=[Optional()],
                      description="Industry only; small means fewer than 500 employees.")
    state = SelectField("State or territory", choices=STATE_CHOICES,
                        validators=[InputRequired("Choose the state or territory")])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    website = StringField("Website", validators=[Optional(), Length(max=255)],
                          description="For example https://www.example.com", render_kw={"inputmode": "url"})
    description = TextAreaField("Short description", validators=[Optional(), Length(max=1000)],
                                description="What the organization does, in at most 1,000 characters.")
    listed = BooleanField("List this organization publicly",
                          description="Listed organizations appear in public rosters and directories.")


class DirectoryForm(Form):
    """The organization directory's filters (GET)."""

    q = SearchField("Search", description="Matches name, city and state.")
    sector = SelectField("Sector", choices=[SelectChoice("", "Any sector"), *SECTOR_CHOICES], default="")
    size = SelectField("Size", choices=[SelectChoice("", "Any size"), *SIZE_CHOICES], default="",
                       description="Industry only.")
    state = SelectField("State or territory", choices=[SelectChoice("", "Any state"), *STATE_CHOICES[1:]], default="")
    institute = SelectField("Member of", choices=[SelectChoice("", "Any institute, or none")], default="",
                            description="Only organizations with a membership in force at this institute.")
    members = BooleanField("Only members of an institute")

    def set_institutes(self, institutes: Iterable[Sequence[str]]) -> None:
        """The institutes to choose from, as (slug, acronym) pairs: any other value is an error."""
        self.institute.choices = [SelectChoice("", "Any institute, or none")] + [
            SelectChoice(slug, acronym) for slug, acronym in institutes]
