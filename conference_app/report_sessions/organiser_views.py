"""The organiser's pages of report sessions (staff, or a user of the project's society): the
list (staff see every session and the month's warnings), starting a session, and the session's
page: its details, the speakers the locked results offer and their invitations, the discussion
guests, the timetable builder (drag and drop, or the move buttons without JavaScript), and
publishing with its versions. Thin views over ``services``; every step is one request and one
transaction, a refusal a form error with the service's status."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload, selectinload

from conference_app.accounts.models import User
from conference_app.audit.services import history
from conference_app.core.db import MAX_ID, paginate
from conference_app.core.excel import Column, workbook_bytes, xlsx_response
from conference_app.core.forms import check_version, filter_args, form_status, submit
from conference_app.core.layout import local_datetime
from conference_app.core.permissions import requires, user_can
from conference_app.core.services import ServiceError
from conference_app.events.forms.common import ConfirmForm
from conference_app.events.models import AcademicMonthEdition
from conference_app.events.services import events as event_services
from conference_app.events.services import registrations
from conference_app.extensions import db
from conference_app.panels.services import expert_users
from conference_app.programs.models import Application
from conference_app.report_sessions import exports
from conference_app.report_sessions.forms import (
    BlockForm,
    GuestForm,
    MoveForm,
    ReinviteForm,
    ResultForm,
    SessionCreateForm,
    SessionEditForm,
    SessionFilterForm,
    SlotForm,
    SpeakerForm,
    TalkForm,
    WithdrawForm,
)
from conference_app.report_sessions.models import (
    Attendance,
    Invitation,
    InvitationRole,
    InvitationStatus,
    ProgrammeVersion,
    ReportSession,
    Slot,
    SlotKind,
)
from conference_app.report_sessions.services import invitations, publishing, sessions
from conference_app.report_sessions.workflow import REPORT_SESSION, is_overdue

blueprint = Blueprint("report_sessions", __name__, url_prefix="/manage/report-sessions")


PER_PAGE = 20
EXPORT_MAX_ROWS = 10_000
INVITATION_STEPS = ("withdraw", "remind", "renew", "reinvite")
SECTIONS = ("details", "speakers", "guests", "timetable", "publishing")


# --- the list ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lineup:
    """A session's lineup in numbers, for the list."""

    talks: int
    on_site_speakers: int
    guests: int
    open_invitations: int


def _lineup(session: ReportSession) -> Lineup:
    invited = session.invitations
    return Lineup(
        talks=sum(1 for slot in session.slots if slot.kind == SlotKind.TALK),
        on_site_speakers=sum(1 for invitation in invited if invitation.role == InvitationRole.SPEAKER
                             and invitation.status == InvitationStatus.ACCEPTED
                             and invitation.attendance == Attendance.ON_SITE and invitation.slot_id is not None),
        guests=sum(1 for invitation in invited if invitation.role == InvitationRole.GUEST
                   and invitation.status == InvitationStatus.ACCEPTED),
        open_invitations=sum(1 for invitation in invited if invitation.status == InvitationStatus.INVITED))


def _list_query(filters: dict):
    return sessions.session_query(**filters).options(
        joinedload(ReportSession.project).joinedload(Application.organisation),
        selectinload(ReportSession.slots), selectinload(ReportSession.invitations))


def _list_filters() -> tuple[SessionFilterForm | None, dict]:
    """Staff filter every session; a society sees its own organisation's."""
    if user_can(current_user, "report_sessions.list"):
        form = SessionFilterForm(formdata=request.args, editions=event_services.editions())
        return form, form.filters()
    if current_user.organisation_id is None:
        abort(404)
    return None, {"organisation_id": current_user.organisation_id}


@blueprint.get("/", endpoint="index")
@requires("report_sessions.manage")
def index():
    """The report sessions the user organises (staff: all of them, with the month's warnings)."""
    filter_form, filters = _list_filters()
    pagination = paginate(_list_query(filters), PER_PAGE)
    edition, warnings = None, []
    if filter_form is not None:
        chosen = filters["edition_id"]
        edition = (db.session.get(AcademicMonthEdition, chosen) if chosen else None) or event_services.current_edition()
        warnings = sessions.edition_warnings(edition) if edition is not None else []
    return render_template(
        "report_sessions/manage/index.html", pagination=pagination, filter_form=filter_form,
        rows=[(session, _lineup(session)) for session in pagination.items], edition=edition, warnings=warnings,
        query_args=filter_args(filter_form) if filter_form is not None else {},
        can_create=user_can(current_user, "report_sessions.create"))


EXPORT_COLUMNS = [
    Column(_l("Report session"), lambda row: row[0].event.title_zh, 40),
    Column(_l("Project"), lambda row: row[0].project.project_name_zh, 30),
    Column(_l("Society"), lambda row: row[0].project.organisation.name_zh, 30),
    Column(_l("Academic Month"), lambda row: row[0].edition.number, 10),
    Column(_l("Starts"), lambda row: row[0].event.starts_at, 18),
    Column(_l("Ends"), lambda row: row[0].event.ends_at, 18),
    Column(_l("Venue"), lambda row: row[0].event.venue, 30),
    Column(_l("Status"), lambda row: row[0].status.title, 10),
    Column(_l("Talks"), lambda row: row[1].talks, 8),
    Column(_l("Speakers on site"), lambda row: row[1].on_site_speakers, 10),
    Column(_l("Guests who accepted"), lambda row: row[1].guests, 10),
    Column(_l("Open invitations"), lambda row: row[1].open_invitations, 10),
]


@blueprint.get("/export.xlsx", endpoint="export")
@requires("report_sessions.list")
def export():
    """Staff: the list with its filters as an Excel workbook."""
    _form, filters = _list_filters()
    found = db.session.scalars(_list_query(filters).limit(EXPORT_MAX_ROWS))
    rows = [(session, _lineup(session)) for session in found]
    return xlsx_response(workbook_bytes(_l("Report sessions"), EXPORT_COLUMNS, rows), "report-sessions")


# --- starting and editing a session --------------------------------------------------------------------


def _chosen(options, value, message):
    """The option whose id the select posted; a ServiceError when it is not one offered."""
    found = next((option for option in options if str(option.id) == str(value or "")), None)
    if found is None:
        raise ServiceError(message)
    return found


@blueprint.route("/new", methods=["GET", "POST"], endpoint="new")
@requires("report_sessions.create")
def new():
    """Start a session (a draft): its project, edition and locked panel, its date and place."""
    projects = sessions.report_session_projects(current_user)
    editions, panels = event_services.editions(), sessions.locked_panels()
    current = event_services.current_edition()
    form = SessionCreateForm(projects=projects, editions=editions, panels=panels,
                             organisations=event_services.approved_organisations(),
                             data={"edition": str(current.id) if current else None})
    created = []

    def operation():
        project = _chosen(projects, form.project.data, _("Please choose the project the session belongs to."))
        edition = _chosen(editions, form.edition.data, _("Please choose the Academic Month edition."))
        panel = _chosen(panels, form.panel.data,
                        _("Please choose the expert panel whose locked results give the talks."))
        created.append(sessions.create_session(project, edition, panel, form.session_fields(),
                                               co_hosts=form.co_host_ids(), actor=current_user))

    if submit(form, operation):
        flash(_("Report session started as a draft: add the talks, invite the speakers and guests, then publish."),
              "success")
        return redirect(url_for(".session_page", session_id=created[0].id))
    return render_template("report_sessions/manage/new.html", form=form, projects=projects,
                           panels=panels), form_status(form)


@blueprint.route("/<id:session_id>/edit", methods=["GET", "POST"], endpoint="edit")
@requires("report_sessions.manage", load=ReportSession, arg="session_id")
def edit(report_session: ReportSession):
    """The session's date, place, capacity, moderator and co-hosts (refused when someone saved meanwhile)."""
    session = report_session
    form = SessionEditForm(data=SessionEditForm.data_of(session),
                           organisations=event_services.approved_organisations())

    def operation():
        check_version(session.event, form.event_version.data)
        sessions.update_session(session, form.session_fields(), actor=current_user)
        sessions.set_co_hosts(session, form.co_host_ids(), actor=current_user)

    if submit(form, operation, edits=session):
        flash(_("Changes saved."), "success")
        return redirect(url_for(".session_page", session_id=session.id))
    return render_template("report_sessions/manage/edit.html", form=form, session=session), form_status(form)


# --- the session's page ------------------------------------------------------------------------------------


def _offers(session: ReportSession, entries) -> dict[int, invitations.Offer]:
    """Whom to ask next, for each talk whose speaker declined or let the deadline pass and that
    has no open invitation."""
    by_slot: dict[int, list[Invitation]] = {}
    for invitation in session.invitations:
        if invitation.slot_id is not None:
            by_slot.setdefault(invitation.slot_id, []).append(invitation)
    found = {}
    for entry in entries:
        asked = by_slot.get(entry.slot.id, [])
        if asked and not any(invitation.is_live for invitation in asked):
            offer = invitations.speaker_offer(entry.slot)
            if offer is not None:
                found[entry.slot.id] = offer
    return found


def _render_session(session: ReportSession, status: int = 200, *, failed: tuple[str, FlaskForm] | None = None,
                    **forms):
    """The session's page; ``forms`` are those to show with what was typed and their errors,
    ``failed`` a button's form whose refusal shows at the top of its section."""
    entries = sessions.schedule(session)
    results = sessions.speaker_candidates(session)
    talk_form = forms.get("talk_form") or TalkForm(formdata=None)
    talk_form.offer([found for found in results if found.slot is None])
    guest_form = forms.get("guest_form") or GuestForm(formdata=None)
    guest_form.offer(expert_users())
    latest = sessions.latest_version(session)
    unpublished = publishing.has_unpublished_changes(session)
    pending_changes = []
    if latest is not None and unpublished:
        draft = ProgrammeVersion(session_id=session.id, number=latest.number + 1,
                                 programme=publishing.programme_snapshot(session), created_at=latest.created_at)
        pending_changes = exports.changes_between(exports.read_programme(latest), exports.read_programme(draft))
    return render_template(
        "report_sessions/manage/session.html", session=session, event=session.event, entries=entries,
        times={entry.slot.id: entry for entry in entries}, results=results, offers=_offers(session, entries),
        guests=[invitation for invitation in session.invitations if invitation.role == InvitationRole.GUEST],
        co_hosts=sessions.co_hosts(session), warnings=sessions.session_warnings(session),
        missing=publishing.missing_for_publishing(session), transitions=REPORT_SESSION.available(session,
                                                                                                   current_user),
        latest=latest, unpublished=unpublished, pending_changes=pending_changes,
        notes=exports.changelog(session.versions), versions={version.number: version for version in session.versions},
        counts=registrations.counts([session.event_id])[session.event_id], history=history(session),
        talk_form=talk_form, block_form=forms.get("block_form") or BlockForm(formdata=None), guest_form=guest_form,
        failed_section=failed[0] if failed else None, failed_form=failed[1] if failed else None,
        is_overdue=is_overdue, can_view_event=user_can(current_user, "events.run", session.event),
    ), status


def _back(session: ReportSession, section: str, anchor: str | None = None, **query):
    """To the session's page at ``anchor``, else at the section a form named (one of the
    page's), else at ``section``."""
    asked = request.form.get("back")
    return redirect(url_for(".session_page", session_id=session.id, **query,
                            _anchor=anchor or (asked if asked in SECTIONS else section)))


def _step(session: ReportSession, form: FlaskForm, operation, section: str, message: str, **back):
    """Run a button's form; back to the page with ``message``, or the page with the refusal."""
    if submit(form, operation):
        flash(message, "success")
        return _back(session, section, **back)
    return _render_session(session, form_status(form), failed=(section, form))


@blueprint.get("/<id:session_id>", endpoint="session_page")
@requires("report_sessions.manage", load=ReportSession, arg="session_id")
def session_page(report_session: ReportSession):
    """The session: details, speakers, guests, timetable, publishing and versions, history."""
    return _render_session(report_session)


# --- the timetable --------------------------------------------------------------------------------------------


@blueprint.post("/<id:session_id>/talks", endpoint="talk_add")
@requires("report_sessions.manage", load=ReportSession, arg="session_id")
def talk_add(report_session: ReportSession):
    session = report_session
    form = TalkForm()
    if submit(form, lambda: sessions.add_talk(session, form.candidate(), minutes=form.minutes.data,
                                              actor=current_user)):
        flash(_("Talk added to the timetable: now invite its speaker."), "success")
        return _back(session, "timetable")
    if request.form.get("back") == "speakers":  # the button of a result in the speakers' section
        return _render_session(session, form_status(form), failed=("speakers", form))
    return _render_session(session, form_status(form), talk_form=form)


@blueprint.post("/<id:session_id>/blocks", endpoint="block_add")
@requires("report_sessions.manage", load=ReportSession, arg="session_id")
def block_add(report_session: ReportSession):
    session = report_session
    form = BlockForm()
    if submit(form, lambda: sessions.add_block(session, form.kind.data, minutes=form.minutes.data,
                                               title=form.title.data, actor=current_user)):
        flash(_("Added to the timetable."), "success")
        return _back(session, "timetable")
    return _render_session(session, form_status(form), block_form=form)


def _slot_route(rule: str, endpoint: str):
    """A POST on one slot of the session named in the URL (another session's slot is a 404)."""
    def decorate(view):
        return blueprint.post(f"/<id:session_id>/slots/<id:slot_id>{rule}", endpoint=endpoint)(
            requires("report_sessions.manage", load=Slot, arg="slot_id", within=("session_id", "session_id"))(view))
    return decorate


@_slot_route("", "slot_update")
def slot_update(slot: Slot):
    """A slot's minutes and title."""
    form = SlotForm()
    return _step(slot.session, form, lambda: sessions.update_slot(slot, form.slot_fields(), actor=current_user),
                 "timetable", _("Timetable saved."), anchor=f"slot-{slot.id}")


@_slot_route("/move", "slot_move")
def slot_move(slot: Slot):
    """Move a slot one place up or down: the keyboard's way to reorder, without JavaScript."""
    form = MoveForm()
    return _step(slot.session, form, lambda: sessions.move_slot(slot, form.offset, actor=current_user),
                 "timetable", _("Timetable reordered."), anchor=f"slot-{slot.id}", moved=form.direction.data)


@_slot_route("/remove", "slot_remove")
def slot_remove(slot: Slot):
    session = slot.session
    return _step(session, ConfirmForm(), lambda: sessions.remove_slot(slot, actor=current_user), "timetable",
                 _("Removed from the timetable."))


@_slot_route("/result", "slot_result")
def slot_result(slot: Slot):
    """Give a talk the next locked result (the suggestion after its authors declined)."""
    form = ResultForm()
    return _step(slot.session, form, lambda: sessions.change_talk_result(slot, form.candidate(), actor=current_user),
                 "speakers", _("The talk now presents the next result: invite one of its authors."))


def _slot_ids(value) -> list[int] | None:
    """The posted order as slot ids, None when it is not a list of ids."""
    if not isinstance(value, list):
        return None
    try:
        ids = [int(item) for item in value]
    except (TypeError, ValueError):
        return None
    return ids if all(1 <= item <= MAX_ID for item in ids) else None


def _times(session: ReportSession) -> list[dict]:
    """Each slot's start and end as the page shows them (Beijing time, HH:MM)."""
    return [{"id": entry.slot.id, "start": local_datetime(entry.starts_at, "HH:mm"),
             "end": local_datetime(entry.ends_at, "HH:mm")} for entry in sessions.schedule(session)]


@blueprint.post("/<id:session_id>/slots/order", endpoint="slot_order")
@requires("report_sessions.manage", load=ReportSession, arg="session_id")
def slot_order(report_session: ReportSession):
    """The timetable in a new order: ``{"slot_ids": [...]}`` from drag and drop (answered with the
    recomputed times), or the form's ``slot_ids`` (answered with the page). Every slot once."""
    session = report_session
    as_json = request.is_json
    payload = request.get_json(silent=True) if as_json else None
    ids = _slot_ids(payload.get("slot_ids") if isinstance(payload, dict) else
                    (None if as_json else request.form.getlist("slot_ids")))
    try:
        if ids is None:
            raise ServiceError(_("Send every slot of the timetable, in the new order."))
        sessions.reorder_slots(session, ids, actor=current_user)
    except ServiceError as error:
        db.session.rollback()
        if as_json:
            return jsonify(error=str(error.message)), error.status
        form = ConfirmForm(formdata=None)
        form.form_errors.append(error.message)
        return _render_session(session, error.status, failed=("timetable", form))
    if as_json:
        return jsonify(message=_("Timetable reordered."), slots=_times(session))
    flash(_("Timetable reordered."), "success")
    return _back(session, "timetable")


# --- speakers and guests ------------------------------------------------------------------------------------


@blueprint.route("/<id:session_id>/slots/<id:slot_id>/invite", methods=["GET", "POST"], endpoint="speaker_invite")
@requires("report_sessions.manage", load=Slot, arg="slot_id", within=("session_id", "session_id"))
def speaker_invite(slot: Slot):
    """Invite one of the talk's result's Beijing authors (first and corresponding authors first)."""
    session = slot.session
    if slot.kind != SlotKind.TALK or slot.candidate is None:
        abort(404)
    authors = sessions.beijing_authors(slot.candidate)
    chosen = request.args.get("author", "")
    form = SpeakerForm(authors=authors, data={"author_index": chosen or (str(authors[0].index) if authors else None),
                                             "locale": "zh_CN"})

    def operation():
        invitations.invite_speaker(slot, form.author(), email=form.email.data, name=form.name.data,
                                   institution=form.institution.data, deadline=form.deadline.data,
                                   locale=form.locale.data, actor=current_user)

    if submit(form, operation):
        flash(_("Invitation sent: the speaker answers through the personal link in the mail."), "success")
        return redirect(url_for(".session_page", session_id=session.id, _anchor="speakers"))
    return render_template("report_sessions/manage/invite.html", form=form, session=session, slot=slot,
                           authors=authors, live=next((invitation for invitation in slot.invitations
                                                       if invitation.is_live), None)), form_status(form)


@blueprint.post("/<id:session_id>/guests", endpoint="guest_invite")
@requires("report_sessions.manage", load=ReportSession, arg="session_id")
def guest_invite(report_session: ReportSession):
    """Invite a discussion guest: an expert's account, or a person typed in."""
    session = report_session
    form = GuestForm()

    def operation():
        expert_id = form.expert_id()
        user = db.session.get(User, expert_id) if expert_id else None
        if expert_id and user is None:
            raise ServiceError(_("Choose an expert's account, or type in the guest's name and e-mail address."))
        invitations.invite_guest(session, user=user, name=form.name.data, email=form.email.data,
                                 institution=form.institution.data, deadline=form.deadline.data,
                                 locale=form.locale.data, actor=current_user)

    if submit(form, operation):
        flash(_("Invitation sent: the guest answers through the personal link in the mail."), "success")
        return _back(session, "guests")
    return _render_session(session, form_status(form), guest_form=form)


_STEP_DONE = {
    "withdraw": _l("Invitation withdrawn."),
    "remind": _l("Reminder sent."),
    "renew": _l("A new personal link was sent; the old one no longer works."),
    "reinvite": _l("Invited again, with a new deadline and a new link."),
}


@blueprint.post(f"/<id:session_id>/invitations/<id:invitation_id>/<any({','.join(INVITATION_STEPS)}):step>",
                endpoint="invitation_step")
@requires("report_sessions.manage", load=Invitation, arg="invitation_id", within=("session_id", "session_id"))
def invitation_step(invitation: Invitation, step: str):
    """Withdraw an invitation, remind the invitee, send a new link, or invite again after the deadline."""
    form = {"withdraw": WithdrawForm, "reinvite": ReinviteForm}.get(step, ConfirmForm)()

    def operation():
        if step == "withdraw":
            invitations.withdraw(invitation, actor=current_user, comment=form.comment.data)
        elif step == "remind":
            invitations.remind(invitation, actor=current_user)
        elif step == "renew":
            invitations.renew_link(invitation, actor=current_user)
        else:
            invitations.reinvite(invitation, deadline=form.deadline.data, actor=current_user)

    section = "guests" if invitation.role == InvitationRole.GUEST else "speakers"
    return _step(invitation.session, form, operation, section, str(_STEP_DONE[step]))


# --- publishing ----------------------------------------------------------------------------------------------


@blueprint.post("/<id:session_id>/publish", endpoint="publish")
@requires("report_sessions.manage", load=ReportSession, arg="session_id")
def publish(report_session: ReportSession):
    """Publish the programme as its next version (refused, listing what is missing, until it may be)."""
    session = report_session
    form = ConfirmForm()
    releases = []
    if not submit(form, lambda: releases.append(publishing.publish(session, actor=current_user))):
        return _render_session(session, form_status(form), failed=("publishing", form))
    release = releases[0]
    told = len(release.added) + len(release.changed) + len(release.removed)
    flash(_("Version %(number)d of the programme is published; %(told)d people were told.",
            number=release.version.number, told=told), "success")
    if release.talks_without_speaker:
        flash(_("%(count)d talks are listed with their speaker to be confirmed.",
                count=release.talks_without_speaker), "warning")
    return redirect(url_for(".session_page", session_id=session.id, _anchor="publishing"))


@blueprint.get("/<id:session_id>/versions/<id:number>", endpoint="version")
@requires("report_sessions.manage", load=ReportSession, arg="session_id")
def version(report_session: ReportSession, number: int):
    """A released version of the programme, as it was published."""
    session = report_session
    shown = sessions.version_of(session, number)
    return render_template("report_sessions/manage/version.html", session=session,
                           programme=exports.read_programme(shown), version=shown)
