"""The workbench's test material: a real harvest of the mock OpenAlex server (its folder as
``python -m selection harvest`` writes it), a small synthetic works file with two rankings of
it, and jobs made from them for a user without running anything."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conference_app.extensions import db
from conference_app.jobs.models import Job, JobState
from conference_app.jobs.runner import work_dir
from selection.cli import main as selection_main
from selection.openalex.mockserver import MockData, MockOpenAlexServer
from selection.synthetic import generate_world
from selection.synthetic.table import works_table

HOT_FIRST = {"influence": 0.10, "hot": 0.60, "frontier": 0.15, "originality": 0.15}
MOCK_WORLD_WORKS, MOCK_WORLD_SEED = 3000, 7


@pytest.fixture(scope="session")
def mock_world():
    return generate_world(MOCK_WORLD_WORKS, seed=MOCK_WORLD_SEED)


@pytest.fixture(scope="session")
def harvest_output(mock_world, tmp_path_factory) -> Path:
    """The folder of a complete harvest of the mock server (its list built from the server)."""
    folder = tmp_path_factory.mktemp("workbench-harvest")
    with pytest.MonkeyPatch.context() as patch, MockOpenAlexServer(MockData.from_world(mock_world)) as server:
        patch.setenv("SELECTION_CACHE_DIR", str(folder / "cache"))
        assert selection_main(["harvest", "--from-year", "2021", "--to-year", "2025", "--out", str(folder / "harvest"),
                               "--base-url", server.url, "--rate", "1000", "--workers", "4", "--quiet"]) == 0
    return folder / "harvest"


@pytest.fixture(scope="session")
def synthetic_works(tmp_path_factory) -> Path:
    """works.parquet of 4,000 drawn works (the stand-in topics, so the same without ../shared/data)."""
    folder = tmp_path_factory.mktemp("workbench-works")
    path = folder / "works.parquet"
    pq.write_table(works_table(4000, seed=11, topics_path=folder / "no-topics.csv"), path)
    return path


@pytest.fixture(scope="session")
def two_rankings(synthetic_works, tmp_path_factory) -> tuple[Path, Path]:
    """The output folders of ``rank`` with the default weights and with ``HOT_FIRST``, both with an
    open gate (every ranked work eligible), so the busiest lists fill their 200 seats."""
    folder = tmp_path_factory.mktemp("workbench-rankings")
    gate = "[selection]\neligibility_top_share = 1.0\n"
    weights = "[weights]\n" + "".join(f"{name} = {value}\n" for name, value in HOT_FIRST.items())
    outputs = []
    for name, document in (("default", gate), ("hot-first", gate + weights)):
        settings = folder / f"{name}.toml"
        settings.write_text(document, encoding="utf-8")
        out = folder / name
        assert selection_main(["rank", "--works", str(synthetic_works), "--out", str(out), "--per-group", "200",
                               "--settings", str(settings)]) == 0
        outputs.append(out)
    return outputs[0], outputs[1]


def make_job(user, kind: str, params: dict, folders: dict[str, Path] | None = None,
             state: JobState = JobState.FINISHED) -> Job:
    """A job row of ``user`` in ``state`` whose folder holds copies of ``folders`` (name -> source)."""
    job = Job(kind=kind, params=params, user_id=user.id, state=state, progress={}, outputs=[], log="")
    db.session.add(job)
    db.session.commit()
    shutil.rmtree(work_dir(job.id), ignore_errors=True)  # of a job of an earlier test with the same id
    for name, source in (folders or {}).items():
        shutil.copytree(source, work_dir(job.id) / name)
    return job


@pytest.fixture()
def finished_harvest(harvest_output):
    def make(user) -> Job:
        return make_job(user, "harvest", {"from_year": 2021, "to_year": 2025, "base_url": "http://127.0.0.1:9",
                                             "rate": 10.0},
                        {"harvest": harvest_output})

    return make


@pytest.fixture()
def finished_rankings(two_rankings):
    """Two finished ranking jobs of ``user`` holding the two rankings, of a harvest job of theirs."""

    def make(user) -> tuple[Job, Job]:
        harvest = make_job(user, "harvest", {"from_year": 2021, "to_year": 2025})
        first, second = (make_job(user, "rank", {"harvest_job_id": harvest.id, "settings": {}}, {"ranking": folder})
                         for folder in two_rankings)
        return first, second

    return make


@pytest.fixture(scope="session")
def openalex_server(mock_world):
    """The mock OpenAlex server of the harvest's world (a test may require an API key: ``api_key``)."""
    with MockOpenAlexServer(MockData.from_world(mock_world)) as server:
        yield server


@pytest.fixture()
def openalex(openalex_server):
    """The mock server, its API key requirement reset after the test."""
    yield openalex_server
    openalex_server.api_key = None
