"""The public notice (立项公示) of a call's approved projects: published for a period, open to
written objections (signed, confidential, handled by staff), then concluded, which sends the
projects on to their task agreements."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from conference_app.audit.models import AuditEntry
from conference_app.audit.services import client_ip, record, register_action_titles, register_object_type_titles
from conference_app.core.db import column_length, lock, utcnow
from conference_app.core.services import ServiceError
from conference_app.core.text import clean_text
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.programs.models import Application, ApplicationStatus, Call, Notice, Objection
from conference_app.programs.services import messages
from conference_app.programs.services.agreements import assign_agreement_number
from conference_app.programs.workflow import APPLICATION

register_object_type_titles({"Notice": _l("Public notice"), "Objection": _l("Objection")})
register_action_titles({
    "notice.published": _l("Public notice published"),
    "notice.concluded": _l("Public notice concluded"),
    "objection.received": _l("Objection received"),
    "objection.handled": _l("Objection handled"),
})


def publish_notice(call: Call, fields: Mapping[str, Any], *, actor) -> Notice:
    """Put every approved application of ``call`` on a public notice from start to end."""
    starts_on, ends_on = fields.get("starts_on"), fields.get("ends_on")
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise ServiceError(_("Please give the first and the last day of the notice."))
    if ends_on < starts_on:
        raise ServiceError(_("The last day cannot come before the first."))
    title = clean_text(fields.get("title"), _l("Title"), max_length=column_length(Notice, "title"), required=True)
    body = clean_text(fields.get("body"), _l("Text"), max_length=20000)
    approved = list(db.session.scalars(select(Application).where(
        Application.call_id == call.id, Application.status == ApplicationStatus.APPROVED).order_by(
        Application.category_id, Application.id)))
    if not approved:
        raise ServiceError(_("No approved project of this call waits for a public notice."), 409)
    notice = Notice(call_id=call.id, title=title, body=body, starts_on=starts_on, ends_on=ends_on,
                    application_ids=[a.id for a in approved])
    db.session.add(notice)
    db.session.flush()
    for application in approved:
        APPLICATION.apply(application, "publish_notice", actor=actor, details={"notice_id": notice.id})
    record("notice.published", notice, actor=actor,
           details={"call": call.code, "projects": len(approved), "starts_on": starts_on.isoformat(),
                    "ends_on": ends_on.isoformat()})
    return notice


def notice_of(application: Application) -> Notice | None:
    notices = db.session.scalars(select(Notice).where(Notice.call_id == application.call_id)
                                 .order_by(Notice.id.desc()))
    return next((notice for notice in notices if application.id in notice.application_ids), None)


def _open_objections(notice: Notice, application_id: int | None = None) -> list[Objection]:
    return [o for o in notice.objections if o.handled_at is None
            and (application_id is None or o.application_id in (None, application_id))]


def notice_refusal(application: Application) -> str | None:
    """Why the notice cannot be concluded for this project yet (the workflow's guard)."""
    notice = notice_of(application)
    if notice is None:
        return _("This project is not on a public notice.")
    if beijing_today() <= notice.ends_on:
        return _("The public notice runs until %(date)s.", date=notice.ends_on.isoformat())
    if _open_objections(notice, application.id):
        return _("An objection to this notice is not handled yet.")
    return None


def conclude_notice(notice: Notice, *, actor) -> list[Application]:
    """After the notice's last day, with every objection handled, its projects go on to their
    task agreements (each gets its agreement number); projects whose approval an objection
    withdrew have left the notice already."""
    if notice.concluded_at is not None:
        raise ServiceError(_("This notice is concluded already."), 409)
    if beijing_today() <= notice.ends_on:
        raise ServiceError(_("The public notice runs until %(date)s.", date=notice.ends_on.isoformat()), 409)
    if _open_objections(notice):
        raise ServiceError(_("An objection to this notice is not handled yet."), 409)
    moved = []
    for application in db.session.scalars(select(Application).where(Application.id.in_(notice.application_ids))
                                          .order_by(Application.id)):
        if application.status == ApplicationStatus.IN_NOTICE:
            APPLICATION.apply(application, "conclude_notice", actor=actor, details={"notice_id": notice.id})
            assign_agreement_number(application)
            messages.tell_applicant(application, "agreement")
            moved.append(application)
    notice.concluded_at = utcnow()
    record("notice.concluded", notice, actor=actor, details={"projects": [a.id for a in moved]})
    return moved


def withdraw_approval(application: Application, *, actor, comment: str | None) -> None:
    """An objection upheld: the project leaves the notice, not approved."""
    APPLICATION.apply(application, "withdraw_approval", actor=actor, comment=comment)
    application.tranches[:] = []
    messages.tell_applicant(application, "approval_withdrawn", comment)


def public_notices() -> list[Notice]:
    return list(db.session.scalars(select(Notice).options(selectinload(Notice.call))
                                   .order_by(Notice.starts_on.desc(), Notice.id.desc())))


def notice_projects(notice: Notice) -> list[Application]:
    """The projects a notice lists, by category, with their organisations."""
    return list(db.session.scalars(
        select(Application).where(Application.id.in_(notice.application_ids))
        .options(selectinload(Application.organisation), selectinload(Application.category))
        .order_by(Application.category_id, Application.id)))


def is_open(notice: Notice, today: date | None = None) -> bool:
    today = today or beijing_today()
    return notice.starts_on <= today <= notice.ends_on and notice.concluded_at is None


OBJECTION_IP_MAX = 5  # objections from one client address ...
OBJECTION_WINDOW_MINUTES = 60  # ... per this many minutes


def _check_objection_rate() -> None:
    """One client address sends at most OBJECTION_IP_MAX objections per OBJECTION_WINDOW_MINUTES
    (429), counted from the audit log, so a script cannot bury staff in objections."""
    ip_address = client_ip()
    if not ip_address:
        return
    lock(f"objection-address:{ip_address}")
    sent = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "objection.received", AuditEntry.ip_address == ip_address,
        AuditEntry.created_at >= utcnow() - timedelta(minutes=OBJECTION_WINDOW_MINUTES)))
    if sent >= OBJECTION_IP_MAX:
        raise ServiceError(_("Too many objections from your network. Please try again later."), 429)


def submit_objection(notice: Notice, fields: Mapping[str, Any]) -> Objection:
    """A signed written objection, received while the notice is open; only staff read it."""
    _check_objection_rate()
    if not is_open(notice):
        raise ServiceError(_("Objections are received while the notice is open (%(start)s to %(end)s).",
                             start=notice.starts_on.isoformat(), end=notice.ends_on.isoformat()), 409)
    application_id = fields.get("application_id") or None
    if application_id is not None and application_id not in notice.application_ids:
        raise ServiceError(_("Please choose a project of this notice."))
    objection = Objection(
        notice_id=notice.id, application_id=application_id,
        name=clean_text(fields.get("name"), _l("Your name"), max_length=column_length(Objection, "name"),
                        required=True),
        contact=clean_text(fields.get("contact"), _l("How to reach you"),
                           max_length=column_length(Objection, "contact"), required=True),
        text=clean_text(fields.get("text"), _l("Objection"), max_length=5000, required=True),
    )
    db.session.add(objection)
    db.session.flush()
    record("objection.received", objection, details={"notice_id": notice.id, "application_id": application_id})
    return objection


def handle_objection(objection: Objection, resolution: str | None, *, actor) -> None:
    if objection.handled_at is not None:
        raise ServiceError(_("This objection is handled already."), 409)
    objection.resolution = clean_text(resolution, _l("Resolution"), max_length=5000, required=True)
    objection.handled_at, objection.handled_by_id = utcnow(), actor.id
    record("objection.handled", objection, actor=actor, comment=objection.resolution)
