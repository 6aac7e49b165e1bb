"""Call files: the shipped calls parse to their seeds' figures, and a broken file names its lines."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from conference_app.events.models import EventKind
from conference_app.organisations.models import OrganisationType, PastEventKind, PastEventRole
from conference_app.programs.call_schema import (
    ELIGIBILITY_KINDS,
    EVENT_KINDS,
    HELD_EVENT_KINDS,
    INDICATOR_KINDS,
    ORGANISATION_TYPES,
    ROLES,
    CallDefinition,
    CallFileError,
    CategoryDefinition,
    CategoryForm,
    EligibilityRule,
    Indicator,
    Recovery,
    RubricCriterion,
    Tranche,
    load_call_file,
    parse_call,
)
from tests.conftest import REPO_ROOT

CALLS = REPO_ROOT / "calls"
SHIPPED = ["2026-capital-academic", "2021-demonstration", "2025-xinjiang", "2025-popular-science"]
FILE = "calls/2026-capital-academic.yaml"
TEXT_2026 = (CALLS / "2026-capital-academic.yaml").read_text(encoding="utf-8")


def call(code: str) -> CallDefinition:
    return load_call_file(CALLS / f"{code}.yaml")


def indicator(category: CategoryDefinition, code: str, form_code: str | None = None):
    (found,) = [item for item in category.all_indicators(form_code) if item.code == code]
    return found


def broken(old: str, new: str) -> tuple[str, int]:
    """The 2026 file with the first ``old`` replaced by ``new``, and the 1-based line where ``new`` starts."""
    assert old in TEXT_2026
    start = TEXT_2026.index(old)
    return TEXT_2026[:start] + new + TEXT_2026[start + len(old):], TEXT_2026[:start].count("\n") + 1


def errors_of(text: str) -> list[str]:
    with pytest.raises(CallFileError) as caught:
        parse_call(text, FILE)
    assert str(caught.value) == "\n".join(caught.value.errors)
    return caught.value.errors


# The shipped files

def test_every_file_in_calls_is_shipped_and_parses():
    assert sorted(path.stem for path in CALLS.glob("*.yaml")) == sorted(SHIPPED)


@pytest.mark.parametrize("code", SHIPPED)
def test_a_shipped_call_parses_and_round_trips_through_its_json_snapshot(code):
    parsed = call(code)
    assert parsed.code == code
    snapshot = json.loads(json.dumps(parsed.model_dump(mode="json"), ensure_ascii=False))
    assert CallDefinition.model_validate(snapshot) == parsed


@pytest.mark.parametrize("code", SHIPPED)
def test_every_rule_and_indicator_of_a_shipped_call_quotes_its_call(code):
    parsed = call(code)
    rules = [rule for category in parsed.categories for rule in parsed.rules_for(category.code)]
    indicators = [item for category in parsed.categories for form in [None, *(f.code for f in category.forms)]
                  for item in category.all_indicators(form)]
    assert rules and indicators
    assert all(item.text_zh for item in rules + indicators)


def test_the_2026_call():
    parsed = call("2026-capital-academic")
    assert [category.code for category in parsed.categories] == ["A", "B", "C", "F"]
    assert [category.amount_cny for category in parsed.categories] == [200000, 100000, 50000, 80000]
    assert [rule.kind for rule in parsed.eligibility] == ["membership_or_journal_plan"]
    a, b, c, f = parsed.categories
    assert (a.period.start.isoformat(), a.period.end.isoformat()) == ("2026-07-01", "2026-12-31")
    assert a.amount_fen == 20_000_000 and a.max_amount_fen is None and a.cap_fen == 20_000_000
    held = [rule for rule in parsed.rules_for("A") if rule.kind == "held_events"]
    assert [(rule.event_kinds, rule.roles, rule.years_back, rule.min_count) for rule in held] == [
        (("international",), ("host", "main_organiser"), 3, 1)]
    (previous,) = [rule for rule in a.eligibility if rule.kind == "events_previous_year"]
    assert previous.min_count == 2
    assert indicator(a, "A5").min_person_times == 400 and indicator(a, "A5").offline_only
    assert indicator(a, "A2").filing_approved and indicator(a, "A2").in_beijing
    assert (indicator(a, "A3").min_count, indicator(a, "A3").including.event_kinds) == (2, ("international",))
    assert (indicator(a, "A6").deliverable, indicator(a, "A6").only_if_publishes_journal) == ("special_issue", True)
    assert [indicator(a, code).min_count for code in ("A7a", "A7b", "A7c")] == [2, 3, 1]
    assert indicator(b, "B5").min_person_times == 200
    assert [form.code for form in c.forms] == ["annual_meeting", "salon_series"]
    assert indicator(c, "C3b", "salon_series").min_sessions == 4
    assert indicator(c, "C3c", "salon_series").min_person_times == 100
    assert indicator(c, "C2a", "annual_meeting").min_participants == 100
    assert [item.code for item in c.all_indicators()] == ["C1"]
    assert f.per_applicant_limit == 1
    sessions = indicator(f, "F3a")
    assert sessions.event_kinds == ("report_session",)
    assert (sessions.window.start.isoformat(), sessions.window.end.isoformat()) == ("2026-10-01", "2026-11-30")
    assert f.rubric_for(parsed) == parsed.rubric


def test_the_2021_call():
    parsed = call("2021-demonstration")
    demonstration = [parsed.category(code) for code in ("A", "B", "C")]
    assert [category.amount_cny for category in demonstration] == [80000, 50000, 20000]
    assert all(category.per_applicant_limit == 1 for category in demonstration)
    assert all(category.period.end.isoformat() == "2021-11-30" for category in demonstration)
    post = parsed.category("post")
    assert post.amount_cny == 50000
    (funds,) = [rule for rule in post.eligibility if rule.kind == "matching_funds"]
    assert funds.min_cny == 30000
    assert sum(rule.kind == "staff_confirmed" for rule in post.eligibility) == 5
    caps = [parsed.category(code) for code in ("rural", "courtyard", "hebei")]
    assert [(category.amount_cny, category.max_amount_cny) for category in caps] == [
        (None, 30000), (None, 50000), (None, 30000)]
    assert parsed.category("courtyard").cap_fen == 5_000_000


def test_the_2025_xinjiang_call():
    parsed = call("2025-xinjiang")
    exchange = [parsed.category(f"XXJL-{level}") for level in ("international", "national", "regional")]
    assert [category.quota for category in exchange] == [2, 3, 10]
    assert [category.amount_cny for category in exchange] == [100000, 70000, 50000]
    assert sum(category.quota for category in exchange) == 15
    assert sum(category.budget_cny for category in exchange) == 910000
    assert sum(category.quota * category.amount_cny for category in exchange) == 910000
    for category in parsed.categories:
        assert [(tranche.percent, tranche.when) for tranche in category.tranches] == [
            (60, "on_approval"), (30, "after_midterm"), (10, "after_acceptance")]
    for category, kind in zip(exchange, ("international", "national", "regional")):
        assert indicator(category, "1a").event_kinds == (kind,) and not indicator(category, "1a").in_beijing
        assert indicator(category, "Q1").min_count == 3
        assert indicator(category, "Q1").ranks == ("academician", "renowned_expert")
        assert indicator(category, "4a").min_count == 5
        assert indicator(category, "5").min_minutes == 45
        assert [(indicator(category, code).document_kind, indicator(category, code).min_chars)
                for code in ("2a", "2b")] == [("recommendation", 2000), ("summary_report", 4000)]
    assert indicator(exchange[2], "6").sites == ("自治区科协官网",)
    journal = parsed.category("QKPY")
    assert (journal.quota, journal.amount_cny, indicator(journal, "1b").min_chars) == (1, 100000, 10000)
    party = parsed.category("DJQC")
    assert (party.quota, party.amount_cny, indicator(party, "3").min_chars) == (4, 50000, 5000)
    assert parsed.recovery.text_zh == "未达指标者追回部分经费"
    (types,) = [rule for rule in parsed.eligibility if rule.kind == "organisation_type"]
    assert types.types == ("society", "university_association")


def test_the_2025_popular_science_call():
    parsed = call("2025-popular-science")
    assert [category.code for category in parsed.categories] == [
        "balance", "district", "grassroots", "calendar", "evaluation", "new_productivity"]
    assert [category.amount_cny for category in parsed.categories] == [150000, 100000, 25000, 30000, 30000, 100000]
    assert [category.quota for category in parsed.categories] == [16, 32, 100, 30, 20, 12]
    assert [category.per_district_quota for category in parsed.categories] == [2, 2, None, None, None, None]
    assert [category.per_applicant_limit for category in parsed.categories] == [1, 1, 2, 1, 1, 1]
    balance, district, grassroots, *_, new_productivity = parsed.categories
    assert indicator(balance, "7").min_count == 12
    assert indicator(new_productivity, "6").min_count == 4
    window = indicator(district, "5").window
    assert (window.start.isoformat(), window.end.isoformat()) == ("2025-09-01", "2025-10-31")
    assert district.period.end.isoformat() == "2025-11-30"
    assert any("不超过10个" in rule.text_zh for rule in grassroots.eligibility)


def test_the_examples_of_the_documentation_are_valid():
    parts = {"indicators": tuple[Indicator, ...], "eligibility": tuple[EligibilityRule, ...],
             "rubric": tuple[RubricCriterion, ...], "tranches": tuple[Tranche, ...],
             "forms": tuple[CategoryForm, ...], "recovery": Recovery}
    text = (REPO_ROOT / "docs" / "calls.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 6
    for block in blocks:
        ((key, value),) = yaml.safe_load(block).items()
        TypeAdapter(parts[key]).validate_python(value)
    kinds = {kind for block in blocks for kind in re.findall(r"kind: (\w+)", block)}
    assert kinds >= set(INDICATOR_KINDS) | set(ELIGIBILITY_KINDS)


# The allowed values are the other domains' values

def test_the_kinds_and_types_are_those_of_the_events_and_organisations_domains():
    assert set(EVENT_KINDS) == {kind.value for kind in EventKind}
    assert set(HELD_EVENT_KINDS) == {kind.value for kind in PastEventKind}
    assert set(ROLES) == {role.value for role in PastEventRole}
    assert set(ORGANISATION_TYPES) == {kind.value for kind in OrganisationType}


def test_every_kind_model_carries_its_kind_and_text():
    for table in (ELIGIBILITY_KINDS, INDICATOR_KINDS):
        for kind, model in table.items():
            assert model.model_fields["kind"].default == kind
            assert "text_zh" in model.model_fields
    assert INDICATOR_KINDS["reviewed_text"].model_fields["text_zh"].is_required()
    assert ELIGIBILITY_KINDS["staff_confirmed"].model_fields["text_zh"].is_required()


# The API

def test_all_indicators_adds_the_chosen_form_and_refuses_an_unknown_one():
    c = call("2026-capital-academic").category("C")
    assert [item.code for item in c.all_indicators("annual_meeting")] == ["C1", "C2a", "C2b", "C2c"]
    with pytest.raises(KeyError):
        c.all_indicators("gala")


def test_a_category_rubric_replaces_the_calls():
    parsed = call("2021-demonstration")
    assert [criterion.code for criterion in parsed.category("courtyard").rubric_for(parsed)] == [
        "agreement", "plan", "budget"]
    assert parsed.category("A").rubric_for(parsed) == parsed.rubric


def test_rules_for_puts_the_calls_rules_first():
    parsed = call("2026-capital-academic")
    assert [rule.kind for rule in parsed.rules_for("B")] == [
        "membership_or_journal_plan", "staff_confirmed", "held_events", "events_previous_year"]
    with pytest.raises(KeyError):
        parsed.rules_for("Z")


def test_the_models_are_frozen():
    parsed = call("2026-capital-academic")
    with pytest.raises(ValidationError):
        parsed.category("A").amount_cny = 1


def test_load_call_file_names_the_file_as_given(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("code: [\n", encoding="utf-8")
    with pytest.raises(CallFileError) as caught:
        load_call_file(path)
    assert caught.value.errors[0].startswith(f"{path}:2: (yaml syntax): ")


# Broken files: each a copy of the 2026 file changed as text, so the lines are real

def test_an_unknown_indicator_kind_is_one_line_listing_the_known_kinds():
    text, line = broken("kind: attendance\n        code: A5", "kind: foo\n        code: A5")
    known = ", ".join(sorted(INDICATOR_KINDS))
    assert errors_of(text) == [
        f"{FILE}:{line}: categories[0].indicators[4].kind: unknown indicator kind 'foo' (known: {known})"]


def test_an_unknown_eligibility_kind_is_one_line_listing_the_known_kinds():
    text, line = broken("  - kind: membership_or_journal_plan", "  - kind: member")
    known = ", ".join(sorted(ELIGIBILITY_KINDS))
    assert errors_of(text) == [
        f"{FILE}:{line}: eligibility[0].kind: unknown eligibility rule kind 'member' (known: {known})"]


def test_a_negative_amount():
    text, line = broken("amount_cny: 200000", "amount_cny: -200000")
    assert errors_of(text) == [f"{FILE}:{line}: categories[0].amount_cny: must be greater than 0"]


def test_tranches_that_do_not_sum_to_100_name_the_tranches_line():
    text, line = broken("- {percent: 100, when: on_approval}", "- {percent: 90, when: on_approval}")
    assert text.splitlines()[line - 2] == "    tranches:"
    assert errors_of(text) == [f"{FILE}:{line - 1}: categories[0].tranches: the percents sum to 90, not 100"]


def test_a_missing_required_field_names_its_mapping():
    text, _ = broken("    name_en: Capital Academic Program, category B (regional)\n", "")
    line = text.splitlines().index("  - code: B") + 1
    assert errors_of(text) == [f"{FILE}:{line}: categories[1].name_en: this field is required"]


def test_an_unknown_key():
    text, line = broken("    amount_cny: 200000\n", "    amount_cny: 200000\n    colour: red\n")
    allowed = ", ".join(CategoryDefinition.model_fields)
    assert errors_of(text) == [f"{FILE}:{line + 1}: categories[0].colour: unknown key (allowed: {allowed})"]


def test_a_yaml_syntax_error():
    text, line = broken("title_en: 2026 Capital Academic Program", "title_en: 2026 Capital: Academic Program")
    assert errors_of(text) == [f"{FILE}:{line}: (yaml syntax): mapping values are not allowed here"]


def test_a_key_written_twice():
    text, line = broken("    amount_cny: 100000\n", "    amount_cny: 100000\n    amount_cny: 120000\n")
    assert errors_of(text) == [
        f"{FILE}:{line + 1}: categories[1].amount_cny: 'amount_cny' appears twice in this mapping "
        f"(first on line {line})"]


def test_both_an_amount_and_a_cap():
    text, line = broken("    amount_cny: 50000\n", "    amount_cny: 50000\n    max_amount_cny: 50000\n")
    assert errors_of(text) == [
        f"{FILE}:{line + 1}: categories[2].max_amount_cny: give amount_cny or max_amount_cny, not both"]


def test_neither_an_amount_nor_a_cap():
    text, _ = broken("    amount_cny: 80000\n", "")
    line = text.splitlines().index("  - code: F") + 1
    assert errors_of(text) == [
        f"{FILE}:{line}: categories[3]: give amount_cny (a fixed amount) or max_amount_cny (a cap)"]


def test_a_call_that_closes_before_it_opens():
    text, line = broken("closes: 2026-06-20", "closes: 2026-05-01")
    assert errors_of(text) == [f"{FILE}:{line}: closes: the call closes (2026-05-01) before it opens (2026-05-20)"]


def test_a_period_that_ends_before_it_starts():
    text, line = broken("window: {start: 2026-10-01, end: 2026-11-30}", "window: {start: 2026-10-01, end: 2026-09-30}")
    assert errors_of(text) == [
        f"{FILE}:{line}: categories[3].indicators[4].window.end: ends (2026-09-30) before it starts (2026-10-01)"]


def test_an_impossible_date():
    text, line = broken("opens: 2026-05-20", "opens: 2026-05-32")
    assert errors_of(text) == [f"{FILE}:{line}: opens: must be a real date written YYYY-MM-DD, not '2026-05-32'"]


def test_an_indicator_code_used_twice_in_a_category_and_its_form():
    text, line = broken("code: C2a", "code: C1")
    assert errors_of(text) == [
        f"{FILE}:{line}: categories[2].forms[0].indicators[0].code: indicator code 'C1' is used twice in this category"]


def test_a_category_code_used_twice():
    text, line = broken("  - code: B\n", "  - code: A\n")
    assert errors_of(text) == [f"{FILE}:{line}: categories[1].code: category code 'A' is used twice"]


def test_a_form_code_used_twice():
    text, line = broken("      - code: salon_series", "      - code: annual_meeting")
    assert errors_of(text) == [f"{FILE}:{line}: categories[2].forms[1].code: form code 'annual_meeting' is used twice"]


def test_including_kinds_must_be_among_the_counted_kinds():
    text, line = broken("including: {event_kinds: [international], min_count: 1}",
                        "including: {event_kinds: [international], min_count: 3}")
    assert errors_of(text) == [
        f"{FILE}:{line}: categories[0].indicators[2].including.min_count: 3 is more than the indicator's min_count (2)"]
    text, _ = broken("        event_kinds: [international, national, regional, annual_meeting, salon_session, "
                     "report_session, other]\n        min_count: 2",
                     "        event_kinds: [national]\n        min_count: 2")
    line = text.splitlines().index("        including: {event_kinds: [international], min_count: 1}") + 1
    assert errors_of(text) == [
        f"{FILE}:{line}: categories[0].indicators[2].including.event_kinds: 'international' is not one of this "
        "indicator's event_kinds (national)"]


def test_a_role_outside_the_allowed_list():
    text, line = broken("roles: [host, main_organiser]", "roles: [host, sponsor]")
    assert errors_of(text) == [
        f"{FILE}:{line}: categories[0].eligibility[1].roles[1]: must be one of 'host', 'co_host' or "
        "'main_organiser', not 'sponsor'"]


def test_a_value_listed_twice():
    text, line = broken("event_kinds: [report_session]", "event_kinds: [report_session, report_session]")
    assert errors_of(text) == [
        f"{FILE}:{line}: categories[3].indicators[4].event_kinds: 'report_session' is listed twice"]


def test_every_problem_is_reported_in_line_order():
    text, first = broken("year: 2026", "year: twenty")
    text = text.replace("min_person_times: 400", "min_person_times: 0", 1)
    second = text.splitlines().index("        min_person_times: 0") + 1
    assert errors_of(text) == [
        f"{FILE}:{first}: year: must be a whole number, not 'twenty'",
        f"{FILE}:{second}: categories[0].indicators[4].min_person_times: must be at least 1",
    ]


def test_a_code_with_other_characters():
    text, line = broken("code: 2026-capital-academic", "code: 2026_Capital")
    assert errors_of(text) == [f"{FILE}:{line}: code: '2026_Capital': use only lower-case letters, digits and '-', "
                               "starting with a letter or digit"]
    text, line = broken("  - code: B\n", "  - code: B 2\n")
    assert errors_of(text) == [f"{FILE}:{line}: categories[1].code: 'B 2': use only letters, digits, '_' and '-'"]


@pytest.mark.parametrize("text, found", [("", "the file is empty"), ("- code: x\n", "the file is not a mapping")])
def test_a_file_that_is_not_a_mapping(text, found):
    assert errors_of(text) == [
        f"{FILE}:1: (top level): {found}; a call is a mapping of its fields (code, year, title_zh, ...)"]
