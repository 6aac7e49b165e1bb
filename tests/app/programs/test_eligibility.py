"""Eligibility rules checked against an applicant's facts: every kind, with its reasons."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conference_app.programs.eligibility import (
    ApplicantFacts,
    HeldEventFact,
    OtherApplication,
    check,
    refusals,
)

# The contract's parameters with their defaults; stand-ins for call_schema's models.
DEFAULTS = {
    "membership_or_journal_plan": {},
    "organisation_type": {"types": ["society", "grassroots"]},
    "held_events": {"event_kinds": ["international"], "roles": ["host", "main_organiser"], "years_back": 3,
                    "min_count": 1, "in_beijing": None},
    "events_previous_year": {"min_count": 2, "roles": ["host"],
                             "event_kinds": ["international", "national", "regional", "other"]},
    "applications_limit": {"scope": "category", "max": 1},
    "matching_funds": {"min_cny": 30000},
    "staff_confirmed": {"text_zh": "专职人员年龄45周岁以下"},
}


def rule(kind, **params):
    return SimpleNamespace(**{"kind": kind, "text_zh": None, **DEFAULTS[kind], **params})


def held(year, kind="international", role="host", source="declared", title=None, in_beijing=True):
    return HeldEventFact(source, year, kind, role, in_beijing, title or f"{year}年{kind}会议", None)


def applicant(**fields):
    values = {"organisation_name": "北京某学会", "org_type": "society", "is_bast_member": True,
              "in_journal_excellence_plan": False, "call_code": "2026-capital-academic", "call_year": 2026,
              "category_code": "A", "held_events": (), "other_applications": (), "matching_funds_fen": None,
              "confirmed_rules": frozenset()}
    return ApplicantFacts(**{**values, **fields})


def verdict(one_rule, facts):
    (result,) = check([one_rule], facts)
    return result


@pytest.mark.parametrize("member, journal_plan, status", [
    (True, False, "met"), (False, True, "met"), (True, True, "met"), (False, False, "not_met"),
])
def test_membership_or_journal_plan(member, journal_plan, status):
    result = verdict(rule("membership_or_journal_plan"),
                     applicant(is_bast_member=member, in_journal_excellence_plan=journal_plan))
    assert result.status == status
    assert result.text_zh == "加入市科协团体会员的学会、基层组织，或市科协科技期刊卓越行动计划入选单位"


def test_organisation_type():
    assert verdict(rule("organisation_type"), applicant()).status == "met"
    result = verdict(rule("organisation_type"), applicant(org_type="enterprise_association"))
    assert (result.status, result.reason) == ("not_met", "单位类型为企业科协，要求为：学会、基层组织")


def test_no_international_conference_in_the_last_three_years():
    events = (held(2022), held(2026), held(2024, kind="national"), held(2024, role="co_host"))
    result = verdict(rule("held_events"), applicant(held_events=events))
    assert result.status == "not_met"
    assert result.reason == "近3年（2023—2025年）主办或主要承办国际学术会议 0 场，要求不少于 1 场"
    assert result.evidence == ()
    assert result.text_zh == "近3年（2023—2025年）主办或主要承办国际学术会议不少于 1 场"


@pytest.mark.parametrize("source, title", [("declared", "单位填报"), ("platform", "通过平台举办")])
def test_an_international_conference_recorded_meets_it_naming_the_source(source, title):
    events = (held(2023, role="main_organiser", source=source, title="国际材料大会"),)
    result = verdict(rule("held_events"), applicant(held_events=events))
    assert result.status == "met"
    assert result.reason == "近3年（2023—2025年）主办或主要承办国际学术会议 1 场，要求不少于 1 场"
    assert result.evidence == (f"2023年 国际材料大会（国际学术会议，主要承办，{title}）",)


def test_held_events_in_beijing_when_asked():
    events = (held(2025, in_beijing=False),)
    assert verdict(rule("held_events"), applicant(held_events=events)).status == "met"
    result = verdict(rule("held_events", in_beijing=True, event_kinds=["regional"]),
                     applicant(held_events=events + (held(2025, kind="regional", in_beijing=False),)))
    assert result.status == "not_met"
    assert result.reason.startswith("近3年（2023—2025年）在京主办或主要承办区域性学术会议 0 场")


@pytest.mark.parametrize("count, status", [(1, "not_met"), (2, "met")])
def test_events_previous_year(count, status):
    events = tuple(held(2025, kind=kind) for kind in ("national", "other")[:count])
    events += (held(2024, kind="national"), held(2025, kind="national", role="main_organiser"))
    result = verdict(rule("events_previous_year"), applicant(held_events=events))
    assert result.status == status
    assert result.reason == f"上一年度（2025年）主办学术交流活动 {count} 场，要求不少于 2 场"
    assert len(result.evidence) == count


def test_applications_limit_in_the_category_or_the_call():
    others = (OtherApplication(5, "2026-capital-academic", "B", "submitted", "区域会议项目"),)
    facts = applicant(other_applications=others)
    assert verdict(rule("applications_limit"), facts).status == "met"
    in_call = verdict(rule("applications_limit", scope="call"), facts)
    assert in_call.status == "not_met"
    assert in_call.reason == "本单位在本次申报另有申报 1 项，每个单位限报 1 项（含本项）"
    assert in_call.evidence == ("《区域会议项目》（B类）",)
    assert verdict(rule("applications_limit", scope="call", max=2), facts).status == "met"
    same_category = applicant(other_applications=(OtherApplication(6, "2026-capital-academic", "A", "draft", "另一项"),))
    assert verdict(rule("applications_limit"), same_category).status == "not_met"


@pytest.mark.parametrize("fen, status, reason", [
    (None, "not_met", "未填写配套经费"),
    (2_999_999, "not_met", "配套经费 29,999.99 元，要求不少于 30,000 元"),
    (3_000_000, "met", "配套经费 30,000 元，要求不少于 30,000 元"),
])
def test_matching_funds(fen, status, reason):
    result = verdict(rule("matching_funds"), applicant(matching_funds_fen=fen))
    assert (result.status, result.reason) == (status, reason)


def test_staff_confirmed_needs_confirmation_until_confirmed():
    rules = [rule("membership_or_journal_plan"), rule("staff_confirmed")]
    waiting = check(rules, applicant())[1]
    assert (waiting.index, waiting.status, waiting.text_zh) == (1, "needs_confirmation", "专职人员年龄45周岁以下")
    confirmed = check(rules, applicant(confirmed_rules=frozenset({1})))[1]
    assert (confirmed.status, confirmed.reason) == ("met", "已由市科协学会部确认")
    assert check(rules, applicant(confirmed_rules=frozenset({0})))[1].status == "needs_confirmation"


def test_check_keeps_the_order_and_the_rules_own_words():
    rules = [rule("organisation_type", text_zh="学会或基层组织"), rule("held_events"), rule("matching_funds")]
    verdicts = check(rules, applicant(matching_funds_fen=5_000_000))
    assert [(v.index, v.kind) for v in verdicts] == [
        (0, "organisation_type"), (1, "held_events"), (2, "matching_funds")]
    assert verdicts[0].text_zh == "学会或基层组织"
    assert [v.index for v in refusals(verdicts)] == [1]


def test_refusals_leave_out_what_needs_confirmation():
    verdicts = check([rule("staff_confirmed"), rule("matching_funds")], applicant())
    assert [v.kind for v in refusals(verdicts)] == ["matching_funds"]


def test_every_contract_kind_is_checked():
    verdicts = check([rule(kind) for kind in DEFAULTS], applicant())
    assert [v.kind for v in verdicts] == list(DEFAULTS)
    assert all(v.text_zh and v.reason for v in verdicts)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown eligibility rule kind"):
        check([SimpleNamespace(kind="luck", text_zh=None)], applicant())
