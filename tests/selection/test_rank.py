"""rank_works on hand-made works: strata, the domestic baseline, quotas, shortfalls, the
topic cap, the universe rules, and scores recomputed from the columns beside them."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from selection.errors import SelectionError
from selection.ranking.rank import rank_works
from selection.ranking.settings import load_rank_settings
from selection.schema import CANDIDATE_COLUMNS, INDICATORS, WORKS_SCHEMA
from tests.selection.rank_helpers import work, works_frame_of


@pytest.fixture(scope="module")
def settings():
    """These tests are about strata, quotas and caps: every Beijing author counts, no
    stratum is pooled and reviews are not ranked unless a test says so (test_rank_v3.py
    covers the author rule default, pooling, priority seats and the review track)."""
    return load_rank_settings().with_overrides(
        per_group=200, bootstrap_rounds=20, author_rule="any", min_stratum_works=1, rank_reviews=False
    )


def candidate(result, work_id: str) -> pd.Series:
    rows = result.candidates.loc[result.candidates["work_id"] == work_id]
    assert len(rows) == 1, f"{work_id} is not a candidate"
    return rows.iloc[0]


def list_entry(result, discipline: str, group: str) -> dict:
    return next(e for e in result.lists if e["discipline"] == discipline and e["journal_group"] == group)


def assert_scores_recompute(candidates: pd.DataFrame) -> None:
    recomputed = sum(candidates[f"{name}_weight"] * candidates[f"{name}_percentile"] for name in INDICATORS)
    assert np.allclose(recomputed, candidates["score"], rtol=0, atol=1e-12)
    weight_sums = sum(candidates[f"{name}_weight"] for name in INDICATORS)
    assert np.allclose(weight_sums, 1.0)


def test_domestic_journals_are_compared_with_domestic_journals_only(settings):
    # same subfield and year; every domestic work is cited less than every international one
    rows = [work(i, journal_group="domestic", citation_normalized_percentile=i / 100, topic_id="T1")
            for i in range(1, 11)]
    rows += [work(i, citation_normalized_percentile=0.9 + (i - 100) / 1000, topic_id="T1") for i in range(101, 111)]
    result = rank_works(works_frame_of(rows), settings)
    best_domestic, best_international = candidate(result, "W10"), candidate(result, "W110")
    # each is the best of its own 10-work stratum: mid-rank percentile (9 + 0.5) / 10
    assert best_domestic["influence_percentile"] == pytest.approx(0.95)
    assert best_international["influence_percentile"] == pytest.approx(0.95)
    assert best_domestic["stratum_works"] == 10 and best_domestic["rank"] == 1
    assert best_domestic["journal_group"] == "domestic"
    assert best_domestic["score"] == pytest.approx(best_international["score"])


def test_percentiles_are_taken_within_subfield_year_and_group(settings):
    rows = [work(i, citation_normalized_percentile=i / 10, topic_id="T1") for i in range(1, 11)]
    rows += [work(i, publication_year=2023, publication_date=dt.date(2023, 5, 1),
                  citation_normalized_percentile=i / 100, topic_id="T1") for i in range(11, 21)]
    result = rank_works(works_frame_of(rows), settings)
    # W20 has a lower raw value than most 2024 works but tops its own 2023 stratum
    assert candidate(result, "W20")["influence_percentile"] == pytest.approx(0.95)
    assert candidate(result, "W10")["influence_percentile"] == pytest.approx(0.95)


def test_top_paper_of_a_small_subfield_outranks_a_middling_paper_of_a_large_one(settings):
    small = [work(i, subfield_id=2605, citation_normalized_percentile=i / 40, topic_id="T1") for i in range(1, 11)]
    large = [work(i, citation_normalized_percentile=(i - 100) / 100, topic_id="T1") for i in range(101, 201)]
    # W10: the best of the small subfield, raw value 0.25; W150: the middle of the large one, raw value 0.50
    result = rank_works(works_frame_of(small + large), settings)
    top_small = candidate(result, "W10")
    assert top_small["influence_value"] == pytest.approx(0.25)
    assert top_small["influence_percentile"] == pytest.approx(0.95)
    pool = result.pool.set_index("work_id")
    assert not pool.loc["W150", "eligible"]  # percentile 0.495 in its stratum: below the gate
    assert top_small["score"] > pool.loc["W150", "score"]


def wide_pool(count: int, **fields) -> list[dict]:
    """``count`` works of one stratum with distinct topics and citation percentiles."""
    return [work(i, citation_normalized_percentile=i / count, **fields) for i in range(1, count + 1)]


def test_the_quota_is_filled_exactly_when_the_pool_allows(settings):
    result = rank_works(works_frame_of(wide_pool(6000)), settings)
    entry = list_entry(result, "mathematics", "international")
    assert entry["eligible"] == 600 and entry["selected"] == 200 and entry["shortfall"] == 0
    assert len(result.candidates) == 200
    assert result.candidates["rank"].tolist() == list(range(1, 201))
    assert result.candidates["score"].is_monotonic_decreasing
    bigger = rank_works(works_frame_of(wide_pool(6000)), settings.with_overrides(per_group=500))
    assert len(bigger.candidates) == 500


def test_a_thin_pool_takes_every_eligible_work_and_reports_the_shortfall(settings):
    result = rank_works(works_frame_of(wide_pool(500)), settings)
    entry = list_entry(result, "mathematics", "international")
    assert entry["pool"] == 500 and entry["eligible"] == 50
    assert entry["selected"] == 50 and entry["shortfall"] == 150
    assert entry in result.shortfalls
    # no padding: every candidate passed the eligibility gate
    best = result.candidates[[f"{name}_percentile" for name in INDICATORS]].max(axis=1)
    assert (best >= 0.9 - 1e-9).all()
    empty = list_entry(result, "physics", "domestic")
    assert empty["selected"] == 0 and empty["shortfall"] == 200


def capped_topic_rows(other_hot_works: int) -> list[dict]:
    """300 works of topic TBIG with the best citations, 1,700 others with distinct topics,
    of which ``other_hot_works`` are recently cited (eligible through the hot indicator)."""
    rows = [work(i, topic_id="TBIG", citation_normalized_percentile=0.7 + i / 1000, counts_by_year=[],
                 cited_by_count=0) for i in range(1, 301)]
    for i in range(301, 2001):
        hot = i - 300 <= other_hot_works
        rows.append(work(i, citation_normalized_percentile=(i - 300) / 2500,
                         counts_by_year=[{"year": 2024, "cited_by_count": i}] if hot else [],
                         cited_by_count=i if hot else 0))
    return rows


def test_no_topic_takes_more_than_its_cap_while_other_eligible_work_remains(settings):
    result = rank_works(works_frame_of(capped_topic_rows(other_hot_works=400)), settings)
    topics = result.candidates["topic_id"]
    assert len(result.candidates) == 200
    assert (topics == "TBIG").sum() == 20  # 10% of 200 seats
    assert not result.candidates["over_topic_cap"].any()
    big = result.candidates.loc[topics == "TBIG"]
    assert big["topic_rank"].tolist() == list(range(1, 21))
    # the capped topic's best works are the ones seated
    assert set(big["work_id"]) == {f"W{i}" for i in range(281, 301)}


def test_a_capped_topic_fills_seats_nobody_else_can_take(settings):
    result = rank_works(works_frame_of(capped_topic_rows(other_hot_works=100)), settings)
    entry = list_entry(result, "mathematics", "international")
    assert entry["selected"] == 200
    big = result.candidates.loc[result.candidates["topic_id"] == "TBIG"]
    others = result.candidates.loc[result.candidates["topic_id"] != "TBIG"]
    assert len(others) == 100  # every other eligible work is seated first
    assert len(big) == 100
    assert big["over_topic_cap"].sum() == 80


def test_clusters_and_ranks_inside_them_are_recorded(settings):
    rows = wide_pool(3000)
    for row in rows:
        theme = ("quantum photon qubit", "tumour immune therapy")[int(row["work_id"][1:]) % 2]
        row["title"] = f"{theme} study"
    result = rank_works(works_frame_of(rows), settings)
    candidates = result.candidates
    assert candidates["cluster"].min() >= 1
    for _, members in candidates.groupby("cluster"):
        assert members["cluster_rank"].tolist() == list(range(1, len(members) + 1))
        assert members["cluster_terms"].nunique() == 1
    assert candidates.loc[candidates["rank"] == 1, "cluster"].item() == 1


def test_universe_rules(settings):
    excluded = [
        work(1, publication_year=2019, publication_date=dt.date(2019, 1, 1)),  # outside the window
        work(2, issn_l=None, issns=[]),  # no ISSN
        work(3, is_retracted=True),
        work(4, discipline=None),
        work(5, type="preprint"),
        work(6, beijing_any=False),
        work(7, type="review"),  # reviews are not ranked with rank_reviews = false
        work(8, journal_group=None),
    ]
    kept = wide_pool(100)
    for row in kept:
        row["work_id"] = "K" + row["work_id"]
        row["doi"] = "10.9/" + row["work_id"]
    result = rank_works(works_frame_of(excluded + kept), settings)
    assert result.funnel["input"] == 108
    assert result.funnel["ranked_type"] == 100
    assert result.candidates["work_id"].str.startswith("K").all()
    assert result.as_of == dt.date(2024, 6, 1)
    assert result.summary()["window"] == [2020, 2024]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("any", {"W1", "W2", "W3", "W4"}),
        ("first", {"W2", "W4"}),
        ("corresponding", {"W3", "W4"}),
        ("first_or_corresponding", {"W2", "W3", "W4"}),
    ],
)
def test_author_rules(settings, rule, expected):
    flags = {1: (False, False), 2: (True, False), 3: (False, True), 4: (True, True)}
    rows = [work(i, beijing_first=first, beijing_corresponding=corresponding, citation_normalized_percentile=0.99)
            for i, (first, corresponding) in flags.items()]
    rows += [work(i, beijing_any=False, beijing_first=False) for i in range(5, 40)]  # never in the universe
    result = rank_works(works_frame_of(rows), settings.with_overrides(author_rule=rule))
    assert result.funnel[f"author_rule_{rule}"] == len(expected)
    # with so few works per stratum nobody reaches the top 10%: check the universe, not the picks
    assert set(result.candidates["work_id"]) <= expected
    assert (result.candidates["author_rule"] == rule).all()


def test_records_of_one_doi_are_merged(settings):
    rows = wide_pool(100)
    rows.append(work(1000, doi=rows[-1]["doi"], cited_by_count=1, citation_normalized_percentile=1.0))
    result = rank_works(works_frame_of(rows), settings)
    assert result.funnel["distinct_doi"] == 100
    best = candidate(result, "W100")  # the more cited record is kept
    assert best["merged_work_ids"].tolist() == ["W1000"]
    assert "W1000" not in set(result.candidates["work_id"])


def test_reviews_are_left_out_by_setting(settings):
    rows = wide_pool(100)
    rows[-1]["type"] = "review"
    assert "W100" not in set(rank_works(works_frame_of(rows), settings).candidates["work_id"])
    with_reviews = rank_works(works_frame_of(rows), settings.with_overrides(rank_reviews=True))
    assert candidate(with_reviews, "W100")["type"] == "review"


def test_every_score_recomputes_from_its_row_with_discipline_weights(settings):
    rows = wide_pool(3000)
    rows += [work(i, discipline="physics", subfield_id=3104, citation_normalized_percentile=(i - 5000) / 3000,
                  journal_group="domestic") for i in range(5001, 8001)]
    tuned = replace(settings, discipline_weights={"physics": {"hot": 0.0}})
    result = rank_works(works_frame_of(rows), tuned)
    assert_scores_recompute(result.candidates)
    physics = result.candidates.loc[result.candidates["discipline"] == "physics"]
    assert (physics["hot_weight"] == 0).all()
    assert list(result.candidates.columns) == list(CANDIDATE_COLUMNS)


def test_stability_columns(settings):
    result = rank_works(works_frame_of(wide_pool(6000)), settings)
    candidates = result.candidates
    assert (candidates["rank_interval_low"] <= candidates["rank_interval_high"]).all()
    assert set(candidates["stability"]) <= {"secure", "borderline"}
    assert (candidates.loc[candidates["stability"] == "secure", "rank_interval_high"] <= 200).all()
    assert candidates.iloc[0]["stability"] == "secure"


def test_identical_input_gives_identical_candidates(settings):
    frame = works_frame_of(capped_topic_rows(other_hot_works=400))
    first, second = rank_works(frame, settings), rank_works(frame.copy(), settings)
    pd.testing.assert_frame_equal(first.candidates, second.candidates)


def test_arrow_backed_frames_rank_the_same(settings):
    frame = works_frame_of(wide_pool(3000))
    arrow_frame = pa.Table.from_pandas(frame, schema=WORKS_SCHEMA, preserve_index=False).to_pandas(
        types_mapper=pd.ArrowDtype
    )
    plain, arrow = rank_works(frame, settings), rank_works(arrow_frame, settings)
    pd.testing.assert_frame_equal(plain.candidates, arrow.candidates)


def test_bad_frames_raise_selection_errors(settings):
    frame = works_frame_of(wide_pool(10))
    with pytest.raises(SelectionError, match="lacks column.*fwci"):
        rank_works(frame.drop(columns=["fwci"]), settings)
    with pytest.raises(SelectionError, match="no rows"):
        rank_works(frame.iloc[:0], settings)
    unknown = replace(settings, discipline_weights={"alchemy": {"hot": 1.0}})
    with pytest.raises(SelectionError, match="unknown discipline.*alchemy"):
        rank_works(frame, unknown)


def topic_dominated_rows() -> list[dict]:
    """3,000 works of one subfield-year: the 900 best-scored (by influence alone) share topic
    TA, the other 2,100 spread over 300 topics, of which the best 300 are eligible through
    the hot indicator (the most cited lately). With a quota of 200 the cap holds TA to 20 seats."""
    rows = []
    for i in range(1, 3001):
        recent = 10_000 + i if 1800 < i <= 2100 else i
        rows.append(work(i, topic_id="TA" if i > 2100 else f"T{i % 300}", citation_normalized_percentile=i / 3000,
                         counts_by_year=[{"year": 2024, "cited_by_count": recent}], cited_by_count=recent))
    return rows


INFLUENCE_ONLY = {"influence": 1.0, "hot": 0.0, "frontier": 0.0, "originality": 0.0}


def test_rank_intervals_are_measured_on_the_capped_selection(settings):
    tuned = replace(settings, bootstrap_rounds=50, weights=INFLUENCE_ONLY)
    result = rank_works(works_frame_of(topic_dominated_rows()), tuned)
    best = result.pool.sort_values("score", ascending=False).head(900)["work_id"]
    assert best.str[1:].astype(int).gt(2100).all()  # the 900 best-scored works are TA's
    candidates = result.candidates
    assert len(candidates) == 200 and (candidates["topic_id"] == "TA").sum() == 20
    # every bootstrap round selects again with the cap: the seated rank lies in its interval
    inside = (candidates["rank_interval_low"] <= candidates["rank"]) & (
        candidates["rank"] <= candidates["rank_interval_high"]
    )
    assert (~inside).sum() <= 4, candidates.loc[~inside, ["work_id", "rank", "rank_interval_low", "rank_interval_high"]]
    # a seat in every round and a seat in none are both possible ends; past the quota means "out of the list"
    assert candidates["rank_interval_high"].max() == 201
    assert (candidates.loc[candidates["rank_interval_high"] == 201, "stability"] == "borderline").all()
    assert (candidates.loc[candidates["rank_interval_high"] <= 200, "stability"] == "secure").all()
    assert candidates.iloc[0]["stability"] == "secure"


def harvest_2021_to_2025() -> list[dict]:
    """600 works a year, 2021-2025, dated up to 1 December 2025, cited in 2025 and 2026."""
    rows = []
    for year in range(2021, 2026):
        for i in range(1, 601):
            number = year * 10_000 + i
            rows.append(work(number, publication_year=year, publication_date=dt.date(year, 1 + i % 12, 1),
                             citation_normalized_percentile=i / 600, topic_id=f"T{i}",
                             counts_by_year=[{"year": 2025, "cited_by_count": i}, {"year": 2026, "cited_by_count": 2}],
                             cited_by_count=i + 2))
    return rows


def test_the_window_ends_at_the_latest_harvested_year_whatever_the_as_of_date(settings):
    frame = works_frame_of(harvest_2021_to_2025())
    result = rank_works(frame, settings.with_overrides(as_of=dt.date(2026, 3, 1)))
    assert result.funnel["in_window"] == 3000
    assert 2021 in set(result.candidates["publication_year"])
    assert result.summary()["window"] == [2021, 2025]
    assert result.as_of == dt.date(2026, 3, 1)
    # the as-of date sets the hot indicator's years: 2025 complete, 2026 pro rata
    first = result.candidates.iloc[0]
    cited_2025 = int(first["work_id"][1:]) % 10_000
    assert first["hot_value"] == pytest.approx((cited_2025 + 2) / (1 + 60 / 365))  # 1 March: day 60 of 365
    default = rank_works(frame, settings)
    assert default.window == (2021, 2025) and default.as_of == dt.date(2025, 12, 1)


def test_an_explicit_window_end_year_moves_the_window(settings):
    result = rank_works(works_frame_of(harvest_2021_to_2025()), settings.with_overrides(window_end_year=2024))
    assert result.window == (2020, 2024)
    assert result.funnel["in_window"] == 2400
    assert result.as_of == dt.date(2024, 12, 1)  # the latest date among the ranked works


def test_the_default_as_of_comes_only_from_works_that_pass_the_rules(settings):
    rows = wide_pool(3000)
    # a far-future record outside the rules (a preprint, and one without an ISSN) decides nothing
    rows.append(work(9001, type="preprint", publication_year=2031, publication_date=dt.date(2031, 1, 1)))
    rows.append(work(9002, issn_l=None, issns=[], publication_year=2030, publication_date=dt.date(2030, 5, 1)))
    result = rank_works(works_frame_of(rows), settings)
    assert result.as_of == dt.date(2024, 6, 1)
    assert result.window == (2020, 2024)
    assert len(result.candidates) == 200


def test_an_as_of_date_before_a_ranked_publication_is_refused(settings):
    frame = works_frame_of(harvest_2021_to_2025())
    early = settings.with_overrides(as_of=dt.date(2025, 6, 30))
    with pytest.raises(SelectionError, match=r"as_of 2025-06-30 is earlier than the latest publication date .*2025-12-01"):
        rank_works(frame, early)
    before_window_end = settings.with_overrides(window_end_year=2025, as_of=dt.date(2024, 12, 31))
    with pytest.raises(SelectionError, match="falls before 2025, the last year of the window"):
        rank_works(works_frame_of(wide_pool(100)), before_window_end)


def test_works_without_a_year_or_a_topic_simply_do_not_count(settings):
    rows = wide_pool(3000)
    rows += [work(9001, publication_year=None, publication_date=None),
             work(9002, publication_year=None, topic_id=None, citation_normalized_percentile=1.0),
             work(9003, topic_id=None, publication_year=None, type=None, journal_group=None, discipline=None,
                  is_retracted=None)]
    # Arrow-backed, as load_works reads a works.parquet
    frame = pa.Table.from_pylist(rows, schema=WORKS_SCHEMA).to_pandas(types_mapper=pd.ArrowDtype)
    result = rank_works(frame, settings)
    assert result.funnel["in_window"] == 3000
    assert not {"W9001", "W9002", "W9003"} & set(result.candidates["work_id"])
    plain = rank_works(works_frame_of(wide_pool(3000)), settings)
    pd.testing.assert_frame_equal(result.candidates, plain.candidates)


def test_a_table_without_any_publication_year_is_one_clear_error(settings):
    rows = [work(i, publication_year=None, publication_date=None) for i in range(1, 6)]
    frame = pa.Table.from_pylist(rows, schema=WORKS_SCHEMA).to_pandas(types_mapper=pd.ArrowDtype)
    with pytest.raises(SelectionError, match="no work in the works table has a publication_year"):
        rank_works(frame, settings)
