"""Forms of the applicants' pages: an application's fields, its budget lines, planned events,
co-organisers and attachments, submitting and withdrawing, and a project's results.

Choice fields use ``validate_choice=False`` and amounts are typed text: the services check
every value and say in words what is wrong (``parse_fen`` reads yuan)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, FieldList, Form, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from conference_app.core.forms import VersionedForm
from conference_app.core.layout import money
from conference_app.events.forms.common import TOO_LONG, optional_id, titled_choices
from conference_app.events.models import District, EventKind, FilingStatus
from conference_app.programs.indicators import DOCUMENT_KIND_TITLES, OUTCOME_KIND_TITLES
from conference_app.programs.models import RecordKind
from conference_app.programs.services.applications import MAX_BUDGET_LINES
from conference_app.workflow import COMMENT_MAX_LENGTH


def _yuan_text(fen: int | None) -> str:
    """Integer fen as the yuan a person types: 200000.00 -> "200000", 1234.5 -> "1234.50"."""
    if fen is None:
        return ""
    yuan, cents = divmod(int(fen), 100)
    return f"{yuan}" if cents == 0 else f"{yuan}.{cents:02d}"


class ApplicationForm(FlaskForm):
    """What an application says about its project. The amount is typed in yuan; a category
    with a fixed amount shows it read-only (the service takes the fixed amount)."""

    project_name_zh = StringField(_l("Project name (Chinese)"))
    project_name_en = StringField(_l("Project name (English)"))
    form_code = SelectField(_l("Form of the project"), validate_choice=False)
    theme = TextAreaField(_l("Theme"), description=_l("The theme of the academic exchange and why it matters."))
    expected_outcomes = TextAreaField(_l("Expected outcomes"))
    requested = StringField(_l("Requested amount (yuan)"), render_kw={"inputmode": "decimal"})
    matching_funds = StringField(_l("Matching funds (yuan)"), render_kw={"inputmode": "decimal"},
                                 description=_l("The organisation's own funds for the project, if any."))
    district = SelectField(_l("District where it is held"), choices=titled_choices(District, "—"),
                           validate_choice=False, default="")

    def __init__(self, *args, category, **kwargs):
        super().__init__(*args, **kwargs)
        self.category = category
        forms = category.definition().forms or ()
        self.form_code.choices = [SelectChoice("", "—")] + [SelectChoice(form.code, form.name_zh) for form in forms]
        self.has_forms = bool(forms)
        if category.amount_is_fixed:
            self.requested.render_kw = {**(self.requested.render_kw or {}), "readonly": True}
            self.requested.description = _l("The fixed amount of this category.")
            if not self.requested.data:
                self.requested.data = _yuan_text(category.cap_fen)
        else:
            self.requested.description = _l("At most %(cap)s.", cap=money(category.cap_fen))

    @staticmethod
    def data_of(application) -> dict:
        return {
            "project_name_zh": application.project_name_zh, "project_name_en": application.project_name_en or "",
            "form_code": application.form_code or "", "theme": application.theme or "",
            "expected_outcomes": application.expected_outcomes or "",
            "requested": _yuan_text(application.requested_fen),
            "matching_funds": _yuan_text(application.matching_funds_fen),
            "district": str(application.district) if application.district else "",
        }

    def application_fields(self) -> dict:
        """The values for ``start_application`` / ``update_application`` (amounts as typed)."""
        fields = {
            "project_name_zh": self.project_name_zh.data, "project_name_en": self.project_name_en.data,
            "theme": self.theme.data, "expected_outcomes": self.expected_outcomes.data,
            "matching_funds_fen": (self.matching_funds.data or "").strip() or None,
            "district": self.district.data or None,
        }
        if self.has_forms:
            fields["form_code"] = self.form_code.data or None
        if not self.category.amount_is_fixed:
            fields["requested_fen"] = (self.requested.data or "").strip()  # yuan, read by parse_fen
        return fields


class ApplicationEditForm(VersionedForm, ApplicationForm):
    """An existing application's fields, with the version it was opened at."""

    @staticmethod
    def data_of(application) -> dict:
        return {**ApplicationForm.data_of(application), "version": application.version}


class BudgetLineForm(Form):
    """One row of the budget."""

    item = StringField(_l("Item"))
    amount = StringField(_l("Amount (yuan)"), render_kw={"inputmode": "decimal"})
    note = StringField(_l("Note"))


class BudgetForm(FlaskForm):
    """Every budget line at once: the existing ones and blank rows (left empty, ignored)."""

    BLANK_ROWS = 8
    lines = FieldList(FormField(BudgetLineForm), min_entries=0, max_entries=MAX_BUDGET_LINES + BLANK_ROWS)

    def __init__(self, *args, application=None, **kwargs):
        """Posted rows as they came; with ``application`` (to show the form), its lines and blank rows."""
        super().__init__(*args, **kwargs)
        if application is not None:
            while len(self.lines):
                self.lines.pop_entry()
            for line in application.budget_lines:
                self.lines.append_entry({"item": line.item, "amount": _yuan_text(line.amount_fen),
                                         "note": line.note or ""})
            for _row in range(self.BLANK_ROWS):
                self.lines.append_entry()

    def budget_lines(self) -> list[dict]:
        return [{"item": row.item.data, "amount": row.amount.data, "note": row.note.data} for row in self.lines]


class PlannedEventForm(FlaskForm):
    """An event the project plans."""

    kind = SelectField(_l("Kind of event"), choices=titled_choices(EventKind), validate_choice=False)
    title = StringField(_l("Event title"))
    starts_on = DateField(_l("First day"), validators=[Optional()])
    ends_on = DateField(_l("Last day"), validators=[Optional()], description=_l("Empty for a one-day event."))
    venue = StringField(_l("Venue"))
    district = SelectField(_l("District"), choices=titled_choices(District, "—"), validate_choice=False, default="")
    expected_attendance = IntegerField(_l("Expected attendance"), validators=[Optional()])
    filing_status = SelectField(_l("International conference filing"), choices=titled_choices(FilingStatus),
                                validate_choice=False, default=FilingStatus.NOT_NEEDED.value)

    def event_fields(self) -> dict:
        return {name: self[name].data for name in ("kind", "title", "starts_on", "ends_on", "venue", "district",
                                                    "expected_attendance", "filing_status")}


class CoOrganiserForm(FlaskForm):
    """A co-organiser: an organisation of the platform, or a name typed, with its responsibility."""

    organisation_id = SelectField(_l("Organisation on the platform"), validate_choice=False, default="")
    name = StringField(_l("Or its name"), description=_l("When it is not on the platform."))
    responsibility = StringField(_l("Responsibility"))

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(organisation.id), organisation.name_zh) for organisation in organisations]

    def co_organiser_fields(self) -> dict:
        return {"organisation_id": optional_id(self.organisation_id.data), "name": self.name.data,
                "responsibility": self.responsibility.data}


class AttachmentForm(FlaskForm):
    """A file kept with the application."""

    file = FileField(_l("File (PDF, Word .docx or Excel .xlsx)"))


class ConfirmForm(FlaskForm):
    """Only the CSRF token: buttons that post (submit, remove)."""


class WithdrawForm(FlaskForm):
    comment = TextAreaField(_l("Why it is withdrawn (optional)"),
                            validators=[Length(max=COMMENT_MAX_LENGTH, message=TOO_LONG)])


# --- a project's results ------------------------------------------------------------------------

class LinkEventForm(FlaskForm):
    """An event the organisation holds, to count for the project."""

    event_id = SelectField(_l("Event"), validate_choice=False, default="")

    def __init__(self, *args, events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.event_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(event.id), f"{event.starts_at:%Y-%m-%d} {event.title_zh}") for event in events]

    def chosen_id(self) -> int | None:
        return optional_id(self.event_id.data)


# Which subkinds a kind of result takes (the indicators read them by these keys).
SUBKINDS = {RecordKind.OUTCOME.value: OUTCOME_KIND_TITLES, RecordKind.DOCUMENT.value: DOCUMENT_KIND_TITLES}


class RecordForm(FlaskForm):
    """A result of the project; a document needs its DOCX or PDF file (its characters are counted)."""

    kind = SelectField(_l("Kind of result"), choices=titled_choices(RecordKind), validate_choice=False)
    subkind = SelectField(_l("Outcome or document kind"), validate_choice=False, default="",
                          description=_l("For an outcome or a document."))
    title = StringField(_l("Title"))
    link = StringField(_l("Link"), render_kw={"placeholder": "https://", "inputmode": "url"})
    site = StringField(_l("Medium or site"), description=_l("For a news item: where it appeared."))
    recorded_on = DateField(_l("Date"), validators=[Optional()], description=_l("Empty for today."))
    file = FileField(_l("File"), description=_l("A document needs its Word (.docx) or PDF file."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.subkind.choices = [SelectChoice("", "—")] + [
            SelectChoice(key, f"{title}（{RecordKind(kind).title}）")
            for kind, titles in SUBKINDS.items() for key, title in titles.items()]

    def validate_subkind(self, field) -> None:
        """A document names its kind, an outcome may; other results take none."""
        titles = SUBKINDS.get(self.kind.data)
        if titles is None:
            field.data = ""
        elif field.data not in titles and (field.data or self.kind.data == RecordKind.DOCUMENT.value):
            raise ValidationError(_l("Please choose a kind that fits: %(kinds)s.", kinds="、".join(titles.values())))

    def record_fields(self) -> dict:
        fields = {name: self[name].data for name in ("kind", "subkind", "title", "link", "site", "recorded_on")}
        fields["subkind"] = fields["subkind"] or None
        return fields
