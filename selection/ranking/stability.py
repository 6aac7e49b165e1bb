"""How stable a candidate's rank is: bootstrap the stratum baselines, jitter the weights,
select again (gate, priority seats, review share and topic cap included), and report the
central interval of the ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from selection.ranking.diversity import seat_numbers, walk_order

SECURE = "secure"
BORDERLINE = "borderline"


def stratum_position(
    stratum_index: np.ndarray, percentile: np.ndarray, has_value: np.ndarray, query_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the rows ``query_rows``: how many valued works of their stratum lie strictly
    below them, how many tie with them (themselves included), and how many valued works
    the stratum holds.

    ``stratum_index`` numbers the strata 0, 1, 2, ... (``pandas.factorize``). Works of one
    stratum with equal values share the same mid-rank percentile (0 < p < 1), so the key
    ``2 * stratum + p`` orders and groups them exactly.
    """
    keys = np.sort(stratum_index[has_value] * 2.0 + percentile[has_value])
    query_stratum = stratum_index[query_rows] * 2.0
    query_keys = query_stratum + percentile[query_rows]
    stratum_start = np.searchsorted(keys, query_stratum, side="left")
    first_equal = np.searchsorted(keys, query_keys, side="left")
    after_equal = np.searchsorted(keys, query_keys, side="right")
    stratum_end = np.searchsorted(keys, query_stratum + 1.5, side="right")
    return first_equal - stratum_start, after_equal - first_equal, stratum_end - stratum_start


def bootstrap_percentiles(
    below: np.ndarray, equal: np.ndarray, stratum_count: np.ndarray, has_value: np.ndarray,
    rounds: int, rng: np.random.Generator,
) -> np.ndarray:
    """Mid-rank percentiles against ``rounds`` resampled baselines, shape (works, rounds).

    Resampling ``n`` works of a stratum with replacement puts ``Binomial(n, below/n)`` of
    them below the work and, of the rest, ``Binomial(n - that, equal/(n - below))`` level
    with it. Works without a value keep percentile 0.
    """
    count = np.maximum(stratum_count, 1)[:, None]
    draws_below = rng.binomial(np.broadcast_to(count, (len(count), rounds)), (below / count[:, 0])[:, None])
    not_below = np.maximum(count[:, 0] - below, 1)[:, None]
    draws_equal = rng.binomial(count - draws_below, np.minimum(equal[:, None] / not_below, 1.0))
    percentile = (draws_below + 0.5 * draws_equal) / count
    return np.where(has_value[:, None], percentile, 0.0)


def jittered_weights(base: np.ndarray, jitter: float, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """Per round, every indicator weight times ``exp(N(0, jitter))``, renormalised per work.

    ``base`` has shape (works, indicators); the result (works, indicators, rounds). One
    jitter draw per round and indicator is shared by all works, as an analyst choosing
    other weights would choose them for everyone.
    """
    factors = np.exp(rng.normal(0.0, jitter, size=(base.shape[1], rounds)))
    weights = base[:, :, None] * factors[None, :, :]
    return weights / weights.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Contenders:
    """The works that can take a seat in a bootstrap round, one entry per work: its list,
    its cap unit (topic or cluster), its tie order (work id), whether it is a priority
    work (world or national top 1%: admitted whatever the gate says) and a review."""

    list_code: np.ndarray
    unit_code: np.ndarray
    tie_order: np.ndarray
    priority: np.ndarray
    is_review: np.ndarray


def seat_ranks_per_round(
    contenders: Contenders, scores: np.ndarray, eligible: np.ndarray, quota: int, cap: int, review_cap: int
) -> np.ndarray:
    """For each round (column of ``scores`` and ``eligible``): every work's rank in the list
    that round would select, ``quota + 1`` when it gets no seat.

    Only the round's eligible works walk; the same walk as the selection
    (``diversity.walk_order``: reviews over their share last, priority works first, then
    by score; ``diversity.seat_numbers``: at most ``cap`` seats per unit while other work
    remains, ``quota`` seats) picks the seats, and the rank counts the round's seated works
    of the list by score, exactly as ``rank`` is counted.
    """
    c = contenders
    ranks = np.full(scores.shape, quota + 1, dtype="int64")
    for round_index in range(scores.shape[1]):
        rows = np.flatnonzero(eligible[:, round_index])
        score = scores[rows, round_index]
        order = rows[walk_order(c.list_code[rows], c.priority[rows], score, c.is_review[rows], c.tie_order[rows],
                                review_cap)]
        seated = order[seat_numbers(c.list_code[order], c.unit_code[order], quota, cap) > 0]
        by_score = seated[np.lexsort((c.tie_order[seated], -scores[seated, round_index], c.list_code[seated]))]
        lists = c.list_code[by_score]
        list_start = np.r_[0, np.flatnonzero(lists[1:] != lists[:-1]) + 1]
        position = np.arange(len(by_score)) - np.repeat(list_start, np.diff(np.r_[list_start, len(by_score)]))
        ranks[by_score, round_index] = position + 1
    return ranks


def rank_intervals(ranks: np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """The central ``interval`` share of each row's ranks: the ranks at the lower and upper
    tail quantiles (empirical, so always ranks that occurred)."""
    tail = (1 - interval) / 2
    low = np.quantile(ranks, tail, axis=1, method="inverted_cdf").astype("int64")
    high = np.quantile(ranks, 1 - tail, axis=1, method="inverted_cdf").astype("int64")
    return low, high


def stability_labels(interval_high: np.ndarray, quota: int) -> np.ndarray:
    """``secure`` when even the worse end of the rank interval is a seat (``<= quota``), else
    ``borderline`` (the worse end is ``quota + 1``: out of the list in more than the tail share of rounds)."""
    return np.where(interval_high <= quota, SECURE, BORDERLINE)


def rank_stability(
    contenders: Contenders, percentiles: dict[str, pd.DataFrame], base_weights: np.ndarray,
    gate_columns: list[int], gate_thresholds: np.ndarray, rounds: int, jitter: float, interval: float, seed: int,
    quota: int, cap: int, review_cap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Rank interval of each contending work, ``quota + 1`` standing for "no seat".

    ``percentiles`` maps each indicator (in the column order of ``base_weights``) to a
    frame with ``below``, ``equal``, ``count`` and ``has_value`` per work. Every round
    resamples the baselines and jitters the weights, then applies the whole selection
    again: the gate (a resampled percentile of a ``gate_columns`` indicator at or above
    its ``gate_thresholds`` entry, one row per work, or a priority work), the walk, the caps.
    """
    rng = np.random.default_rng(seed)
    resampled = np.stack(
        [
            bootstrap_percentiles(
                part["below"].to_numpy(), part["equal"].to_numpy(), part["count"].to_numpy(),
                part["has_value"].to_numpy(), rounds, rng,
            )
            for part in percentiles.values()
        ],
        axis=1,
    )
    weights = jittered_weights(base_weights, jitter, rounds, rng)
    scores = (resampled * weights).sum(axis=1)
    thresholds = np.asarray(gate_thresholds, dtype=float).reshape(len(resampled), len(gate_columns))
    passed = resampled[:, gate_columns, :] >= thresholds[:, :, None]
    eligible = contenders.priority[:, None] | passed.any(axis=1)
    ranks = seat_ranks_per_round(contenders, scores, eligible, quota, cap, review_cap)
    return rank_intervals(ranks, interval)
