"""The facts "which events did an organisation hold": declared past events and events held
through the platform, side by side, each saying where it comes from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from conference_app.core.db import utcnow
from conference_app.core.timeutil import beijing_date
from conference_app.events.models import Event, EventKind, EventOrganisation, EventStatus
from conference_app.extensions import db
from conference_app.organisations.models import Organisation, PastEventKind, PastEventRole
from conference_app.organisations.services import past_events

SOURCE_TITLES = {"declared": _l("Declared by the organisation"), "platform": _l("Held through the platform")}

# An event of the platform counts as the kind of declared event it is.
DECLARED_KIND = {
    EventKind.INTERNATIONAL: PastEventKind.INTERNATIONAL,
    EventKind.NATIONAL: PastEventKind.NATIONAL,
    EventKind.REGIONAL: PastEventKind.REGIONAL,
}


@dataclass(frozen=True)
class HeldEvent:
    """One event an organisation held, whichever record it comes from."""

    source: str  # "declared" (PastEvent) or "platform" (Event)
    year: int
    kind: PastEventKind
    title: str
    role: PastEventRole
    in_beijing: bool
    past_event_id: int | None = None
    event_id: int | None = None

    @property
    def source_title(self) -> str:
        return str(SOURCE_TITLES[self.source])


def held_events(
    organisation: Organisation,
    kinds: Iterable[str] | None = None,
    since_year: int | None = None,
    until_year: int | None = None,
    roles: Iterable[str] | None = None,
    in_beijing: bool | None = None,
) -> list[HeldEvent]:
    """Every event the organisation held in ``roles`` (any when None), of ``kinds`` (the
    declared kinds: international, national, regional, other), in the years given, newest
    first. A platform event counts once it is held, or published and over; cancelled and
    draft events do not."""
    kinds = {str(kind) for kind in kinds} if kinds is not None else None
    roles_list = [str(role) for role in roles] if roles is not None else None
    found = [
        HeldEvent("declared", e.year, e.kind, e.title, e.role, e.held_in_beijing, past_event_id=e.id)
        for e in past_events(organisation, kinds=kinds, since_year=since_year, roles=roles_list, in_beijing=in_beijing)
        if until_year is None or e.year <= until_year
    ]
    query = (
        select(Event, EventOrganisation.role)
        .join(EventOrganisation, EventOrganisation.event_id == Event.id)
        .where(EventOrganisation.organisation_id == organisation.id)
        .where(or_(Event.status == EventStatus.HELD,
                   (Event.status == EventStatus.PUBLISHED) & (Event.ends_at <= utcnow())))
    )
    if roles_list is not None:
        query = query.where(EventOrganisation.role.in_(roles_list))
    if in_beijing is not None:
        query = query.where(Event.in_beijing.is_(in_beijing))
    for event, role in db.session.execute(query):
        kind = DECLARED_KIND.get(event.kind, PastEventKind.OTHER)
        year = beijing_date(event.starts_at).year
        if kinds is not None and kind not in kinds:
            continue
        if (since_year is not None and year < since_year) or (until_year is not None and year > until_year):
            continue
        found.append(HeldEvent("platform", year, kind, event.title_zh, role, event.in_beijing, event_id=event.id))
    return sorted(found, key=lambda held: (-held.year, held.source, held.title))
