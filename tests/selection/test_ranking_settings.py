"""Ranking settings: packaged defaults, partial overrides, and every kind of bad value."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from selection.errors import SelectionError
from selection.ranking.settings import load_rank_settings
from selection.schema import INDICATORS


def write_settings(tmp_path, text: str):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_documented_values():
    settings = load_rank_settings()
    assert settings.per_group == 300
    assert settings.author_rule == "first_or_corresponding"  # a Beijing first or corresponding author
    assert settings.eligibility_top_share == 0.10
    assert settings.gate_indicators == ("influence", "hot", "frontier")  # originality cannot pass alone
    assert settings.rank_reviews and settings.review_seat_share == 0.10
    assert settings.priority_top_share == 0.01
    assert settings.min_stratum_works == 30
    assert settings.topic_cap_share == 0.10
    assert settings.as_of is None
    assert settings.window_end_year is None  # the latest harvested year
    assert set(settings.weights) == set(INDICATORS)
    assert sum(settings.weights_for("mathematics").values()) == pytest.approx(1.0)


def test_a_partial_file_overrides_only_what_it_names(tmp_path):
    path = write_settings(
        tmp_path,
        """
        [universe]
        author_rule = "any"
        as_of = "2025-06-30"
        window_end_year = 2024
        [weights]
        hot = 0.5
        [discipline_weights.mathematics]
        hot = 0.0
        influence = 1.0
        """,
    )
    settings = load_rank_settings(path)
    defaults = load_rank_settings()
    assert settings.author_rule == "any"
    assert settings.as_of == dt.date(2025, 6, 30)
    assert settings.window_end_year == 2024
    assert settings.weights["hot"] == 0.5
    assert settings.weights["influence"] == defaults.weights["influence"]
    assert settings.per_group == defaults.per_group
    math_weights = settings.weights_for("mathematics")
    assert math_weights["hot"] == 0.0
    total = 1.0 + defaults.weights["frontier"] + defaults.weights["originality"]
    assert math_weights["influence"] == pytest.approx(1.0 / total)
    physics_total = 0.5 + sum(defaults.weights[name] for name in INDICATORS if name != "hot")
    assert settings.weights_for("physics")["hot"] == pytest.approx(0.5 / physics_total)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[weights]\nhot = \"high\"\n", "[weights].hot must be a number"),
        ("[weights]\nhot = -0.1\n", "negative"),
        ("[discipline_weights.physics]\nfrontier = -1\n", "negative"),
        ("[weights]\nhotness = 0.1\n", "unknown key hotness"),
        ("[weights]\ninfluence = 0\nhot = 0\nfrontier = 0\noriginality = 0\n", "sum to 0"),
        ("[selection]\nper_group = 199\n", "outside [200, 500]"),
        ("[selection]\nper_group = 501\n", "outside [200, 500]"),
        ("[selection]\nper_group = 300.5\n", "whole number"),
        ("[universe]\nauthor_rule = \"last\"\n", "author_rule 'last'"),
        ("[universe]\nwindow_years = 7\n", "window_years 7"),
        ("[universe]\nas_of = \"yesterday\"\n", "ISO date"),
        ("[universe]\nwindow_end_year = \"2025\"\n", "window_end_year must be a year"),
        ("[universe]\nwindow_end_year = 25\n", "window_end_year 25 is outside"),
        ("[selection]\ntopic_cap_share = 0\n", "topic_cap_share"),
        ("[selection]\ngate_indicators = [\"influence\", \"originality\"]\n", "may not include originality"),
        ("[selection]\ngate_indicators = [\"citations\"]\n", "unknown indicator citations"),
        ("[selection]\ngate_indicators = []\n", "non-empty list"),
        ("[selection]\nreview_seat_share = 1.5\n", "review_seat_share"),
        ("[strata]\nmin_works = 0\n", "min_stratum_works must be >= 1"),
        ("[originality]\ntopic_novelty = 0.3\n", "not a settings section"),
        ("[ranking]\nx = 1\n", "not a settings section"),
        ("[weights\nhot = 1\n", "not valid TOML"),
    ],
)
def test_bad_settings_name_the_fix(tmp_path, text, message):
    with pytest.raises(SelectionError, match=re.escape(message)):
        load_rank_settings(write_settings(tmp_path, text))


def test_missing_settings_file(tmp_path):
    with pytest.raises(SelectionError, match="not found"):
        load_rank_settings(tmp_path / "absent.toml")


def test_command_line_overrides_are_checked():
    settings = load_rank_settings()
    assert settings.with_overrides(per_group=None, author_rule="first").author_rule == "first"
    assert settings.with_overrides(per_group=450).per_group == 450
    with pytest.raises(SelectionError, match="outside"):
        settings.with_overrides(per_group=150)


def test_as_dict_is_json_ready():
    document = json.loads(json.dumps(load_rank_settings().as_dict()))
    assert document["per_group"] == 300
    assert document["as_of"] is None
