"""A project's performance indicators, evaluated against the facts recorded for it.

Pure: the services build the facts (frozen dataclasses below) from events, check-ins,
records and salon series; an indicator is the call file's typed object (``call_schema``),
read by its attribute names. Each evaluator says what it counted, in Chinese, with evidence.

Counting indicators count what falls inside the indicator's window (else the project's
period): an event when it starts inside and is held, a record when it is recorded inside.
An indicator is met once its target is reached; otherwise it is waiting while the window
lasts (the project can still do it) and not met after it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

DEFAULT_ROLES = ("host", "co_host", "main_organiser")

EVENT_KIND_TITLES = {
    "international": "国际学术会议",
    "national": "全国性学术会议",
    "regional": "区域性（京津冀）学术会议",
    "annual_meeting": "学术年会",
    "salon_session": "学术沙龙",
    "report_session": "学术报告会",
    "other": "其他学术交流活动",
}
ROLE_TITLES = {"host": "主办", "co_host": "联合主办", "main_organiser": "主要承办"}
OUTCOME_KIND_TITLES = {
    "expert_consensus": "专家共识",
    "proceedings": "会议论文集",
    "white_paper": "白皮书",
    "industry_report": "产业报告",
    "popular_science": "科普资源",
    "research_report": "研究报告",
    "recommendation": "建议",
    "standard": "标准",
    "other": "其他成果",
}
DOCUMENT_KIND_TITLES = {
    "summary_report": "项目总结报告",
    "research_report": "研究报告",
    "recommendation": "建议报告",
    "plan": "工作方案",
    "other": "其他文件",
}
RANK_TITLES = {"academician": "院士", "renowned_expert": "知名专家"}
DELIVERABLE_TITLES = {"special_issue": "会议专刊", "publicity": "宣传报道", "summary_report": "项目总结报告"}


@dataclass(frozen=True)
class SpeakerFact:
    """A speaker on an event's programme."""

    name: str
    organisation: str
    is_leading_figure: bool
    leading_reason: str
    rank: str | None  # academician | renowned_expert | None
    is_keynote: bool
    talk_title: str
    talk_minutes: int | None
    on_site: bool


@dataclass(frozen=True)
class EventFact:
    """One of the project's events, with what happened there."""

    event_id: int
    title: str
    kind: str
    role: str  # host | co_host | main_organiser: the project organisation's role
    starts_on: date
    ends_on: date
    in_beijing: bool
    held: bool
    filing_approved: bool  # the international-conference filing is approved
    offline: bool  # offline or both
    person_times: int  # offline check-ins
    person_times_online: int
    participants: int  # distinct people checked in
    series_id: int | None
    core_topic: str | None
    initiators: tuple[str, ...]
    discussants: tuple[str, ...]
    speakers: tuple[SpeakerFact, ...]


@dataclass(frozen=True)
class RecordFact:
    """Something the project recorded: an outcome, a case, a news item, a document ..."""

    record_id: int
    kind: str  # outcome | typical_case | problem | news_item | slide_deck | special_issue | publicity | document
    subkind: str | None  # the outcome kind or the document kind
    title: str
    link: str | None
    site: str | None
    recorded_on: date
    char_count: int | None  # documents: the counted Chinese characters
    file_name: str | None


@dataclass(frozen=True)
class SeriesFact:
    """One of the project's salon series."""

    series_id: int
    title: str
    mechanism_documented: bool
    chosen_topics: int


@dataclass(frozen=True)
class ProjectFacts:
    """Everything a project's indicators are evaluated against."""

    today: date
    period_start: date
    period_end: date
    publishes_journal: bool
    events: tuple[EventFact, ...]
    records: tuple[RecordFact, ...]
    series: tuple[SeriesFact, ...]


@dataclass(frozen=True)
class Evidence:
    """One thing an evaluation counted (or left out, saying why)."""

    label: str
    detail: str
    ref_type: str | None  # "event" | "record" | "series" | None
    ref_id: int | None


@dataclass(frozen=True)
class IndicatorResult:
    """The verdict on one indicator."""

    code: str
    kind: str
    text_zh: str
    status: str  # met | not_met | waiting | not_applicable | needs_review
    value: int | None
    target: int | None
    evidence: tuple[Evidence, ...]
    explanation: str


def evaluate(indicator, facts: ProjectFacts) -> IndicatorResult:
    """The verdict on ``indicator``; ValueError for a kind this module does not know."""
    try:
        evaluator = EVALUATORS[indicator.kind]
    except KeyError:
        raise ValueError(f"unknown indicator kind: {indicator.kind!r}") from None
    return evaluator(indicator, facts)


def evaluate_all(indicators: Iterable, facts: ProjectFacts) -> list[IndicatorResult]:
    """The verdicts on ``indicators``, in their order."""
    return [evaluate(indicator, facts) for indicator in indicators]


# Shared pieces


def _window(indicator, facts: ProjectFacts) -> tuple[date, date]:
    window = getattr(indicator, "window", None)
    return (window.start, window.end) if window is not None else (facts.period_start, facts.period_end)


def _status(reached: bool, indicator, facts: ProjectFacts) -> str:
    if reached:
        return "met"
    return "waiting" if facts.today <= _window(indicator, facts)[1] else "not_met"


def _result(indicator, facts, reached, explanation, evidence=(), value=None, target=None) -> IndicatorResult:
    return IndicatorResult(indicator.code, indicator.kind, indicator.text_zh, _status(reached, indicator, facts),
                           value, target, tuple(evidence), explanation)


def _count_result(indicator, facts, value: int, target: int, noun: str, unit: str, evidence) -> IndicatorResult:
    return _result(indicator, facts, value >= target, f"{noun} {value} {unit}，要求不少于 {target} {unit}",
                   evidence, value, target)


def _held_events(indicator, facts: ProjectFacts, kinds=None) -> list[EventFact]:
    """Held events starting inside the window, in one of the indicator's roles, of ``kinds`` (all when empty)."""
    start, end = _window(indicator, facts)
    roles = getattr(indicator, "roles", DEFAULT_ROLES)  # not every kind names roles
    return [event for event in facts.events
            if event.held and start <= event.starts_on <= end and event.role in roles
            and (not kinds or event.kind in kinds)]


def _kinds_phrase(kinds) -> str:
    if not kinds or set(kinds) >= set(EVENT_KIND_TITLES):
        return "学术交流活动"
    return "、".join(EVENT_KIND_TITLES[kind] for kind in kinds)


def _dates(event: EventFact) -> str:
    if event.ends_on == event.starts_on:
        return event.starts_on.isoformat()
    return f"{event.starts_on.isoformat()}至{event.ends_on.isoformat()}"


def _event_line(event: EventFact) -> str:
    return f"{EVENT_KIND_TITLES[event.kind]}，{_dates(event)}，{ROLE_TITLES[event.role]}"


def _event_evidence(event: EventFact, detail: str | None = None) -> Evidence:
    return Evidence(event.title, detail or _event_line(event), "event", event.event_id)


def _records(indicator, facts: ProjectFacts, kind: str) -> list[RecordFact]:
    """Records of ``kind`` recorded inside the window."""
    start, end = _window(indicator, facts)
    return [record for record in facts.records if record.kind == kind and start <= record.recorded_on <= end]


def _record_evidence(record: RecordFact, note: str = "") -> Evidence:
    parts = [record.recorded_on.isoformat()]
    if record.kind == "outcome" and record.subkind:
        parts.append(OUTCOME_KIND_TITLES[record.subkind])
    if record.site:
        parts.append(record.site)
    if record.link:
        parts.append(record.link)
    return Evidence(record.title, "，".join(parts) + note, "record", record.record_id)


# Events


def _events(indicator, facts):
    """Held events of the kinds in the window; in Beijing (or outside it) as asked; with the
    international-conference filing approved when asked; ``including`` a number of some kinds."""
    counted, evidence = [], []
    for event in _held_events(indicator, facts, indicator.event_kinds):
        shortfalls = []
        if event.in_beijing != indicator.in_beijing:
            shortfalls.append("不在北京举办" if indicator.in_beijing else "在北京举办")
        if indicator.filing_approved and not event.filing_approved:
            shortfalls.append("国际学术会议报备审批未获批准")
        if shortfalls:
            evidence.append(_event_evidence(event, f"{_event_line(event)}；{'、'.join(shortfalls)}，未计入"))
        else:
            counted.append(event)
            evidence.append(_event_evidence(event))
    where = "在京" if indicator.in_beijing else "京外"
    explanation = (f"{where}举办{_kinds_phrase(indicator.event_kinds)} {len(counted)} 场，"
                   f"要求不少于 {indicator.min_count} 场")
    if indicator.filing_approved:
        explanation += "（须完成国际学术会议报备审批）"
    reached = len(counted) >= indicator.min_count
    including = indicator.including
    if including is not None:
        within = sum(event.kind in including.event_kinds for event in counted)
        explanation += f"；其中{_kinds_phrase(including.event_kinds)} {within} 场，要求不少于 {including.min_count} 场"
        reached = reached and within >= including.min_count
    return _result(indicator, facts, reached, explanation, evidence, len(counted), indicator.min_count)


def _attendance(indicator, facts):
    """Check-ins (person-times) of the counted events: offline only, or offline and online."""
    events = _held_events(indicator, facts, indicator.event_kinds)
    if indicator.offline_only:
        total = sum(event.person_times for event in events)
        evidence = [_event_evidence(event, f"{_event_line(event)}；线下签到 {event.person_times} 人次")
                    for event in events]
        noun = "线下签到"
    else:
        total = sum(event.person_times + event.person_times_online for event in events)
        evidence = [_event_evidence(event, f"{_event_line(event)}；线下签到 {event.person_times} 人次，"
                                           f"线上 {event.person_times_online} 人次") for event in events]
        noun = "线上线下签到"
    return _count_result(indicator, facts, total, indicator.min_person_times, noun, "人次", evidence)


def _participants_per_event(indicator, facts):
    """The largest number of distinct people checked in at one counted event."""
    events = _held_events(indicator, facts, indicator.event_kinds)
    target = indicator.min_participants
    evidence = [_event_evidence(event, f"{_event_line(event)}；签到 {event.participants} 人") for event in events]
    best = max(events, key=lambda event: event.participants, default=None)
    if best is None:
        explanation = f"尚无已举办的{_kinds_phrase(indicator.event_kinds)}，要求至少一场签到不少于 {target} 人"
        return _result(indicator, facts, False, explanation, evidence, 0, target)
    explanation = f"单场签到最多 {best.participants} 人（{best.title}），要求至少一场不少于 {target} 人"
    return _result(indicator, facts, best.participants >= target, explanation, evidence, best.participants, target)


# Salon series


def _series_sessions(indicator, facts) -> list[EventFact]:
    """Held salon sessions of a series, inside the window."""
    return [event for event in _held_events(indicator, facts, ("salon_session",)) if event.series_id is not None]


def _sessions(indicator, facts):
    """Held sessions of the project's salon series in the window."""
    sessions = _series_sessions(indicator, facts)
    evidence = [_event_evidence(event, f"{_dates(event)}；核心议题：{event.core_topic or '未填写'}") for event in sessions]
    return _count_result(indicator, facts, len(sessions), indicator.min_sessions, "已举办系列沙龙", "期", evidence)


def _session_roles(indicator, facts):
    """Every held session has a core topic, an initiator and at least one named discussant."""
    sessions = _series_sessions(indicator, facts)
    evidence, failing = [], 0
    for session in sessions:
        missing = [name for name, present in (("核心议题", session.core_topic), ("发起人", session.initiators),
                                              ("主要研讨人员", session.discussants)) if not present]
        if missing:
            failing += 1
            evidence.append(_event_evidence(session, f"{_dates(session)}；缺少{'、'.join(missing)}"))
        else:
            evidence.append(_event_evidence(session, f"{_dates(session)}；核心议题：{session.core_topic}；"
                                                     f"发起人：{'、'.join(session.initiators)}；"
                                                     f"主要研讨人员：{'、'.join(session.discussants)}"))
    if not sessions:
        explanation = "尚无已举办的系列沙龙"
    elif failing:
        explanation = f"已举办系列沙龙 {len(sessions)} 期，其中 {failing} 期缺少核心议题、发起人或主要研讨人员"
    else:
        explanation = f"已举办系列沙龙 {len(sessions)} 期，每期均有核心议题、发起人和主要研讨人员"
    return _result(indicator, facts, bool(sessions) and not failing, explanation, evidence,
                   len(sessions) - failing, len(sessions))


def _topic_mechanism(indicator, facts):
    """A series documents its topic-selection mechanism and has chosen at least one topic."""
    evidence = [Evidence(series.title, f"选题机制{'已' if series.mechanism_documented else '未'}记录；"
                                       f"已确定议题 {series.chosen_topics} 个", "series", series.series_id)
                for series in facts.series]
    working = [series for series in facts.series if series.mechanism_documented and series.chosen_topics >= 1]
    if working:
        explanation = f"系列沙龙“{working[0].title}”已记录选题机制，确定议题 {working[0].chosen_topics} 个"
    elif facts.series:
        explanation = "系列沙龙尚未记录选题机制或尚未确定议题"
    else:
        explanation = "尚未登记系列沙龙"
    return _result(indicator, facts, bool(working), explanation, evidence)


# Speakers


def _talk(speaker: SpeakerFact) -> str:
    return f"{speaker.name}《{speaker.talk_title}》" if speaker.talk_title else speaker.name


def _leading_figure_talks(indicator, facts):
    """Talks by speakers flagged leading figures, across the counted events."""
    evidence = [Evidence(_talk(speaker), "；".join(filter(None, (event.title, speaker.organisation,
                                                               speaker.leading_reason))), "event", event.event_id)
                for event in _held_events(indicator, facts) for speaker in event.speakers if speaker.is_leading_figure]
    return _count_result(indicator, facts, len(evidence), indicator.min_count, "领军人物作报告", "场", evidence)


def _experts_of_rank(indicator, facts):
    """Distinct speakers (by name) of the ranks, across the counted events."""
    ranks = indicator.ranks
    first_talks = {}
    for event in _held_events(indicator, facts):
        for speaker in event.speakers:
            if speaker.rank in ranks:
                first_talks.setdefault(speaker.name, (event, speaker))
    evidence = [Evidence(name, f"{RANK_TITLES[speaker.rank]}，{speaker.organisation}；{event.title}",
                         "event", event.event_id) for name, (event, speaker) in first_talks.items()]
    noun = "或".join(RANK_TITLES[rank] for rank in RANK_TITLES if rank in ranks)
    return _count_result(indicator, facts, len(first_talks), indicator.min_count, noun, "位", evidence)


def _minutes(speaker: SpeakerFact) -> str:
    return f"{speaker.talk_minutes} 分钟" if speaker.talk_minutes is not None else "未填写报告时长"


def _talk_minutes(indicator, facts):
    """Every keynote of the counted events lasts at least the minutes; none recorded is not enough."""
    minimum = indicator.min_minutes
    keynotes = [(event, speaker) for event in _held_events(indicator, facts)
                for speaker in event.speakers if speaker.is_keynote]
    if not keynotes:
        evidence = [Evidence("主旨报告", "尚未记录主旨报告", None, None)]
        explanation = f"尚未记录主旨报告，要求每个主旨报告不少于 {minimum} 分钟"
        return _result(indicator, facts, False, explanation, evidence, None, minimum)
    evidence = [Evidence(_talk(speaker), f"{event.title}：{_minutes(speaker)}", "event", event.event_id)
                for event, speaker in keynotes]
    short = [speaker for _, speaker in keynotes if speaker.talk_minutes is None or speaker.talk_minutes < minimum]
    shortest = min((speaker.talk_minutes for _, speaker in keynotes if speaker.talk_minutes is not None), default=None)
    if short:
        explanation = (f"主旨报告 {len(keynotes)} 个，其中 {len(short)} 个短于 {minimum} 分钟或未填写时长"
                       f"（{'、'.join(speaker.name for speaker in short)}）")
    else:
        explanation = f"主旨报告 {len(keynotes)} 个，最短 {shortest} 分钟，要求每个不少于 {minimum} 分钟"
    return _result(indicator, facts, not short, explanation, evidence, shortest, minimum)


# Records


def _document_length(indicator, facts):
    """The longest document of the kind, in counted Chinese characters (any date: the window
    only decides waiting or not met)."""
    title = DOCUMENT_KIND_TITLES[indicator.document_kind]
    target = indicator.min_chars
    documents = [record for record in facts.records
                 if record.kind == "document" and record.subkind == indicator.document_kind]
    evidence = [Evidence(record.title, f"{record.file_name or '文件'}："
                                       + (f"{record.char_count} 字" if record.char_count is not None else "未能计数"),
                         "record", record.record_id) for record in documents]
    best = max((record.char_count for record in documents if record.char_count is not None), default=None)
    if not documents:
        explanation = f"尚未上传{title}，要求不少于 {target} 字"
    elif best is None:
        explanation = f"{title}未能计数（文件无法读取），要求不少于 {target} 字"
    else:
        explanation = f"{title}最长 {best} 字，要求不少于 {target} 字"
    return _result(indicator, facts, best is not None and best >= target, explanation, evidence, best, target)


def _outcomes(indicator, facts):
    outcomes = [record for record in _records(indicator, facts, "outcome")
                if not indicator.outcome_kinds or record.subkind in indicator.outcome_kinds]
    noun = "成果"
    if indicator.outcome_kinds:
        noun += f"（{'、'.join(OUTCOME_KIND_TITLES[kind] for kind in indicator.outcome_kinds)}）"
    return _count_result(indicator, facts, len(outcomes), indicator.min_count, noun, "项",
                         [_record_evidence(record) for record in outcomes])


def _record_counter(kind: str, noun: str, unit: str):
    """An evaluator counting the records of ``kind`` in the window."""

    def count(indicator, facts):
        records = _records(indicator, facts, kind)
        return _count_result(indicator, facts, len(records), indicator.min_count, noun, unit,
                             [_record_evidence(record) for record in records])

    return count


def _on_sites(record: RecordFact, sites) -> bool:
    where = f"{record.site or ''} {record.link or ''}".lower()
    return any(site.lower() in where for site in sites)


def _news_items(indicator, facts):
    """News items in the window, on one of the named sites (any site when none are named)."""
    counted, evidence = 0, []
    for record in _records(indicator, facts, "news_item"):
        if not indicator.sites or _on_sites(record, indicator.sites):
            counted += 1
            evidence.append(_record_evidence(record))
        else:
            evidence.append(_record_evidence(record, "；不在指定网站，未计入"))
    noun = "新闻报道" + (f"（{'、'.join(indicator.sites)}）" if indicator.sites else "")
    return _count_result(indicator, facts, counted, indicator.min_count, noun, "篇", evidence)


def _deliverable(indicator, facts):
    """A record of the deliverable exists (any date); a special issue only for a journal publisher when so written."""
    title = DELIVERABLE_TITLES[indicator.deliverable]
    if indicator.only_if_publishes_journal and not facts.publishes_journal:
        return IndicatorResult(indicator.code, indicator.kind, indicator.text_zh, "not_applicable", None, None, (),
                               f"申报单位不出版期刊，{title}不适用")
    if indicator.deliverable == "summary_report":
        found = [record for record in facts.records if record.kind == "document" and record.subkind == "summary_report"]
    else:
        found = [record for record in facts.records if record.kind == indicator.deliverable]
    explanation = f"已记录{title} {len(found)} 项" if found else f"尚未记录{title}"
    return _result(indicator, facts, bool(found), explanation, [_record_evidence(record) for record in found],
                   len(found), 1)


def _reviewed_text(indicator, facts):
    """Read by people, never computed."""
    return IndicatorResult(indicator.code, indicator.kind, indicator.text_zh, "needs_review", None, None, (),
                           "由评审专家或市科协学会部审阅，系统不作计算")


EVALUATORS = {
    "events": _events,
    "attendance": _attendance,
    "participants_per_event": _participants_per_event,
    "series_sessions": _sessions,
    "session_roles": _session_roles,
    "topic_mechanism": _topic_mechanism,
    "outcomes": _outcomes,
    "typical_cases": _record_counter("typical_case", "典型案例", "个"),
    "problems_addressed": _record_counter("problem", "推动解决前沿学术或技术问题", "个"),
    "leading_figure_talks": _leading_figure_talks,
    "experts_of_rank": _experts_of_rank,
    "talk_minutes": _talk_minutes,
    "document_length": _document_length,
    "slide_decks": _record_counter("slide_deck", "报告课件", "份"),
    "news_items": _news_items,
    "deliverable": _deliverable,
    "reviewed_text": _reviewed_text,
}
