"""Recording events: editions, the event itself, its organisations and people, its state
and its international-conference filing. Every function validates, audits and flushes;
the request pipeline commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from conference_app.audit.services import (
    logged_value,
    record,
    record_changes,
    register_action_titles,
    register_field_titles,
    register_object_type_titles,
    snapshot,
)
from conference_app.core.db import column_length, contains_text, utcnow
from conference_app.core.excel import Column
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text, strip_nul
from conference_app.core.timeutil import beijing_date, beijing_today, day_start
from conference_app.core.uploads import store_upload
from conference_app.events.models import (
    AcademicMonthEdition,
    District,
    Event,
    EventKind,
    EventMode,
    EventOrganisation,
    EventPerson,
    EventStatus,
    ExpertRank,
    PersonRole,
    Registration,
)
from conference_app.events.services.registrations import Counts, counts
from conference_app.events.workflow import EVENT, FILING
from conference_app.extensions import db
from conference_app.organisations.models import Organisation, OrganisationStatus, PastEventRole

OTHER_DISCIPLINE = "other"
MAX_CAPACITY = 100_000
MAX_TALK_MINUTES = 24 * 60

EVENT_FIELD_LABELS = {
    "kind": _l("Kind"),
    "title_zh": _l("Chinese title"),
    "title_en": _l("English title"),
    "description": _l("Description"),
    "agenda": _l("Agenda"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "venue": _l("Venue"),
    "in_beijing": _l("In Beijing"),
    "district": _l("District"),
    "city": _l("City"),
    "mode": _l("Format"),
    "online_url": _l("Online link"),
    "capacity": _l("Capacity"),
    "registration_open": _l("Registration open"),
    "discipline": _l("Discipline"),
    "series_id": _l("Salon series"),
    "topic_id": _l("Topic"),
    "core_topic": _l("Core topic"),
}
EVENT_FIELDS = frozenset(EVENT_FIELD_LABELS)

register_object_type_titles({"AcademicMonthEdition": _l("Academic Month edition")})
register_field_titles("Event", EVENT_FIELD_LABELS)
register_field_titles("AcademicMonthEdition", {"number": _l("Edition"), "year": _l("Year"),
                                                "starts_on": _l("First day"), "ends_on": _l("Last day")})
register_action_titles({
    "edition.created": _l("Academic Month edition added"),
    "edition.updated": _l("Academic Month edition changed"),
    "event.created": _l("Event recorded"),
    "event.updated": _l("Event edited"),
    "event.organisations_changed": _l("Organisations of the event changed"),
    "event.person_added": _l("Person added to the programme"),
    "event.person_updated": _l("Person on the programme edited"),
    "event.person_removed": _l("Person removed from the programme"),
    "event_filing.document_uploaded": _l("Approval document uploaded"),
})


def discipline_choices() -> list[tuple[str, str, str]]:
    """(key, Chinese name, English name) of the disciplines an event may belong to: the
    selection's mapping file, read again only when it changes (pages ask on every request)."""
    from selection.disciplines import DEFAULT_DISCIPLINES_PATH

    stat = DEFAULT_DISCIPLINES_PATH.stat()
    return list(_discipline_choices(str(DEFAULT_DISCIPLINES_PATH), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=4)
def _discipline_choices(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, str, str], ...]:
    from selection.disciplines import load_disciplines

    choices = tuple((d.key, d.name_zh, d.name_en) for d in load_disciplines(path))
    return choices + ((OTHER_DISCIPLINE, "综合/其他", "Interdisciplinary / other"),)


# --- editions ------------------------------------------------------------------------------


def edition_for(starts_at: datetime, ends_at: datetime) -> AcademicMonthEdition | None:
    """The edition whose Beijing dates hold the whole event, if any."""
    first, last = beijing_date(starts_at), beijing_date(ends_at)
    return db.session.scalar(
        select(AcademicMonthEdition)
        .where(AcademicMonthEdition.starts_on <= first, AcademicMonthEdition.ends_on >= last)
        .order_by(AcademicMonthEdition.number.desc())
        .limit(1)
    )


def current_edition(today: date | None = None) -> AcademicMonthEdition | None:
    """The edition running today, else the next one, else the latest that ended."""
    today = today or beijing_today()
    editions = list(db.session.scalars(select(AcademicMonthEdition).order_by(AcademicMonthEdition.starts_on)))
    for edition in editions:
        if edition.ends_on >= today:
            return edition
    return editions[-1] if editions else None


def _check_edition(number: int, year: int, starts_on: date, ends_on: date, edition: AcademicMonthEdition | None) -> None:
    if not number or number < 1:
        raise ServiceError(_("The edition number must be a positive whole number."))
    if not starts_on or not ends_on or ends_on < starts_on:
        raise ServiceError(_("The last day must not be before the first day."))
    if starts_on.year != year:
        raise ServiceError(_("The first day must fall in the edition's year."))
    with db.session.no_autoflush:
        taken = db.session.scalar(select(AcademicMonthEdition.id).where(
            AcademicMonthEdition.number == number,
            AcademicMonthEdition.id != (edition.id if edition is not None and edition.id else -1)))
        overlap = db.session.scalar(select(AcademicMonthEdition.number).where(
            AcademicMonthEdition.starts_on <= ends_on, AcademicMonthEdition.ends_on >= starts_on,
            AcademicMonthEdition.id != (edition.id if edition is not None and edition.id else -1)))
    if taken is not None:
        raise ServiceError(_("Edition %(number)d exists already.", number=number))
    if overlap is not None:
        raise ServiceError(_("These dates overlap edition %(number)d.", number=overlap))


def _reassign_events_to_editions() -> None:
    """Every event belongs to the edition holding its dates (after editions changed)."""
    db.session.flush()
    db.session.execute(update(Event).values(edition_id=None).execution_options(synchronize_session=False))
    for edition in db.session.scalars(select(AcademicMonthEdition)):
        inside = and_(Event.starts_at >= day_start(edition.starts_on),
                      Event.ends_at < day_start(edition.ends_on + timedelta(days=1)))
        db.session.execute(update(Event).where(inside).values(edition_id=edition.id)
                           .execution_options(synchronize_session=False))
    db.session.expire_all()


def save_edition(fields: Mapping[str, Any], edition: AcademicMonthEdition | None = None) -> AcademicMonthEdition:
    """Staff add or change an edition; events are reassigned to the editions holding them."""
    number, year = fields.get("number"), fields.get("year")
    starts_on, ends_on = fields.get("starts_on"), fields.get("ends_on")
    _check_edition(number, year, starts_on, ends_on, edition)
    if edition is None:
        edition = AcademicMonthEdition(number=number, year=year, starts_on=starts_on, ends_on=ends_on)
        db.session.add(edition)
        flush({"number": _l("This edition exists already.")})
        record("edition.created", edition)
    else:
        before = snapshot(edition, ("number", "year", "starts_on", "ends_on"))
        edition.number, edition.year, edition.starts_on, edition.ends_on = number, year, starts_on, ends_on
        flush({"number": _l("This edition exists already.")})
        record_changes("edition.updated", edition, before)
    _reassign_events_to_editions()
    return db.session.get(AcademicMonthEdition, edition.id)


# --- events ------------------------------------------------------------------------------


def _text(values: dict, name: str, *, required: bool = False) -> None:
    if name in values:
        values[name] = clean_text(values[name], EVENT_FIELD_LABELS[name], max_length=column_length(Event, name),
                                  required=required)


def _cleaned_event(fields: Mapping[str, Any], event: Event | None) -> dict[str, Any]:
    """Validated event values; ServiceError names what is wrong."""
    unknown = set(fields) - EVENT_FIELDS
    if unknown:  # a programming error: forms carry only these fields
        raise ValueError(f"fields not allowed here: {sorted(unknown)}")
    values = dict(fields)
    for name in ("title_zh", "title_en", "venue", "city", "online_url", "core_topic"):
        _text(values, name, required=name == "title_zh")
    for name in ("description", "agenda"):
        if name in values:
            values[name] = clean_text(values[name], EVENT_FIELD_LABELS[name], max_length=20_000)
    if "title_zh" in values and not values["title_zh"]:
        raise ServiceError(_("Please enter the Chinese title of the event."))
    merged = {name: getattr(event, name) for name in EVENT_FIELDS} if event is not None else {}
    merged.update(values)
    if merged.get("kind") not in set(EventKind):
        raise ServiceError(_("Please choose the kind of event."))
    values["kind"] = EventKind(merged["kind"])
    starts_at, ends_at = merged.get("starts_at"), merged.get("ends_at")
    if not isinstance(starts_at, datetime) or not isinstance(ends_at, datetime):
        raise ServiceError(_("Please give when the event starts and ends."))
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    if ends_at <= starts_at:
        raise ServiceError(_("The event must end after it starts."))
    if (ends_at - starts_at).days > 31:
        raise ServiceError(_("An event lasts at most a month; record a series as several events."))
    if merged.get("mode", EventMode.OFFLINE) not in set(EventMode):
        raise ServiceError(_("Please choose how the event is held."))
    values["mode"] = EventMode(merged.get("mode") or EventMode.OFFLINE)
    in_beijing = bool(merged.get("in_beijing", True))
    values["in_beijing"] = in_beijing
    district = merged.get("district") or None
    if in_beijing and values["mode"] != EventMode.ONLINE:
        if district not in set(District):
            raise ServiceError(_("Please choose the district of Beijing where the event takes place."))
        values["district"], values["city"] = District(district), None
    elif in_beijing:
        values["district"] = District(district) if district in set(District) else None
        values["city"] = None
    else:
        values["district"] = None
        if not merged.get("city"):
            raise ServiceError(_("Please give the city where the event takes place."))
    capacity = merged.get("capacity")
    if capacity is not None and capacity != "":
        if not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
            raise ServiceError(_("The capacity must be a whole number from 1 to %(max)d, or empty for no limit.",
                                 max=MAX_CAPACITY))
    values["capacity"] = capacity or None
    discipline = merged.get("discipline") or None
    if discipline is not None and discipline not in {key for key, _zh, _en in discipline_choices()}:
        raise ServiceError(_("Please choose a discipline from the list."))
    values["discipline"] = discipline
    if "registration_open" in values:
        values["registration_open"] = bool(values["registration_open"])
    return values


def _organisation_links(organisations: Iterable[tuple[int, str]]) -> list[tuple[Organisation, PastEventRole]]:
    links, seen = [], set()
    for organisation_id, role in organisations:
        if role not in set(PastEventRole):
            raise ServiceError(_("Please choose the role of each organisation."))
        organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
        if organisation is None or organisation.status != OrganisationStatus.APPROVED:
            raise ServiceError(_("Only approved organisations can hold events."))
        if organisation.id in seen:
            raise ServiceError(_("Each organisation is named once."))
        seen.add(organisation.id)
        links.append((organisation, PastEventRole(role)))
    if not any(role == PastEventRole.HOST for _organisation, role in links):
        raise ServiceError(_("An event needs at least one host organisation."))
    return links


def create_event(fields: Mapping[str, Any], organisations: Iterable[tuple[int, str]], *, creator) -> Event:
    """Record a new event (a draft). A society's user must name its own organisation as host
    or co-host, so that it can go on editing the event."""
    values = _cleaned_event(fields, None)
    links = _organisation_links(organisations)
    if creator.role == "society" and not any(
        organisation.id == creator.organisation_id and role in (PastEventRole.HOST, PastEventRole.CO_HOST)
        for organisation, role in links
    ):
        raise ServiceError(_("Your organisation must host or co-host the events it records."))
    event = Event(**values, status=EventStatus.DRAFT, created_by_id=creator.id)
    edition = edition_for(event.starts_at, event.ends_at)
    event.edition_id = edition.id if edition is not None else None
    event.organisations = [EventOrganisation(organisation=o, role=role) for o, role in links]
    db.session.add(event)
    flush()
    record("event.created", event, to_state=event.status,
           details={"organisations": [[o.id, role.value] for o, role in links]})
    return event


# What a domain built on an event refuses to let the event's own pages change (a report session
# is an event that stays a report session in Beijing): ``guard(event, values)`` returns the refusal.
EventGuard = Callable[[Event, dict], str | None]
_EVENT_GUARDS: list[EventGuard] = []


def register_event_guard(guard: EventGuard) -> None:
    """Have ``update_event`` ask ``guard`` before it changes an event (at import time, once)."""
    _EVENT_GUARDS.append(guard)


def update_event(event: Event, fields: Mapping[str, Any]) -> dict[str, list]:
    """Change the given fields of an event; returns {field: [old, new]}. A registered guard
    refusing the change is a 409 ServiceError."""
    values = _cleaned_event(fields, event)
    for guard in _EVENT_GUARDS:
        refusal = guard(event, values)
        if refusal is not None:
            raise ServiceError(refusal, 409)
    before = snapshot(event, values)
    for name, value in values.items():
        setattr(event, name, value)
    edition = edition_for(event.starts_at, event.ends_at)
    event.edition_id = edition.id if edition is not None else None
    flush()
    entry = record_changes("event.updated", event, before)
    if "capacity" in values and entry is not None:
        from conference_app.events.services.registrations import fill_free_places

        fill_free_places(event)
    return entry.details["changes"] if entry is not None else {}


def set_organisations(event: Event, organisations: Iterable[tuple[int, str]], *, actor) -> None:
    """Replace the organisations of an event; a society cannot take its own organisation off."""
    links = _organisation_links(organisations)
    if actor.role == "society" and not any(
        organisation.id == actor.organisation_id and role in (PastEventRole.HOST, PastEventRole.CO_HOST)
        for organisation, role in links
    ):
        raise ServiceError(_("Your organisation must stay a host or co-host of this event."))
    before = sorted([link.organisation_id, link.role.value] for link in event.organisations)
    # Links are changed in place and removed before any is added: a replaced list would be
    # inserted before the old rows are deleted, against the (event, organisation) unique key.
    wanted = {organisation.id: role for organisation, role in links}
    for link in list(event.organisations):
        if link.organisation_id not in wanted:
            event.organisations.remove(link)
        else:
            link.role = wanted.pop(link.organisation_id)
    flush()
    for organisation, role in links:
        if organisation.id in wanted:
            event.organisations.append(EventOrganisation(organisation=organisation, role=role))
    flush()
    after = sorted([o.id, role.value] for o, role in links)
    if before != after:
        event.version += 1  # the links are rows of their own: an open form of the event is stale now
        record("event.organisations_changed", event, details={"changes": {"organisations": [before, after]}})


def change_state(event: Event, transition: str, *, actor, comment: str | None = None) -> None:
    """Publish, take back, mark as held, cancel or reopen an event (the EVENT table)."""
    EVENT.apply(event, transition, actor=actor, comment=comment)
    if transition == "cancel":
        from conference_app.events.services.registrations import notify_cancellation

        notify_cancellation(event, comment)


# --- people on the programme -----------------------------------------------------------------

PERSON_FIELDS = ("role", "name", "organisation", "title", "is_leading_figure", "leading_reason", "rank",
                 "is_keynote", "talk_title", "talk_minutes", "on_site", "position")


def _cleaned_person(fields: Mapping[str, Any]) -> dict[str, Any]:
    values = {name: fields.get(name) for name in PERSON_FIELDS if name in fields}
    if values.get("role") not in set(PersonRole):
        raise ServiceError(_("Please choose what the person does on the programme."))
    values["role"] = PersonRole(values["role"])
    for name, label in (("name", _l("Name")), ("organisation", _l("Organisation")), ("title", _l("Title")),
                        ("leading_reason", _l("Why a leading figure")), ("talk_title", _l("Talk title"))):
        if name in values:
            values[name] = clean_text(values[name], label, max_length=column_length(EventPerson, name),
                                      required=name == "name")
    values["is_leading_figure"] = bool(values.get("is_leading_figure"))
    if values["is_leading_figure"] and not values.get("leading_reason"):
        raise ServiceError(_("Say why the speaker is a leading figure of the discipline or industry."))
    if not values["is_leading_figure"]:
        values["leading_reason"] = None
    if values.get("rank") not in (None, "", *ExpertRank):
        raise ServiceError(_("Please choose the rank from the list."))
    values["rank"] = ExpertRank(values["rank"]) if values.get("rank") else None
    values["is_keynote"] = bool(values.get("is_keynote")) and values["role"] == PersonRole.SPEAKER
    minutes = values.get("talk_minutes")
    if minutes is not None and (not isinstance(minutes, int) or not 1 <= minutes <= MAX_TALK_MINUTES):
        raise ServiceError(_("The talk length is a number of minutes from 1 to %(max)d.", max=MAX_TALK_MINUTES))
    values["on_site"] = bool(values.get("on_site", True))
    values["position"] = int(values.get("position") or 0)
    return values


def add_person(event: Event, fields: Mapping[str, Any]) -> EventPerson:
    """Put a speaker, initiator, discussant, guest or chair on the programme."""
    person = EventPerson(event=event, **_cleaned_person(fields))
    db.session.add(person)
    flush()
    record("event.person_added", event, details={"person_id": person.id, "name": person.name,
                                                 "role": person.role.value})
    return person


def update_person(person: EventPerson, fields: Mapping[str, Any]) -> None:
    values = _cleaned_person(fields)
    before = snapshot(person, values)
    for name, value in values.items():
        setattr(person, name, value)
    flush()
    changes = {name: [old, new] for name, old in before.items() if (new := logged_value(getattr(person, name))) != old}
    if changes:
        record("event.person_updated", person.event, details={"person_id": person.id, "changes": changes})


def remove_person(person: EventPerson) -> None:
    event = person.event
    record("event.person_removed", event, details={"person_id": person.id, "name": person.name,
                                                   "role": person.role.value})
    event.people.remove(person)
    flush()


# --- the international-conference filing -----------------------------------------------------


def upload_filing_document(event: Event, file) -> None:
    """Keep the approval document (PDF or image) of an international conference's filing."""
    if event.kind != EventKind.INTERNATIONAL:
        raise ServiceError(_("Only international conferences are filed for approval."))
    stored = store_upload(file, "filings", ("pdf", "png", "jpg"))
    event.filing_document_path, event.filing_document_name = stored.path, stored.original_name
    flush()
    record("event_filing.document_uploaded", event, details={"file": stored.original_name, "sha256": stored.sha256,
                                                             "size": stored.size})


def change_filing(event: Event, transition: str, *, actor, comment: str | None = None) -> None:
    """File, record the approval of, or withdraw an international conference's filing."""
    if event.kind != EventKind.INTERNATIONAL:
        raise ServiceError(_("Only international conferences are filed for approval."))
    FILING.apply(event, transition, actor=actor, comment=comment)
    event.filing_approved_at = utcnow() if transition == "approve" else None
    flush()


def person_of(event: Event, person_id: int) -> EventPerson:
    """The person ``person_id`` on the programme of ``event``; a 404 ServiceError when it is
    not one of this event's (a person of another event through this event's URL)."""
    person = next((person for person in event.people if person.id == person_id), None)
    if person is None:
        raise ServiceError(_("This person is not on the programme of this event."), 404)
    return person


# --- lists of the management pages -----------------------------------------------------------


def editions() -> list[AcademicMonthEdition]:
    """Every Academic Month edition, newest first."""
    return list(db.session.scalars(select(AcademicMonthEdition).order_by(AcademicMonthEdition.number.desc())))


def approved_organisations() -> list[Organisation]:
    """The organisations that may hold events, by Chinese name (the form's choices)."""
    return list(db.session.scalars(select(Organisation).where(Organisation.status == OrganisationStatus.APPROVED)
                                   .order_by(Organisation.name_zh, Organisation.id)))


def event_query(
    *,
    status: str | None = None,
    kind: str | None = None,
    edition_id: int | None = None,
    organisation_id: int | None = None,
    discipline: str | None = None,
    district: str | None = None,
    search: str | None = None,
) -> Select:
    """Events matching the management lists' filters, newest first, with their organisations
    and edition loaded (a page issues the same statements for 3 and 30 rows). ``search``
    matches the titles, the venue, an organisation's name or a person on the programme."""
    query = (
        select(Event)
        .options(selectinload(Event.organisations).joinedload(EventOrganisation.organisation),
                 joinedload(Event.edition))
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    for column, value in ((Event.status, status), (Event.kind, kind), (Event.edition_id, edition_id),
                          (Event.discipline, discipline), (Event.district, district)):
        if value:
            query = query.where(column == value)
    if organisation_id:
        query = query.where(Event.organisations.any(EventOrganisation.organisation_id == organisation_id))
    search = strip_nul(search)
    if search:
        query = query.where(or_(
            contains_text(Event.title_zh, search),
            contains_text(Event.title_en, search),
            contains_text(Event.venue, search),
            Event.organisations.any(EventOrganisation.organisation.has(or_(
                contains_text(Organisation.name_zh, search), contains_text(Organisation.name_en, search)))),
            Event.people.any(contains_text(EventPerson.name, search)),
        ))
    return query


def with_counts(events: Iterable[Event]) -> list[tuple[Event, Counts]]:
    """Each event with its registration counts, counted for all of them at once."""
    events = list(events)
    found = counts([event.id for event in events])
    return [(event, found.get(event.id, Counts())) for event in events]


def organisations_text(event: Event) -> str:
    """The organisations of an event with their roles, e.g. "北京力学会（主办）; ..."."""
    return "; ".join(f"{link.organisation.name_zh} ({link.role.title})" for link in event.organisations)


def _place(event: Event) -> str:
    if not event.in_beijing:
        return event.city or ""
    return event.district.title if event.district else ""


EVENT_EXPORT_COLUMNS = [
    Column(_l("Chinese title"), lambda row: row[0].title_zh, 36),
    Column(_l("English title"), lambda row: row[0].title_en or "", 30),
    Column(_l("Kind"), lambda row: row[0].kind.title, 18),
    Column(_l("Status"), lambda row: row[0].status.title, 10),
    Column(_l("Starts"), lambda row: row[0].starts_at, 18),
    Column(_l("Ends"), lambda row: row[0].ends_at, 18),
    Column(_l("Academic Month"), lambda row: row[0].edition.number if row[0].edition else "", 10),
    Column(_l("Organisations and roles"), lambda row: organisations_text(row[0]), 40),
    Column(_l("Venue"), lambda row: row[0].venue or "", 24),
    Column(_l("District or city"), lambda row: _place(row[0]), 12),
    Column(_l("Format"), lambda row: row[0].mode.title, 12),
    Column(_l("Discipline"), lambda row: discipline_title(row[0].discipline), 16),
    Column(_l("Capacity"), lambda row: row[0].capacity, 10),
    Column(_l("Confirmed"), lambda row: row[1].confirmed, 10),
    Column(_l("Waiting list"), lambda row: row[1].waitlisted, 10),
    Column(_l("Checked in"), lambda row: row[1].checked_in, 10),
    Column(_l("International filing"), lambda row: row[0].filing_status.title
           if row[0].kind == EventKind.INTERNATIONAL else "", 16),
]


def discipline_title(key: str | None) -> str:
    """The name of a discipline key in the reader's language ("" for none)."""
    if not key:
        return ""
    chinese = str(get_locale() or "zh_CN").startswith("zh")
    for choice_key, name_zh, name_en in discipline_choices():
        if choice_key == key:
            return name_zh if chinese else name_en
    return key


def upcoming_events(organisation: Organisation) -> list[tuple[Event, PastEventRole]]:
    """The organisation's published events that have not ended yet, soonest first, each with
    the organisation's role in it."""
    return [tuple(row) for row in db.session.execute(
        select(Event, EventOrganisation.role)
        .join(EventOrganisation, EventOrganisation.event_id == Event.id)
        .where(EventOrganisation.organisation_id == organisation.id, Event.status == EventStatus.PUBLISHED,
               Event.ends_at > utcnow())
        .order_by(Event.starts_at, Event.id)
    )]


# --- an event's registrations, for its organisers ---------------------------------------------


def registration_query(event: Event, *, status: str | None = None, checked_in: bool | None = None,
                       search: str | None = None) -> Select:
    """The registrations of an event, in the order they came, with their check-ins loaded;
    ``search`` matches the name, organisation, phone, e-mail or code."""
    query = (
        select(Registration)
        .where(Registration.event_id == event.id)
        .options(selectinload(Registration.check_in))
        .order_by(Registration.id)
    )
    if status:
        query = query.where(Registration.status == status)
    if checked_in is not None:
        query = query.where(Registration.check_in.has() if checked_in else ~Registration.check_in.has())
    search = strip_nul(search)
    if search:
        query = query.where(or_(*(contains_text(column, search) for column in (
            Registration.name, Registration.organisation, Registration.phone, Registration.email,
            Registration.code))))
    return query


REGISTRATION_EXPORT_COLUMNS = [
    Column(_l("Registration code"), lambda r: r.code, 14),
    Column(_l("Name"), lambda r: r.name, 14),
    Column(_l("Organisation"), lambda r: r.organisation or "", 28),
    Column(_l("Professional title"), lambda r: r.title or "", 14),
    Column(_l("Mobile number"), lambda r: r.phone or "", 14),
    Column(_l("E-mail"), lambda r: r.email or "", 26),
    Column(_l("Status"), lambda r: r.status.title, 12),
    Column(_l("Registered at"), lambda r: r.created_at, 18),
    Column(_l("Checked in"), lambda r: r.check_in.checked_in_at if r.check_in else None, 18),
    Column(_l("Check-in method"), lambda r: r.check_in.method.title if r.check_in else "", 16),
    Column(_l("Source"), lambda r: r.source.title, 14),
]
