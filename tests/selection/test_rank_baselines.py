"""The ranking an expert panel can trust: Beijing authors counted by the default rule, small
strata pooled upward, world and national top-1% papers seated first, the citing side, reviews
as their own track, and stability intervals that apply the gate again."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selection.ranking.rank import Evidence, rank_works, score_universe
from selection.ranking.settings import load_rank_settings
from tests.selection.rank_helpers import work, works_frame_of


@pytest.fixture(scope="module")
def settings():
    return load_rank_settings().with_overrides(per_group=200, bootstrap_rounds=20)


def lead(number: int, **fields) -> dict:
    """A work with a Beijing first author (the default author rule)."""
    return work(number, beijing_first=True, **fields)


def candidate(result, work_id: str) -> pd.Series:
    rows = result.candidates.loc[result.candidates["work_id"] == work_id]
    assert len(rows) == 1, f"{work_id} is not a candidate"
    return rows.iloc[0]


def test_the_default_author_rule_is_a_beijing_first_or_corresponding_author(settings):
    rows = [lead(i, citation_normalized_percentile=i / 100) for i in range(1, 101)]
    rows += [work(i, beijing_first=False, citation_normalized_percentile=0.999)
             for i in range(101, 111)]  # Beijing co-authors only
    rows += [work(i, beijing_first=False, beijing_corresponding=True, citation_normalized_percentile=0.998)
             for i in range(111, 113)]
    result = rank_works(works_frame_of(rows), settings)
    assert result.funnel["author_rule_first_or_corresponding"] == 102
    assert not set(result.candidates["work_id"]) & {f"W{i}" for i in range(101, 111)}
    assert {"W111", "W112"} <= set(result.candidates["work_id"])
    assert (result.candidates["author_rule"] == "first_or_corresponding").all()


def test_a_small_subfield_pools_into_its_field_instead_of_blocking_its_best_paper(settings):
    # five works of subfield 2605 (the most cited among them highly cited), 200 of 2604, same field 26
    small = [lead(i, subfield_id=2605, citation_normalized_percentile=None, fwci=None, cited_by_count=c,
                  counts_by_year=None) for i, c in zip(range(1, 6), (900, 3, 2, 1, 0))]
    large = [lead(i, citation_normalized_percentile=None, fwci=None, cited_by_count=i - 100, counts_by_year=None)
             for i in range(101, 301)]
    result = rank_works(works_frame_of(small + large), settings)
    best = candidate(result, "W1")
    assert best["stratum_level"] == "field"  # 5 works < min_works 30: pooled with the 200 of subfield 2604
    assert best["stratum_works"] == 205
    assert best["citation_baseline"] == "beijing"  # no world value: compared with the Beijing stratum
    assert best["influence_percentile"] > 0.99
    unpooled = rank_works(works_frame_of(small + large), settings.with_overrides(min_stratum_works=1))
    assert candidate(unpooled, "W1")["stratum_level"] == "subfield"
    assert candidate(unpooled, "W1")["stratum_works"] == 5


def test_the_best_paper_of_a_stratum_too_small_even_after_pooling_passes_the_gate(settings):
    # four domestic works in the whole universe: the best of four is at 0.875, under 0.90
    rows = [lead(i, journal_group="domestic", citation_normalized_percentile=None, fwci=None, cited_by_count=c,
                 counts_by_year=None) for i, c in zip(range(1, 5), (138, 20, 5, 1))]
    result = rank_works(works_frame_of(rows), settings)
    best = candidate(result, "W1")
    assert best["stratum_level"] == "all_disciplines" and best["stratum_works"] == 4
    assert best["influence_percentile"] == pytest.approx(0.875) and best["admission"] == "gate"
    assert set(result.candidates["work_id"]) == {"W1"}  # only the best: the second is at 0.625


def test_a_world_top_one_percent_paper_is_seated_first_whatever_its_beijing_stratum_says(settings):
    rows = [lead(i, citation_normalized_percentile=0.995 + i / 1e6, world_top_1pct=True) for i in range(1, 2001)]
    rows.append(lead(5000, citation_normalized_percentile=0.991, world_top_1pct=True))  # last in its stratum
    result = rank_works(works_frame_of(rows), settings.with_overrides(per_group=200))
    assert len(result.candidates) == 200  # more priority works than seats: the best of them by score
    laggard = rank_works(works_frame_of(rows[-200:]), settings)  # 199 others and the laggard
    seated = candidate(laggard, "W5000")
    assert seated["admission"] == "world_top_1pct"
    assert seated["influence_percentile"] < 0.01  # the lowest of its Beijing stratum, seated all the same
    ordinary = [lead(i, citation_normalized_percentile=i / 1000) for i in range(1, 1001)]
    ordinary.append(lead(9999, citation_normalized_percentile=0.2, world_top_1pct=True))  # flag without percentile
    flagged = rank_works(works_frame_of(ordinary), settings)
    assert candidate(flagged, "W9999")["admission"] == "world_top_1pct"
    # without a flag the world percentile decides: W990 ... W1000 are in the world's top 1%
    admissions = flagged.candidates.set_index("work_id")["admission"]
    assert (admissions[[f"W{i}" for i in range(990, 1001)]] == "world_top_1pct").all()
    assert (admissions[[f"W{i}" for i in range(901, 990)]] == "gate").all()


def national_baseline(subfield: int, year: int) -> pd.DataFrame:
    """9,950 papers of China-published journals: 9,900 cited 0-49 times, one each cited 50 ... 99 times."""
    counts = np.r_[np.repeat(np.arange(50), 198), np.arange(50, 100)]
    cited, works = np.unique(counts, return_counts=True)
    return pd.DataFrame({"subfield_id": subfield, "publication_year": year, "cited_by_count": cited, "works": works})


def test_a_national_top_one_percent_domestic_paper_is_a_candidate_with_few_beijing_peers(settings):
    # a domestic subfield-year with only four Beijing papers, pooled into a field of weak papers
    peers = [lead(i, journal_group="domestic", subfield_id=2605, cited_by_count=60 - i,
                  citation_normalized_percentile=None, fwci=None) for i in range(1, 4)]
    star = lead(7, journal_group="domestic", subfield_id=2605, cited_by_count=80,
                citation_normalized_percentile=None, fwci=None, counts_by_year=None)
    crowd = [lead(i, journal_group="domestic", cited_by_count=1000 + i, citation_normalized_percentile=None,
                  fwci=None) for i in range(100, 400)]
    frame = works_frame_of(peers + [star] + crowd)
    without = rank_works(frame, settings)
    assert "W7" not in set(without.candidates["work_id"])  # among Beijing's field it is nothing special
    evidence = replace(Evidence.none(), national_baseline=national_baseline(2605, 2024))
    result = rank_works(frame, settings, evidence=evidence)
    seated = candidate(result, "W7")
    assert seated["admission"] == "national_top_1pct"
    assert seated["national_percentile"] == pytest.approx((9900 + 30 + 0.5) / 9950)  # 80 citations
    assert seated["citation_baseline"] == "national"
    influence = next(part for part in seated["score_parts"] if part["indicator"] == "influence")
    assert influence["baseline"] == "national"


def test_the_citing_side_replaces_co_authorship_in_influence(settings):
    rows = [lead(i, citation_normalized_percentile=0.5, countries=["CN", "US", "GB"]) for i in range(1, 301)]
    frame = works_frame_of(rows)
    scored, *_ = score_universe(frame, settings)
    assert scored.values["influence"].nunique() == 1  # foreign co-authors earn nothing by themselves
    citing = pd.DataFrame({"work_id": ["W1", "W2"], "citing_works": [40, 40], "citing_no_china_works": [30, 0],
                           "citing_countries": [12, 1]})
    scored, *_ = score_universe(frame, settings, replace(Evidence.none(), citing=citing))
    influence = scored.values["influence"].to_numpy()
    assert influence[0] == pytest.approx(0.75 * 0.5 + 0.25 * 30 / 40)
    assert influence[1] == pytest.approx(0.75 * 0.5)
    assert influence[2] == pytest.approx(0.5)  # not fetched: the citation component alone


def test_reviews_are_their_own_flagged_track_with_a_share_of_the_seats(settings):
    articles = [lead(i, citation_normalized_percentile=i / 3000) for i in range(1, 3001)]
    reviews = [lead(i, type="review", citation_normalized_percentile=(i - 10_000) / 2000 * 0.5)
               for i in range(10_001, 12_001)]  # reviews cited less than articles
    result = rank_works(works_frame_of(articles + reviews), settings)
    seated = result.candidates
    review_seats = seated.loc[seated["track"] == "review"]
    assert len(review_seats) == 20  # 10% of 200 while articles remain
    assert (review_seats["type"] == "review").all()
    # compared with reviews only: the best review stands at the top of its own stratum
    assert review_seats["influence_percentile"].max() > 0.99
    assert len(seated) == 200


def test_stability_applies_the_gate_again_so_a_short_list_is_not_all_secure(settings):
    rows = [lead(i, citation_normalized_percentile=i / 150, topic_id=f"T{i}", counts_by_year=None,
                 cited_by_count=None) for i in range(1, 151)]
    result = rank_works(works_frame_of(rows), settings.with_overrides(bootstrap_rounds=100))
    seated = result.candidates
    assert len(seated) < 200  # a short list: every eligible work holds a seat
    assert set(seated["stability"]) == {"secure", "borderline"}
    edge = seated.sort_values("influence_percentile").iloc[0]
    assert edge["stability"] == "borderline" and edge["rank_interval_high"] == 201
    assert seated.sort_values("influence_percentile").iloc[-1]["stability"] == "secure"


def test_originality_varies_paper_by_paper_and_cannot_pass_the_gate_alone(settings):
    # 1,000 works of one journal and one primary topic, with two other topics of 40 each
    rng = np.random.default_rng(7)
    topics = [f"T{i}" for i in range(40)]
    rows = []
    for i in range(1, 1001):
        chosen = ["T0", *rng.choice(topics[1:], size=2, replace=False)]  # one primary topic: one growth
        rows.append(lead(i, topic_id=chosen[0], topic_ids=chosen, topic_scores=sorted(rng.random(3), reverse=True),
                         citation_normalized_percentile=0.3, counts_by_year=None, cited_by_count=None))
    result = rank_works(works_frame_of(rows), settings)
    assert result.originality["distinct_values"] == 1000
    assert len(result.candidates) == 0  # the best originality alone seats nobody
    assert result.originality["measure"] == "topic_pairing_novelty"


def test_the_contention_list_holds_twice_the_quota_of_each_list(settings):
    rows = [lead(i, citation_normalized_percentile=i / 6000) for i in range(1, 6001)]
    result = rank_works(works_frame_of(rows), settings)
    assert len(result.contention) == 400  # 2 x 200, of 600 eligible
    assert result.contention[0] == result.candidates.iloc[0]["work_id"]


def test_originality_takes_a_distinct_value_for_every_candidate_of_a_full_list_of_the_synthetic_world():
    from selection.synthetic import works_frame

    settings = load_rank_settings().with_overrides(bootstrap_rounds=5)
    result = rank_works(works_frame(60_000, seed=3, topics_path=Path("no-topics.csv")), settings)
    seated = result.candidates
    full = [entry for entry in result.lists if entry["selected"] == settings.per_group]
    assert full, "the synthetic world fills no list of 300"
    for entry in full:
        values = seated.loc[(seated["discipline"] == entry["discipline"])
                            & (seated["journal_group"] == entry["journal_group"]), "originality_value"]
        assert values.notna().all() and values.nunique() == settings.per_group == 300
    assert result.originality["distinct_values"] >= 0.95 * result.originality["valued_works"]
