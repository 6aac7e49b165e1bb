"""Forms of the Top-10 influential conferences: a round, a nomination, the experts, a score sheet."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from conference_app.events.forms.common import TOO_LONG
from conference_app.events.services.influence import (
    DEFAULT_CRITERIA,
    SCORE_MAX,
    SCORE_MIN,
)


class InfluenceRoundForm(FlaskForm):
    """Open a year's round: how many are selected and the weight of each criterion."""

    year = IntegerField(_l("Year"), validators=[InputRequired(_l("Please enter the year."))])
    winners = IntegerField(_l("Conferences selected"), default=10,
                           validators=[InputRequired(_l("Please enter how many are selected.")),
                                       NumberRange(1, 50, _l("From 1 to 50."))])

    def criteria(self) -> list[dict]:
        """The default criteria with the weights typed in."""
        return [dict(criterion, weight=self[f"weight_{criterion['code']}"].data) for criterion in DEFAULT_CRITERIA]


for _criterion in DEFAULT_CRITERIA:
    setattr(InfluenceRoundForm, f"weight_{_criterion['code']}", DecimalField(
        _l("Weight: %(name)s", name=_criterion["name_zh"]), default=_criterion["weight"], places=2,
        validators=[InputRequired(_l("Please give every weight.")), NumberRange(0.01, 1, _l("From 0.01 to 1."))]))


class NominationForm(FlaskForm):
    event_id = SelectField(_l("Conference"), coerce=int, validate_choice=False)
    reason = TextAreaField(_l("Why it is nominated"), validators=[Length(max=2000, message=TOO_LONG)])


class ReviewersForm(FlaskForm):
    reviewer_ids = SelectMultipleField(_l("Experts"), coerce=int)



def score_form(criteria: list[dict], name_of, formdata=None, data=None) -> FlaskForm:
    """A form with one 1-10 choice per criterion of a round (``score_<code>``) and a comment."""

    class ScoreForm(FlaskForm):
        comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000, message=TOO_LONG)])

    choices = [SelectChoice(0, "—")] + [SelectChoice(value, str(value)) for value in range(SCORE_MAX, SCORE_MIN - 1, -1)]
    for criterion in criteria:
        setattr(ScoreForm, f"score_{criterion['code']}", SelectField(
            name_of(criterion), coerce=int, choices=choices, default=0))
    return ScoreForm(formdata=formdata, data=data)


