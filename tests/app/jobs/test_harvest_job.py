"""The harvest as a job (acceptance 2 of issue 12): a worker killed in the middle of a harvest
leaves the job resumable, and resumed it gives the works.parquet of an uninterrupted harvest;
a cancelled harvest stops cleanly and resumes the same way.

Where a run stops is chosen from progress, never from the clock: the mock server's page gate
holds every works page of the job's client (its ``mailto``) after a number of them, so the
harvest cannot finish before it is killed or cancelled, however loaded the machine is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pyarrow.parquet as pq
import pytest

from conference_app.core.db import unit_of_work
from conference_app.core.permissions import Role
from conference_app.jobs import runner, services
from conference_app.jobs.models import JobState
from selection.harvest.run import harvest
from selection.harvest.settings import HarvestSettings
from selection.openalex.client import OpenAlexClient
from selection.openalex.mockserver import Faults
from tests.app.jobs.conftest import finished, reload, run_worker, start, worker_command, worker_environment
from tests.conftest import REPO_ROOT

API_KEY = "harvest-key-s3cret"
OPTIONS = {"batch_size": 6, "split_above": 200, "workers": 4}
RATE = 100  # requests per second; the gate, not the pace, decides where a run stops
FAIL_SAFE_SECONDS = 120  # only against a hang: every wait below ends on an event

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def reference(harvest_server, tmp_path_factory):
    """An uninterrupted harvest with the job's settings: its folder, how many works pages it took
    and how many of them were the first pages of its year x batch partitions."""
    out = tmp_path_factory.mktemp("reference") / "harvest"
    counter = harvest_server.gate_pages(None)
    harvest(OpenAlexClient(harvest_server.url, rate=RATE), HarvestSettings(2021, 2025, **OPTIONS), out, quiet=True)
    harvest_server.remove_gate()
    roots = 5 * len(json.loads((out / "state" / "plan.json").read_text())["batches"])
    return out, counter.served, roots


@pytest.fixture
def slow_server(harvest_server, reference):
    """The server a little slow, asking for the API key; reset after the test."""
    harvest_server.faults = Faults(latency=(0.005, 0.02))
    harvest_server.api_key = API_KEY
    yield harvest_server
    harvest_server.remove_gate()
    harvest_server.faults = Faults()
    harvest_server.api_key = None


def harvest_params(server, mailto: str) -> dict:
    return {"years": [2021, 2025], "base_url": server.url, "mailto": mailto, "rate": RATE, **OPTIONS}


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + FAIL_SAFE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def job_state(job_id: int) -> str:
    with unit_of_work():  # showing a job marks it interrupted when its heartbeat is stale
        return services.job_status(reload(job_id))["state"]


def assert_same_works(job_id: int, reference_folder) -> None:
    folder = runner.work_dir(job_id) / "harvest"
    assert json.loads((folder / "manifest.json").read_text())["status"] == "complete"
    assert pq.read_table(folder / "works.parquet").equals(pq.read_table(reference_folder / "works.parquet"))
    assert (folder / "works.parquet").read_bytes() == (reference_folder / "works.parquet").read_bytes()


def test_a_worker_killed_mid_harvest_leaves_the_job_resumable_and_resumed_it_gives_the_same_works(
    rq_app, slow_server, reference, make_user
):
    reference_folder, pages_needed, _ = reference
    analyst = make_user(Role.ANALYST)
    mailto = "killed@harvest.test"
    gate = slow_server.gate_pages(pages_needed // 2, mailto=mailto)
    job_id = start("harvest", harvest_params(slow_server, mailto), analyst, secrets={"api_key": API_KEY})
    worker = subprocess.Popen(worker_command(), cwd=REPO_ROOT, env=worker_environment(rq_app, JOB_HEARTBEAT_SECONDS="1"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for(lambda: gate.wait_until_served(gate.pages, timeout=0.1) or worker.poll() is not None,
                 "the harvest to reach the gate")
        assert worker.poll() is None, worker.stderr.read()
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and everything it started, mid-harvest
        worker.wait(timeout=60)
    slow_server.remove_gate()
    folder = runner.work_dir(job_id) / "harvest"
    assert json.loads((folder / "manifest.json").read_text())["status"] == "running"
    assert not (folder / "works.parquet").exists()
    assert reload(job_id).state == JobState.RUNNING  # nobody could say otherwise

    rq_app.config["JOB_STALE_SECONDS"] = 2
    try:
        wait_for(lambda: job_state(job_id) == "interrupted", "the job to show as interrupted")
    finally:
        rq_app.config["JOB_STALE_SECONDS"] = 60
    job = reload(job_id)
    assert services.job_status(job)["can_resume"] and (runner.work_dir(job_id) / runner.SECRETS_FILE).exists()
    with unit_of_work():
        services.resume_job(job, analyst)

    result = run_worker(rq_app)
    assert result.returncode == 0, result.stderr
    job = reload(job_id)
    assert (job.state, job.attempt) == (JobState.FINISHED, 2), job.log
    assert "(resumed)" in job.log
    assert_same_works(job_id, reference_folder)
    assert [output["path"] for output in job.outputs] == ["harvest/works.parquet", "harvest/manifest.json"]
    assert not (runner.work_dir(job_id) / runner.SECRETS_FILE).exists()
    assert API_KEY not in json.dumps(job.params) + job.log


def test_a_cancelled_harvest_stops_cleanly_and_resumes_to_the_same_works(jobs_app, slow_server, reference,
                                                                           make_user):
    reference_folder, pages_needed, roots = reference
    analyst = make_user(Role.ANALYST)
    mailto = "cancelled@harvest.test"
    # After the first page of every year x batch partition (they go first): the harvest then
    # knows its total and reports progress, and so sees the cancellation, while the gate holds it.
    gate = slow_server.gate_pages((roots + pages_needed) // 2, mailto=mailto)
    assert roots < gate.pages < pages_needed
    job_id = start("harvest", harvest_params(slow_server, mailto), analyst, secrets={"api_key": API_KEY})
    wait_for(lambda: gate.wait_until_served(gate.pages, timeout=0.1), "the harvest to reach the gate")
    with unit_of_work():
        services.cancel_job(reload(job_id), analyst)
    job = finished(jobs_app, job_id)
    assert job.state == JobState.CANCELLED, job.log
    assert job.progress["unit"] and job.progress["total"] and job.progress["done"] < job.progress["total"]
    folder = runner.work_dir(job_id) / "harvest"
    assert json.loads((folder / "manifest.json").read_text())["status"] == "interrupted"
    slow_server.remove_gate()
    # The stopped run's workers may still be waiting for a held page: let them end first.
    wait_for(lambda: not any(thread.name.startswith("harvest-") for thread in threading.enumerate()),
             "the cancelled harvest's workers to end")

    with unit_of_work():
        services.resume_job(reload(job_id), analyst)
    job = finished(jobs_app, job_id)
    assert (job.state, job.attempt) == (JobState.FINISHED, 2), job.log
    assert_same_works(job_id, reference_folder)
