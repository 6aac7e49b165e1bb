"""Events as iCalendar files (RFC 5545) with the icalendar library, times in Asia/Shanghai.

``calendar_bytes(events, name)`` is used for one event, a salon series and an edition;
each VEVENT has a stable UID, the Beijing start and end with their VTIMEZONE, the venue,
the organisations and a link to the public event page.
"""

from __future__ import annotations

from collections.abc import Iterable

from icalendar import Calendar, vText
from icalendar import Event as CalendarEvent

from conference_app.core import mail
from conference_app.core.db import utcnow
from conference_app.core.timeutil import BEIJING
from conference_app.events.models import Event, EventStatus

PRODUCT_ID = "-//Beijing Association for Science and Technology//Capital Academic Platform//ZH"


def _vevent(event: Event) -> CalendarEvent:
    item = CalendarEvent()
    item.add("uid", f"event-{event.id}@capital-academic-platform")
    item.add("dtstamp", utcnow())
    item.add("dtstart", event.starts_at.astimezone(BEIJING))
    item.add("dtend", event.ends_at.astimezone(BEIJING))
    item.add("summary", event.title_zh + (f" / {event.title_en}" if event.title_en else ""))
    location = event.venue or (event.city if not event.in_beijing else None)
    if location:
        item.add("location", vText(location))
    organisations = "、".join(link.organisation.name_zh for link in event.organisations)
    description = [text for text in (organisations, event.description) if text]
    if description:
        item.add("description", "\n\n".join(description))
    item.add("url", mail.public_url("events.event_page", event_id=event.id))
    item.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    return item


def calendar_bytes(events: Iterable[Event], name: str) -> bytes:
    """An .ics file holding ``events`` (a calendar named ``name``)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    for event in events:
        calendar.add_component(_vevent(event))
    calendar.add_missing_timezones()
    return calendar.to_ical()
