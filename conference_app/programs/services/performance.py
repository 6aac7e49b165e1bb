"""A funded project's performance indicators, evaluated from the recorded facts.

The facts of a project are the events the society links to it (events of the events domain
that its organisation holds) and the sessions of its salon series, with their check-ins
(person-times), people and filings, and the results it records here (outcomes, cases,
news items, documents whose Chinese characters are counted from the file). They are read in
a fixed number of queries; ``programs.indicators`` does the judging, purely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from conference_app.audit.services import record, register_action_titles, register_object_type_titles
from conference_app.core.db import column_length, utcnow
from conference_app.core.services import ServiceError
from conference_app.core.text import clean_text
from conference_app.core.timeutil import beijing_date, beijing_today
from conference_app.core.uploads import store_upload, upload_file
from conference_app.events.models import Event, EventMode, EventOrganisation, EventStatus, FilingStatus, PersonRole
from conference_app.events.services.attendance import event_person_times
from conference_app.extensions import db
from conference_app.programs import documents, indicators
from conference_app.programs.models import (
    FUNDED_STATES,
    Application,
    CallCategory,
    ProjectEvent,
    ProjectRecord,
    RecordKind,
)
from conference_app.programs.services.calls import call_definition

register_object_type_titles({"ProjectRecord": _l("Project result")})
register_action_titles({
    "application.event_linked": _l("Event counted for the project"),
    "application.event_unlinked": _l("Event no longer counted for the project"),
    "project_record.added": _l("Project result recorded"),
    "project_record.removed": _l("Project result removed"),
})

RECORD_FILE_KINDS = ("pdf", "docx", "pptx", "xlsx", "png", "jpg")
RECORD_MAX_BYTES = 20 * 1024 * 1024


def _is_held(event: Event) -> bool:
    return event.status == EventStatus.HELD or (event.status == EventStatus.PUBLISHED and event.ends_at <= utcnow())


def _speaker(person) -> indicators.SpeakerFact:
    return indicators.SpeakerFact(
        name=person.name, organisation=person.organisation or "", is_leading_figure=person.is_leading_figure,
        leading_reason=person.leading_reason or "", rank=str(person.rank) if person.rank else None,
        is_keynote=person.is_keynote, talk_title=person.talk_title or "", talk_minutes=person.talk_minutes,
        on_site=person.on_site)


def project_events(application: Application) -> list[tuple[Event, str]]:
    """The events that count for the project, each with the applicant's role in it: those
    linked to it and the sessions of its salon series."""
    linked = select(ProjectEvent.event_id).where(ProjectEvent.application_id == application.id)
    condition = Event.id.in_(linked)
    if application.series_id is not None:
        condition = or_(condition, Event.series_id == application.series_id)
    rows = db.session.execute(
        select(Event, EventOrganisation.role)
        .join(EventOrganisation, (EventOrganisation.event_id == Event.id)
              & (EventOrganisation.organisation_id == application.organisation_id))
        .where(condition).options(selectinload(Event.people)).order_by(Event.starts_at))
    return [(event, str(role)) for event, role in rows]


def project_facts(application: Application) -> indicators.ProjectFacts:
    category = call_definition(application.call).category(application.category.code)
    events = project_events(application)
    person_times = event_person_times([event.id for event, _role in events])
    event_facts = []
    for event, role in events:
        checked_in = person_times.get(event.id)
        total = checked_in.total if checked_in else 0
        offline = event.mode != EventMode.ONLINE
        people = event.people
        event_facts.append(indicators.EventFact(
            event_id=event.id, title=event.title_zh, kind=str(event.kind), role=role,
            starts_on=beijing_date(event.starts_at), ends_on=beijing_date(event.ends_at), in_beijing=event.in_beijing,
            held=_is_held(event), filing_approved=event.filing_status == FilingStatus.APPROVED, offline=offline,
            person_times=total if offline else 0, person_times_online=0 if offline else total, participants=total,
            series_id=event.series_id, core_topic=event.core_topic,
            initiators=tuple(p.name for p in people if p.role == PersonRole.INITIATOR),
            discussants=tuple(p.name for p in people if p.role == PersonRole.DISCUSSANT),
            speakers=tuple(_speaker(p) for p in people if p.role == PersonRole.SPEAKER)))
    series = ()
    if application.series is not None:
        chosen = sum(1 for proposal in application.series.proposals if proposal.status == "chosen")
        series = (indicators.SeriesFact(application.series.id, application.series.title_zh,
                                        bool((application.series.topic_mechanism or "").strip()), chosen),)
    records = tuple(indicators.RecordFact(
        record_id=r.id, kind=str(r.kind), subkind=r.subkind, title=r.title, link=r.link, site=r.site,
        recorded_on=r.recorded_on, char_count=r.char_count, file_name=r.file_name) for r in application.records)
    period = category.period
    return indicators.ProjectFacts(
        today=beijing_today(),
        period_start=period.start if period else application.call.opens_on,
        period_end=period.end if period else application.call.closes_on,
        publishes_journal=application.organisation.publishes_journal,
        events=tuple(event_facts), records=records, series=series)


def project_indicators(application: Application):
    """The indicators of the project's category (and chosen form)."""
    return call_definition(application.call).category(application.category.code).all_indicators(
        application.form_code)


def evaluate_project(application: Application) -> list[indicators.IndicatorResult]:
    """Every indicator of the project: met / not met / waiting (or for people to judge), with evidence."""
    return indicators.evaluate_all(project_indicators(application), project_facts(application))


@dataclass(frozen=True)
class CategoryRow:
    application: Application
    results: list[indicators.IndicatorResult]


def category_table(category: CallCategory) -> tuple[list, list[CategoryRow]]:
    """The funded projects of a category with each indicator's result: (indicators, rows)."""
    applications = db.session.scalars(
        select(Application).where(Application.category_id == category.id,
                                  Application.status.in_([str(s) for s in FUNDED_STATES]))
        .options(selectinload(Application.organisation), selectinload(Application.records))
        .order_by(Application.id))
    rows = [CategoryRow(application, evaluate_project(application)) for application in applications]
    codes = category.definition().all_indicators(None)
    return codes, rows


# --- what the project records ------------------------------------------------------------------

def link_event(application: Application, event: Event, *, actor) -> None:
    """Count an event the applicant holds (in any role) for the project."""
    if application.status not in FUNDED_STATES:
        raise ServiceError(_("Events are counted for approved projects."), 409)
    if application.organisation_id not in event.running_organisation_ids:
        raise ServiceError(_("Only an event the organisation holds can count for its project."), 403)
    if any(link.event_id == event.id for link in application.linked_events):
        raise ServiceError(_("This event counts for the project already."), 409)
    application.linked_events.append(ProjectEvent(event_id=event.id))
    record("application.event_linked", application, actor=actor, details={"event_id": event.id,
                                                                           "event": event.title_zh})


def unlink_event(application: Application, link: ProjectEvent, *, actor) -> None:
    application.linked_events.remove(link)
    record("application.event_unlinked", application, actor=actor, details={"event_id": link.event_id})


def add_record(application: Application, fields: Mapping[str, Any], file=None, *, actor) -> ProjectRecord:
    """A result of the project; a document's Chinese characters are counted from its file."""
    if application.status not in FUNDED_STATES:
        raise ServiceError(_("Results are recorded for approved projects."), 409)
    if fields.get("kind") not in set(RecordKind):
        raise ServiceError(_("Please choose what kind of result this is."))
    kind = RecordKind(fields["kind"])
    subkinds = {RecordKind.OUTCOME: indicators.OUTCOME_KIND_TITLES,
                RecordKind.DOCUMENT: indicators.DOCUMENT_KIND_TITLES}.get(kind)
    subkind = (fields.get("subkind") or None) if subkinds is not None else None
    if subkind is not None and subkind not in subkinds:
        raise ServiceError(_("Please choose a kind that fits: %(kinds)s.", kinds="、".join(subkinds.values())))
    recorded_on = fields.get("recorded_on") or beijing_today()
    if recorded_on > beijing_today():
        raise ServiceError(_("The date cannot be in the future."))
    entry = ProjectRecord(
        kind=kind, recorded_on=recorded_on,
        subkind=subkind,
        title=clean_text(fields.get("title"), _l("Title"), max_length=column_length(ProjectRecord, "title"),
                         required=True),
        link=clean_text(fields.get("link"), _l("Link"), max_length=column_length(ProjectRecord, "link")),
        site=clean_text(fields.get("site"), _l("Medium or site"), max_length=column_length(ProjectRecord, "site")),
    )
    if entry.link and not entry.link.startswith(("http://", "https://")):
        raise ServiceError(_("A link starts with http:// or https://."))
    if file is not None and getattr(file, "filename", ""):
        stored = store_upload(file, "project-records", allowed=RECORD_FILE_KINDS, max_bytes=RECORD_MAX_BYTES)
        entry.file_path, entry.file_name = stored.path, stored.original_name
        if stored.extension in ("docx", "pdf"):
            try:
                entry.char_count = documents.count_document(upload_file(stored.path).read_bytes(), stored.extension)
            except documents.DocumentUnreadable as error:
                raise ServiceError(str(error)) from None
    if kind == RecordKind.DOCUMENT and entry.char_count is None:
        raise ServiceError(_("A document is recorded with its DOCX or PDF file, so its length can be counted."))
    application.records.append(entry)
    db.session.flush()
    record("project_record.added", entry, actor=actor,
           details={"application_id": application.id, "kind": str(kind), "subkind": entry.subkind,
                    "chars": entry.char_count})
    return entry


def remove_record(entry: ProjectRecord, *, actor) -> None:
    application = entry.application
    application.records.remove(entry)
    record("project_record.removed", entry, actor=actor, details={"application_id": application.id})
