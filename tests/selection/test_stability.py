"""Bootstrap of the stratum baselines, weight jitter and rank intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from selection.ranking import stability
from selection.ranking.indicators import stratum_percentile


def test_stratum_position_counts_below_equal_and_size():
    values = pd.Series([1.0, 2.0, 2.0, 3.0, np.nan, 9.0])
    strata = np.array([0, 0, 0, 0, 0, 1])
    percentile = stratum_percentile(values, pd.Series(strata)).to_numpy()
    has_value = values.notna().to_numpy()
    below, equal, count = stability.stratum_position(strata, percentile, has_value, np.array([0, 1, 3, 5]))
    assert below.tolist() == [0, 1, 3, 0]
    assert equal.tolist() == [1, 2, 1, 1]
    assert count.tolist() == [4, 4, 4, 1]


def test_bootstrap_percentiles_centre_on_the_observed_percentile():
    rng = np.random.default_rng(0)
    below, equal, count = np.array([0, 5, 9]), np.array([1, 1, 1]), np.array([10, 10, 10])
    draws = stability.bootstrap_percentiles(below, equal, count, np.array([True, True, False]), 4000, rng)
    assert draws.shape == (3, 4000)
    assert abs(draws[0].mean() - 0.05) < 0.01
    assert abs(draws[1].mean() - 0.55) < 0.01
    assert (draws[2] == 0).all()  # no value, no credit
    assert ((draws >= 0) & (draws <= 1)).all()


def test_jittered_weights_are_positive_and_normalised():
    weights = stability.jittered_weights(np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]), 0.3, 7, np.random.default_rng(1))
    assert weights.shape == (2, 3, 7)
    assert np.allclose(weights.sum(axis=1), 1.0)
    assert (weights[0, 2] == 0).all()


def contenders(lists, units, priority=None, review=None) -> stability.Contenders:
    count = len(lists)
    none = np.zeros(count, dtype=bool)
    return stability.Contenders(np.asarray(lists), np.asarray(units), np.arange(count),
                                none if priority is None else np.asarray(priority),
                                none if review is None else np.asarray(review))


def everyone(scores: np.ndarray) -> np.ndarray:
    return np.ones(scores.shape, dtype=bool)


def test_seat_ranks_rank_inside_each_list_with_ties_by_order():
    lists = np.array([0, 0, 0, 1, 1])
    units = np.arange(5)  # every work its own topic: the cap never binds
    scores = np.array([[0.9, 0.1], [0.5, 0.5], [0.5, 0.9], [0.2, 0.2], [0.3, 0.2]])
    ranks = stability.seat_ranks_per_round(contenders(lists, units), scores, everyone(scores), quota=3, cap=1,
                                           review_cap=3)
    assert ranks[:, 0].tolist() == [1, 2, 3, 2, 1]
    assert ranks[:, 1].tolist() == [3, 2, 1, 1, 2]


def test_seat_ranks_apply_the_topic_cap_and_mark_works_without_a_seat():
    # one list, quota 3, one seat per topic: the walk takes A's best, then B, then C
    units = np.array([0, 0, 0, 1, 2, 2])
    scores = np.array([[0.9], [0.8], [0.7], [0.6], [0.5], [0.4]])
    ranks = stability.seat_ranks_per_round(contenders(np.zeros(6, dtype=int), units), scores, everyone(scores),
                                           quota=3, cap=1, review_cap=3)
    assert ranks[:, 0].tolist() == [1, 4, 4, 2, 3, 4]  # 4 = quota + 1: out of the list


def test_seat_ranks_apply_the_round_gate_priority_seats_and_the_review_share():
    # one list, quota 2: work 0 fails the round's gate; work 3 (a priority work) takes a
    # seat first; of the reviews 1 and 2 only one may sit while article 4 remains
    scores = np.array([[0.9], [0.8], [0.7], [0.1], [0.2]])
    eligible = np.array([[False], [True], [True], [True], [True]])
    found = contenders(np.zeros(5, dtype=int), np.arange(5), priority=[False, False, False, True, False],
                       review=[False, True, True, False, False])
    ranks = stability.seat_ranks_per_round(found, scores, eligible, quota=2, cap=5, review_cap=1)
    # seated: priority work 3 and review 1; ranked by score, review 1 first
    assert ranks[:, 0].tolist() == [3, 1, 3, 2, 3]


def test_intervals_and_labels():
    ranks = np.array([[1] * 19 + [50], list(range(290, 310))])
    low, high = stability.rank_intervals(ranks, 0.90)
    # 20 rounds: the outer 5% at each end is one round
    assert low.tolist() == [1, 290] and high.tolist() == [1, 308]
    assert stability.stability_labels(high, 300).tolist() == ["secure", "borderline"]


def test_without_noise_the_interval_is_the_rank_itself():
    parts = {
        "a": pd.DataFrame({"below": [9, 5, 0], "equal": [1, 1, 1], "count": [10, 10, 10], "has_value": [True] * 3}),
    }
    # count 10**9: the binomial draws are (nearly) exact, and no jitter
    parts["a"]["count"] = 10**9
    parts["a"]["below"] = [9 * 10**8, 5 * 10**8, 0]
    low, high = stability.rank_stability(
        contenders(np.zeros(3, dtype=int), np.arange(3)), parts, np.ones((3, 1)), [0], np.zeros(3), rounds=20, jitter=0.0,
        interval=0.9, seed=0, quota=2, cap=2, review_cap=2,
    )
    assert low.tolist() == [1, 2, 3] and high.tolist() == [1, 2, 3]  # 3 = quota + 1: never seated


def test_without_noise_the_interval_is_the_seat_rank_after_the_cap():
    # works 0-2 share a topic and score best; with one seat per topic, work 3 (its own
    # topic) takes seat 2 ahead of the higher-scored works 1 and 2, which get no seat
    below = np.array([9, 8, 7, 6]) * 10**8
    parts = {"a": pd.DataFrame({"below": below, "equal": 1, "count": 10**9, "has_value": True})}
    low, high = stability.rank_stability(
        contenders(np.zeros(4, dtype=int), np.array([0, 0, 0, 1])), parts, np.ones((4, 1)), [0], np.zeros(4), rounds=20,
        jitter=0.0, interval=0.9, seed=0, quota=2, cap=1, review_cap=2,
    )
    assert low.tolist() == [1, 3, 3, 2] and high.tolist() == [1, 3, 3, 2]
    assert stability.stability_labels(high, 2).tolist() == ["secure", "borderline", "borderline", "secure"]


def test_without_noise_a_work_below_the_gate_is_never_seated():
    below = np.array([9, 5, 1]) * 10**8
    parts = {"a": pd.DataFrame({"below": below, "equal": 1, "count": 10**9, "has_value": True})}
    low, high = stability.rank_stability(
        contenders(np.zeros(3, dtype=int), np.arange(3)), parts, np.ones((3, 1)), [0], np.full(3, 0.4), rounds=20,
        jitter=0.0, interval=0.9, seed=0, quota=5, cap=5, review_cap=5,
    )
    assert high.tolist() == [1, 2, 6]  # percentile 0.1 < 0.4: out in every round
