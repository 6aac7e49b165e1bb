"""Attendance (人次): counted from check-ins, imported for events checked in elsewhere, and
broken down for the statistics pages and the programs' indicators.

**A person-time is one check-in**: one registration checked in at one event (a check-in is
written at most once per registration, so checking someone in twice counts once). Attendance
imported from an organiser's Excel file becomes registrations (source "import") and
check-ins (method "import") like any other: it counts the same, and every number here also
says how many of its person-times were imported, so a page or an indicator can flag them.
Only events that took place or are announced count: published or held, never drafts or
cancelled events.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from sqlalchemy import Date, case, cast, distinct, func, literal_column, or_, select
from sqlalchemy.orm import selectinload

from conference_app.audit.models import AuditEntry
from conference_app.audit.services import record, register_action_titles
from conference_app.core.db import column_length, lock, utcnow
from conference_app.core.excel import Column, workbook_bytes
from conference_app.core.permissions import user_can
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text
from conference_app.core.timeutil import BEIJING, beijing_date, day_start
from conference_app.core.uploads import store_upload, upload_file
from conference_app.events.models import (
    AcademicMonthEdition,
    CheckIn,
    CheckInMethod,
    Event,
    EventKind,
    EventMode,
    EventOrganisation,
    EventStatus,
    Registration,
    RegistrationSource,
    RegistrationStatus,
)
from conference_app.events.services.registrations import contact_details, new_code
from conference_app.extensions import db
from conference_app.organisations.models import Organisation, PastEventRole

COUNTED_STATUSES = (EventStatus.PUBLISHED, EventStatus.HELD)
IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 3000
IMPORT_ACTION = "attendance.imported"

register_action_titles({IMPORT_ACTION: _l("Attendance imported from a file")})


# --- counting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonTimes:
    """Person-times (check-ins) and how many of them were imported from a file."""

    total: int = 0
    imported: int = 0

    @property
    def checked_in_here(self) -> int:
        """Checked in through the platform (QR code, search, scanner device)."""
        return self.total - self.imported


def person_times_columns():
    """(person-times, of which imported) as aggregate columns over joined ``CheckIn`` rows."""
    return (func.count(CheckIn.id),
            func.coalesce(func.sum(case((CheckIn.method == CheckInMethod.IMPORT, 1), else_=0)), 0))


def event_person_times(event_ids: Iterable[int]) -> dict[int, PersonTimes]:
    """Person-times of each event (every check-in of it), in one query; events without any are absent."""
    event_ids = list(event_ids)
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(CheckIn.event_id, *person_times_columns()).where(CheckIn.event_id.in_(event_ids))
        .group_by(CheckIn.event_id)
    )
    return {event_id: PersonTimes(total, imported) for event_id, total, imported in rows}


@dataclass(frozen=True)
class EventAttendance:
    """One event's part of an organisation's attendance: the evidence of the total."""

    event_id: int
    title: str
    starts_at: datetime
    kind: EventKind
    role: PastEventRole
    person_times: PersonTimes


@dataclass(frozen=True)
class OrganisationAttendance:
    """An organisation's person-times in a year, with the events they come from."""

    person_times: PersonTimes
    events: list[EventAttendance] = field(default_factory=list)


def organisation_person_times(
    organisation: Organisation,
    year: int,
    *,
    in_beijing: bool | None = True,
    offline: bool = True,
    kinds: Iterable[str] | None = None,
    roles: Iterable[str] | None = None,
) -> OrganisationAttendance:
    """The person-times of the events an organisation held in a year: what an attendance
    indicator ("cumulative offline attendance >= 400 person-times in Beijing") is checked against.

    Counts exactly: one person-time per check-in (``CheckIn`` row; a registration checked in
    twice is one row) at an event that
    - the organisation holds in one of ``roles`` (host, co-host, main organiser; any when None),
    - starts in ``year`` (Beijing calendar),
    - is published or held (drafts and cancelled events never count),
    - is held in Beijing when ``in_beijing`` is True (outside Beijing when False, anywhere when None),
    - takes place on site (offline, or on site and online) when ``offline``: an online-only
      event's check-ins are not offline attendance,
    - is of one of ``kinds`` (``EventKind`` values; any when None).
    Imported attendance (``CheckInMethod.IMPORT``) counts like any check-in; ``imported`` in
    the result and in each event's line says how much of it was imported. Events of the
    organisation that match but have no check-in are listed with zero.
    """
    start, end = day_start(date(year, 1, 1)), day_start(date(year + 1, 1, 1))
    query = (
        select(Event.id, Event.title_zh, Event.starts_at, Event.kind, EventOrganisation.role, *person_times_columns())
        .join(EventOrganisation, EventOrganisation.event_id == Event.id)
        .outerjoin(CheckIn, CheckIn.event_id == Event.id)
        .where(EventOrganisation.organisation_id == organisation.id, Event.status.in_(COUNTED_STATUSES),
               Event.starts_at >= start, Event.starts_at < end)
        .group_by(Event.id, Event.title_zh, Event.starts_at, Event.kind, EventOrganisation.role)
        .order_by(Event.starts_at, Event.id)
    )
    if roles is not None:
        query = query.where(EventOrganisation.role.in_([str(role) for role in roles]))
    if kinds is not None:
        query = query.where(Event.kind.in_([str(kind) for kind in kinds]))
    if in_beijing is not None:
        query = query.where(Event.in_beijing.is_(in_beijing))
    if offline:
        query = query.where(Event.mode != EventMode.ONLINE)
    events = [EventAttendance(event_id, title, starts_at, kind, role, PersonTimes(total, imported))
              for event_id, title, starts_at, kind, role, total, imported in db.session.execute(query)]
    total = PersonTimes(sum(e.person_times.total for e in events), sum(e.person_times.imported for e in events))
    return OrganisationAttendance(total, events)


# --- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceFilter:
    """Which events the statistics cover. ``organisation_id`` limits them to the events an
    organisation holds in any role (a society sees only its own)."""

    organisation_id: int | None = None
    edition_id: int | None = None
    year: int | None = None
    kind: str | None = None
    district: str | None = None


def statistics_filter(user, *, organisation_id=None, **filters) -> AttendanceFilter:
    """The filter a user may see: staff any (``events.statistics``); a society user only its own
    organisation's events, whatever organisation it asks for."""
    if not user_can(user, "events.statistics"):
        organisation_id = getattr(user, "organisation_id", None)
        if organisation_id is None:
            raise ServiceError(_("Only the users of an organisation see its attendance."), 403)
    return AttendanceFilter(organisation_id=organisation_id, **filters)


def _event_conditions(f: AttendanceFilter) -> list:
    conditions = [Event.status.in_(COUNTED_STATUSES)]
    if f.organisation_id is not None:
        conditions.append(Event.id.in_(select(EventOrganisation.event_id)
                                       .where(EventOrganisation.organisation_id == f.organisation_id)))
    if f.edition_id is not None:
        conditions.append(Event.edition_id == f.edition_id)
    if f.year is not None:
        conditions.append(Event.starts_at >= day_start(date(f.year, 1, 1)))
        conditions.append(Event.starts_at < day_start(date(f.year + 1, 1, 1)))
    if f.kind:
        conditions.append(Event.kind == f.kind)
    if f.district:
        conditions.append(Event.district == f.district)
    return conditions


def _counted(f: AttendanceFilter, *group_by):
    """Check-ins of the filtered events grouped by ``group_by``: rows of (*groups, total, imported)."""
    return db.session.execute(
        select(*group_by, *person_times_columns()).select_from(CheckIn).join(Event, Event.id == CheckIn.event_id)
        .where(*_event_conditions(f)).group_by(*group_by)
    ).all()


@dataclass(frozen=True)
class Totals:
    events: int
    person_times: PersonTimes


def totals(f: AttendanceFilter) -> Totals:
    """How many events the filter covers and their person-times."""
    events = db.session.scalar(select(func.count()).select_from(Event).where(*_event_conditions(f)))
    (total, imported), = db.session.execute(
        select(*person_times_columns()).select_from(CheckIn).join(Event, Event.id == CheckIn.event_id)
        .where(*_event_conditions(f))).all()
    return Totals(events, PersonTimes(total, imported))


def _beijing_day(column):
    """The Beijing calendar day of a stored (naive UTC) time, computed by the database.

    Asia/Shanghai has kept UTC+8 without daylight saving time since 1991, so that day is the
    UTC date eight hours later, on SQLite and PostgreSQL alike.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(column, "+8 hours")
    return cast(column + literal_column("interval '8 hours'"), Date)


@dataclass(frozen=True)
class Breakdown:
    """One line of a breakdown: its label (a day, a kind, a district ...) and its person-times."""

    key: object
    label: str
    person_times: PersonTimes


def by_day(f: AttendanceFilter) -> list[Breakdown]:
    """Person-times per Beijing day of check-in, in order (days without check-ins left out)."""
    day = _beijing_day(CheckIn.checked_in_at)
    lines = []
    for value, total, imported in sorted(_counted(f, day), key=lambda row: str(row[0])):
        moment = value if isinstance(value, date) else date.fromisoformat(value)
        lines.append(Breakdown(moment, moment.isoformat(), PersonTimes(total, imported)))
    return lines


def by_kind(f: AttendanceFilter) -> list[Breakdown]:
    """Person-times per kind of event, every kind in its order (zero when none)."""
    found = {kind: PersonTimes(total, imported) for kind, total, imported in _counted(f, Event.kind)}
    return [Breakdown(kind, str(kind.title), found.get(kind, PersonTimes())) for kind in EventKind]


def by_district(f: AttendanceFilter) -> list[Breakdown]:
    """Person-times per district of Beijing, most first; events outside Beijing or online only
    (no district) last, when they have any."""
    found = {district: PersonTimes(total, imported) for district, total, imported in _counted(f, Event.district)}
    lines = sorted((Breakdown(d, str(d.title), pt) for d, pt in found.items() if d is not None),
                   key=lambda line: (-line.person_times.total, line.label))
    if None in found:
        lines.append(Breakdown(None, _("Outside Beijing or online only"), found[None]))
    return lines


def by_edition(f: AttendanceFilter) -> list[Breakdown]:
    """Person-times per Academic Month edition, newest first; events outside any edition last."""
    found = {edition_id: PersonTimes(total, imported) for edition_id, total, imported in _counted(f, Event.edition_id)}
    editions = db.session.scalars(select(AcademicMonthEdition).order_by(AcademicMonthEdition.number.desc()))
    lines = [Breakdown(edition.id, _("Academic Month %(number)d (%(year)d)", number=edition.number, year=edition.year),
                       found.get(edition.id, PersonTimes()))
             for edition in editions if f.edition_id is None or edition.id == f.edition_id]
    if None in found:
        lines.append(Breakdown(None, _("Outside the Academic Month"), found[None]))
    return lines


def chart_data(lines: list[Breakdown], *, horizontal: bool = False) -> dict:
    """A breakdown as the data of a stacked bar chart (charts.js): person-times checked in through
    the platform and imported ones, so the chart flags imported attendance as the tables do."""
    return {
        "labels": [line.label for line in lines],
        "stacked": True,
        "horizontal": horizontal,
        "datasets": [
            {"type": "bar", "label": _("Checked in"), "data": [line.person_times.checked_in_here for line in lines]},
            {"type": "bar", "label": _("Imported"), "data": [line.person_times.imported for line in lines]},
        ],
    }


@dataclass(frozen=True)
class OrganisationLine:
    organisation_id: int
    name: str
    events: int
    person_times: PersonTimes


def by_organisation(f: AttendanceFilter, limit: int | None = None) -> list[OrganisationLine]:
    """Person-times of the events each organisation holds (in any role), most first. An event
    with several organisations counts fully for each of them, so these lines do not add up to
    the total."""
    query = (
        select(Organisation.id, Organisation.name_zh, func.count(distinct(Event.id)), *person_times_columns())
        .select_from(EventOrganisation)
        .join(Organisation, Organisation.id == EventOrganisation.organisation_id)
        .join(Event, Event.id == EventOrganisation.event_id)
        .outerjoin(CheckIn, CheckIn.event_id == Event.id)
        .where(*_event_conditions(f))
        .group_by(Organisation.id, Organisation.name_zh)
        .order_by(func.count(CheckIn.id).desc(), Organisation.name_zh, Organisation.id)
    )
    if f.organisation_id is not None:
        query = query.where(Organisation.id == f.organisation_id)
    if limit is not None:
        query = query.limit(limit)
    return [OrganisationLine(organisation_id, name, events, PersonTimes(total, imported))
            for organisation_id, name, events, total, imported in db.session.execute(query)]


def events_query(f: AttendanceFilter):
    """The filtered events, newest first, with their organisations loaded (one page at a time)."""
    return (
        select(Event).where(*_event_conditions(f))
        .options(selectinload(Event.organisations).selectinload(EventOrganisation.organisation))
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )


def event_lines(f: AttendanceFilter, limit: int) -> list[tuple[Event, PersonTimes]]:
    """The filtered events with their person-times (the export), in one query plus the organisations."""
    query = (
        select(Event, *person_times_columns()).outerjoin(CheckIn, CheckIn.event_id == Event.id)
        .where(*_event_conditions(f)).group_by(Event.id)
        .options(selectinload(Event.organisations).selectinload(EventOrganisation.organisation))
        .order_by(Event.starts_at.desc(), Event.id.desc()).limit(limit)
    )
    return [(event, PersonTimes(total, imported)) for event, total, imported in db.session.execute(query)]


def _organisation_names(event: Event) -> str:
    return "、".join(f"{link.organisation.name_zh}（{link.role.title}）" for link in event.organisations)


PERSON_TIMES_COLUMNS = [
    Column(_l("Person-times"), lambda line: line.person_times.total, 12),
    Column(_l("Of which imported"), lambda line: line.person_times.imported, 12),
]
BREAKDOWN_COLUMNS = {
    "days": [Column(_l("Day"), lambda line: line.key, 14), *PERSON_TIMES_COLUMNS],
    "kinds": [Column(_l("Kind"), lambda line: line.label, 30), *PERSON_TIMES_COLUMNS],
    "districts": [Column(_l("District"), lambda line: line.label, 24), *PERSON_TIMES_COLUMNS],
    "editions": [Column(_l("Academic Month"), lambda line: line.label, 30), *PERSON_TIMES_COLUMNS],
    "organisations": [Column(_l("Organisation holding it"), lambda line: line.name, 36),
                      Column(_l("Number of events"), lambda line: line.events, 10), *PERSON_TIMES_COLUMNS],
}
EVENT_COLUMNS = [
    Column(_l("Starts"), lambda row: row[0].starts_at, 18),
    Column(_l("Event"), lambda row: row[0].title_zh, 40),
    Column(_l("Kind"), lambda row: row[0].kind.title, 20),
    Column(_l("District"), lambda row: row[0].district.title if row[0].district else "", 12),
    Column(_l("Held by"), lambda row: _organisation_names(row[0]), 40),
    Column(_l("Person-times"), lambda row: row[1].total, 12),
    Column(_l("Of which imported"), lambda row: row[1].imported, 12),
]
BREAKDOWNS = {"days": by_day, "kinds": by_kind, "districts": by_district, "editions": by_edition,
              "organisations": by_organisation}
EXPORT_MAX_ROWS = 100_000


def export_bytes(f: AttendanceFilter, breakdown: str) -> bytes:
    """One table of the statistics page (``events`` or a key of BREAKDOWNS) as a workbook."""
    if breakdown == "events":
        return workbook_bytes(_l("Attendance by event"), EVENT_COLUMNS, event_lines(f, EXPORT_MAX_ROWS))
    return workbook_bytes(_l("Attendance"), BREAKDOWN_COLUMNS[breakdown], BREAKDOWNS[breakdown](f))


# --- importing attendance ----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportColumn:
    """A column of the attendance template: the row field it fills and its header."""

    name: str
    header: object
    width: int


IMPORT_COLUMNS = [
    ImportColumn("name", _l("Name (required)"), 14),
    ImportColumn("organisation", _l("Work unit"), 30),
    ImportColumn("title", _l("Professional title"), 14),
    ImportColumn("phone", _l("Mobile number"), 16),
    ImportColumn("email", _l("E-mail address"), 28),
    ImportColumn("checked_in_at", _l("Check-in time (YYYY-MM-DD HH:MM)"), 24),
]


def template_bytes() -> bytes:
    """The attendance template: the Chinese headers of IMPORT_COLUMNS and no rows."""
    columns = [Column(column.header, lambda row: None, column.width) for column in IMPORT_COLUMNS]
    return workbook_bytes(_l("Attendance"), columns, [])


@dataclass(frozen=True)
class RowProblem:
    """Why one row of an attendance file was refused (``row`` as Excel numbers it)."""

    row: int
    reason: str


class AttendanceRefused(ServiceError):
    """The whole file is refused; ``problems`` says which rows and why."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(_("The file was not imported: %(count)d rows have problems (listed below). Correct them and "
                           "upload the whole file again; nothing was recorded.", count=len({p.row for p in problems})))
        self.problems = problems


@dataclass(frozen=True)
class ImportedRow:
    row: int
    name: str
    organisation: str | None
    title: str | None
    phone: str | None
    email: str | None
    checked_in_at: datetime


@dataclass(frozen=True)
class ImportResult:
    rows: int
    sha256: str


def _headers() -> dict[str, str]:
    """Header text (Chinese and English, without blanks) -> field name."""
    found = {}
    for locale in ("zh_CN", "en"):
        with force_locale(locale):
            found.update({_normalised(str(column.header)): column.name for column in IMPORT_COLUMNS})
    return found


def _normalised(header) -> str:
    return re.sub(r"\s+", "", str(header or "")).lower()


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a mobile number typed into a number cell
    return str(value).strip() or None


_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")


def _check_in_time(value) -> datetime | None:
    """A cell's check-in time as an aware Beijing time; None when empty; ValueError when unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            value = from_excel(value)  # a date cell stored as its serial number
        except (OverflowError, ValueError, TypeError):
            raise ValueError(str(value)) from None
    if isinstance(value, str):
        text = value.strip()
        for pattern in _TIME_FORMATS:
            try:
                value = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            raise ValueError(text)
    if not isinstance(value, datetime):  # a date alone (no time) or a time alone
        raise ValueError(str(value))
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value


def _read_rows(data: bytes) -> list[tuple[int, dict]]:
    """(Excel row number, {field: cell value}) of every non-empty row under the header."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged file
        raise ServiceError(_("This file cannot be read as an Excel workbook (.xlsx).")) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    known = _headers()
    positions = {known[_normalised(cell)]: index for index, cell in enumerate(header) if _normalised(cell) in known}
    if "name" not in positions or not {"phone", "email"} & set(positions):
        raise ServiceError(_("The first row must hold the template's headers (name, mobile number or e-mail "
                             "address ...): please start from the template."))
    found = []
    for number, values in enumerate(rows, start=2):
        cells = {name: values[index] if index < len(values) else None for name, index in positions.items()}
        if all(_cell_text(value) is None for value in cells.values()):
            continue  # a blank line
        if len(found) == IMPORT_MAX_ROWS:
            raise ServiceError(_("A file holds at most %(max)d rows; split it into several files.",
                                 max=IMPORT_MAX_ROWS))
        found.append((number, cells))
    workbook.close()
    return found


def _validated_row(event: Event, number: int, cells: dict) -> ImportedRow:
    """One row checked; ServiceError with the reason when it is bad."""
    name = clean_text(_cell_text(cells.get("name")), _("Name"), max_length=column_length(Registration, "name"),
                      required=True, required_message=_("The name is missing."))
    organisation = clean_text(_cell_text(cells.get("organisation")), _("Work unit"),
                              max_length=column_length(Registration, "organisation"))
    title = clean_text(_cell_text(cells.get("title")), _("Professional title"),
                       max_length=column_length(Registration, "title"))
    phone, email = contact_details(_cell_text(cells.get("phone")), _cell_text(cells.get("email")))
    try:
        moment = _check_in_time(cells.get("checked_in_at"))
    except ValueError:
        raise ServiceError(_("The check-in time is not a date and time such as 2026-10-12 09:30.")) from None
    first_day, last_day = beijing_date(event.starts_at), beijing_date(event.ends_at)
    if moment is not None and not day_start(first_day) <= moment < day_start(last_day + timedelta(days=1)):
        raise ServiceError(_("The check-in time is not on the day(s) of the event (%(first)s to %(last)s).",
                             first=first_day.isoformat(), last=last_day.isoformat()))
    return ImportedRow(number, name, organisation, title, phone, email, moment or event.starts_at)


def _duplicates(rows: list[ImportedRow], event: Event) -> list[RowProblem]:
    """Rows repeating another row's mobile number or e-mail address, or an existing registration's."""
    problems, seen = [], {}
    for row in rows:
        for kind, value in (("phone", row.phone), ("email", row.email)):
            if value is None:
                continue
            if (kind, value) in seen:
                problems.append(RowProblem(row.row, _("Same mobile number or e-mail address as row %(row)d.",
                                                      row=seen[(kind, value)])))
            else:
                seen[(kind, value)] = row.row
    phones = [row.phone for row in rows if row.phone]
    emails = [row.email for row in rows if row.email]
    existing = db.session.execute(
        select(Registration.phone, Registration.email, Registration.name)
        .where(Registration.event_id == event.id, Registration.status != RegistrationStatus.CANCELLED,
               or_(Registration.phone.in_(phones), Registration.email.in_(emails)))
    ).all()
    registered = {("phone", phone): name for phone, _email, name in existing if phone} | {
        ("email", email): name for _phone, email, name in existing if email}
    for row in rows:
        for key in (("phone", row.phone), ("email", row.email)):
            if key in registered:
                problems.append(RowProblem(row.row, _("Already registered for this event (as %(name)s).",
                                                      name=registered[key])))
                break
    return problems


def import_closed(event: Event) -> str | None:
    """Why attendance cannot be imported for the event now, or None."""
    if event.status not in COUNTED_STATUSES:
        return _("Attendance can be imported only for published or held events.")
    if event.starts_at > utcnow():
        return _("Attendance can be imported once the event has started.")
    return None


def import_attendance(event: Event, file, *, actor) -> ImportResult:
    """Import the attendance of an event checked in elsewhere from an Excel file.

    The file (the template's columns, an .xlsx by its bytes, at most IMPORT_MAX_BYTES) is
    read whole and every row validated: a name, a mainland mobile number or an e-mail
    address, a check-in time on the event's day(s) if given (the event's start otherwise),
    no mobile number or e-mail address twice in the file or already registered for the
    event. One bad row refuses the whole file with every row's number and reason
    (``AttendanceRefused``) and nothing is written (the stored copy of the file goes with
    the rollback). Otherwise each row becomes a confirmed registration (source "import")
    and its check-in (method "import"), all in the caller's transaction, and the import is
    audited once on the event with the file's name, sha256, size and row count.
    """
    if not user_can(actor, "events.run", event):
        raise ServiceError(_("You may not record attendance for this event."), 403)
    closed = import_closed(event)
    if closed:
        raise ServiceError(closed, 409)
    stored = store_upload(file, "attendance", ("xlsx",), max_bytes=IMPORT_MAX_BYTES)
    found = _read_rows(upload_file(stored.path).read_bytes())
    if not found:
        raise ServiceError(_("The file holds no rows under the headers."))
    lock(f"event-registrations:{event.id}")  # duplicates are checked against registrations one writer at a time
    rows, problems = [], []
    for number, cells in found:
        try:
            rows.append(_validated_row(event, number, cells))
        except ServiceError as error:
            problems.append(RowProblem(number, str(error.message)))
    problems += _duplicates(rows, event)
    if problems:
        raise AttendanceRefused(sorted(problems, key=lambda problem: problem.row))
    registrations = [
        Registration(event_id=event.id, code=new_code(), status=RegistrationStatus.CONFIRMED,
                     source=RegistrationSource.IMPORT, name=row.name, organisation=row.organisation, title=row.title,
                     phone=row.phone, email=row.email)
        for row in rows
    ]
    db.session.add_all(registrations)
    flush({"code": _l("Please try again.")})
    db.session.add_all(
        CheckIn(event_id=event.id, registration_id=registration.id, checked_in_at=row.checked_in_at,
                method=CheckInMethod.IMPORT, by_user_id=actor.id)
        for registration, row in zip(registrations, rows)
    )
    flush()
    record(IMPORT_ACTION, event, actor=actor, details={
        "file": stored.original_name, "path": stored.path, "sha256": stored.sha256, "size": stored.size,
        "rows": len(rows),
    })
    return ImportResult(len(rows), stored.sha256)


def imports_of(event: Event) -> list:
    """The audit entries of the event's attendance imports, newest first (who, when, which file)."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "Event", AuditEntry.object_id == str(event.id),
                                 AuditEntry.action == IMPORT_ACTION)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    ))


def imported_file(event: Event, entry_id: int) -> tuple[str, str]:
    """(stored path, original name) of one of the event's imported files; 404 for any other entry."""
    entry = next((entry for entry in imports_of(event) if entry.id == entry_id), None)
    if entry is None or not (entry.details or {}).get("path"):
        raise ServiceError(_("No such imported file."), 404)
    return entry.details["path"], entry.details.get("file") or "attendance.xlsx"


def attendance_query(event: Event):
    """The check-ins of an event with their registrations, newest first (the attendance list)."""
    return (select(CheckIn).where(CheckIn.event_id == event.id).options(selectinload(CheckIn.registration))
            .order_by(CheckIn.checked_in_at.desc(), CheckIn.id.desc()))


ATTENDANCE_COLUMNS = [
    Column(_l("Name"), lambda check_in: check_in.registration.name, 14),
    Column(_l("Work unit"), lambda check_in: check_in.registration.organisation, 30),
    Column(_l("Professional title"), lambda check_in: check_in.registration.title, 14),
    Column(_l("Mobile number"), lambda check_in: check_in.registration.phone, 16),
    Column(_l("E-mail address"), lambda check_in: check_in.registration.email, 28),
    Column(_l("Check-in time"), lambda check_in: check_in.checked_in_at, 20),
    Column(_l("How"), lambda check_in: check_in.method.title, 20),
]


def attendance_bytes(event: Event) -> bytes:
    """The event's attendance list as a workbook; imported rows say so in the last column."""
    return workbook_bytes(_l("Attendance"), ATTENDANCE_COLUMNS,
                          db.session.scalars(attendance_query(event).limit(EXPORT_MAX_ROWS)))
