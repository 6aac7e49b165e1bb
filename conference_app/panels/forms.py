"""Forms of the selection rounds: the upload of a ranking's output and a list's filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from conference_app.panels.models import SelectionRound, Stability

TOO_LONG = _l("At most %(max)d characters.")


class RoundUploadForm(FlaskForm):
    name = StringField(_l("Round name"), validators=[
        InputRequired(_l("Please give the round a name.")),
        Length(max=SelectionRound.__table__.c["name"].type.length, message=TOO_LONG),
    ])
    file = FileField(_l("Ranking output (.zip with candidates.parquet, summary.json and the charts)"),
                     validators=[FileRequired(_l("Please choose a file."))])


class CandidateFilterForm(FlaskForm):
    """A list's filters, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Length(max=100, message=TOO_LONG)])
    stability = SelectField(_l("Stability"), default="", choices=[SelectChoice("", _l("All"))] + [
        SelectChoice(value, title) for value, title in Stability.titles().items()])
    beijing = SelectField(_l("Beijing author"), default="", choices=[
        SelectChoice("", _l("All")), SelectChoice("first", _l("Beijing first author")),
        SelectChoice("corresponding", _l("Beijing corresponding author"))])
    over_cap = SelectField(_l("Over the topic cap"), default="", choices=[
        SelectChoice("", _l("All")), SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))])

    def filters(self) -> dict:
        """Keyword arguments for ``services.candidates_query``; invalid values are ignored."""
        self.validate()
        clean = {name: None if field.errors else (field.data or None) for name, field in self._fields.items()}
        return {"search": clean["q"], "stability": clean["stability"], "beijing": clean["beijing"],
                "over_cap": {"yes": True, "no": False}.get(clean["over_cap"])}
