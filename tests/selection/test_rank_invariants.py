"""Invariants of a ranking on a 200,000-work synthetic set and on the real OpenAlex records:
every candidate meets the universe rules and its list, quotas are met wherever the pool
allows, no topic exceeds its cap while other eligible work remains, and every score
recomputes from its row."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from selection.disciplines import load_disciplines
from selection.harvest.normalize import WorkNormalizer, passes_harvest_rules, rows_to_table
from selection.journal_groups import JournalGroupResolver, load_overrides
from selection.ranking.diversity import cap_seats
from selection.ranking.indicators import arrow_column
from selection.ranking.rank import rank_works
from selection.ranking.settings import load_rank_settings
from selection.synthetic import works_frame
from tests.selection.test_rank import assert_scores_recompute

SYNTHETIC_WORKS = 200_000
# The Beijing institutions PROVENANCE.md lists for the real records.
REAL_BEIJING_IDS = {
    "I99065089", "I19820366", "I82880672", "I4210100255", "I4210090176", "I20231570", "I96852419",
    "I4210165038", "I78988378", "I4210117825", "I37796252", "I1327237609", "I4210152758",
    "I4210153022", "I180662265",
}
AUTHOR_FLAGS = {
    "any": ("beijing_any",),
    "first": ("beijing_first",),
    "corresponding": ("beijing_corresponding",),
    "first_or_corresponding": ("beijing_first", "beijing_corresponding"),
}


def check_invariants(works: pd.DataFrame, result) -> None:
    settings, candidates = result.settings, result.candidates
    assert 200 <= settings.per_group <= 500
    source = works.set_index("work_id").loc[candidates["work_id"].to_numpy()]
    meets_rule = np.zeros(len(source), dtype=bool)
    for flag in AUTHOR_FLAGS[settings.author_rule]:
        meets_rule |= source[flag].to_numpy(dtype=bool, na_value=False)
    assert meets_rule.all(), "a candidate breaks the author rule"
    first_year, last_year = result.summary()["window"]
    years = source["publication_year"].to_numpy(dtype=int)
    assert ((years >= first_year) & (years <= last_year)).all(), "a candidate is outside the window"
    issn_count = pc.list_value_length(arrow_column(source["issns"], pa.list_(pa.string())))
    has_issn = source["issn_l"].notna().to_numpy() | pc.fill_null(pc.greater(issn_count, 0), False).to_numpy(
        zero_copy_only=False
    )
    assert has_issn.all(), "a candidate has no ISSN"
    types = source["type"].to_numpy()
    assert set(types) <= {"article", "review"}
    assert (candidates["track"].to_numpy() == np.where(types == "review", "review", "article")).all()
    # Reviews go over their share only where every article left waiting is of a topic at its
    # cap: the topic cap lets other eligible work in first, reviews included.
    review_cap = cap_seats(settings.per_group, settings.review_seat_share)
    cap = cap_seats(settings.per_group, settings.topic_cap_share)
    review_seats = candidates.loc[candidates["track"] == "review"].groupby(["discipline", "journal_group"]).size()
    topic_seats = candidates.groupby(["discipline", "journal_group", "topic_id"]).size()
    indexed = works.set_index("work_id")
    for discipline, group in review_seats[review_seats > review_cap].index:
        waiting = result.pool.loc[(result.pool["discipline"] == discipline) & (result.pool["journal_group"] == group)
                                  & result.pool["eligible"] & ~result.pool["selected"]]
        articles = indexed.loc[waiting["work_id"].to_numpy()]
        articles = articles.loc[articles["type"].to_numpy() == "article"]
        full = {topic for (d, g, topic), seats in topic_seats.items() if (d, g) == (discipline, group) and seats >= cap}
        assert articles["topic_id"].isin(full).all(), "reviews went over their share while articles waited"
    assert set(candidates["admission"]) <= {"world_top_1pct", "national_top_1pct", "gate"}
    assert not source["is_retracted"].to_numpy(dtype=bool, na_value=False).any()
    assert (source["journal_group"].to_numpy() == candidates["journal_group"].to_numpy()).all()
    assert (source["discipline"].to_numpy() == candidates["discipline"].to_numpy()).all()

    for entry in result.lists:
        assert entry["selected"] == min(settings.per_group, entry["eligible"])
        assert entry["shortfall"] == settings.per_group - entry["selected"]

    cap = cap_seats(settings.per_group, settings.topic_cap_share)
    topic_of = works.set_index("work_id")["topic_id"]
    pool = result.pool.assign(topic_id=topic_of.loc[result.pool["work_id"].to_numpy()].to_numpy())
    seats = candidates.dropna(subset=["topic_id"]).groupby(["discipline", "journal_group", "topic_id"]).size()
    for (discipline, group), list_seats in seats.groupby(level=[0, 1]):
        full_topics = set(list_seats[list_seats >= cap].index.get_level_values(2))
        if (list_seats > cap).any():
            waiting = pool.loc[(pool["discipline"] == discipline) & (pool["journal_group"] == group)
                               & pool["eligible"] & ~pool["selected"]]
            assert waiting["topic_id"].isin(full_topics).all(), "a topic went over its cap while others waited"
    assert_scores_recompute(candidates)


@pytest.fixture(scope="module")
def synthetic_works() -> pd.DataFrame:
    return works_frame(SYNTHETIC_WORKS, seed=11)


@pytest.mark.slow
@pytest.mark.parametrize("author_rule", ["any", "first_or_corresponding"])
def test_invariants_on_synthetic_works(synthetic_works, author_rule):
    settings = load_rank_settings().with_overrides(author_rule=author_rule)
    result = rank_works(synthetic_works, settings)
    check_invariants(synthetic_works, result)
    full = [entry for entry in result.lists if entry["selected"] == settings.per_group]
    assert len(full) >= 16, "a 200,000-work set should fill most lists"


def real_works(shared_data, beijing_ids: set[str] | None) -> pd.DataFrame:
    """The real records (deduplicated by id) as a works frame; only the Beijing ones under
    the harvest rules when ``beijing_ids`` is given, else every record, all flagged Beijing."""
    records = {}
    for path in sorted((shared_data / "openalex/works").glob("*works.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                work = json.loads(line)
                records.setdefault(work["id"], work)
    normalizer = WorkNormalizer(beijing_ids or set(), JournalGroupResolver(load_overrides(), {}), load_disciplines())
    if beijing_ids is not None:
        kept = [w for w in records.values() if passes_harvest_rules(w, beijing_ids, 2000, 2030)]
        return rows_to_table([normalizer.row(w) for w in kept]).to_pandas()
    frame = rows_to_table([normalizer.row(w) for w in records.values()]).to_pandas()
    return frame.assign(beijing_any=True, beijing_first=True, beijing_corresponding=False)


@pytest.mark.shared_data
def test_invariants_on_the_real_beijing_records(shared_data):
    works = real_works(shared_data, REAL_BEIJING_IDS)
    assert 0 < len(works) < 50  # few real works are Beijing ones
    result = rank_works(works, load_rank_settings())
    check_invariants(works, result)
    assert len(result.shortfalls) == len(result.lists)  # a thin pool is reported, never padded


@pytest.mark.shared_data
def test_invariants_on_all_real_records_with_their_missing_fields(shared_data):
    """Every real record taken as a Beijing work. Few lie in the latest five years, so a
    second run looks back from 2010 with the gate open, to push real fields with their
    gaps (no fwci, no counts_by_year, no topic) all the way into the candidates."""
    works = real_works(shared_data, None)
    assert works["fwci"].isna().any() and works["counts_by_year"].isna().any() and works["topic_id"].isna().any()
    latest = rank_works(works, load_rank_settings())
    check_invariants(works, latest)
    assert latest.funnel["input"] == len(works)

    settings = load_rank_settings().with_overrides(
        window_end_year=2010, as_of=dt.date(2010, 12, 31), eligibility_top_share=1.0
    )
    result = rank_works(works, settings)
    check_invariants(works, result)
    candidates = result.candidates
    assert len(candidates) > 20
    assert candidates["hot_value"].notna().all()  # counts_by_year present but not back to 2010: 0
    assert (candidates["cluster"] >= 1).all() and candidates["cluster_terms"].str.len().gt(0).all()
