"""Indicators evaluated from a project's facts: every kind, its boundaries, windows and filters."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from conference_app.programs.indicators import (
    EventFact,
    ProjectFacts,
    RecordFact,
    SeriesFact,
    SpeakerFact,
    evaluate,
    evaluate_all,
)

PERIOD = (date(2026, 7, 1), date(2026, 12, 31))
DURING = date(2026, 9, 30)
AFTER = date(2027, 1, 15)

# The contract's parameters with their defaults; stand-ins for call_schema's models.
DEFAULTS = {
    "events": {"event_kinds": ["international"], "min_count": 1, "roles": ["host", "co_host", "main_organiser"],
               "in_beijing": True, "filing_approved": False, "including": None},
    "attendance": {"min_person_times": 400, "event_kinds": None, "offline_only": True},
    "participants_per_event": {"event_kinds": ["annual_meeting"], "min_participants": 100},
    "series_sessions": {"min_sessions": 4},
    "session_roles": {},
    "topic_mechanism": {},
    "outcomes": {"min_count": 1, "outcome_kinds": None},
    "typical_cases": {"min_count": 1},
    "problems_addressed": {"min_count": 3},
    "leading_figure_talks": {"min_count": 1},
    "experts_of_rank": {"min_count": 3, "ranks": ["academician", "renowned_expert"]},
    "talk_minutes": {"min_minutes": 45},
    "document_length": {"document_kind": "summary_report", "min_chars": 4000},
    "slide_decks": {"min_count": 5},
    "news_items": {"min_count": 1, "sites": None},
    "deliverable": {"deliverable": "publicity", "only_if_publishes_journal": False},
    "reviewed_text": {},
}


def indicator(kind, window=None, **params):
    """An indicator of ``kind`` with the contract's defaults; ``window`` as (start, end)."""
    fields = {"code": "X1", "kind": kind, "text_zh": "指标原文", **DEFAULTS[kind], **params}
    fields["window"] = SimpleNamespace(start=window[0], end=window[1]) if window else None
    return SimpleNamespace(**fields)


def speaker(name="张三", **fields):
    values = {"name": name, "organisation": "北京大学", "is_leading_figure": False, "leading_reason": "",
              "rank": None, "is_keynote": False, "talk_title": "报告", "talk_minutes": None, "on_site": True}
    return SpeakerFact(**{**values, **fields})


_ids = iter(range(1, 10_000))


def event(kind="international", starts_on=date(2026, 9, 10), **fields):
    values = {"event_id": next(_ids), "title": f"{kind}会议", "kind": kind, "role": "host", "starts_on": starts_on,
              "ends_on": starts_on, "in_beijing": True, "held": True, "filing_approved": True, "offline": True,
              "person_times": 0, "person_times_online": 0, "participants": 0, "series_id": None,
              "core_topic": None, "initiators": (), "discussants": (), "speakers": ()}
    return EventFact(**{**values, **fields})


def session(starts_on=date(2026, 9, 10), **fields):
    values = {"series_id": 1, "core_topic": "议题", "initiators": ("李四",), "discussants": ("王五",)}
    return event("salon_session", starts_on, **{**values, **fields})


def record(kind, recorded_on=date(2026, 10, 1), **fields):
    values = {"record_id": next(_ids), "kind": kind, "subkind": None, "title": f"{kind}记录", "link": None,
              "site": None, "recorded_on": recorded_on, "char_count": None, "file_name": None}
    return RecordFact(**{**values, **fields})


def facts(today=AFTER, events=(), records=(), series=(), publishes_journal=False):
    return ProjectFacts(today, *PERIOD, publishes_journal, tuple(events), tuple(records), tuple(series))


# Status and the window


@pytest.mark.parametrize("person_times, today, status", [
    (399, AFTER, "not_met"),
    (400, AFTER, "met"),
    (399, DURING, "waiting"),
    (399, PERIOD[1], "waiting"),  # the last day of the window still counts as "can still do it"
    (400, DURING, "met"),
])
def test_attendance_boundary(person_times, today, status):
    result = evaluate(indicator("attendance"), facts(today, [event(person_times=person_times)]))
    assert (result.status, result.value, result.target) == (status, person_times, 400)
    assert result.explanation == f"线下签到 {person_times} 人次，要求不少于 400 人次"


def test_attendance_sums_the_counted_events_offline_only_by_default():
    events = [event(person_times=150, person_times_online=500), event("other", person_times=250),
              event(person_times=900, held=False), event(person_times=900, starts_on=date(2026, 6, 30))]
    result = evaluate(indicator("attendance"), facts(events=events))
    assert (result.status, result.value) == ("met", 400)
    assert len(result.evidence) == 2
    assert "线下签到 150 人次" in result.evidence[0].detail


def test_attendance_online_too_and_of_some_kinds():
    events = [event(person_times=150, person_times_online=100), event("other", person_times=900)]
    result = evaluate(indicator("attendance", offline_only=False, event_kinds=["international"]), facts(events=events))
    assert (result.status, result.value) == ("not_met", 250)
    assert "线上 100 人次" in result.evidence[0].detail


def test_an_explicit_window_replaces_the_period():
    window = (date(2026, 10, 1), date(2026, 11, 30))
    events = [event(starts_on=date(2026, 9, 30), person_times=300),
              event(starts_on=date(2026, 10, 1), person_times=100),
              event(starts_on=date(2026, 11, 30), person_times=50)]
    result = evaluate(indicator("attendance", window=window), facts(date(2026, 12, 1), events))
    assert (result.status, result.value) == ("not_met", 150)  # the window is over although the period is not
    assert evaluate(indicator("attendance", window=window), facts(date(2026, 11, 30), events)).status == "waiting"


def test_roles_filter_the_events():
    events = [event(role="co_host", person_times=400)]
    assert evaluate(indicator("attendance"), facts(events=events)).status == "met"
    assert evaluate(indicator("attendance", roles=["host"]), facts(events=events)).status == "not_met"


# events


def test_an_international_conference_in_beijing_is_met():
    conference = event(title="国际人工智能大会")
    result = evaluate(indicator("events"), facts(events=[conference]))
    assert (result.status, result.value, result.target) == ("met", 1, 1)
    assert result.evidence[0].label == "国际人工智能大会"
    assert (result.evidence[0].ref_type, result.evidence[0].ref_id) == ("event", conference.event_id)


@pytest.mark.parametrize("today, status", [(AFTER, "not_met"), (DURING, "waiting")])
def test_the_only_international_conference_without_an_approved_filing(today, status):
    conference = event(title="国际脑科学论坛", filing_approved=False)
    result = evaluate(indicator("events", filing_approved=True), facts(today, [conference]))
    assert (result.status, result.value) == (status, 0)
    (evidence,) = result.evidence
    assert evidence.label == "国际脑科学论坛"
    assert "国际学术会议报备审批未获批准" in evidence.detail and "未计入" in evidence.detail
    assert "须完成国际学术会议报备审批" in result.explanation


def test_events_outside_beijing_not_held_or_outside_the_period_do_not_count():
    events = [event(in_beijing=False, title="上海会议"), event(held=False), event(starts_on=date(2027, 1, 5)),
              event(starts_on=date(2026, 6, 30)), event("national")]
    result = evaluate(indicator("events"), facts(events=events))
    assert (result.status, result.value) == ("not_met", 0)
    (evidence,) = result.evidence
    assert evidence.label == "上海会议" and "不在北京举办" in evidence.detail


def test_events_outside_beijing_when_so_asked():
    result = evaluate(indicator("events", in_beijing=False), facts(events=[event(in_beijing=False), event()]))
    assert (result.status, result.value) == ("met", 1)
    assert result.explanation.startswith("京外举办国际学术会议 1 场")
    assert "在北京举办，未计入" in result.evidence[1].detail


def test_events_including_a_number_of_some_kinds():
    rule = indicator("events", event_kinds=["international", "national", "other"], min_count=2,
                     including=SimpleNamespace(event_kinds=["international"], min_count=1))
    without = evaluate(rule, facts(events=[event("national"), event("other")]))
    assert (without.status, without.value) == ("not_met", 2)
    assert "其中国际学术会议 0 场，要求不少于 1 场" in without.explanation
    met = evaluate(rule, facts(events=[event("international"), event("other")]))
    assert met.status == "met"
    assert evaluate(rule, facts(events=[event("international")])).status == "not_met"


# participants_per_event


@pytest.mark.parametrize("participants, status", [(99, "not_met"), (100, "met")])
def test_participants_of_the_largest_event(participants, status):
    events = [event("annual_meeting", participants=participants, title="年会"), event("annual_meeting", participants=40),
              event("international", participants=500)]
    result = evaluate(indicator("participants_per_event"), facts(events=events))
    assert (result.status, result.value, result.target) == (status, participants, 100)
    assert "年会" in result.explanation


def test_participants_without_any_event():
    result = evaluate(indicator("participants_per_event"), facts(DURING))
    assert (result.status, result.value) == ("waiting", 0)
    assert "尚无已举办的学术年会" in result.explanation


# Salon series


@pytest.mark.parametrize("count, status", [(3, "not_met"), (4, "met")])
def test_series_sessions(count, status):
    sessions = [session(date(2026, 9, day)) for day in range(1, count + 1)]
    others = [session(date(2026, 6, 1)), session(series_id=None), session(held=False)]
    result = evaluate(indicator("series_sessions"), facts(events=sessions + others))
    assert (result.status, result.value, result.target) == (status, count, 4)
    assert result.explanation == f"已举办系列沙龙 {count} 期，要求不少于 4 期"


def test_session_roles_every_session_complete():
    result = evaluate(indicator("session_roles"), facts(events=[session(), session()]))
    assert (result.status, result.value, result.target) == ("met", 2, 2)
    assert "发起人：李四" in result.evidence[0].detail


def test_session_roles_name_the_failing_sessions():
    events = [session(title="第一期"), session(title="第二期", discussants=()),
              session(title="第三期", core_topic=None, initiators=())]
    result = evaluate(indicator("session_roles"), facts(events=events))
    assert (result.status, result.value, result.target) == ("not_met", 1, 3)
    failing = {evidence.label: evidence.detail for evidence in result.evidence if "缺少" in evidence.detail}
    assert set(failing) == {"第二期", "第三期"}
    assert "缺少主要研讨人员" in failing["第二期"] and "缺少核心议题、发起人" in failing["第三期"]


def test_session_roles_without_sessions():
    result = evaluate(indicator("session_roles"), facts())
    assert (result.status, result.explanation) == ("not_met", "尚无已举办的系列沙龙")


@pytest.mark.parametrize("documented, topics, status", [(True, 1, "met"), (True, 0, "not_met"), (False, 5, "not_met")])
def test_topic_mechanism(documented, topics, status):
    result = evaluate(indicator("topic_mechanism"), facts(series=[SeriesFact(7, "前沿沙龙", documented, topics)]))
    assert result.status == status
    assert (result.evidence[0].ref_type, result.evidence[0].ref_id) == ("series", 7)


def test_topic_mechanism_without_a_series():
    result = evaluate(indicator("topic_mechanism"), facts(DURING))
    assert (result.status, result.explanation) == ("waiting", "尚未登记系列沙龙")


# Speakers


def test_leading_figure_talks():
    talk = speaker("钱院士", is_leading_figure=True, leading_reason="中国科学院院士")
    result = evaluate(indicator("leading_figure_talks"), facts(events=[event(speakers=(talk, speaker()))]))
    assert (result.status, result.value) == ("met", 1)
    assert "中国科学院院士" in result.evidence[0].detail
    unheld = facts(events=[event(held=False, speakers=(talk,)), event(speakers=(speaker(),))])
    assert evaluate(indicator("leading_figure_talks"), unheld).status == "not_met"


def test_experts_of_rank_count_distinct_names_of_the_ranks():
    first = event(speakers=(speaker("甲", rank="academician"), speaker("乙", rank="renowned_expert")))
    second = event(speakers=(speaker("甲", rank="academician"), speaker("丙", rank="renowned_expert"), speaker("丁")))
    result = evaluate(indicator("experts_of_rank"), facts(events=[first, second]))
    assert (result.status, result.value) == ("met", 3)
    assert [evidence.label for evidence in result.evidence] == ["甲", "乙", "丙"]
    only_academicians = evaluate(indicator("experts_of_rank", ranks=["academician"]), facts(events=[first, second]))
    assert (only_academicians.status, only_academicians.value) == ("not_met", 1)
    assert only_academicians.explanation == "院士 1 位，要求不少于 3 位"


@pytest.mark.parametrize("minutes, status", [(44, "not_met"), (45, "met")])
def test_talk_minutes_of_every_keynote(minutes, status):
    keynotes = (speaker("甲", is_keynote=True, talk_minutes=60), speaker("乙", is_keynote=True, talk_minutes=minutes),
                speaker("丙", talk_minutes=10))
    result = evaluate(indicator("talk_minutes"), facts(events=[event(speakers=keynotes)]))
    assert (result.status, result.value, result.target) == (status, minutes, 45)
    assert len(result.evidence) == 2


def test_talk_minutes_without_any_keynote():
    result = evaluate(indicator("talk_minutes"), facts(events=[event(speakers=(speaker(talk_minutes=90),))]))
    assert result.status == "not_met"
    assert result.evidence[0].detail == "尚未记录主旨报告"


def test_talk_minutes_a_keynote_without_minutes_is_named():
    keynotes = (speaker("甲", is_keynote=True, talk_minutes=60), speaker("乙", is_keynote=True, talk_title="前沿"))
    result = evaluate(indicator("talk_minutes"), facts(events=[event(speakers=keynotes)]))
    assert (result.status, result.value) == ("not_met", 60)
    assert "乙" in result.explanation
    assert any(evidence.label == "乙《前沿》" and "未填写报告时长" in evidence.detail for evidence in result.evidence)


# Records


@pytest.mark.parametrize("chars, status", [(3000, "not_met"), (3999, "not_met"), (4000, "met")])
def test_document_length_of_the_summary_report(chars, status):
    records = [record("document", subkind="summary_report", title="项目总结报告", char_count=chars, file_name="总结.docx"),
               record("document", subkind="summary_report", title="初稿", char_count=1200, file_name="初稿.pdf"),
               record("document", subkind="research_report", char_count=20000)]
    result = evaluate(indicator("document_length"), facts(records=records))
    assert (result.status, result.value, result.target) == (status, chars, 4000)
    assert [evidence.detail for evidence in result.evidence] == [f"总结.docx：{chars} 字", "初稿.pdf：1200 字"]
    assert result.explanation == f"项目总结报告最长 {chars} 字，要求不少于 4000 字"


def test_document_length_without_documents_or_unreadable():
    assert evaluate(indicator("document_length"), facts(DURING)).status == "waiting"
    unreadable = record("document", subkind="summary_report", char_count=None, file_name="坏.pdf")
    result = evaluate(indicator("document_length"), facts(records=[unreadable]))
    assert (result.status, result.value) == ("not_met", None)
    assert result.evidence[0].detail == "坏.pdf：未能计数"


def test_outcomes_of_some_kinds_in_the_window():
    records = [record("outcome", subkind="white_paper"), record("outcome", subkind="popular_science"),
               record("outcome", subkind="white_paper", recorded_on=date(2027, 1, 2)), record("typical_case")]
    assert evaluate(indicator("outcomes", min_count=2), facts(records=records)).status == "met"
    result = evaluate(indicator("outcomes", min_count=2, outcome_kinds=["white_paper", "expert_consensus"]),
                      facts(records=records))
    assert (result.status, result.value) == ("not_met", 1)
    assert result.explanation == "成果（白皮书、专家共识） 1 项，要求不少于 2 项"
    assert "白皮书" in result.evidence[0].detail


@pytest.mark.parametrize("kind, record_kind, minimum", [
    ("typical_cases", "typical_case", 1),
    ("problems_addressed", "problem", 3),
    ("slide_decks", "slide_deck", 5),
])
def test_record_counts(kind, record_kind, minimum):
    short = [record(record_kind) for _ in range(minimum - 1)] + [record(record_kind, recorded_on=date(2026, 6, 1))]
    result = evaluate(indicator(kind), facts(records=short))
    assert (result.status, result.value, result.target) == ("not_met", minimum - 1, minimum)
    enough = facts(records=short + [record(record_kind), record("outcome")])
    assert evaluate(indicator(kind), enough).status == "met"


def test_news_items_on_named_sites():
    records = [record("news_item", site="新华网", title="新华网报道"),
               record("news_item", link="https://www.bast.net.cn/art/1.html", title="市科协报道"),
               record("news_item", site="某自媒体", title="自媒体报道")]
    result = evaluate(indicator("news_items", min_count=2, sites=["新华网", "bast.net.cn"]), facts(records=records))
    assert (result.status, result.value) == ("met", 2)
    excluded = [evidence for evidence in result.evidence if "不在指定网站" in evidence.detail]
    assert [evidence.label for evidence in excluded] == ["自媒体报道"]
    assert evaluate(indicator("news_items", min_count=3), facts(records=records)).status == "met"


@pytest.mark.parametrize("publishes, records, status", [
    (False, [], "not_applicable"),
    (True, [], "not_met"),
    (True, [record("special_issue")], "met"),
])
def test_special_issue_only_for_a_journal_publisher(publishes, records, status):
    rule = indicator("deliverable", deliverable="special_issue", only_if_publishes_journal=True)
    assert evaluate(rule, facts(records=records, publishes_journal=publishes)).status == status


def test_deliverables_publicity_and_summary_report():
    summary = record("document", subkind="summary_report", recorded_on=date(2027, 1, 10))
    assert evaluate(indicator("deliverable", deliverable="summary_report"), facts(records=[summary])).status == "met"
    plan = record("document", subkind="plan")
    assert evaluate(indicator("deliverable", deliverable="summary_report"), facts(records=[plan])).status == "not_met"
    assert evaluate(indicator("deliverable"), facts(DURING)).status == "waiting"
    assert evaluate(indicator("deliverable"), facts(records=[record("publicity")])).status == "met"
    # a special issue is due from everyone unless the call says otherwise
    assert evaluate(indicator("deliverable", deliverable="special_issue"), facts()).status == "not_met"


def test_reviewed_text_is_never_computed():
    result = evaluate(indicator("reviewed_text"), facts(events=[event()]))
    assert (result.status, result.value, result.evidence) == ("needs_review", None, ())


def test_every_contract_kind_evaluates_on_empty_facts():
    results = evaluate_all([indicator(kind, code=kind) for kind in DEFAULTS], facts(DURING))
    assert [result.code for result in results] == list(DEFAULTS)
    assert all(result.text_zh == "指标原文" and result.explanation for result in results)
    assert {result.status for result in results} == {"waiting", "needs_review"}


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown indicator kind"):
        evaluate(SimpleNamespace(kind="vibes", code="X", text_zh="?"), facts())
