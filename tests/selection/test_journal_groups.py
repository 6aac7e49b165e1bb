"""Journal groups: the override table and the order of the rules."""

from __future__ import annotations

import re

import pytest

from selection.errors import SelectionError
from selection.journal_groups import JournalGroupResolver, load_overrides, normalize_cn_number, normalize_issn

NATURE = {"id": "https://openalex.org/S137773608", "issn_l": "0028-0836", "issn": ["0028-0836", "1476-4687"]}
CHINESE_PHYSICS_B = {"id": "https://openalex.org/S1", "issn_l": "1674-1056", "issn": ["1674-1056", "2058-3834"]}
DOMESTIC_BY_COUNTRY = {"id": "https://openalex.org/S2", "issn_l": "1234-5679", "issn": ["1234-5679"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0256-307X", "0256-307X"),
        ("0256307x", "0256-307X"),
        (" 1674-1056 ", "1674-1056"),
        ("0256-3071", None),  # wrong check digit
        ("1674-105", None),
        ("ISSN 1674-1056", None),
        ("", None),
    ],
)
def test_normalize_issn(text, expected):
    assert normalize_issn(text) == expected


def test_packaged_overrides_load_and_are_domestic_chinese_journals():
    overrides = load_overrides()
    assert overrides["1674-1056"] == "11-5639/O4"
    assert overrides["0256-307X"] == "11-1959/O4"
    assert 10 <= len(overrides) <= 40


def test_rules_in_order():
    resolver = JournalGroupResolver(
        overrides={"1674-1056": "11-5639/O4"},
        source_countries={"S1": "GB", "S2": "CN", "https://openalex.org/S137773608": "GB"},
    )
    # registered in GB by OpenAlex, but on the override list
    assert resolver.resolve(CHINESE_PHYSICS_B) == ("domestic", "override")
    assert resolver.resolve(DOMESTIC_BY_COUNTRY) == ("domestic", "source_country")
    assert resolver.resolve(NATURE) == ("international", "source_country")
    assert resolver.resolve({"id": "https://openalex.org/S9", "issn_l": None, "issn": None}) == (
        "international",
        "default",
    )
    assert resolver.resolve(None) == ("international", "default")


def test_override_matches_any_issn_of_the_source():
    resolver = JournalGroupResolver({"2058-3834": "11-5639/O4"}, {})
    assert resolver.resolve(CHINESE_PHYSICS_B) == ("domestic", "override")
    lower_case = {"id": "S5", "issn_l": None, "issn": ["0256-307x"]}
    assert JournalGroupResolver({"0256-307X": "11-1959/O4"}, {}).resolve(lower_case) == ("domestic", "override")


def test_country_code_carried_by_the_source_itself_is_used():
    resolver = JournalGroupResolver({}, {})
    assert resolver.resolve({"id": "S7", "country_code": "CN"}) == ("domestic", "source_country")
    assert resolver.resolve({"id": "S7", "country_code": "US"}) == ("international", "source_country")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("0256-3071,11-1959/O4,CPL,", "line 3: '0256-3071' is not a valid ISSN"),
        ("not-an-issn,11-1959/O4,CPL,", "line 3: 'not-an-issn' is not a valid ISSN"),
        ("0256-307X,0-1514/G2,CPL,", "line 3: CN number '0-1514/G2' must look like"),
        ("1674-1056,11-9999/O4,CPB again,", "line 3: ISSN 1674-1056 is listed twice"),
    ],
)
def test_bad_override_rows_name_the_line(tmp_path, row, message):
    path = tmp_path / "overrides.csv"
    path.write_text(f"issn,cn_number,title,note\n1674-1056,11-5639/O4,CPB,\n{row}\n", encoding="utf-8")
    with pytest.raises(SelectionError, match=re.escape(message)):
        load_overrides(path)


def test_overrides_file_problems(tmp_path):
    with pytest.raises(SelectionError, match="not found"):
        load_overrides(tmp_path / "absent.csv")
    path = tmp_path / "overrides.csv"
    path.write_text("journal,cn\n", encoding="utf-8")
    with pytest.raises(SelectionError, match="missing issn, cn_number"):
        load_overrides(path)
    path.write_text("issn,cn_number,title,note\n0256307x,11-1959/o4,CPL,\n", encoding="utf-8")
    assert load_overrides(path) == {"0256-307X": "11-1959/O4"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11-5639/O4", "11-5639/O4"),
        ("CN 11-5639/o4", "11-5639/O4"),
        ("cn11-1958/O4", "11-1958/O4"),
        ("１１－１９５８／Ｏ４", "11-1958/O4"),  # full-width, as typed with a Chinese input method
        ("0-1514/G2", None),  # truncated in a real list: never repaired
        ("11-5639", None),
        ("ISSN 1674-1056", None),
        ("", None),
    ],
)
def test_normalize_cn_number(text, expected):
    assert normalize_cn_number(text) == expected
