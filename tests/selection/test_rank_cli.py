"""``python -m selection rank``: the files it writes, byte-identical reruns, and bad input
that ends with one clear line, exit 2 and nothing written."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selection import files
from selection.cli import main
from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.ranking import report
from selection.ranking.rank import load_works, rank_works
from selection.ranking.settings import load_rank_settings
from selection.schema import CANDIDATES_SCHEMA, CANDIDATES_SCHEMA_VERSION, WORKS_SCHEMA, read_candidates, schema_version
from tests.selection.rank_helpers import work
from tests.selection.test_rank import assert_scores_recompute, wide_pool


def write_works(path, rows) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=WORKS_SCHEMA), path)


@pytest.fixture(scope="module")
def works_file(tmp_path_factory):
    rows = wide_pool(2500)
    rows += [work(i, journal_group="domestic", discipline="physics", subfield_id=3104,
                  title=f"光学 晶体 研究 {i}", citation_normalized_percentile=(i - 10000) / 2500)
             for i in range(10001, 12501)]
    path = tmp_path_factory.mktemp("input") / "works.parquet"
    write_works(path, rows)
    return path


@pytest.fixture(scope="module")
def ranked(works_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "first"
    assert main(["rank", "--works", str(works_file), "--out", str(out), "--per-group", "200"]) == 0
    return out


def test_writes_every_output(ranked, works_file):
    names = {path.name for path in ranked.iterdir()}
    assert names == {"candidates.parquet", "candidates.xlsx", "summary.json", "contention.txt",
                     "score_distributions.png", "topic_shares.png", "indicator_correlations.png"}
    contention = (ranked / "contention.txt").read_text(encoding="utf-8").split()
    # what enrich fetches the citing side of: up to 2 x the quota of each list; here each has 250 eligible
    assert len(contention) == 2 * 250 and len(set(contention)) == 500
    for chart in ranked.glob("*.png"):
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((ranked / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"]["sha256"] == hashlib.sha256(works_file.read_bytes()).hexdigest()
    assert summary["input"]["rows"] == 5000
    assert summary["settings"]["per_group"] == 200
    lists = {(e["discipline"], e["journal_group"]): e for e in summary["lists"]}
    assert lists[("mathematics", "international")]["selected"] == 200
    assert lists[("physics", "domestic")]["selected"] == 200
    assert lists[("physics", "domestic")]["discipline_zh"] == "物理学"
    assert lists[("chemistry", "domestic")]["shortfall"] == 200
    assert summary["shortfalls"]


def test_candidates_parquet_recomputes(ranked):
    candidates = pq.read_table(ranked / "candidates.parquet").to_pandas()
    assert len(candidates) == 400
    assert_scores_recompute(candidates)


def test_workbook_has_chinese_headers_links_and_explanations(ranked):
    workbook = openpyxl.load_workbook(ranked / "candidates.xlsx")
    assert len(workbook.sheetnames) == 1 + 32  # overview, then every discipline x group
    assert workbook.sheetnames[:5] == ["概览", "数学-国内", "数学-国际", "物理学-国内", "物理学-国际"]
    assert workbook["数学-国内"].max_row == 1  # an empty list: headers only
    sheet = workbook["物理学-国内"]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["排名", "综合得分", "稳定性", "排名区间"]
    first = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert first["DOI"].startswith('=HYPERLINK("https://doi.org/10.1000/w')
    assert first["OpenAlex"].startswith('=HYPERLINK("https://openalex.org/W')
    assert "子领域-年份-国内期刊" in first["得分说明"] and "前 " in first["得分说明"]
    assert sheet.max_row == 201


def test_read_candidates_gives_the_table_summary_charts_and_checksum(ranked):
    candidate_set = read_candidates(ranked)
    assert candidate_set.table.equals(pq.read_table(ranked / "candidates.parquet"))
    assert candidate_set.table.schema.equals(CANDIDATES_SCHEMA)
    assert schema_version(candidate_set.table.schema, "candidates") == CANDIDATES_SCHEMA_VERSION
    assert candidate_set.sha256 == hashlib.sha256((ranked / "candidates.parquet").read_bytes()).hexdigest()
    assert candidate_set.summary == json.loads((ranked / "summary.json").read_text(encoding="utf-8"))
    assert sorted(candidate_set.charts) == sorted(path.name for path in ranked.glob("*.png"))
    assert all(path.is_file() and path.parent == ranked for path in candidate_set.charts.values())


def _rewrite_candidates(folder, change) -> None:
    table = pq.read_table(folder / "candidates.parquet")
    pq.write_table(change(table), folder / "candidates.parquet")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / "candidates.parquet").unlink(), "candidates.parquet not found"),
        (lambda folder: (folder / "candidates.parquet").write_text("not parquet"), "not a Parquet file"),
        (lambda folder: _rewrite_candidates(folder, lambda t: t.replace_schema_metadata(None)),
         "has no candidates schema version"),
        (lambda folder: _rewrite_candidates(
            folder, lambda t: t.replace_schema_metadata({b"selection.table": b"candidates", b"selection.schema_version": b"99"})),
         "has candidates schema version 99, this platform reads version"),
        (lambda folder: _rewrite_candidates(folder, lambda t: t.drop_columns(["cluster_terms"])),
         r"column \d+ is cluster_rank int32, expected cluster_terms string"),
        (lambda folder: (folder / "summary.json").unlink(), "summary.json not found"),
        (lambda folder: (folder / "topic_shares.png").unlink(), "lacks the chart.s. topic_shares.png"),
    ],
)
def test_read_candidates_refuses_an_incomplete_or_foreign_folder(ranked, tmp_path, damage, message):
    folder = tmp_path / "copy"
    shutil.copytree(ranked, folder)
    damage(folder)
    with pytest.raises(SelectionError, match=message):
        read_candidates(folder)


def test_read_candidates_refuses_a_summary_of_another_run(ranked, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(ranked, folder)
    _rewrite_candidates(folder, lambda table: table.slice(0, 10))
    with pytest.raises(SelectionError, match="does not describe"):
        read_candidates(folder)
    with pytest.raises(SelectionError, match="not found; give the --out folder"):
        read_candidates(tmp_path / "absent")


def test_identical_runs_write_identical_candidates_parquet(ranked, works_file, tmp_path):
    again = tmp_path / "second"
    assert main(["rank", "--works", str(works_file), "--out", str(again), "--per-group", "200"]) == 0
    assert (again / "candidates.parquet").read_bytes() == (ranked / "candidates.parquet").read_bytes()


def test_a_rerun_replaces_the_files_of_an_existing_folder(works_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("kept")
    assert main(["rank", "--works", str(works_file), "--out", str(out), "--per-group", "250"]) == 0
    assert json.loads((out / "summary.json").read_text())["settings"]["per_group"] == 250
    assert (out / "notes.txt").read_text() == "kept"
    assert [path.name for path in tmp_path.iterdir()] == ["out"]  # no staging folder left


def run_failing(capsys, arguments, out) -> str:
    assert main(["rank", *arguments, "--out", str(out)]) == 2
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1
    return error


def test_missing_columns(tmp_path, capsys):
    path = tmp_path / "works.parquet"
    table = pa.Table.from_pylist([work(1)], schema=WORKS_SCHEMA).drop_columns(["fwci", "topic_id"])
    pq.write_table(table, path)
    error = run_failing(capsys, ["--works", str(path)], tmp_path / "out")
    assert "lacks column(s) topic_id, fwci" in error


def test_empty_file(tmp_path, capsys):
    path = tmp_path / "works.parquet"
    pq.write_table(WORKS_SCHEMA.empty_table(), path)
    assert "no rows" in run_failing(capsys, ["--works", str(path)], tmp_path / "out")


def test_not_a_parquet_file_and_a_missing_one(tmp_path, capsys):
    path = tmp_path / "works.parquet"
    path.write_text("work_id,title\n")
    assert "not a Parquet file" in run_failing(capsys, ["--works", str(path)], tmp_path / "out")
    assert "not found" in run_failing(capsys, ["--works", str(tmp_path / "absent.parquet")], tmp_path / "out")


@pytest.mark.parametrize(
    ("settings_text", "message"),
    [
        ("[weights]\nhot = \"lots\"\n", "must be a number"),
        ("[weights]\nfrontier = -0.2\n", "negative"),
        ("[weights\n", "not valid TOML"),
        ("[selection]\nper_group = 100\n", "outside [200, 500]"),
        ("[discipline_weights.alchemy]\nhot = 1\n", "unknown discipline"),
    ],
)
def test_bad_settings(works_file, tmp_path, capsys, settings_text, message):
    settings = tmp_path / "settings.toml"
    settings.write_text(settings_text)
    error = run_failing(capsys, ["--works", str(works_file), "--settings", str(settings)], tmp_path / "out")
    assert message in error


@pytest.mark.parametrize("quota", ["199", "501"])
def test_quota_outside_bounds(works_file, tmp_path, capsys, quota):
    error = run_failing(capsys, ["--works", str(works_file), "--per-group", quota], tmp_path / "out")
    assert "outside [200, 500]" in error


def test_text_from_the_data_is_never_a_formula_in_the_workbook(tmp_path):
    rows = wide_pool(2500)
    best = rows[-1]  # W2500, rank 1
    best.update(title="=1+1", doi='10.1000/a"b', source_name="@SUM(A1)", issn_l="-1234", topic_id="+T9")
    path = tmp_path / "works.parquet"
    write_works(path, rows)
    out = tmp_path / "out"
    assert main(["rank", "--works", str(path), "--out", str(out), "--per-group", "200"]) == 0
    sheet = openpyxl.load_workbook(out / "candidates.xlsx")["数学-国际"]
    header = [cell.value for cell in sheet[1]]
    first = dict(zip(header, sheet[2], strict=True))
    for column, text in (("标题", "=1+1"), ("期刊", "@SUM(A1)"), ("ISSN-L", "-1234"), ("主题", "+T9")):
        assert first[column].value == text and first[column].data_type == "s", column
        assert first[column].quotePrefix
    assert first["DOI"].data_type == "f"
    assert first["DOI"].value == '=HYPERLINK("https://doi.org/10.1000/a""b","10.1000/a""b")'
    with zipfile.ZipFile(out / "candidates.xlsx") as package:
        xml = package.read("xl/worksheets/sheet3.xml").decode()
    assert "<f>1+1</f>" not in xml and "<t>=1+1</t>" in xml
    assert '<f>HYPERLINK("https://doi.org/10.1000/a""b","10.1000/a""b")</f>' in xml.replace("&quot;", '"')


def test_a_works_file_with_null_years_ranks_and_an_all_null_one_is_one_line(tmp_path, capsys):
    rows = wide_pool(2500) + [work(9001, publication_year=None, publication_date=None, topic_id=None)]
    path = tmp_path / "works.parquet"
    write_works(path, rows)
    assert main(["rank", "--works", str(path), "--out", str(tmp_path / "out"), "--per-group", "200"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["funnel"]["in_window"] == 2500 and summary["window"] == [2020, 2024]
    write_works(path, [work(i, publication_year=None, publication_date=None) for i in range(1, 4)])
    assert "has a publication_year" in run_failing(capsys, ["--works", str(path)], tmp_path / "fresh")


def output_bytes(folder) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in report.OUTPUT_FILES}


@pytest.mark.parametrize("failing_move", [1, 2, 3])
def test_a_failure_while_the_new_set_moves_in_leaves_the_previous_set(works_file, tmp_path, monkeypatch, failing_move):
    out = tmp_path / "out"
    assert main(["rank", "--works", str(works_file), "--out", str(out), "--per-group", "200"]) == 0
    (out / "notes.txt").write_text("kept")
    before = output_bytes(out)
    settings = load_rank_settings().with_overrides(per_group=250)
    result = rank_works(load_works(works_file), settings)
    # no atomic exchange (another system or file system): the fallback's renames must fail safe too
    monkeypatch.setattr(files, "_exchange", lambda first, second: False, raising=False)
    moves = []
    real_rename, real_replace = os.rename, os.replace

    def move(real):
        def fake(source, target, *args, **kwargs):
            if tmp_path in Path(target).parents or tmp_path in Path(source).parents:
                moves.append((source, target))
                if len(moves) == failing_move:
                    raise OSError(errno.EIO, "injected failure")
            return real(source, target, *args, **kwargs)
        return fake

    monkeypatch.setattr(os, "rename", move(real_rename))
    monkeypatch.setattr(os, "replace", move(real_replace))
    try:
        report.write_report(result, load_disciplines(), {"path": "works.parquet"}, out)
    except OSError:
        assert output_bytes(out) == before  # the previous set, complete and untouched
    else:  # the failure came after the swap: the new set, complete
        assert json.loads((out / "summary.json").read_text())["settings"]["per_group"] == 250
        assert len(pq.read_table(out / "candidates.parquet")) == 500
    assert (out / "notes.txt").read_text() == "kept"
    assert [path.name for path in tmp_path.iterdir()] == ["out"]  # no staging or old folder left


def test_a_rerun_swaps_the_folder_in_whole_with_or_without_an_atomic_exchange(works_file, tmp_path, monkeypatch):
    out = tmp_path / "out"
    for per_group, exchange in ((200, None), (250, lambda first, second: False)):
        if exchange:
            monkeypatch.setattr(files, "_exchange", exchange)
        assert main(["rank", "--works", str(works_file), "--out", str(out), "--per-group", str(per_group)]) == 0
        (out / "notes.txt").write_text("kept")
        assert json.loads((out / "summary.json").read_text())["settings"]["per_group"] == per_group
        assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]
    assert sorted(path.name for path in out.iterdir()) == sorted([*report.OUTPUT_FILES, "notes.txt"])
