"""The synthetic generator: determinism, OpenAlex shape, consistency, traps."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pandas as pd
import pyarrow as pa
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
from selection.synthetic.draw import author_orcids


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
        "is_paratext", "abstract_inverted_index", "updated_date",
    }
    for work in world.works:
        assert keys <= set(work)
        assert work["id"].startswith("https://openalex.org/W")
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
