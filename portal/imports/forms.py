"""The import page's form: a kind and a file, checked (dry run) or imported."""

from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from portal.forms import Form, PressedButton, SelectChoice
from portal.models import ImportKind
from portal.services.imports import LABELS, MAX_BYTES


class UploadForm(PressedButton, Form):
    kind = SelectField("What the file holds", choices=[SelectChoice(str(k), LABELS[k]) for k in ImportKind],
                       description="Import in this order: organizations, memberships, pledges, receipts; federal "
                                   "obligations at any time.")
    file = FileField("File", validators=[FileRequired("Choose a CSV or Excel (.xlsx) file")],
                     description=f"CSV (UTF-8) or Excel .xlsx, its first row naming the columns; at most "
                                 f"{MAX_BYTES // (1024 * 1024)} MB.",
                     render_kw={"accept": ".csv,.xlsx,text/csv,"
                                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
