"""Normalising OpenAlex work JSON: every real record, hand cases, the harvest rules."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import json

import pytest

from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.harvest.normalize import (
    COUNTED_COLUMNS,
    WorkNormalizer,
    passes_harvest_rules,
    rebuild_abstract,
    rows_to_table,
    table_counts,
)
from selection.journal_groups import JournalGroupResolver, load_overrides
from selection.schema import WORKS_COLUMNS, WORKS_SCHEMA

# The Beijing institutions PROVENANCE.md lists for works/rag_sample_works.jsonl.gz.
RAG_SAMPLE_BEIJING_IDS = (
    "I99065089 I19820366 I82880672 I4210100255 I4210090176 I20231570 I96852419 I4210165038 "
    "I78988378 I4210117825 I37796252"
).split()
CAS = "https://openalex.org/I19820366"
TSINGHUA = "https://openalex.org/I99065089"


def _normalizer(beijing_ids=RAG_SAMPLE_BEIJING_IDS, source_countries=None) -> WorkNormalizer:
    return WorkNormalizer(beijing_ids, JournalGroupResolver(load_overrides(), source_countries or {}), load_disciplines())


def _read_jsonl(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def real_works(shared_data):
    works_dir = shared_data / "openalex" / "works"
    pages = _read_jsonl(works_dir / "openalexpro_api_pages.jsonl.gz")
    entity = json.loads((shared_data / "openalex" / "entities" / "W2741809807.json").read_text(encoding="utf-8"))
    return {
        "rag_sample": _read_jsonl(works_dir / "rag_sample_works.jsonl.gz"),
        "openalexpro": _read_jsonl(works_dir / "openalexpro_works.jsonl.gz"),
        "api_pages": [work for page in pages for work in page["results"]],
        "entity": [entity],
    }


@pytest.mark.parametrize("name", ["rag_sample", "openalexpro", "api_pages", "entity"])
def test_every_real_record_becomes_a_row_and_the_table_accepts_them(real_works, name):
    normalizer = _normalizer()
    rows = [normalizer.row(work) for work in real_works[name]]
    assert all(tuple(row) == WORKS_COLUMNS for row in rows)
    table = rows_to_table(rows)
    assert table.schema == WORKS_SCHEMA
    assert table.num_rows == len(real_works[name]) > 0
    assert table.column("work_id").null_count == 0


def test_missing_reasons_are_counted(real_works):
    normalizer = _normalizer()
    for work in real_works["rag_sample"]:
        normalizer.row(work)
    # the rag sample was fetched with a select= that left these fields out (PROVENANCE.md)
    for reason in ("fwci", "counts_by_year", "primary_topic", "publication_date", "citation_normalized_percentile"):
        assert normalizer.missing[f"{reason}: absent"] == 195
    assert normalizer.missing["primary_location.source: absent"] == 58

    normalizer = _normalizer()
    for work in real_works["openalexpro"]:
        normalizer.row(work)
    assert normalizer.missing["primary_topic: absent"] == 11  # 327 of 338 have one
    assert normalizer.missing["citation_normalized_percentile: absent"] == 30  # 308 non-null
    assert normalizer.missing["counts_by_year: absent"] == 0


def test_hand_checked_values_of_a_real_record(real_works):
    row = _normalizer().row(real_works["entity"][0])
    assert row["work_id"] == "W2741809807"
    assert row["doi"] == "10.7717/peerj.4375"
    assert row["publication_year"] == 2018
    assert row["publication_date"] == dt.date(2018, 2, 13)
    assert (row["source_id"], row["issn_l"]) == ("S1983995261", "2167-8359")
    assert (row["subfield_id"], row["topic_id"], row["discipline"]) == (1804, "T10102", None)
    assert row["countries"] == ["CA", "US"]
    assert row["authors_count"] == 9
    assert row["beijing_any"] is False
    assert row["abstract"].startswith("Despite growing interest in Open Access")
    assert len(row["authorships"]) == 9
    assert row["authorships"][0] == {
        "author_id": "A5048491430", "name": "Heather Piwowar", "orcid": "0000-0003-1613-5981", "position": "first",
        "is_corresponding": False, "institution_ids": ["I4210166736"], "lineage_ids": ["I4210166736"],
        "institution_names": ["Impact Technology Development (United States)"], "is_beijing": False,
    }
    assert (row["field_id"], row["topic_ids"]) == (18, ["T10102", "T13607", "T11937"])
    assert row["topic_names"][1:] == ["Academic Publishing and Open Access", "Research Data Management Practices"]
    assert row["topic_scores"] == [0.9969, 0.9807, 0.9185]
    assert row["keywords"] == ["Scholarly Communication", "Web of science", "Open Science", "Citation analysis"]
    assert row["funders"] == []  # grants: [] in this record
    assert row["oa_url"] == "https://peerj.com/articles/4375.pdf"
    assert (row["world_top_1pct"], row["world_top_10pct"], row["citation_normalized_percentile"]) == (True, True, 0.999768)
    assert row["beijing_author_share"] == 0.0
    assert (row["wos_times_cited"], row["esi_highly_cited"], row["esi_hot_paper"]) == (None, None, None)
    assert row["record_sources"] == ["openalex"]
    raw = real_works["entity"][0]["authorships"]
    assert [a["author_id"] for a in row["authorships"]] == [a["author"]["id"].rsplit("/", 1)[1] for a in raw]
    assert [a["position"] for a in row["authorships"]] == [a["author_position"] for a in raw]


def test_beijing_works_of_the_rag_sample(real_works):
    rows = [_normalizer().row(work) for work in real_works["rag_sample"]]
    beijing = [row for row in rows if row["beijing_any"]]
    # PROVENANCE.md counts 15 by any listed id; W2265846598's four authors give only the CAS
    # headquarters id with the string "Chinese Academy of Sciences", which places nobody
    assert len(beijing) == 14
    at_cas = {row["work_id"] for row in rows if any("I19820366" in a["institution_ids"] for a in row["authorships"])}
    assert {work_id for work_id in at_cas if work_id not in {row["work_id"] for row in beijing}} == {"W2265846598"}
    # Computational Visual Media (Tsinghua University Press with Springer) is on the override list
    assert {(r["issn_l"], r["journal_group"], r["journal_group_rule"]) for r in beijing if r["issn_l"] == "2096-0433"} == {
        ("2096-0433", "domestic", "override")
    }


def _work(**changes) -> dict:
    work = {
        "id": "https://openalex.org/W1",
        "doi": "https://doi.org/10.1000/ABC",
        "title": "A title",
        "publication_year": 2023,
        "publication_date": "2023-05-06",
        "type": "article",
        "language": "en",
        "primary_location": {
            "source": {"id": "https://openalex.org/S9", "display_name": "J", "issn_l": "1674-1056",
                       "issn": ["1674-1056"], "type": "journal"}
        },
        "authorships": [
            {"author_position": "first", "institutions": [{"id": TSINGHUA, "lineage": [TSINGHUA]}],
             "countries": ["CN"], "is_corresponding": False},
            {"author_position": "last", "institutions": [{"id": "https://openalex.org/I5", "lineage": ["I5"]}],
             "countries": ["US"], "is_corresponding": True},
        ],
        "is_retracted": False,
        "is_paratext": False,
        "primary_topic": {"id": "https://openalex.org/T1", "subfield": {"id": "https://openalex.org/subfields/2604"}},
        "abstract_inverted_index": {"world": [1], "hello": [0, 2]},
    }
    work.update(changes)
    return work


def test_hand_built_work():
    row = _normalizer().row(_work())
    assert row["doi"] == "10.1000/abc"
    assert (row["discipline"], row["subfield_id"]) == ("mathematics", 2604)
    assert (row["journal_group"], row["journal_group_rule"]) == ("domestic", "override")
    assert (row["beijing_any"], row["beijing_first"], row["beijing_corresponding"]) == (True, True, False)
    assert row["beijing_institution_ids"] == ["I99065089"]
    assert row["countries"] == ["CN", "US"]
    assert row["abstract"] == "hello world hello"


def test_authorships_keep_order_ids_and_each_lineage_id_once():
    institute = {"id": "https://openalex.org/I777", "lineage": ["https://openalex.org/I777", CAS]}
    other_institute = {"id": "https://openalex.org/I778", "lineage": ["https://openalex.org/I778", CAS]}
    work = _work(authorships=[
        {"author_position": "first", "author": {"id": "https://openalex.org/A1", "display_name": "Li Wei",
                                                "orcid": "https://orcid.org/0000-0001-5109-3700"},
         "institutions": [institute, other_institute], "is_corresponding": True},
        {"author_position": "last", "author": {}, "raw_author_name": "Zhang San", "institutions": []},
    ])
    normalizer = _normalizer()
    first, last = normalizer.row(work)["authorships"]
    assert first == {"author_id": "A1", "name": "Li Wei", "orcid": "0000-0001-5109-3700", "position": "first",
                     "is_corresponding": True, "institution_ids": ["I777", "I778"],
                     "lineage_ids": ["I777", "I19820366", "I778"], "institution_names": [None, None],
                     "is_beijing": False}
    assert last == {"author_id": None, "name": "Zhang San", "orcid": None, "position": "last",
                    "is_corresponding": None, "institution_ids": [], "lineage_ids": [], "institution_names": [],
                    "is_beijing": False}
    assert normalizer.missing["authorships.author.id: absent"] == 1
    assert rows_to_table([normalizer.row(work)])["authorships"].to_pylist()[0] == [first, last]


def test_no_corresponding_flag_means_the_first_author_and_is_counted():
    work = _work()
    for authorship in work["authorships"]:
        authorship["is_corresponding"] = False
    normalizer = _normalizer()
    assert normalizer.row(work)["beijing_corresponding"] is True
    assert normalizer.missing["is_corresponding: none flagged, first author used"] == 1


def test_lineage_alone_does_not_make_a_beijing_work():
    shanghai_institute = {"id": "https://openalex.org/I777", "lineage": ["https://openalex.org/I777", CAS]}
    work = _work(authorships=[{"author_position": "first", "institutions": [shanghai_institute], "is_corresponding": True}])
    row = _normalizer().row(work)
    assert (row["beijing_any"], row["beijing_institution_ids"]) == (False, [])
    assert not passes_harvest_rules(work, set(RAG_SAMPLE_BEIJING_IDS), 2021, 2025)


def test_broken_fields_become_none_and_are_counted():
    normalizer = _normalizer()
    row = normalizer.row(
        _work(publication_date="2023-13-45", doi=None, primary_location=None, primary_topic=None,
              authorships=None, fwci="n/a", abstract_inverted_index=None)
    )
    assert row["publication_date"] is None and row["doi"] is None and row["source_id"] is None
    assert row["authors_count"] == 0 and row["issns"] == []
    assert rows_to_table([row]).num_rows == 1
    assert {
        "publication_date: unparseable", "doi: absent", "primary_location.source: absent", "primary_topic: absent",
        "authorships: absent", "fwci: absent", "abstract: absent",
    } <= set(normalizer.missing)
    assert normalizer.row({})["work_id"] is None


@pytest.mark.parametrize(
    ("changes", "kept"),
    [
        ({}, True),
        ({"publication_year": 2020}, False),
        ({"publication_year": 2026}, False),
        ({"type": "preprint"}, False),
        ({"type": "review"}, True),
        ({"is_retracted": True}, False),
        ({"is_paratext": True}, False),
        ({"primary_location": {"source": {"type": "repository", "issn_l": "1674-1056"}}}, False),
        ({"primary_location": {"source": {"type": "journal", "issn_l": None, "issn": None}}}, False),
        ({"primary_location": {"source": {"type": "journal", "issn_l": None, "issn": ["1674-1056"]}}}, True),
        ({"primary_location": None}, False),
        ({"authorships": []}, False),
    ],
)
def test_harvest_rules(changes, kept):
    assert passes_harvest_rules(_work(**changes), {"I99065089"}, 2021, 2025) is kept


def test_rebuild_abstract_and_no_mutation():
    assert rebuild_abstract(None) is None
    assert rebuild_abstract({}) is None
    work = _work()
    before = copy.deepcopy(work)
    _normalizer().row(work)
    assert work == before


def test_table_counts_sort_values_and_put_missing_ones_last():
    rows = [_normalizer().row(_work(id=f"https://openalex.org/W{i}", publication_year=year)) for i, year in
            enumerate([2024, 2021, 2024, None])]
    rows[0]["discipline"] = None
    counts = table_counts(rows_to_table(rows))
    assert counts["by_year"] == {"2021": 1, "2024": 2, "null": 1}
    assert counts["by_discipline"] == {"mathematics": 3, "null": 1}
    assert list(counts) == list(COUNTED_COLUMNS)


def test_v3_columns_of_the_full_schema_records(real_works):
    works = real_works["openalexpro"]
    rows = [_normalizer().row(work) for work in works]
    table = rows_to_table(rows)
    assert table.schema == WORKS_SCHEMA
    # PROVENANCE.md: 308 records carry a citation_normalized_percentile; its flags as given
    assert [row["world_top_1pct"] for row in rows].count(True) == 30
    assert [row["world_top_10pct"] for row in rows].count(True) == 110
    assert table["world_top_1pct"].null_count == table["world_top_10pct"].null_count == 30
    for work, row in zip(works, rows):
        percentile = work.get("citation_normalized_percentile") or {}
        assert row["world_top_1pct"] is percentile.get("is_in_top_1_percent")
        primary = work.get("primary_topic")
        if primary:
            assert row["topic_ids"][0] == row["topic_id"] == primary["id"].rsplit("/", 1)[1]
            assert row["topic_ids"] == [t["id"].rsplit("/", 1)[1] for t in work["topics"]]  # primary is listed first
            assert row["topic_names"] == [t["display_name"] for t in work["topics"]]
            assert row["field_id"] == int(primary["field"]["id"].rsplit("/", 1)[1]) == row["subfield_id"] // 100
        else:
            assert (row["topic_ids"], row["field_id"]) == ([], None)
        assert row["keywords"] == [k["display_name"] for k in work["keywords"]]
        assert row["funders"] == [f["display_name"] for f in work.get("funders") or ()]
        best = work.get("best_oa_location") or {}
        assert row["oa_url"] == (best.get("pdf_url") or best.get("landing_page_url") or work["open_access"]["oa_url"])
        assert row["record_sources"] == ["openalex"]
    assert sum(bool(row["funders"]) for row in rows) == 32
    assert sum(row["oa_url"] is not None for row in rows) == 115
    assert table["beijing_author_share"].null_count == 11  # the 11 records without authorships


def test_funders_of_an_older_record_come_from_its_grants(real_works):
    work = next(w for w in real_works["openalexpro"] if w["id"].endswith("W3046863325"))
    older = {key: value for key, value in work.items() if key not in ("funders", "awards")}
    assert _normalizer().row(older)["funders"] == [
        "Japan Society for the Promotion of Science", "Japan Science and Technology Agency"
    ]
    normalizer = _normalizer()
    assert normalizer.row(_work())["funders"] == [] and normalizer.missing["funders: absent"] == 1


def test_topics_put_the_primary_first_and_fall_back_to_it_alone():
    primary = {"id": "https://openalex.org/T2", "display_name": "Two", "score": 0.9,
               "subfield": {"id": "https://openalex.org/subfields/2604"}}
    others = [{"id": "https://openalex.org/T1", "display_name": "One", "score": 0.95}, primary]
    row = _normalizer().row(_work(primary_topic=primary, topics=others))
    assert (row["topic_ids"], row["topic_names"], row["topic_scores"]) == (["T2", "T1"], ["Two", "One"], [0.9, 0.95])
    assert row["field_id"] == 26  # no field given: the subfield's hundreds
    normalizer = _normalizer()
    alone = normalizer.row(_work(primary_topic=primary))
    assert (alone["topic_ids"], alone["topic_scores"]) == (["T2"], [0.9])
    assert normalizer.missing["topics: absent"] == 1


def test_oa_url_world_flags_and_share_fall_back_as_documented():
    row = _normalizer().row(_work(
        best_oa_location={"landing_page_url": "https://repo.example/1", "pdf_url": None},
        open_access={"oa_url": "https://other.example/1"},
        citation_normalized_percentile={"value": 0.95, "is_in_top_10_percent": True},
    ))
    assert row["oa_url"] == "https://repo.example/1"
    assert (row["world_top_1pct"], row["world_top_10pct"]) == (None, True)
    assert row["beijing_author_share"] == 0.5
    assert _normalizer().row(_work(open_access={"is_oa": True, "oa_url": "https://x.example/p.pdf"}))["oa_url"] == (
        "https://x.example/p.pdf"
    )
    assert _normalizer().row(_work(authorships=[]))["beijing_author_share"] is None


def test_record_source_is_a_setting_and_checked():
    normalizer = WorkNormalizer(RAG_SAMPLE_BEIJING_IDS, JournalGroupResolver(load_overrides(), {}), load_disciplines(),
                                record_source="snapshot")
    assert normalizer.row(_work())["record_sources"] == ["snapshot"]
    with pytest.raises(SelectionError, match="record source 'harvest' is not one of openalex, snapshot"):
        WorkNormalizer([], JournalGroupResolver({}, {}), load_disciplines(), record_source="harvest")
