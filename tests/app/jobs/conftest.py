"""Fixtures of the jobs tests: the app with its job thread, Redis for RQ, a worker subprocess,
and a mock OpenAlex server to harvest."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conference_app.core.db import unit_of_work
from conference_app.extensions import db
from conference_app.jobs import runner, services
from conference_app.jobs.models import Job
from selection.institutions import CACHE_DIR_VARIABLE
from selection.openalex.mockserver import MockData, MockOpenAlexServer
from selection.synthetic import generate_world
from tests.app.jobs import kinds_for_tests
from tests.conftest import REPO_ROOT

REDIS_TEST_URL = "redis://127.0.0.1:6379/13"  # a database of its own, emptied by the tests
REDIS_LOCK = Path(tempfile.gettempdir()) / "capital-academic-tests-redis-13.lock"
WORLD_WORKS = 1500
WORLD_SEED = 7


@pytest.fixture
def jobs_app(app):
    """The app running jobs in its own thread (no Redis); every job has run when the test ends."""
    app.config["REDIS_URL"] = ""
    kinds_for_tests.RELEASE.clear()
    kinds_for_tests.STARTED.clear()
    yield app
    kinds_for_tests.RELEASE.set()
    assert runner.wait_until_idle(app, timeout=60), "a job was still running at the end of the test"


@pytest.fixture
def rq_app(app):
    """The app queueing jobs in Redis (database 13, emptied before and after). One test at a
    time uses it, also across the processes of ``pytest -n``."""
    from redis import Redis
    from redis.exceptions import RedisError

    with open(REDIS_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        connection = Redis.from_url(REDIS_TEST_URL)
        try:
            connection.flushdb()
        except RedisError as error:
            pytest.skip(f"no Redis at {REDIS_TEST_URL}: {error}")
        app.config["REDIS_URL"] = REDIS_TEST_URL
        yield app
        app.config["REDIS_URL"] = ""
        connection.flushdb()


def start(kind: str, params: dict, user, secrets: dict | None = None) -> int:
    """Start a job as a request would (committed, then handed over); its id."""
    with unit_of_work():
        job = services.start_job(kind, params, user, secrets=secrets)
    return job.id


def reload(job_id: int) -> Job:
    """The job as the database holds it now."""
    db.session.expire_all()
    return db.session.get(Job, job_id)


def finished(app, job_id: int) -> Job:
    """The job once the app's job thread has run everything it was given."""
    assert runner.wait_until_idle(app, timeout=60)
    return reload(job_id)


def worker_environment(app, **settings: str) -> dict:
    """The environment of a worker process on the test's database, folder and Redis database."""
    return {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "INSTANCE_PATH": app.config["INSTANCE_DIR"], "REDIS_URL": REDIS_TEST_URL, **settings}


def worker_command() -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "tests.app.jobs.worker_app:create_app", "worker", "--burst"]


def run_worker(app, **settings: str) -> subprocess.CompletedProcess:
    """``flask worker --burst`` in a subprocess: runs what is queued, then stops."""
    return subprocess.run(worker_command(), cwd=REPO_ROOT, env=worker_environment(app, **settings),
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def harvest_server(tmp_path_factory):
    """A mock OpenAlex server over a small synthetic world; its institution list is cached in a
    folder of the session (for the worker processes too)."""
    cache = tmp_path_factory.mktemp("selection-cache")
    previous = os.environ.get(CACHE_DIR_VARIABLE)
    os.environ[CACHE_DIR_VARIABLE] = str(cache)
    with MockOpenAlexServer(MockData.from_world(generate_world(WORLD_WORKS, seed=WORLD_SEED)),
                            seed=WORLD_SEED) as server:
        yield server
    if previous is None:
        os.environ.pop(CACHE_DIR_VARIABLE, None)
    else:
        os.environ[CACHE_DIR_VARIABLE] = previous
