"""Jobs queued in Redis run on ``flask worker`` processes (RQ), not in the web process."""

from __future__ import annotations

import os

from redis import Redis
from rq import Queue

from conference_app.core.db import unit_of_work
from conference_app.core.permissions import Role
from conference_app.jobs import runner, services
from conference_app.jobs.models import JobState
from tests.app.jobs.conftest import REDIS_TEST_URL, reload, run_worker, start

SECRET = "tok-s3cret-value"


def test_a_job_queued_in_redis_runs_on_a_worker_process(rq_app, make_user):
    analyst = make_user(Role.ANALYST)
    job_id = start("test.count", {"steps": 2}, analyst, secrets={"token": SECRET})
    job = reload(job_id)
    assert job.state == JobState.QUEUED and job.rq_job_id == f"job-{job_id}-attempt-1"
    assert Queue(runner.QUEUE_NAME, connection=Redis.from_url(REDIS_TEST_URL)).job_ids == [job.rq_job_id]

    result = run_worker(rq_app)
    assert result.returncode == 0, result.stderr
    job = reload(job_id)
    assert job.state == JobState.FINISHED, job.log
    assert (runner.work_dir(job_id) / "count.txt").read_text() == "2 True\n"  # the secret reached the worker
    assert not (runner.work_dir(job_id) / runner.SECRETS_FILE).exists()
    assert "attempt 1 started" in job.log and f"(process {os.getpid()})" not in job.log  # not this process
    # Outside a request (a worker, the command line) the outputs are full links.
    assert services.job_status(job)["outputs"] == [
        {"label": "count.txt", "url": f"http://127.0.0.1:5000/jobs/{job_id}/outputs/count.txt"}]


def test_a_job_cancelled_while_queued_in_redis_never_runs(rq_app, make_user):
    analyst = make_user(Role.ANALYST)
    job_id = start("test.count", {"steps": 2}, analyst)
    with unit_of_work():
        services.cancel_job(reload(job_id), analyst)
    result = run_worker(rq_app)
    assert result.returncode == 0, result.stderr
    job = reload(job_id)
    assert job.state == JobState.CANCELLED and "attempt 1 started" not in job.log
    assert not (runner.work_dir(job_id) / "count.txt").exists()


def test_a_job_redis_cannot_take_is_failed_with_the_reason(rq_app, make_user):
    rq_app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    job_id = start("test.count", {"steps": 1}, make_user(Role.ANALYST))
    job = reload(job_id)
    assert job.state == JobState.FAILED and job.error.startswith("could not be queued: Redis at 127.0.0.1:1/0 answered")
    assert services.job_status(job)["can_resume"] is False  # test.count is not resumable
