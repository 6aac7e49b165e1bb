"""Forms of the events pages; every message is translated."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from conference_app.events.services.influence import DEFAULT_CRITERIA, SCORE_MAX, SCORE_MIN

TOO_LONG = _l("At most %(max)d characters.")


class ConfirmForm(FlaskForm):
    """No fields, only the CSRF token: for buttons that post (cancel, check in)."""


# --- the Top-10 influential conferences ------------------------------------------------------


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


class CommentForm(FlaskForm):
    """A workflow step, with its comment (required by some steps)."""

    comment = TextAreaField(_l("Comment"), validators=[Length(max=2000, message=TOO_LONG)])


def score_form(criteria: list[dict], name_of, formdata=None, data=None) -> FlaskForm:
    """A form with one 1-10 choice per criterion of a round (``score_<code>``) and a comment."""

    class ScoreForm(FlaskForm):
        comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000, message=TOO_LONG)])

    choices = [SelectChoice(0, "—")] + [SelectChoice(value, str(value)) for value in range(SCORE_MAX, SCORE_MIN - 1, -1)]
    for criterion in criteria:
        setattr(ScoreForm, f"score_{criterion['code']}", SelectField(
            name_of(criterion), coerce=int, choices=choices, default=0))
    return ScoreForm(formdata=formdata, data=data)


# --- manage: recording events and running them (organisers and staff) -------------------------

from datetime import datetime  # noqa: E402

from flask_babel import get_locale  # noqa: E402
from flask_babel import lazy_gettext as _l  # noqa: E402
from flask_wtf.file import FileField  # noqa: E402
from wtforms import (  # noqa: E402
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # noqa: E402
from wtforms.validators import DataRequired, InputRequired, Length, Optional  # noqa: E402

from conference_app.core.enums import TitledStrEnum  # noqa: E402
from conference_app.core.timeutil import BEIJING  # noqa: E402
from conference_app.events.models import (  # noqa: E402
    District,
    EventKind,
    EventMode,
    EventStatus,
    PersonRole,
    RegistrationStatus,
)
from conference_app.events.services import events as event_services  # noqa: E402
from conference_app.organisations.models import PastEventRole  # noqa: E402
from conference_app.workflow import COMMENT_MAX_LENGTH  # noqa: E402

MANAGE_TOO_LONG = _l("At most %(max)d characters.")
LOCAL_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
# Choice fields use validate_choice=False: the services check the value and say in words
# what is wrong, rather than WTForms' generic "Not a valid choice".


def _titled_choices(titled_enum: type[TitledStrEnum], first=None) -> list[SelectChoice]:
    """An option per enum member, after ``first`` (an "All" or "—" option with the empty value)."""
    options = [SelectChoice("", first)] if first is not None else []
    return options + [SelectChoice(value, title) for value, title in titled_enum.titles().items()]


def discipline_select_choices(first) -> list[SelectChoice]:
    """The disciplines in the reader's language, after ``first`` (the empty value)."""
    chinese = str(get_locale() or "zh_CN").startswith("zh")
    return [SelectChoice("", first)] + [SelectChoice(key, name_zh if chinese else name_en)
                                        for key, name_zh, name_en in event_services.discipline_choices()]


def _id_or_none(value: str | None) -> int | None:
    return int(value) if value and str(value).isdigit() else None


class EventFilterForm(FlaskForm):
    """The filters of the event lists, read from the query string; choices from the database."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Length(max=100, message=MANAGE_TOO_LONG)])
    status = SelectField(_l("Status"), choices=_titled_choices(EventStatus, _l("All")), default="")
    kind = SelectField(_l("Kind"), choices=_titled_choices(EventKind, _l("All")), default="")
    edition = SelectField(_l("Academic Month"), default="")
    organisation = SelectField(_l("Organisation"), default="")
    discipline = SelectField(_l("Discipline"), default="")
    district = SelectField(_l("District"), choices=_titled_choices(District, _l("All")), default="")

    def __init__(self, *args, editions=(), organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.edition.choices = [SelectChoice("", _l("All"))] + [
            SelectChoice(str(edition.id), _l("Edition %(number)d (%(year)d)", number=edition.number,
                                              year=edition.year)) for edition in editions]
        self.organisation.choices = [SelectChoice("", _l("All"))] + [
            SelectChoice(str(organisation.id), organisation.name_zh) for organisation in organisations]
        self.discipline.choices = discipline_select_choices(_l("All"))

    def filters(self) -> dict:
        """Keyword arguments for ``services.events.event_query``; invalid values are ignored."""
        self.validate()
        clean = {name: None if field.errors else (field.data or None) for name, field in self._fields.items()}
        return {
            "status": clean["status"], "kind": clean["kind"], "edition_id": _id_or_none(clean["edition"]),
            "organisation_id": _id_or_none(clean["organisation"]), "discipline": clean["discipline"],
            "district": clean["district"], "search": clean["q"],
        }


class OrganisationRoleForm(Form):
    """One row of an event's organisations: which organisation, in which role."""

    organisation_id = SelectField(_l("Organisation"), validate_choice=False)
    role = SelectField(_l("Role"), choices=_titled_choices(PastEventRole), validate_choice=False,
                       default=PastEventRole.CO_HOST.value)


class EventForm(FlaskForm):
    """Every field of an event typed by its organisers, times in Beijing; its organisations
    as rows (rows left without an organisation are ignored)."""

    kind = SelectField(event_services.EVENT_FIELD_LABELS["kind"], choices=_titled_choices(EventKind),
                       validate_choice=False)
    title_zh = StringField(event_services.EVENT_FIELD_LABELS["title_zh"],
                           validators=[DataRequired(_l("Please enter the Chinese title of the event."))])
    title_en = StringField(event_services.EVENT_FIELD_LABELS["title_en"])
    starts_at = DateTimeLocalField(event_services.EVENT_FIELD_LABELS["starts_at"], format=LOCAL_DATETIME_FORMATS,
                                   validators=[InputRequired(_l("Please give when the event starts (date and time)."))],
                                   description=_l("Beijing time."))
    ends_at = DateTimeLocalField(event_services.EVENT_FIELD_LABELS["ends_at"], format=LOCAL_DATETIME_FORMATS,
                                 validators=[InputRequired(_l("Please give when the event ends (date and time)."))],
                                 description=_l("Beijing time."))
    mode = SelectField(event_services.EVENT_FIELD_LABELS["mode"], choices=_titled_choices(EventMode),
                       validate_choice=False)
    venue = StringField(event_services.EVENT_FIELD_LABELS["venue"])
    in_beijing = BooleanField(event_services.EVENT_FIELD_LABELS["in_beijing"], default=True)
    district = SelectField(event_services.EVENT_FIELD_LABELS["district"], choices=_titled_choices(District, "—"),
                           validate_choice=False, description=_l("For an event held in Beijing."))
    city = StringField(event_services.EVENT_FIELD_LABELS["city"], description=_l("For an event held outside Beijing."))
    online_url = StringField(event_services.EVENT_FIELD_LABELS["online_url"])
    capacity = IntegerField(event_services.EVENT_FIELD_LABELS["capacity"], validators=[Optional()],
                            description=_l("Empty for no limit; beyond it registrations go to the waiting list."))
    registration_open = BooleanField(event_services.EVENT_FIELD_LABELS["registration_open"], default=True)
    discipline = SelectField(event_services.EVENT_FIELD_LABELS["discipline"], validate_choice=False)
    core_topic = StringField(event_services.EVENT_FIELD_LABELS["core_topic"],
                             description=_l("For a salon session."))
    description = TextAreaField(event_services.EVENT_FIELD_LABELS["description"])
    agenda = TextAreaField(event_services.EVENT_FIELD_LABELS["agenda"])
    organisations = FieldList(FormField(OrganisationRoleForm), min_entries=1, max_entries=20)

    EVENT_FIELD_NAMES = ("kind", "title_zh", "title_en", "starts_at", "ends_at", "mode", "venue", "in_beijing",
                         "district", "city", "online_url", "capacity", "registration_open", "discipline",
                         "core_topic", "description", "agenda")
    EMPTY_ROWS = 2  # rows offered for more organisations

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.discipline.choices = discipline_select_choices("—")
        choices = [SelectChoice("", "—")] + [SelectChoice(str(o.id), o.name_zh) for o in organisations]
        if not self.is_submitted():
            for _row in range(self.EMPTY_ROWS):
                self.organisations.append_entry()
        for row in self.organisations:
            row.organisation_id.choices = choices

    @classmethod
    def data_of(cls, event) -> dict:
        """The form's values for an existing event: its fields, times in Beijing, its organisations."""
        data = {name: getattr(event, name) for name in cls.EVENT_FIELD_NAMES}
        for name in ("starts_at", "ends_at"):
            data[name] = data[name].astimezone(BEIJING).replace(tzinfo=None)
        data["organisations"] = [{"organisation_id": str(link.organisation_id), "role": link.role.value}
                                 for link in event.organisations]
        return data

    def event_fields(self) -> dict:
        """The event's fields for the services: typed Beijing times made aware, empty choices None."""
        fields = {name: self[name].data for name in self.EVENT_FIELD_NAMES}
        for name in ("starts_at", "ends_at"):
            if isinstance(fields[name], datetime):
                fields[name] = fields[name].replace(tzinfo=BEIJING)
        for name in ("district", "discipline"):
            fields[name] = fields[name] or None
        return fields

    def organisation_rows(self) -> list[tuple[int, str]]:
        """(organisation id, role) of every row naming an organisation."""
        return [(_id_or_none(row.organisation_id.data), row.role.data) for row in self.organisations
                if row.organisation_id.data]


class PersonForm(FlaskForm):
    """A person on an event's programme: a speaker with the talk, an initiator, a discussant ..."""

    role = SelectField(_l("Role on the programme"), choices=_titled_choices(PersonRole), validate_choice=False)
    name = StringField(_l("Name"), validators=[DataRequired(_l("Please enter the person's name."))])
    organisation = StringField(_l("Organisation"))
    title = StringField(_l("Professional title"), description=_l("Professional title or position."))
    is_leading_figure = BooleanField(_l("Leading figure of the discipline or industry"))
    leading_reason = StringField(_l("Why a leading figure"),
                                 description=_l("For example: academician, chief scientist of a national programme."))
    talk_title = StringField(_l("Talk title"))
    talk_minutes = IntegerField(_l("Talk minutes"), validators=[Optional()])
    on_site = BooleanField(_l("On site (not remote)"), default=True)
    position = IntegerField(_l("Order on the programme"), validators=[Optional()])

    def person_fields(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


class CommentForm(FlaskForm):
    """A decision with a comment (required by some: cancelling, reopening, withdrawing)."""

    comment = TextAreaField(_l("Comment"), validators=[Length(max=COMMENT_MAX_LENGTH, message=MANAGE_TOO_LONG)])


class FilingDocumentForm(FlaskForm):
    """The approval document of an international conference's filing."""

    document = FileField(_l("Approval document (PDF or image)"))


class EditionForm(FlaskForm):
    """An Academic Month edition: its number, year, first and last day."""

    number = IntegerField(_l("Edition"), validators=[InputRequired(_l("Please enter the edition number."))])
    year = IntegerField(_l("Year"), validators=[InputRequired(_l("Please enter the year."))])
    starts_on = DateField(_l("First day"), validators=[InputRequired(_l("Please enter the first day."))])
    ends_on = DateField(_l("Last day"), validators=[InputRequired(_l("Please enter the last day."))])


class RegistrationFilterForm(FlaskForm):
    """The filters of an event's registrations, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Length(max=100, message=MANAGE_TOO_LONG)])
    status = SelectField(_l("Status"), choices=_titled_choices(RegistrationStatus, _l("All")), default="")
    checked_in = SelectField(_l("Checked in"), default="", choices=[
        SelectChoice("", _l("All")), SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))])

    def filters(self) -> dict:
        self.validate()
        clean = {name: None if field.errors else (field.data or None) for name, field in self._fields.items()}
        return {"status": clean["status"], "checked_in": {"yes": True, "no": False}.get(clean["checked_in"]),
                "search": clean["q"]}


class CheckInSearchForm(FlaskForm):
    """Find a registrant at the entrance by name, phone or code."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, mobile number or code"), validators=[Length(max=100, message=MANAGE_TOO_LONG)])


# --- public: the Academic Month calendar's filters and the registration form ------------------
# (imports here, not at the top, so that each area's additions stay in its own block)

from flask_babel import lazy_gettext as _l  # noqa: E402
from wtforms import DateField, EmailField, SelectField, StringField, TelField  # noqa: E402
from wtforms.fields.choices import SelectChoice  # noqa: E402
from wtforms.validators import Length, Optional, ValidationError  # noqa: E402

from conference_app.events.models import District, EventKind  # noqa: E402

CALENDAR_VIEWS = {"list": _l("List"), "week": _l("Week"), "month": _l("Month")}
CALENDAR_YEARS = range(1990, 2101)  # dates far outside would overflow the week and month arithmetic


def _calendar_year(form, field) -> None:
    if field.data is not None and field.data.year not in CALENDAR_YEARS:
        raise ValidationError(_l("Please give a date between %(first)d and %(last)d.",
                                 first=CALENDAR_YEARS[0], last=CALENDAR_YEARS[-1]))


def _all_and(options) -> list[SelectChoice]:
    """A filter's choices, "All" (the empty value) first."""
    return [SelectChoice("", _l("All"))] + [SelectChoice(value, label) for value, label in options]


class CalendarFilterForm(FlaskForm):
    """The calendar's view, scope and filters, read from the query string.

    The edition, organisation and discipline choices come from the database and the
    selection's mapping: the view hands them to ``offer``. An invalid value is ignored
    (``cleaned``), never an error page.
    """

    class Meta:
        csrf = False

    view = SelectField(_l("View"), default="list",
                       choices=[SelectChoice(value, label) for value, label in CALENDAR_VIEWS.items()])
    # "" is the current edition; otherwise an edition's number, "upcoming" or "all".
    edition = SelectField(_l("Academic Month"), default="", validate_choice=False)
    q = StringField(_l("Search"), validators=[Length(max=100, message=_l("At most %(max)d characters."))])
    discipline = SelectField(_l("Discipline"), default="", validate_choice=False)
    kind = SelectField(_l("Kind"), choices=_all_and(EventKind.titles().items()), default="")
    organisation = SelectField(_l("Organisation holding it"), default="", validate_choice=False)
    district = SelectField(_l("District"), choices=_all_and(District.titles().items()), default="")
    date_from = DateField(_l("From date"), validators=[Optional(), _calendar_year])
    date_to = DateField(_l("To date"), validators=[Optional(), _calendar_year])
    day = DateField(_l("Week or month of"), validators=[Optional(), _calendar_year])  # the period a grid shows

    def offer(self, edition_choices, organisations, disciplines, *, chinese: bool) -> None:
        """Fill the choices that are data: (value, label) of the scopes, (id, Chinese name,
        English name) of the organisations, (key, Chinese, English) of the disciplines."""
        self.edition.choices = [SelectChoice(value, label) for value, label in edition_choices]
        self.organisation.choices = _all_and((str(org_id), name_en if name_en and not chinese else name_zh)
                                             for org_id, name_zh, name_en in organisations)
        self.discipline.choices = _all_and(
            (key, name_zh if chinese else name_en) for key, name_zh, name_en in disciplines)

    def cleaned(self) -> dict:
        """Each field's valid value; an empty or invalid one is None (for a filter: any)."""
        self.validate()
        values = {}
        for field in self:
            data = None if field.errors else field.data
            if isinstance(field, SelectField) and data not in {choice.value for choice in field.choices}:
                data = None
            values[field.name] = data if data not in ("", None) else None
        return values


class EventRegistrationForm(FlaskForm):
    """A visitor registers for an event; ``services.registrations.register`` checks every
    value (names, the mainland mobile number, the e-mail address) and says what is wrong."""

    name = StringField(_l("Your name"), render_kw={"autocomplete": "name"})
    organisation = StringField(_l("Work unit"), render_kw={"autocomplete": "organization"})
    title = StringField(_l("Title or position"), render_kw={"autocomplete": "organization-title"})
    phone = TelField(_l("Mobile phone number"), render_kw={"autocomplete": "tel", "inputmode": "tel"})
    email = EmailField(_l("E-mail"), render_kw={"autocomplete": "email"})

    def registrant_fields(self) -> dict:
        """The values for ``registrations.register``."""
        return {name: self[name].data for name in ("name", "organisation", "title", "phone", "email")}


# --- series: salon series, topic proposals and decisions, sessions; attendance import and statistics

from datetime import datetime as _datetime  # noqa: E402

from flask_babel import lazy_gettext as _l  # noqa: E402
from flask_wtf.file import FileField  # noqa: E402
from wtforms import (  # noqa: E402
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice  # noqa: E402
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional  # noqa: E402
from wtforms.widgets import CheckboxInput, ListWidget  # noqa: E402

from conference_app.core.db import MAX_ID, column_length  # noqa: E402
from conference_app.core.timeutil import BEIJING, beijing_today  # noqa: E402
from conference_app.events.models import District, EventKind, EventMode, SalonSeries, TopicProposal  # noqa: E402

_TOO_LONG = _l("At most %(max)d characters.")
_LONG_TEXT = 20_000


def _enum_choices(titled_enum, *, empty=None) -> list[SelectChoice]:
    """An option per member; first an empty one labelled ``empty`` when given."""
    options = [SelectChoice("", empty)] if empty is not None else []
    return options + [SelectChoice(value, title) for value, title in titled_enum.titles().items()]


def _optional_int(value):
    """A select's value as an id: None for "" or anything that is not a database id."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None


class SeriesForm(FlaskForm):
    """A salon series, its documented topic-selection mechanism, committee, venue and targets."""

    title_zh = StringField(_l("Chinese title"), validators=[DataRequired(_l("Please give the series' Chinese title.")),
                                                            Length(max=column_length(SalonSeries, "title_zh"),
                                                                   message=_TOO_LONG)])
    title_en = StringField(_l("English title"), validators=[Optional(), Length(max=column_length(SalonSeries, "title_en"),
                                                                               message=_TOO_LONG)])
    year = IntegerField(_l("Year"), default=lambda: beijing_today().year,
                        validators=[InputRequired(_l("Please give the year of the series."))])
    description = TextAreaField(_l("Description"), validators=[Length(max=_LONG_TEXT, message=_TOO_LONG)])
    topic_mechanism = TextAreaField(
        _l("Topic-selection mechanism"),
        validators=[DataRequired(_l("Please describe how topics are collected and chosen.")),
                    Length(max=_LONG_TEXT, message=_TOO_LONG)],
        description=_l("How topics are collected (who may propose, when, how) and how the committee chooses them."),
    )
    committee = TextAreaField(
        _l("Topic committee"),
        validators=[DataRequired(_l("Please name the committee members who choose the topics.")),
                    Length(max=_LONG_TEXT, message=_TOO_LONG)],
        description=_l("One member per line, for example: 张明 研究员（召集人）"),
    )
    venue = StringField(_l("Fixed venue"), validators=[Optional(), Length(max=column_length(SalonSeries, "venue"),
                                                                          message=_TOO_LONG)])
    district = SelectField(_l("District"), choices=_enum_choices(District, empty=_l("Not fixed")), default="",
                           validate_choice=False)
    sessions_target = IntegerField(_l("Sessions in the year (target)"), default=4,
                                   validators=[InputRequired(_l("Please give the number of sessions planned."))])
    person_times_target = IntegerField(_l("Person-times in the year (target)"), default=100,
                                       validators=[InputRequired(_l("Please give the person-times aimed at."))])

    def series_fields(self) -> dict:
        return {name: self[name].data for name in ("title_zh", "title_en", "year", "description", "topic_mechanism",
                                                   "committee", "venue", "district", "sessions_target",
                                                   "person_times_target")}


class StaffSeriesForm(SeriesForm):
    """Staff start a series for an organisation they choose."""

    organisation_id = SelectField(_l("Organisation holding it"), coerce=_optional_int, validate_choice=False)


class TopicProposalForm(FlaskForm):
    title = StringField(_l("Topic"), validators=[DataRequired(_l("Please give the topic.")),
                                                 Length(max=column_length(TopicProposal, "title"), message=_TOO_LONG)])
    rationale = TextAreaField(_l("Rationale"), validators=[
        DataRequired(_l("Please say why the topic is worth a session.")), Length(max=_LONG_TEXT, message=_TOO_LONG)])
    proposed_by = StringField(_l("Proposed by"), validators=[
        Optional(), Length(max=column_length(TopicProposal, "proposed_by"), message=_TOO_LONG)],
        description=_l("Leave empty to propose in your own name."))


class TopicDecisionForm(FlaskForm):
    """The committee's decision on one proposal; the button pressed gives ``decision``."""

    decided_by = SelectMultipleField(_l("Decided by (committee members)"), choices=[], validate_choice=False,
                                     widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    note = TextAreaField(_l("Note"), validators=[Length(max=2000, message=_TOO_LONG)])
    decision = StringField()


class ReconsiderForm(FlaskForm):
    comment = TextAreaField(_l("Why is the decision reopened?"), validators=[Length(max=2000, message=_TOO_LONG)])


class SessionForm(FlaskForm):
    """A session of a salon series: its topic, when and where, its initiator and discussants."""

    topic_id = SelectField(_l("Core topic (a topic the committee chose)"), coerce=_optional_int, validate_choice=False)
    title_zh = StringField(_l("Chinese title"), validators=[Optional(), Length(max=300, message=_TOO_LONG)],
                           description=_l("Leave empty for the series' title and the topic."))
    title_en = StringField(_l("English title"), validators=[Optional(), Length(max=400, message=_TOO_LONG)])
    day = DateField(_l("Day"), validators=[InputRequired(_l("Please give the day of the session."))])
    starts = TimeField(_l("Starts at"), validators=[InputRequired(_l("Please give when the session starts."))])
    ends = TimeField(_l("Ends at"), validators=[InputRequired(_l("Please give when the session ends."))])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300, message=_TOO_LONG)],
                        description=_l("Leave empty for the series' fixed venue."))
    district = SelectField(_l("District"), choices=_enum_choices(District, empty=_l("The series' district")),
                           default="", validate_choice=False)
    mode = SelectField(_l("Format"), choices=_enum_choices(EventMode), default=EventMode.OFFLINE.value,
                       validate_choice=False)
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1, message=_l("At least 1."))],
                            description=_l("Leave empty for no limit."))
    description = TextAreaField(_l("Description"), validators=[Length(max=_LONG_TEXT, message=_TOO_LONG)])
    initiator_name = StringField(_l("Initiator's name"), validators=[DataRequired(_l("Please name the initiator of the "
                                                                             "session.")),
                                                              Length(max=100, message=_TOO_LONG)])
    initiator_organisation = StringField(_l("Initiator's work unit"), validators=[Optional(),
                                                                                 Length(max=200, message=_TOO_LONG)])
    initiator_title = StringField(_l("Initiator's professional title"), validators=[Optional(),
                                                                                   Length(max=100, message=_TOO_LONG)])
    discussants = TextAreaField(
        _l("Main discussants"),
        validators=[DataRequired(_l("Please name the main discussants, one per line.")),
                    Length(max=_LONG_TEXT, message=_TOO_LONG)],
        description=_l("One per line: name, work unit, professional title (for example: 李华, 北京大学, 教授)."),
    )
    publish = BooleanField(_l("Publish the session now (it appears in the calendar and opens registration)"),
                           default=True)

    def event_fields(self) -> dict:
        """The event's fields; times are Beijing times of the day given."""
        return {"topic_id": self.topic_id.data, "title_zh": self.title_zh.data, "title_en": self.title_en.data,
                "starts_at": self._on_day(self.starts.data), "ends_at": self._on_day(self.ends.data), "venue": self.venue.data, "district": self.district.data,
                "mode": self.mode.data, "capacity": self.capacity.data, "description": self.description.data}

    def _on_day(self, moment):
        if self.day.data is None or moment is None:
            return None
        return _datetime.combine(self.day.data, moment, tzinfo=BEIJING)

    def initiator(self) -> dict:
        return {"name": self.initiator_name.data, "organisation": self.initiator_organisation.data,
                "title": self.initiator_title.data}


_YEAR_RANGE = NumberRange(min=2000, max=2100, message=_l("From %(min)s to %(max)s."))


class SeriesFilterForm(FlaskForm):
    class Meta:
        csrf = False

    year = IntegerField(_l("Year"), validators=[Optional(), _YEAR_RANGE])
    q = StringField(_l("Search"), validators=[Length(max=100, message=_TOO_LONG)])

    def filters(self) -> dict:
        """Keyword arguments of ``services.series.series_query``; invalid values are ignored."""
        self.validate()
        return {"year": None if self.year.errors else self.year.data, "search": None if self.q.errors else self.q.data}


class AttendanceImportForm(FlaskForm):
    file = FileField(_l("Attendance file (.xlsx, from the template)"))


class AttendanceFilterForm(FlaskForm):
    """The statistics page's filters, read from the query string."""

    class Meta:
        csrf = False

    edition = SelectField(_l("Academic Month"), coerce=_optional_int, default="", validate_choice=False)
    year = IntegerField(_l("Year"), validators=[Optional(), _YEAR_RANGE])
    kind = SelectField(_l("Kind"), choices=_enum_choices(EventKind, empty=_l("All")), default="",
                       validate_choice=False)
    district = SelectField(_l("District"), choices=_enum_choices(District, empty=_l("All")), default="",
                           validate_choice=False)
    organisation = SelectField(_l("Organisation holding it"), coerce=_optional_int, default="", validate_choice=False)

    def filters(self) -> dict:
        """Keyword arguments of ``attendance.statistics_filter``; unknown values mean "all"."""
        self.validate()
        return {
            "edition_id": self.edition.data,
            "year": None if self.year.errors or self.year.data is None else self.year.data,
            "kind": self.kind.data if self.kind.data in set(EventKind) else None,
            "district": self.district.data if self.district.data in set(District) else None,
            "organisation_id": self.organisation.data if self.organisation else None,  # removed for societies
        }
