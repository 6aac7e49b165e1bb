"""Forms of salon series, topic proposals and decisions, sessions, attendance import and statistics."""

from __future__ import annotations

from datetime import datetime as _datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from conference_app.core.db import column_length
from conference_app.core.forms import VersionedForm
from conference_app.core.timeutil import BEIJING, beijing_today
from conference_app.events.forms.common import (
    LONG_TEXT,
    TOO_LONG,
    optional_id,
    titled_choices,
)
from conference_app.events.models import (
    District,
    EventKind,
    EventMode,
    SalonSeries,
    TopicProposal,
)


class SeriesForm(FlaskForm):
    """A salon series, its documented topic-selection mechanism, committee, venue and targets."""

    title_zh = StringField(_l("Chinese title"), validators=[DataRequired(_l("Please give the series' Chinese title.")),
                                                            Length(max=column_length(SalonSeries, "title_zh"),
                                                                   message=TOO_LONG)])
    title_en = StringField(_l("English title"), validators=[Optional(), Length(max=column_length(SalonSeries, "title_en"),
                                                                               message=TOO_LONG)])
    year = IntegerField(_l("Year"), default=lambda: beijing_today().year,
                        validators=[InputRequired(_l("Please give the year of the series."))])
    description = TextAreaField(_l("Description"), validators=[Length(max=LONG_TEXT, message=TOO_LONG)])
    topic_mechanism = TextAreaField(
        _l("Topic-selection mechanism"),
        validators=[DataRequired(_l("Please describe how topics are collected and chosen.")),
                    Length(max=LONG_TEXT, message=TOO_LONG)],
        description=_l("How topics are collected (who may propose, when, how) and how the committee chooses them."),
    )
    committee = TextAreaField(
        _l("Topic committee"),
        validators=[DataRequired(_l("Please name the committee members who choose the topics.")),
                    Length(max=LONG_TEXT, message=TOO_LONG)],
        description=_l("One member per line, for example: 张明 研究员（召集人）"),
    )
    venue = StringField(_l("Fixed venue"), validators=[Optional(), Length(max=column_length(SalonSeries, "venue"),
                                                                          message=TOO_LONG)])
    district = SelectField(_l("District"), choices=titled_choices(District, _l("Not fixed")), default="",
                           validate_choice=False)
    sessions_target = IntegerField(_l("Sessions in the year (target)"), default=4,
                                   validators=[InputRequired(_l("Please give the number of sessions planned."))])
    person_times_target = IntegerField(_l("Person-times in the year (target)"), default=100,
                                       validators=[InputRequired(_l("Please give the person-times aimed at."))])

    def series_fields(self) -> dict:
        return {name: self[name].data for name in ("title_zh", "title_en", "year", "description", "topic_mechanism",
                                                   "committee", "venue", "district", "sessions_target",
                                                   "person_times_target")}


class SeriesEditForm(VersionedForm, SeriesForm):
    """An existing series, with the version it was opened at."""


class StaffSeriesForm(SeriesForm):
    """Staff start a series for an organisation they choose."""

    organisation_id = SelectField(_l("Organisation holding it"), coerce=optional_id, validate_choice=False)


class TopicProposalForm(FlaskForm):
    title = StringField(_l("Topic"), validators=[DataRequired(_l("Please give the topic.")),
                                                 Length(max=column_length(TopicProposal, "title"), message=TOO_LONG)])
    rationale = TextAreaField(_l("Rationale"), validators=[
        DataRequired(_l("Please say why the topic is worth a session.")), Length(max=LONG_TEXT, message=TOO_LONG)])
    proposed_by = StringField(_l("Proposed by"), validators=[
        Optional(), Length(max=column_length(TopicProposal, "proposed_by"), message=TOO_LONG)],
        description=_l("Leave empty to propose in your own name."))


class TopicDecisionForm(FlaskForm):
    """The committee's decision on one proposal; the button pressed gives ``decision``."""

    decided_by = SelectMultipleField(_l("Decided by (committee members)"), choices=[], validate_choice=False,
                                     widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    note = TextAreaField(_l("Note"), validators=[Length(max=2000, message=TOO_LONG)])
    decision = StringField()


class ReconsiderForm(FlaskForm):
    comment = TextAreaField(_l("Why is the decision reopened?"), validators=[Length(max=2000, message=TOO_LONG)])


class SessionForm(FlaskForm):
    """A session of a salon series: its topic, when and where, its initiator and discussants."""

    topic_id = SelectField(_l("Core topic (a topic the committee chose)"), coerce=optional_id, validate_choice=False)
    title_zh = StringField(_l("Chinese title"), validators=[Optional(), Length(max=300, message=TOO_LONG)],
                           description=_l("Leave empty for the series' title and the topic."))
    title_en = StringField(_l("English title"), validators=[Optional(), Length(max=400, message=TOO_LONG)])
    day = DateField(_l("Day"), validators=[InputRequired(_l("Please give the day of the session."))])
    starts = TimeField(_l("Starts at"), validators=[InputRequired(_l("Please give when the session starts."))])
    ends = TimeField(_l("Ends at"), validators=[InputRequired(_l("Please give when the session ends."))])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300, message=TOO_LONG)],
                        description=_l("Leave empty for the series' fixed venue."))
    district = SelectField(_l("District"), choices=titled_choices(District, _l("The series' district")),
                           default="", validate_choice=False)
    mode = SelectField(_l("Format"), choices=titled_choices(EventMode), default=EventMode.OFFLINE.value,
                       validate_choice=False)
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1, message=_l("At least 1."))],
                            description=_l("Leave empty for no limit."))
    description = TextAreaField(_l("Description"), validators=[Length(max=LONG_TEXT, message=TOO_LONG)])
    initiator_name = StringField(_l("Initiator's name"), validators=[DataRequired(_l("Please name the initiator of the "
                                                                             "session.")),
                                                              Length(max=100, message=TOO_LONG)])
    initiator_organisation = StringField(_l("Initiator's work unit"), validators=[Optional(),
                                                                                 Length(max=200, message=TOO_LONG)])
    initiator_title = StringField(_l("Initiator's professional title"), validators=[Optional(),
                                                                                   Length(max=100, message=TOO_LONG)])
    discussants = TextAreaField(
        _l("Main discussants"),
        validators=[DataRequired(_l("Please name the main discussants, one per line.")),
                    Length(max=LONG_TEXT, message=TOO_LONG)],
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
    q = StringField(_l("Search"), validators=[Length(max=100, message=TOO_LONG)])

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

    edition = SelectField(_l("Academic Month"), coerce=optional_id, default="", validate_choice=False)
    year = IntegerField(_l("Year"), validators=[Optional(), _YEAR_RANGE])
    kind = SelectField(_l("Kind"), choices=titled_choices(EventKind, _l("All")), default="",
                       validate_choice=False)
    district = SelectField(_l("District"), choices=titled_choices(District, _l("All")), default="",
                           validate_choice=False)
    organisation = SelectField(_l("Organisation holding it"), coerce=optional_id, default="", validate_choice=False)

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

