"""The timetable, purely: times laid out from a start and durations, and the warnings of a
month of sessions. No database, no Flask: the services build the inputs and word the warnings.

Warnings (``TimetableWarning.code``):

- ``person_overlap``: one person in two sessions whose times overlap. A person is matched by
  account (both sides carry the same user id) or else by name and institution, each
  normalised (Unicode NFKC, case, spaces and punctuation ignored); ``matched_by`` says which.
  Two different user ids are two people, whatever their names.
- ``venue_overlap``: one venue (normalised the same way; a different district tells two
  venues apart) booked by two sessions at overlapping times.
- ``outside_edition``: a report session not held within its edition's Beijing dates.
- ``runs_over``: the timetable of a session ends after the session does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

MATCHED_BY_ACCOUNT = "account"
MATCHED_BY_NAME = "name_and_institution"

_IGNORED = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise(value: str | None) -> str:
    """``value`` for comparing: NFKC, case-folded, without spaces and punctuation."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", value or "").casefold())


# --- laying out ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One slot to lay out: ``key`` names it for the caller, ``kind`` is talk, qa, discussion, break."""

    key: Hashable
    kind: str
    minutes: int


@dataclass(frozen=True)
class TimedBlock:
    key: Hashable
    kind: str
    minutes: int
    starts_at: datetime
    ends_at: datetime


def lay_out(start: datetime, blocks: Iterable[Block]) -> list[TimedBlock]:
    """The blocks one after another from ``start``, in the order given."""
    timed, moment = [], start
    for block in blocks:
        if block.minutes < 1:
            raise ValueError(f"block {block.key!r} lasts {block.minutes} minutes")
        end = moment + timedelta(minutes=block.minutes)
        timed.append(TimedBlock(block.key, block.kind, block.minutes, moment, end))
        moment = end
    return timed


# --- people and bookings ---------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    institution: str | None = None
    user_id: int | None = None
    role: str | None = None  # what they do there (speaker, guest, moderator ...), for the message


def same_person(a: Person, b: Person) -> str | None:
    """How ``a`` and ``b`` are known to be one person (``MATCHED_BY_*``), or None."""
    if a.user_id is not None and b.user_id is not None:
        return MATCHED_BY_ACCOUNT if a.user_id == b.user_id else None
    if normalise(a.name) and normalise(a.name) == normalise(b.name) \
            and normalise(a.institution) == normalise(b.institution):
        return MATCHED_BY_NAME
    return None


@dataclass(frozen=True)
class Booking:
    """A session (or another event) at a time, in a venue, with its people.

    ``venue`` None means no room is booked (an online event). ``is_report_session`` marks
    the bookings whose edition dates are checked."""

    key: Hashable
    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str | None = None
    district: str | None = None
    people: tuple[Person, ...] = ()
    is_report_session: bool = False
    programme_ends_at: datetime | None = None  # a report session: when its timetable ends


def overlaps(a: Booking, b: Booking) -> bool:
    """The two bookings share some time (touching ends do not overlap)."""
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def same_venue(a: Booking, b: Booking) -> bool:
    if a.venue is None or b.venue is None or not normalise(a.venue):
        return False
    if a.district and b.district and a.district != b.district:
        return False
    return normalise(a.venue) == normalise(b.venue)


# --- warnings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimetableWarning:
    code: str
    bookings: tuple[Hashable, ...]  # the keys concerned, the checked session first
    person: Person | None = None
    other_person: Person | None = None
    matched_by: str | None = None
    venue: str | None = None


def find_warnings(
    bookings: Sequence[Booking],
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    zone: tzinfo | None = None,
    focus: Iterable[Hashable] | None = None,
) -> list[TimetableWarning]:
    """Every warning among ``bookings``; with ``focus``, only those involving a focused key
    (a session's page asks about itself). ``first_day``..``last_day`` are the edition's
    days in ``zone`` (Beijing), checked for the report sessions."""
    focused = set(focus) if focus is not None else {booking.key for booking in bookings}
    found: list[TimetableWarning] = []
    for index, a in enumerate(bookings):
        for b in bookings[index + 1:]:
            if (a.key not in focused and b.key not in focused) or not overlaps(a, b):
                continue
            first, second = (a, b) if a.key in focused else (b, a)
            if same_venue(first, second):
                found.append(TimetableWarning("venue_overlap", (first.key, second.key), venue=first.venue))
            found += _person_clashes(first, second)
    for booking in bookings:
        if booking.key not in focused or not booking.is_report_session:
            continue
        if first_day is not None and last_day is not None and zone is not None:
            if booking.starts_at.astimezone(zone).date() < first_day or booking.ends_at.astimezone(zone).date() > last_day:
                found.append(TimetableWarning("outside_edition", (booking.key,)))
        if booking.programme_ends_at is not None and booking.programme_ends_at > booking.ends_at:
            found.append(TimetableWarning("runs_over", (booking.key,)))
    return found


def _person_clashes(first: Booking, second: Booking) -> list[TimetableWarning]:
    clashes, seen = [], set()
    for person in first.people:
        for other in second.people:
            matched_by = same_person(person, other)
            identity = (person.user_id, normalise(person.name), normalise(person.institution))
            if matched_by and identity not in seen:
                seen.add(identity)
                clashes.append(TimetableWarning("person_overlap", (first.key, second.key), person=person, other_person=other,
                                       matched_by=matched_by))
    return clashes
