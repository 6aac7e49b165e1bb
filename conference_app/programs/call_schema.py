"""Call files: one year's call for applications as YAML, read into typed, frozen models.

A call (申报指南) has categories; a category has an amount, a period, tranches, eligibility
rules and performance indicators, each a mapping with a ``kind``. ``parse_call`` reads the
text, validates it and reports every problem as ``FILE:LINE: field.path: message`` in one
``CallFileError``. docs/calls.md is the contract for the people who write these files.

Pure module: the standard library, pydantic and PyYAML only.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

# The allowed values; the organisations and events domains hold the same ones as enums.
_OrganisationType = Literal[
    "society", "grassroots", "university_association", "enterprise_association", "park_association",
    "journal_publisher", "other",
]
_HeldEventKind = Literal["international", "national", "regional", "other"]  # an organisation's past events
_EventKind = Literal[
    "international", "national", "regional", "annual_meeting", "salon_session", "report_session", "other",
]
_Role = Literal["host", "co_host", "main_organiser"]  # 主办 / 联合主办 / 主要承办
_OutcomeKind = Literal[
    "expert_consensus", "proceedings", "white_paper", "industry_report", "popular_science", "research_report",
    "recommendation", "standard", "other",
]
_ExpertRank = Literal["academician", "renowned_expert"]
_DocumentKind = Literal["summary_report", "research_report", "recommendation", "plan", "other"]
_Deliverable = Literal["special_issue", "publicity", "summary_report"]
_TrancheWhen = Literal["on_approval", "after_midterm", "after_acceptance"]
_RecoveryRule = Literal["proportional", "all_unpaid", "staff_decides"]

ORGANISATION_TYPES: tuple[str, ...] = get_args(_OrganisationType)
HELD_EVENT_KINDS: tuple[str, ...] = get_args(_HeldEventKind)
EVENT_KINDS: tuple[str, ...] = get_args(_EventKind)
ROLES: tuple[str, ...] = get_args(_Role)
OUTCOME_KINDS: tuple[str, ...] = get_args(_OutcomeKind)
EXPERT_RANKS: tuple[str, ...] = get_args(_ExpertRank)
DOCUMENT_KINDS: tuple[str, ...] = get_args(_DocumentKind)
DELIVERABLES: tuple[str, ...] = get_args(_Deliverable)
TRANCHE_WHEN: tuple[str, ...] = get_args(_TrancheWhen)
RECOVERY_RULES: tuple[str, ...] = get_args(_RecoveryRule)


class CallFileError(Exception):
    """A call file that cannot be used; ``errors`` holds one ``FILE:LINE: field.path: message`` each."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class _FieldError(ValueError):
    """A check of a model that blames one of its fields: ``subpath`` below the model, e.g. ("tranches",)."""

    def __init__(self, subpath: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.subpath = subpath


def _unique(values: tuple) -> tuple:
    """The values, refused when one appears twice."""
    twice = [value for value, count in Counter(values).items() if count > 1]
    if twice:
        raise ValueError(f"{twice[0]!r} is listed twice")
    return values


def _iso_date(value: Any) -> Any:
    """Only dates and ``YYYY-MM-DD`` text reach the date parser (not numbers, not other spellings)."""
    if isinstance(value, date) or (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        return value
    raise ValueError(f"must be a date written YYYY-MM-DD, not {value!r}")


_CODE_PATTERN = r"^[A-Za-z0-9_-]+$"
_CALL_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
_PATTERN_WORDS = {
    _CODE_PATTERN: "letters, digits, '_' and '-'",
    _CALL_CODE_PATTERN: "lower-case letters, digits and '-', starting with a letter or digit",
}

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_Code = Annotated[str, StringConstraints(pattern=_CODE_PATTERN, max_length=30)]
_Positive = Annotated[int, Strict(), Field(gt=0)]
_AtLeastOne = Annotated[int, Strict(), Field(ge=1)]
_Bool = Annotated[bool, Strict()]
_Date = Annotated[date, BeforeValidator(_iso_date)]


def _values(literal: Any) -> Any:
    """A non-empty list of distinct values of ``literal``."""
    return Annotated[tuple[literal, ...], Field(min_length=1), AfterValidator(_unique)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Period(_Model):
    """Inclusive Beijing dates: a category's project period or an indicator's counting window."""

    start: _Date
    end: _Date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.start > self.end:
            raise _FieldError(("end",), f"ends ({self.end}) before it starts ({self.start})")
        return self


class Tranche(_Model):
    """One payment of a project's funds: a percent of the amount, paid at a step."""

    percent: Annotated[int, Strict(), Field(gt=0, le=100)]
    when: _TrancheWhen


class Recovery(_Model):
    """What happens to the money when indicators are not met."""

    rule: _RecoveryRule
    text_zh: _Text
    text_en: _Text | None = None


class RubricCriterion(_Model):
    """One criterion reviewers score an application on."""

    code: _Code
    name_zh: _Text
    name_en: _Text
    weight: _Positive
    max_score: _Positive = 10


# Eligibility rules (申报条件): checked when an organisation applies.

class _Rule(_Model):
    text_zh: _Text | None = None
    text_en: _Text | None = None


class MembershipOrJournalPlanRule(_Rule):
    """A BAST group member (团体会员) or a unit of the Journal Excellence Action Plan."""

    kind: Literal["membership_or_journal_plan"] = "membership_or_journal_plan"


class OrganisationTypeRule(_Rule):
    """The applicant is an organisation of one of these types."""

    kind: Literal["organisation_type"] = "organisation_type"
    types: _values(_OrganisationType)


class HeldEventsRule(_Rule):
    """The applicant held at least ``min_count`` such events in the ``years_back`` calendar years before the call's."""

    kind: Literal["held_events"] = "held_events"
    event_kinds: _values(_HeldEventKind)
    roles: _values(_Role) = ("host", "main_organiser")
    years_back: _AtLeastOne
    min_count: _AtLeastOne
    in_beijing: _Bool | None = None


class EventsPreviousYearRule(_Rule):
    """The applicant held at least ``min_count`` events in the year before the call's."""

    kind: Literal["events_previous_year"] = "events_previous_year"
    min_count: _AtLeastOne
    roles: _values(_Role) = ("host",)
    event_kinds: _values(_HeldEventKind) = HELD_EVENT_KINDS


class ApplicationsLimitRule(_Rule):
    """At most ``max`` live applications of the organisation in the same category or call."""

    kind: Literal["applications_limit"] = "applications_limit"
    scope: Literal["category", "call"]
    max: _AtLeastOne


class MatchingFundsRule(_Rule):
    """The applicant declares at least ``min_cny`` yuan of its own matching funds (配套资金)."""

    kind: Literal["matching_funds"] = "matching_funds"
    min_cny: _Positive


class StaffConfirmedRule(_Rule):
    """A condition in the call's words that staff confirm by hand."""

    kind: Literal["staff_confirmed"] = "staff_confirmed"
    text_zh: _Text


ELIGIBILITY_KINDS: dict[str, type[_Rule]] = {
    model.model_fields["kind"].default: model
    for model in (MembershipOrJournalPlanRule, OrganisationTypeRule, HeldEventsRule, EventsPreviousYearRule,
                  ApplicationsLimitRule, MatchingFundsRule, StaffConfirmedRule)
}
EligibilityRule = Annotated[Union[tuple(ELIGIBILITY_KINDS.values())], Field(discriminator="kind")]


# Performance indicators (绩效要求): checked from recorded facts once a project runs.

class _Indicator(_Model):
    code: _Code
    text_zh: _Text
    text_en: _Text | None = None


class _Counted(_Indicator):
    window: Period | None = None  # None: the category's period


class EventsIncluding(_Model):
    """Of the counted events, at least ``min_count`` of these kinds."""

    event_kinds: _values(_EventKind)
    min_count: _AtLeastOne


class EventsIndicator(_Counted):
    """At least ``min_count`` held events of these kinds in which the applicant has one of ``roles``."""

    kind: Literal["events"] = "events"
    event_kinds: _values(_EventKind)
    min_count: _AtLeastOne
    roles: _values(_Role) = ROLES
    in_beijing: _Bool = True
    filing_approved: _Bool = False
    including: EventsIncluding | None = None

    @model_validator(mode="after")
    def _including_within(self) -> EventsIndicator:
        if self.including is None:
            return self
        outside = [kind for kind in self.including.event_kinds if kind not in self.event_kinds]
        if outside:
            raise _FieldError(("including", "event_kinds"), f"{outside[0]!r} is not one of this indicator's "
                                                            f"event_kinds ({', '.join(self.event_kinds)})")
        if self.including.min_count > self.min_count:
            raise _FieldError(("including", "min_count"), f"{self.including.min_count} is more than the "
                                                          f"indicator's min_count ({self.min_count})")
        return self


class AttendanceIndicator(_Counted):
    """At least ``min_person_times`` checked-in person-times (人次) over the applicant's events."""

    kind: Literal["attendance"] = "attendance"
    min_person_times: _AtLeastOne
    event_kinds: _values(_EventKind) = EVENT_KINDS
    roles: _values(_Role) = ROLES
    offline_only: _Bool = True


class ParticipantsPerEventIndicator(_Counted):
    """At least one event of these kinds with ``min_participants`` checked-in people."""

    kind: Literal["participants_per_event"] = "participants_per_event"
    event_kinds: _values(_EventKind)
    min_participants: _AtLeastOne
    roles: _values(_Role) = ROLES


class SeriesSessionsIndicator(_Counted):
    """At least ``min_sessions`` held sessions of the project's salon series."""

    kind: Literal["series_sessions"] = "series_sessions"
    min_sessions: _AtLeastOne


class SessionRolesIndicator(_Counted):
    """Every held session has a core topic, an initiator (发起人) and at least one named discussant."""

    kind: Literal["session_roles"] = "session_roles"


class TopicMechanismIndicator(_Indicator):
    """The series documents its topic-selection mechanism (选题机制) and has chosen topics."""

    kind: Literal["topic_mechanism"] = "topic_mechanism"


class OutcomesIndicator(_Counted):
    """At least ``min_count`` recorded outcomes (成果), of ``outcome_kinds`` when given."""

    kind: Literal["outcomes"] = "outcomes"
    min_count: _AtLeastOne
    outcome_kinds: Annotated[tuple[_OutcomeKind, ...], AfterValidator(_unique)] = ()  # (): any kind


class TypicalCasesIndicator(_Counted):
    """At least ``min_count`` typical cases (典型案例)."""

    kind: Literal["typical_cases"] = "typical_cases"
    min_count: _AtLeastOne


class ProblemsAddressedIndicator(_Counted):
    """At least ``min_count`` frontier academic or technical problems pushed towards solution."""

    kind: Literal["problems_addressed"] = "problems_addressed"
    min_count: _AtLeastOne


class LeadingFigureTalksIndicator(_Counted):
    """At least ``min_count`` talks by speakers flagged leading figure (领军人物)."""

    kind: Literal["leading_figure_talks"] = "leading_figure_talks"
    min_count: _AtLeastOne = 1


class ExpertsOfRankIndicator(_Counted):
    """At least ``min_count`` participating experts of these ranks (院士 / 知名专家)."""

    kind: Literal["experts_of_rank"] = "experts_of_rank"
    min_count: _AtLeastOne
    ranks: _values(_ExpertRank) = EXPERT_RANKS


class TalkMinutesIndicator(_Counted):
    """Every keynote lasts at least ``min_minutes``."""

    kind: Literal["talk_minutes"] = "talk_minutes"
    min_minutes: _AtLeastOne


class DocumentLengthIndicator(_Indicator):
    """A document of ``document_kind`` with at least ``min_chars`` Chinese characters (字)."""

    kind: Literal["document_length"] = "document_length"
    document_kind: _DocumentKind
    min_chars: _AtLeastOne


class SlideDecksIndicator(_Counted):
    """At least ``min_count`` keynote slide decks (幻灯片) handed in."""

    kind: Literal["slide_decks"] = "slide_decks"
    min_count: _AtLeastOne


class NewsItemsIndicator(_Counted):
    """At least ``min_count`` news items, on one of ``sites`` when given."""

    kind: Literal["news_items"] = "news_items"
    min_count: _AtLeastOne
    sites: Annotated[tuple[_Text, ...], AfterValidator(_unique)] = ()  # (): any site


class DeliverableIndicator(_Indicator):
    """A deliverable handed in: a special issue (会议专刊), publicity (宣传) or the summary report."""

    kind: Literal["deliverable"] = "deliverable"
    deliverable: _Deliverable
    only_if_publishes_journal: _Bool = False


class ReviewedTextIndicator(_Indicator):
    """A requirement people review (a theme, a step done outside the system); never computed."""

    kind: Literal["reviewed_text"] = "reviewed_text"


INDICATOR_KINDS: dict[str, type[_Indicator]] = {
    model.model_fields["kind"].default: model
    for model in (EventsIndicator, AttendanceIndicator, ParticipantsPerEventIndicator, SeriesSessionsIndicator,
                  SessionRolesIndicator, TopicMechanismIndicator, OutcomesIndicator, TypicalCasesIndicator,
                  ProblemsAddressedIndicator, LeadingFigureTalksIndicator, ExpertsOfRankIndicator,
                  TalkMinutesIndicator, DocumentLengthIndicator, SlideDecksIndicator, NewsItemsIndicator,
                  DeliverableIndicator, ReviewedTextIndicator)
}
Indicator = Annotated[Union[tuple(INDICATOR_KINDS.values())], Field(discriminator="kind")]


def _unique_codes(items: tuple, what: str) -> tuple:
    """The items, refused when two share a ``code``."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.code in seen:
            raise _FieldError((index, "code"), f"{what} code {item.code!r} is used twice")
        seen.add(item.code)
    return items


class CategoryForm(_Model):
    """A named variant of a category (C: annual meeting or salon series); the applicant picks one."""

    code: _Code
    name_zh: _Text
    name_en: _Text
    indicators: tuple[Indicator, ...] = ()


class CategoryDefinition(_Model):
    """A category (类别) of a call: what one project gets and must do."""

    code: _Code
    name_zh: _Text
    name_en: _Text
    amount_cny: _Positive | None = None
    max_amount_cny: _Positive | None = None
    quota: _AtLeastOne | None = None
    budget_cny: _Positive | None = None
    per_applicant_limit: _AtLeastOne | None = None
    per_district_quota: _AtLeastOne | None = None
    period: Period
    tranches: Annotated[tuple[Tranche, ...], Field(min_length=1)]
    forms: tuple[CategoryForm, ...] = ()
    rubric: tuple[RubricCriterion, ...] = ()  # (): the call's
    eligibility: tuple[EligibilityRule, ...] = ()
    indicators: tuple[Indicator, ...] = ()

    @field_validator("tranches")
    @classmethod
    def _tranches_sum_to_100(cls, tranches: tuple[Tranche, ...]) -> tuple[Tranche, ...]:
        total = sum(tranche.percent for tranche in tranches)
        if total != 100:
            raise ValueError(f"the percents sum to {total}, not 100")
        return tranches

    @field_validator("forms")
    @classmethod
    def _form_codes_unique(cls, forms: tuple[CategoryForm, ...]) -> tuple[CategoryForm, ...]:
        return _unique_codes(forms, "form")

    @field_validator("rubric")
    @classmethod
    def _criterion_codes_unique(cls, rubric: tuple[RubricCriterion, ...]) -> tuple[RubricCriterion, ...]:
        return _unique_codes(rubric, "criterion")

    @model_validator(mode="after")
    def _consistent(self) -> CategoryDefinition:
        if (self.amount_cny is None) == (self.max_amount_cny is None):
            if self.amount_cny is None:
                raise _FieldError((), "give amount_cny (a fixed amount) or max_amount_cny (a cap)")
            raise _FieldError(("max_amount_cny",), "give amount_cny or max_amount_cny, not both")
        one_project = self.amount_cny or self.max_amount_cny
        if self.budget_cny is not None and self.budget_cny < one_project:
            raise _FieldError(("budget_cny",), f"{self.budget_cny} is less than one project's amount ({one_project})")
        seen: set[str] = set()
        places = [(("indicators", index), item) for index, item in enumerate(self.indicators)]
        for form_index, form in enumerate(self.forms):
            places += [(("forms", form_index, "indicators", index), item) for index, item in enumerate(form.indicators)]
        for place, indicator in places:
            if indicator.code in seen:
                raise _FieldError((*place, "code"), f"indicator code {indicator.code!r} is used twice in this category")
            seen.add(indicator.code)
        return self

    @property
    def amount_fen(self) -> int | None:
        """The fixed amount per project in fen, or None when the category gives a cap."""
        return None if self.amount_cny is None else self.amount_cny * 100

    @property
    def max_amount_fen(self) -> int | None:
        """The cap per project in fen, or None when the category gives a fixed amount."""
        return None if self.max_amount_cny is None else self.max_amount_cny * 100

    @property
    def cap_fen(self) -> int:
        """The most one project can get, in fen: the fixed amount or the cap."""
        return self.amount_fen if self.amount_fen is not None else self.max_amount_fen

    def all_indicators(self, form_code: str | None = None) -> tuple[Indicator, ...]:
        """The category's own indicators, then those of the form ``form_code`` (KeyError when unknown)."""
        if form_code is None:
            return self.indicators
        for form in self.forms:
            if form.code == form_code:
                return self.indicators + form.indicators
        raise KeyError(f"category {self.code} has no form {form_code!r}")

    def rubric_for(self, call: CallDefinition) -> tuple[RubricCriterion, ...]:
        """The criteria reviewers score this category's applications on: its own, else the call's."""
        return self.rubric or call.rubric


class CallDefinition(_Model):
    """A call for applications (申报指南) of one year."""

    code: Annotated[str, StringConstraints(pattern=_CALL_CODE_PATTERN, max_length=60)]
    year: Annotated[int, Strict(), Field(ge=2000, le=2100)]
    title_zh: _Text
    title_en: _Text
    opens: _Date
    closes: _Date
    budget_cny: _Positive | None = None
    recovery: Recovery
    reviewers_per_application: _AtLeastOne = 3
    rubric: tuple[RubricCriterion, ...] = ()
    eligibility: tuple[EligibilityRule, ...] = ()
    categories: Annotated[tuple[CategoryDefinition, ...], Field(min_length=1)]

    @field_validator("rubric")
    @classmethod
    def _criterion_codes_unique(cls, rubric: tuple[RubricCriterion, ...]) -> tuple[RubricCriterion, ...]:
        return _unique_codes(rubric, "criterion")

    @field_validator("categories")
    @classmethod
    def _category_codes_unique(cls, categories: tuple[CategoryDefinition, ...]) -> tuple[CategoryDefinition, ...]:
        return _unique_codes(categories, "category")

    @model_validator(mode="after")
    def _consistent(self) -> CallDefinition:
        if self.opens > self.closes:
            raise _FieldError(("closes",), f"the call closes ({self.closes}) before it opens ({self.opens})")
        if self.budget_cny is not None:
            for index, category in enumerate(self.categories):
                if category.budget_cny is not None and category.budget_cny > self.budget_cny:
                    raise _FieldError(("categories", index, "budget_cny"), f"{category.budget_cny} is more than "
                                                                           f"the call's budget_cny ({self.budget_cny})")
        return self

    def category(self, code: str) -> CategoryDefinition:
        """The category ``code`` (KeyError when the call has none)."""
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(f"call {self.code} has no category {code!r}")

    def rules_for(self, category_code: str) -> tuple[EligibilityRule, ...]:
        """The call's eligibility rules, then the category's."""
        return self.eligibility + self.category(category_code).eligibility


# Reading the YAML, keeping where each value was written.

class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: dates stay text, so a bad date is a validation error with its line."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_Path = tuple[str | int, ...]


def _node_lines(node: yaml.Node, path: _Path, lines: dict[_Path, int], problems: list[tuple[_Path, int, str]],
                open_nodes: frozenset[int] = frozenset()) -> None:
    """Record the 1-based line of every value below ``node`` (a mapping entry: its key's line), and duplicate keys."""
    if id(node) in open_nodes:  # a recursive alias
        return
    open_nodes = open_nodes | {id(node)}
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in first_seen:
                problems.append(((*path, key), line, f"{key!r} appears twice in this mapping "
                                                     f"(first on line {first_seen[key]})"))
                continue
            first_seen[key] = line
            lines[(*path, key)] = line
            _node_lines(value_node, (*path, key), lines, problems, open_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _node_lines(item, (*path, index), lines, problems, open_nodes)


def _yaml_message(error: yaml.YAMLError) -> str:
    """A YAML syntax error in one sentence."""
    parts = [getattr(error, "context", None), getattr(error, "problem", None)]
    return ": ".join(part for part in parts if part) or str(error)


def _union_of(annotation: Any) -> dict[str, type[BaseModel]] | None:
    """The kind -> model table when ``annotation`` (or what it wraps) is one of the kind unions."""
    members = set(_models_in(annotation))
    for table in (ELIGIBILITY_KINDS, INDICATOR_KINDS):
        if members == set(table.values()):
            return table
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation refers to (through Annotated, tuple, Union, None)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    args = get_args(annotation)[:1] if origin is Annotated else get_args(annotation)
    return [model for arg in args for model in _models_in(arg)]


def _locate(loc: tuple, data: Any) -> tuple[_Path, type[BaseModel] | None, dict | None]:
    """The data path of a pydantic error location (union tags dropped), the model holding its last key, and the
    kind table when the location is an item of a kind union."""
    path: list[str | int] = []
    model: type[BaseModel] | None = CallDefinition
    owner: type[BaseModel] | None = None
    union: dict | None = None
    current = data
    for element in loc:
        if union is not None and isinstance(current, dict) and current.get("kind") == element:
            model, union = union.get(element), None  # the tag pydantic adds after an item of a kind union
            continue
        path.append(element)
        if isinstance(element, int):
            current = current[element] if isinstance(current, list) and element < len(current) else None
            continue
        current = current.get(element) if isinstance(current, dict) else None
        owner = model
        field = model.model_fields.get(element) if model is not None else None
        union = _union_of(field.annotation) if field is not None else None
        models = _models_in(field.annotation) if field is not None else []
        model = models[0] if union is None and len(models) == 1 else None
    return tuple(path), owner, union


def _dotted(path: _Path) -> str:
    """``("categories", 0, "tranches")`` -> ``categories[0].tranches``."""
    text = ""
    for element in path:
        text += f"[{element}]" if isinstance(element, int) else (f".{element}" if text else str(element))
    return text or "(top level)"


def _known(table: dict) -> str:
    return ", ".join(sorted(table))


def _message(error: dict, path: _Path, owner: type[BaseModel] | None, union: dict | None) -> tuple[_Path, str]:
    """The path to blame and a plain-English message for one pydantic error."""
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    what = "eligibility rule" if union is ELIGIBILITY_KINDS else "indicator"
    if kind == "union_tag_invalid":
        return (*path, "kind"), f"unknown {what} kind {ctx['tag']!r} (known: {_known(union or {})})"
    if kind == "union_tag_not_found":
        return (*path, "kind"), f"kind is missing (known: {_known(union or {})})"
    if kind == "value_error":
        cause = ctx.get("error")
        if isinstance(cause, _FieldError):
            return (*path, *cause.subpath), str(cause)
        return path, str(cause)
    if kind == "missing":
        return path, "this field is required"
    if kind == "extra_forbidden":
        allowed = f" (allowed: {', '.join(owner.model_fields)})" if owner is not None else ""
        return path, f"unknown key{allowed}"
    if kind == "literal_error":
        return path, f"must be one of {ctx['expected']}, not {given!r}"
    if kind == "greater_than":
        return path, f"must be greater than {ctx['gt']}"
    if kind == "greater_than_equal":
        return path, f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return path, f"must be at most {ctx['le']}"
    if kind == "too_short":
        return path, "must not be empty" if ctx.get("min_length") == 1 else error["msg"]
    if kind == "string_too_short":
        return path, "must not be empty"
    if kind == "string_too_long":
        return path, f"must be at most {ctx['max_length']} characters"
    if kind == "string_pattern_mismatch":
        return path, f"{given!r}: use only {_PATTERN_WORDS[ctx['pattern']]}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return path, f"must be a whole number, not {given!r}"
    if kind in ("bool_type", "bool_parsing"):
        return path, f"must be true or false, not {given!r}"
    if kind == "string_type":
        return path, f"must be text, not {given!r}"
    if kind.startswith("date_"):
        return path, f"must be a real date written YYYY-MM-DD, not {given!r}"
    if kind in ("tuple_type", "list_type"):
        return path, "must be a list"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return path, "must be a mapping of keys and values"
    return path, error["msg"]


def _counts_invalid_items(error: dict) -> bool:
    """A "too short" error that only counts the items that failed (reported on their own)."""
    given, minimum = error.get("input"), (error.get("ctx") or {}).get("min_length")
    return error["type"] == "too_short" and isinstance(given, (list, tuple)) and len(given) >= minimum


def parse_call(text: str, filename: str) -> CallDefinition:
    """The call written in ``text``; CallFileError lists every problem, each with ``filename`` and its line."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise CallFileError([f"{filename}:{line}: (yaml syntax): {_yaml_message(error)}"]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else 1
        found = "the file is empty" if data is None else "the file is not a mapping"
        raise CallFileError([f"{filename}:{line}: (top level): {found}; a call is a mapping of its fields "
                             "(code, year, title_zh, ...)"])
    lines: dict[_Path, int] = {(): root.start_mark.line + 1}
    problems: list[tuple[_Path, int, str]] = []  # (path, line, message)
    _node_lines(root, (), lines, problems)
    try:
        call = CallDefinition.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            if not _counts_invalid_items(item):
                path, message = _message(item, *_locate(item["loc"], data))
                problems.append((path, _line_of(path, lines), message))
    if problems:
        problems.sort(key=lambda problem: problem[1])
        raise CallFileError([f"{filename}:{line}: {_dotted(path)}: {message}" for path, line, message in problems])
    return call


def _line_of(path: _Path, lines: dict[_Path, int]) -> int:
    """The line of ``path``, or of the nearest enclosing value written in the file (the parent of a missing key)."""
    while path not in lines:
        path = path[:-1]
    return lines[path]


def load_call_file(path: str | Path) -> CallDefinition:
    """The call in the UTF-8 file at ``path`` (CallFileError names it as given)."""
    return parse_call(Path(path).read_text(encoding="utf-8"), str(path))
