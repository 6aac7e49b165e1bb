"""The statistics of a panel's scores, and ``python -m selection panel-stats``.

``scores.csv`` holds one row per score given: ``item_id,expert_id,score``; a score an expert
did not give is a row left out. A *matrix* below is a frame of items x experts (index
``item_id``, columns ``expert_id``, in order of first appearance), NaN where an expert gave no
score. Agreement figures: Kendall's W (tie-corrected) and ICC(2,1) / ICC(2,k) over the complete
block (the items every expert scored), Krippendorff's interval alpha over all cells. Per item:
plain, trimmed and normalised means, the rank by normalised mean with a bootstrap interval over
experts, and a disagreement flag.
"""

from __future__ import annotations

import argparse
import csv
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from selection.errors import SelectionError
from selection.files import write_json

REQUIRED_COLUMNS = ("item_id", "expert_id", "score")
DEFAULT_TRIM = 1
DEFAULT_SEED = 20261024
DEFAULT_BOOTSTRAP = 1000
DEFAULT_MAX_RANK_WIDTH = 20
TRIM_MIN_SCORES = 5  # fewer scores than this: the plain mean
Z_SCORE_MIN_ITEMS = 10  # an expert with fewer scores is normalised by percentile ranks
RANK_INTERVAL = (2.5, 97.5)  # percentiles of the bootstrap ranks
SPREAD_DECILE = 0.9  # a spread at or above this quantile of the items' spreads is "in the top decile"
RANK_DECIMALS = 12  # normalised means equal to this many decimals tie
# pingouin's labels for two-way random, absolute agreement: before 0.7, from 0.7 on.
PINGOUIN_ICC_TYPES = {"icc2_1": ("ICC2", "ICC(A,1)"), "icc2_k": ("ICC2k", "ICC(A,k)")}


def read_scores(path: str | Path) -> pd.DataFrame:
    """The scores of ``path`` as a frame ``item_id, expert_id, score`` in file order; an empty
    file, a missing column, an empty id, a score that is not a finite number or an (item,
    expert) pair given twice stops with one SelectionError naming the file and line."""
    path = Path(path)
    rows, first_line = [], {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None:
                raise SelectionError(f"{path}:1: empty file; expected the header {','.join(REQUIRED_COLUMNS)}")
            missing = [column for column in REQUIRED_COLUMNS if column not in reader.fieldnames]
            if missing:
                raise SelectionError(f"{path}:1: missing column(s) {', '.join(missing)}")
            for row in reader:
                where = f"{path}:{reader.line_num}"
                item, expert, text = ((row[column] or "").strip() for column in REQUIRED_COLUMNS)
                if not item or not expert:
                    raise SelectionError(f"{where}: empty {'item_id' if not item else 'expert_id'}")
                if not text:
                    raise SelectionError(f"{where}: empty score (leave the row out when an expert gave none)")
                try:
                    score = float(text)
                except ValueError:
                    score = math.nan
                if not math.isfinite(score):
                    raise SelectionError(f"{where}: score {text!r} is not a number")
                if (item, expert) in first_line:
                    raise SelectionError(f"{where}: item {item!r} scored twice by expert {expert!r} "
                                         f"(first on line {first_line[item, expert]})")
                first_line[item, expert] = reader.line_num
                rows.append((item, expert, score))
    except FileNotFoundError:
        raise SelectionError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise SelectionError(f"{path}: not UTF-8 text") from None
    except csv.Error as exc:
        raise SelectionError(f"{path}:{reader.line_num}: {exc}") from None
    if not rows:
        raise SelectionError(f"{path}:1: a header and no scores")
    return pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS))


def score_matrix(scores: pd.DataFrame, value: str = "score") -> pd.DataFrame:
    """Items x experts of the column ``value`` of a scores frame, NaN where no score was given."""
    matrix = scores.pivot(index="item_id", columns="expert_id", values=value)
    return matrix.reindex(index=scores["item_id"].unique(), columns=scores["expert_id"].unique())


def complete_block(matrix: pd.DataFrame) -> pd.DataFrame:
    """The items every expert scored."""
    return matrix.dropna(axis=0, how="any")


def kendalls_w(matrix: pd.DataFrame) -> float | None:
    """Kendall's coefficient of concordance with the tie correction over the complete block:
    each expert ranks the items (average ranks for ties), ``W = 12 S / (m^2 (n^3 - n) - m T)``
    with ``S`` the squared deviations of the items' rank sums from their mean, ``m`` experts,
    ``n`` items and ``T`` the sum over experts of ``t^3 - t`` per group of ``t`` tied scores.
    None with fewer than 2 items or experts, or when every expert tied every item."""
    block = complete_block(matrix)
    items, experts = block.shape
    if items < 2 or experts < 2:
        return None
    rank_sums = block.rank(axis=0, method="average").sum(axis=1).to_numpy()
    squares = float(((rank_sums - rank_sums.mean()) ** 2).sum())
    ties = sum(float((counts**3 - counts).sum()) for counts in (block[column].value_counts() for column in block))
    denominator = experts**2 * (items**3 - items) - experts * ties
    return 12 * squares / denominator if denominator > 0 else None


def icc(matrix: pd.DataFrame) -> dict[str, float | None]:
    """ICC(2,1) and ICC(2,k) (two-way random effects, absolute agreement, single and average
    measures; pingouin's ICC2 and ICC2k) over the complete block, as ``icc2_1`` and ``icc2_k``;
    None with fewer than 2 items or experts, or without variance."""
    import pingouin

    block = complete_block(matrix)
    if block.shape[0] < 2 or block.shape[1] < 2:
        return dict.fromkeys(PINGOUIN_ICC_TYPES)
    long = block.rename_axis(index="item_id", columns="expert_id").stack().rename("score").reset_index()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # pingouin's own: tiny blocks' intervals, pandas deprecations
        table = pingouin.intraclass_corr(long, targets="item_id", raters="expert_id", ratings="score")
    value = dict(zip(table["Type"], table["ICC"]))
    return {key: finite_or_none(next(value[label] for label in labels if label in value))
            for key, labels in PINGOUIN_ICC_TYPES.items()}


def alpha(matrix: pd.DataFrame) -> float | None:
    """Krippendorff's alpha, interval level, over all cells (missing ones allowed); None when no
    item has two scores or the paired scores do not vary."""
    import krippendorff

    reliability = matrix.to_numpy(dtype=float).T  # experts x items, as krippendorff takes it
    paired = reliability[:, (~np.isnan(reliability)).sum(axis=0) >= 2]
    if np.unique(paired[~np.isnan(paired)]).size < 2:
        return None
    return finite_or_none(krippendorff.alpha(reliability_data=reliability, level_of_measurement="interval"))


def trimmed_mean(values, trim: int) -> float:
    """The mean without the ``trim`` highest and ``trim`` lowest values when there are at least
    5 values and more than ``2 * trim``; otherwise the plain mean."""
    ordered = np.sort(np.asarray(values, dtype=float))
    if trim > 0 and len(ordered) >= TRIM_MIN_SCORES and len(ordered) > 2 * trim:
        ordered = ordered[trim : len(ordered) - trim]
    return float(ordered.mean())


def normalised_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """The scores frame with ``normalised`` and ``normalisation`` per row, within each expert.

    An expert who scored at least 10 items gets z-scores, ``(score - mean) / sd`` (sample sd; 0
    when they gave one value throughout), normalisation ``"z"``. An expert with fewer gets
    percentile ranks, ``(average rank - 1) / (n - 1)`` (0 the lowest, 1 the highest, ties the
    average; 0.5 for a single score), normalisation ``"percentile"``.
    """
    by_expert = scores.groupby("expert_id", sort=False)["score"]
    count = by_expert.transform("count")
    sd = by_expert.transform("std")
    z_score = ((scores["score"] - by_expert.transform("mean")) / sd).where(sd > 0, 0.0)
    percentile = ((by_expert.rank(method="average") - 1) / (count - 1)).where(count > 1, 0.5)
    use_z = count >= Z_SCORE_MIN_ITEMS
    return scores.assign(normalised=z_score.where(use_z, percentile),
                         normalisation=np.where(use_z, "z", "percentile"))


def descending_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks down each column, 1 for the highest, equal values (to 12 decimals) sharing the
    better rank; NaN stays NaN and is not counted."""
    frame = pd.DataFrame(np.round(np.asarray(values, dtype=float), RANK_DECIMALS))
    return frame.rank(axis=0, method="min", ascending=False).to_numpy()


def bootstrap_rank_intervals(normalised: pd.DataFrame, rounds: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each item's 2.5 and 97.5 percentile rank (ranks that occurred) over ``rounds`` panels of
    experts drawn with replacement from ``normalised`` (items x experts of normalised scores).

    A drawn expert brings their normalised scores (drawn twice, they count twice); an item no
    drawn expert scored sits that round out, and an item that sat out every round gets NaN.
    """
    values = normalised.to_numpy(dtype=float)
    scored = ~np.isnan(values)
    experts = values.shape[1]
    draws = np.random.default_rng(seed).integers(0, experts, size=(rounds, experts))
    times_drawn = np.zeros((experts, rounds))
    np.add.at(times_drawn, (draws, np.arange(rounds)[:, None]), 1)
    with np.errstate(invalid="ignore"):
        means = (np.where(scored, values, 0.0) @ times_drawn) / (scored @ times_drawn)
    ranks = descending_ranks(means)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: items that sat out every round
        low, high = (np.nanpercentile(ranks, q, axis=1, method="inverted_cdf") for q in RANK_INTERVAL)
    return low, high


def disagreement(spread: np.ndarray, rank_width: np.ndarray, max_rank_width: float) -> np.ndarray:
    """True where an item's spread is above 0 and in the top decile of the items' spreads (at or
    above their 90th percentile) or its rank interval is wider than ``max_rank_width``; NaN
    spreads and widths count as neither."""
    known = spread[~np.isnan(spread)]
    threshold = np.quantile(known, SPREAD_DECILE) if known.size else np.inf
    return ((spread >= threshold) & (spread > 0)) | (rank_width > max_rank_width)


def item_table(scores: pd.DataFrame, normalised: pd.DataFrame, trim: int, rounds: int, seed: int,
               max_rank_width: int) -> pd.DataFrame:
    """Per item (matrix order): n_scores, mean, trimmed_mean, normalised_mean, rank, rank_low,
    rank_high, spread (sample sd of the raw scores) and disagreement."""
    by_item = scores.groupby("item_id", sort=False)["score"]
    table = pd.DataFrame({
        "n_scores": by_item.count(),
        "mean": by_item.mean(),
        "trimmed_mean": by_item.apply(lambda values: trimmed_mean(values, trim)),
        "normalised_mean": normalised.groupby("item_id", sort=False)["normalised"].mean(),
        "spread": by_item.std(),
    }).rename_axis("item_id")
    table["rank"] = descending_ranks(table["normalised_mean"].to_numpy()[:, None])[:, 0]
    low, high = bootstrap_rank_intervals(score_matrix(normalised, "normalised"), rounds, seed)
    table["rank_low"], table["rank_high"] = low, high
    table["disagreement"] = disagreement(table["spread"].to_numpy(), high - low, max_rank_width)
    return table


def expert_table(normalised: pd.DataFrame) -> pd.DataFrame:
    """Per expert (first appearance order): n_scores, mean, sd (sample) and normalisation."""
    by_expert = normalised.groupby("expert_id", sort=False)
    return pd.DataFrame({
        "n_scores": by_expert["score"].count(),
        "mean": by_expert["score"].mean(),
        "sd": by_expert["score"].std(),
        "normalisation": by_expert["normalisation"].first(),
    }).rename_axis("expert_id")


def panel_stats(scores: pd.DataFrame, trim: int = DEFAULT_TRIM, seed: int = DEFAULT_SEED,
                bootstrap: int = DEFAULT_BOOTSTRAP, max_rank_width: int = DEFAULT_MAX_RANK_WIDTH) -> dict:
    """Everything ``stats.json`` holds, as JSON-ready values (NaN as None); items best first
    (ties in matrix order)."""
    if trim < 0:
        raise SelectionError(f"--trim must be 0 or more, not {trim}")
    if bootstrap < 1:
        raise SelectionError(f"--bootstrap must be 1 or more, not {bootstrap}")
    if max_rank_width < 0:
        raise SelectionError(f"--max-rank-width must be 0 or more, not {max_rank_width}")
    matrix = score_matrix(scores)
    normalised = normalised_scores(scores)
    items = item_table(scores, normalised, trim, bootstrap, seed, max_rank_width)
    items = items.sort_values("rank", kind="stable")
    return {
        "kendalls_w": kendalls_w(matrix),
        **icc(matrix),
        "krippendorff_alpha_interval": alpha(matrix),
        "n_items": matrix.shape[0],
        "n_experts": matrix.shape[1],
        "complete_block_items": len(complete_block(matrix)),
        "settings": {"trim": trim, "seed": seed, "bootstrap": bootstrap, "max_rank_width": max_rank_width},
        "items": [
            {
                "item_id": item_id,
                "n_scores": int(row["n_scores"]),
                "mean": float(row["mean"]),
                "trimmed_mean": float(row["trimmed_mean"]),
                "normalised_mean": float(row["normalised_mean"]),
                "rank": int(row["rank"]),
                "rank_low": whole_or_none(row["rank_low"]),
                "rank_high": whole_or_none(row["rank_high"]),
                "disagreement": bool(row["disagreement"]),
                "spread": finite_or_none(row["spread"]),
            }
            for item_id, row in items.iterrows()
        ],
        "experts": [
            {
                "expert_id": expert_id,
                "n_scores": int(row["n_scores"]),
                "mean": float(row["mean"]),
                "sd": finite_or_none(row["sd"]),
                "normalisation": row["normalisation"],
            }
            for expert_id, row in expert_table(normalised).iterrows()
        ],
    }


def finite_or_none(value) -> float | None:
    """``value`` as a float, None when it is NaN or infinite."""
    value = float(value)
    return value if math.isfinite(value) else None


def whole_or_none(value) -> int | None:
    """``value`` as an int, None when it is NaN."""
    return None if math.isnan(value) else int(value)


def register(subparsers) -> None:
    """Add the ``panel-stats`` subcommand."""
    parser = subparsers.add_parser(
        "panel-stats",
        help="agreement, means, normalised ranks and disagreement flags of a panel's scores",
        description=(
            "Read scores.csv (item_id,expert_id,score; a score not given is a row left out) and write "
            "stats.json: Kendall's W, ICC(2,1), ICC(2,k) over the items every expert scored, Krippendorff's "
            "interval alpha over all scores, and per item the plain, trimmed and normalised means, the rank "
            "with a bootstrap interval over experts and a disagreement flag; per expert the summary."
        ),
    )
    parser.add_argument("--scores", required=True, type=Path, help="scores.csv with item_id,expert_id,score")
    parser.add_argument("--out", required=True, type=Path, help="stats.json to write (replaced at once)")
    parser.add_argument("--trim", type=int, default=DEFAULT_TRIM,
                        help=f"highest and lowest scores each dropped from an item's trimmed mean when it has "
                             f"{TRIM_MIN_SCORES} or more (default {DEFAULT_TRIM})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"bootstrap seed (default {DEFAULT_SEED})")
    parser.add_argument("--bootstrap", type=int, default=DEFAULT_BOOTSTRAP,
                        help=f"bootstrap rounds over experts (default {DEFAULT_BOOTSTRAP})")
    parser.add_argument("--max-rank-width", type=int, default=DEFAULT_MAX_RANK_WIDTH,
                        help=f"a wider rank interval flags disagreement (default {DEFAULT_MAX_RANK_WIDTH})")
    parser.set_defaults(func=run_panel_stats)


def run_panel_stats(args: argparse.Namespace) -> int:
    """Read the scores, compute the statistics, write stats.json, print one line."""
    stats = panel_stats(read_scores(args.scores), trim=args.trim, seed=args.seed, bootstrap=args.bootstrap,
                        max_rank_width=args.max_rank_width)
    write_json(args.out, stats)
    flagged = sum(item["disagreement"] for item in stats["items"])
    print(f"{stats['n_items']} items, {stats['n_experts']} experts, {stats['complete_block_items']} scored by all; "
          f"{flagged} item(s) flagged for disagreement; written to {args.out}")
    return 0
