"""Brand salon series (高频次、小规模、深层次学术沙龙): the series with its documented
topic-selection mechanism (规范化选题机制), the topics members propose and the committee's
recorded decisions, the sessions (salon-session events with a core topic, an initiator and
named main discussants), and the progress toward the year's targets.

A session counts as held once it is marked held, or is published and over (the rule of
``facts.held_events``); the series' person-times are the check-ins of its published and
held sessions (``attendance``: one check-in is one person-time, imported ones included).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from conference_app.audit.services import (
    record,
    record_changes,
    register_action_titles,
    register_field_titles,
    register_object_type_titles,
    snapshot,
)
from conference_app.core.db import column_length, contains_text, utcnow
from conference_app.core.excel import Column, workbook_bytes
from conference_app.core.permissions import user_can
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text, strip_nul
from conference_app.core.timeutil import beijing_date
from conference_app.events.models import (
    CheckIn,
    District,
    Event,
    EventKind,
    EventOrganisation,
    EventStatus,
    PersonRole,
    SalonSeries,
    TopicProposal,
    TopicStatus,
)
from conference_app.events.services import events as event_services
from conference_app.events.services.attendance import (
    COUNTED_STATUSES,
    PersonTimes,
    event_person_times,
    person_times_columns,
)
from conference_app.extensions import db
from conference_app.organisations.models import Organisation, OrganisationStatus, PastEventRole
from conference_app.workflow import Transition, Workflow

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_SESSIONS_TARGET = 100
MAX_PERSON_TIMES_TARGET = 100_000
LONG_TEXT = 20_000
PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.HELD)

SERIES_FIELD_LABELS = {
    "title_zh": _l("Chinese title"),
    "title_en": _l("English title"),
    "year": _l("Year"),
    "description": _l("Description"),
    "topic_mechanism": _l("Topic-selection mechanism"),
    "committee": _l("Topic committee"),
    "venue": _l("Fixed venue"),
    "district": _l("District"),
    "sessions_target": _l("Sessions in the year (target)"),
    "person_times_target": _l("Person-times in the year (target)"),
}
SERIES_FIELDS = tuple(SERIES_FIELD_LABELS)

register_object_type_titles({"SalonSeries": _l("Salon series")})
register_field_titles("SalonSeries", SERIES_FIELD_LABELS)
register_action_titles({
    "series.created": _l("Salon series started"),
    "series.updated": _l("Salon series edited"),
    "series.session_added": _l("Session added to the salon series"),
    "topic.proposed": _l("Topic proposed"),
})


# --- the topic decisions, as a transition table ------------------------------------------------


def _no_session_uses(proposal: TopicProposal) -> str | None:
    if proposal.sessions:
        return _("A session is built on this topic; it cannot be reconsidered.")
    return None


TOPIC = Workflow(
    TopicProposal,
    TopicStatus,
    [
        Transition("choose", _l("Choose the topic"), {TopicStatus.PROPOSED}, TopicStatus.CHOSEN, "events.series_edit",
                   done="chosen", done_title=_l("Topic chosen by the committee")),
        Transition("decline", _l("Do not choose it"), {TopicStatus.PROPOSED}, TopicStatus.DECLINED, "events.series_edit",
                   done="declined", done_title=_l("Topic not chosen by the committee"), comment="required",
                   comment_missing=_l("Please note why the committee did not choose the topic.")),
        Transition("reconsider", _l("Reconsider"), {TopicStatus.CHOSEN, TopicStatus.DECLINED}, TopicStatus.PROPOSED,
                   "events.series_edit", done="reconsidered", done_title=_l("Topic decision reopened"),
                   comment="required", guard=_no_session_uses),
    ],
    action_prefix="topic",
    object_title=_l("Topic proposal"),
)


# --- series ------------------------------------------------------------------------------------


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def committee_members(series: SalonSeries) -> list[str]:
    """The committee's members, one per line of ``committee``, in order."""
    return _lines(series.committee)


def _cleaned_series(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(SERIES_FIELDS)
    if unknown:  # a programming error: the forms carry only these fields
        raise ValueError(f"fields not allowed here: {sorted(unknown)}")
    values = {}
    for name in ("title_zh", "title_en", "venue"):
        values[name] = clean_text(fields.get(name), SERIES_FIELD_LABELS[name],
                                  max_length=column_length(SalonSeries, name), required=name == "title_zh")
    for name in ("description", "topic_mechanism", "committee"):
        values[name] = clean_text(fields.get(name), SERIES_FIELD_LABELS[name], max_length=LONG_TEXT,
                                  required=name != "description")
    members = _lines(values["committee"])
    if any(len(member) > 100 for member in members):
        raise ServiceError(_("Write one committee member per line (at most 100 characters each)."))
    values["committee"] = "\n".join(members)
    year = fields.get("year")
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ServiceError(_("The year is from %(min)d to %(max)d.", min=MIN_YEAR, max=MAX_YEAR))
    values["year"] = year
    district = fields.get("district") or None
    if district is not None and district not in set(District):
        raise ServiceError(_("Please choose the district of Beijing where the event takes place."))
    values["district"] = District(district) if district else None
    for name, maximum in (("sessions_target", MAX_SESSIONS_TARGET), ("person_times_target", MAX_PERSON_TIMES_TARGET)):
        target = fields.get(name)
        if not isinstance(target, int) or not 1 <= target <= maximum:
            raise ServiceError(_("%(field)s is a whole number from 1 to %(max)d.", field=SERIES_FIELD_LABELS[name],
                                 max=maximum))
        values[name] = target
    return values


SERIES_CONFLICTS = {"uq_salon_series_title": _l("This organisation has a series of this title in that year already."),
                    "salon_series.organisation_id": _l("This organisation has a series of this title in that year "
                                                       "already.")}


def _check_title_free(organisation_id: int, year: int, title_zh: str, series_id: int | None) -> None:
    with db.session.no_autoflush:
        taken = db.session.scalar(select(SalonSeries.id).where(
            SalonSeries.organisation_id == organisation_id, SalonSeries.year == year, SalonSeries.title_zh == title_zh,
            SalonSeries.id != (series_id or -1)))
    if taken is not None:
        raise ServiceError(SERIES_CONFLICTS["uq_salon_series_title"])


def create_series(fields: Mapping[str, Any], *, creator, organisation_id: int | None = None) -> SalonSeries:
    """Start a salon series with its topic-selection mechanism and committee. A society's
    user starts one for its own organisation; staff name the (approved) organisation."""
    if not user_can(creator, "events.series_create"):
        raise ServiceError(_("You may not start a salon series."), 403)
    if not user_can(creator, "events.manage"):  # only staff start series for other organisations
        organisation_id = creator.organisation_id
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None or organisation.status != OrganisationStatus.APPROVED:
        raise ServiceError(_("Please choose the approved organisation that holds the series."))
    values = _cleaned_series(fields)
    _check_title_free(organisation.id, values["year"], values["title_zh"], None)
    series = SalonSeries(organisation=organisation, **values)
    db.session.add(series)
    flush(SERIES_CONFLICTS)
    record("series.created", series, details={"organisation_id": organisation.id})
    return series


def update_series(series: SalonSeries, fields: Mapping[str, Any]) -> None:
    """Change a series' description, mechanism, committee, venue or targets (its organisation stays)."""
    values = _cleaned_series(fields)
    _check_title_free(series.organisation_id, values["year"], values["title_zh"], series.id)
    if values["year"] != series.year and any(session.status != EventStatus.CANCELLED for session in series.sessions):
        raise ServiceError(_("The series has sessions in %(year)d; its year cannot change.", year=series.year))
    before = snapshot(series, values)
    for name, value in values.items():
        setattr(series, name, value)
    flush(SERIES_CONFLICTS)
    record_changes("series.updated", series, before)


def series_query(viewer, *, year: int | None = None, search: str | None = None):
    """The series a viewer lists: staff every series, a society's user its organisation's,
    anybody else the series with a published or held session; newest year first."""
    query = select(SalonSeries).options(selectinload(SalonSeries.organisation))
    if user_can(viewer, "events.list"):
        pass  # staff: every series
    elif user_can(viewer, "events.series_create") and getattr(viewer, "organisation_id", None) is not None:
        query = query.where(SalonSeries.organisation_id == viewer.organisation_id)
    else:
        query = query.where(SalonSeries.id.in_(
            select(Event.series_id).where(Event.series_id.is_not(None), Event.status.in_(PUBLIC_STATUSES))))
    if year is not None:
        query = query.where(SalonSeries.year == year)
    search = strip_nul(search)
    if search:
        query = query.where(or_(contains_text(SalonSeries.title_zh, search), contains_text(SalonSeries.title_en, search)))
    return query.order_by(SalonSeries.year.desc(), SalonSeries.title_zh, SalonSeries.id)


# --- progress toward the year's targets -------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where a series stands against its year's targets."""

    sessions_recorded: int  # published or held sessions
    sessions_held: int
    sessions_target: int
    person_times: PersonTimes
    person_times_target: int

    @property
    def sessions_met(self) -> bool:
        return self.sessions_held >= self.sessions_target

    @property
    def person_times_met(self) -> bool:
        return self.person_times.total >= self.person_times_target

    @property
    def sessions_percent(self) -> int:
        return min(100, round(100 * self.sessions_held / self.sessions_target)) if self.sessions_target else 100

    @property
    def person_times_percent(self) -> int:
        return (min(100, round(100 * self.person_times.total / self.person_times_target))
                if self.person_times_target else 100)


def _held():
    """Held: marked held, or published and over (as ``facts.held_events`` counts them)."""
    return or_(Event.status == EventStatus.HELD, (Event.status == EventStatus.PUBLISHED) & (Event.ends_at <= utcnow()))


def progress(series_list: Iterable[SalonSeries]) -> dict[int, Progress]:
    """Progress of several series in two queries (the list page, the series page)."""
    series_list = list(series_list)
    ids = [series.id for series in series_list]
    if not ids:
        return {}
    sessions = {series_id: (recorded, held) for series_id, recorded, held in db.session.execute(
        select(Event.series_id, func.count(Event.id), func.coalesce(func.sum(case((_held(), 1), else_=0)), 0))
        .where(Event.series_id.in_(ids), Event.status.in_(COUNTED_STATUSES)).group_by(Event.series_id))}
    attendance = {series_id: PersonTimes(total, imported) for series_id, total, imported in db.session.execute(
        select(Event.series_id, *person_times_columns()).select_from(CheckIn).join(Event, Event.id == CheckIn.event_id)
        .where(Event.series_id.in_(ids), Event.status.in_(COUNTED_STATUSES)).group_by(Event.series_id))}
    return {
        series.id: Progress(*sessions.get(series.id, (0, 0)), series.sessions_target,
                            attendance.get(series.id, PersonTimes()), series.person_times_target)
        for series in series_list
    }


SERIES_COLUMNS = [
    Column(_l("Organisation holding it"), lambda row: row[0].organisation.name_zh, 30),
    Column(_l("Year"), lambda row: row[0].year, 8),
    Column(_l("Salon series"), lambda row: row[0].title_zh, 36),
    Column(_l("Fixed venue"), lambda row: row[0].venue, 24),
    Column(_l("Sessions held"), lambda row: row[1].sessions_held, 10),
    Column(_l("Sessions in the year (target)"), lambda row: row[1].sessions_target, 10),
    Column(_l("Person-times"), lambda row: row[1].person_times.total, 10),
    Column(_l("Of which imported"), lambda row: row[1].person_times.imported, 10),
    Column(_l("Person-times in the year (target)"), lambda row: row[1].person_times_target, 10),
]
EXPORT_MAX_ROWS = 10_000


def series_workbook(query) -> bytes:
    """The listed series with their progress as a workbook (the list's export)."""
    listed = list(db.session.scalars(query.limit(EXPORT_MAX_ROWS)))
    found = progress(listed)
    return workbook_bytes(_l("Salon series"), SERIES_COLUMNS, [(series, found[series.id]) for series in listed])


# --- the series page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionLine:
    """A session on the series page: the event, its number in the series, people and person-times."""

    number: int
    event: Event
    held: bool
    initiators: list
    discussants: list
    person_times: PersonTimes


@dataclass(frozen=True)
class SeriesPage:
    series: SalonSeries
    progress: Progress
    sessions: list[SessionLine]
    proposals: list[TopicProposal]
    chart: dict


def _is_held(event: Event) -> bool:
    return event.status == EventStatus.HELD or (event.status == EventStatus.PUBLISHED and event.ends_at <= utcnow())


def series_page(series: SalonSeries, *, manage: bool) -> SeriesPage:
    """What the series page shows: its sessions (those in draft or cancelled only to those who
    manage it), progress, the topic-selection record (undecided proposals only to managers)
    and the chart data; a fixed number of queries whatever the number of sessions."""
    query = (select(Event).where(Event.series_id == series.id).options(selectinload(Event.people))
             .order_by(Event.starts_at, Event.id))
    if not manage:
        query = query.where(Event.status.in_(PUBLIC_STATUSES))
    events = list(db.session.scalars(query))
    attendance = event_person_times(event.id for event in events)
    lines, number = [], 0
    for event in events:
        counted = event.status in COUNTED_STATUSES
        if counted:
            number += 1  # drafts and cancelled sessions are not numbered
        lines.append(SessionLine(
            number if counted else 0, event, _is_held(event),
            [p for p in event.people if p.role == PersonRole.INITIATOR],
            [p for p in event.people if p.role == PersonRole.DISCUSSANT],
            attendance.get(event.id, PersonTimes()),
        ))
    proposals_query = (select(TopicProposal).where(TopicProposal.series_id == series.id)
                       .options(selectinload(TopicProposal.sessions)).order_by(TopicProposal.id))
    if not manage:
        proposals_query = proposals_query.where(TopicProposal.status != TopicStatus.PROPOSED)
    proposals = list(db.session.scalars(proposals_query))
    series_progress = progress([series])[series.id]
    return SeriesPage(series, series_progress, lines, proposals, _chart(lines))


def _chart(lines: list[SessionLine]) -> dict:
    """Chart data: person-times per session (bars) and cumulated (line). The year's target is
    shown beside it as a number and a progress bar: drawn in the chart it would flatten the
    first sessions' bars to nothing."""
    counted = [line for line in lines if line.event.status in COUNTED_STATUSES]
    running, cumulative = 0, []
    for line in counted:
        running += line.person_times.total
        cumulative.append(running)
    return {
        "labels": [_("Session %(number)d (%(date)s)", number=line.number,
                     date=beijing_date(line.event.starts_at).strftime("%m-%d")) for line in counted],
        "datasets": [
            {"type": "bar", "label": _("Person-times of the session"),
             "data": [line.person_times.total for line in counted]},
            {"type": "line", "label": _("Person-times so far"), "data": cumulative},
        ],
    }


def public_sessions(series: SalonSeries) -> list[Event]:
    """The published and held sessions, in order, with their organisations (the series' .ics)."""
    return list(db.session.scalars(
        select(Event).where(Event.series_id == series.id, Event.status.in_(PUBLIC_STATUSES))
        .options(selectinload(Event.organisations).selectinload(EventOrganisation.organisation))
        .order_by(Event.starts_at, Event.id)))


# --- topic proposals and decisions ------------------------------------------------------------


def propose_topic(series: SalonSeries, fields: Mapping[str, Any], *, proposer) -> TopicProposal:
    """A member of the series' organisation (or staff) proposes a topic with its rationale,
    in their own name or on behalf of a named member."""
    if not user_can(proposer, "events.series_edit", series):
        raise ServiceError(_("Only the members of the series' organisation propose topics."), 403)
    title = clean_text(fields.get("title"), _("Topic"), max_length=column_length(TopicProposal, "title"),
                       required=True, required_message=_("Please give the topic."))
    rationale = clean_text(fields.get("rationale"), _("Rationale"), max_length=LONG_TEXT, required=True,
                           required_message=_("Please say why the topic is worth a session."))
    proposed_by = clean_text(fields.get("proposed_by"), _("Proposed by"),
                             max_length=column_length(TopicProposal, "proposed_by")) or proposer.name
    proposal = TopicProposal(series=series, title=title, rationale=rationale, proposed_by=proposed_by,
                             proposed_by_user_id=proposer.id, status=TopicStatus.PROPOSED)
    db.session.add(proposal)
    flush()
    record("topic.proposed", proposal, to_state=proposal.status, actor=proposer,
           details={"series_id": series.id, "proposed_by": proposed_by})
    return proposal


def decide_topic(proposal: TopicProposal, decision: str, *, actor, decided_by: Iterable[str],
                 note: str | None = None) -> None:
    """Record the committee's decision on a proposal: ``decision`` "choose" or "decline", by
    the named committee members (at least one, each on the series' committee), with a note
    (required when not chosen). Audited as the transition, with the members' names."""
    if decision not in ("choose", "decline"):
        raise ServiceError(_("Please say whether the committee chose the topic."))
    members, ticked = committee_members(proposal.series), set(decided_by or ())
    names = [name for name in members if name in ticked]  # in the committee's order
    if not names:
        raise ServiceError(_("Please tick the committee members who took the decision."))
    if ticked - set(members):
        raise ServiceError(_("Only members of the series' committee decide on topics."))
    entry = TOPIC.apply(proposal, decision, actor=actor, comment=note, details={"decided_by": names})
    proposal.decided_by = "、".join(names)
    proposal.decided_at = utcnow()
    proposal.decision_note = entry.comment
    flush()


def reconsider_topic(proposal: TopicProposal, *, actor, comment: str | None) -> None:
    """Take a decision back (no session may be built on the topic): it is proposed again."""
    TOPIC.apply(proposal, "reconsider", actor=actor, comment=comment)
    proposal.decided_by = proposal.decided_at = proposal.decision_note = None
    flush()


# --- sessions ----------------------------------------------------------------------------------

_PERSON_SEPARATORS = re.compile(r"\s*[,，;；\t]\s*")


def people_from_lines(text: str | None) -> list[dict[str, str | None]]:
    """People typed one per line as "name, organisation, title" (commas, Chinese commas,
    semicolons or tabs between; organisation and title may be left out)."""
    people = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = _PERSON_SEPARATORS.split(line.strip(), maxsplit=2) + [None, None]
        people.append({"name": parts[0], "organisation": parts[1] or None, "title": parts[2] or None})
    return people


SESSION_EVENT_FIELDS = ("title_zh", "title_en", "description", "starts_at", "ends_at", "venue", "district", "mode",
                        "capacity", "discipline")


def add_session(series: SalonSeries, fields: Mapping[str, Any], *, creator, initiator: Mapping[str, Any],
                discussants: list[Mapping[str, Any]], publish: bool = False) -> Event:
    """Add a session to the series: a salon-session event hosted by the series' organisation,
    on a topic the committee chose (its core topic), at the series' fixed venue unless
    another is given, in the series' year, with its initiator (发起人) and at least one named
    main discussant (主要参与研讨人员) on the programme; published at once when ``publish``."""
    if not user_can(creator, "events.series_edit", series):
        raise ServiceError(_("You may not add sessions to this series."), 403)
    topic = db.session.get(TopicProposal, fields.get("topic_id") or 0)
    if topic is None or topic.series_id != series.id or topic.status != TopicStatus.CHOSEN:
        raise ServiceError(_("Please choose one of the topics the committee chose."))
    if not strip_nul((initiator or {}).get("name")):
        raise ServiceError(_("Please name the initiator of the session."))
    if not discussants:
        raise ServiceError(_("Please name the main discussants, one per line."))
    starts_at = fields.get("starts_at")
    if isinstance(starts_at, datetime) and beijing_date(starts_at).year != series.year:
        raise ServiceError(_("A session of this series takes place in %(year)d.", year=series.year))
    values = {name: fields.get(name) for name in SESSION_EVENT_FIELDS if name in fields}
    values["title_zh"] = values.get("title_zh") or f"{series.title_zh}：{topic.title}"
    values["venue"] = values.get("venue") or series.venue
    values["district"] = values.get("district") or series.district
    values.update(kind=EventKind.SALON_SESSION, series_id=series.id, topic_id=topic.id, core_topic=topic.title,
                  in_beijing=True)
    event = event_services.create_event(values, [(series.organisation_id, PastEventRole.HOST.value)], creator=creator)
    event_services.add_person(event, {**initiator, "role": PersonRole.INITIATOR.value, "position": 0})
    for position, person in enumerate(discussants, start=1):
        event_services.add_person(event, {**person, "role": PersonRole.DISCUSSANT.value, "position": position})
    record("series.session_added", series, actor=creator, details={"event_id": event.id, "topic_id": topic.id})
    if publish:
        event_services.change_state(event, "publish", actor=creator)
    return event


def chosen_topics(series: SalonSeries) -> list[TopicProposal]:
    """The topics the committee chose, for a new session's topic menu."""
    return list(db.session.scalars(select(TopicProposal).where(
        TopicProposal.series_id == series.id, TopicProposal.status == TopicStatus.CHOSEN).order_by(TopicProposal.id)))
