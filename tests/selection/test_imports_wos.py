"""import-wos on the real Web of Science records of the shared data: the mapping to works
rows, wosfile's reading of both export formats, the merge by DOI and the refusals."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from selection.cli import main
from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.imports.merge import merge_into_works, rows_table
from selection.imports.wos import (
    address_country,
    journal_group,
    load_wos_categories,
    publication_date,
    read_wos_files,
    work_type,
    wos_record_to_work,
)
from selection.schema import WORKS_COLUMNS, WORKS_SCHEMA, schema_version
from tests.conftest import shared_data_dir
from tests.selection.imports_helpers import (
    HIGHLY_CITED_IN_DATA,
    harvest_rows,
    load_wos_records,
    plain_text_export,
    tab_delimited_export,
    write_works,
)

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return load_wos_records()


@pytest.fixture(scope="module")
def disciplines():
    return load_disciplines()


def _highly_cited(records):
    return [r for r in records if r.get("HC") == "Y"]


def _sample(records, size=120):
    """Every highly cited record plus the first others, in file order."""
    chosen = {r["UT"] for r in _highly_cited(records)} | {r["UT"] for r in records[:size]}
    return [r for r in records if r["UT"] in chosen]


def _without_source(row):
    return {k: v for k, v in row.items() if k != "record_sources"}


def test_a_record_maps_to_exactly_the_works_columns(records, disciplines):
    row = wos_record_to_work(records[0], disciplines, "wos:sample.txt")
    assert tuple(row) == WORKS_COLUMNS
    assert row["work_id"] == "WOS:000460411100001"
    assert row["doi"] == "10.1038/s41467-019-09042-y"
    assert row["type"] == "article" and row["publication_year"] == 2019
    assert row["publication_date"] == dt.date(2019, 3, 6)
    assert row["issn_l"] == "2041-1723" and row["journal_group"] == "international"
    assert row["cited_by_count"] == row["wos_times_cited"] == 67
    assert row["esi_highly_cited"] is None  # this export has no HC tag
    assert row["countries"] == ["CN", "JP", "US"]  # Berkeley, Beijing and Tohoku Univ addresses
    assert row["record_sources"] == ["wos:sample.txt"]
    assert row["topic_ids"] == [] and row["topic_id"] is None
    rows_table([row])  # the values fit the schema's types


def test_authorships_follow_af_c1_and_rp(records, disciplines):
    record = next(r for r in records if r["UT"] == "WOS:000460411100001")
    row = wos_record_to_work(record, disciplines, "wos:x")
    names = [a["name"] for a in row["authorships"]]
    assert names == record["AF"]
    assert [a["position"] for a in row["authorships"]] == ["first"] + ["middle"] * 4 + ["last"]
    corresponding = [a["name"] for a in row["authorships"] if a["is_corresponding"]]
    assert corresponding == ["Helms, Brett A."]  # RP: "Helms, BA (corresponding author)"
    beijing = [a["name"] for a in row["authorships"] if a["is_beijing"]]
    assert beijing and all(any("Beijing" in n for n in a["institution_names"])
                           for a in row["authorships"] if a["is_beijing"])
    assert row["beijing_any"] and not row["beijing_first"] and not row["beijing_corresponding"]
    assert row["beijing_author_share"] == pytest.approx(len(beijing) / len(names))


def test_a_zhuhai_campus_of_a_beijing_university_is_not_beijing(records, disciplines):
    record = next(r for r in records if all("Zhuhai" in a for a in r["C1"] + [r.get("RP") or ""] if "Beijing" in a))
    row = wos_record_to_work(record, disciplines, "wos:x")
    assert not row["beijing_any"] and not any(a["is_beijing"] for a in row["authorships"])


def test_chinese_interface_rp_marks_the_corresponding_author(records, disciplines):
    record = next(r for r in records if "(通讯作者)" in (r.get("RP") or "") and "Beijing 100081" in r["RP"])
    row = wos_record_to_work(record, disciplines, "wos:x")
    assert row["beijing_corresponding"]
    assert any(a["is_corresponding"] and a["is_beijing"] for a in row["authorships"])


def test_type_date_country_and_group_rules():
    assert work_type("Article; Early Access", True) == "article"
    assert work_type("Review; Early Access", True) == "review"
    assert work_type("Proceedings Paper", True) == "proceedings paper"
    assert work_type("Article; Proceedings Paper", True) == "article"
    assert work_type("Editorial Material", True) == "editorial material"
    assert work_type(None, True) == "article" and work_type(None, False) is None
    assert publication_date(2024, "2024 JUN 14") == dt.date(2024, 6, 14)
    assert publication_date(2019, "OCT 1 2019") == dt.date(2019, 10, 1)
    assert publication_date(2020, "MAR-APR") == dt.date(2020, 3, 1)
    assert publication_date(2020, "SPR") is None and publication_date(2020, "FEB 30") is None
    assert address_country("Berkeley, CA 94720 USA.") == "US"
    assert address_country("Univ Oxford, Oxford OX1 3PU, England.") == "GB"
    assert address_country("Tsinghua Univ, Beijing 100084, Peoples R China.") == "CN"
    assert address_country("Univ Hong Kong, Pokfulam, Hong Kong, Peoples R China.") == "HK"
    assert journal_group(["0000-0000"], "BEIJING, PEOPLES R CHINA", "BEIJING", {}) == ("domestic", "source_country")
    assert journal_group([], "SHATIN, HONG KONG, PEOPLES R CHINA", "SHATIN", {}) == ("international", "source_country")
    assert journal_group(["1000-9000"], "NEW YORK, NY", "NEW YORK", {"1000-9000": "11-2296/TP"}) == (
        "domestic", "override")
    assert journal_group([], None, None, {}) == ("international", "default")


def test_every_category_of_the_data_is_mapped_to_a_known_subfield(records):
    categories = load_wos_categories()
    in_data = {c.strip().lower() for r in records for c in (r.get("WC") or "").split(";") if c.strip()}
    assert len(in_data) == 161
    assert in_data <= set(categories), sorted(in_data - set(categories))
    assert len(categories) >= 250
    subfields_file = shared_data_dir() / "openalex" / "topics" / "subfields.json"
    openalex = {int(s["id"].rsplit("/", 1)[1]) for s in json.loads(subfields_file.read_text(encoding="utf-8"))}
    # ASJC codes OpenAlex does not use: a field's general code (F00) and 1909 Geotechnical Engineering
    outside = {subfield for subfield in categories.values() if subfield not in openalex}
    assert all(subfield % 100 == 0 or subfield == 1909 for subfield in outside), sorted(outside)


def test_plain_text_and_tab_exports_read_with_wosfile_give_the_json_rows(records, disciplines, tmp_path):
    sample = _sample(records, 60)
    plain = tmp_path / "savedrecs.txt"
    plain.write_text(plain_text_export(sample), encoding="utf-8")
    tab = tmp_path / "savedrecs_tab.txt"
    tab.write_text(tab_delimited_export(sample), encoding="utf-8")
    (plain_label, from_plain), (tab_label, from_tab) = read_wos_files([plain, tab])
    assert (plain_label, tab_label) == ("savedrecs.txt", "savedrecs_tab.txt")
    assert len(from_plain) == len(from_tab) == len(sample)
    for original, parsed_plain, parsed_tab in zip(sample, from_plain, from_tab):
        expected = _without_source(wos_record_to_work(original, disciplines, "wos:json"))
        assert _without_source(wos_record_to_work(parsed_plain, disciplines, "wos:plain")) == expected
        assert _without_source(wos_record_to_work(parsed_tab, disciplines, "wos:tab")) == expected
    flagged = [r for r in from_plain if r.get("HC") == "Y"]
    assert len(flagged) == HIGHLY_CITED_IN_DATA


def _harvest_and_export(records, tmp_path):
    """A harvest holding most of the sample and an export of the whole sample plus the
    domestic records the harvest lacks."""
    sample = _sample(records)
    domestic_missing = [r for r in records if r["_derived"]["publisher_in_china"] and r["UT"] not in
                        {s["UT"] for s in sample}][:8]
    kept_out = {r["UT"] for r in sample[5:15] if r.get("HC") != "Y"}  # unmatched, international
    harvested = [r for r in sample if r["UT"] not in kept_out]
    rows = harvest_rows(harvested)
    rows[0]["doi"] = rows[0]["doi"].upper()  # DOIs match whatever their case
    twin = dict(rows[1], work_id="W8000000001")  # the harvest holds this DOI twice
    works = write_works(rows + [twin], tmp_path / "works.parquet")
    export = tmp_path / "savedrecs.txt"
    export.write_text(plain_text_export(sample + domestic_missing), encoding="utf-8")
    return works, export, sample, domestic_missing, kept_out, rows


def test_import_wos_merges_by_doi_adds_flags_and_lists_the_unmatched(records, tmp_path, capsys):
    works, export, sample, domestic_missing, kept_out, rows = _harvest_and_export(records, tmp_path)
    assert main(["import-wos", str(export), "--works", str(works)]) == 0
    output = capsys.readouterr().out
    merged = pq.read_table(works)
    assert merged.schema.remove_metadata().equals(WORKS_SCHEMA.remove_metadata())
    assert schema_version(merged.schema, "works") == 3
    by_id = {row["work_id"]: row for row in merged.to_pylist()}

    hc = [row for row in by_id.values() if row["esi_highly_cited"]]
    assert len(hc) == HIGHLY_CITED_IN_DATA
    assert all("wos:savedrecs.txt" in row["record_sources"] and "openalex" in row["record_sources"] for row in hc)
    first, twin = by_id[rows[0]["work_id"]], by_id["W8000000001"]
    assert first["wos_times_cited"] == sample[0]["TC"] and first["keywords"]  # filled where the harvest had none
    assert twin["wos_times_cited"] == by_id[rows[1]["work_id"]]["wos_times_cited"] is not None
    assert sum(bool(row["esi_hot_paper"]) for row in by_id.values()) == 2

    unmatched_path = tmp_path / "works.wos_unmatched.csv"
    with unmatched_path.open(encoding="utf-8-sig") as handle:
        listed = list(csv.DictReader(handle))
    listed_ids = {entry["record_id"] for entry in listed}
    assert kept_out <= listed_ids
    assert {entry["reason"] for entry in listed if entry["record_id"] in kept_out} <= {
        "DOI not in the harvest; not added: international journal", "no DOI; not added: international journal"}
    added = [entry for entry in listed if entry["added"] == "yes"]
    assert {entry["record_id"] for entry in added} <= {r["UT"] for r in domestic_missing}
    assert added and all(entry["record_id"] in by_id for entry in added)
    for entry in added:
        row = by_id[entry["record_id"]]
        assert row["journal_group"] == "domestic" and row["record_sources"] == ["wos:savedrecs.txt"]
    with_doi = [r for r in sample if r["UT"] not in kept_out and r.get("DI")]
    assert f"{len(with_doi)} matched" in output and str(unmatched_path) in output
    without_doi = {r["UT"] for r in sample if not r.get("DI")}
    reasons = {e["reason"] for e in listed if e["record_id"] in without_doi}
    assert reasons == {"no DOI; not added: international journal"}


def test_importing_the_same_export_again_changes_nothing_more(records, tmp_path):
    works, export, *_ = _harvest_and_export(records, tmp_path)
    assert main(["import-wos", str(export), "--works", str(works), "--out", str(tmp_path / "once.parquet")]) == 0
    once = pq.read_table(tmp_path / "once.parquet")
    assert main(["import-wos", str(export), "--works", str(tmp_path / "once.parquet"),
                 "--out", str(tmp_path / "twice.parquet")]) == 0
    twice = pq.read_table(tmp_path / "twice.parquet")
    assert twice.num_rows == once.num_rows  # the added domestic papers now match by DOI or id
    assert twice.to_pylist() == once.to_pylist()


def test_a_record_in_two_files_counts_once(records, disciplines):
    sample = _sample(records, 10)
    works = rows_table(harvest_rows(sample))
    imported = [wos_record_to_work(r, disciplines, f"wos:{name}") for name in ("a.txt", "b.txt") for r in sample]
    merged, report = merge_into_works(works, imported, "wos")
    assert [(f.file, f.read, f.matched, f.duplicates) for f in report.files] == [
        ("a.txt", len(sample), len(sample), 0), ("b.txt", len(sample), 0, len(sample))]
    assert merged.num_rows == works.num_rows
    assert all(sources == ["openalex", "wos:a.txt"] for sources in merged["record_sources"].to_pylist())


def _malformed(kind: str, records, tmp_path: Path) -> Path:
    path = tmp_path / f"{kind}.txt"
    if kind == "truncated":
        text = plain_text_export(records[:3])
        path.write_text(text[: text.rindex("ER")], encoding="utf-8")  # the last record lacks ER and EF
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 8)
    elif kind == "bad_tab_header":
        text = tab_delimited_export(records[:3])
        path.write_text(text.replace("UT\t", "Accession Number\t", 1), encoding="utf-8")
    elif kind == "short_tab_row":
        lines = tab_delimited_export(records[:3]).splitlines()
        lines[2] = "\t".join(lines[2].split("\t")[:5])
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["truncated", "binary", "bad_tab_header", "short_tab_row"])
def test_a_malformed_file_is_one_error_line_and_changes_nothing(records, tmp_path, capsys, kind):
    works = write_works(harvest_rows(records[:20]), tmp_path / "works.parquet")
    before = works.read_bytes()
    good = tmp_path / "good.txt"
    good.write_text(plain_text_export(records[:20]), encoding="utf-8")
    bad = _malformed(kind, records, tmp_path)
    assert main(["import-wos", str(good), str(bad), "--works", str(works)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: ") and str(bad) in error[0]
    assert works.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["works.parquet", "good.txt", bad.name])


def test_the_error_names_the_line_of_a_truncated_record(records, tmp_path):
    bad = _malformed("truncated", records, tmp_path)
    with pytest.raises(SelectionError, match=r"truncated\.txt, line \d+: Encountered EOF before 'EF' marker"):
        read_wos_files([bad])


def test_a_works_file_of_another_schema_is_refused(records, tmp_path, capsys):
    export = tmp_path / "savedrecs.txt"
    export.write_text(plain_text_export(records[:3]), encoding="utf-8")
    works = tmp_path / "works.parquet"
    pq.write_table(rows_table(harvest_rows(records[:3])).drop_columns(["esi_hot_paper"]), works)
    before = works.read_bytes()
    assert main(["import-wos", str(export), "--works", str(works)]) == 2
    assert "renormalise" in capsys.readouterr().err
    assert works.read_bytes() == before
