"""The topic cap and the text clustering."""

from __future__ import annotations

import numpy as np
import pandas as pd

from selection.ranking import diversity


def test_cap_seats():
    assert diversity.cap_seats(300, 0.10) == 30
    assert diversity.cap_seats(200, 0.10) == 20
    assert diversity.cap_seats(5, 0.10) == 1


def test_no_unit_goes_over_its_cap_while_others_remain():
    # quota 10, cap 0.2 -> 2 seats per unit; best-first list dominated by unit "A"
    units = pd.Series(["A"] * 8 + ["B", "C", "D", "E", "F", "G", "H", "I", "J"])
    selected = diversity.capped_selection(pd.Series(["L"] * len(units)), units, quota=10, cap_share=0.2)
    picked = units[selected]
    assert selected.sum() == 10
    assert picked.value_counts().max() == 2
    assert selected[:2].all() and not selected[2:8].any()


def test_capped_units_fill_empty_seats_only_when_nothing_else_is_eligible():
    units = pd.Series(["A"] * 8 + ["B", "C"])
    selected = diversity.capped_selection(pd.Series(["L"] * 10), units, quota=6, cap_share=0.2)
    # A's two seats, B and C, then the next best A works fill the two seats left
    assert selected.tolist() == [True] * 4 + [False] * 4 + [True, True]


def test_thin_list_takes_every_row_and_lists_are_independent():
    lists = pd.Series(["L1"] * 3 + ["L2"] * 12)
    units = pd.Series(["A", "A", "A"] + [f"U{i}" for i in range(12)])
    selected = diversity.capped_selection(lists, units, quota=10, cap_share=0.1)
    assert selected[:3].all()  # thin: everything, even over the cap
    assert selected[3:].sum() == 10
    assert selected[3:13].all() and not selected[13:].any()


def walk_by_hand(lists, units, quota, cap):
    """The capped walk written as the method states it, one list at a time."""
    seats = np.zeros(len(lists), dtype=int)
    for key in dict.fromkeys(lists):
        rows = [i for i, value in enumerate(lists) if value == key]
        taken, per_unit = [], {}
        for i in rows:
            if len(taken) < quota and per_unit.get(units[i], 0) < cap:
                taken.append(i)
                per_unit[units[i]] = per_unit.get(units[i], 0) + 1
        for i in rows:  # seats nobody else could take
            if len(taken) < quota and i not in taken:
                taken.append(i)
        for seat, i in enumerate(sorted(taken), start=1):
            seats[i] = seat
    return seats


def test_seat_numbers_follow_the_capped_walk():
    rng = np.random.default_rng(5)
    for _ in range(30):
        lists = np.sort(rng.integers(0, 3, size=60))
        units = rng.integers(0, 6, size=60)
        quota, cap = int(rng.integers(1, 25)), int(rng.integers(1, 5))
        seats = diversity.seat_numbers(lists, units, quota, cap)
        assert seats.tolist() == walk_by_hand(lists.tolist(), units.tolist(), quota, cap).tolist()
        selected = diversity.capped_selection(pd.Series(lists), pd.Series(units), quota, 1.0, cap=cap)
        assert np.array_equal(selected, seats > 0)


def test_tokenize_english_and_chinese():
    assert diversity.tokenize("Deep learning of the Graph") == ["deep", "learning", "graph"]
    assert diversity.tokenize("量子计算 in 2024") == ["量子", "子计", "计算"]


def test_clusters_separate_two_obvious_themes_and_number_from_the_first_text():
    quantum = [f"quantum entanglement photon qubit experiment {i}" for i in range(6)]
    tumour = [f"tumour immunotherapy patients clinical trial {i}" for i in range(6)]
    texts = [tumour[0], *quantum, *tumour[1:]]
    fit, other, terms = diversity.cluster_texts(texts, ["qubit photon"], max_clusters=2, max_features=100, seed=1)
    assert fit[0] == 1  # the first text's cluster is cluster 1
    assert len(set(fit[1:7])) == 1 and fit[1] == 2
    assert (fit[7:] == 1).all()
    assert other.tolist() == [2]
    assert "qubit" in terms[2] or "quantum" in terms[2] or "photon" in terms[2]


def test_clustering_is_deterministic_and_handles_empty_text():
    texts = [f"topic{i % 4} words here {i}" for i in range(40)]
    first = diversity.cluster_texts(texts, [], 5, 100, seed=3)
    second = diversity.cluster_texts(texts, [], 5, 100, seed=3)
    assert np.array_equal(first[0], second[0])
    labels, _, terms = diversity.cluster_texts(["", ""], [""], 5, 100, seed=3)
    assert labels.tolist() == [1, 1] and terms == {1: ""}


def test_work_text_joins_title_and_abstract():
    texts = diversity.work_text(pd.Series(["A title", None]), pd.Series([None, "an abstract"]))
    assert texts == ["A title ", " an abstract"]
