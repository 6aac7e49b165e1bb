"""The synthetic generator: determinism, OpenAlex shape, consistency, traps."""

from __future__ import annotations

import json

import pytest

from selection.synthetic import FIELDS, TRAP_KINDS, generate_world


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
