"""Ranking the same input gives the same candidates as the code this branch started from.

The ranking at ``BRANCH_POINT`` (main when the selection library was split into
subpackages, given authorships and a structured score explanation) is taken out of git
into a temporary folder and run on the same synthetic works.parquet in a subprocess of
its own; its candidates table must equal today's minus the columns added since, value for
value (floats exactly). The commit is named, not found (a merge base would become this
very code once merged and the test would compare the code with itself).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile

import pyarrow.parquet as pq
import pytest

from selection.cli import main
from selection.synthetic import works_frame, write_works_parquet
from tests.conftest import REPO_ROOT
from tests.selection.test_rank import assert_scores_recompute

BRANCH_POINT = "975f112f65a5b5a0531511e2d690d1b0eb3c4d8f"
# Columns the candidates table has gained since BRANCH_POINT.
NEW_COLUMNS = ("score_parts", "authorships")
WORKS, SEED = 20_000, 3

RANK_WITH_OLD_CODE = """
import sys
from pathlib import Path

import selection
assert Path(selection.__file__).resolve().is_relative_to(Path.cwd().resolve()), selection.__file__
from selection.rank import load_works, rank_works
from selection.rank_report import write_candidates_parquet
from selection.ranking_settings import load_rank_settings

result = rank_works(load_works(sys.argv[1]), load_rank_settings())
write_candidates_parquet(result.candidates, Path(sys.argv[2]))
"""


@pytest.fixture(scope="module")
def ranked_synthetic_works(tmp_path_factory):
    """A synthetic works.parquet and the folder today's ``rank`` wrote for it."""
    folder = tmp_path_factory.mktemp("synthetic")
    works_path = folder / "works.parquet"
    write_works_parquet(works_frame(WORKS, seed=SEED), works_path)
    assert main(["rank", "--works", str(works_path), "--out", str(folder / "out")]) == 0
    return works_path, folder / "out"


def test_ranks_a_synthetic_works_parquet(ranked_synthetic_works):
    _, out = ranked_synthetic_works
    candidates = pq.read_table(out / "candidates.parquet").to_pandas()
    assert len(candidates) > 1000
    assert_scores_recompute(candidates)


def test_candidates_carry_the_authorships_of_their_works(ranked_synthetic_works):
    works_path, out = ranked_synthetic_works
    works = pq.read_table(works_path, columns=["work_id", "authorships"]).to_pylist()
    authorships = {row["work_id"]: row["authorships"] for row in works}
    candidates = pq.read_table(out / "candidates.parquet", columns=["work_id", "authorships"]).to_pylist()
    assert all(row["authorships"] == authorships[row["work_id"]] and row["authorships"] for row in candidates)


def branch_point_tree(folder):
    """The ``selection`` package as it was at BRANCH_POINT, extracted into ``folder``."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed, so the branch point's code cannot be read")
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", BRANCH_POINT, "selection"], capture_output=True
    )
    if archive.returncode != 0:
        pytest.skip(f"commit {BRANCH_POINT} is not in this checkout: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(folder, filter="data")
        else:
            tar.extractall(folder)
    return folder


def test_the_candidates_are_those_of_the_branch_point_apart_from_the_new_columns(ranked_synthetic_works, tmp_path):
    works_path, out = ranked_synthetic_works
    old_tree = branch_point_tree(tmp_path / "old")
    old_candidates = tmp_path / "old_candidates.parquet"
    subprocess.run(
        [sys.executable, "-c", RANK_WITH_OLD_CODE, str(works_path), str(old_candidates)],
        cwd=old_tree, check=True, capture_output=True,
    )
    old = pq.read_table(old_candidates)
    new = pq.read_table(out / "candidates.parquet")
    assert set(new.column_names) - set(old.column_names) == set(NEW_COLUMNS)
    unchanged = new.drop_columns(list(NEW_COLUMNS))
    assert unchanged.schema.remove_metadata() == old.schema.remove_metadata()
    assert unchanged.num_rows == old.num_rows > 1000
    assert unchanged.equals(old)
