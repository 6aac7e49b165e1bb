"""Conflicts of interest between experts and candidates: each kind on synthetic frames, old
files without authorships, bad input, and the real records."""

from __future__ import annotations

import csv
import gzip
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selection import cli
from selection.disciplines import load_disciplines
from selection.harvest.normalize import WorkNormalizer, rows_to_table
from selection.journal_groups import JournalGroupResolver, load_overrides
from selection.panel.conflicts import Conflict, find_conflicts
from selection.panel.experts import Expert
from selection.schema import CANDIDATES_SCHEMA, TABLE_KEY, VERSION_KEY, WORKS_SCHEMA

MODULE = "selection.panel.conflicts"


@pytest.fixture
def main(monkeypatch):
    """``selection.cli.main`` with the conflicts command, whether cli.py lists it yet or not."""
    if MODULE not in cli.SUBCOMMAND_MODULES:
        monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", (*cli.SUBCOMMAND_MODULES, MODULE))
    return cli.main


def author(author_id, institutions=(), lineage=None, name=None) -> dict:
    """An ``authorships`` entry; the lineage defaults to the institutions themselves."""
    return {"author_id": author_id, "name": name, "orcid": None, "position": "middle",
            "is_corresponding": False, "institution_ids": list(institutions),
            "lineage_ids": list(institutions if lineage is None else lineage)}


def frame(*works) -> pd.DataFrame:
    """A works or candidates frame of ``(work_id, year, [authors])``."""
    return pd.DataFrame([{"work_id": w, "publication_year": y, "authorships": a} for w, y, a in works])


def expert(expert_id="E1", author_id="A1", institutions=(), declared=()) -> Expert:
    return Expert(expert_id, f"Expert {expert_id}", author_id, tuple(institutions), (), tuple(declared))


def conflicts(candidates, works=(), experts=None, **options) -> list[Conflict]:
    return find_conflicts(candidates, list(works), experts or [expert()], **options)


def test_the_expert_as_an_author_of_the_candidate():
    found = conflicts(frame(("W1", 2024, [author("A9"), author("A1", name="张三")]), ("W2", 2024, [author("A9")])))
    assert found == [Conflict("E1", "W1", "author", "the expert is an author of W1 (2024): 张三 A1")]


def test_an_institution_equal_to_the_experts():
    candidates = frame(("W1", 2024, [author("A9", ["I5", "I7"], name="Li Wei")]), ("W2", 2024, [author("A8", ["I6"])]))
    found = conflicts(candidates, experts=[expert(author_id=None, institutions=["I7"])])
    assert found == [Conflict("E1", "W1", "institution", "Li Wei A9 is at I7, the expert's institution")]


def test_institutions_through_their_lineage_both_ways():
    # I100 holds the institutes I5 and I6 (CAS and two of its institutes, say).
    candidates = frame(
        ("W1", 2024, [author("A9", ["I5"], ["I5", "I100"])]),  # under the expert's I100
        ("W2", 2024, [author("A8", ["I100"])]),  # the whole of which expert E2's I5 is part
        ("W3", 2024, [author("A7", ["I6"], ["I6", "I100"])]),  # a sibling of I5: no conflict for E2
    )
    experts = [expert("E1", None, ["I100"]), expert("E2", None, ["I5"])]
    assert conflicts(candidates, experts=experts) == [
        Conflict("E1", "W1", "institution", "A9 is at I5, part of the expert's institution I100"),
        Conflict("E1", "W2", "institution", "A8 is at I100, the expert's institution"),
        Conflict("E1", "W3", "institution", "A7 is at I6, part of the expert's institution I100"),
        Conflict("E2", "W1", "institution", "A9 is at I5, the expert's institution"),
        Conflict("E2", "W2", "institution", "A8 is at I100, of which the expert's institution I5 is part"),
    ]


def test_the_lineage_of_the_experts_institution_comes_from_any_table_or_is_unknown():
    candidate = frame(("W2", 2024, [author("A8", ["I100"])]))
    expert_at_institute = [expert("E2", None, ["I55"])]
    assert conflicts(candidate, experts=expert_at_institute) == []  # nothing says I55 is part of I100
    works = frame(("W9", 2020, [author("A3", ["I55"], ["I55", "I100"])]))
    assert [c.detail for c in conflicts(candidate, [works], expert_at_institute)] == [
        "A8 is at I100, of which the expert's institution I55 is part"
    ]


def test_an_authorship_with_several_institutions_names_the_one_under_the_experts():
    works = frame(("W9", 2020, [author("A3", ["I5"], ["I5", "I100"])]))
    candidate = frame(("W1", 2024, [author("A9", ["I7", "I5"], ["I7", "I5", "I100"])]))
    found = conflicts(candidate, [works], [expert(author_id=None, institutions=["I100"])])
    assert [c.detail for c in found] == ["A9 is at I5, part of the expert's institution I100"]


def coauthored(year: int, authors=None) -> pd.DataFrame:
    return frame(("W50", year, authors or [author("A1"), author("A2")]))


@pytest.mark.parametrize(("year", "listed"), [(2020, False), (2021, True), (2023, True), (2024, True), (2025, False)])
def test_coauthors_count_within_three_years_before_the_candidate_or_in_its_year(year, listed):
    candidates = frame(("W1", 2024, [author("A2", name="张三"), author("A3")]))
    found = conflicts(candidates, [coauthored(year)])
    assert found == ([Conflict("E1", "W1", "coauthor", f"co-authored W50 ({year}) with 张三 A2")] if listed else [])


def test_the_coauthor_window_is_an_option():
    candidates = frame(("W1", 2024, [author("A2")]))
    assert conflicts(candidates, [coauthored(2020)], coauthor_years=4)
    assert not conflicts(candidates, [coauthored(2023)], coauthor_years=0)
    assert conflicts(candidates, [coauthored(2024)], coauthor_years=0)


def test_works_with_more_than_max_authors_make_no_coauthor_conflict():
    candidates = frame(("W1", 2024, [author("A2")]))
    big = coauthored(2023, [author("A1"), author("A2")] + [author(f"A{1000 + i}") for i in range(98)])  # 100 authors
    assert conflicts(candidates, [big], max_authors=100)
    assert not conflicts(candidates, [big], max_authors=99)


def test_the_candidate_itself_and_the_expert_make_no_coauthor_conflict():
    candidate = ("W1", 2024, [author("A1"), author("A2")])
    found = conflicts(frame(candidate), [frame(candidate)])
    assert [c.kind for c in found] == ["author"]


def test_declared_conflicts():
    candidates = frame(("W1", 2024, [author("A9")]), ("W2", 2024, []))
    found = conflicts(candidates, experts=[expert(declared=["W2", "W404"])])
    assert found == [Conflict("E1", "W2", "declared", "the expert declared a conflict with W2")]


def test_one_row_per_expert_candidate_and_kind_each_reason_once():
    harvest_works = frame(("W50", 2023, [author("A1"), author("A2")]), ("W51", 2022, [author("A1"), author("A3")]))
    expert_works = harvest_works.assign(expert_id="E1")  # the same works from expert-works
    candidates = frame(
        ("W1", 2024, [author("A2", ["I7"]), author("A3", ["I7"]), author("A2", ["I7"])]),  # A2 listed twice
        ("W2", 2024, [author("A1"), author("A1")]),
    )
    experts = [expert(institutions=["I7"], declared=["W1", "W1"])]
    found = conflicts(candidates, [harvest_works, expert_works], experts)
    assert [(c.work_id, c.kind) for c in found] == [
        ("W1", "institution"), ("W1", "coauthor"), ("W1", "declared"), ("W2", "author")
    ]
    assert found[0].detail == "A2 is at I7, the expert's institution; A3 is at I7, the expert's institution"
    assert found[1].detail == "co-authored W50 (2023) with A2; co-authored W51 (2022) with A3"
    assert found[3].detail == "the expert is an author of W2 (2024): A1"


def test_frames_without_authorships_leave_only_the_checks_they_allow():
    candidates = frame(("W1", 2024, [author("A2", ["I7"])]), ("W2", 2024, [])).drop(columns="authorships")
    old_works = coauthored(2023).drop(columns="authorships")
    experts = [expert(institutions=["I7"], declared=["W2"])]
    assert conflicts(candidates, [old_works], experts) == [
        Conflict("E1", "W2", "declared", "the expert declared a conflict with W2")
    ]
    assert conflicts(frame(("W1", 2024, [author("A2")])), [old_works, coauthored(2023)], experts)[0].kind == "coauthor"


def test_missing_years_and_authors_do_not_break_the_checks():
    candidates = frame(("W1", None, [author("A2"), author("A1")]), ("W2", 2024, None),
                       ("W3", 2024, [author(None, ["I7"])]))
    works = frame(("W50", None, [author("A1"), author("A2")]), ("W51", 2023, None), ("W52", 2023, [author("A1")]))
    found = conflicts(candidates, [works], [expert(institutions=["I7"])])
    assert found == [
        Conflict("E1", "W1", "author", "the expert is an author of W1: A1"),
        Conflict("E1", "W3", "institution", "an unnamed author is at I7, the expert's institution"),
    ]


# -- the command on files ---------------------------------------------------------------


def write_experts(path, rows) -> None:
    lines = ["expert_id,name,openalex_author_id,institution_ids,declared_work_ids"] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_candidates(path, rows) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=CANDIDATES_SCHEMA), path)


def write_works(path, rows) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=WORKS_SCHEMA), path)


def version_1(schema: pa.Schema, table: str) -> pa.Schema:
    """A schema as version 1 had it: no authorships (nor score_parts)."""
    kept = pa.schema([f for f in schema if f.name not in ("authorships", "score_parts")])
    return kept.with_metadata({TABLE_KEY: table.encode(), VERSION_KEY: b"1"})


def read_conflicts(path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_command_writes_conflicts_csv(main, tmp_path, capsys):
    write_candidates(tmp_path / "candidates.parquet", [
        {"work_id": "W1", "publication_year": 2024, "authorships": [author("A2", ["I7"], name="张三")]},
    ])
    write_works(tmp_path / "works.parquet", [{"work_id": "W50", "publication_year": 2022,
                                              "authorships": [author("A1"), author("A2", name="张三")]}])
    write_experts(tmp_path / "experts.csv", [("E1", "Expert", "A1", "I7", "W1")])
    out = tmp_path / "panel" / "conflicts.csv"
    code = main(["conflicts", "--works", str(tmp_path / "works.parquet"), "--candidates",
                 str(tmp_path / "candidates.parquet"), "--experts", str(tmp_path / "experts.csv"), "--out", str(out)])
    assert code == 0
    assert out.read_text(encoding="utf-8").splitlines()[0] == "expert_id,work_id,kind,detail"
    assert read_conflicts(out) == [
        {"expert_id": "E1", "work_id": "W1", "kind": "institution", "detail": "张三 A2 is at I7, the expert's institution"},
        {"expert_id": "E1", "work_id": "W1", "kind": "coauthor", "detail": "co-authored W50 (2022) with 张三 A2"},
        {"expert_id": "E1", "work_id": "W1", "kind": "declared", "detail": "the expert declared a conflict with W1"},
    ]
    output = capsys.readouterr()
    assert output.err == ""
    assert output.out.strip() == (f"{out}: 3 conflicts (0 author, 1 institution, 1 coauthor, 1 declared) of 1 experts "
                                  "with 1 candidates; every check made")


def test_old_files_without_authorships_say_which_checks_were_not_made(main, tmp_path, capsys):
    candidates = tmp_path / "candidates_v1.parquet"
    rows = [{"work_id": "W1", "publication_year": 2024}, {"work_id": "W2", "publication_year": 2024}]
    pq.write_table(pa.Table.from_pylist(rows, schema=version_1(CANDIDATES_SCHEMA, "candidates")), candidates)
    old_works = tmp_path / "works_v1.parquet"
    pq.write_table(pa.Table.from_pylist([{"work_id": "W50", "publication_year": 2022}],
                                        schema=version_1(WORKS_SCHEMA, "works")), old_works)
    new_works = tmp_path / "works.parquet"
    write_works(new_works, [{"work_id": "W51", "publication_year": 2022, "authorships": [author("A1")]}])
    write_experts(tmp_path / "experts.csv", [("E1", "Expert", "A1", "I7", "W2"), ("E2", "No id", "", "I8", "")])
    out = tmp_path / "conflicts.csv"
    code = main(["conflicts", "--works", str(old_works), "--works", str(new_works), "--candidates", str(candidates),
                 "--experts", str(tmp_path / "experts.csv"), "--out", str(out)])
    assert code == 0
    assert read_conflicts(out) == [
        {"expert_id": "E1", "work_id": "W2", "kind": "declared", "detail": "the expert declared a conflict with W2"}
    ]
    output = capsys.readouterr()
    warnings = output.err.splitlines()
    assert warnings == [
        f"warning: {candidates} (candidates schema version 1) has no authorships: the author, institution and "
        "co-author checks were not made for its 2 candidates; rank again with this version to make them",
        f"warning: {old_works} (works schema version 1) has no authorships: no co-author check was made with its "
        "works; renormalise the harvest (python -m selection renormalise DIR) or give expert_works.parquet",
        "warning: 1 expert(s) without an OpenAlex author id (E2): the author and co-author checks were not made "
        "for them",
    ]
    assert output.out.strip() == (
        f"{out}: 1 conflicts (0 author, 0 institution, 0 coauthor, 1 declared) of 2 experts with 2 candidates; "
        f"checks not made: author, institution and coauthor for {candidates}; coauthor with {old_works}; "
        "author and coauthor for 1 expert(s) without an author id"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--works": "missing.parquet"}, "missing.parquet: no such file"),
        ({"--candidates": "experts.csv"}, "experts.csv is not a Parquet file"),
        ({"--works": "no_year.parquet"}, "no_year.parquet lacks the column(s) publication_year"),
        ({"--experts": "candidates.parquet"}, "candidates.parquet: not UTF-8 text"),
        ({"--max-authors": "0"}, "--max-authors must be at least 1"),
        ({"--coauthor-years": "-1"}, "--coauthor-years must be 0"),
    ],
)
def test_bad_input_stops_with_one_line_and_writes_nothing(main, tmp_path, capsys, change, message):
    write_candidates(tmp_path / "candidates.parquet", [{"work_id": "W1", "publication_year": 2024}])
    pq.write_table(pa.table({"work_id": ["W50"]}), tmp_path / "no_year.parquet")
    write_works(tmp_path / "works.parquet", [])
    write_experts(tmp_path / "experts.csv", [("E1", "Expert", "A1", "I7", "")])
    options = {"--works": "works.parquet", "--candidates": "candidates.parquet", "--experts": "experts.csv",
               "--max-authors": "100", "--coauthor-years": "3", **change}
    argv = ["conflicts", "--out", str(tmp_path / "conflicts.csv")]
    for name, value in options.items():
        argv += [name, value if value.lstrip("-").isdigit() else str(tmp_path / value)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and len(error.splitlines()) == 1
    assert not (tmp_path / "conflicts.csv").exists()


# -- acceptance on the real records -----------------------------------------------------


@pytest.fixture(scope="module")
def real_rows(shared_data) -> list[dict]:
    """Every real record (deduplicated by id) normalised as the harvest does it."""
    records = {}
    for path in sorted((shared_data / "openalex" / "works").glob("*works.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                work = json.loads(line)
                records.setdefault(work["id"], work)
    normalizer = WorkNormalizer(set(), JournalGroupResolver(load_overrides(), {}), load_disciplines())
    return [normalizer.row(work) for work in records.values()]


def authors_of(rows, work_id) -> dict[str, dict]:
    (row,) = [row for row in rows if row["work_id"] == work_id]
    return {entry["author_id"]: entry for entry in row["authorships"]}


@pytest.mark.shared_data
def test_real_coauthors_and_institutions_of_candidates_are_listed(main, real_rows, tmp_path, capsys):
    """An expert whose OpenAlex author id co-authored a candidate's author within 3 years, or
    who works at (or above) a candidate's institution, is listed in conflicts.csv."""
    # The premises, in the real records: Tao Xiang co-authored W3170841864 (2021) with Xiatian
    # Zhu, an author of the candidate W4376226279 (2023), on which Peng Xu is at Tsinghua;
    # Huan Yang of W3035022492 (2020) is at Microsoft Research Asia, part of Microsoft.
    survey, segmentation, asia = (authors_of(real_rows, w) for w in ("W4376226279", "W3170841864", "W3035022492"))
    assert "A5028643592" in survey and {"A5028643592", "A5014436524"} <= set(segmentation)
    assert "A5014436524" not in survey
    assert survey["A5101929475"]["institution_ids"] == ["I99065089"]
    assert asia["A5101953782"]["institution_ids"] == ["I4210113369"]
    assert "I1290206253" in asia["A5101953782"]["lineage_ids"]
    # A5060938605 co-authored W2462443510 (2016) with A5007426895, an author of W3045921891
    # (2020): four years before, outside the default window.
    assert {"A5060938605", "A5007426895"} <= set(authors_of(real_rows, "W2462443510"))
    assert "A5007426895" in authors_of(real_rows, "W3045921891")

    works = tmp_path / "works.parquet"
    pq.write_table(rows_to_table(real_rows), works)
    candidate_rows = [{name: row[name] for name in ("work_id", "publication_year", "title", "authorships")}
                      for row in real_rows if 2020 <= (row["publication_year"] or 0) <= 2025]
    candidates = tmp_path / "candidates.parquet"
    write_candidates(candidates, candidate_rows)
    write_experts(tmp_path / "experts.csv", [
        ("xiang", "Tao Xiang", "https://openalex.org/A5014436524", "", ""),
        ("tsinghua", "Tsinghua reviewer", "", "I99065089", ""),
        ("microsoft", "Microsoft reviewer", "", "https://openalex.org/I1290206253", ""),
        ("far", "Four years back", "A5060938605", "", ""),
    ])

    def run(*options) -> list[dict]:
        out = tmp_path / "conflicts.csv"
        assert main(["conflicts", "--works", str(works), "--candidates", str(candidates), "--experts",
                     str(tmp_path / "experts.csv"), "--out", str(out), *options]) == 0
        return read_conflicts(out)

    rows = run()
    by_key = {(row["expert_id"], row["work_id"], row["kind"]): row["detail"] for row in rows}
    assert len(by_key) == len(rows)
    assert "co-authored W3170841864 (2021) with Xiatian Zhu A5028643592" in by_key[("xiang", "W4376226279", "coauthor")]
    assert by_key[("xiang", "W3170841864", "author")] == "the expert is an author of W3170841864 (2021): Tao Xiang A5014436524"
    assert "Peng Xu A5101929475 is at I99065089, the expert's institution" in by_key[
        ("tsinghua", "W4376226279", "institution")]
    assert "Huan Yang A5101953782 is at I4210113369, part of the expert's institution I1290206253" in by_key[
        ("microsoft", "W3035022492", "institution")]
    assert ("far", "W3045921891", "coauthor") not in by_key
    assert {row["kind"] for row in rows if row["expert_id"] in ("tsinghua", "microsoft")} == {"institution"}
    summary = capsys.readouterr()
    assert "2 expert(s) without an OpenAlex author id (tsinghua, microsoft)" in summary.err

    wider = {(row["expert_id"], row["work_id"], row["kind"]): row["detail"] for row in run("--coauthor-years", "4")}
    assert "co-authored W2462443510 (2016) with" in wider[("far", "W3045921891", "coauthor")]


@pytest.mark.shared_data
def test_on_the_real_records_no_conflicted_expert_is_ever_assigned(monkeypatch, real_rows, tmp_path):
    """conflicts then assign, as the README chains them: every pair conflicts.csv lists is
    absent from assignments.csv, and every candidate still gets K = 3 experts."""
    for module in (MODULE, "selection.panel.assign"):
        if module not in cli.SUBCOMMAND_MODULES:
            monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", (*cli.SUBCOMMAND_MODULES, module))
    works = tmp_path / "works.parquet"
    pq.write_table(rows_to_table(real_rows), works)
    candidate_rows = [{name: row[name] for name in ("work_id", "publication_year", "title", "authorships",
                                                    "subfield_id")}
                      for row in real_rows if 2020 <= (row["publication_year"] or 0) <= 2025]
    candidates = tmp_path / "candidates.parquet"
    write_candidates(candidates, candidate_rows)
    experts = tmp_path / "experts.csv"
    write_experts(experts, [
        ("xiang", "Tao Xiang", "A5014436524", "", ""),
        ("tsinghua", "Tsinghua reviewer", "", "I99065089", ""),
        ("microsoft", "Microsoft reviewer", "", "I1290206253", ""),
        ("zhu", "Xiatian Zhu", "A5028643592", "", ""),
        ("e5", "Reviewer five", "", "", ""), ("e6", "Reviewer six", "", "", ""), ("e7", "Reviewer seven", "", "", ""),
    ])
    conflicts = tmp_path / "conflicts.csv"
    assert cli.main(["conflicts", "--works", str(works), "--candidates", str(candidates), "--experts", str(experts),
                     "--out", str(conflicts)]) == 0
    listed = {(row["work_id"], row["expert_id"]) for row in read_conflicts(conflicts)}
    assert ("W4376226279", "xiang") in listed and ("W4376226279", "tsinghua") in listed
    assert cli.main(["assign", "--candidates", str(candidates), "--experts", str(experts), "--conflicts",
                     str(conflicts), "--per-item", "3", "--out", str(tmp_path / "assignment")]) == 0
    with (tmp_path / "assignment" / "assignments.csv").open(encoding="utf-8", newline="") as handle:
        assigned = {(row["work_id"], row["expert_id"]) for row in csv.DictReader(handle)}
    assert assigned and not assigned & listed
    per_item = {}
    for work_id, _expert in assigned:
        per_item[work_id] = per_item.get(work_id, 0) + 1
    assert set(per_item.values()) == {3} and len(per_item) == len(candidate_rows)
    report = json.loads((tmp_path / "assignment" / "report.json").read_text(encoding="utf-8"))
    assert report["unfilled"] == [] and max(report["loads"].values()) - min(report["loads"].values()) <= 1
