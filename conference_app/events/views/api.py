"""The versioned JSON API (``/api/v1``) for scanner devices and partner sites; ``docs/api.md``
documents it, and ``GET /api/v1/openapi.json`` is its OpenAPI document, generated from the
operations the views declare (``core.api``).

Public: the listed events (published, held and cancelled, never drafts) with their counts,
and registering for one. With a bearer token of scope ``checkin``: checking a registration
code in, as the token's user (staff for any event, a society's users for the events their
organisation holds). Cookies are never read here (the blueprint is CSRF-exempt). Every
error is JSON, ``{"error": {"status": ..., "message": ...}}``, with a 4xx status
(``core.errors``); a refused request writes nothing. The argument readers below are shared
by the other domains' API views.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from conference_app.accounts.models import TokenScope
from conference_app.accounts.tokens import token_scope, view_token_scope
from conference_app.core.api import (
    BeijingDateTime,
    ErrorBody,
    OpenApiDocument,
    Text,
    api_operation,
    model_response,
    openapi_document,
)
from conference_app.core.db import MAX_PAGE, column_length, utcnow
from conference_app.core.i18n import select_locale
from conference_app.core.permissions import public, requires
from conference_app.core.services import ServiceError
from conference_app.core.text import strip_nul
from conference_app.events.models import (
    CheckInMethod,
    Event,
    EventKind,
    EventStatus,
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
# A request body is one small JSON object: anything bigger is refused before it is read.
MAX_BODY_BYTES = 16 * 1024
# The public sees every event that was announced, cancelled ones included; drafts never.
LISTED_STATUSES = (EventStatus.PUBLISHED, EventStatus.HELD, EventStatus.CANCELLED)
FLAG_VALUES = {"1": True, "true": True, "0": False, "false": False, "": False}
DOCUMENT_DESCRIPTION = (
    "The JSON API v1 of the Capital Academic Platform, generated from the code's own schemas; "
    "docs/api.md explains it with examples. Errors are always JSON, `{\"error\": {\"status\", \"message\"}}`; "
    "every address answers 405 with `Allow` for a method it does not take. Times are Beijing time "
    "with the offset. A request that is refused writes nothing."
)

Body = TypeVar("Body", bound=BaseModel)


@api_blueprint.before_request
def limit_body_size():
    request.max_content_length = MAX_BODY_BYTES


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


class TextMembers(BaseModel):
    """A body of text members: each a JSON string or null; members not listed are ignored."""

    model_config = ConfigDict(strict=True)


def _at_most(model: type, name: str) -> dict[str, int]:
    """The column's length, for the document only: the registration's rules check it with their own message."""
    return {"maxLength": column_length(model, name)}


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


# --- reading what the client sent -------------------------------------------------------------


def json_object() -> dict[str, Any]:
    """The request body as a JSON object; a 400 ServiceError for anything else."""
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
        body = None
    if not isinstance(body, dict):
        raise ServiceError(_("The request body must be a JSON object, for example {\"code\": \"...\"}."))
    return body


def text_body(model: type[Body]) -> Body:
    """The body's members of ``model`` (a ``TextMembers``), each text or null; the first that is
    not is a 400 naming it."""
    try:
        return model.model_validate(json_object())
    except ValidationError as error:
        raise ServiceError(_("The field %(field)s must be text.", field=error.errors()[0]["loc"][0])) from None


def flag_argument(name: str) -> bool:
    value = request.args.get(name, "").strip().lower()
    if value not in FLAG_VALUES:
        raise ServiceError(_("The parameter %(name)s must be 1 or 0.", name=name))
    return FLAG_VALUES[value]


def page_argument() -> int:
    value = request.args.get("page", "1").strip()
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise ServiceError(_("The parameter page must be a whole number from 1 to %(max)d.", max=MAX_PAGE))
    return int(value)


def text_argument(name: str, max_length: int) -> str | None:
    """A text parameter (None when absent or empty); longer than ``max_length`` is a 400."""
    value = strip_nul(request.args.get(name, "")).strip()
    if len(value) > max_length:
        raise ServiceError(_("The parameter %(name)s must be at most %(max)d characters.", name=name, max=max_length))
    return value or None


def choice_argument(name: str, choices: Iterable[str]) -> str | None:
    """One of ``choices`` (None when absent or empty); anything else is a 400 listing them."""
    value = request.args.get(name, "").strip()
    choices = list(choices)
    if value and value not in choices:
        raise ServiceError(_("The parameter %(name)s must be one of: %(choices)s.", name=name,
                             choices=", ".join(choices)))
    return value or None


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
