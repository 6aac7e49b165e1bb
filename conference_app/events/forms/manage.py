"""Forms of recording events and running them: the event, its organisations and people, the filing, editions, lists, check-in."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
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
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from conference_app.core.forms import VersionedForm
from conference_app.core.timeutil import BEIJING
from conference_app.events.forms.common import (
    TOO_LONG,
    discipline_select_choices,
    optional_id,
    titled_choices,
)
from conference_app.events.models import (
    District,
    EventKind,
    EventMode,
    EventStatus,
    ExpertRank,
    PersonRole,
    RegistrationStatus,
)
from conference_app.events.services import events as event_services
from conference_app.organisations.models import PastEventRole

LOCAL_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
# Choice fields use validate_choice=False: the services check the value and say in words
# what is wrong, rather than WTForms' generic "Not a valid choice".



class EventFilterForm(FlaskForm):
    """The filters of the event lists, read from the query string; choices from the database."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Length(max=100, message=TOO_LONG)])
    status = SelectField(_l("Status"), choices=titled_choices(EventStatus, _l("All")), default="")
    kind = SelectField(_l("Kind"), choices=titled_choices(EventKind, _l("All")), default="")
    edition = SelectField(_l("Academic Month"), default="")
    organisation = SelectField(_l("Organisation"), default="")
    discipline = SelectField(_l("Discipline"), default="")
    district = SelectField(_l("District"), choices=titled_choices(District, _l("All")), default="")

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
            "status": clean["status"], "kind": clean["kind"], "edition_id": optional_id(clean["edition"]),
            "organisation_id": optional_id(clean["organisation"]), "discipline": clean["discipline"],
            "district": clean["district"], "search": clean["q"],
        }


class OrganisationRoleForm(Form):
    """One row of an event's organisations: which organisation, in which role."""

    organisation_id = SelectField(_l("Organisation"), validate_choice=False)
    role = SelectField(_l("Role"), choices=titled_choices(PastEventRole), validate_choice=False,
                       default=PastEventRole.CO_HOST.value)


class EventForm(FlaskForm):
    """Every field of an event typed by its organisers, times in Beijing; its organisations
    as rows (rows left without an organisation are ignored)."""

    kind = SelectField(event_services.EVENT_FIELD_LABELS["kind"], choices=titled_choices(EventKind),
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
    mode = SelectField(event_services.EVENT_FIELD_LABELS["mode"], choices=titled_choices(EventMode),
                       validate_choice=False)
    venue = StringField(event_services.EVENT_FIELD_LABELS["venue"])
    in_beijing = BooleanField(event_services.EVENT_FIELD_LABELS["in_beijing"], default=True)
    district = SelectField(event_services.EVENT_FIELD_LABELS["district"], choices=titled_choices(District, "—"),
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
        return [(optional_id(row.organisation_id.data), row.role.data) for row in self.organisations
                if row.organisation_id.data]


class EventEditForm(VersionedForm, EventForm):
    """An existing event's fields and organisations, with the version it was opened at."""

    @classmethod
    def data_of(cls, event) -> dict:
        return {**super().data_of(event), "version": event.version}


class PersonForm(FlaskForm):
    """A person on an event's programme: a speaker with the talk, an initiator, a discussant ..."""

    role = SelectField(_l("Role on the programme"), choices=titled_choices(PersonRole), validate_choice=False)
    name = StringField(_l("Name"), validators=[DataRequired(_l("Please enter the person's name."))])
    organisation = StringField(_l("Organisation"))
    title = StringField(_l("Professional title"), description=_l("Professional title or position."))
    is_leading_figure = BooleanField(_l("Leading figure of the discipline or industry"))
    leading_reason = StringField(_l("Why a leading figure"),
                                 description=_l("For example: academician, chief scientist of a national programme."))
    rank = SelectField(_l("Expert rank"), choices=[SelectChoice("", _l("— none —")), *titled_choices(ExpertRank)],
                       default="", validate_choice=False)
    is_keynote = BooleanField(_l("Keynote talk"))
    talk_title = StringField(_l("Talk title"))
    talk_minutes = IntegerField(_l("Talk minutes"), validators=[Optional()])
    on_site = BooleanField(_l("On site (not remote)"), default=True)
    position = IntegerField(_l("Order on the programme"), validators=[Optional()])

    def person_fields(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name not in ("csrf_token", "version")}


class PersonEditForm(VersionedForm, PersonForm):
    """A person on the programme, with the version of the record it was opened at."""


class FilingDocumentForm(FlaskForm):
    """The approval document of an international conference's filing."""

    document = FileField(_l("Approval document (PDF or image)"))


class EditionForm(FlaskForm):
    """An Academic Month edition: its number, year, first and last day."""

    number = IntegerField(_l("Edition"), validators=[InputRequired(_l("Please enter the edition number."))])
    year = IntegerField(_l("Year"), validators=[InputRequired(_l("Please enter the year."))])
    starts_on = DateField(_l("First day"), validators=[InputRequired(_l("Please enter the first day."))])
    ends_on = DateField(_l("Last day"), validators=[InputRequired(_l("Please enter the last day."))])


class EditionEditForm(VersionedForm, EditionForm):
    """An existing edition, with the version it was opened at."""


class RegistrationFilterForm(FlaskForm):
    """The filters of an event's registrations, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Length(max=100, message=TOO_LONG)])
    status = SelectField(_l("Status"), choices=titled_choices(RegistrationStatus, _l("All")), default="")
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

    q = StringField(_l("Name, mobile number or code"), validators=[Length(max=100, message=TOO_LONG)])


