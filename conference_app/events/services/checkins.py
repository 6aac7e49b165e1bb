"""Checking people in: by the code of their QR image, or found by name or phone.

A check-in is an idempotent insert (``core.db.insert_ignore``): twice counts once, and
fifty scanners at once count fifty. It is audited only when a row was written.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from conference_app.audit.services import record, register_action_titles
from conference_app.core.db import contains_text, insert_ignore, utcnow
from conference_app.core.permissions import user_can
from conference_app.core.services import ServiceError
from conference_app.core.text import strip_nul
from conference_app.events.models import CheckIn, CheckInMethod, Event, EventStatus, Registration, RegistrationStatus
from conference_app.events.services.registrations import normalise_phone
from conference_app.extensions import db

SEARCH_LIMIT = 20

register_action_titles({"checkin.created": _l("Checked in")})


@dataclass(frozen=True)
class CheckInResult:
    """What a check-in did: ``status`` is "checked_in" or "already_checked_in"."""

    status: str
    registration: Registration
    checked_in: int  # the event's count after it


def checked_in_count(event_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.event_id == event_id))


def registration_by_code(code: str) -> Registration:
    """The registration of a scanned or typed code; ServiceError (404) for an unknown one."""
    code = strip_nul(code).upper().replace(" ", "")
    registration = db.session.scalar(select(Registration).where(Registration.code == code)) if code else None
    if registration is None:
        raise ServiceError(_("No registration has this code."), 404)
    return registration


def check_in(registration: Registration, *, actor, method: CheckInMethod, event: Event | None = None) -> CheckInResult:
    """Check a confirmed registration in at its event, once.

    ``event`` is the event the organiser is checking in for (a code of another event is
    refused); the actor must hold ``events.run`` on the registration's event.
    """
    target = registration.event
    # The right first: a code of an event the actor does not run says nothing about that event.
    if not user_can(actor, "events.run", target):
        raise ServiceError(_("You may not check people in for this event."), 403)
    if event is not None and target.id != event.id:
        raise ServiceError(_("This code is for another event: %(title)s.", title=target.title_zh), 409)
    if target.status not in (EventStatus.PUBLISHED, EventStatus.HELD):
        raise ServiceError(_("This event is not open for check-in."), 409)
    if registration.status == RegistrationStatus.WAITLISTED:
        raise ServiceError(_("%(name)s is on the waiting list, not confirmed.", name=registration.name), 409)
    if registration.status == RegistrationStatus.CANCELLED:
        raise ServiceError(_("%(name)s cancelled this registration.", name=registration.name), 409)
    inserted = insert_ignore(
        CheckIn,
        {"event_id": target.id, "registration_id": registration.id, "checked_in_at": utcnow(), "method": method,
         "by_user_id": getattr(actor, "id", None)},
        ["registration_id"],
    )
    if inserted:
        record("checkin.created", registration, details={"event_id": target.id, "method": method.value})
    return CheckInResult("checked_in" if inserted else "already_checked_in", registration, checked_in_count(target.id))


def find_registrations(event: Event, search: str) -> list[Registration]:
    """Registrations of an event whose name, phone, e-mail or code holds ``search`` (check-in by hand)."""
    search = strip_nul(search)
    if not search:
        return []
    phone = normalise_phone(search) or search
    query = (
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status != RegistrationStatus.CANCELLED)
        .where(or_(contains_text(Registration.name, search), contains_text(Registration.phone, phone),
                   contains_text(Registration.email, search), Registration.code == search.upper()))
        .order_by(Registration.name, Registration.id)
        .limit(SEARCH_LIMIT)
    )
    return list(db.session.scalars(query))
