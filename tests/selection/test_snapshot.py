"""Snapshot import: a snapshot folder built from a synthetic world, duplicates, bad input;
the DuckDB engine and the line-by-line engine give the same table."""

from __future__ import annotations

import argparse
import copy
import csv
import gzip
import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from selection.cli import main
from selection.errors import SelectionError
from selection.harvest import snapshot
from selection.harvest.normalize import COUNTED_COLUMNS, table_counts
from selection.schema import WORKS_SCHEMA, WORKS_SCHEMA_VERSION, schema_version
from selection.synthetic import generate_world, works_table

N_WORKS, SEED = 600, 5
LATEST, OLDER = "2026-11-01", "2025-10-01"


def _write_part(path, records) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def _work_id(work) -> str:
    return work["id"].rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A snapshot with every work in the latest partition and some older versions too:
    - every 10th eligible work also has an older, differently titled version;
    - one eligible work is retracted in its latest version only (must be left out);
    - one work's version in the older partition carries the newest updated_date (must win).
    """
    root = tmp_path_factory.mktemp("snapshot")
    world = generate_world(N_WORKS, seed=SEED)
    eligible = sorted(world.eligible_work_ids)
    retracted_id, newest_elsewhere_id = eligible[3], eligible[5]
    latest, older = [], []
    for work in world.works:
        work_id = _work_id(work)
        current = copy.deepcopy(work)
        if work_id == retracted_id:
            current["is_retracted"] = True
        latest.append(current)
        if work_id in eligible[::10] or work_id == retracted_id:
            older.append({**work, "title": "An older title", "updated_date": f"{OLDER}T00:00:00"})
        if work_id == newest_elsewhere_id:
            older.append({**work, "title": "The newest title", "updated_date": "2027-01-01T00:00:00"})
    works = root / "data" / "works"
    half = len(latest) // 2
    _write_part(works / f"updated_date={LATEST}" / "part_000.gz", latest[:half])
    _write_part(works / f"updated_date={LATEST}" / "part_001.gz", latest[half:])
    _write_part(works / f"updated_date={OLDER}" / "part_000.gz", older)
    _write_part(root / "data" / "sources" / f"updated_date={LATEST}" / "part_000.gz", world.sources)

    institutions = root / "institutions.csv"
    with institutions.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["institution_id", "display_name", "city", "reason", "note"])
        for record in world.institutions:
            if record["id"].rsplit("/", 1)[1] in world.beijing_institution_ids:
                writer.writerow([record["id"].rsplit("/", 1)[1], record["display_name"], "Beijing", "geo", ""])
    overrides = root / "overrides.csv"
    overrides.write_text(
        "issn,cn_number,title,note\n" + "".join(f"{i},{cn},,\n" for i, cn in world.journal_overrides.items()),
        encoding="utf-8",
    )
    out = root / "out"
    exit_code = _run_command(
        [str(root), "--out", str(out), "--from-year", "2021", "--to-year", "2025",
         "--institutions", str(institutions), "--overrides", str(overrides)]
    )
    lines_out = root / "out_lines"
    _run_command(
        [str(root), "--out", str(lines_out), "--from-year", "2021", "--to-year", "2025",
         "--institutions", str(institutions), "--overrides", str(overrides), "--engine", "lines"]
    )
    return {
        "lines_table": pq.read_table(lines_out / "works.parquet"),
        "lines_manifest": json.loads((lines_out / "manifest.json").read_text(encoding="utf-8")),
        "exit_code": exit_code,
        "world": world,
        "table": pq.read_table(out / "works.parquet"),
        "manifest": json.loads((out / "manifest.json").read_text(encoding="utf-8")),
        "retracted_id": retracted_id,
        "newest_elsewhere_id": newest_elsewhere_id,
        "older_versions": len(older),
        "out": out,
    }


def _run_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    snapshot.register(parser.add_subparsers())
    args = parser.parse_args(["import-snapshot", *argv])
    return args.func(args)


def test_import_keeps_exactly_the_eligible_latest_versions(built):
    table = built["table"]
    assert built["exit_code"] == 0
    assert table.schema.remove_metadata() == WORKS_SCHEMA
    assert schema_version(table.schema, "works") == WORKS_SCHEMA_VERSION
    expected_ids = built["world"].eligible_work_ids - {built["retracted_id"]}
    assert table["work_id"].to_pylist() == sorted(expected_ids)

    # an independent path: the vectorised table of the same world, minus the two changed works
    changed = pa.array([built["retracted_id"], built["newest_elsewhere_id"]])

    def without_changed(works):
        kept = works.filter(pc.invert(pc.is_in(works["work_id"], value_set=changed))).sort_by("work_id")
        return kept.drop_columns(["record_sources"])

    assert without_changed(table).equals(without_changed(works_table(N_WORKS, seed=SEED)))
    assert set(map(tuple, table["record_sources"].to_pylist())) == {("snapshot",)}
    assert "An older title" not in table["title"].to_pylist()
    newest = table.filter(pc.equal(table["work_id"], built["newest_elsewhere_id"]))
    assert newest["title"].to_pylist() == ["The newest title"]


def test_manifest_counts(built):
    manifest, table = built["manifest"], built["table"]
    assert manifest["works"] == table.num_rows
    assert {key: manifest[key] for key in COUNTED_COLUMNS} == table_counts(table)
    assert sum(manifest["by_year"].values()) == table.num_rows
    assert set(manifest["by_year"]) <= {str(year) for year in range(2021, 2026)}
    assert sum(manifest["by_journal_group"].values()) == table.num_rows
    assert manifest["duplicate_versions"] == built["older_versions"]
    assert manifest["lines_read"] == N_WORKS + built["older_versions"]
    assert len(manifest["files_read"]) == 4
    assert manifest["sources_with_country"] > 0
    assert "doi: absent" in manifest["missing_fields"]
    assert manifest["duration_seconds"] >= 0
    assert sorted(p.name for p in built["out"].iterdir()) == ["manifest.json", "works.parquet"]


def test_duckdb_and_line_by_line_engines_give_the_same_table_and_counts(built):
    assert built["manifest"]["engine"] == "duckdb" and built["lines_manifest"]["engine"] == "lines"
    assert built["table"].equals(built["lines_table"])
    scan_keys = ("lines_read", "lines_naming_beijing_institutions", "duplicate_versions", "works", *COUNTED_COLUMNS)
    assert {key: built["manifest"][key] for key in scan_keys} == {key: built["lines_manifest"][key] for key in scan_keys}
    assert built["manifest"]["threads"] >= 1


def _edge_cases(world) -> list[dict]:
    """Variants of one eligible work, each probing one harvest rule at a JSON edge."""
    eligible = sorted(world.eligible_work_ids)
    base = next(w for w in world.works if _work_id(w) == eligible[0])
    beijing = sorted(world.beijing_institution_ids)[0]

    def variant(number: int, **changes) -> dict:
        work = copy.deepcopy(base)
        work["id"] = f"https://openalex.org/W99000{number:03d}"
        for path, value in changes.items():
            target = work
            *parents, last = path.split("__")
            for key in parents:
                target = target.setdefault(key, {}) if isinstance(target, dict) else target
            if value is _DELETE:
                target.pop(last, None)
            else:
                target[last] = value
        return work

    lineage_only = copy.deepcopy(base["authorships"])
    for authorship in lineage_only:
        for institution in authorship.get("institutions") or []:
            institution["lineage"] = [institution["id"], f"https://openalex.org/{beijing}"]
            institution["id"] = "https://openalex.org/I1"
    lowercase = copy.deepcopy(base["authorships"])
    lowercase[0]["institutions"] = [{"id": f"https://openalex.org/{beijing.lower()}"}] + (
        lowercase[0].get("institutions") or [])
    return [
        variant(1),
        variant(2, is_retracted=1),
        variant(3, is_retracted=False, is_paratext=None),
        variant(4, is_paratext="yes"),
        variant(5, publication_year=2023.0),
        variant(6, publication_year="2023"),
        variant(7, publication_year=2020),
        variant(8, type="Article"),
        variant(9, type=_DELETE),
        variant(10, primary_location__source__issn_l="", primary_location__source__issn=[]),
        variant(11, primary_location__source__issn_l=None, primary_location__source__issn=["1234-5678"]),
        variant(12, primary_location__source__type="repository"),
        variant(13, primary_location=None),
        variant(14, authorships=lineage_only),
        variant(15, authorships=lowercase),
        variant(16, updated_date=""),
        variant(17, is_paratext={}),
    ]


_DELETE = object()


def test_the_sql_rules_match_the_python_rules_at_json_edges(tmp_path):
    world = generate_world(50, seed=1)
    cases = _edge_cases(world)
    _write_part(tmp_path / "works" / f"updated_date={LATEST}" / "part_000.gz", [*world.works, *cases])
    tables = {}
    for engine in snapshot.ENGINES:
        snapshot.import_snapshot(tmp_path, tmp_path / engine, 2021, 2025, set(world.beijing_institution_ids),
                                 world.journal_overrides, engine=engine)
        tables[engine] = pq.read_table(tmp_path / engine / "works.parquet")
    assert tables["duckdb"].equals(tables["lines"])
    kept = {work_id for work_id in tables["duckdb"]["work_id"].to_pylist() if work_id.startswith("W99000")}
    # the plain variant, falsy flags, an ISSN list, a lower-case listed id, an empty updated_date
    assert kept == {"W99000001", "W99000003", "W99000011", "W99000015", "W99000016", "W99000017"}


def test_unknown_engine_and_bad_threads_are_one_line_errors(tmp_path):
    with pytest.raises(SelectionError, match="unknown engine"):
        snapshot.import_snapshot(tmp_path, tmp_path / "out", 2021, 2025, {"I1"}, {}, engine="spark")
    with pytest.raises(SelectionError, match="--threads must be at least 1"):
        snapshot.import_snapshot(tmp_path, tmp_path / "out", 2021, 2025, {"I1"}, {}, threads=0)


def test_the_works_folder_may_sit_directly_under_the_snapshot(tmp_path):
    world = generate_world(50, seed=1)
    _write_part(tmp_path / "works" / f"updated_date={LATEST}" / "part_000.gz", world.works)
    manifest = snapshot.import_snapshot(
        tmp_path, tmp_path / "out", 2021, 2025, set(world.beijing_institution_ids), world.journal_overrides
    )
    assert manifest["works"] == len(world.eligible_work_ids)
    assert manifest["by_journal_group_rule"].get("source_country") is None  # no sources folder


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (None, "snapshot folder .* not found"),
        ("empty", "no works part files"),
        ("no_parts", "no works part files"),
        ("broken", "cannot read .*part_000.gz"),
        ("not_json", "part_000.gz: record 2 is not JSON"),
    ],
)
@pytest.mark.parametrize("engine", ["duckdb", "lines"])
def test_bad_snapshot_folders(tmp_path, layout, message, engine):
    folder = tmp_path / "snapshot"
    if layout:
        folder.mkdir()
    if layout == "no_parts":
        (folder / "data" / "works" / f"updated_date={LATEST}").mkdir(parents=True)
    if layout == "broken":
        part = folder / "data" / "works" / f"updated_date={LATEST}" / "part_000.gz"
        part.parent.mkdir(parents=True)
        part.write_bytes(b"not gzip")
    if layout == "not_json":
        part = folder / "data" / "works" / f"updated_date={LATEST}" / "part_000.gz"
        part.parent.mkdir(parents=True)
        part.write_bytes(gzip.compress(b'{"id": "W1"}\n{"id": "https://openalex.org/I1", \n'))
    with pytest.raises(SelectionError, match=message):
        snapshot.import_snapshot(folder, tmp_path / "out", 2021, 2025, {"I1"}, {}, engine=engine)
    assert not (tmp_path / "out" / "works.parquet").exists()


@pytest.mark.parametrize(
    ("from_year", "to_year", "message"),
    [(2025, 2021, "swap them"), (2010, 2025, "choose 3 to 5"), (2024, 2025, "choose 3 to 5"), (2028, 2031, "in the future")],
)
def test_windows_outside_the_rules(tmp_path, from_year, to_year, message):
    with pytest.raises(SelectionError, match=message):
        snapshot.import_snapshot(tmp_path, tmp_path / "out", from_year, to_year, {"I1"}, {})
    assert not (tmp_path / "out").exists()


def test_a_snapshot_with_no_matching_work_writes_nothing(tmp_path):
    world = generate_world(50, seed=1)
    _write_part(tmp_path / "works" / f"updated_date={LATEST}" / "part_000.gz", world.works)
    with pytest.raises(SelectionError, match="check --institutions"):
        snapshot.import_snapshot(tmp_path, tmp_path / "out", 2021, 2025, {"I404"}, world.journal_overrides)
    assert not (tmp_path / "out").exists()


def test_command_line_reports_a_bad_folder(tmp_path, capsys):
    assert main(["import-snapshot", str(tmp_path / "absent"), "--out", str(tmp_path / "out")]) == 2
    assert "error: snapshot folder" in capsys.readouterr().err
