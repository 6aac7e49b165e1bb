"""A released programme as the public pages show it and as files: an iCalendar file (a VEVENT
per talk and block, Asia/Shanghai), an Excel workbook and an A4 PDF in Chinese (WeasyPrint, a
CJK font), and the changes from one release to the next (a changelog, as pretalx keeps).

Everything here reads a ``ProgrammeVersion.programme`` (the frozen JSON of
``services.publishing.programme_snapshot``), never the live session: a draft edit made after
publishing shows nowhere until it is published. No query, no commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from icalendar import Calendar, vText
from icalendar import Event as CalendarEvent
from openpyxl import Workbook

from conference_app.core.excel import Column, save_workbook, write_sheet
from conference_app.core.timeutil import BEIJING
from conference_app.events.models import District
from conference_app.events.services.ical import PRODUCT_ID
from conference_app.report_sessions.models import Attendance, ProgrammeVersion, SlotKind

EXPORT_LOCALE = "zh_CN"  # the files are in Chinese, whoever downloads them
PDF_MIMETYPE = "application/pdf"
UID_DOMAIN = "capital-academic-platform"


# --- reading a released programme ------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    institution: str | None
    attendance: Attendance | None = None

    @property
    def remote(self) -> bool:
        return self.attendance == Attendance.REMOTE


@dataclass(frozen=True)
class Item:
    """One slot of the timetable, its times in Beijing time."""

    slot_id: int
    position: int
    kind: SlotKind
    minutes: int
    own_title: str | None
    starts_at: datetime
    ends_at: datetime
    result: Mapping[str, Any] | None  # a talk's result: title, journal, year, doi
    speaker: Person | None  # a talk's speaker; None: to be confirmed

    @property
    def title(self) -> str:
        """The slot's title, or its kind's name in the reader's language."""
        return self.own_title or self.kind.title

    @property
    def is_talk(self) -> bool:
        return self.kind == SlotKind.TALK


@dataclass(frozen=True)
class Programme:
    """A released programme, read: what the pages and files show."""

    session_id: int
    number: int
    published_at: datetime
    title_zh: str
    title_en: str | None
    description: str | None
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    district: District | None
    edition: int
    hosts: tuple[Mapping[str, Any], ...]
    co_hosts: tuple[Mapping[str, Any], ...]
    moderator: Person | None
    items: tuple[Item, ...]
    guests: tuple[Person, ...]

    @property
    def talks(self) -> list[Item]:
        return [item for item in self.items if item.is_talk]

    @property
    def speakers(self) -> list[Person]:
        return [item.speaker for item in self.talks if item.speaker is not None]

    @property
    def place(self) -> str:
        """The venue and its district of Beijing, in the reader's language."""
        area = f"{_('Beijing')} {self.district.title}" if self.district else _("Beijing")
        return " · ".join(part for part in (self.venue, area) if part)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(BEIJING)


def _person(data: Mapping[str, Any] | None) -> Person | None:
    if not data:
        return None
    attendance = data.get("attendance")
    return Person(data["name"], data.get("institution"), Attendance(attendance) if attendance else None)


def read_programme(version: ProgrammeVersion) -> Programme:
    """The release ``version`` of a session's programme, read from its frozen JSON."""
    data = version.programme
    items = tuple(Item(
        slot_id=slot["slot_id"], position=slot["position"], kind=SlotKind(slot["kind"]), minutes=slot["minutes"],
        own_title=slot["title"], starts_at=_moment(slot["starts_at"]), ends_at=_moment(slot["ends_at"]),
        result=slot["result"], speaker=_person(slot["speaker"])) for slot in data["slots"])
    return Programme(
        session_id=version.session_id, number=version.number, published_at=version.created_at.astimezone(BEIJING),
        title_zh=data["title_zh"], title_en=data.get("title_en"), description=data.get("description"),
        starts_at=_moment(data["starts_at"]), ends_at=_moment(data["ends_at"]), venue=data.get("venue"),
        district=District(data["district"]) if data.get("district") else None, edition=data["edition"],
        hosts=tuple(data.get("hosts", ())), co_hosts=tuple(data.get("co_hosts", ())),
        moderator=_person(data.get("moderator")), items=items,
        guests=tuple(_person(guest) for guest in data.get("guests", ())))


# --- the changelog ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseNote:
    """One release in the changelog: its number, when, and what changed since the one before
    (worded in the reader's language; empty for the first release)."""

    number: int
    published_at: datetime
    changes: list[str]


def _span(start: datetime, end: datetime) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


def _day_span(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def _speaker_name(item: Item) -> str:
    return item.speaker.name if item.speaker is not None else _("to be confirmed")


def changes_between(before: Programme, after: Programme) -> list[str]:
    """What a visitor of the earlier release should know about the later one, one sentence each."""
    found = []
    if (before.starts_at, before.ends_at) != (after.starts_at, after.ends_at):
        found.append(_("The session is now held %(when)s (before: %(before)s).",
                       when=_day_span(after.starts_at, after.ends_at), before=_day_span(before.starts_at,
                                                                                        before.ends_at)))
    if before.place != after.place:
        found.append(_("The venue is now %(venue)s (before: %(before)s).", venue=after.place, before=before.place))
    if (before.moderator and before.moderator.name) != (after.moderator and after.moderator.name):
        found.append(_("Moderator: %(name)s.", name=after.moderator.name if after.moderator else _("none")))
    old = {item.slot_id: item for item in before.items}
    new = {item.slot_id: item for item in after.items}
    for item in after.items:
        earlier = old.get(item.slot_id)
        if earlier is None:
            found.append(_("New: %(title)s, %(time)s.", title=item.title, time=_span(item.starts_at, item.ends_at)))
            continue
        if earlier.title != item.title:
            found.append(_("Retitled: %(title)s (before: %(before)s).", title=item.title, before=earlier.title))
        if (earlier.starts_at, earlier.ends_at) != (item.starts_at, item.ends_at):
            found.append(_("Moved: %(title)s, now %(time)s (before: %(before)s).", title=item.title,
                           time=_span(item.starts_at, item.ends_at),
                           before=_span(earlier.starts_at, earlier.ends_at)))
        if item.is_talk and _speaker_name(earlier) != _speaker_name(item):
            found.append(_("%(title)s: speaker %(name)s (before: %(before)s).", title=item.title,
                           name=_speaker_name(item), before=_speaker_name(earlier)))
    for item in before.items:
        if item.slot_id not in new:
            found.append(_("Removed: %(title)s.", title=item.title))
    old_guests, new_guests = [guest.name for guest in before.guests], [guest.name for guest in after.guests]
    for name in new_guests:
        if name not in old_guests:
            found.append(_("New discussion guest: %(name)s.", name=name))
    for name in old_guests:
        if name not in new_guests:
            found.append(_("No longer a discussion guest: %(name)s.", name=name))
    return found or [_("Details of the programme were updated.")]


def changelog(versions: Sequence[ProgrammeVersion]) -> list[ReleaseNote]:
    """Every release of a programme, newest first, each with its changes since the one before."""
    read = [read_programme(version) for version in sorted(versions, key=lambda version: version.number)]
    notes = [ReleaseNote(programme.number, programme.published_at,
                         changes_between(read[index - 1], programme) if index else [])
             for index, programme in enumerate(read)]
    return notes[::-1]


# --- iCalendar ----------------------------------------------------------------------------------------


def _talk_description(item: Item) -> list[str]:
    lines = []
    if item.speaker is not None:
        speaker = item.speaker
        lines.append(" · ".join(part for part in (
            _("Speaker: %(name)s", name=speaker.name), speaker.institution,
            speaker.attendance.title if speaker.attendance else None) if part))
    else:
        lines.append(_("Speaker to be confirmed"))
    result = item.result or {}
    source = " · ".join(str(part) for part in (result.get("journal"), result.get("year")) if part)
    if source:
        lines.append(source)
    if result.get("doi"):
        lines.append(f"https://doi.org/{result['doi']}")
    return lines


def ics_bytes(programme: Programme, *, url: str, cancelled: bool = False) -> bytes:
    """The programme as an .ics file: one VEVENT per talk and block, in Beijing time (with the
    Asia/Shanghai VTIMEZONE), each with a UID that stays from one release to the next and the
    release number as its SEQUENCE (a calendar updates what it imported before)."""
    with force_locale(EXPORT_LOCALE):
        calendar = Calendar()
        calendar.add("prodid", PRODUCT_ID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", programme.title_zh)
        calendar.add("x-wr-timezone", "Asia/Shanghai")
        for item in programme.items:
            event = CalendarEvent()
            event.add("uid", f"report-session-{programme.session_id}-slot-{item.slot_id}@{UID_DOMAIN}")
            event.add("sequence", programme.number - 1)
            event.add("dtstamp", programme.published_at)
            event.add("dtstart", item.starts_at)
            event.add("dtend", item.ends_at)
            summary = item.title
            if item.is_talk and item.speaker is not None:
                summary = f"{item.title}（{item.speaker.name}）"
            event.add("summary", summary)
            if programme.venue:
                event.add("location", vText(programme.place))
            description = [programme.title_zh] + (_talk_description(item) if item.is_talk else [])
            event.add("description", "\n".join(description))
            event.add("url", url)
            event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
            calendar.add_component(event)
        calendar.add_missing_timezones()
        return calendar.to_ical()


# --- Excel ---------------------------------------------------------------------------------------------


def _attendance(person: Person | None) -> str:
    return person.attendance.title if person is not None and person.attendance else ""


TIMETABLE_COLUMNS = [
    Column(_l("Order in the programme"), lambda item: item.position, 6),
    Column(_l("Starts"), lambda item: item.starts_at, 18),
    Column(_l("Ends"), lambda item: item.ends_at, 18),
    Column(_l("Minutes"), lambda item: item.minutes, 8),
    Column(_l("Type"), lambda item: item.kind.title, 14),
    Column(_l("Title"), lambda item: item.title, 48),
    Column(_l("Speaker"), lambda item: item.speaker.name if item.speaker else
           (_("to be confirmed") if item.is_talk else ""), 14),
    Column(_l("Institution"), lambda item: (item.speaker.institution or "") if item.speaker else "", 30),
    Column(_l("Takes part"), lambda item: _attendance(item.speaker), 14),
    Column(_l("Journal"), lambda item: (item.result or {}).get("journal") or "", 28),
    Column(_l("Year"), lambda item: (item.result or {}).get("year"), 8),
    Column(_l("DOI"), lambda item: (item.result or {}).get("doi") or "", 26),
]

PEOPLE_COLUMNS = [
    Column(_l("Role"), lambda row: row[0], 14),
    Column(_l("Name"), lambda row: row[1].name, 16),
    Column(_l("Institution"), lambda row: row[1].institution or "", 36),
    Column(_l("Takes part"), lambda row: _attendance(row[1]), 14),
]

FACT_COLUMNS = [Column(_l("Entry"), lambda row: row[0], 16), Column(_l("Content"), lambda row: row[1], 70)]


def _organisations(organisations: Sequence[Mapping[str, Any]]) -> str:
    return "、".join(organisation["name_zh"] for organisation in organisations)


def _facts(programme: Programme) -> list[tuple[str, Any]]:
    rows = [(_("Report session"), programme.title_zh)]
    if programme.title_en:
        rows.append((_("English title"), programme.title_en))
    rows += [(_("When"), _day_span(programme.starts_at, programme.ends_at)), (_("Where"), programme.place),
             (_("Host"), _organisations(programme.hosts))]
    if programme.co_hosts:
        rows.append((_("Co-hosts"), _organisations(programme.co_hosts)))
    if programme.moderator:
        rows.append((_("Moderator"), " · ".join(part for part in (programme.moderator.name,
                                                                  programme.moderator.institution) if part)))
    rows += [(_("Academic Month"), _("Edition %(number)d", number=programme.edition)),
             (_("Programme version"), programme.number), (_("Published on"), programme.published_at)]
    return rows


def _people(programme: Programme) -> list[tuple[str, Person]]:
    rows = [(_("Moderator"), programme.moderator)] if programme.moderator else []
    rows += [(_("Speaker"), speaker) for speaker in programme.speakers]
    return rows + [(_("Discussion guest"), guest) for guest in programme.guests]


def xlsx_bytes(programme: Programme) -> bytes:
    """The programme as a workbook in Chinese: the session's facts, the timetable (Beijing
    times), and its people (moderator, speakers, guests)."""
    workbook = Workbook()
    with force_locale(EXPORT_LOCALE):
        write_sheet(workbook.active, _("Report session"), FACT_COLUMNS, _facts(programme))
        write_sheet(workbook.create_sheet(), _("Timetable"), TIMETABLE_COLUMNS, programme.items)
        write_sheet(workbook.create_sheet(), _("People"), PEOPLE_COLUMNS, _people(programme))
    return save_workbook(workbook)


# --- PDF -------------------------------------------------------------------------------------------------


def pdf_bytes(programme: Programme, *, url: str, cancelled: bool = False) -> bytes:
    """The programme as an A4 PDF in Chinese, in a CJK font (WenQuanYi Micro Hei, else Noto Sans CJK)."""
    from weasyprint import HTML

    with force_locale(EXPORT_LOCALE):
        html = render_template("report_sessions/public/programme_pdf.html", programme=programme, url=url,
                               cancelled=cancelled, organisations=_organisations)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()
