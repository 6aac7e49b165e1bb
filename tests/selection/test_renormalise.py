"""``python -m selection renormalise DIR``: an older harvest folder gets today's works.parquet
from its raw pages; anything that is not a complete harvest with raw pages is refused."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from selection.cli import main
from selection.files import file_sha256
from selection.institutions import load_umbrella_institutions
from selection.schema import WORKS_COLUMNS, WORKS_SCHEMA_VERSION, schema_version
from tests.selection.branch_point import branch_point_tree
from tests.selection.harvest_helpers import harvest_settings


def renormalise(capsys, folder) -> tuple[int, list[str]]:
    code = main(["renormalise", str(folder)])
    return code, capsys.readouterr().err.strip().splitlines()


# Columns of works schema version 3 (after abstract) that a version 1 table lacked.
V3_COLUMNS = WORKS_COLUMNS[WORKS_COLUMNS.index("abstract") + 1:]
# The columns filled from fields the branch point's harvest did not select.
NEWLY_SELECTED_COLUMNS = {"topic_ids", "topic_names", "topic_scores", "keywords", "funders", "oa_url"}


@pytest.fixture
def older_harvest(clean_run, tmp_path):
    """The clean harvest as a version without authorships would have left it: works.parquet
    without that column and those of schema version 3 and without schema metadata, a manifest
    without the newer parts."""
    folder = tmp_path / "older"
    shutil.copytree(clean_run[0], folder)
    works = pq.read_table(folder / "works.parquet").drop_columns(["authorships", *V3_COLUMNS])
    works = works.replace_schema_metadata(None)
    pq.write_table(works, folder / "works.parquet")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("institutions", None)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_an_older_harvest_gets_the_table_a_fresh_harvest_writes(older_harvest, clean_run, capsys):
    fresh, fresh_manifest = clean_run
    before = file_sha256(older_harvest / "works.parquet")
    code = main(["renormalise", str(older_harvest)])
    assert code == 0, capsys.readouterr().err
    assert "works rebuilt from" in capsys.readouterr().out
    table = pq.read_table(older_harvest / "works.parquet")
    assert table.equals(pq.read_table(fresh / "works.parquet"))
    assert (older_harvest / "works.parquet").read_bytes() == (fresh / "works.parquet").read_bytes()
    assert schema_version(table.schema, "works") == WORKS_SCHEMA_VERSION
    manifest = json.loads((older_harvest / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"] == fresh_manifest["counts"]  # source lookups kept, the rest recounted alike
    done = manifest["renormalised"][-1]
    assert done["previous_works_sha256"] == before and done["works_sha256"] == file_sha256(fresh / "works.parquet")
    assert done["raw_pages"] == fresh_manifest["partitions"]["pages"] and done["works"] == table.num_rows
    assert done["umbrella_institutions"] == len(load_umbrella_institutions()) > 0
    assert tuple(table.schema.names) == WORKS_COLUMNS and "is_beijing" in str(table.schema.field("authorships").type)
    assert done["at"].endswith("+00:00")
    assert sorted(p.name for p in older_harvest.iterdir()) == sorted(p.name for p in fresh.iterdir())  # no leftovers


def test_a_harvest_written_by_the_branch_point_code_gets_the_fresh_table(clean_run, mock_server, harvest_inputs,
                                                                         tmp_path):
    old_tree = branch_point_tree(tmp_path / "old_code")
    folder = tmp_path / "old_harvest"
    options = harvest_settings(harvest_inputs)
    subprocess.run(
        [sys.executable, "-m", "selection", "harvest", "--from-year", str(options.from_year),
         "--to-year", str(options.to_year), "--out", str(folder), "--base-url", mock_server.url,
         "--institutions", options.institutions_path, "--journal-overrides", options.overrides_path,
         "--batch-size", str(options.batch_size), "--split-above", str(options.split_above),
         "--workers", str(options.workers), "--rate", "1000", "--quiet"],
        cwd=old_tree, check=True, capture_output=True,
    )
    assert "authorships" not in pq.read_schema(folder / "works.parquet").names  # the old code wrote it
    assert main(["renormalise", str(folder)]) == 0
    # its raw pages lack the fields it did not select; every other column is the fresh one
    got, fresh = pq.read_table(folder / "works.parquet"), pq.read_table(clean_run[0] / "works.parquet")
    assert got.schema.equals(fresh.schema, check_metadata=True)
    differing = {name for name in WORKS_COLUMNS if not got[name].equals(fresh[name])}
    assert differing <= NEWLY_SELECTED_COLUMNS
    if not differing:  # the served records carry none of those fields
        assert (folder / "works.parquet").read_bytes() == (clean_run[0] / "works.parquet").read_bytes()


def _unfinished(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "status": "interrupted"}))


def _snapshot_import(folder):
    (folder / "manifest.json").write_text(json.dumps({"command": "import-snapshot", "works": 3}))


def _without_raw_pages(folder):
    for page in (folder / "raw").glob("*.jsonl.gz"):
        page.unlink()


def _damaged_page(folder):
    page = sorted((folder / "raw").glob("*.jsonl.gz"))[0]
    page.write_bytes(gzip.compress(b'{"meta": {}, "results": ['))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / "manifest.json").unlink(), "holds no manifest.json, so it is not a harvest folder"),
        (_unfinished, r"not complete \(status interrupted\); finish it with harvest --resume"),
        (_snapshot_import, "holds a snapshot import, which keeps no raw pages; run import-snapshot again"),
        (_without_raw_pages, r"has no raw pages \(raw/\*.jsonl.gz\) to rebuild from; harvest again"),
        (lambda folder: shutil.rmtree(folder / "raw"), "has no raw pages"),
        (lambda folder: sorted((folder / "raw").glob("*.jsonl.gz"))[0].unlink(),
         r"raw page .*\.p00000\.jsonl\.gz is missing; harvest again into a new folder"),
        (_damaged_page, "raw page .* is damaged"),
        (lambda folder: (folder / "state" / "plan.json").unlink(), "lacks state/plan.json"),
        (lambda folder: (folder / "state" / "source_countries.json").write_text("{"),
         r"source_countries.json is damaged \(.*\); harvest again"),
    ],
)
def test_a_folder_that_cannot_be_renormalised_is_one_error_line_and_keeps_its_works(
    older_harvest, capsys, damage, message
):
    damage(older_harvest)
    before = (older_harvest / "works.parquet").read_bytes()
    code, err = renormalise(capsys, older_harvest)
    assert code == 2 and len(err) == 1 and err[0].startswith("error: "), err
    assert re.search(message, err[0]), err[0]
    assert (older_harvest / "works.parquet").read_bytes() == before
    assert not [p for p in older_harvest.iterdir() if p.name.endswith(".tmp")]


def test_a_path_that_is_no_folder_is_refused(tmp_path, capsys):
    code, err = renormalise(capsys, tmp_path / "absent")
    assert code == 2 and err == [f"error: {tmp_path / 'absent'} is not a folder; give the --out folder of a harvest"]
