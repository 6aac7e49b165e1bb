"""The public pages of report sessions, no login: the published sessions by edition, a
session's published programme (the latest release, never the draft) with its earlier
versions, its iCalendar file, Excel sheet and PDF, and the invitee's answer page reached by
the personal link of the invitation mail (the signed token is the right to it)."""

from __future__ import annotations

from io import BytesIO
from itertools import groupby

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from conference_app.core import mail
from conference_app.core.cache import public_pages
from conference_app.core.excel import xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import public
from conference_app.core.services import ServiceError
from conference_app.events.models import EventStatus
from conference_app.events.services.registrations import registration_closed
from conference_app.extensions import db
from conference_app.report_sessions import exports
from conference_app.report_sessions.models import (
    Attendance,
    InvitationStatus,
    ProgrammeVersion,
    ReportSession,
)
from conference_app.report_sessions.services import invitations
from conference_app.report_sessions.services.sessions import (
    latest_version,
    published_sessions,
    slot_title,
    version_of,
)
from conference_app.report_sessions.workflow import is_overdue

blueprint = Blueprint("report_sessions_public", __name__, url_prefix="/report-sessions")

NOTE_MAX_LENGTH = 2000


class AnswerForm(FlaskForm):
    """The invitee's answer: accept (on site or remotely) or decline, with a note."""

    attendance = RadioField(_l("How will you take part?"), choices=[
        SelectChoice(value, title) for value, title in Attendance.titles().items()], validate_choice=False)
    note = TextAreaField(_l("Message to the organisers (optional)"),
                         validators=[Length(max=NOTE_MAX_LENGTH, message=_l("At most %(max)d characters."))])
    accept = SubmitField(_l("Accept the invitation"))
    decline = SubmitField(_l("Decline"))


# --- the published sessions and their programmes ------------------------------------------------------


def _latest_versions(session_ids: list[int]) -> dict[int, ProgrammeVersion]:
    """The latest release of each session, in one query."""
    newest = (select(ProgrammeVersion.session_id, func.max(ProgrammeVersion.number).label("number"))
              .where(ProgrammeVersion.session_id.in_(session_ids)).group_by(ProgrammeVersion.session_id)
              .subquery())
    query = select(ProgrammeVersion).join(newest, (ProgrammeVersion.session_id == newest.c.session_id)
                                          & (ProgrammeVersion.number == newest.c.number))
    return {version.session_id: version for version in db.session.scalars(query)} if session_ids else {}


@blueprint.get("/", endpoint="index")
@public
def index():
    """The published report sessions, by Academic Month edition (the latest first), soonest first."""
    found = published_sessions()
    versions = _latest_versions([session.id for session in found])
    entries = sorted(((session, exports.read_programme(versions[session.id])) for session in found
                      if session.id in versions), key=lambda entry: (-entry[0].edition.number, entry[1].starts_at))
    editions = [(edition, list(group)) for edition, group in groupby(entries, key=lambda entry: entry[0].edition)]
    return render_template("report_sessions/public/index.html", editions=editions)


def _published(session_id: int) -> tuple[ReportSession, ProgrammeVersion]:
    """The session and its latest release; 404 for an unknown session or one never published."""
    session = db.session.get(ReportSession, session_id)
    version = latest_version(session) if session is not None else None
    if version is None:
        abort(404)
    return session, version


def _cancelled(session: ReportSession) -> bool:
    return session.event.status == EventStatus.CANCELLED


def _page_url(session: ReportSession) -> str:
    return mail.public_url("report_sessions_public.programme", session_id=session.id)


def _render_programme(session: ReportSession, shown: ProgrammeVersion, current: ProgrammeVersion):
    return render_template(
        "report_sessions/public/programme.html", session=session, programme=exports.read_programme(shown),
        notes=exports.changelog(session.versions), is_current=shown.number == current.number,
        current_number=current.number, cancelled=_cancelled(session),
        registration_open=registration_closed(session.event) is None)


@blueprint.get("/<id:session_id>", endpoint="programme")
@public
def programme(session_id: int):
    """The session's published programme, and the list of its releases."""
    session, version = _published(session_id)
    return _render_programme(session, version, version)


@blueprint.get("/<id:session_id>/versions/<id:number>", endpoint="version")
@public
def version(session_id: int, number: int):
    """An earlier (or the current) release of the programme, as it was published."""
    session, current = _published(session_id)
    return _render_programme(session, version_of(session, number), current)


@blueprint.get("/<id:session_id>.ics", endpoint="programme_ics")
@public
def programme_ics(session_id: int):
    """The published programme as an iCalendar file: one entry per talk and block."""
    session, version = _published(session_id)
    data = exports.ics_bytes(exports.read_programme(version), url=_page_url(session), cancelled=_cancelled(session))
    return send_file(BytesIO(data), mimetype="text/calendar", as_attachment=True,
                     download_name=f"report-session-{session.id}.ics")


@blueprint.get("/<id:session_id>/programme.xlsx", endpoint="programme_xlsx")
@public
def programme_xlsx(session_id: int):
    """The published programme as an Excel workbook (Chinese, Beijing times)."""
    session, version = _published(session_id)
    return xlsx_response(exports.xlsx_bytes(exports.read_programme(version)), f"report-session-{session.id}")


@blueprint.get("/<id:session_id>/programme.pdf", endpoint="programme_pdf")
@public
def programme_pdf(session_id: int):
    """The published programme as an A4 PDF in Chinese (made once per release for a few
    seconds in each worker: it is the same for everyone, and costly to draw)."""
    session, version = _published(session_id)
    cancelled = _cancelled(session)
    data = public_pages.get_or_make(("report-session-pdf", version.id, version.number, cancelled), lambda: (
        exports.pdf_bytes(exports.read_programme(version), url=_page_url(session), cancelled=cancelled)))
    return send_file(BytesIO(data), mimetype=exports.PDF_MIMETYPE, as_attachment=True,
                     download_name=f"report-session-{session.id}.pdf")


# --- the invitee's answer -----------------------------------------------------------------------------


def _answered(answer: invitations.Answer) -> tuple[str, str]:
    """The message after an answer, and its category."""
    invitation = answer.invitation
    if not answer.changed:
        return _("Your answer was recorded already; nothing has changed."), "info"
    if invitation.status == InvitationStatus.ACCEPTED:
        return _("Thank you for accepting (%(attendance)s). The organisers have been told.",
                 attendance=invitation.attendance.title), "success"
    return _("You declined the invitation. The organisers have been told."), "info"


@blueprint.route("/invitations/<token>", methods=["GET", "POST"], endpoint="invitation")
@public
def invitation(token: str):
    """The invitation a personal link names: accept it (on site or remotely) or decline it.
    A tampered or replaced link is a 404, an expired one a 410 page."""
    try:
        found = invitations.invitation_for_token(token)
    except ServiceError as error:
        if error.status != 410:
            raise
        return render_template("report_sessions/public/link_expired.html", message=error.message), 410
    form = AnswerForm(attendance=found.attendance.value if found.attendance else None)
    answers = []

    def operation():
        if form.decline.data:
            answers.append(invitations.decline(token, note=form.note.data))
        elif form.accept.data:
            answers.append(invitations.accept(token, form.attendance.data, note=form.note.data))
        else:
            raise ServiceError(_("Please accept or decline the invitation."))

    if submit(form, operation):
        flash(*_answered(answers[0]))
        return redirect(url_for(".invitation", token=token))
    late = found.status == InvitationStatus.INVITED and is_overdue(found)
    response = render_template(
        "report_sessions/public/invitation.html", invitation=found, session=found.session, form=form, late=late,
        answerable=found.status == InvitationStatus.ACCEPTED or (found.status == InvitationStatus.INVITED
                                                                  and not late),
        talk_title=slot_title(found.slot) if found.slot is not None else None,
        published=latest_version(found.session) is not None)
    return response, form_status(form), {"Cache-Control": "no-store"}
