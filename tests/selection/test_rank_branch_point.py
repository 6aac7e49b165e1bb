"""Ranking the same input gives the same candidates as the code this branch started from.

The ranking at the branch point (``tests.selection.branch_point``) runs on the same
synthetic works.parquet in a subprocess of its own; its candidates table must equal
today's minus the columns added since, value for value (floats exactly).
"""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from selection.cli import main
from selection.synthetic import works_frame, write_works_parquet
from tests.selection.branch_point import branch_point_tree
from tests.selection.test_rank import assert_scores_recompute

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
