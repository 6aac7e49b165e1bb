"""With REDIS_URL the ``mail`` job is queued in Redis and delivered by a ``flask worker`` process."""

from __future__ import annotations

import fcntl
import subprocess
import sys

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import select

from conference_app.core import mail, outbox
from conference_app.core.db import unit_of_work
from conference_app.core.outbox import OutboxMessage, OutboxState
from conference_app.extensions import db
from conference_app.jobs import runner
from conference_app.jobs.models import Job, JobState
from tests.app.jobs.conftest import REDIS_LOCK, REDIS_TEST_URL, worker_environment
from tests.conftest import REPO_ROOT


def test_the_mail_job_runs_on_a_worker_process(mail_app, smtp_server):
    with open(REDIS_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        connection = Redis.from_url(REDIS_TEST_URL)
        try:
            connection.flushdb()
        except RedisError as error:
            pytest.skip(f"no Redis at {REDIS_TEST_URL}: {error}")
        mail_app.config["REDIS_URL"] = REDIS_TEST_URL
        try:
            with unit_of_work():
                mail.send("worker@example.cn", "由工作进程发送", "正文")
            [job] = db.session.scalars(select(Job).where(Job.kind == outbox.JOB_KIND)).all()
            assert job.state == JobState.QUEUED
            assert Queue(runner.QUEUE_NAME, connection=connection).job_ids == [job.rq_job_id]
            assert smtp_server.messages == []  # nothing is delivered in this process

            environment = worker_environment(mail_app, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_server.port))
            result = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "conference_app", "worker",
                 "--burst"], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stderr
        finally:
            mail_app.config["REDIS_URL"] = ""
            connection.flushdb()
    db.session.expire_all()
    assert db.session.get(Job, job.id).state == JobState.FINISHED
    [message] = smtp_server.messages
    assert message["To"] == "worker@example.cn"
    assert [row.state for row in db.session.scalars(select(OutboxMessage))] == [OutboxState.SENT]
