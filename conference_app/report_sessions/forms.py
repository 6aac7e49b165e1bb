"""Forms of the organiser's pages of report sessions: the session (its event's fields, the
moderator, co-hosts; starting one also names the project, edition and panel), the timetable's
talks and blocks, inviting speakers and guests, and the steps on invitations.

Choice fields use ``validate_choice=False``: the services check the values and say in words
what is wrong. Times are typed in Beijing time.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from conference_app.core.forms import VersionedForm
from conference_app.core.timeutil import BEIJING
from conference_app.events.forms.common import TOO_LONG, optional_id, titled_choices
from conference_app.events.forms.manage import LOCAL_DATETIME_FORMATS
from conference_app.events.models import District, EventMode
from conference_app.events.services.events import EVENT_FIELD_LABELS
from conference_app.organisations.models import PastEventRole
from conference_app.report_sessions.models import ReportSessionStatus, SlotKind
from conference_app.report_sessions.services.sessions import DEFAULT_TALK_MINUTES, SESSION_FIELD_LABELS

NOT_A_NUMBER = _l("Please enter a whole number.")
LONG_TEXT = 20_000


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, name) for code, name in current_app.config["LANGUAGES"].items()]


class SessionFieldsForm(FlaskForm):
    """The session's event (title, times, place, capacity), its moderator and co-hosts."""

    title_zh = StringField(EVENT_FIELD_LABELS["title_zh"],
                           validators=[DataRequired(_l("Please enter the Chinese title of the event."))])
    title_en = StringField(EVENT_FIELD_LABELS["title_en"])
    starts_at = DateTimeLocalField(EVENT_FIELD_LABELS["starts_at"], format=LOCAL_DATETIME_FORMATS,
                                   validators=[InputRequired(_l("Please give when the event starts (date and time)."))],
                                   description=_l("Beijing time."))
    ends_at = DateTimeLocalField(EVENT_FIELD_LABELS["ends_at"], format=LOCAL_DATETIME_FORMATS,
                                 validators=[InputRequired(_l("Please give when the event ends (date and time)."))],
                                 description=_l("Beijing time."))
    venue = StringField(EVENT_FIELD_LABELS["venue"], description=_l("The room and address, in Beijing."))
    district = SelectField(EVENT_FIELD_LABELS["district"], choices=titled_choices(District, "—"),
                           validate_choice=False)
    mode = SelectField(EVENT_FIELD_LABELS["mode"], validate_choice=False, choices=[
        SelectChoice(mode.value, mode.lazy_title) for mode in (EventMode.OFFLINE, EventMode.HYBRID)])
    online_url = StringField(EVENT_FIELD_LABELS["online_url"], description=_l("For a session also streamed online."))
    capacity = IntegerField(EVENT_FIELD_LABELS["capacity"], validators=[Optional()],
                            description=_l("Empty for no limit; beyond it registrations go to the waiting list."))
    registration_open = BooleanField(EVENT_FIELD_LABELS["registration_open"], default=True)
    description = TextAreaField(EVENT_FIELD_LABELS["description"],
                                validators=[Length(max=LONG_TEXT, message=TOO_LONG)])
    moderator_name = StringField(SESSION_FIELD_LABELS["moderator_name"])
    moderator_institution = StringField(SESSION_FIELD_LABELS["moderator_institution"])
    co_hosts = SelectMultipleField(_l("Co-hosts"), validate_choice=False, coerce=str,
                                   description=_l("Other organisations that co-host the session (optional)."))

    EVENT_NAMES = ("title_zh", "title_en", "starts_at", "ends_at", "venue", "district", "mode", "online_url",
                   "capacity", "registration_open", "description")
    FIELD_NAMES = EVENT_NAMES + ("moderator_name", "moderator_institution")

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.co_hosts.choices = [SelectChoice(str(organisation.id), organisation.name_zh)
                                 for organisation in organisations]

    @classmethod
    def data_of(cls, session) -> dict:
        """The form's values for an existing session: its event's, times in Beijing."""
        event = session.event
        data = {name: getattr(event, name) for name in cls.EVENT_NAMES}
        for name in ("starts_at", "ends_at"):
            data[name] = data[name].astimezone(BEIJING).replace(tzinfo=None)
        data["district"] = event.district.value if event.district else ""
        data["mode"] = event.mode.value
        data.update(moderator_name=session.moderator_name, moderator_institution=session.moderator_institution)
        data["co_hosts"] = [str(link.organisation_id) for link in event.organisations
                            if link.role == PastEventRole.CO_HOST]
        return data

    def session_fields(self) -> dict:
        """The fields for ``services.sessions``: typed Beijing times made aware, an empty district None."""
        fields = {name: self[name].data for name in self.FIELD_NAMES}
        for name in ("starts_at", "ends_at"):
            if isinstance(fields[name], datetime):
                fields[name] = fields[name].replace(tzinfo=BEIJING)
        fields["district"] = fields["district"] or None
        return fields

    def co_host_ids(self) -> list[int]:
        return [number for number in (optional_id(value) for value in self.co_hosts.data or []) if number]


class SessionCreateForm(SessionFieldsForm):
    """Starting a session: the category-F project, the Academic Month edition and the locked panel too."""

    project = SelectField(_l("Project"), validate_choice=False,
                          description=_l("A funded project of a category that holds report sessions."))
    edition = SelectField(_l("Academic Month"), validate_choice=False)
    panel = SelectField(_l("Expert panel"), validate_choice=False,
                        description=_l("Its locked frontier results give the talks and the speakers."))

    def __init__(self, *args, projects=(), editions=(), panels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.project.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(project.id), f"{project.project_name_zh}（{project.organisation.name_zh}）")
            for project in projects]
        self.edition.choices = [SelectChoice(str(edition.id), _l("Edition %(number)d (%(year)d)",
                                                                  number=edition.number, year=edition.year))
                                for edition in editions]
        self.panel.choices = [SelectChoice("", "—")] + [SelectChoice(str(panel.id), panel.name) for panel in panels]


class SessionEditForm(VersionedForm, SessionFieldsForm):
    """An existing session, with the versions of the session and of its event it was opened at."""

    event_version = HiddenField()

    @classmethod
    def data_of(cls, session) -> dict:
        return {**super().data_of(session), "version": session.version, "event_version": session.event.version}


class SessionFilterForm(FlaskForm):
    """Staff's filters of the list, read from the query string: the edition (its warnings too) and the state."""

    class Meta:
        csrf = False

    edition = SelectField(_l("Academic Month"), default="")
    status = SelectField(_l("Status"), choices=titled_choices(ReportSessionStatus, _l("All")), default="")

    def __init__(self, *args, editions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.edition.choices = [SelectChoice("", _l("All"))] + [
            SelectChoice(str(edition.id), _l("Edition %(number)d (%(year)d)", number=edition.number,
                                              year=edition.year)) for edition in editions]

    def filters(self) -> dict:
        """Keyword arguments for ``sessions.session_query``; invalid values are ignored."""
        self.validate()
        status = None if self.status.errors else (self.status.data or None)
        return {"edition_id": None if self.edition.errors else optional_id(self.edition.data), "status": status}


# --- the timetable ---------------------------------------------------------------------------------------


def _minutes_field(default=None):
    return IntegerField(_l("Minutes"), default=default, validators=[InputRequired(NOT_A_NUMBER)])


class TalkForm(FlaskForm):
    """A talk on one of the panel's locked results, at the end of the timetable."""

    candidate_id = SelectField(_l("Result"), validate_choice=False)
    minutes = _minutes_field(DEFAULT_TALK_MINUTES)

    def offer(self, results) -> None:
        """The locked results (``sessions.ResultSpeakers``) to choose from."""
        self.candidate_id.choices = [SelectChoice(str(found.candidate.id), _l(
            "No. %(position)d: %(title)s", position=found.result.position,
            title=found.candidate.title or found.candidate.work_id)) for found in results]

    def candidate(self) -> int:
        return optional_id(self.candidate_id.data) or 0


class BlockForm(FlaskForm):
    """Questions and answers, a discussion with the guests or a break, at the end of the timetable."""

    kind = SelectField(_l("Kind"), validate_choice=False, choices=[
        SelectChoice(kind.value, kind.lazy_title) for kind in (SlotKind.QA, SlotKind.DISCUSSION, SlotKind.BREAK)])
    minutes = _minutes_field(15)
    title = StringField(_l("Title"), description=_l("Optional: the kind's name is shown without one."))


class SlotForm(FlaskForm):
    """A slot's minutes and title (each slot's form has its own prefix)."""

    minutes = _minutes_field()
    title = StringField(_l("Title"))

    def slot_fields(self) -> dict:
        return {"minutes": self.minutes.data, "title": self.title.data}


class MoveForm(FlaskForm):
    """Move a slot one place up or down (the buttons say which)."""

    direction = StringField(validators=[AnyOf(["up", "down"], message=_l("Move a slot up or down."))])

    @property
    def offset(self) -> int:
        return -1 if self.direction.data == "up" else 1


class ResultForm(FlaskForm):
    """Give a talk another locked result (the next one offered after its authors declined)."""

    candidate_id = HiddenField()

    def candidate(self) -> int:
        return optional_id(self.candidate_id.data) or 0


# --- invitations ------------------------------------------------------------------------------------------


class InviteeFields:
    """What both invitations ask: the address, the deadline to answer and the mail's language."""

    email = StringField(_l("E-mail address"), validators=[DataRequired(_l("Please enter a valid e-mail address."))])
    institution = StringField(_l("Institution"))
    deadline = DateField(_l("Answer by"), validators=[Optional()],
                         description=_l("A Beijing day; empty for two weeks from today (never after the session)."))
    locale = SelectField(_l("Language of the mail"), validate_choice=False)


class SpeakerForm(InviteeFields, FlaskForm):
    """Invite one of a result's Beijing authors to present it."""

    author_index = SelectField(_l("Author"), validate_choice=False)
    name = StringField(_l("Name"), description=_l("Empty for the name the work gives (you may write the Chinese "
                                                  "name here)."))

    def __init__(self, *args, authors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.author_index.choices = [SelectChoice(str(author.index), author.name) for author in authors]
        self.locale.choices = _language_choices()
        self.institution.description = _l("Empty for the institutions the work gives.")

    def author(self) -> int:
        try:
            return int(self.author_index.data)
        except (TypeError, ValueError):
            return -1


class GuestForm(InviteeFields, FlaskForm):
    """Invite a discussion guest: an expert's account, or a person typed in."""

    user_id = SelectField(_l("Expert account"), validate_choice=False, default="",
                          description=_l("Choose an expert's account, or leave this empty and type in the guest."))
    name = StringField(_l("Name"))
    email = StringField(_l("E-mail address"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = _language_choices()

    def offer(self, experts) -> None:
        """The expert accounts to choose from."""
        self.user_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(user.id), f"{user.name} <{user.email}>") for user in experts]

    def expert_id(self) -> int | None:
        return optional_id(self.user_id.data)


class WithdrawForm(FlaskForm):
    """Withdraw an invitation, saying why (the invitee reads it)."""

    comment = TextAreaField(_l("Reason (optional, the invitee reads it)"),
                            validators=[Length(max=2000, message=TOO_LONG)])


class ReinviteForm(FlaskForm):
    """Invite again after the deadline passed, with a new deadline."""

    deadline = DateField(_l("New deadline"), validators=[Optional()])
