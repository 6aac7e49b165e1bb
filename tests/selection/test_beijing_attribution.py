"""Who counts as a Beijing scholar: the place rules of affiliation strings, the umbrella list,
and the per-authorship attribution on real OpenAlex records."""

from __future__ import annotations

import copy
import gzip
import json

import pytest

from selection.beijing_places import affiliation_parts, places_beijing
from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.harvest.normalize import WorkNormalizer, passes_harvest_rules, rows_to_table
from selection.institutions import load_umbrella_institutions
from selection.journal_groups import JournalGroupResolver, load_overrides
from selection.schema import WORKS_SCHEMA

CAS = "I19820366"
UCAS = "I4210165038"
TSINGHUA = "I99065089"
FUDAN = "I24943067"
# The Beijing institutions PROVENANCE.md lists for works/rag_sample_works.jsonl.gz.
RAG_SAMPLE_BEIJING_IDS = (
    "I99065089 I19820366 I82880672 I4210100255 I4210090176 I20231570 I96852419 I4210165038 "
    "I78988378 I4210117825 I37796252"
).split()


def _normalizer(umbrella_institutions=None) -> WorkNormalizer:
    return WorkNormalizer(RAG_SAMPLE_BEIJING_IDS, JournalGroupResolver(load_overrides(), {}), load_disciplines(),
                          umbrella_institutions=umbrella_institutions)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Department of Physics, Tsinghua University, Beijing 100084, China", True),
        ("Institute of Physics, Chinese Academy of Sciences, Beijing, P.R. China", True),
        ("School of Medicine, Tsinghua University, Haidian District", True),  # a Beijing district
        ("Huairou National Comprehensive Science Center", True),
        ("State Key Laboratory of Catalysis, 100190, China", True),  # a Beijing postcode
        ("Institute of Automation, Chinese Academy of Sciences", True),  # a Beijing CAS institute by name
        ("Institute of Physics, CAS", True),
        ("Beijing National Laboratory for Molecular Sciences", True),  # "Beijing" in a name, nothing against it
        ("中国科学院物理研究所", True),
        ("北京市海淀区清华大学", True),
        ("Tsinghua Shenzhen International Graduate School, Tsinghua University, Shenzhen 518055, China", False),
        ("Beijing Normal University, Zhuhai 519087, China", False),  # a campus outside Beijing
        ("Beijing Jiaotong University, Weihai Campus, Weihai 264401, China", False),
        ("Northeastern University at Qinhuangdao", False),
        ("Peking University Shenzhen Graduate School", False),
        ("Shenyang Institute of Automation, Chinese Academy of Sciences", False),  # not the Beijing institute
        ("Shanghai Institute of Ceramics, Chinese Academy of Sciences", False),
        ("Dalian Institute of Chemical Physics, CAS, Dalian 116023", False),
        ("Suzhou Institute of Nano-Tech and Nano-Bionics, Chinese Academy of Sciences", False),
        ("The Chinese University of Hong Kong", False),
        ("Xi'an Jiaotong University", False),
        ("北京大学深圳研究生院", False),
        ("中国科学院大连化学物理研究所", False),
        ("Department of Chemistry, Stanford University, Stanford, CA 94305, USA", False),  # abroad
        ("Moscow 101000, Russia", False),  # a Moscow postcode is not a Beijing one
        ("Chinese Academy of Sciences", None),  # says nothing of the place
        ("China-Japan Friendship Hospital", None),  # "Japan" inside a name is no country
        ("Capital Normal University", None),
        ("Institute of Physics", None),  # no academy named: any Institute of Physics
        ("", None),
        (None, None),
    ],
)
def test_places_beijing(text, expected):
    assert places_beijing(text) is expected


def test_several_affiliations_in_one_string():
    assert affiliation_parts("A, Shanghai\nB, Beijing; C#TAB#") == ("A, Shanghai", "B, Beijing", "C")
    assert places_beijing("Fudan University, Shanghai; Tsinghua University, Beijing") is True  # one is in Beijing
    assert places_beijing("Fudan University, Shanghai; Chinese Academy of Sciences") is False
    assert places_beijing("Tsinghua University, Beijing, China and Stanford University, Stanford, USA") is True


def test_the_packaged_umbrella_list_holds_the_academies_and_only_verified_ids(shared_data):
    umbrellas = load_umbrella_institutions()
    assert {CAS, UCAS, "I200296433", "I1327237609"} <= set(umbrellas)
    assert umbrellas[CAS].display_name == "Chinese Academy of Sciences"
    assert all("verified in" in entry.note for entry in umbrellas.values())
    # every id is in the shared OpenAlex records under the name listed
    found = {}

    def collect(value):
        if isinstance(value, dict):
            if isinstance(value.get("id"), str) and value.get("display_name"):
                found.setdefault(value["id"].rsplit("/", 1)[-1], set()).add(value["display_name"])
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for path in sorted((shared_data / "openalex").glob("*/*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                collect(json.loads(line))
    for institution_id, entry in umbrellas.items():
        assert entry.display_name in found.get(institution_id, set()), institution_id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("institution_id,display_name\nI1,x\n", "missing column"),
        ("institution_id,display_name,note\nCAS,x,\n", "is not a short OpenAlex id"),
        ("institution_id,display_name,note\nI1,x,\nI1,y,\n", "I1 is listed twice"),
    ],
)
def test_a_bad_umbrella_list_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "umbrellas.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SelectionError, match=message):
        load_umbrella_institutions(path)
    path.write_text("institution_id,display_name,note\n", encoding="utf-8")
    assert load_umbrella_institutions(path) == {}


@pytest.fixture(scope="module")
def rag_works(shared_data) -> dict[str, dict]:
    with gzip.open(shared_data / "openalex" / "works" / "rag_sample_works.jsonl.gz", "rt", encoding="utf-8") as handle:
        works = [json.loads(line) for line in handle]
    return {work["id"].rsplit("/", 1)[1]: work for work in works}


def _with_strings(authorship: dict, *strings: str) -> dict:
    """A copy of a real authorship whose affiliation strings are replaced."""
    edited = copy.deepcopy(authorship)
    edited["raw_affiliation_strings"] = list(strings)
    ids = [institution["id"] for institution in edited["institutions"]]
    edited["affiliations"] = [{"raw_affiliation_string": text, "institution_ids": ids} for text in strings]
    return edited


def test_a_real_cas_headquarters_authorship_in_beijing_makes_a_beijing_scholar(rag_works):
    # W3088107006: three authors with only the CAS headquarters id and the string
    # "Institute of Automation, Chinese Academy of Sciences" (that institute is in Beijing)
    work = rag_works["W3088107006"]
    assert {i["id"].rsplit("/", 1)[1] for a in work["authorships"] for i in a["institutions"]} == {CAS}
    row = _normalizer().row(work)
    assert [a["is_beijing"] for a in row["authorships"]] == [True, True, True]
    assert (row["beijing_any"], row["beijing_first"], row["beijing_corresponding"]) == (True, True, True)
    assert (row["beijing_institution_ids"], row["beijing_author_share"]) == ([CAS], 1.0)
    # W4393147129: CAS and UCAS ids, strings "..., Chinese Academy of Sciences, Beijing, China"
    row = _normalizer().row(rag_works["W4393147129"])
    assert all(a["is_beijing"] for a in row["authorships"]) and row["beijing_institution_ids"] == [CAS, UCAS]


def test_a_cas_headquarters_authorship_outside_beijing_makes_no_beijing_scholar(rag_works):
    # The real records hold no CAS-headquarters authorship whose string names an institute
    # outside Beijing, so W3088107006's string is edited: "Institute of Automation" becomes
    # the Shenyang Institute of Automation of CAS, with its address.
    work = copy.deepcopy(rag_works["W3088107006"])
    outside = "Shenyang Institute of Automation, Chinese Academy of Sciences, Shenyang 110016, China"
    work["authorships"] = [_with_strings(a, outside) for a in work["authorships"]]
    normalizer = _normalizer()
    row = normalizer.row(work)
    assert [a["is_beijing"] for a in row["authorships"]] == [False, False, False]
    assert (row["beijing_any"], row["beijing_first"], row["beijing_corresponding"]) == (False, False, False)
    assert (row["beijing_institution_ids"], row["beijing_author_share"]) == ([], 0.0)
    assert normalizer.attribution.decisions == {"umbrella id, strings elsewhere": 3}
    # a work whose only author is that Beijing-looking one
    alone = copy.deepcopy(work)
    alone["authorships"] = alone["authorships"][:1]
    row = _normalizer().row(alone)
    assert (row["beijing_any"], row["authorships"][0]["is_beijing"], row["beijing_author_share"]) == (False, False, 0.0)
    # the harvest still keeps it (broad rules); the ranking's author rule drops it
    assert passes_harvest_rules(alone, set(RAG_SAMPLE_BEIJING_IDS), 2000, 2030) is True
    # a listed id that is no umbrella does not count there either
    assert _normalizer(umbrella_institutions={}).row(alone)["beijing_any"] is False


def test_a_bare_cas_string_places_nobody(rag_works):
    # W2265846598 (real): four authors with the CAS id and the string "Chinese Academy of Sciences"
    row = _normalizer().row(rag_works["W2265846598"])
    assert row["beijing_any"] is False and not any(a["is_beijing"] for a in row["authorships"])
    assert row["authorships"][0]["institution_names"] == ["Chinese Academy of Sciences"]
    # it is the umbrella rule that decides: were CAS no umbrella, its id alone would count
    assert _normalizer(umbrella_institutions={}).row(rag_works["W2265846598"])["beijing_any"] is True


def test_a_listed_university_at_its_campus_outside_beijing_does_not_count(rag_works):
    # W3212386989 (real) has a Tsinghua first author; its string is edited to the Shenzhen campus
    work = copy.deepcopy(rag_works["W3212386989"])
    first = next(a for a in work["authorships"] if a["author_position"] == "first")
    assert [i["id"].rsplit("/", 1)[1] for i in first["institutions"]] == [TSINGHUA]
    shenzhen = "Tsinghua Shenzhen International Graduate School, Tsinghua University, Shenzhen 518055, China"
    beijing = "Department of Automation, Tsinghua University, Beijing 100084, China"
    for strings, counts in [((shenzhen,), False), ((beijing,), True), ((shenzhen, beijing), True), ((), True),
                            (("Department of Chemistry, Stanford University, Stanford, CA 94305, USA",), False)]:
        work["authorships"] = [_with_strings(first, *strings)]
        row = _normalizer().row(work)
        assert (row["beijing_first"], row["authorships"][0]["is_beijing"]) == (counts, counts), strings


def _authorship(institutions, strings, affiliations=None, position="first"):
    return {
        "author_position": position,
        "institutions": [{"id": f"https://openalex.org/{i}", "display_name": name} for i, name in institutions],
        "raw_affiliation_strings": strings,
        "affiliations": affiliations or [],
        "is_corresponding": True,
    }


def _row(*authorships):
    work = {"id": "https://openalex.org/W1", "authorships": list(authorships)}
    return _normalizer().row(work)


def test_an_institution_is_judged_by_the_affiliation_that_names_it():
    # no links: Tsinghua's own affiliation says nothing of the place, Fudan's says Shanghai
    row = _row(_authorship([(TSINGHUA, "Tsinghua University"), (FUDAN, "Fudan University")],
                           ["Tsinghua University", "Fudan University, Shanghai 200433, China"]))
    assert row["beijing_institution_ids"] == [TSINGHUA]
    # CAS named inside "University of Chinese Academy of Sciences" is not CAS named
    both = "Shanghai Institute of Ceramics, Chinese Academy of Sciences, Shanghai 200050, China; " \
           "University of Chinese Academy of Sciences, Beijing 100049, China"
    row = _row(_authorship([(CAS, "Chinese Academy of Sciences"), (UCAS, "University of Chinese Academy of Sciences")],
                           [both]))
    assert row["beijing_institution_ids"] == [UCAS] and row["beijing_any"] is True
    # OpenAlex's links between strings and ids come first
    linked = [
        {"raw_affiliation_string": "Key Laboratory, CAS, Shanghai 200031", "institution_ids": [f"https://openalex.org/{CAS}"]},
        {"raw_affiliation_string": "UCAS, Beijing 100049", "institution_ids": [f"https://openalex.org/{UCAS}"]},
    ]
    row = _row(_authorship([(CAS, "Chinese Academy of Sciences"), (UCAS, "University of Chinese Academy of Sciences")],
                           [], linked))
    assert row["beijing_institution_ids"] == [UCAS]


def test_first_and_corresponding_follow_the_attribution():
    outside_first = _authorship([(CAS, "Chinese Academy of Sciences")], ["Chinese Academy of Sciences, Hefei"])
    outside_first["is_corresponding"] = False
    beijing_last = _authorship([(CAS, "Chinese Academy of Sciences")], ["Institute of Physics, CAS, Beijing"],
                               position="last")
    row = _row(outside_first, beijing_last)
    assert (row["beijing_any"], row["beijing_first"], row["beijing_corresponding"]) == (True, False, True)
    assert [a["is_beijing"] for a in row["authorships"]] == [False, True]
    assert row["beijing_author_share"] == 0.5
    # none flagged corresponding: the first author stands in, and it is outside Beijing
    beijing_last["is_corresponding"] = False
    normalizer = _normalizer()
    row = normalizer.row({"id": "W2", "authorships": [outside_first, beijing_last]})
    assert (row["beijing_first"], row["beijing_corresponding"]) == (False, False)
    assert normalizer.missing["is_corresponding: none flagged, first author used"] == 1
    assert rows_to_table([row]).schema == WORKS_SCHEMA
