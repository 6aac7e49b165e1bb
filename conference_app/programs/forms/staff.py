"""Forms of the staff pages: loading a call file, the applications list's filters, the
decisions on an application (formal review, reviewers, approval, agreement, tranches,
acceptance) and the public notices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from conference_app.events.forms.common import TOO_LONG, optional_id, titled_choices
from conference_app.programs.models import ApplicationStatus
from conference_app.workflow import COMMENT_MAX_LENGTH

PREVIEW_TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,64}$"


class CallUploadForm(FlaskForm):
    """A call file (YAML) to preview before it is loaded."""

    file = FileField(_l("Call file (YAML)"), validators=[FileRequired(_l("Please choose a call file."))])


class CallConfirmForm(FlaskForm):
    """Load the previewed file: it waits on the server under ``token``."""

    token = HiddenField(validators=[InputRequired(_l("The preview has expired: please upload the file again.")),
                                    Regexp(PREVIEW_TOKEN_PATTERN,
                                           message=_l("The preview has expired: please upload the file again."))])


class ConfirmForm(FlaskForm):
    """No fields, only the CSRF token: a button that posts (publish, conclude, a step)."""


class CommentForm(FlaskForm):
    """A decision with its comment (required by some: the workflow says which)."""

    comment = TextAreaField(_l("Comment"), validators=[Length(max=COMMENT_MAX_LENGTH, message=TOO_LONG)])


class RequiredCommentForm(FlaskForm):
    """A decision that always needs its comment (confirming a condition by hand)."""

    comment = TextAreaField(_l("Comment"), validators=[InputRequired(_l("Please say how the condition was checked.")),
                                                      Length(max=COMMENT_MAX_LENGTH, message=TOO_LONG)])


class ReviewerForm(FlaskForm):
    """Assign an expert; those with a conflict of interest are offered disabled, with the reason."""

    reviewer_id = SelectField(_l("Expert"), validate_choice=False)


class SigningForm(FlaskForm):
    signed_on = DateField(_l("Signed on"), validators=[InputRequired(_l("Please give the date of the signing."))])


class ReleaseForm(FlaskForm):
    released_on = DateField(_l("Paid on"), validators=[InputRequired(_l("Please give the date of the payment."))])


class NoticeForm(FlaskForm):
    """A public notice of every approved project of the call."""

    title = StringField(_l("Title"), validators=[InputRequired(_l("Please give the title of the notice.")),
                                                 Length(max=300, message=TOO_LONG)])
    body = TextAreaField(_l("Text"), validators=[Length(max=20000, message=TOO_LONG)])
    starts_on = DateField(_l("First day"), validators=[InputRequired(_l("Please give the first day."))])
    ends_on = DateField(_l("Last day"), validators=[InputRequired(_l("Please give the last day."))])


class ResolutionForm(FlaskForm):
    resolution = TextAreaField(_l("Resolution"), validators=[InputRequired(_l("Please record how it was resolved.")),
                                                            Length(max=5000, message=TOO_LONG)])


DECISION_CHOICES = [SelectChoice("", "—"), SelectChoice("met", _l("Met")), SelectChoice("not_met", _l("Not met"))]


def acceptance_form(codes: list[str], formdata=None, data=None) -> FlaskForm:
    """Acceptance: a verdict (``decision_<code>``) and a comment (``comment_<code>``) per
    indicator, an amount to recover instead of the rule's, and the conclusion."""

    class AcceptanceForm(FlaskForm):
        recovery = StringField(_l("Amount to recover instead (yuan)"), validators=[Optional()],
                               description=_l("Leave empty to recover what the rule proposes."))
        conclusion = TextAreaField(_l("Conclusion"),
                                   validators=[Length(max=COMMENT_MAX_LENGTH, message=TOO_LONG)])

    for code in codes:
        setattr(AcceptanceForm, f"decision_{code}", SelectField(code, choices=DECISION_CHOICES, validate_choice=False,
                                                                default=""))
        setattr(AcceptanceForm, f"comment_{code}", StringField(
            _l("Comment"), validators=[Length(max=2000, message=TOO_LONG)]))
    return AcceptanceForm(formdata=formdata, data=data, prefix="acceptance")


class ApplicationFilterForm(FlaskForm):
    """The filters of the staff applications list, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Length(max=100, message=TOO_LONG)],
                    description=_l("Project or organisation name"))
    call = SelectField(_l("Call"), default="")
    category = SelectField(_l("Category"), default="")
    status = SelectField(_l("Status"), choices=titled_choices(ApplicationStatus, _l("All")), default="")

    def __init__(self, *args, calls=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.call.choices = [SelectChoice("", _l("All"))] + [SelectChoice(str(i), label) for i, label in calls]
        self.category.choices = [SelectChoice("", _l("All"))] + [SelectChoice(str(i), label)
                                                                 for i, label in categories]

    def filters(self) -> dict:
        """Keyword arguments for ``staff_queries.applications_list_query``; invalid values are ignored."""
        self.validate()
        clean = {name: None if field.errors else (field.data or None) for name, field in self._fields.items()}
        return {"call_id": optional_id(clean["call"]), "category_id": optional_id(clean["category"]),
                "status": clean["status"], "search": (clean["q"] or "").strip() or None}
