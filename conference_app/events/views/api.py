"""The versioned JSON API (``/api/v1``) for scanner devices and partner sites; ``docs/api.md``
documents it, and ``GET /api/v1/openapi.json`` is its OpenAPI document, generated from the
operations the views declare (``core.api``).

Public: the listed events (published, held and cancelled, never drafts) with their counts,
each one's programme (agenda and people), and registering for one. With a bearer token of scope ``checkin``: checking a registration
code in, as the token's user (staff for any event, a society's users for the events their
organisation holds). Cookies are never read here (the blueprint is CSRF-exempt). Every
error is JSON, ``{"error": {"status": ..., "message": ...}}``, with a 4xx status
(``core.errors``); a refused request writes nothing. The blueprint, the body limit and the
argument readers are ``core.api``'s, shared by every domain's API views.
"""

from __future__ import annotations

from typing import Literal

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field
from sqlalchemy import select

from conference_app.accounts.models import TokenScope
from conference_app.accounts.tokens import token_scope, view_token_scope
from conference_app.core.api import (
    BeijingDateTime,
    ErrorBody,
    OpenApiDocument,
    Text,
    TextMembers,
    api_operation,
    flag_argument,
    model_response,
    openapi_document,
    page_argument,
    text_body,
)
from conference_app.core.db import MAX_PAGE, column_length, utcnow
from conference_app.core.i18n import select_locale
from conference_app.core.permissions import public, requires
from conference_app.core.services import ServiceError
from conference_app.events.models import (
    CheckInMethod,
    Event,
    EventKind,
    EventStatus,
    PersonRole,
    Registration,
    RegistrationSource,
    RegistrationStatus,
)
from conference_app.events.services import checkins, registrations
from conference_app.events.views import api_blueprint
from conference_app.extensions import db, login_manager

# No login page for the API: a request without a valid token is a 401 (in JSON, core.errors).
login_manager.blueprint_login_views[api_blueprint.name] = None

EVENTS_PER_PAGE = 50
# The public sees every event that was announced, cancelled ones included; drafts never.
LISTED_STATUSES = (EventStatus.PUBLISHED, EventStatus.HELD, EventStatus.CANCELLED)
DOCUMENT_DESCRIPTION = (
    "The JSON API v1 of the Capital Academic Platform, generated from the code's own schemas; "
    "docs/api.md explains it with examples. Errors are always JSON, `{\"error\": {\"status\", \"message\"}}`; "
    "every address answers 405 with `Allow` for a method it does not take. Times are Beijing time "
    "with the offset. A request that is refused writes nothing."
)

# --- the models of what the API takes and answers -------------------------------------------------


class EventListQuery(BaseModel):
    upcoming: bool = Field(False, description="Only the events that have not ended (`1` or `true`; `0` or `false`: all).")
    page: int = Field(1, ge=1, le=MAX_PAGE, description="The page, 50 events a page; one past the last has none.")


class EventObject(BaseModel):
    """A listed event with its counts."""

    id: int
    title_zh: str
    title_en: str | None
    kind: EventKind
    status: Literal[tuple(status.value for status in LISTED_STATUSES)]
    starts_at: BeijingDateTime
    ends_at: BeijingDateTime
    capacity: int | None = Field(description="Places, or null for no limit.")
    confirmed: int = Field(description="Registrations with a place.")
    waitlisted: int = Field(description="Registrations on the waiting list.")
    checked_in: int = Field(description="People checked in (each registration once).")


class EventPage(BaseModel):
    events: list[EventObject]
    page: int
    per_page: int
    total: int


def _at_most(model: type, name: str) -> dict[str, int]:
    """The column's length, for the document only: the registration's rules check it with their own message."""
    return {"maxLength": column_length(model, name)}


class ProgrammePerson(BaseModel):
    """A person on the programme, as the event's public page shows them (never a contact)."""

    role: PersonRole
    name: str
    organisation: str | None
    title: str | None = Field(description="职称 / position.")
    is_leading_figure: bool = Field(description="A leading figure (领军人物) of the field.")
    is_keynote: bool = Field(description="Gives a keynote (主旨报告).")
    talk_title: str | None
    talk_minutes: int | None
    on_site: bool = Field(description="false: joins online.")


class Programme(BaseModel):
    """A listed event's published programme: its agenda and the people on it, in their order."""

    event_id: int
    title_zh: str
    starts_at: BeijingDateTime
    ends_at: BeijingDateTime
    venue: str | None
    agenda: str | None = Field(description="The agenda as the organiser wrote it (plain text).")
    people: list[ProgrammePerson]


class RegistrationRequest(TextMembers):
    name: Text | None = Field(None, description="Required.", json_schema_extra=_at_most(Registration, "name"))
    organisation: Text | None = Field(None, json_schema_extra=_at_most(Registration, "organisation"))
    title: Text | None = Field(None, description="职称 / position.", json_schema_extra=_at_most(Registration, "title"))
    phone: Text | None = Field(None, description="A mainland mobile number; `phone` or `email` is required.")
    email: Text | None = Field(None, description="An e-mail address.")


class RegistrationCreated(BaseModel):
    code: str = Field(description="The registration code (what the QR image carries and check-in takes).")
    status: Literal[RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITLISTED.value]


class CheckInRequest(TextMembers):
    code: Text | None = Field(None, description="The registration code; case and spaces do not matter.")


class CheckInResult(BaseModel):
    status: Literal["checked_in", "already_checked_in"]
    event_id: int
    checked_in: int = Field(description="The event's check-in count after this request.")


# --- what the API answers -------------------------------------------------------------------


def _event_object(event: Event, counts: registrations.Counts) -> EventObject:
    return EventObject(
        id=event.id, title_zh=event.title_zh, title_en=event.title_en, kind=event.kind, status=event.status.value,
        starts_at=event.starts_at, ends_at=event.ends_at, capacity=event.capacity,
        confirmed=counts.confirmed, waitlisted=counts.waitlisted, checked_in=counts.checked_in,
    )


def _listed_event(event_id: int) -> Event:
    """A listed event; a 404 for a draft or a missing one (a draft is nobody's business yet)."""
    event = db.session.get(Event, event_id)
    if event is None or event.status not in LISTED_STATUSES:
        raise ServiceError(_("There is no published event with the number %(id)d.", id=event_id), 404)
    return event


# --- routes ---------------------------------------------------------------------------------


@api_blueprint.get("/openapi.json")
@api_operation(summary="This OpenAPI document", responses={200: OpenApiDocument}, tags=["meta"])
@public
def openapi():
    document = openapi_document(current_app, scope_of=view_token_scope, description=DOCUMENT_DESCRIPTION)
    return model_response(OpenApiDocument.model_validate(document))


@api_blueprint.get("/events")
@api_operation(summary="The listed events by start time", query=EventListQuery, responses={200: EventPage},
               tags=["events"], description="Published, held and cancelled events (never drafts), 50 a page.")
@public
def events():
    """Listed events by start time, EVENTS_PER_PAGE a page; ``upcoming=1`` only those not ended."""
    arguments = EventListQuery(upcoming=flag_argument("upcoming"), page=page_argument())
    query = select(Event).where(Event.status.in_(LISTED_STATUSES)).order_by(Event.starts_at, Event.id)
    if arguments.upcoming:
        query = query.where(Event.ends_at > utcnow())
    page = db.paginate(query, page=arguments.page, per_page=EVENTS_PER_PAGE, error_out=False)
    counts = registrations.counts([event.id for event in page.items])
    return model_response(EventPage(events=[_event_object(event, counts[event.id]) for event in page.items],
                                    page=arguments.page, per_page=EVENTS_PER_PAGE, total=page.total))


@api_blueprint.get("/events/<id:event_id>")
@api_operation(summary="One listed event", responses={200: EventObject}, tags=["events"],
               description="A draft or a missing event is a 404.")
@public
def event(event_id: int):
    found = _listed_event(event_id)
    return model_response(_event_object(found, registrations.counts([found.id])[found.id]))


@api_blueprint.get("/events/<id:event_id>/programme")
@api_operation(summary="A listed event's programme", responses={200: Programme}, tags=["events"],
               description="The agenda and the speakers, chairs, guests and discussants in their order; a draft "
                           "or a missing event is a 404.")
@public
def programme(event_id: int):
    found = _listed_event(event_id)
    people = [ProgrammePerson.model_validate({name: getattr(person, name) for name in ProgrammePerson.model_fields})
              for person in found.people]
    return model_response(Programme(event_id=found.id, title_zh=found.title_zh, starts_at=found.starts_at,
                                    ends_at=found.ends_at, venue=found.venue, agenda=found.agenda, people=people))


@api_blueprint.post("/events/<id:event_id>/registrations")
@api_operation(summary="Register someone for an event", request=RegistrationRequest,
               responses={201: RegistrationCreated, 409: ErrorBody}, tags=["registrations"],
               description="The rules of the event's registration form; the place is confirmed, or on the "
                           "waiting list when the event is full. 409: registered already, or the event is over, "
                           "cancelled, held or closed for registration.")
@public
def register(event_id: int):
    """Register someone: 201 with the code and whether the place is confirmed or waitlisted."""
    found = _listed_event(event_id)
    fields = text_body(RegistrationRequest).model_dump()
    registration = registrations.register(found, fields, source=RegistrationSource.API, locale=select_locale())
    return model_response(RegistrationCreated(code=registration.code, status=registration.status.value), 201)


@api_blueprint.post("/checkins")
@api_operation(summary="Check a registration code in", request=CheckInRequest,
               responses={200: CheckInResult, 404: ErrorBody, 409: ErrorBody}, tags=["check-ins"],
               description="Idempotent: the same code again changes nothing and says `already_checked_in`. "
                           "404: no registration has the code; 409: waitlisted or cancelled, or the event is "
                           "not open for check-in.")
@requires("events.run")
@token_scope(TokenScope.CHECKIN)
def checkin():
    """Check a registration code in as the token's user; checking it in again changes nothing."""
    code = text_body(CheckInRequest).code
    if not code:
        raise ServiceError(_("Send the registration code as {\"code\": \"...\"}."))
    registration = checkins.registration_by_code(code)
    result = checkins.check_in(registration, actor=current_user._get_current_object(), method=CheckInMethod.API)
    return model_response(CheckInResult(status=result.status, event_id=registration.event_id,
                                        checked_in=result.checked_in))
