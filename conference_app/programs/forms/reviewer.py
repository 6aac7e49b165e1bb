"""The expert's review form: a score per criterion of the call's rubric and a comment."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from conference_app.events.forms.common import TOO_LONG


def review_form(criteria, formdata=None, data=None) -> FlaskForm:
    """A form with one score (``score_<code>``, 0 to the criterion's maximum) per criterion
    and the comment."""

    class ReviewForm(FlaskForm):
        comment = TextAreaField(_l("Comment"), validators=[Length(max=5000, message=TOO_LONG)])

    for criterion in criteria:
        message = _l("Please give a score from 0 to %(max)s.", max=criterion.max_score)
        setattr(ReviewForm, f"score_{criterion.code}", DecimalField(
            f"{criterion.name_zh} (0–{criterion.max_score})", places=None,
            validators=[InputRequired(message), NumberRange(0, criterion.max_score, message)],
            render_kw={"min": 0, "max": criterion.max_score, "step": "0.5", "inputmode": "decimal"},
            description=_l("Weight %(weight)s", weight=criterion.weight)))
    return ReviewForm(formdata=formdata, data=data)


def scores_of(form, criteria) -> dict[str, float | None]:
    """The typed scores by criterion code, as numbers for ``review.submit_review``."""
    scores = {}
    for criterion in criteria:
        value = form[f"score_{criterion.code}"].data
        scores[criterion.code] = None if value is None else float(value)
    return scores
