"""The selection library as it was before the subpackages, authorships and the structured
score explanation, for tests that compare today's output with the output of that code.

The commit is named, not found: a merge base would become this very code once merged,
and such a test would compare the code with itself.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile

import pytest

from tests.conftest import REPO_ROOT

BRANCH_POINT = "975f112f65a5b5a0531511e2d690d1b0eb3c4d8f"  # main when foundation2-selection began


def branch_point_tree(folder):
    """``folder`` holding the ``selection`` package as it was at BRANCH_POINT (run code from
    it with ``cwd=folder``); skips the test, naming why, when git or the commit is missing."""
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
