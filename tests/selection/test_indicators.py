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


def test_international_share():
    countries = pd.Series([["CN", "US"], ["CN"], [], None, ["US", "GB"]])
    assert indicators.international_share(countries).tolist() == [0.5, 0.0, 0.0, 0.0, 1.0]


def test_citation_component_falls_back_to_capped_fwci():
    percentile = pd.Series([0.8, np.nan, np.nan, np.nan])
    fwci = pd.Series([5.0, 3.0, 20.0, np.nan])
    component = indicators.citation_component(percentile, fwci, fwci_cap=10.0)
    assert component[:3].tolist() == pytest.approx([0.8, 3 / 4, 10 / 11])
    assert np.isnan(component[3])


def test_influence_mixes_citations_and_international_share():
    influence = indicators.influence_values(np.array([0.8, np.nan]), np.array([0.5, 1.0]), citation_part=0.75)
    assert influence[0] == pytest.approx(0.75 * 0.8 + 0.25 * 0.5)
    assert np.isnan(influence[1])


def topic_frame():
    # topic T1: 2021 x3, 2023 x3, 2024 x1, 2025 x3; topic T2: 2025 x1; one work without topic
    years = [2021] * 3 + [2023] * 3 + [2024] + [2025] * 3 + [2025, 2025]
    topics = ["T1"] * 10 + ["T2", None]
    return pd.Series(topics), pd.Series(years)


def test_topic_growth_weighs_recent_years():
    topics, years = topic_frame()
    rates = indicators.topic_year_rates(topics, years, 2025, 1.0, current_year_weight=2.0, earlier_years=3)
    assert rates.loc["T1", "recent_rate"] == pytest.approx((1 + 2 * 3) / 3)
    assert rates.loc["T1", "earlier_rate"] == pytest.approx((3 + 0 + 3) / 3)
    assert rates.loc["T1", "recent_share"] == pytest.approx(4 / 10)
    frontier = indicators.frontier_values(topics, rates, smoothing=1.0)
    assert frontier[0] == pytest.approx((7 / 3 + 1) / (2 + 1))
    assert frontier[10] == pytest.approx((2 / 3 + 1) / (0 + 1))
    assert np.isnan(frontier[11])


def test_a_three_year_window_compares_with_one_earlier_year():
    topics, years = topic_frame()
    rates = indicators.topic_year_rates(topics, years, 2025, 1.0, current_year_weight=2.0, earlier_years=1)
    assert rates.loc["T1", "earlier_rate"] == pytest.approx(3.0)  # 2023 only; 2022 and 2021 are outside


def test_topic_growth_takes_the_current_year_pro_rata():
    topics, years = pd.Series(["T1", "T1"]), pd.Series([2025, 2025])
    fraction = indicators.year_fraction(dt.date(2025, 7, 2))
    rates = indicators.topic_year_rates(topics, years, 2025, fraction, current_year_weight=1.0, earlier_years=3)
    assert rates.loc["T1", "recent_rate"] == pytest.approx((0 + 2 / (183 / 365)) / 2)


def test_works_without_a_year_or_a_topic_do_not_count_in_topic_growth():
    # Arrow-backed columns with nulls, as load_works reads them from works.parquet
    topics = pd.Series(pa.array(["T1", "T1", None, "T1"]), dtype=pd.ArrowDtype(pa.string()))
    years = pd.Series(pa.array([2025, None, 2025, 2024], pa.int32()), dtype=pd.ArrowDtype(pa.int32()))
    rates = indicators.topic_year_rates(topics, years, 2025, 1.0, current_year_weight=1.0, earlier_years=3)
    assert rates.index.tolist() == ["T1"]
    assert rates.loc["T1", "recent_rate"] == pytest.approx((1 + 1) / 2)
    assert rates.loc["T1", "recent_share"] == pytest.approx(1.0)


def test_originality_proxy():
    topics, years = topic_frame()
    rates = indicators.topic_year_rates(topics, years, 2025, 1.0, 2.0, 3)
    parts = {"lead_author_in_beijing": 0.5, "article_not_review": 0.2, "topic_novelty": 0.3}
    originality = indicators.originality_values(
        np.array([True, False, True]), np.array([True, True, False]), pd.Series(["T1", "T2", None]), rates, parts
    )
    assert originality.tolist() == pytest.approx([0.5 + 0.2 + 0.3 * 0.4, 0.2 + 0.3 * 1.0, 0.5])
