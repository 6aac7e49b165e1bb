"""The synthetic generator: determinism, OpenAlex shape, consistency, traps, and the
schema-v3 columns: several topics per work growing at different rates, their scores,
keywords, funders, open access, world flags and the Beijing share."""

from __future__ import annotations

import collections
import json
import re
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from selection.disciplines import load_disciplines
from selection.harvest.normalize import WorkNormalizer, passes_harvest_rules, rows_to_table
from selection.journal_groups import JournalGroupResolver
from selection.schema import (
    JOURNAL_GROUP_RULES,
    JOURNAL_GROUPS,
    WORKS_COLUMNS,
    WORKS_SCHEMA,
    WORKS_SCHEMA_VERSION,
    schema_version,
)
from selection.synthetic import (
    ELIGIBLE_TRAPS,
    FIELDS,
    TRAP_KINDS,
    default_topics_path,
    generate_world,
    works_frame,
    works_table,
    write_works_parquet,
)
from selection.synthetic.catalogue import (
    FOREIGN_FUNDERS,
    STAND_IN_TOPICS_PER_SUBFIELD,
    WORDS,
    funder_names,
    institution_records,
    load_topics,
)
from selection.synthetic.draw import author_orcids

NO_TOPICS_FILE = "/nonexistent/topics.csv"  # the stand-in topics, with or without the shared data


@pytest.fixture(scope="module")
def stand_in_table() -> pa.Table:
    """About 52,000 eligible works over the stand-in topics."""
    return works_table(60_000, seed=5, topics_path=NO_TOPICS_FILE)


@pytest.fixture(scope="module")
def topic_years() -> pa.Table:
    """Topic, year and citations of about 172,000 eligible works over the stand-in topics."""
    columns = ["subfield_id", "topic_id", "publication_year", "cited_by_count", "counts_by_year"]
    return works_table(200_000, seed=5, topics_path=NO_TOPICS_FILE).select(columns)


@pytest.fixture(scope="module")
def world():
    return generate_world(3000, seed=7)


def test_same_seed_same_world_other_seed_other_world():
    first = generate_world(300, seed=3)
    assert json.dumps(first.works) == json.dumps(generate_world(300, seed=3).works)
    assert json.dumps(first.works) != json.dumps(generate_world(300, seed=4).works)


def test_works_have_the_openalex_shape(world):
    keys = {
        "id", "doi", "title", "display_name", "publication_year", "publication_date", "type", "language",
        "primary_location", "authorships", "cited_by_count", "counts_by_year", "fwci",
        "citation_normalized_percentile", "primary_topic", "referenced_works_count", "is_retracted",
        "is_paratext", "abstract_inverted_index", "updated_date", "topics", "keywords", "funders",
        "best_oa_location", "open_access",
    }
    for work in world.works:
        assert keys <= set(work)
        assert work["id"].startswith("https://openalex.org/W")
        for topic in work["topics"]:
            assert set(topic) == {"id", "display_name", "score", "subfield", "field", "domain"}
        assert work["topics"][:1] == ([work["primary_topic"]] if work["primary_topic"] else [])
        assert all(set(k) == {"id", "display_name", "score"} for k in work["keywords"])
        assert all(set(f) == {"id", "display_name"} for f in work["funders"])
        assert work["open_access"]["is_oa"] == (work["best_oa_location"] is not None)
        percentile = work["citation_normalized_percentile"]
        if percentile is not None:
            assert percentile["is_in_top_1_percent"] == (percentile["value"] >= 0.99)
        for authorship in work["authorships"]:
            assert authorship["author_position"] in {"first", "middle", "last"}
            for institution in authorship["institutions"]:
                assert set(institution) == {"id", "display_name", "ror", "country_code", "type", "lineage"}
    assert {s["type"] for s in world.sources} == {"journal", "repository", "conference", "ebook platform"}
    for institution in world.institutions:
        assert set(institution["geo"]) == {"city", "region", "country_code", "country", "latitude", "longitude"}


def test_counts_by_year_add_up_to_cited_by_count(world):
    for work in world.works:
        counts = work["counts_by_year"]
        assert sum(c["cited_by_count"] for c in counts) == work["cited_by_count"]
        assert all(c["year"] >= work["publication_year"] and c["cited_by_count"] > 0 for c in counts)
        assert [c["year"] for c in counts] == sorted((c["year"] for c in counts), reverse=True)


def test_citations_are_skewed_and_fwci_and_percentile_agree(world):
    citations = sorted(w["cited_by_count"] for w in world.works)
    assert citations[len(citations) // 2] < sum(citations) / len(citations)  # median below mean
    pairs = [
        (w["fwci"], w["citation_normalized_percentile"]["value"])
        for w in world.works
        if w["fwci"] is not None and w["citation_normalized_percentile"] is not None
    ]
    fwcis = [f for f, _ in pairs]
    assert 0.9 < sum(fwcis) / len(fwcis) < 1.1  # citations over the field-year mean
    high = [p for f, p in pairs if f >= 3]
    low = [p for f, p in pairs if f <= 0.2]
    assert min(high) > max(low)


def test_medicine_cites_more_than_mathematics():
    world = generate_world(6000, seed=11, with_traps=False)

    def mean_citations(field_id):
        values = [
            w["cited_by_count"] for w in world.works
            if w["primary_topic"] and w["primary_topic"]["field"]["id"].endswith(f"/{field_id}")
        ]
        return sum(values) / len(values)

    assert mean_citations(27) > 2 * mean_citations(26)


def test_every_trap_kind_is_present_and_traps_can_be_switched_off(world):
    assert set(world.traps) == set(TRAP_KINDS)
    assert all(len(ids) >= 10 for ids in world.traps.values())
    clean = generate_world(500, seed=7, with_traps=False)
    assert not any(clean.traps.values())
    assert len(clean.eligible_work_ids) == 500


def test_cas_institutes_outside_beijing_have_cas_in_their_lineage(world):
    by_id = {i["id"]: i for i in world.institutions}
    cas = next(i["id"] for i in world.institutions if i["display_name"] == "Chinese Academy of Sciences")
    outside = [i for i in world.institutions if cas in i["lineage"][1:] and i["geo"]["city"] != "Beijing"]
    assert {i["geo"]["city"] for i in outside} >= {"Shanghai", "Hefei", "Lanzhou"}
    trapped = {f"https://openalex.org/{w}" for w in world.traps["cas_outside_beijing"]}
    for work in world.works:
        if work["id"] in trapped:
            cities = {by_id[i["id"]]["geo"]["city"] for a in work["authorships"] for i in a["institutions"]}
            assert "Beijing" not in cities


def test_two_beijing_institutions_trap(world):
    beijing = {f"https://openalex.org/{i}" for i in world.beijing_institution_ids}
    trapped = {f"https://openalex.org/{w}" for w in world.traps["two_beijing_institutions"]}
    for work in world.works:
        if work["id"] in trapped:
            ids = {i["id"] for a in work["authorships"] for i in a["institutions"]} & beijing
            assert len(ids) >= 2


def test_journal_overrides_are_chinese_journals_registered_abroad(world):
    abroad = [s for s in world.sources if s["issn_l"] in world.journal_overrides]
    assert abroad and all(s["country_code"] != "CN" for s in abroad)
    assert any(s["country_code"] == "CN" and s["type"] == "journal" for s in world.sources)


def test_topics_use_real_subfield_ids_with_or_without_the_taxonomy_file(tmp_path):
    real_subfields = {field_id * 100 + n for field_id, (_, _, ns) in FIELDS.items() for n in ns}
    fallback = generate_world(300, seed=1, topics_path=tmp_path / "absent.csv")
    subfields = {
        int(w["primary_topic"]["subfield"]["id"].rsplit("/", 1)[1]) for w in fallback.works if w["primary_topic"]
    }
    assert subfields <= real_subfields
    assert all(w["primary_topic"]["id"].split("/")[-1].startswith("T9") for w in fallback.works if w["primary_topic"])


def test_embedded_subfield_ids_match_the_real_taxonomy(shared_data):
    records = json.loads((shared_data / "openalex/topics/subfields.json").read_text(encoding="utf-8"))
    real = {int(r["id"].rsplit("/", 1)[1]) for r in records}
    embedded = {field_id * 100 + n for field_id, (_, _, ns) in FIELDS.items() for n in ns}
    assert embedded == real


def _normalised_eligible_works(world) -> pa.Table:
    normalizer = WorkNormalizer(
        world.beijing_institution_ids,
        JournalGroupResolver(world.journal_overrides, world.source_countries()),
        load_disciplines(),
        record_source="synthetic",
    )
    beijing = set(world.beijing_institution_ids)
    kept = [work for work in world.works if passes_harvest_rules(work, beijing, 2021, 2025)]
    return rows_to_table([normalizer.row(work) for work in kept])


def test_harvest_rules_keep_exactly_the_eligible_works(world):
    beijing = set(world.beijing_institution_ids)
    kept = {w["id"].rsplit("/", 1)[1] for w in world.works if passes_harvest_rules(w, beijing, 2021, 2025)}
    assert kept == world.eligible_work_ids
    assert set(world.traps["two_beijing_institutions"]) <= kept
    rejected = {kind: ids for kind, ids in world.traps.items() if kind not in ELIGIBLE_TRAPS}
    assert not kept & {work_id for ids in rejected.values() for work_id in ids}


def test_works_frame_equals_the_normalised_world(world):
    expected = _normalised_eligible_works(world)
    table = works_table(3000, seed=7)
    for column in WORKS_COLUMNS:
        assert table[column].equals(expected[column]), column
    assert table.num_rows == len(world.eligible_work_ids)


def test_the_stand_in_world_equals_its_normalised_json(tmp_path):
    world = generate_world(1500, seed=9, topics_path=tmp_path / "absent.csv")
    expected = _normalised_eligible_works(world)
    table = works_table(1500, seed=9, topics_path=tmp_path / "absent.csv")
    for column in WORKS_COLUMNS:
        assert table[column].equals(expected[column]), column


def test_works_table_has_exactly_the_schema_and_its_version(stand_in_table):
    assert stand_in_table.schema.equals(WORKS_SCHEMA, check_metadata=True)
    assert schema_version(stand_in_table.schema, "works") == WORKS_SCHEMA_VERSION
    assert works_table(300, seed=1).schema.equals(WORKS_SCHEMA, check_metadata=True)


def test_same_seed_same_table_other_seed_other_table():
    first = works_table(2000, seed=21, topics_path=NO_TOPICS_FILE)
    assert first.equals(works_table(2000, seed=21, topics_path=NO_TOPICS_FILE))
    other = works_table(2000, seed=22, topics_path=NO_TOPICS_FILE)
    for column in ("topic_ids", "topic_scores", "keywords", "funders", "oa_url", "publication_year"):
        assert not first[column].equals(other[column]), column


def test_every_subfield_has_fast_flat_and_shrinking_topics_with_or_without_the_taxonomy_file():
    for path in (None, default_topics_path()):
        topics = load_topics(path if path is None or path.is_file() else None)
        by_subfield = collections.defaultdict(list)
        for subfield_id, growth in zip(topics.subfield_ids.tolist(), topics.growth.tolist()):
            by_subfield[subfield_id].append(growth)
        several = [rates for rates in by_subfield.values() if len(rates) >= 3]
        assert len(several) >= 0.8 * len(by_subfield)
        assert all(min(rates) < -0.2 and max(rates) > 0.4 and any(abs(r) < 0.15 for r in rates) for rates in several)
    stand_in = load_topics(None)
    assert set(collections.Counter(stand_in.subfield_ids.tolist()).values()) == {STAND_IN_TOPICS_PER_SUBFIELD}
    assert len(set(stand_in.topic_ids)) == len(stand_in.topic_ids)


def test_the_topics_of_a_subfield_grow_at_clearly_different_rates(topic_years):
    """Recent (2024-25) over earlier (2021-22) works per topic, in the ten busiest subfields."""
    frame = topic_years.select(["subfield_id", "topic_id", "publication_year"]).to_pandas().dropna()
    counts = frame.groupby(["subfield_id", "topic_id", "publication_year"]).size().unstack(fill_value=0)
    ratio = (counts[2024] + counts[2025]) / (counts[2021] + counts[2022])
    for subfield_id in frame["subfield_id"].value_counts().index[:10]:
        rates = ratio.loc[subfield_id]
        assert len(rates) == STAND_IN_TOPICS_PER_SUBFIELD
        assert rates.max() > 2.0 and rates.min() < 0.75, (subfield_id, rates.to_dict())
        assert rates.max() / rates.min() > 4, (subfield_id, rates.to_dict())


def test_citation_velocity_varies_within_a_topic(topic_years):
    """The share of a work's citations made in the last two years spreads widely among the
    cited works of one topic and year."""
    frame = topic_years.filter(pc.equal(topic_years["publication_year"], 2022)).to_pylist()
    shares = collections.defaultdict(list)
    for row in frame:
        if row["topic_id"] and row["publication_year"] == 2022 and row["cited_by_count"] >= 10:
            recent = sum(c["cited_by_count"] for c in row["counts_by_year"] if c["year"] >= 2025)
            shares[row["topic_id"]].append(recent / row["cited_by_count"])
    busiest = sorted(shares.values(), key=len)[-5:]
    assert all(len(values) >= 20 for values in busiest)
    for values in busiest:
        low, high = np.percentile(values, [10, 90])
        assert high - low > 0.25, (low, high)


def test_topics_scores_and_names_are_aligned_and_make_distinct_pairings(stand_in_table):
    topics = load_topics(None)
    name_of = dict(zip(topics.topic_ids, topics.names))
    subfield_of = dict(zip(topics.topic_ids, topics.subfield_ids.tolist()))
    field_of = dict(zip(topics.topic_ids, topics.field_ids.tolist()))
    rows = stand_in_table.select(["topic_id", "field_id", "topic_ids", "topic_names", "topic_scores"]).to_pylist()
    lengths = collections.Counter(len(row["topic_ids"]) for row in rows)
    assert lengths[3] > 0.8 * len(rows) and lengths[1] > 0 and lengths[2] > 0 and set(lengths) == {0, 1, 2, 3}
    same_subfield = other_field = pairs = 0
    for row in rows:
        ids, scores = row["topic_ids"], row["topic_scores"]
        assert len(row["topic_names"]) == len(scores) == len(ids) == len(set(ids))
        assert row["topic_names"] == [name_of[t] for t in ids]
        if not ids:
            assert row["topic_id"] is None and row["field_id"] is None
            continue
        assert ids[0] == row["topic_id"] and row["field_id"] == field_of[ids[0]]
        assert 0.9 <= scores[0] < 1 and scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
        for other in ids[1:]:
            pairs += 1
            same_subfield += subfield_of[other] == subfield_of[ids[0]]
            other_field += field_of[other] != field_of[ids[0]]
    assert 0.5 < same_subfield / pairs < 0.8
    assert 0.05 < other_field / pairs < 0.25  # rare pairs exist
    paired = [row for row in rows if len(row["topic_ids"]) >= 2][:300]
    assert len({(tuple(r["topic_ids"]), tuple(r["topic_scores"])) for r in paired}) == 300


def test_world_flags_follow_the_percentile(stand_in_table):
    percentile = stand_in_table["citation_normalized_percentile"]
    for column, threshold in (("world_top_1pct", 0.99), ("world_top_10pct", 0.9)):
        flags = stand_in_table[column]
        assert flags.null_count == percentile.null_count > 0
        assert pc.all(pc.equal(pc.is_null(flags), pc.is_null(percentile))).as_py()
        assert flags.to_pylist() == [None if p is None else p >= threshold for p in percentile.to_pylist()]
    assert 0.005 < pc.mean(stand_in_table["world_top_1pct"]).as_py() < 0.03
    assert 0.06 < pc.mean(stand_in_table["world_top_10pct"]).as_py() < 0.16


def test_beijing_columns_agree_with_the_authorships(stand_in_table):
    names = {r["id"].rsplit("/", 1)[1]: r["display_name"] for r in institution_records()}
    beijing = {r["id"].rsplit("/", 1)[1] for r in institution_records() if r["geo"]["city"] == "Beijing"}
    columns = ["beijing_any", "beijing_first", "beijing_institution_ids", "beijing_author_share", "authorships"]
    for row in stand_in_table.slice(0, 3000).select(columns).to_pylist():
        authors = row["authorships"]
        for author in authors:
            assert author["institution_names"] == [names[i] for i in author["institution_ids"]]
            assert author["is_beijing"] == bool(beijing & set(author["institution_ids"]))
        assert row["beijing_author_share"] == sum(a["is_beijing"] for a in authors) / len(authors)
        assert row["beijing_first"] == authors[0]["is_beijing"]
        assert row["beijing_any"] and 0 < row["beijing_author_share"] <= 1
        assert set(row["beijing_institution_ids"]) == {i for a in authors for i in a["institution_ids"]} & beijing


def test_keywords_funders_and_open_access(stand_in_table):
    rows = stand_in_table.select(["work_id", "keywords", "funders", "oa_url", "countries", "topic_id"]).to_pylist()
    topics = load_topics(None)
    vocabulary = {
        topic_id: {WORDS[w].capitalize() for w in words} for topic_id, words in zip(topics.topic_ids, topics.vocabulary)
    }
    country_of_funder = {name: country for name, country, _ in FOREIGN_FUNDERS}
    funders = collections.Counter()
    for row in rows:
        assert len(set(row["keywords"])) == len(row["keywords"]) <= 5
        # keywords are words of the primary topic's vocabulary; a work without a topic has none
        assert set(row["keywords"]) <= (vocabulary[row["topic_id"]] if row["topic_id"] else set())
        assert len(set(row["funders"])) == len(row["funders"])
        assert [name for name in funder_names() if name in row["funders"]] == row["funders"]  # catalogue order
        for name in row["funders"]:
            funders[name] += 1
            assert country_of_funder.get(name, "CN") in row["countries"], (name, row["countries"])
        assert row["oa_url"] is None or row["oa_url"].startswith("https://") and row["work_id"] in row["oa_url"]
    assert funders.most_common(1)[0][0] == "National Natural Science Foundation of China"
    assert set(funders) == set(funder_names())
    assert 0.4 < sum(row["oa_url"] is not None for row in rows) / len(rows) < 0.6
    assert 2.5 < np.mean([len(row["keywords"]) for row in rows]) < 4
    assert sum(not row["funders"] for row in rows) / len(rows) < 0.3


def test_web_of_science_columns_are_null_and_the_record_source_synthetic(stand_in_table):
    for column in ("wos_times_cited", "esi_highly_cited", "esi_hot_paper"):
        assert stand_in_table[column].null_count == stand_in_table.num_rows
    assert pc.unique(pc.list_flatten(stand_in_table["record_sources"])).to_pylist() == ["synthetic"]
    assert pc.all(pc.equal(pc.list_value_length(stand_in_table["record_sources"]), 1)).as_py()


def test_works_frame_columns_dtypes_and_values():
    frame = works_frame(2000, seed=2)
    assert tuple(frame.columns) == WORKS_COLUMNS
    assert [dtype.pyarrow_dtype for dtype in frame.dtypes] == list(WORKS_SCHEMA.types)
    assert frame["work_id"].is_unique
    assert set(frame["discipline"].dropna()) <= set(load_disciplines().keys())
    assert set(frame["journal_group"]) == set(JOURNAL_GROUPS)
    assert set(frame["journal_group_rule"]) <= set(JOURNAL_GROUP_RULES)
    assert frame["beijing_any"].all()
    assert frame["publication_year"].between(2021, 2025).all()
    assert set(frame["type"]) == {"article", "review"}
    assert not frame["is_retracted"].any()
    assert (frame["issn_l"].notna()).all()


def test_authors_keep_one_id_and_orcid_per_person_and_orcids_are_well_formed(world):
    orcid_of = {}
    for work in world.works:
        for authorship in work["authorships"]:
            author = authorship["author"]
            assert orcid_of.setdefault(author["id"], author["orcid"]) == author["orcid"]
    with_orcid = [orcid for orcid in orcid_of.values() if orcid]
    assert 0.5 < len(with_orcid) / len(orcid_of) < 0.8  # two authors in three have one
    assert all(re.fullmatch(r"https://orcid.org/\d{4}-\d{4}-\d{4}-\d{3}[\dX]", orcid) for orcid in with_orcid)
    # ISO 7064 MOD 11-2 check digits of two real ORCIDs; numbers divisible by 3 have none
    assert author_orcids(np.array([15109370, 21694234, 21825009])).to_pylist() == [
        "0000-0001-5109-3700", "0000-0002-1694-2348", None,
    ]


def test_write_works_parquet_round_trips(tmp_path):
    frame = works_frame(500, seed=3)
    path = tmp_path / "works.parquet"
    write_works_parquet(frame, path)
    table = pq.read_table(path)
    assert table.schema.remove_metadata() == WORKS_SCHEMA
    assert schema_version(table.schema, "works") == WORKS_SCHEMA_VERSION
    assert table.equals(works_table(500, seed=3))
    assert [p.name for p in tmp_path.iterdir()] == ["works.parquet"]
    # Any reader can open it, not only pyarrow with Arrow-backed pandas dtypes.
    assert len(pd.read_parquet(path)) == len(frame)


@pytest.mark.slow
def test_a_million_works_is_quick():
    started = time.perf_counter()
    frame = works_frame(1_000_000, seed=0)
    assert time.perf_counter() - started < 120
    assert 800_000 < len(frame) < 1_000_000


def test_real_topics_are_used_when_the_shared_data_is_there(shared_data):
    assert default_topics_path() == shared_data / "openalex" / "topics" / "topics.csv"
    topic_ids = {w["primary_topic"]["id"].rsplit("/", 1)[1] for w in generate_world(200, seed=1).works if w["primary_topic"]}
    with (shared_data / "openalex" / "topics" / "topics.csv").open(encoding="utf-8") as handle:
        real = {line.split(",", 1)[0] for line in handle}
    assert topic_ids <= real
