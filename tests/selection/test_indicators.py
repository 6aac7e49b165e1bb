"""The indicators and the stratum percentile, against values computed by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from selection.ranking import indicators


def test_percentile_is_mid_rank_within_each_stratum_and_missing_earns_nothing():
    values = pd.Series([1.0, 2.0, 3.0, np.nan, 5.0])
    strata = pd.Series(["A", "A", "A", "A", "B"])
    percentile = indicators.stratum_percentile(values, strata)
    # stratum A holds three values (the missing one does not count): 1/6, 3/6, 5/6
    assert percentile.tolist() == pytest.approx([1 / 6, 3 / 6, 5 / 6, 0.0, 0.5])


def test_percentile_ties_share_their_mid_rank():
    percentile = indicators.stratum_percentile(pd.Series([1.0, 1.0, 2.0]), pd.Series([7, 7, 7]))
    assert percentile.tolist() == pytest.approx([1 / 3, 1 / 3, 5 / 6])


def test_percentile_keeps_the_frame_index():
    values = pd.Series([3.0, 1.0], index=[10, 20])
    assert indicators.stratum_percentile(values, pd.Series([1, 1], index=[10, 20])).index.tolist() == [10, 20]


def test_year_fraction():
    assert indicators.year_fraction(dt.date(2025, 12, 31)) == 1.0
    assert indicators.year_fraction(dt.date(2025, 7, 2)) == pytest.approx(183 / 365)
    assert indicators.year_fraction(dt.date(2025, 1, 1)) == pytest.approx(1 / 12)  # floor


def test_hot_counts_the_last_complete_year_and_this_year_pro_rata():
    as_of = dt.date(2025, 7, 2)
    counts = pd.Series(
        [
            [{"year": 2023, "cited_by_count": 10}, {"year": 2024, "cited_by_count": 4},
             {"year": 2025, "cited_by_count": 2}],
            [],
            None,
            None,
        ]
    )
    cited = pd.Series([16, 0, 5, 0])
    hot = indicators.hot_values(counts, cited, as_of)
    assert hot[0] == pytest.approx(6 / (1 + 183 / 365))
    assert hot[1] == 0.0  # present but no year listed: never cited lately
    assert np.isnan(hot[2])  # unknown
    assert hot[3] == 0.0  # unknown history, but never cited at all


def test_citation_component_falls_back_to_capped_fwci():
    percentile = pd.Series([0.8, np.nan, np.nan, np.nan])
    fwci = pd.Series([5.0, 3.0, 20.0, np.nan])
    component = indicators.citation_component(percentile, fwci, fwci_cap=10.0)
    assert component[:3].tolist() == pytest.approx([0.8, 3 / 4, 10 / 11])
    assert np.isnan(component[3])


def test_influence_mixes_citations_with_the_citing_side_where_it_was_fetched():
    influence = indicators.influence_values(
        np.array([0.8, 0.8, np.nan]), np.array([0.5, np.nan, 1.0]), citation_part=0.75
    )
    assert influence[0] == pytest.approx(0.75 * 0.8 + 0.25 * 0.5)
    assert influence[1] == pytest.approx(0.8)  # citing side unknown: the citation component alone
    assert np.isnan(influence[2])  # the citing side alone is no evidence


def topic_frame():
    # topic T1: 2021 x3, 2023 x3, 2024 x1, 2025 x3; topic T2: 2025 x1; one work without topic
    years = [2021] * 3 + [2023] * 3 + [2024] + [2025] * 3 + [2025, 2025]
    topics = ["T1"] * 10 + ["T2", None]
    return pd.Series(topics), pd.Series(years)


def rates_of(topics, years, last_year, fraction, weight, earlier):
    return indicators.topic_year_rates(indicators.topic_year_counts(topics, years), last_year, fraction, weight,
                                       earlier)


def test_topic_growth_weighs_recent_years():
    topics, years = topic_frame()
    rates = rates_of(topics, years, 2025, 1.0, 2.0, 3)
    assert rates.loc["T1", "recent_rate"] == pytest.approx((1 + 2 * 3) / 3)
    assert rates.loc["T1", "earlier_rate"] == pytest.approx((3 + 0 + 3) / 3)
    growth = indicators.topic_growth(topics, rates, smoothing=1.0)
    assert growth[0] == pytest.approx((7 / 3 + 1) / (2 + 1))
    assert growth[10] == pytest.approx((2 / 3 + 1) / (0 + 1))
    assert np.isnan(growth[11])


def test_world_topic_counts_give_the_same_rates_as_the_harvest_counts():
    topics, years = topic_frame()
    harvest = rates_of(topics, years, 2025, 1.0, 2.0, 3)
    counts = indicators.topic_year_counts(topics, years)
    long = counts.stack().rename("works").reset_index().rename(columns={"topic": "topic_id", "year": "publication_year"})
    world = indicators.topic_year_rates(indicators.world_topic_year_counts(long), 2025, 1.0, 2.0, 3)
    pd.testing.assert_frame_equal(world.sort_index(), harvest.sort_index(), check_names=False, check_dtype=False)
    assert np.isnan(indicators.topic_growth(pd.Series(["T1"]), pd.DataFrame(), 1.0)).all()


def test_a_three_year_window_compares_with_one_earlier_year():
    topics, years = topic_frame()
    rates = rates_of(topics, years, 2025, 1.0, 2.0, 1)
    assert rates.loc["T1", "earlier_rate"] == pytest.approx(3.0)  # 2023 only; 2022 and 2021 are outside


def test_topic_growth_takes_the_current_year_pro_rata():
    topics, years = pd.Series(["T1", "T1"]), pd.Series([2025, 2025])
    fraction = indicators.year_fraction(dt.date(2025, 7, 2))
    rates = rates_of(topics, years, 2025, fraction, 1.0, 3)
    assert rates.loc["T1", "recent_rate"] == pytest.approx((0 + 2 / (183 / 365)) / 2)


def test_works_without_a_year_or_a_topic_do_not_count_in_topic_growth():
    # Arrow-backed columns with nulls, as load_works reads them from works.parquet
    topics = pd.Series(pa.array(["T1", "T1", None, "T1"]), dtype=pd.ArrowDtype(pa.string()))
    years = pd.Series(pa.array([2025, None, 2025, 2024], pa.int32()), dtype=pd.ArrowDtype(pa.int32()))
    rates = rates_of(topics, years, 2025, 1.0, 1.0, 3)
    assert rates.index.tolist() == ["T1"]
    assert rates.loc["T1", "recent_rate"] == pytest.approx((1 + 1) / 2)


def test_the_frontier_ranks_a_growing_topics_papers_by_their_velocity():
    hot = np.array([1.0, 5.0, 9.0, np.nan, 3.0])
    topics = pd.Series(["T1", "T1", "T1", "T1", None])
    position = indicators.position_in_topic(hot, topics)
    assert position[:4].tolist() == pytest.approx([1 / 6, 3 / 6, 5 / 6, 0.0])
    assert np.isnan(position[4])
    frontier = indicators.frontier_values(np.full(5, 2.0), position)
    assert frontier[:3].tolist() == pytest.approx([2 * (0.5 + 1 / 6), 2.0, 2 * (0.5 + 5 / 6)])
    assert len(set(frontier[:3])) == 3  # not every paper of a growing topic scores alike


def test_pairing_novelty_is_high_for_topics_rarely_seen_together():
    ids = pd.Series([["A", "B"], ["A", "B"], ["A", "C", "B"], ["C"], [], None, ["A", "D"]])
    scores = pd.Series([[1, 0.5], [1, 0.5], [1, 0.5, 0.2], [1], [], None, [0.9, 0.1]])
    no_venue = pd.Series([None] * 7)
    novelty = indicators.pairing_novelty(ids, scores, no_venue)
    # N = 5 works with topics; A in 4, B in 3, C in 2, D in 1; A-B in 3, A-C and C-B in 1, A-D in 1
    assert novelty[0] == pytest.approx(-np.log2(3 * 5 / (4 * 3)))
    a_c, a_b, c_b = -np.log2(1 * 5 / (4 * 2)), -np.log2(3 * 5 / (4 * 3)), -np.log2(1 * 5 / (2 * 3))
    assert novelty[2] == pytest.approx((0.5 * a_c + 0.2 * a_b + 0.1 * c_b) / 0.8)
    assert novelty[2] > novelty[0]  # the rare pairing with C lifts it
    assert np.isnan(novelty[3:6]).all()  # fewer than two items: no combination, no evidence


def test_pairing_novelty_counts_a_topic_rarely_seen_in_its_journal():
    ids = pd.Series([["A"], ["A"], ["A"], ["A"], []])
    venues = pd.Series(["S1", "S1", "S1", "S2", "S1"])
    novelty = indicators.pairing_novelty(ids, pd.Series([[0.9]] * 4 + [[]]), venues)
    # N = 4 works with topics; A in 4, S1 in 3, S2 in 1; A-S1 in 3, A-S2 in 1: PMI 0 for both
    assert novelty[:4].tolist() == pytest.approx([0.0] * 4)
    assert np.isnan(novelty[4])  # a journal without a topic: nothing to combine
    mixed = indicators.pairing_novelty(pd.Series([["A", "B"], ["A"], ["B"], ["A"]]),
                                       pd.Series([[1.0, 1.0], [1.0], [1.0], [1.0]]), pd.Series(["S1", "S2", "S2", "S2"]))
    # the work holding A and B is the only one in S1: its topic-journal pairs are rare-ish
    assert not np.isnan(mixed).any() and len(set(np.round(mixed, 9))) >= 2


def test_national_percentile_places_a_work_in_the_histogram_of_domestic_journals():
    baseline = pd.DataFrame({"subfield_id": [2700] * 4 + [2701], "publication_year": [2022] * 5,
                             "cited_by_count": [0, 5, 10, 100, 3], "works": [50, 30, 19, 1, 10]})
    percentile = indicators.national_percentiles(
        pd.Series([2700, 2700, 2700, 2701, 2702, 2700]), pd.Series([2022] * 6),
        pd.Series([100, 0, 7, 3, 1, 500]), baseline,
    )
    assert percentile[[0, 1, 2, 3]].tolist() == pytest.approx([0.995, 0.25, 0.8, 0.5])
    assert np.isnan(percentile[4])  # no baseline for that subfield
    assert percentile[5] == pytest.approx(1 - 1 / 200)  # above every counted paper: the best of them
    assert np.isnan(indicators.national_percentiles(pd.Series([1]), pd.Series([2022]), pd.Series([3]),
                                                    pd.DataFrame())).all()
