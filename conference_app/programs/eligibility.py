"""Eligibility of an applicant for a program category: the facts about the organisation and
one check per rule kind of the call file (``call_schema``, read by attribute names), each
verdict saying why, with numbers, in Chinese. Pure: the services build the facts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conference_app.programs.indicators import ROLE_TITLES

HELD_EVENT_KIND_TITLES = {
    "international": "国际学术会议",
    "national": "全国性学术会议",
    "regional": "区域性学术会议",
    "other": "其他学术交流活动",
}
SOURCE_TITLES = {"declared": "单位填报", "platform": "通过平台举办"}
ORGANISATION_TYPE_TITLES = {
    "society": "学会",
    "grassroots": "基层组织",
    "university_association": "高校科协",
    "enterprise_association": "企业科协",
    "park_association": "园区科协",
    "journal_publisher": "期刊出版单位",
    "other": "其他",
}
MEMBERSHIP_TEXT = "加入市科协团体会员的学会、基层组织，或市科协科技期刊卓越行动计划入选单位"


@dataclass(frozen=True)
class HeldEventFact:
    """An event the applicant held, declared by it or held through the platform."""

    source: str  # "declared" | "platform"
    year: int
    kind: str  # international | national | regional | other
    role: str  # host | co_host | main_organiser
    in_beijing: bool
    title: str
    ref_id: int | None


@dataclass(frozen=True)
class OtherApplication:
    """Another live application of the same organisation in the call."""

    application_id: int
    call_code: str
    category_code: str
    status: str
    title: str


@dataclass(frozen=True)
class ApplicantFacts:
    """What the eligibility rules are checked against."""

    organisation_name: str
    org_type: str
    is_bast_member: bool
    in_journal_excellence_plan: bool
    call_code: str
    call_year: int
    category_code: str
    held_events: tuple[HeldEventFact, ...]
    other_applications: tuple[OtherApplication, ...]  # live ones in the call, not the one checked
    matching_funds_fen: int | None
    confirmed_rules: frozenset[int]  # indexes of the rules staff confirmed


@dataclass(frozen=True)
class RuleVerdict:
    """The verdict on one rule."""

    index: int
    kind: str
    text_zh: str  # the rule's own words, or a generated description
    status: str  # met | not_met | needs_confirmation
    reason: str
    evidence: tuple[str, ...]


def check(rules: Iterable, facts: ApplicantFacts) -> list[RuleVerdict]:
    """The verdict on each rule, in order (``index`` is the rule's position); ValueError for an unknown kind."""
    verdicts = []
    for index, rule in enumerate(rules):
        try:
            checker = CHECKERS[rule.kind]
        except KeyError:
            raise ValueError(f"unknown eligibility rule kind: {rule.kind!r}") from None
        verdicts.append(checker(index, rule, facts))
    return verdicts


def refusals(verdicts: Iterable[RuleVerdict]) -> list[RuleVerdict]:
    """The verdicts that are not met."""
    return [verdict for verdict in verdicts if verdict.status == "not_met"]


def _verdict(index, rule, met: bool, description: str, reason: str, evidence=()) -> RuleVerdict:
    return RuleVerdict(index, rule.kind, rule.text_zh or description, "met" if met else "not_met", reason,
                       tuple(evidence))


def _membership(index, rule, facts):
    """A BAST group member, or a unit of the Journal Excellence Action Plan."""
    reasons = []
    if facts.is_bast_member:
        reasons.append("已加入市科协团体会员")
    if facts.in_journal_excellence_plan:
        reasons.append("为市科协科技期刊卓越行动计划入选单位")
    reason = "；".join(reasons) or "未加入市科协团体会员，也不是市科协科技期刊卓越行动计划入选单位"
    return _verdict(index, rule, bool(reasons), MEMBERSHIP_TEXT, reason)


def _organisation_type(index, rule, facts):
    allowed = "、".join(ORGANISATION_TYPE_TITLES[org_type] for org_type in rule.types)
    own = ORGANISATION_TYPE_TITLES[facts.org_type]
    met = facts.org_type in rule.types
    reason = f"单位类型为{own}，符合要求" if met else f"单位类型为{own}，要求为：{allowed}"
    return _verdict(index, rule, met, f"单位类型为：{allowed}", reason)


def _held_events_verdict(index, rule, facts, kinds, roles, years_back: int, in_beijing: bool | None) -> RuleVerdict:
    """Events of ``kinds`` held in ``roles`` in the calendar years call_year-years_back .. call_year-1."""
    first, last = facts.call_year - years_back, facts.call_year - 1
    counted = [event for event in facts.held_events
               if event.kind in kinds and event.role in roles and first <= event.year <= last
               and (in_beijing is None or event.in_beijing == in_beijing)]
    years = f"上一年度（{last}年）" if years_back == 1 else f"近{years_back}年（{first}—{last}年）"
    where = {True: "在京", False: "在京外", None: ""}[in_beijing]
    how = "或".join(ROLE_TITLES[role] for role in ROLE_TITLES if role in roles)
    what = ("学术交流活动" if set(kinds) >= set(HELD_EVENT_KIND_TITLES)
            else "或".join(HELD_EVENT_KIND_TITLES[kind] for kind in HELD_EVENT_KIND_TITLES if kind in kinds))
    phrase = f"{years}{where}{how}{what}"
    evidence = [f"{event.year}年 {event.title}（{HELD_EVENT_KIND_TITLES[event.kind]}，{ROLE_TITLES[event.role]}，"
                f"{SOURCE_TITLES[event.source]}）" for event in counted]
    return _verdict(index, rule, len(counted) >= rule.min_count, f"{phrase}不少于 {rule.min_count} 场",
                    f"{phrase} {len(counted)} 场，要求不少于 {rule.min_count} 场", evidence)


def _held_events(index, rule, facts):
    return _held_events_verdict(index, rule, facts, rule.event_kinds, rule.roles, rule.years_back, rule.in_beijing)


def _events_previous_year(index, rule, facts):
    return _held_events_verdict(index, rule, facts, rule.event_kinds, rule.roles, 1, None)


def _applications_limit(index, rule, facts):
    """At most ``max`` applications of the organisation (this one included) in the category or the call."""
    others = [application for application in facts.other_applications
              if rule.scope == "call" or application.category_code == facts.category_code]
    where = "本类别" if rule.scope == "category" else "本次申报"
    evidence = [f"《{application.title}》（{application.category_code}类）" for application in others]
    return _verdict(index, rule, len(others) < rule.max, f"每个单位在{where}限报 {rule.max} 项",
                    f"本单位在{where}另有申报 {len(others)} 项，每个单位限报 {rule.max} 项（含本项）", evidence)


def _yuan(fen: int) -> str:
    yuan, cents = divmod(fen, 100)
    return f"{yuan:,}.{cents:02d} 元" if cents else f"{yuan:,} 元"


def _matching_funds(index, rule, facts):
    """The matching funds the application declares, at least ``min_cny`` yuan."""
    needed = rule.min_cny * 100
    description = f"配套经费不少于 {_yuan(needed)}"
    if facts.matching_funds_fen is None:
        return _verdict(index, rule, False, description, "未填写配套经费")
    return _verdict(index, rule, facts.matching_funds_fen >= needed, description,
                    f"配套经费 {_yuan(facts.matching_funds_fen)}，要求不少于 {_yuan(needed)}")


def _staff_confirmed(index, rule, facts):
    """A condition staff confirm by hand."""
    if index in facts.confirmed_rules:
        return RuleVerdict(index, rule.kind, rule.text_zh, "met", "已由市科协学会部确认", ())
    return RuleVerdict(index, rule.kind, rule.text_zh, "needs_confirmation", "待市科协学会部确认", ())


CHECKERS = {
    "membership_or_journal_plan": _membership,
    "organisation_type": _organisation_type,
    "held_events": _held_events,
    "events_previous_year": _events_previous_year,
    "applications_limit": _applications_limit,
    "matching_funds": _matching_funds,
    "staff_confirmed": _staff_confirmed,
}
