"""The discipline mapping: the packaged file against the real OpenAlex taxonomy, and bad files."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from selection.disciplines import DEFAULT_DISCIPLINES_PATH, load_disciplines
from selection.errors import SelectionError

SPEC_KEYS = [
    "mathematics", "physics", "astronomy", "chemistry", "earth_sciences", "basic_biology",
    "basic_medicine", "materials_science", "energy_science", "information_science",
    "chemical_engineering", "agricultural_science", "resources_environment",
    "engineering_mechanics", "biotechnology", "clinical_medicine",
]

# Subfields of the Physical, Life and Health Sciences domains that no discipline claims,
# judged and accepted: the engineering subfields SPEC section 4 leaves out.
EXPECTED_UNMAPPED_SCIENCE_SUBFIELDS = [2200, 2203, 2205, 2209, 2212, 2213, 2214, 2215, 2216]


def _short_id(openalex_id: str) -> int:
    return int(openalex_id.rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def taxonomy(shared_data):
    topics = shared_data / "openalex" / "topics"
    subfields = json.loads((topics / "subfields.json").read_text(encoding="utf-8"))
    fields = json.loads((topics / "fields.json").read_text(encoding="utf-8"))
    return {
        "subfields": {_short_id(s["id"]): s for s in subfields},
        "fields": {_short_id(f["id"]) for f in fields},
    }


def test_packaged_file_has_the_sixteen_spec_disciplines():
    disciplines = load_disciplines()
    assert disciplines.keys() == SPEC_KEYS
    assert disciplines.get("mathematics").name_zh == "数学"
    assert disciplines.get("clinical_medicine").branch == "applied_basic"
    assert disciplines.get("basic_medicine").branch == "basic"


def test_for_subfield_lookup():
    disciplines = load_disciplines()
    assert disciplines.for_subfield(2604) == "mathematics"
    assert disciplines.for_subfield(3103) == "astronomy"
    assert disciplines.for_subfield(2702) == "basic_medicine"
    assert disciplines.for_subfield(2730) == "clinical_medicine"
    assert disciplines.for_subfield(2808) == "clinical_medicine"
    assert disciplines.for_subfield(2205) is None
    assert disciplines.for_subfield(3312) is None
    assert disciplines.for_subfield(None) is None


def test_every_id_in_the_file_exists_in_the_taxonomy(taxonomy):
    document = tomllib.loads(DEFAULT_DISCIPLINES_PATH.read_text(encoding="utf-8"))
    for key, table in document.items():
        assert set(table.get("fields", [])) <= taxonomy["fields"], key
        listed = set(table.get("subfields", [])) | set(table.get("exclude_subfields", []))
        assert listed <= set(taxonomy["subfields"]), key


def test_subfield_id_is_field_times_hundred_plus_n(taxonomy):
    for subfield_id, record in taxonomy["subfields"].items():
        assert subfield_id // 100 == _short_id(record["field"]["id"])


def test_no_real_subfield_in_two_disciplines(taxonomy):
    disciplines = load_disciplines()
    for subfield_id in taxonomy["subfields"]:
        owners = [d.key for d in disciplines if subfield_id in d.subfield_ids]
        assert len(owners) <= 1, (subfield_id, owners)


def test_unmapped_science_subfields_are_the_expected_ones(taxonomy):
    disciplines = load_disciplines()
    unmapped = sorted(
        subfield_id
        for subfield_id, record in taxonomy["subfields"].items()
        if record["domain"]["display_name"] in {"Physical Sciences", "Life Sciences", "Health Sciences"}
        and disciplines.for_subfield(subfield_id) is None
    )
    print("unmapped science subfields:", [(s, taxonomy["subfields"][s]["display_name"]) for s in unmapped])
    assert unmapped == EXPECTED_UNMAPPED_SCIENCE_SUBFIELDS


GOOD_TABLE = 'name_zh = "数学"\nname_en = "Mathematics"\nbranch = "basic"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"[maths]\n{GOOD_TABLE}fields = [26]\nsubfeilds = [2604]\n", "unknown entry subfeilds"),
        (f"[maths]\n{GOOD_TABLE}subfields = ['2604']\n", "use integer OpenAlex ids"),
        (f"[maths]\n{GOOD_TABLE}subfields = [26.04]\n", "use integer OpenAlex ids"),
        (f"[maths]\n{GOOD_TABLE}fields = [26]\n[stats]\n{GOOD_TABLE}subfields = [2613]\n",
         "subfield 2613 is in both [maths] and [stats]"),
        (f"[maths]\n{GOOD_TABLE}fields = [26]\nexclude_subfields = [1702]\n", "are not in its fields"),
        (f"[maths]\n{GOOD_TABLE}", "list at least one of fields or subfields"),
        ("[maths]\nname_zh = '数学'\nname_en = 'Maths'\nbranch = 'pure'\nfields = [26]\n", "branch must be one of"),
        ("[Maths]\n" + GOOD_TABLE + "fields = [26]\n", "snake_case"),
        ("[maths\n", "not valid TOML"),
        ("", "defines no discipline"),
    ],
)
def test_bad_files_are_rejected_with_the_fix(tmp_path, text, message):
    path = tmp_path / "disciplines.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SelectionError, match=re.escape(message)):
        load_disciplines(path)


def test_missing_file_and_unknown_key_are_selection_errors(tmp_path):
    with pytest.raises(SelectionError, match="not found"):
        load_disciplines(tmp_path / "absent.toml")
    with pytest.raises(SelectionError, match="known disciplines: mathematics"):
        load_disciplines().get("alchemy")
