"""The versioned JSON API (``/api/v1``) for scanner devices and partner sites; ``docs/api.md``
documents it.

Public: the listed events (published, held and cancelled, never drafts) with their counts,
and registering for one. With a bearer token of scope ``checkin``: checking a registration
code in, as the token's user (staff for any event, a society's users for the events their
organisation holds). Cookies are never read here (the blueprint is CSRF-exempt). Every
error is JSON, ``{"error": {"status": ..., "message": ...}}``, with a 4xx status
(``core.errors``); a refused request writes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from conference_app.accounts.models import TokenScope
from conference_app.accounts.tokens import token_scope
from conference_app.core.db import MAX_PAGE, utcnow
from conference_app.core.errors import json_response
from conference_app.core.i18n import select_locale
from conference_app.core.permissions import public, requires
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import BEIJING
from conference_app.events.models import CheckInMethod, Event, EventStatus, RegistrationSource
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
REGISTRATION_FIELDS = ("name", "organisation", "title", "phone", "email")
FLAG_VALUES = {"1": True, "true": True, "0": False, "false": False, "": False}


@api_blueprint.before_request
def limit_body_size():
    request.max_content_length = MAX_BODY_BYTES


# --- reading what the client sent -------------------------------------------------------------


def _json_object() -> dict[str, Any]:
    """The request body as a JSON object; a 400 ServiceError for anything else."""
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
        body = None
    if not isinstance(body, dict):
        raise ServiceError(_("The request body must be a JSON object, for example {\"code\": \"...\"}."))
    return body


def _text_fields(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, str | None]:
    """The named members of ``body``, each text or null (others are ignored)."""
    for name in names:
        if not isinstance(body.get(name), (str, type(None))):
            raise ServiceError(_("The field %(field)s must be text.", field=name))
    return {name: body.get(name) for name in names}


def _flag(name: str) -> bool:
    value = request.args.get(name, "").strip().lower()
    if value not in FLAG_VALUES:
        raise ServiceError(_("The parameter %(name)s must be 1 or 0.", name=name))
    return FLAG_VALUES[value]


def _page() -> int:
    value = request.args.get("page", "1").strip()
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise ServiceError(_("The parameter page must be a whole number from 1 to %(max)d.", max=MAX_PAGE))
    return int(value)


# --- what the API answers -------------------------------------------------------------------


def _beijing_iso(moment: datetime) -> str:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def _event_object(event: Event, counts: registrations.Counts) -> dict[str, Any]:
    return {
        "id": event.id,
        "title_zh": event.title_zh,
        "title_en": event.title_en,
        "kind": event.kind.value,
        "status": event.status.value,
        "starts_at": _beijing_iso(event.starts_at),
        "ends_at": _beijing_iso(event.ends_at),
        "capacity": event.capacity,
        "confirmed": counts.confirmed,
        "waitlisted": counts.waitlisted,
        "checked_in": counts.checked_in,
    }


def _listed_event(event_id: int) -> Event:
    """A listed event; a 404 for a draft or a missing one (a draft is nobody's business yet)."""
    event = db.session.get(Event, event_id)
    if event is None or event.status not in LISTED_STATUSES:
        raise ServiceError(_("There is no published event with the number %(id)d.", id=event_id), 404)
    return event


# --- routes ---------------------------------------------------------------------------------


@api_blueprint.get("/events")
@public
def events():
    """Listed events by start time, EVENTS_PER_PAGE a page; ``upcoming=1`` only those not ended."""
    upcoming, page_number = _flag("upcoming"), _page()
    query = select(Event).where(Event.status.in_(LISTED_STATUSES)).order_by(Event.starts_at, Event.id)
    if upcoming:
        query = query.where(Event.ends_at > utcnow())
    page = db.paginate(query, page=page_number, per_page=EVENTS_PER_PAGE, error_out=False)
    counts = registrations.counts([event.id for event in page.items])
    return json_response({
        "events": [_event_object(event, counts[event.id]) for event in page.items],
        "page": page_number,
        "per_page": EVENTS_PER_PAGE,
        "total": page.total,
    })


@api_blueprint.get("/events/<id:event_id>")
@public
def event(event_id: int):
    found = _listed_event(event_id)
    return json_response(_event_object(found, registrations.counts([found.id])[found.id]))


@api_blueprint.post("/events/<id:event_id>/registrations")
@public
def register(event_id: int):
    """Register someone: 201 with the code and whether the place is confirmed or waitlisted."""
    found = _listed_event(event_id)
    fields = _text_fields(_json_object(), REGISTRATION_FIELDS)
    registration = registrations.register(found, fields, source=RegistrationSource.API, locale=select_locale())
    return json_response({"code": registration.code, "status": registration.status.value}, 201)


@api_blueprint.post("/checkins")
@requires("events.run")
@token_scope(TokenScope.CHECKIN)
def checkin():
    """Check a registration code in as the token's user; checking it in again changes nothing."""
    code = _text_fields(_json_object(), ("code",))["code"]
    if not code:
        raise ServiceError(_("Send the registration code as {\"code\": \"...\"}."))
    registration = checkins.registration_by_code(code)
    result = checkins.check_in(registration, actor=current_user._get_current_object(), method=CheckInMethod.API)
    return json_response({"status": result.status, "event_id": registration.event_id, "checked_in": result.checked_in})
