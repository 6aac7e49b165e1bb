"""Registering for an event: capacity and waiting list, duplicates, codes and QR images,
confirmation mail with a cancel link; cancelling and promotion from the waiting list."""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import segno
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.audit.services import record, register_action_titles
from conference_app.core import mail
from conference_app.core.db import column_length, lock, utcnow
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text
from conference_app.core.tokens import TokenPurpose
from conference_app.events.models import (
    CheckIn,
    Event,
    EventStatus,
    Registration,
    RegistrationSource,
    RegistrationStatus,
)
from conference_app.events.workflow import REGISTRATION
from conference_app.extensions import db

# Crockford's base32 without the letters people misread (no I, L, O, U).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits: not to be guessed
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# The registrant's link to the registration page (QR code, cancel), bound to its code.
REGISTRATION_LINK = TokenPurpose("event-registration", max_age_seconds=400 * 24 * 3600)
# Registrations one client address may make per window (settings of the same names override
# them); generous, as a hall's visitors may share one address.
DEFAULT_REGISTRATION_IP_MAX = 30
DEFAULT_REGISTRATION_WINDOW_MINUTES = 60

register_action_titles({"registration.created": _l("Registered for an event")})


@dataclass(frozen=True)
class Counts:
    """How many people an event has: confirmed, on the waiting list, checked in."""

    confirmed: int = 0
    waitlisted: int = 0
    checked_in: int = 0


def normalise_phone(phone: str | None) -> str | None:
    """A mainland mobile number as 11 digits (spaces, hyphens and +86 removed), or None when empty."""
    digits = re.sub(r"[\s\-()]", "", phone or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
    return digits or None


def contact_details(phone: str | None, email: str | None) -> tuple[str | None, str | None]:
    """A mainland mobile number (11 digits) and a normalised e-mail address, at least one of
    them given; ServiceError saying what is wrong otherwise."""
    phone = normalise_phone(phone)
    if phone is not None and not _MOBILE.match(phone):
        raise ServiceError(_("Please enter a mainland mobile number of 11 digits (for example 13812345678)."))
    email = (email or "").strip() or None
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise ServiceError(_("Please enter a valid e-mail address.")) from None
        if len(email) > column_length(Registration, "email"):
            raise ServiceError(_("Please enter a valid e-mail address."))
    if phone is None and email is None:
        raise ServiceError(_("Please give a mobile number or an e-mail address."))
    return phone, email


def registration_closed(event: Event) -> str | None:
    """Why nobody can register for the event now, or None."""
    if event.status != EventStatus.PUBLISHED:
        return _("This event is not open for registration.")
    if event.ends_at <= utcnow():
        return _("This event is over; registration is closed.")
    if not event.registration_open:
        return _("Registration for this event is closed.")
    return None


def counts(event_ids: list[int]) -> dict[int, Counts]:
    """Counts of several events in two queries (list pages, the API)."""
    if not event_ids:
        return {}
    by_status = db.session.execute(
        select(Registration.event_id, Registration.status, func.count())
        .where(Registration.event_id.in_(event_ids))
        .group_by(Registration.event_id, Registration.status)
    ).all()
    checked = dict(db.session.execute(
        select(CheckIn.event_id, func.count()).where(CheckIn.event_id.in_(event_ids)).group_by(CheckIn.event_id)
    ).all())
    result = {}
    for event_id in event_ids:
        statuses = {status: number for e, status, number in by_status if e == event_id}
        result[event_id] = Counts(statuses.get(RegistrationStatus.CONFIRMED, 0),
                                  statuses.get(RegistrationStatus.WAITLISTED, 0), checked.get(event_id, 0))
    return result


def _confirmed(event: Event) -> int:
    return db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED))


def new_code() -> str:
    """A new random registration code (what the QR image carries)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _check_registration_rate(ip_address: str | None) -> None:
    """One client address registers at most EVENT_REGISTRATION_IP_MAX times (any events) per
    EVENT_REGISTRATION_WINDOW_MINUTES (429), counted from the audit log."""
    if not ip_address:
        return
    limit = current_app.config.get("EVENT_REGISTRATION_IP_MAX", DEFAULT_REGISTRATION_IP_MAX)
    window = current_app.config.get("EVENT_REGISTRATION_WINDOW_MINUTES", DEFAULT_REGISTRATION_WINDOW_MINUTES)
    lock(f"event-registration-address:{ip_address}")
    count = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "registration.created", AuditEntry.ip_address == ip_address,
        AuditEntry.created_at >= utcnow() - timedelta(minutes=window)))
    if count >= limit:
        raise ServiceError(_("Too many event registrations from your network. Please try again later."), 429)


def register(event: Event, fields: Mapping[str, Any], *, source: RegistrationSource = RegistrationSource.WEB,
             locale: str = "zh_CN", ip_address: str | None = None) -> Registration:
    """Register someone for a published, not yet ended event: confirmed while places are
    left, else on the waiting list. A second live registration with the same phone or
    e-mail is refused. The registrant is mailed the code, its QR image and a cancel link.
    With ``ip_address`` (the public pages), that client address's registrations are throttled."""
    closed = registration_closed(event)
    if closed:
        raise ServiceError(closed, 409)
    _check_registration_rate(ip_address)
    name = clean_text(fields.get("name"), _("Name"), max_length=column_length(Registration, "name"), required=True,
                      required_message=_("Please enter your name."))
    organisation = clean_text(fields.get("organisation"), _("Organisation"),
                              max_length=column_length(Registration, "organisation"))
    title = clean_text(fields.get("title"), _("Title"), max_length=column_length(Registration, "title"))
    phone, email = contact_details(fields.get("phone"), fields.get("email"))
    lock(f"event-registrations:{event.id}")  # places and duplicates are counted one registration at a time
    duplicate = db.session.scalar(select(Registration.id).where(
        Registration.event_id == event.id, Registration.status != RegistrationStatus.CANCELLED,
        (Registration.phone == phone) if phone else (Registration.email == email),
    ).limit(1))
    if duplicate is None and phone and email:
        duplicate = db.session.scalar(select(Registration.id).where(
            Registration.event_id == event.id, Registration.status != RegistrationStatus.CANCELLED,
            Registration.email == email).limit(1))
    if duplicate is not None:
        raise ServiceError(_("You are already registered for this event with this mobile number or e-mail address."),
                           409)
    full = event.capacity is not None and _confirmed(event) >= event.capacity
    registration = Registration(
        event=event, code=new_code(), name=name, organisation=organisation, title=title, phone=phone, email=email,
        status=RegistrationStatus.WAITLISTED if full else RegistrationStatus.CONFIRMED, source=source, locale=locale,
    )
    db.session.add(registration)
    flush({"phone": _l("You are already registered for this event with this mobile number or e-mail address."),
           "email": _l("You are already registered for this event with this mobile number or e-mail address."),
           "code": _l("Please try again.")})
    record("registration.created", registration, to_state=registration.status,
           details={"event_id": event.id, "source": source.value})
    _mail_registrant(registration, _l("Your registration"))
    return registration


def registration_token(registration: Registration) -> str:
    """The registrant's link token: the registration page with its QR code and cancel button."""
    return REGISTRATION_LINK.issue(registration.id, registration.code)


def _code_of(registration_id: int) -> str | None:
    registration = db.session.get(Registration, registration_id)
    return registration.code if registration is not None else None


def registration_for_token(token: str) -> Registration:
    """The registration a link names (in whatever state it is now); a 404 ServiceError otherwise."""
    registration_id = REGISTRATION_LINK.redeem(token, _code_of)
    if registration_id is None:
        raise ServiceError(_("This registration link is invalid."), 404)
    return db.session.get(Registration, registration_id)


def qr_png(code: str, scale: int = 8) -> bytes:
    """The QR image of a registration code, as PNG bytes.

    Always a full QR code (``micro=False``): a 10-character code would fit a Micro QR code,
    which phone cameras, messaging apps and JavaScript readers do not read."""
    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def qr_svg(code: str) -> str:
    """The QR image of a registration code, as inline SVG markup."""
    return segno.make(code, error="m", micro=False).svg_inline(scale=6, border=2, omitsize=True)  # scales with its box


def _mail_registrant(registration: Registration, subject) -> None:
    if not registration.email:
        return
    event = registration.event
    link = mail.public_url("events.registration", token=registration_token(registration))
    if registration.status == RegistrationStatus.CONFIRMED:
        state = _l("Your place is confirmed.")
    else:
        state = _l("The event is full: you are on the waiting list and will be told when a place frees up.")
    body = _l(
        "Hello %(name)s,\n\nyou registered for %(event)s (%(when)s, %(where)s).\n\n%(state)s\n\nYour registration "
        "code is %(code)s; show its QR code (attached, and on your registration page) at the entrance:\n\n%(link)s\n\n"
        "If you cannot come, cancel the registration on that page so that someone else can take the place.\n",
        name=registration.name, event=event.title_zh, when=_when(event), where=event.venue or _l("online"),
        state=state, code=registration.code, link=link,
    )
    message = mail.send_to(registration, subject, body)
    if registration.status == RegistrationStatus.CONFIRMED:
        message.add_attachment(qr_png(registration.code), maintype="image", subtype="png",
                               filename=f"{registration.code}.png")


def _when(event: Event) -> str:
    from conference_app.core.timeutil import BEIJING

    return event.starts_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def cancel(registration: Registration, *, by_organiser=None, comment: str | None = None) -> None:
    """Cancel a registration (the registrant's link, or an organiser with a reason); a freed
    place goes to the first person on the waiting list."""
    event = registration.event
    lock(f"event-registrations:{event.id}")
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    if by_organiser is None:
        REGISTRATION.apply(registration, "cancel", actor=None)
    else:
        REGISTRATION.apply(registration, "cancel_by_organiser", actor=by_organiser, comment=comment)
    registration.cancelled_at = utcnow()
    flush()
    if was_confirmed:
        fill_free_places(event)


def fill_free_places(event: Event) -> list[Registration]:
    """Promote people from the waiting list, first come first served, while places are free."""
    lock(f"event-registrations:{event.id}")
    waiting = list(db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.WAITLISTED)
        .order_by(Registration.id)
    ))
    if event.capacity is not None:
        waiting = waiting[: max(0, event.capacity - _confirmed(event))]
    for registration in waiting:
        REGISTRATION.apply(registration, "promote", actor=None)
        registration.promoted_at = utcnow()
        _mail_registrant(registration, _l("A place is free for you"))
    flush()
    return waiting


def notify_cancellation(event: Event, reason: str | None) -> None:
    """Tell everyone registered that the event is cancelled."""
    registrants = db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.status != RegistrationStatus.CANCELLED,
        Registration.email.is_not(None)))
    for registration in registrants:
        mail.send_to(registration, _l("The event is cancelled"), _l(
            "Hello %(name)s,\n\n%(event)s (%(when)s) is cancelled: %(reason)s\n\nWe are sorry for the trouble.\n",
            name=registration.name, event=event.title_zh, when=_when(event), reason=reason or ""))
