"""Publishing a report session's programme, and publishing it again after a change.

Publishing is refused until at least ``MIN_ON_SITE_SPEAKERS`` talks have a speaker who
accepted on site and ``MIN_GUESTS`` discussion guest has accepted; the refusal lists what is
missing. Each release freezes the timetable and its people as a numbered ``ProgrammeVersion``
(pretalx releases its schedules the same way): the public pages show the latest, the earlier
ones stay. The first release publishes the event (through the events services) and writes
the people onto its programme (speakers, guests, the moderator as chair), so the calendar,
the search and the project's indicators see them. A later release compares itself with the
one before and tells the invitees it concerns: those now on the programme, those whose time
or venue changed, those taken off it (unless they declined themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conference_app.core.db import lock
from conference_app.core.services import flush
from conference_app.core.timeutil import BEIJING
from conference_app.events.models import EventStatus, PersonRole
from conference_app.events.services import events as event_services
from conference_app.extensions import db
from conference_app.organisations.models import PastEventRole
from conference_app.report_sessions.models import (
    Attendance,
    Invitation,
    InvitationRole,
    InvitationStatus,
    ProgrammeVersion,
    ReportSession,
    ReportSessionStatus,
    SlotKind,
)
from conference_app.report_sessions.services.invitations import invitation_link, tell_invitee
from conference_app.report_sessions.services.sessions import appointments, latest_version, schedule
from conference_app.report_sessions.workflow import REPORT_SESSION

MIN_ON_SITE_SPEAKERS = 4
MIN_GUESTS = 1


def on_site_speakers(session: ReportSession) -> int:
    """The talks of the timetable whose speaker accepted to speak on site."""
    return sum(1 for entry in schedule(session)
               if entry.speaker is not None and entry.speaker.attendance == Attendance.ON_SITE)


def accepted_guests(session: ReportSession) -> list[Invitation]:
    return [invitation for invitation in session.invitations
            if invitation.role == InvitationRole.GUEST and invitation.status == InvitationStatus.ACCEPTED]


def missing_for_publishing(session: ReportSession) -> list[str]:
    """What the session still needs before its programme is published, one sentence each."""
    missing = []
    speakers, guests = on_site_speakers(session), len(accepted_guests(session))
    if speakers < MIN_ON_SITE_SPEAKERS:
        missing.append(_("%(more)d more speakers who accept to speak on site (%(count)d of the %(min)d needed "
                         "have)", more=MIN_ON_SITE_SPEAKERS - speakers, count=speakers, min=MIN_ON_SITE_SPEAKERS))
    if guests < MIN_GUESTS:
        missing.append(_("a discussion guest who accepts (%(count)d of the %(min)d needed have)", count=guests,
                         min=MIN_GUESTS))
    if not session.event.venue:
        missing.append(_("the venue"))
    if session.event.status == EventStatus.CANCELLED:
        missing.append(_("an event that is not cancelled"))
    return missing


def publishing_refusal(session: ReportSession) -> str | None:
    """The REPORT_SESSION guard: why the programme may not be published, None when it may."""
    missing = missing_for_publishing(session)
    if missing:
        return _("The programme cannot be published yet. Missing: %(missing)s.", missing="; ".join(missing))
    return None


def republishing_refusal(session: ReportSession) -> str | None:
    """As ``publishing_refusal``, and something must have changed since the last release."""
    refusal = publishing_refusal(session)
    if refusal is not None:
        return refusal
    latest = latest_version(session)
    if latest is not None and latest.programme == programme_snapshot(session):
        return _("Nothing has changed since version %(number)d was published.", number=latest.number)
    return None


def has_unpublished_changes(session: ReportSession) -> bool:
    """The session differs from its last release (always True before the first)."""
    latest = latest_version(session)
    return latest is None or latest.programme != programme_snapshot(session)


# --- the frozen programme ------------------------------------------------------------------------


def _moment(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def _person(invitation: Invitation) -> dict:
    return {"invitation_id": invitation.id, "name": invitation.name, "institution": invitation.institution,
            "attendance": invitation.attendance.value if invitation.attendance else None}


def _organisation(organisation) -> dict:
    return {"name_zh": organisation.name_zh, "name_en": organisation.name_en}


def programme_snapshot(session: ReportSession) -> dict[str, Any]:
    """The programme as it would be released now: the event's facts, the timetable with its
    times, results and accepted speakers, the accepted guests and the moderator (plain JSON;
    a block's title None means its kind's name, in the reader's language)."""
    event = session.event
    slots = []
    for position, entry in enumerate(schedule(session), start=1):
        slot, candidate = entry.slot, entry.slot.candidate
        result = None
        if slot.kind == SlotKind.TALK and candidate is not None:
            result = {"candidate_id": candidate.id, "work_id": candidate.work_id, "title": candidate.title,
                      "doi": candidate.doi, "journal": candidate.source_name, "year": candidate.publication_year}
        slots.append({
            "slot_id": slot.id, "position": position, "kind": slot.kind.value, "minutes": slot.minutes,
            "title": slot.title or (candidate.title if result is not None else None),
            "starts_at": _moment(entry.starts_at), "ends_at": _moment(entry.ends_at), "result": result,
            "speaker": _person(entry.speaker) if entry.speaker is not None else None,
        })
    organisations = event.organisations
    return {
        "title_zh": event.title_zh, "title_en": event.title_en, "description": event.description,
        "starts_at": _moment(event.starts_at), "ends_at": _moment(event.ends_at), "venue": event.venue,
        "district": event.district.value if event.district else None, "mode": event.mode.value,
        "capacity": event.capacity, "edition": session.edition.number,
        "hosts": [_organisation(link.organisation) for link in organisations if link.role == PastEventRole.HOST],
        "co_hosts": [_organisation(link.organisation) for link in organisations
                     if link.role == PastEventRole.CO_HOST],
        "moderator": ({"name": session.moderator_name, "institution": session.moderator_institution}
                      if session.moderator_name else None),
        "slots": slots,
        "guests": [_person(invitation) for invitation in accepted_guests(session)],
    }


# --- publishing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """A release: its version and the invitations told, by why."""

    version: ProgrammeVersion
    added: list[int]
    changed: list[int]
    removed: list[int]
    talks_without_speaker: int  # talks listed with their speaker still to be confirmed


def publish(session: ReportSession, *, actor) -> Release:
    """Publish the programme (the first time, or again after a change) as its next version."""
    lock(f"{ReportSession.__tablename__}:{session.id}")  # the version number is read under the lock
    db.session.refresh(session)
    transition = "publish" if session.status == ReportSessionStatus.DRAFT else "republish"
    previous = latest_version(session)
    programme = programme_snapshot(session)
    before, after = (appointments(previous.programme) if previous is not None else {}), appointments(programme)
    statuses = {invitation.id: invitation.status for invitation in session.invitations}
    added = [key for key in after if key not in before]
    changed = [key for key in after if key in before and after[key] != before[key]]
    removed = [key for key in before if key not in after and statuses.get(key) != InvitationStatus.DECLINED]
    number = previous.number + 1 if previous is not None else 1
    notified = {"added": added, "changed": changed, "removed": removed}
    REPORT_SESSION.apply(session, transition, actor=actor, details={"version": number, "notified": notified})
    event = session.event
    if event.status == EventStatus.DRAFT:
        event_services.change_state(event, "publish", actor=actor)
    _write_event_people(session, programme)
    version = ProgrammeVersion(session_id=session.id, number=number, programme=programme, notified=notified,
                               created_by_id=actor.id)
    db.session.add(version)
    flush()
    invitations = {invitation.id: invitation for invitation in session.invitations}
    for key in added:
        _tell_listed(invitations[key], after[key], number, first=previous is None)
    for key in changed:
        _tell_changed(invitations[key], before[key], after[key], number)
    for key in removed:
        _tell_removed(invitations[key], number)
    talks_without_speaker = sum(1 for slot in programme["slots"] if slot["kind"] == "talk" and not slot["speaker"])
    return Release(version, added, changed, removed, talks_without_speaker)


_MANAGED_ROLES = (PersonRole.SPEAKER, PersonRole.GUEST, PersonRole.CHAIR)
_KEPT_FIELDS = ("title", "is_leading_figure", "leading_reason", "rank", "is_keynote")  # set on the event's pages


def _wanted_people(session: ReportSession, programme: dict) -> list[dict]:
    def on_site(person: dict) -> bool:
        return person["attendance"] == Attendance.ON_SITE

    wanted = []
    if session.moderator_name:
        wanted.append({"role": PersonRole.CHAIR, "name": session.moderator_name, "position": 0,
                       "organisation": (session.moderator_institution or "")[:200] or None})
    for slot in programme["slots"]:
        speaker = slot["speaker"]
        if speaker is not None:
            wanted.append({"role": PersonRole.SPEAKER, "name": speaker["name"], "position": slot["position"],
                           "organisation": (speaker["institution"] or "")[:200] or None,
                           "talk_title": (slot["title"] or "")[:300] or None, "talk_minutes": slot["minutes"],
                           "on_site": on_site(speaker)})
    for position, guest in enumerate(programme["guests"], start=1):
        wanted.append({"role": PersonRole.GUEST, "name": guest["name"], "position": position,
                       "organisation": (guest["institution"] or "")[:200] or None, "on_site": on_site(guest)})
    return wanted


def _write_event_people(session: ReportSession, programme: dict) -> None:
    """The event's speakers, guests and chair are the released programme's (through the
    events services, each change audited there); what the event's pages add (a leading
    figure's reason, a professional title) is kept."""
    event = session.event
    existing = {(str(person.role), person.name): person for person in event.people if person.role in _MANAGED_ROLES}
    for fields in _wanted_people(session, programme):
        person = existing.pop((str(fields["role"]), fields["name"]), None)
        if person is None:
            event_services.add_person(event, fields)
        else:
            event_services.update_person(person, {**{name: getattr(person, name) for name in _KEPT_FIELDS},
                                                  **fields})
    for person in existing.values():
        event_services.remove_person(person)


# --- telling the invitees ---------------------------------------------------------------------------


def _clock(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(BEIJING)


def _appointment_text(appointment: dict) -> str:
    times = ", ".join(f"{_clock(start):%Y-%m-%d %H:%M}–{_clock(end):%H:%M}" for start, end in appointment["times"])
    if appointment["role"] == "speaker":
        return _("your talk \"%(title)s\", %(times)s, %(venue)s", title=appointment["title"] or "", times=times,
                 venue=appointment["venue"] or "")
    return _("the discussion, %(times)s, %(venue)s", times=times, venue=appointment["venue"] or "")


def _tell_listed(invitation: Invitation, appointment: dict, number: int, *, first: bool) -> None:
    title = invitation.session.event.title_zh
    with_text = _l("Dear %(name)s,\n\nthe programme of %(session)s is published (version %(number)d). You are on "
                   "it: %(appointment)s.\n\nYour invitation: %(link)s\n", name=invitation.name, session=title,
                   number=number, appointment=_LazyAppointment(appointment), link=invitation_link(invitation))
    subject = (_l("The programme of %(session)s is published", session=title) if first
               else _l("You are on the programme of %(session)s", session=title))
    tell_invitee(invitation, subject, with_text)


def _tell_changed(invitation: Invitation, before: dict, after: dict, number: int) -> None:
    title = invitation.session.event.title_zh
    tell_invitee(invitation, _l("Your time at %(session)s has changed", session=title), _l(
        "Dear %(name)s,\n\nthe programme of %(session)s has changed (version %(number)d). You are now on it: "
        "%(appointment)s (before: %(before)s).\n\nYour invitation: %(link)s\n", name=invitation.name, session=title,
        number=number, appointment=_LazyAppointment(after), before=_LazyAppointment(before),
        link=invitation_link(invitation)))


def _tell_removed(invitation: Invitation, number: int) -> None:
    title = invitation.session.event.title_zh
    tell_invitee(invitation, _l("You are no longer on the programme of %(session)s", session=title), _l(
        "Dear %(name)s,\n\nthe changed programme of %(session)s (version %(number)d) no longer lists you. Please "
        "contact the organisers with any question; we are sorry for the trouble.\n", name=invitation.name,
        session=title, number=number))


class _LazyAppointment:
    """An appointment worded when the mail is written, in the recipient's language."""

    def __init__(self, appointment: dict) -> None:
        self.appointment = appointment

    def __str__(self) -> str:
        return _appointment_text(self.appointment)
