"""Forms of the selection rounds (the upload of a ranking's output, a list's filters) and of the
expert panels (profile, panel, members, conflicts)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from conference_app.core.forms import VersionedForm
from conference_app.panels.models import ReviewStage, SelectionRound, Stability

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


class ExpertProfileForm(VersionedForm, FlaskForm):
    """An expert's ids and disciplines; the version of the profile it was opened at, once there is one."""

    openalex_author_id = StringField(_l("OpenAlex author id"), validators=[Length(max=60, message=TOO_LONG)],
                                     description=_l("For example A5023888391 or https://openalex.org/A5023888391."))
    orcid = StringField("ORCID", validators=[Length(max=60, message=TOO_LONG)],
                        description=_l("For example 0000-0002-1825-0097."))
    institution_ids = TextAreaField(_l("OpenAlex institution ids"), validators=[Length(max=2000, message=TOO_LONG)],
                                    description=_l("The OpenAlex ids of your organisations (I99065089), separated "
                                                   "by spaces or commas."))
    disciplines = SelectMultipleField(_l("Disciplines"), choices=[])

    def __init__(self, *args, discipline_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.disciplines.choices = [SelectChoice(key, title) for key, title in discipline_choices]


class PanelCreateForm(FlaskForm):
    discipline = SelectField(_l("Discipline"), choices=[], validate_choice=False)
    name = StringField(_l("Panel name"), validators=[Length(max=120, message=TOO_LONG)],
                       description=_l("Left empty, the panel is named after its discipline."))


class MemberForm(FlaskForm):
    user_id = SelectField(_l("Expert"), choices=[], coerce=int, validate_choice=False)


class OverrideForm(FlaskForm):
    comment = TextAreaField(_l("Reason for the override"), validators=[Length(max=2000, message=TOO_LONG)])


class DeclareForm(FlaskForm):
    work_id = StringField(_l("OpenAlex work id of the candidate"), validators=[Length(max=60, message=TOO_LONG)])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000, message=TOO_LONG)])


class StepForm(FlaskForm):
    """A plain POST button (its CSRF token, the refusal of its step)."""


class ReviewRoundForm(FlaskForm):
    """Open the panel's next round of review."""

    stage = SelectField(_l("Round"), choices=[SelectChoice(value, title) for value, title in ReviewStage.titles().items()])
    blind = BooleanField(_l("Blind: hide authors, institutions and journal from the experts"), default=True)
    per_item = IntegerField(_l("Experts per candidate (triage)"), validators=[
        Optional(), NumberRange(min=1, max=50, message=_l("Between %(min)s and %(max)s."))])
    size = IntegerField(_l("Candidates on the shortlist"), validators=[
        Optional(), NumberRange(min=1, max=1000, message=_l("Between %(min)s and %(max)s."))])


class CloseRoundForm(FlaskForm):
    reason = TextAreaField(_l("Why the round closes with unscored assignments"),
                           validators=[Length(max=4000, message=TOO_LONG)],
                           description=_l("Needed only when some assignments are not scored."))


class ReopenForm(FlaskForm):
    comment = TextAreaField(_l("Why the results are reopened"), validators=[Length(max=2000, message=TOO_LONG)])
