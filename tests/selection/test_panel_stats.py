"""``python -m selection panel-stats``: every figure of stats.json against values computed
independently here (by hand from the formulas, or with scipy / krippendorff), on fixed score
matrices with and without missing cells; a reproducible bootstrap; bad input stopping with the
file and line and nothing written."""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from collections import Counter

import krippendorff
import numpy as np
import pytest
from scipy.stats import friedmanchisquare

from selection import cli
from selection.errors import SelectionError
from selection.panel import stats
from tests.conftest import REPO_ROOT

# Shrout & Fleiss (1979), table 2: 6 targets (rows) x 4 judges; ICC(2,1) = .29, ICC(2,4) = .62.
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]

# The example of IBM's SPSS NPAR TESTS /KENDALL: 4 judges (rows) x 5 items, ties within judges.
# By hand: average ranks per judge [2, 4.5, 3, 4.5, 1], [2, 2, 4, 5, 2], [2, 3.5, 3.5, 5, 1],
# [1.5, 4, 3, 5, 1.5]; rank sums 7.5, 14, 13.5, 19.5, 5.5 (mean 12), S = 125; tie groups of 2, 3,
# 2, 2 give T = 6 + 24 + 6 + 6 = 42; W = 12 * 125 / (16 * 120 - 4 * 42) = 1500 / 1752.
SPSS_JUDGES = [[2, 5, 4, 5, 1], [3, 3, 4, 5, 3], [3, 4, 4, 6, 2], [2, 4, 3, 6, 2]]
SPSS_W = 1500 / 1752

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 coders (rows) x 12 units
# with missing values; interval alpha = 0.849.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def score_rows(by_item) -> list[tuple[str, str, float]]:
    """(item_id, expert_id, score) rows of an items x experts list of lists; None = no score."""
    return [(f"item{i}", f"expert{e}", float(score))
            for i, row in enumerate(by_item) for e, score in enumerate(row) if score is not None]


def transpose(rows):
    return [list(column) for column in zip(*rows)]


def frame(by_item):
    import pandas as pd

    return pd.DataFrame(score_rows(by_item), columns=["item_id", "expert_id", "score"])


def write_scores(path, by_item) -> None:
    lines = ["item_id,expert_id,score"] + [f"{item},{expert},{score:g}" for item, expert, score in score_rows(by_item)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_command(*argv) -> int:
    """The panel-stats subcommand through its own parser (it is not in SUBCOMMAND_MODULES yet)."""
    parser = argparse.ArgumentParser()
    stats.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["panel-stats", *map(str, argv)])
    return args.func(args)


def stats_of(tmp_path, by_item, *options) -> dict:
    scores, out = tmp_path / "scores.csv", tmp_path / "stats.json"
    write_scores(scores, by_item)
    assert run_command("--scores", scores, "--out", out, *options) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def by_id(stats_json, key="items", id_key="item_id") -> dict:
    return {entry[id_key]: entry for entry in stats_json[key]}


# --- figures computed by hand, independently of selection.panel.stats -------------------------


def average_ranks(values) -> list[float]:
    """1-based ranks, tied values sharing the mean of their positions."""
    ordered = sorted(values)
    return [statistics.mean(position + 1 for position, other in enumerate(ordered) if other == value)
            for value in values]


def kendalls_w_by_hand(raters) -> float:
    """W = 12 S / (m^2 (n^3 - n) - m T); ``raters`` holds each rater's scores of the same n items."""
    m, n = len(raters), len(raters[0])
    ranks = [average_ranks(scores) for scores in raters]
    rank_sums = [sum(rater[item] for rater in ranks) for item in range(n)]
    mean = sum(rank_sums) / n
    s = sum((total - mean) ** 2 for total in rank_sums)
    t = sum(count**3 - count for scores in raters for count in Counter(scores).values())
    return 12 * s / (m**2 * (n**3 - n) - m * t)


def icc2_by_hand(targets) -> tuple[float, float]:
    """ICC(2,1) and ICC(2,k) from the two-way ANOVA mean squares; ``targets`` = rows of k scores."""
    n, k = len(targets), len(targets[0])
    grand = sum(map(sum, targets)) / (n * k)
    row_means = [sum(row) / k for row in targets]
    column_means = [sum(column) / n for column in zip(*targets)]
    ss_rows = k * sum((mean - grand) ** 2 for mean in row_means)
    ss_columns = n * sum((mean - grand) ** 2 for mean in column_means)
    ss_total = sum((score - grand) ** 2 for row in targets for score in row)
    msr = ss_rows / (n - 1)
    msc = ss_columns / (k - 1)
    mse = (ss_total - ss_rows - ss_columns) / ((n - 1) * (k - 1))
    single = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    average = (msr - mse) / (msr + (msc - mse) / n)
    return single, average


def interval_alpha_by_hand(coders) -> float:
    """Krippendorff's interval alpha, 1 - D_o / D_e, over the units with two or more values."""
    units = [[value for value in unit if value is not None] for unit in zip(*coders)]
    units = [unit for unit in units if len(unit) >= 2]
    values = [value for unit in units for value in unit]
    n = len(values)
    observed = sum(sum((a - b) ** 2 for i, a in enumerate(unit) for j, b in enumerate(unit) if i != j)
                   / (len(unit) - 1) for unit in units) / n
    expected = sum((a - b) ** 2 for i, a in enumerate(values) for j, b in enumerate(values) if i != j) / (n * (n - 1))
    return 1 - observed / expected


# --- Kendall's W ---------------------------------------------------------------------------


def test_hand_formula_reproduces_the_worked_example():
    assert kendalls_w_by_hand(SPSS_JUDGES) == pytest.approx(SPSS_W)
    # The tie-corrected Friedman statistic is m (n - 1) W.
    m, n = len(SPSS_JUDGES), len(SPSS_JUDGES[0])
    assert friedmanchisquare(*transpose(SPSS_JUDGES)).statistic / (m * (n - 1)) == pytest.approx(SPSS_W)


def test_kendalls_w_with_ties_matches_the_hand_formula():
    matrix = stats.score_matrix(frame(transpose(SPSS_JUDGES)))
    assert stats.kendalls_w(matrix) == pytest.approx(SPSS_W, abs=1e-12)
    rng = np.random.default_rng(5)
    for _ in range(20):
        raters = rng.integers(1, 5, size=(4, 7)).tolist()  # scores 1-4 over 7 items: ties everywhere
        matrix = stats.score_matrix(frame(transpose(raters)))
        assert stats.kendalls_w(matrix) == pytest.approx(kendalls_w_by_hand(raters), abs=1e-12)


def test_kendalls_w_is_one_for_identical_rankings_with_ties_and_zero_for_opposite_ones():
    tied = [[3, 1, 1, 2, 5], [30, 10, 10, 20, 50], [7, 4, 4, 6, 9]]
    assert stats.kendalls_w(stats.score_matrix(frame(transpose(tied)))) == pytest.approx(1.0)
    assert stats.kendalls_w(stats.score_matrix(frame(transpose([[1, 2, 3, 4], [4, 3, 2, 1]])))) == pytest.approx(0.0)
    assert stats.kendalls_w(stats.score_matrix(frame([[5, 5], [5, 5], [5, 5]]))) is None  # every item tied


# --- ICC -----------------------------------------------------------------------------------


def test_icc_reproduces_shrout_and_fleiss():
    single, average = icc2_by_hand(SHROUT_FLEISS)
    assert (round(single, 2), round(average, 2)) == (0.29, 0.62)
    result = stats.icc(stats.score_matrix(frame(SHROUT_FLEISS)))
    assert result == {"icc2_1": pytest.approx(single, abs=1e-12), "icc2_k": pytest.approx(average, abs=1e-12)}


def test_icc_matches_the_hand_mean_squares_on_other_matrices():
    rng = np.random.default_rng(11)
    for _ in range(5):
        targets = (rng.normal(5, 2, size=(8, 1)) + rng.normal(0, 1, size=(8, 3))).round(1).tolist()
        single, average = icc2_by_hand(targets)
        result = stats.icc(stats.score_matrix(frame(targets)))
        assert result["icc2_1"] == pytest.approx(single, abs=1e-12)
        assert result["icc2_k"] == pytest.approx(average, abs=1e-12)


# --- Krippendorff's alpha ------------------------------------------------------------------


def test_alpha_reproduces_krippendorffs_example_with_missing_values():
    matrix = stats.score_matrix(frame(transpose(KRIPPENDORFF_2011)))
    assert round(stats.alpha(matrix), 3) == 0.849
    assert stats.alpha(matrix) == pytest.approx(interval_alpha_by_hand(KRIPPENDORFF_2011), abs=1e-12)


def test_alpha_by_hand_on_a_tiny_matrix():
    coders = [[1, 2, 3, None], [1, 3, 3, 4], [None, 2, 4, 4]]
    assert stats.alpha(stats.score_matrix(frame(transpose(coders)))) == pytest.approx(interval_alpha_by_hand(coders))
    # Units of 2, 3, 3 and 2 values (n = 10): only units 2 and 3 disagree, each (1 + 1 + 1 + 1) / 2, so
    # D_o = 4 / 10; the ten values' ordered pairs give D_e = 242 / 90; alpha = 1 - 18 / 121.
    assert interval_alpha_by_hand(coders) == pytest.approx(103 / 121)


# --- means and normalisation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "trim", "expected"),
    [
        ([1, 2, 6, 7, 9, 20], 1, (2 + 6 + 7 + 9) / 4),
        ([1, 2, 6, 7, 9, 20], 2, (6 + 7) / 2),
        ([1, 2, 6, 7, 9, 20], 0, 45 / 6),
        ([8, 1, 9, 3, 100], 1, (3 + 8 + 9) / 3),
        ([8, 1, 9, 3, 100], 2, 8.0),
        ([8, 1, 9, 3, 100], 3, 121 / 5),  # nothing would be left: the plain mean
        ([1, 2, 9, 100], 1, 28.0),  # fewer than 5 scores: the plain mean
        ([4], 1, 4.0),
    ],
)
def test_trimmed_mean(values, trim, expected):
    assert stats.trimmed_mean(values, trim) == pytest.approx(expected)


def z_normalised_means_by_hand(by_item) -> dict[str, float]:
    """Mean over an item's experts of (score - expert mean) / expert sample sd."""
    experts = transpose(by_item)
    z = [[None if score is None else (score - statistics.mean(given)) / statistics.stdev(given)
          for score in scores] for scores, given in ((s, [v for v in s if v is not None]) for s in experts)]
    return {f"item{i}": statistics.mean(value for value in row if value is not None)
            for i, row in enumerate(transpose(z))}


def twelve_items_three_experts():
    """12 items x 3 experts, expert 1 skipped item 3 (11 scores left, so still z-scored)."""
    rng = np.random.default_rng(3)
    by_item = rng.integers(1, 11, size=(12, 3)).tolist()
    by_item[3][1] = None
    return by_item


def test_z_normalised_means_and_item_means_by_hand(tmp_path):
    by_item = twelve_items_three_experts()
    result = stats_of(tmp_path, by_item, "--bootstrap", 50)
    items = by_id(result)
    for item_id, expected in z_normalised_means_by_hand(by_item).items():
        given = [score for score in by_item[int(item_id.removeprefix("item"))] if score is not None]
        assert items[item_id]["normalised_mean"] == pytest.approx(expected, abs=1e-12)
        assert items[item_id]["n_scores"] == len(given)
        assert items[item_id]["mean"] == pytest.approx(statistics.mean(given))
        assert items[item_id]["trimmed_mean"] == pytest.approx(statistics.mean(given))  # 3 scores: no trim
        assert items[item_id]["spread"] == pytest.approx(statistics.stdev(given))
    experts = by_id(result, "experts", "expert_id")
    assert [experts[f"expert{e}"]["n_scores"] for e in range(3)] == [12, 11, 12]
    assert {expert["normalisation"] for expert in experts.values()} == {"z"}
    given = [row[1] for row in by_item if row[1] is not None]
    assert experts["expert1"]["mean"] == pytest.approx(statistics.mean(given))
    assert experts["expert1"]["sd"] == pytest.approx(statistics.stdev(given))


def test_percentile_normalisation_below_ten_items():
    scores = frame([[1, 10], [2, 30], [2, 20], [4, None]])  # expert0 ties on 2; expert1 scored 3 items
    normalised = stats.normalised_scores(scores)
    # expert0: average ranks 1, 2.5, 2.5, 4 of 4 -> (r - 1) / 3; expert1: ranks 1, 3, 2 of 3 -> (r - 1) / 2.
    assert normalised["normalised"].tolist() == pytest.approx([0, 0, 0.5, 1, 0.5, 0.5, 1])
    assert set(normalised["normalisation"]) == {"percentile"}
    assert stats.normalised_scores(frame([[7]]))["normalised"].tolist() == [0.5]


def test_mixed_normalisation_ranks_by_normalised_mean(tmp_path):
    by_item = [[score, None] for score in range(1, 11)]  # expert0: 10 items -> z
    for item, score in ((0, 9), (4, 1), (9, 5)):  # expert1: 3 items -> percentiles 1, 0, 0.5
        by_item[item][1] = score
    result = stats_of(tmp_path, by_item, "--bootstrap", 20)
    z = [(score - 5.5) / statistics.stdev(range(1, 11)) for score in range(1, 11)]
    expected = {f"item{i}": value for i, value in enumerate(z)}
    expected.update(item0=(z[0] + 1) / 2, item4=(z[4] + 0) / 2, item9=(z[9] + 0.5) / 2)
    items = by_id(result)
    assert {key: items[key]["normalised_mean"] for key in expected} == pytest.approx(expected)
    best_first = sorted(expected, key=lambda key: -expected[key])
    assert [item["item_id"] for item in result["items"]] == best_first
    assert [item["rank"] for item in result["items"]] == list(range(1, 11))
    assert [e["normalisation"] for e in result["experts"]] == ["z", "percentile"]


def test_equal_normalised_means_share_the_better_rank(tmp_path):
    result = stats_of(tmp_path, [[3, 3], [5, 5], [5, 5], [1, 1]], "--bootstrap", 10)
    assert [(item["item_id"], item["rank"]) for item in result["items"]] == [
        ("item1", 1), ("item2", 1), ("item0", 3), ("item3", 4)]


# --- missing cells and the complete block --------------------------------------------------


def test_missing_cells_leave_items_out_of_w_and_icc_but_not_out_of_alpha_and_means(tmp_path):
    complete = [row[:] for row in SHROUT_FLEISS]
    with_gap = [row[:] for row in SHROUT_FLEISS] + [[3, None, 2, 4]]  # item6: judge 1 skipped it
    result = stats_of(tmp_path, with_gap, "--bootstrap", 50)
    single, average = icc2_by_hand(complete)
    assert result["complete_block_items"] == 6
    assert (result["n_items"], result["n_experts"]) == (7, 4)
    assert result["kendalls_w"] == pytest.approx(kendalls_w_by_hand(transpose(complete)))
    assert result["icc2_1"] == pytest.approx(single)
    assert result["icc2_k"] == pytest.approx(average)
    coders = transpose(with_gap)
    assert result["krippendorff_alpha_interval"] == pytest.approx(interval_alpha_by_hand(coders))
    reliability = np.array([[np.nan if v is None else v for v in coder] for coder in coders], dtype=float)
    assert result["krippendorff_alpha_interval"] == pytest.approx(
        krippendorff.alpha(reliability_data=reliability, level_of_measurement="interval"))
    assert result["krippendorff_alpha_interval"] != pytest.approx(interval_alpha_by_hand(transpose(complete)))
    item6 = by_id(result)["item6"]
    assert (item6["n_scores"], item6["mean"]) == (3, 3.0)


def test_too_small_blocks_give_null(tmp_path):
    one_complete_item = [[1, 2, 3], [4, None, 5], [None, 6, 7]]
    result = stats_of(tmp_path, one_complete_item, "--bootstrap", 10)
    assert result["complete_block_items"] == 1
    assert (result["kendalls_w"], result["icc2_1"], result["icc2_k"]) == (None, None, None)
    assert result["krippendorff_alpha_interval"] == pytest.approx(interval_alpha_by_hand(transpose(one_complete_item)))
    single_expert = stats_of(tmp_path, [[1], [2], [3]], "--bootstrap", 10)
    assert [single_expert[key] for key in ("kendalls_w", "icc2_1", "icc2_k", "krippendorff_alpha_interval")] == [
        None] * 4
    assert single_expert["experts"][0]["sd"] == 1.0


# --- bootstrap and disagreement ------------------------------------------------------------


def noisy_panel():
    rng = np.random.default_rng(8)
    quality = np.linspace(0, 3, 30)[:, None]
    return (quality + rng.normal(0, 1.5, size=(30, 6))).round(1).tolist()


def test_bootstrap_is_reproducible_with_the_same_seed(tmp_path):
    first = stats_of(tmp_path, noisy_panel(), "--seed", 4, "--bootstrap", 300)
    again = stats_of(tmp_path, noisy_panel(), "--seed", 4, "--bootstrap", 300)
    other = stats_of(tmp_path, noisy_panel(), "--seed", 5, "--bootstrap", 300)
    assert first == again
    intervals = [[(item["rank_low"], item["rank_high"]) for item in result["items"]] for result in (first, other)]
    assert intervals[0] != intervals[1]
    assert first["settings"] == {"trim": 1, "seed": 4, "bootstrap": 300, "max_rank_width": 20}
    for item in first["items"]:
        assert 1 <= item["rank_low"] <= item["rank_high"] <= 30
        assert isinstance(item["rank_low"], int)
    assert any(item["rank_high"] - item["rank_low"] >= 5 for item in first["items"])


def test_unanimous_experts_leave_no_rank_uncertainty(tmp_path):
    by_item = [[score] * 4 for score in (5, 9, 2, 7, 3)]
    for item in stats_of(tmp_path, by_item, "--bootstrap", 200)["items"]:
        assert item["rank_low"] == item["rank"] == item["rank_high"]
        assert item["disagreement"] is False  # no spread at all


def test_disagreement_flags_the_top_decile_of_spread_and_wide_rank_intervals(tmp_path):
    by_item = [[i, i + 1, i] for i in range(9)] + [[1, 9, 5]]  # item9: the one spread far above the rest
    result = stats_of(tmp_path, by_item, "--bootstrap", 200)
    assert [item["item_id"] for item in result["items"] if item["disagreement"]] == ["item9"]
    wide = stats_of(tmp_path, by_item, "--bootstrap", 200, "--max-rank-width", 0)
    assert {item["item_id"] for item in wide["items"] if item["disagreement"]} == {
        item["item_id"] for item in wide["items"] if item["rank_high"] > item["rank_low"]} | {"item9"}
    assert wide["settings"]["max_rank_width"] == 0


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r":1: empty file"),
        ("item_id,score\na,1\n", r":1: missing column\(s\) expert_id"),
        ("item_id,expert_id,score\n", r":1: a header and no scores"),
        ("item_id,expert_id,score\na,x,1\nb,x,high\n", r":3: score 'high' is not a number"),
        ("item_id,expert_id,score\na,x,1\n\nb,x,nan\n", r":4: score 'nan' is not a number"),
        ("item_id,expert_id,score\na,x,1\nb,x,\n", r":3: empty score"),
        ("item_id,expert_id,score\na,x,1\n,x,2\n", r":3: empty item_id"),
        ("item_id,expert_id,score\na,x,1\nb,x,2\na,x,3\n", r":4: item 'a' scored twice by expert 'x' \(first on line 2\)"),
    ],
)
def test_bad_scores_name_file_and_line_and_write_nothing(tmp_path, text, message):
    scores, out = tmp_path / "scores.csv", tmp_path / "stats.json"
    scores.write_text(text, encoding="utf-8")
    with pytest.raises(SelectionError, match=f"^{re.escape(str(scores))}{message}"):
        run_command("--scores", scores, "--out", out)
    assert not out.exists()


def test_bad_settings_and_a_missing_file_are_selection_errors(tmp_path):
    scores = tmp_path / "scores.csv"
    write_scores(scores, SHROUT_FLEISS)
    for option, value in (("--bootstrap", 0), ("--trim", -1), ("--max-rank-width", -1)):
        with pytest.raises(SelectionError, match=f"^{option} must be"):
            run_command("--scores", scores, "--out", tmp_path / "stats.json", option, value)
    with pytest.raises(SelectionError, match="no such file"):
        run_command("--scores", tmp_path / "absent.csv", "--out", tmp_path / "stats.json")
    assert not (tmp_path / "stats.json").exists()


def test_the_command_line_turns_bad_input_into_one_error_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", tuple(dict.fromkeys((*cli.SUBCOMMAND_MODULES,
                                                                          "selection.panel.stats"))))
    scores = tmp_path / "scores.csv"
    scores.write_text("item_id,expert_id,score\na,x,1\na,x,2\n", encoding="utf-8")
    assert cli.main(["panel-stats", "--scores", str(scores), "--out", str(tmp_path / "stats.json")]) == 2
    assert capsys.readouterr().err == f"error: {scores}:3: item 'a' scored twice by expert 'x' (first on line 2)\n"


# --- end to end ----------------------------------------------------------------------------


def test_end_to_end_on_a_scores_file(tmp_path, capsys):
    by_item = [row[:] for row in SHROUT_FLEISS] + [[7, 3, 8, None], [2, 2, 1, 3]]  # judge 3 skipped item6
    for row, extra in zip(by_item, (6, 2, 7, 5, 9, 5, 4, 2)):  # a fifth judge: 5 scores per item, trim applies
        row.append(extra)
    result = stats_of(tmp_path, by_item, "--trim", 1, "--seed", 9, "--bootstrap", 200)
    assert "8 items, 5 experts, 7 scored by all;" in capsys.readouterr().out
    assert set(result) == {"kendalls_w", "icc2_1", "icc2_k", "krippendorff_alpha_interval", "items", "experts",
                           "settings", "n_items", "n_experts", "complete_block_items"}
    complete = [row for row in by_item if None not in row]
    single, average = icc2_by_hand(complete)
    assert result["kendalls_w"] == pytest.approx(kendalls_w_by_hand(transpose(complete)))
    assert (result["icc2_1"], result["icc2_k"]) == (pytest.approx(single), pytest.approx(average))
    assert result["krippendorff_alpha_interval"] == pytest.approx(interval_alpha_by_hand(transpose(by_item)))
    items = by_id(result)
    assert set(items["item0"]) == {"item_id", "n_scores", "mean", "trimmed_mean", "normalised_mean", "rank",
                                   "rank_low", "rank_high", "disagreement", "spread"}
    assert items["item0"]["trimmed_mean"] == pytest.approx((8 + 5 + 6) / 3)  # 9, 2, 5, 8, 6 without 9 and 2
    assert items["item6"]["trimmed_mean"] == pytest.approx(items["item6"]["mean"])  # 4 scores: the plain mean
    assert [item["rank"] for item in result["items"]] == sorted(item["rank"] for item in result["items"])
    assert set(result["experts"][0]) == {"expert_id", "n_scores", "mean", "sd", "normalisation"}
    assert result["settings"] == {"trim": 1, "seed": 9, "bootstrap": 200, "max_rank_width": 20}


def test_importing_the_module_loads_neither_pingouin_nor_krippendorff():
    script = "import sys, selection.panel.stats\nprint(sorted({'pingouin', 'krippendorff'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
