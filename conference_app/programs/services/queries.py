"""Read-only queries of the applicants' and the public pages: a society's applications with
what their list shows, the open calls with their categories, an application's child rows
found within it, the events an organisation may count for a project. Nothing here writes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from conference_app.audit.models import AuditEntry
from conference_app.events.models import Event, EventOrganisation, EventStatus
from conference_app.extensions import db
from conference_app.programs.models import (
    Application,
    ApplicationAttachment,
    Call,
    CallStatus,
    CoOrganiser,
    PlannedEvent,
    ProjectEvent,
    ProjectRecord,
)

# The children of an application a page may name by id.
CHILD_MODELS = (PlannedEvent, CoOrganiser, ApplicationAttachment, ProjectEvent, ProjectRecord)


def society_applications(organisation_id: int) -> list[Application]:
    """The organisation's applications, newest first, with their calls and categories (the
    statements do not grow with the number of applications)."""
    return list(db.session.scalars(
        select(Application).where(Application.organisation_id == organisation_id)
        .options(selectinload(Application.call), selectinload(Application.category))
        .order_by(Application.created_at.desc(), Application.id.desc())))


def latest_comments(applications: list[Application], action: str = "application.returned") -> dict[int, str]:
    """For each application, the comment of its newest ``action`` entry (staff's words when
    they returned it for correction), in one query."""
    if not applications:
        return {}
    rows = db.session.execute(
        select(AuditEntry.object_id, AuditEntry.comment)
        .where(AuditEntry.object_type == "Application", AuditEntry.action == action,
               AuditEntry.object_id.in_([str(a.id) for a in applications]))
        .order_by(AuditEntry.created_at, AuditEntry.id))
    found: dict[int, str] = {}
    for object_id, comment in rows:
        if comment:
            found[int(object_id)] = comment  # the newest wins
    return found


def open_calls_with_categories(today: date) -> list[Call]:
    """Published calls whose window holds ``today``, their categories loaded."""
    return list(db.session.scalars(
        select(Call).where(Call.status == CallStatus.PUBLISHED, Call.opens_on <= today, Call.closes_on >= today)
        .options(selectinload(Call.categories)).order_by(Call.closes_on, Call.id)))


def child_of(application: Application, model: type, child_id: int):
    """The ``model`` row ``child_id`` if it belongs to ``application``, else None (a 404 for the page)."""
    if model not in CHILD_MODELS:
        raise ValueError(f"{model.__name__} is not a child of an application")
    child = db.session.get(model, child_id)
    if child is None or child.application_id != application.id:
        return None
    return child


def organisation_events(organisation_id: int) -> list[Event]:
    """The events the organisation holds in any role (not drafts or cancelled ones), newest
    first: what it may count for a project."""
    return list(db.session.scalars(
        select(Event).join(EventOrganisation, EventOrganisation.event_id == Event.id)
        .where(EventOrganisation.organisation_id == organisation_id,
               Event.status.in_([str(EventStatus.PUBLISHED), str(EventStatus.HELD)]))
        .order_by(Event.starts_at.desc(), Event.id.desc())))


def linked_events(application: Application) -> list[ProjectEvent]:
    """The events linked to the project, with the events loaded, by date."""
    return list(db.session.scalars(
        select(ProjectEvent).join(Event, Event.id == ProjectEvent.event_id)
        .where(ProjectEvent.application_id == application.id)
        .options(selectinload(ProjectEvent.event)).order_by(Event.starts_at, ProjectEvent.id)))
