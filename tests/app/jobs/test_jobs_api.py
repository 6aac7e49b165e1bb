"""The jobs' JSON API: start a job of a kind the token user may start, follow it, cancel it;
scope, ownership and bad bodies refused in JSON with nothing written."""

from __future__ import annotations

from sqlalchemy import func, select

from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.jobs import runner
from conference_app.jobs.models import Job, JobState
from tests.app.events.api_helpers import assert_api_error, bearer, post_json, token_for
from tests.app.jobs import kinds_for_tests
from tests.app.jobs.conftest import reload, start


def job_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Job))


def test_a_token_starts_a_job_follows_it_to_its_outputs_and_never_sees_its_secret(jobs_app, client, make_user):
    analyst = make_user(Role.ANALYST)
    token = token_for(analyst, "jobs")
    response = post_json(client, "/api/v1/jobs", {"kind": "test.count", "params": {"steps": 3},
                                                  "secrets": {"token": "tok-s3cret-value"}}, token)
    assert response.status_code == 201, response.get_data(as_text=True)
    started = response.get_json()
    assert started["kind"] == "test.count" and started["state"] == "queued" and started["attempt"] == 1
    assert started["params"] == {"steps": 3} and "tok-s3cret-value" not in response.get_data(as_text=True)
    assert runner.wait_until_idle(jobs_app, timeout=60)
    status = client.get(f"/api/v1/jobs/{started['id']}", headers=bearer(token)).get_json()
    assert status["state"] == "finished" and status["progress"]["done"] == 3 and status["progress"]["percent"] == 100
    assert [output["label"] for output in status["outputs"]] == ["count.txt"]
    assert status["finished_at"].endswith("+08:00")
    assert (runner.work_dir(started["id"]) / "count.txt").read_text() == "3 True\n"  # the secret reached the job
    listed = client.get("/api/v1/jobs", headers=bearer(token)).get_json()
    assert [job["id"] for job in listed["jobs"]] == [started["id"]] and listed["total"] == 1


def test_the_kind_decides_who_may_start_it(jobs_app, client, make_user):
    society_token = token_for(make_user(Role.SOCIETY), "jobs")
    analyst_token = token_for(make_user(Role.ANALYST), "jobs")
    # A harvest is the analysts' (the workbench's permission), refused to a society's user.
    assert_api_error(post_json(client, "/api/v1/jobs", {"kind": "harvest", "params": {"years": "2021-2024"}},
                               society_token), 403, "harvest")
    # A kind without a start permission is started by its own pages only.
    assert_api_error(post_json(client, "/api/v1/jobs", {"kind": "test.wait"}, analyst_token), 403)
    assert_api_error(post_json(client, "/api/v1/jobs", {"kind": "no.such.kind"}, analyst_token), 400, "no.such.kind")
    # The kind's own check speaks for bad parameters.
    message = assert_api_error(post_json(client, "/api/v1/jobs", {"kind": "harvest", "params": {"years": "2021"}},
                                         analyst_token), 400)
    assert "年" in message
    assert job_count() == 0


def test_malformed_bodies_are_a_400_naming_the_member(jobs_app, client, make_user):
    token = token_for(make_user(Role.ANALYST), "jobs")
    for body, member in [({}, "kind"), ({"kind": 7}, "kind"), ({"kind": "test.count", "params": []}, "params"),
                         ({"kind": "test.count", "secrets": {"token": 1}}, "secrets.token"), ("[1]", None)]:
        message = assert_api_error(post_json(client, "/api/v1/jobs", body, token), 400)
        assert member is None or member in message, (body, message)
    assert job_count() == 0


def test_a_token_sees_and_cancels_only_its_users_jobs_and_staff_every_job(jobs_app, client, make_user):
    owner, other, staff = make_user(Role.ANALYST), make_user(Role.ANALYST), make_user(Role.STAFF)
    job_id = start("test.wait", {}, owner)
    assert kinds_for_tests.STARTED.wait(30)
    other_token, owner_token = token_for(other, "jobs"), token_for(owner, "jobs")
    assert_api_error(client.get(f"/api/v1/jobs/{job_id}", headers=bearer(other_token)), 403)
    assert_api_error(post_json(client, f"/api/v1/jobs/{job_id}/cancel", {}, other_token), 403)
    assert client.get("/api/v1/jobs", headers=bearer(other_token)).get_json()["total"] == 0
    assert client.get(f"/api/v1/jobs/{job_id}", headers=bearer(token_for(staff, "jobs"))).status_code == 200
    # A token of another scope is refused even for the user's own job.
    assert_api_error(client.get(f"/api/v1/jobs/{job_id}", headers=bearer(token_for(owner, "selection"))), 403)
    cancelled = post_json(client, f"/api/v1/jobs/{job_id}/cancel", {}, owner_token)
    assert cancelled.status_code == 200 and cancelled.get_json()["cancel_requested"] is True
    assert runner.wait_until_idle(jobs_app, timeout=60)
    assert reload(job_id).state == JobState.CANCELLED
    assert_api_error(post_json(client, f"/api/v1/jobs/{job_id}/cancel", {}, owner_token), 409)


def test_without_a_token_the_jobs_api_is_a_401(client):
    for method, path in [("GET", "/api/v1/jobs"), ("POST", "/api/v1/jobs"), ("GET", "/api/v1/jobs/1"),
                         ("POST", "/api/v1/jobs/1/cancel")]:
        assert_api_error(client.open(path, method=method, json={"kind": "test.count"}), 401)
