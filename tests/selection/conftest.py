"""Fixtures of the selection tests: a synthetic world and a running mock OpenAlex server.

The server serves the real records of the shared data folder when it is there, plus a
synthetic world (with its traps); each test gets it with the faults switched off and no
API key required, whatever the previous test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from selection.institutions import CACHE_DIR_VARIABLE, InstitutionEntry, load_institution_list, write_institution_list
from selection.openalex.mockserver import Faults, MockData, MockOpenAlexServer
from selection.synthetic import generate_world
from tests.conftest import shared_data_dir
from tests.selection.harvest_helpers import run

WORLD_WORKS = 3000
WORLD_SEED = 7
SESSION_BUDGET_USD = 1000.0  # all tests together stay far below


@dataclass
class HarvestInputs:
    """Files a harvest of the mock server's data needs."""

    institutions: Path  # the world's Beijing institutions plus the packaged list
    overrides: Path  # the world's journal overrides
    beijing_ids: set[str]


@pytest.fixture(autouse=True)
def institution_cache(tmp_path_factory, monkeypatch) -> Path:
    """Lists built from a server are cached in a folder of the test session, never the user's."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(folder))
    return folder


@pytest.fixture(scope="session")
def world():
    """A seeded synthetic world with traps."""
    return generate_world(WORLD_WORKS, seed=WORLD_SEED)


@pytest.fixture(scope="session")
def mock_data(world) -> MockData:
    """The world's records, plus the real records when the shared data is present."""
    world_data = MockData.from_world(world)
    if (shared_data_dir() / "openalex").is_dir():
        return MockData.from_shared_data(shared_data_dir(), extra=world_data)
    return world_data


@pytest.fixture(scope="session")
def _running_server(mock_data):
    with MockOpenAlexServer(mock_data, seed=WORLD_SEED, daily_budget_usd=SESSION_BUDGET_USD) as server:
        yield server


@pytest.fixture
def mock_server(_running_server) -> MockOpenAlexServer:
    """The running mock server, healthy and open; reset after the test."""
    yield _running_server
    _running_server.faults = Faults()
    _running_server.api_key = None


@pytest.fixture(scope="session")
def harvest_inputs(world, tmp_path_factory) -> HarvestInputs:
    """The institution list and override table for harvesting the mock server."""
    folder = tmp_path_factory.mktemp("harvest_inputs")
    entries = dict(load_institution_list())
    for institution_id in world.beijing_institution_ids:
        entries[institution_id] = InstitutionEntry(institution_id, "synthetic", "Beijing", "manual")
    institutions = folder / "institutions.csv"
    write_institution_list(entries, institutions)
    overrides = folder / "overrides.csv"
    lines = ["issn,cn_number,title,note"] + [f"{issn},{cn},," for issn, cn in sorted(world.journal_overrides.items())]
    overrides.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return HarvestInputs(institutions, overrides, set(entries))


@pytest.fixture(scope="session")
def clean_run(_running_server, harvest_inputs, tmp_path_factory):
    """One harvest of the mock server (read it, do not change it): its folder and manifest."""
    out = tmp_path_factory.mktemp("clean") / "harvest"
    manifest = run(_running_server, harvest_inputs, out)
    return out, manifest
