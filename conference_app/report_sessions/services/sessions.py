"""A report session and its timetable: starting one for a category-F project (its event is
recorded through the events services), editing it and its co-hosts, the speakers the panel's
locked results offer, the talks and blocks in order, and the warnings of the month.

Every change is audited on the session and flushed; the request pipeline commits. The
organiser (``report_sessions.manage``: staff, or a user of the project's society) is checked
here, not only by the pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from conference_app.audit.services import (
    record,
    record_changes,
    register_action_titles,
    register_field_titles,
    snapshot,
)
from conference_app.core.db import column_length
from conference_app.core.permissions import user_can
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text
from conference_app.core.timeutil import BEIJING, day_start
from conference_app.events.models import AcademicMonthEdition, Event, EventKind, EventMode, EventStatus
from conference_app.events.services import events as event_services
from conference_app.extensions import db
from conference_app.organisations.models import PastEventRole
from conference_app.panels.models import Candidate, Panel, PanelResult, PanelStatus
from conference_app.panels.services import author_views
from conference_app.programs.models import FUNDED_STATES, Application
from conference_app.programs.services.calls import call_definition
from conference_app.programs.services.performance import link_event
from conference_app.report_sessions import timetable
from conference_app.report_sessions.models import (
    Invitation,
    InvitationRole,
    InvitationStatus,
    ProgrammeVersion,
    ReportSession,
    ReportSessionStatus,
    Slot,
    SlotKind,
)

DEFAULT_TALK_MINUTES = 20
MAX_SLOT_MINUTES = 8 * 60

# The event's fields a session edits (through events.services.update_event); the kind stays
# "report session", the place Beijing.
EVENT_FIELDS = ("title_zh", "title_en", "description", "starts_at", "ends_at", "venue", "district", "mode",
                "online_url", "capacity", "registration_open", "discipline")
SESSION_FIELD_LABELS = {"moderator_name": _l("Moderator"), "moderator_institution": _l("Moderator's institution")}
SESSION_FIELDS = tuple(SESSION_FIELD_LABELS)

register_field_titles("ReportSession", SESSION_FIELD_LABELS)
register_action_titles({
    "report_session.created": _l("Report session started"),
    "report_session.updated": _l("Report session edited"),
    "report_session.slot_added": _l("Slot added to the timetable"),
    "report_session.slot_updated": _l("Slot of the timetable changed"),
    "report_session.slot_removed": _l("Slot removed from the timetable"),
    "report_session.slots_reordered": _l("Timetable reordered"),
    "report_session.talk_result_changed": _l("Result of a talk changed"),
})


def _stays_a_report_session(event: Event, values: dict) -> str | None:
    """The events' pages may edit a session's event, but not into another kind, outside Beijing or online only."""
    if not {"kind", "in_beijing", "mode"} & set(values):
        return None
    breaks = (values.get("kind", EventKind.REPORT_SESSION) != EventKind.REPORT_SESSION
              or values.get("in_beijing", True) is False or values.get("mode") == EventMode.ONLINE)
    if breaks and db.session.scalar(select(ReportSession.id).where(ReportSession.event_id == event.id)) is not None:
        return _("This event is a frontier-results report session: it stays a report session, held on site in "
                 "Beijing. Change its lineup and programme on the report session's pages.")
    return None


event_services.register_event_guard(_stays_a_report_session)


def require_organiser(actor, obj) -> None:
    """``actor`` organises the session (or project) ``obj``; a 403 ServiceError otherwise."""
    if not user_can(actor, "report_sessions.manage", obj):
        raise ServiceError(_("You may not organise this report session."), 403)


# --- projects and panels a session may come from ------------------------------------------------


def holds_report_sessions(application: Application) -> bool:
    """The project is funded and its category requires report sessions: an indicator counts
    events of that kind alone (category F of the 2026 call; the call file says so, no code
    names a category; indicators counting events of any kind do not make one)."""
    if application.status not in FUNDED_STATES:
        return False
    category = call_definition(application.call).category(application.category.code)
    return any(getattr(indicator, "kind", None) == "events"
               and set(indicator.event_kinds) == {EventKind.REPORT_SESSION}
               for indicator in category.all_indicators(application.form_code))


def report_session_projects(user) -> list[Application]:
    """The funded projects holding report sessions that ``user`` may organise, by name."""
    query = (select(Application).where(Application.status.in_([str(state) for state in FUNDED_STATES]))
             .options(joinedload(Application.call), joinedload(Application.category),
                      joinedload(Application.organisation))
             .order_by(Application.project_name_zh, Application.id))
    return [application for application in db.session.scalars(query)
            if user_can(user, "report_sessions.create", application) and holds_report_sessions(application)]


def locked_panels() -> list[Panel]:
    """The expert panels whose frontier results are locked: where speakers come from."""
    return list(db.session.scalars(select(Panel).where(Panel.status == PanelStatus.LOCKED)
                                   .order_by(Panel.locked_at.desc(), Panel.id.desc())))


# --- the session ---------------------------------------------------------------------------------


def _event_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EVENT_FIELDS) - set(SESSION_FIELDS)
    if unknown:  # a programming error: forms carry only these fields
        raise ValueError(f"fields not allowed here: {sorted(unknown)}")
    values = {name: fields[name] for name in EVENT_FIELDS if name in fields}
    if "mode" in values and values["mode"] == EventMode.ONLINE:
        raise ServiceError(_("A report session is held on site in Beijing: choose on site, or on site and online."))
    return values


def _session_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: clean_text(fields[name], SESSION_FIELD_LABELS[name],
                             max_length=column_length(ReportSession, name))
            for name in SESSION_FIELDS if name in fields}


def create_session(project: Application, edition: AcademicMonthEdition, panel: Panel, fields: Mapping[str, Any],
                   *, co_hosts: Iterable[int] = (), actor) -> ReportSession:
    """Start a report session of ``project`` in ``edition`` with the speakers of ``panel``'s
    locked results. Its event (a draft of kind report session, hosted by the project's society,
    co-hosted by ``co_hosts``) is recorded through the events services and counted for the
    project; ``fields`` are the event's (title, times, venue, district, capacity ...) and the
    moderator."""
    if not user_can(actor, "report_sessions.create", project):
        raise ServiceError(_("You may not organise report sessions for this project."), 403)
    if not holds_report_sessions(project):
        raise ServiceError(_("Report sessions belong to a funded project of a category that holds them."), 409)
    if panel.status != PanelStatus.LOCKED:
        raise ServiceError(_("Speakers come from an expert panel's locked results: this panel has not locked them."),
                           409)
    event_values = _event_values(fields)
    session_values = _session_values(fields)
    discipline_keys = {key for key, _zh, _en in event_services.discipline_choices()}
    event_values.setdefault("discipline", panel.discipline if panel.discipline in discipline_keys else None)
    event_values.update(kind=EventKind.REPORT_SESSION, in_beijing=True)
    event_values.setdefault("mode", EventMode.OFFLINE)
    event = event_services.create_event(event_values, _organisations(project, co_hosts), creator=actor)
    session = ReportSession(event=event, project=project, edition=edition, panel=panel, created_by_id=actor.id,
                            status=ReportSessionStatus.DRAFT, **session_values)
    db.session.add(session)
    flush({"event_id": _l("This event is a report session already.")})
    link_event(project, event, actor=actor)
    record("report_session.created", session, actor=actor, to_state=session.status,
           details={"event_id": event.id, "project_id": project.id, "edition": edition.number, "panel_id": panel.id})
    return session


def _organisations(project: Application, co_host_ids: Iterable[int]) -> list[tuple[int, str]]:
    co_host_ids = [organisation_id for organisation_id in dict.fromkeys(co_host_ids) if organisation_id]
    if project.organisation_id in co_host_ids:
        raise ServiceError(_("The project's society hosts the session; name other organisations as co-hosts."))
    return [(project.organisation_id, PastEventRole.HOST)] + [(organisation_id, PastEventRole.CO_HOST)
                                                               for organisation_id in co_host_ids]


def update_session(session: ReportSession, fields: Mapping[str, Any], *, actor) -> dict[str, list]:
    """Change the event's fields (through the events services) and the moderator; returns
    {field: [old, new]} of both."""
    require_organiser(actor, session)
    event_values = _event_values(fields)
    session_values = _session_values(fields)
    changes = event_services.update_event(session.event, event_values) if event_values else {}
    before = snapshot(session, session_values)
    for name, value in session_values.items():
        setattr(session, name, value)
    flush()
    entry = record_changes("report_session.updated", session, before, actor=actor)
    return changes | (entry.details["changes"] if entry is not None else {})


def set_co_hosts(session: ReportSession, organisation_ids: Iterable[int], *, actor) -> None:
    """The organisations that co-host the session (联合主办): the event's, through the events services."""
    require_organiser(actor, session)
    event_services.set_organisations(session.event, _organisations(session.project, organisation_ids), actor=actor)


def co_hosts(session: ReportSession) -> list:
    return [link.organisation for link in session.event.organisations if link.role == PastEventRole.CO_HOST]


def session_query(*, organisation_id: int | None = None, edition_id: int | None = None,
                  status: str | None = None) -> Select:
    """Report sessions, soonest first, with their event loaded; filtered by the project's
    society, the edition and the state."""
    query = (select(ReportSession).join(Event, Event.id == ReportSession.event_id)
             .options(joinedload(ReportSession.event), joinedload(ReportSession.project),
                      joinedload(ReportSession.edition))
             .order_by(Event.starts_at, ReportSession.id))
    if organisation_id:
        query = query.where(ReportSession.project.has(Application.organisation_id == organisation_id))
    if edition_id:
        query = query.where(ReportSession.edition_id == edition_id)
    if status:
        query = query.where(ReportSession.status == status)
    return query


def published_sessions(edition_id: int | None = None) -> list[ReportSession]:
    """The published sessions (the public list), soonest first; a cancelled event is left out."""
    query = session_query(edition_id=edition_id, status=ReportSessionStatus.PUBLISHED).where(
        Event.status != EventStatus.CANCELLED)
    return list(db.session.scalars(query))


# --- speakers from the locked results -------------------------------------------------------------


@dataclass(frozen=True)
class SpeakerCandidate:
    """A Beijing author of a result who may present it; ``index`` is their place in the work's
    authorships (what an invitation names)."""

    index: int
    name: str
    orcid: str | None
    author_id: str | None
    institutions: tuple[str, ...]
    is_first: bool
    is_corresponding: bool
    invitation: Invitation | None = None  # the newest invitation of this session to this author

    @property
    def institution_text(self) -> str:
        return "；".join(self.institutions)


@dataclass(frozen=True)
class ResultSpeakers:
    result: PanelResult
    candidate: Candidate
    authors: tuple[SpeakerCandidate, ...]
    slot: Slot | None  # the talk on this result in the timetable, if any


def beijing_authors(candidate: Candidate) -> list[SpeakerCandidate]:
    """The work's Beijing authors (as the panel's dossier marks them): the first author, then
    the corresponding ones, then the others in the work's order; each with its institutions."""
    authors = [
        SpeakerCandidate(index=index, name=view.name, orcid=view.orcid, author_id=view.author_id,
                         institutions=tuple(name for name, _id in view.institutions if name),
                         is_first=view.position == "first", is_corresponding=view.is_corresponding)
        for index, view in enumerate(author_views(candidate)) if view.is_beijing
    ]
    return sorted(authors, key=lambda author: (not author.is_first, not author.is_corresponding, author.index))


def speaker_candidates(session: ReportSession) -> list[ResultSpeakers]:
    """Per locked result of the session's panel, in the panel's order: its Beijing authors
    (first and corresponding authors first, with institutions and this session's newest
    invitation to each) and the talk on it, if the timetable has one."""
    results = db.session.scalars(select(PanelResult).where(PanelResult.panel_id == session.panel_id)
                                 .options(joinedload(PanelResult.candidate)).order_by(PanelResult.position))
    talks = {slot.candidate_id: slot for slot in session.slots if slot.kind == SlotKind.TALK}
    invited = {}
    for invitation in session.invitations:  # oldest first: the newest wins
        if invitation.role == InvitationRole.SPEAKER:
            invited[(invitation.candidate_id, invitation.author_index)] = invitation
    found = []
    for result in results:
        authors = tuple(replace(author, invitation=invited.get((result.candidate_id, author.index)))
                        for author in beijing_authors(result.candidate))
        found.append(ResultSpeakers(result, result.candidate, authors, talks.get(result.candidate_id)))
    return found


def locked_result(session: ReportSession, candidate_id: int) -> PanelResult:
    """The panel's locked result on candidate ``candidate_id``; refused when the panel's
    results are not locked now, a 404 when the candidate is not one of them."""
    if session.panel.status != PanelStatus.LOCKED:
        raise ServiceError(_("The panel's results are reopened: talks can be chosen again once they are locked."), 409)
    result = db.session.scalar(select(PanelResult).where(PanelResult.panel_id == session.panel_id,
                                                         PanelResult.candidate_id == candidate_id))
    if result is None:
        raise ServiceError(_("This is not one of the panel's locked results."), 404)
    return result


# --- the slots -----------------------------------------------------------------------------------


def _minutes(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SLOT_MINUTES:
        raise ServiceError(_("A slot lasts from 1 to %(max)d minutes.", max=MAX_SLOT_MINUTES))
    return value


def _slot_title(value) -> str | None:
    return clean_text(value, _("Title"), max_length=column_length(Slot, "title"))


def _slot_details(slot: Slot) -> dict:
    return {"slot_id": slot.id, "kind": slot.kind.value, "minutes": slot.minutes, "title": slot.title,
            "candidate_id": slot.candidate_id}


def _append(session: ReportSession, slot: Slot, actor) -> Slot:
    slot.position = max((other.position for other in session.slots), default=0) + 1
    session.slots.append(slot)
    flush({"candidate_id": _l("This result has a talk in the timetable already.")})
    record("report_session.slot_added", session, actor=actor, details=_slot_details(slot))
    return slot


def add_talk(session: ReportSession, candidate_id: int, *, minutes: int = DEFAULT_TALK_MINUTES,
             title: str | None = None, actor) -> Slot:
    """A talk on one of the panel's locked results, at the end of the timetable."""
    require_organiser(actor, session)
    locked_result(session, candidate_id)
    if any(slot.candidate_id == candidate_id for slot in session.slots):
        raise ServiceError(_("This result has a talk in the timetable already."), 409)
    return _append(session, Slot(kind=SlotKind.TALK, minutes=_minutes(minutes), title=_slot_title(title),
                                 candidate_id=candidate_id), actor)


def add_block(session: ReportSession, kind: str, *, minutes: int, title: str | None = None, actor) -> Slot:
    """Questions and answers, a discussion with the guests or a break, at the end of the timetable."""
    require_organiser(actor, session)
    if kind not in set(SlotKind) or kind == SlotKind.TALK:
        raise ServiceError(_("Choose questions and answers, a discussion with the guests or a break."))
    return _append(session, Slot(kind=SlotKind(kind), minutes=_minutes(minutes), title=_slot_title(title)), actor)


def slot_of(session: ReportSession, slot_id: int) -> Slot:
    """The slot ``slot_id`` of this session's timetable; a 404 ServiceError for another's."""
    slot = next((slot for slot in session.slots if slot.id == slot_id), None)
    if slot is None:
        raise ServiceError(_("This slot is not in the timetable of this report session."), 404)
    return slot


def update_slot(slot: Slot, fields: Mapping[str, Any], *, actor) -> None:
    """Change a slot's minutes and title."""
    require_organiser(actor, slot.session)
    unknown = set(fields) - {"minutes", "title"}
    if unknown:
        raise ValueError(f"fields not allowed here: {sorted(unknown)}")
    values = {}
    if "minutes" in fields:
        values["minutes"] = _minutes(fields["minutes"])
    if "title" in fields:
        values["title"] = _slot_title(fields["title"])
    before = snapshot(slot, values)
    for name, value in values.items():
        setattr(slot, name, value)
    flush()
    changes = {name: [old, getattr(slot, name)] for name, old in before.items() if getattr(slot, name) != old}
    if changes:
        record("report_session.slot_updated", slot.session, actor=actor,
               details={"slot_id": slot.id, "changes": changes})


def _live_invitation(slot: Slot) -> Invitation | None:
    return next((invitation for invitation in slot.invitations if invitation.is_live), None)


def _require_free(slot: Slot) -> None:
    if _live_invitation(slot) is not None:
        raise ServiceError(_("Withdraw the invitation of this talk first."), 409)


def remove_slot(slot: Slot, *, actor) -> None:
    """Take a slot out of the timetable; a talk only once no invitation holds it."""
    session = slot.session
    require_organiser(actor, session)
    _require_free(slot)
    record("report_session.slot_removed", session, actor=actor, details=_slot_details(slot))
    session.slots.remove(slot)
    flush()
    _renumber(session, list(session.slots))


def _renumber(session: ReportSession, ordered: Sequence[Slot]) -> None:
    for position, slot in enumerate(ordered, start=1):
        if slot.position != position:
            slot.position = position
    flush()
    db.session.expire(session, ["slots"])


def reorder_slots(session: ReportSession, slot_ids: Sequence[int], *, actor) -> None:
    """Put the timetable in the order ``slot_ids`` gives: every slot of the session once
    (what drag and drop, or the keyboard's move up and down, sends)."""
    require_organiser(actor, session)
    by_id = {slot.id: slot for slot in session.slots}
    ids = list(slot_ids)
    if len(ids) != len(by_id) or set(ids) != set(by_id):
        raise ServiceError(_("The timetable changed meanwhile: reload the page and order it again."), 409)
    before = [slot.id for slot in session.slots]
    if ids == before:
        return
    _renumber(session, [by_id[slot_id] for slot_id in ids])
    record("report_session.slots_reordered", session, actor=actor, details={"changes": {"order": [before, ids]}})


def move_slot(slot: Slot, offset: int, *, actor) -> None:
    """Move a slot ``offset`` places up (negative) or down, within the timetable (the keyboard's way)."""
    ordered = [other.id for other in slot.session.slots]
    index = ordered.index(slot.id)
    target = min(max(index + offset, 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(index))
    reorder_slots(slot.session, ordered, actor=actor)


def change_talk_result(slot: Slot, candidate_id: int, *, actor) -> None:
    """Give a talk another locked result (the next result, after its authors declined)."""
    session = slot.session
    require_organiser(actor, session)
    if slot.kind != SlotKind.TALK:
        raise ServiceError(_("Only a talk presents a result."))
    _require_free(slot)
    locked_result(session, candidate_id)
    if any(other.candidate_id == candidate_id and other.id != slot.id for other in session.slots):
        raise ServiceError(_("This result has a talk in the timetable already."), 409)
    before = slot.candidate_id
    slot.candidate_id = candidate_id
    flush({"candidate_id": _l("This result has a talk in the timetable already.")})
    db.session.expire(slot, ["candidate"])
    record("report_session.talk_result_changed", session, actor=actor,
           details={"slot_id": slot.id, "changes": {"candidate_id": [before, candidate_id]}})


# --- the timetable -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimetableEntry:
    slot: Slot
    starts_at: datetime
    ends_at: datetime
    title: str
    speaker: Invitation | None  # a talk's accepted invitation
    pending: Invitation | None  # a talk's invitation awaiting an answer


def slot_title(slot: Slot) -> str:
    """What the timetable shows: the slot's own title, else the result's title, else its kind."""
    if slot.title:
        return slot.title
    if slot.kind == SlotKind.TALK and slot.candidate is not None and slot.candidate.title:
        return slot.candidate.title
    return slot.kind.title


def schedule(session: ReportSession) -> list[TimetableEntry]:
    """The slots in order with their times, laid out from the session's start (their results
    and invitations read in two queries, however long the timetable)."""
    slots = list(db.session.scalars(select(Slot).where(Slot.session_id == session.id)
                                    .options(joinedload(Slot.candidate)).order_by(Slot.position, Slot.id)))
    live_by_slot = {invitation.slot_id: invitation for invitation in session.invitations
                    if invitation.slot_id is not None and invitation.is_live}
    timed = _lay_out(session.event.starts_at, slots)
    entries = []
    for slot, block in zip(slots, timed, strict=True):
        live = live_by_slot.get(slot.id)
        entries.append(TimetableEntry(
            slot=slot, starts_at=block.starts_at, ends_at=block.ends_at, title=slot_title(slot),
            speaker=live if live is not None and live.status == InvitationStatus.ACCEPTED else None,
            pending=live if live is not None and live.status == InvitationStatus.INVITED else None))
    return entries


def _lay_out(start: datetime, slots: Sequence[Slot]) -> list[timetable.TimedBlock]:
    """The slots' times, one after another from ``start``."""
    return timetable.lay_out(start, [timetable.Block(slot.id, str(slot.kind), slot.minutes) for slot in slots])


def programme_end(session: ReportSession) -> datetime | None:
    """When the timetable ends (None without slots)."""
    timed = _lay_out(session.event.starts_at, list(session.slots))
    return timed[-1].ends_at if timed else None


# --- warnings of the month ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WarningView:
    code: str
    message: str
    event_ids: tuple[int, ...]


def session_people(session: ReportSession) -> tuple[timetable.Person, ...]:
    """Who is on the session: the invitees who accepted, and the moderator."""
    people = [timetable.Person(invitation.name, invitation.institution, invitation.user_id, str(invitation.role))
              for invitation in session.invitations if invitation.status == InvitationStatus.ACCEPTED]
    if session.moderator_name:
        people.append(timetable.Person(session.moderator_name, session.moderator_institution, None, "moderator"))
    return tuple(people)


def _bookings(start: datetime, end: datetime, extra_sessions: Iterable[ReportSession] = ()) -> list[timetable.Booking]:
    """Everything booked between ``start`` and ``end``: every report session whose event is not
    cancelled, and the other events once published (a society's drafts stay its own), with
    their people; plus ``extra_sessions`` wherever they are."""
    events = {event.id: event for event in db.session.scalars(
        select(Event).where(Event.starts_at < end, Event.ends_at > start, Event.status != EventStatus.CANCELLED)
        .options(selectinload(Event.people)))}
    sessions = {session.event_id: session for session in db.session.scalars(
        select(ReportSession).where(ReportSession.event_id.in_(list(events)))
        .options(selectinload(ReportSession.invitations), selectinload(ReportSession.slots)))}
    for session in extra_sessions:
        sessions[session.event_id] = session
        events[session.event_id] = session.event
    bookings = []
    for event_id, event in events.items():
        session = sessions.get(event_id)
        if session is None and event.status == EventStatus.DRAFT:
            continue
        if session is not None:
            people, programme_ends_at = session_people(session), programme_end(session)
        else:
            people = tuple(timetable.Person(person.name, person.organisation, None, str(person.role))
                           for person in event.people)
            programme_ends_at = None
        bookings.append(timetable.Booking(
            key=event_id, title=event.title_zh, starts_at=event.starts_at, ends_at=event.ends_at,
            venue=None if event.mode == EventMode.ONLINE else event.venue,
            district=str(event.district) if event.district else None, people=people,
            is_report_session=session is not None, programme_ends_at=programme_ends_at))
    return sorted(bookings, key=lambda booking: (booking.starts_at, booking.key))


def _worded(found: list[timetable.TimetableWarning], bookings: list[timetable.Booking],
            edition: AcademicMonthEdition) -> list[WarningView]:
    titles = {booking.key: booking.title for booking in bookings}
    ends = {booking.key: booking for booking in bookings}
    views = []
    for warning in found:
        this = titles[warning.bookings[0]]
        other = titles[warning.bookings[1]] if len(warning.bookings) > 1 else ""
        if warning.code == "person_overlap":
            person = warning.person
            how = (_("matched by account") if warning.matched_by == timetable.MATCHED_BY_ACCOUNT
                   else _("matched by name and institution"))
            message = _("%(name)s (%(institution)s) is on %(this)s and on %(other)s, at overlapping times (%(how)s).",
                        name=person.name, institution=person.institution or _("institution not given"), this=this,
                        other=other, how=how)
        elif warning.code == "venue_overlap":
            message = _("%(venue)s is booked by %(this)s and by %(other)s at overlapping times.",
                        venue=warning.venue, this=this, other=other)
        elif warning.code == "outside_edition":
            message = _("%(this)s is not held within Academic Month %(number)d (%(first)s to %(last)s).", this=this,
                        number=edition.number, first=edition.starts_on.isoformat(), last=edition.ends_on.isoformat())
        else:
            booking = ends[warning.bookings[0]]
            message = _("The timetable of %(this)s ends at %(end)s, after the session ends (%(session_end)s).",
                        this=this, end=_clock(booking.programme_ends_at), session_end=_clock(booking.ends_at))
        views.append(WarningView(warning.code, message, tuple(warning.bookings)))
    return views


def _clock(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def session_warnings(session: ReportSession) -> list[WarningView]:
    """What is wrong with the session's place in the month: its people or its venue at another
    session or event at the same time, its dates outside its edition, a timetable too long."""
    event, edition = session.event, session.edition
    bookings = _bookings(event.starts_at, event.ends_at, [session])
    found = timetable.find_warnings(bookings, first_day=edition.starts_on, last_day=edition.ends_on, zone=BEIJING,
                                    focus=[event.id])
    return _worded(found, bookings, edition)


def edition_warnings(edition: AcademicMonthEdition) -> list[WarningView]:
    """Every warning of the edition's report sessions across the month (staff's overview)."""
    sessions = list(db.session.scalars(select(ReportSession).where(ReportSession.edition_id == edition.id)
                                       .options(joinedload(ReportSession.event))))
    start, end = day_start(edition.starts_on), day_start(edition.ends_on + timedelta(days=1))
    bookings = _bookings(start, end, sessions)
    found = timetable.find_warnings(bookings, first_day=edition.starts_on, last_day=edition.ends_on, zone=BEIJING,
                                    focus=[session.event_id for session in sessions
                                           if session.event.status != EventStatus.CANCELLED])
    return _worded(found, bookings, edition)


# --- published versions ----------------------------------------------------------------------------


def latest_version(session: ReportSession) -> ProgrammeVersion | None:
    """The programme released last (what the public pages show), None before publishing."""
    return db.session.scalar(select(ProgrammeVersion).where(ProgrammeVersion.session_id == session.id)
                             .order_by(ProgrammeVersion.number.desc()).limit(1))


def version_of(session: ReportSession, number: int) -> ProgrammeVersion:
    """Version ``number`` of the session's programme; a 404 ServiceError when there is none."""
    version = db.session.scalar(select(ProgrammeVersion).where(ProgrammeVersion.session_id == session.id,
                                                               ProgrammeVersion.number == number))
    if version is None:
        raise ServiceError(_("This version of the programme does not exist."), 404)
    return version


def appointments(programme: Mapping[str, Any]) -> dict[int, dict]:
    """Per invitation on a frozen programme: what they are there for. A speaker: the talk's
    times and the venue; a guest: the discussion blocks' times (the whole session without
    one) and the venue. Comparing two versions' appointments tells who is affected."""
    venue = programme["venue"]
    discussions = [[slot["starts_at"], slot["ends_at"]] for slot in programme["slots"] if slot["kind"] == "discussion"]
    found = {}
    for slot in programme["slots"]:
        if slot["speaker"] is not None:
            found[slot["speaker"]["invitation_id"]] = {"role": "speaker", "times": [[slot["starts_at"],
                                                                                    slot["ends_at"]]],
                                                       "venue": venue, "title": slot["title"]}
    for guest in programme["guests"]:
        found[guest["invitation_id"]] = {"role": "guest", "venue": venue, "title": None,
                                         "times": discussions or [[programme["starts_at"], programme["ends_at"]]]}
    return found


def programme_people(programme: Mapping[str, Any]) -> set[int]:
    """The invitations a frozen programme lists."""
    return set(appointments(programme))
