"""The public side of events: what the Academic Month calendar shows, its filters and
full-text search, the week and month grids, and the event page's object.

The public sees published, held and cancelled events (cancelled ones marked as such),
never drafts. Every function here reads only; the pages issue the same number of SQL
statements whether a period holds three events or three hundred.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import joinedload, selectinload

from conference_app.core.db import contains_text, utcnow
from conference_app.core.text import strip_nul
from conference_app.core.timeutil import beijing_date, beijing_today, day_start
from conference_app.events.models import (
    AcademicMonthEdition,
    Event,
    EventOrganisation,
    EventPerson,
    EventStatus,
    SalonSeries,
)
from conference_app.events.services.events import current_edition
from conference_app.extensions import db
from conference_app.organisations.models import Organisation

PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.HELD, EventStatus.CANCELLED)
# The scopes besides one edition: every public event not over yet, whether it belongs to an
# edition or not (salon series run all year), and every public event.
UPCOMING, EVERYTHING = "upcoming", "all"
MAX_SEARCH_WORDS = 5
# A month of the large demo holds about a thousand events; this only bounds a pathological one.
GRID_ROW_LIMIT = 5000


@dataclass(frozen=True)
class Scope:
    """Which events the calendar covers: one edition, the upcoming ones, or all of them."""

    edition: AcademicMonthEdition | None = None
    upcoming: bool = False

    @property
    def value(self) -> str:
        """The scope as the calendar's ``edition=`` argument."""
        if self.edition is not None:
            return str(self.edition.number)
        return UPCOMING if self.upcoming else EVERYTHING

    def first_day(self, today: date) -> date:
        """The day a week or month view opens on: today, unless the edition lies elsewhere."""
        edition = self.edition
        if edition is not None and not edition.starts_on <= today <= edition.ends_on:
            return edition.starts_on
        return today


@dataclass(frozen=True)
class CalendarFilters:
    """The calendar's filters; None (or empty) means "any"."""

    scope: Scope
    discipline: str | None = None
    kind: str | None = None
    organisation: str | None = None  # (part of) the Chinese or English name of an organisation holding it
    district: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    search: str | None = None


@dataclass(frozen=True)
class GridEvent:
    """What a week or month cell shows of an event."""

    id: int
    title_zh: str
    title_en: str | None
    status: EventStatus
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class GridDay:
    """A day of a week or month grid with the events held on it."""

    day: date
    events: list[GridEvent]
    in_period: bool  # False for the days of the neighbouring months that fill a month grid's weeks


def editions() -> list[AcademicMonthEdition]:
    """Every Academic Month edition, the newest first."""
    return list(db.session.scalars(select(AcademicMonthEdition).order_by(AcademicMonthEdition.number.desc())))


def resolve_scope(value: str | None, known: list[AcademicMonthEdition]) -> Scope:
    """The scope an ``edition=`` argument names (an edition's number, "upcoming" or "all");
    by default, or for an unknown number, the edition running today, or the next one once it
    has public events, else the upcoming events."""
    if value == UPCOMING:
        return Scope(upcoming=True)
    if value == EVERYTHING:
        return Scope()
    by_number = {str(edition.number): edition for edition in known}
    if value in by_number:
        return Scope(edition=by_number[value])
    current = current_edition() if known else None
    if current is not None and _worth_showing(current):
        return Scope(edition=current)
    return Scope(upcoming=True)


def _worth_showing(edition: AcademicMonthEdition) -> bool:
    """An edition the calendar opens on: the one running today, or the next one once it has
    public events; between editions (the last one over, the next one still empty) a visitor
    sees what is coming instead."""
    today = beijing_today()
    if edition.starts_on <= today <= edition.ends_on:
        return True
    if edition.ends_on < today:
        return False
    return db.session.scalar(select(Event.id).where(
        Event.edition_id == edition.id, Event.status.in_(PUBLIC_STATUSES)).limit(1)) is not None


def organisations_with_public_events() -> list[tuple[int, str, str | None]]:
    """(id, Chinese name, English name) of the organisations holding a public event, by name."""
    holds_public_event = exists().where(
        EventOrganisation.organisation_id == Organisation.id,
        EventOrganisation.event_id == Event.id,
        Event.status.in_(PUBLIC_STATUSES),
    )
    rows = db.session.execute(
        select(Organisation.id, Organisation.name_zh, Organisation.name_en)
        .where(holds_public_event)
        .order_by(Organisation.name_zh)
    )
    return [tuple(row) for row in rows]


def search_words(text: str | None) -> list[str]:
    """The words of a search (spaces, including the full-width one, separate them)."""
    return (text or "").split()[:MAX_SEARCH_WORDS]


def _matches_word(word: str):
    """An event matches a word found in its titles, core topic or series, a person's name or
    talk title, or the name of one of its organisations (Chinese text is matched as typed)."""
    in_people = exists().where(
        EventPerson.event_id == Event.id,
        or_(contains_text(EventPerson.name, word), contains_text(EventPerson.talk_title, word)),
    )
    in_organisations = exists().where(
        EventOrganisation.event_id == Event.id,
        EventOrganisation.organisation_id == Organisation.id,
        or_(contains_text(Organisation.name_zh, word), contains_text(Organisation.name_en, word)),
    )
    in_series = exists().where(
        SalonSeries.id == Event.series_id,
        or_(contains_text(SalonSeries.title_zh, word), contains_text(SalonSeries.title_en, word)),
    )
    return or_(
        contains_text(Event.title_zh, word),
        contains_text(Event.title_en, word),
        contains_text(Event.core_topic, word),
        in_people,
        in_organisations,
        in_series,
    )


def _conditions(filters: CalendarFilters) -> list:
    conditions = [Event.status.in_(PUBLIC_STATUSES)]
    scope = filters.scope
    if scope.edition is not None:
        conditions.append(Event.edition_id == scope.edition.id)
    elif scope.upcoming:
        conditions.append(Event.ends_at > utcnow())
    if filters.discipline:
        conditions.append(Event.discipline == filters.discipline)
    if filters.kind:
        conditions.append(Event.kind == filters.kind)
    if filters.district:
        conditions.append(Event.district == filters.district)
    organisation = strip_nul(filters.organisation)
    if organisation:
        conditions.append(exists().where(
            EventOrganisation.event_id == Event.id, EventOrganisation.organisation_id == Organisation.id,
            or_(contains_text(Organisation.name_zh, organisation), contains_text(Organisation.name_en, organisation))))
    if filters.date_from:
        conditions.append(Event.ends_at > day_start(filters.date_from))
    if filters.date_to:
        conditions.append(Event.starts_at < day_start(filters.date_to + timedelta(days=1)))
    conditions.extend(_matches_word(word) for word in search_words(filters.search))
    return conditions


def calendar_query(filters: CalendarFilters) -> Select:
    """The public events the filters select, in time order, with their organisations loaded
    (for ``core.db.paginate``)."""
    return (
        select(Event)
        .where(and_(*_conditions(filters)))
        .options(selectinload(Event.organisations).joinedload(EventOrganisation.organisation))
        .order_by(Event.starts_at, Event.id)
    )


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of the month holding ``day``."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def grid(filters: CalendarFilters, first: date, last: date, *, whole_weeks: bool = False) -> list[list[GridDay]]:
    """The days from ``first`` to ``last`` in weeks (Monday first), each with the filtered
    events held on it; an event of several days is on each of them. ``whole_weeks`` pads the
    weeks with the neighbouring months' days (a month grid), which show no events."""
    start, end = week_of(first)[0] if whole_weeks else first, week_of(last)[1] if whole_weeks else last
    rows = db.session.execute(
        select(Event.id, Event.title_zh, Event.title_en, Event.status, Event.starts_at, Event.ends_at)
        .where(and_(*_conditions(filters)),
               Event.ends_at > day_start(first), Event.starts_at < day_start(last + timedelta(days=1)))
        .order_by(Event.starts_at, Event.id)
        .limit(GRID_ROW_LIMIT)
    )
    by_day: dict[date, list[GridEvent]] = defaultdict(list)
    for row in rows:
        item = GridEvent(*row)
        # An event ending at midnight does not spill into the next day.
        day = max(beijing_date(item.starts_at), first)
        until = min(beijing_date(item.ends_at - timedelta(seconds=1)), last)
        while day <= until:
            by_day[day].append(item)
            day += timedelta(days=1)
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    cells = [GridDay(day, by_day.get(day, []), first <= day <= last) for day in days]
    return [cells[index:index + 7] for index in range(0, len(cells), 7)]


def public_event(event_id: int) -> Event | None:
    """The event with everything its page shows loaded, if the public may see it (not a draft)."""
    return db.session.scalar(
        select(Event)
        .where(Event.id == event_id, Event.status.in_(PUBLIC_STATUSES))
        .options(
            selectinload(Event.organisations).joinedload(EventOrganisation.organisation),
            selectinload(Event.people),
            joinedload(Event.series),
            joinedload(Event.edition),
        )
    )


def edition_events(edition: AcademicMonthEdition) -> list[Event]:
    """The public events of an edition in time order, with their organisations (its ICS file)."""
    return list(db.session.scalars(
        select(Event)
        .where(Event.edition_id == edition.id, Event.status.in_(PUBLIC_STATUSES))
        .options(selectinload(Event.organisations).joinedload(EventOrganisation.organisation))
        .order_by(Event.starts_at, Event.id)
    ))
