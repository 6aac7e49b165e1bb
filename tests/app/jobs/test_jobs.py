"""Background jobs in the web process's own thread (no Redis): start, progress, log, outputs,
cancel, resume, failure, crash recovery, secrets and who may see what."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from conference_app.audit.models import AuditEntry
from conference_app.core.db import unit_of_work, utcnow
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.jobs import runner, services
from conference_app.jobs.models import Job, JobState
from conference_app.jobs.registry import JobContext
from tests.app.conftest import log_in_session
from tests.app.helpers import csrf_token
from tests.app.jobs import kinds_for_tests
from tests.app.jobs.conftest import finished, reload, start

SECRET = "tok-s3cret-value"


def test_a_job_runs_reports_progress_and_log_and_its_output_downloads(jobs_app, client, make_user):
    analyst = make_user(Role.ANALYST)
    job_id = start("test.count", {"steps": 3, "api_key_hint": "abc", "note": "北京"}, analyst,
                   secrets={"token": SECRET})
    job = finished(jobs_app, job_id)
    assert job.state == JobState.FINISHED and job.attempt == 1 and job.error is None
    assert job.started_at is not None and job.finished_at >= job.started_at
    assert job.progress == {"done": 3, "total": 3, "unit": "steps", "eta_seconds": None, "message": "step 3 of 3"}
    assert [line.split(" ", 2)[2] for line in job.log.splitlines() if " step " in line] == ["step 1", "step 2", "step 3"]
    assert "attempt 1 started" in job.log and job.log.rstrip().endswith("finished")
    assert job.outputs == [{"label": "count.txt", "path": "count.txt"}]
    assert [entry.action for entry in db.session.scalars(select(AuditEntry))] == ["job.started"]

    log_in_session(client, analyst)
    status = client.get(f"/jobs/{job_id}/status.json").get_json()
    assert status["state"] == "finished" and status["user"] == analyst.name
    assert status["progress"]["percent"] == 100.0 and status["progress"]["text"] == "3 / 3 steps"
    assert status["params"] == {"steps": 3, "api_key_hint": "***", "note": "北京"}
    assert not status["can_cancel"] and not status["can_resume"]
    (output,) = status["outputs"]
    download = client.get(output["url"])
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert download.get_data(as_text=True) == "3 True\n"  # the function got the secret
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "js/jobs.js" in page and "count.txt" in page and "step 3 of 3" in page
    assert '"note": "北京"' in page.replace("&#34;", '"')  # the parameters read as written, not \\u escapes
    assert f'href="/jobs/{job_id}"' in client.get("/jobs/").get_data(as_text=True)


def test_secrets_stay_out_of_the_row_and_the_status_and_leave_with_the_job(jobs_app, client, make_user):
    analyst = make_user(Role.ANALYST)
    job_id = start("test.wait", {"api_key": "in-clear-is-masked"}, analyst, secrets={"token": SECRET})
    folder = runner.work_dir(job_id)
    secrets_file = folder / runner.SECRETS_FILE
    assert json.loads(secrets_file.read_text()) == {"token": SECRET}
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    row = db.session.execute(text("SELECT * FROM jobs WHERE id = :id"), {"id": job_id}).one()
    assert SECRET not in repr(tuple(row))
    assert db.session.scalars(select(AuditEntry)).one().details["params"] == {"api_key": "***"}
    log_in_session(client, analyst)
    assert kinds_for_tests.STARTED.wait(30)
    response = client.get(f"/jobs/{job_id}/status.json")
    assert SECRET not in response.get_data(as_text=True) and "in-clear-is-masked" not in response.get_data(as_text=True)
    assert client.get(f"/jobs/{job_id}/outputs/{runner.SECRETS_FILE}").status_code == 404
    kinds_for_tests.RELEASE.set()
    assert finished(jobs_app, job_id).state == JobState.FINISHED
    assert not secrets_file.exists() and folder.is_dir()


def test_a_start_that_rolls_back_leaves_no_row_no_folder_and_runs_nothing(jobs_app, make_user):
    analyst = make_user(Role.ANALYST)
    with pytest.raises(RuntimeError), unit_of_work():
        job = services.start_job("test.count", {"steps": 1}, analyst, secrets={"token": SECRET})
        folder = runner.work_dir(job.id)
        assert folder.is_dir()
        raise RuntimeError("the request failed after the start")
    assert runner.wait_until_idle(jobs_app, timeout=60)
    assert db.session.scalar(select(Job.id)) is None and not folder.exists()


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("no.such.kind", {}, "没有名为 no.such.kind 的后台任务类型。"),
    ("test.count", ["steps", 1], "后台任务的参数须为 JSON 对象。"),
    ("test.count", {"steps": float("nan")}, "后台任务的参数须为 JSON 值。"),
    ("harvest", {"years": [2019, 2025]}, "采集的年份跨度须为 3 至 5 年。"),
    ("harvest", {"from_year": 2025, "to_year": 2021}, "采集的起始年份晚于结束年份。"),
    ("harvest", {"years": "last five"}, "采集的年份为起止年份，例如 2021-2025。"),
    ("harvest", {"years": [2021, 2025], "base_url": "ftp://x"}, "OpenAlex 地址须为 http(s) 网址。"),
    ("harvest", {"years": [2021, 2025], "disciplines": ["alchemy"]}, "未知学科：alchemy；有效代码：mathematics, "),
    ("harvest", {"years": [2021, 2025], "workers": 0}, "workers 须为整数（1-64）。"),
    ("harvest", {"years": "2021-2025", "institutions_path": "/no/such/list.csv"}, "找不到采集所用的机构名单文件。"),
])
def test_a_job_that_cannot_start_is_refused_with_the_reason(jobs_app, make_user, kind, params, message):
    with pytest.raises(ServiceError) as refused:
        services.start_job(kind, params, make_user(Role.ANALYST))
    assert str(refused.value).startswith(message)
    db.session.rollback()
    assert db.session.scalar(select(Job.id)) is None


def test_cancel_a_queued_job_at_once_and_a_running_one_at_its_next_report(jobs_app, client, make_user):
    analyst = make_user(Role.ANALYST)
    running_id = start("test.wait", {}, analyst)
    queued_id = start("test.count", {"steps": 2}, analyst)  # waits behind it: one job thread
    assert kinds_for_tests.STARTED.wait(30)
    log_in_session(client, analyst)
    token = csrf_token(client, f"/jobs/{queued_id}")
    assert reload(queued_id).state == JobState.QUEUED
    client.post(f"/jobs/{queued_id}/cancel", data={"csrf_token": token})
    assert reload(queued_id).state == JobState.CANCELLED
    assert "取消任务" in client.get(f"/jobs/{running_id}").get_data(as_text=True)
    client.post(f"/jobs/{running_id}/cancel", data={"csrf_token": token})
    assert reload(running_id).cancel_requested
    cancelled = finished(jobs_app, running_id)
    assert cancelled.state == JobState.CANCELLED and cancelled.log.rstrip().endswith("cancelled")
    never_ran = reload(queued_id)
    assert never_ran.state == JobState.CANCELLED and "attempt 1 started" not in never_ran.log and never_ran.started_at is None
    assert [entry.action for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
        "job.started", "job.started", "job.cancelled", "job.cancel_requested"]
    response = client.post(f"/jobs/{queued_id}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "该任务已结束，无可取消。" in response.get_data(as_text=True)


def test_a_failed_job_keeps_its_message_and_resumes_in_its_folder(jobs_app, client, make_user):
    analyst = make_user(Role.ANALYST)
    job_id = start("test.flaky", {}, analyst)
    failed = finished(jobs_app, job_id)
    assert failed.state == JobState.FAILED and failed.error == "the first attempt fails on purpose"
    assert "ValueError: the first attempt fails on purpose" in failed.log and "Traceback" in failed.log
    log_in_session(client, analyst)
    status = client.get(f"/jobs/{job_id}/status.json").get_json()
    assert status["can_resume"] and not status["can_cancel"]
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "the first attempt fails on purpose" in page and "继续任务" in page
    client.post(f"/jobs/{job_id}/resume", data={"csrf_token": csrf_token(client, f"/jobs/{job_id}")})
    resumed = finished(jobs_app, job_id)
    assert resumed.state == JobState.FINISHED and resumed.attempt == 2 and resumed.error is None
    assert (runner.work_dir(job_id) / "whole.txt").read_text() == "first half\nsecond half, attempt 2\n"
    assert "attempt 2 started" in resumed.log
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "job.resumed")).one()
    assert (entry.from_state, entry.to_state, entry.details) == ("failed", "queued", {"attempt": 2})


def test_a_job_of_a_kind_that_cannot_resume_is_not_resumed(jobs_app, client, make_user):
    analyst = make_user(Role.ANALYST)
    job_id = start("test.broken", {}, analyst)
    job = finished(jobs_app, job_id)
    assert job.state == JobState.FAILED and "is not a file in the job's folder" in job.error
    log_in_session(client, analyst)
    response = client.post(f"/jobs/{job_id}/resume", data={"csrf_token": csrf_token(client, f"/jobs/{job_id}")},
                           follow_redirects=True)
    assert "此类任务无法继续，请重新启动一个。" in response.get_data(as_text=True)
    assert reload(job_id).state == JobState.FAILED and reload(job_id).attempt == 1


def test_a_running_job_whose_heartbeat_stopped_is_interrupted_and_resumable(jobs_app, client, make_user):
    """A worker that died leaves its job running with an old heartbeat: listed or shown, it is interrupted."""
    analyst = make_user(Role.ANALYST)
    stale = utcnow() - timedelta(seconds=jobs_app.config["JOB_STALE_SECONDS"] + 1)
    lost = Job(kind="test.flaky", params={}, user_id=analyst.id, state=JobState.RUNNING, attempt=1, log="",
               started_at=stale, heartbeat_at=stale, progress={}, outputs=[])
    alive = Job(kind="test.flaky", params={}, user_id=analyst.id, state=JobState.RUNNING, attempt=1, log="",
                started_at=stale, heartbeat_at=utcnow(), progress={}, outputs=[])
    db.session.add_all([lost, alive])
    db.session.commit()
    runner.work_dir(lost.id).mkdir(parents=True, exist_ok=True)
    (runner.work_dir(lost.id) / "half.txt").write_text("first half\n")
    log_in_session(client, analyst)
    status = client.get(f"/jobs/{lost.id}/status.json").get_json()
    assert status["state"] == "interrupted" and status["can_resume"] and "no heartbeat" in status["log_tail"][-1]
    assert reload(alive.id).state == JobState.RUNNING
    client.post(f"/jobs/{lost.id}/resume", data={"csrf_token": csrf_token(client, f"/jobs/{lost.id}")})
    resumed = finished(jobs_app, lost.id)
    assert resumed.state == JobState.FINISHED and resumed.attempt == 2


def test_a_late_heartbeat_revives_its_job_and_a_newer_attempt_stops_the_old_run(jobs_app, make_user):
    job = Job(kind="test.flaky", params={}, user_id=make_user(Role.ANALYST).id, state=JobState.INTERRUPTED,
              attempt=1, log="", progress={}, outputs=[], finished_at=utcnow())
    db.session.add(job)
    db.session.commit()
    context = JobContext(job.id, {}, runner.work_dir(job.id), attempt=1)
    heartbeat = runner.Heartbeat(context, interval=60)
    heartbeat.beat()  # the run was alive after all: its job is running again
    revived = reload(job.id)
    assert revived.state == JobState.RUNNING and revived.finished_at is None and not context.cancelled()
    db.session.execute(update(Job).where(Job.id == job.id).values(state=JobState.QUEUED, attempt=2))
    db.session.commit()
    heartbeat.beat()  # resumed meanwhile: the old run must stop, and writes nothing more
    assert context.cancelled() and reload(job.id).state == JobState.QUEUED


def test_a_user_sees_and_acts_on_their_own_jobs_staff_on_all(jobs_app, client, make_user):
    owner, other, staff = make_user(Role.ANALYST), make_user(Role.ANALYST), make_user(Role.STAFF)
    job_id = start("test.count", {"steps": 1}, owner)
    output = finished(jobs_app, job_id).outputs[0]["path"]
    log_in_session(client, other)
    for url in (f"/jobs/{job_id}", f"/jobs/{job_id}/status.json", f"/jobs/{job_id}/outputs/{output}"):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/jobs/")
    for action in ("cancel", "resume"):
        assert client.post(f"/jobs/{job_id}/{action}", data={"csrf_token": token}).status_code == 403
    assert f"/jobs/{job_id}" not in client.get("/jobs/").get_data(as_text=True)
    assert client.get("/jobs/987654").status_code == 404
    log_in_session(client, owner)
    assert client.get(f"/jobs/{job_id}/outputs/../../secret_key").status_code == 404
    assert client.get(f"/jobs/{job_id}/outputs/undeclared.txt").status_code == 404
    log_in_session(client, staff)
    assert client.get(f"/jobs/{job_id}/outputs/{output}").status_code == 200
    assert owner.name in client.get("/jobs/").get_data(as_text=True)
    with pytest.raises(ServiceError, match="您无权更改该任务。"):
        services.cancel_job(reload(job_id), other)


def test_the_queued_jobs_of_a_stopped_process_run_when_the_next_one_starts_its_thread(jobs_app, make_user):
    """Without Redis a queued job lives in the process that queued it; the next process runs it."""
    analyst = make_user(Role.ANALYST)
    left = Job(kind="test.count", params={"steps": 1}, user_id=analyst.id, state=JobState.QUEUED, attempt=1,
               log="", progress={}, outputs=[])
    db.session.add(left)
    db.session.commit()
    jobs_app.extensions.pop(runner.EXTENSION_KEY, None)  # as in a new process: no job thread yet
    try:
        runner.local_worker(jobs_app)
        assert finished(jobs_app, left.id).state == JobState.FINISHED
    finally:
        assert runner.wait_until_idle(jobs_app, timeout=60)


def test_the_worker_command_without_redis_says_so_in_one_line(jobs_app):
    result = jobs_app.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: no Redis is configured (REDIS_URL is empty): jobs run in a thread of the web process, "
        "no worker is needed"]
