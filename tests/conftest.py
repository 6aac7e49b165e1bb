"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """Where the real records live: $SHARED_DATA, else ../shared/data beside the repository."""
    return Path(os.environ.get("SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-records folder, or skip the test with the reason."""
    path = shared_data_dir()
    if not (path / "openalex").is_dir():
        pytest.skip(f"real records not found at {path} (set SHARED_DATA to the shared/data folder)")
    return path
