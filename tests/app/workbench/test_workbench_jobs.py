"""The workbench's job kinds run by the web process's job thread: an institution list refreshed from
the mock OpenAlex server (its API key a secret, the hand-added rows kept, the list used by a next
harvest), a harvest renormalised from its raw pages, a ranking imported as a round; each refuses
bad parameters in Chinese, and only the workbench's users start them."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from conference_app.core.db import unit_of_work, utcnow
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.jobs import runner
from conference_app.jobs import services as jobs
from conference_app.jobs.models import Job, JobState
from conference_app.jobs.registry import JOB_KINDS
from conference_app.panels.models import SelectionRound
from conference_app.workbench import services
from selection.institutions import beijing_institutions_from_openalex, load_institution_list
from selection.openalex.client import OpenAlexClient
from tests.app.conftest import log_in_session
from tests.app.helpers import csrf_token
from tests.app.workbench.conftest import make_job

API_KEY = "refresh-key-Hq27-secret"
MANUAL_ID, MANUAL_NAME = "I4210090411", "北京量子信息科学研究院"
WORKBENCH_KINDS = ("harvest", "rank", "institutions", "renormalise", "import_round")


@pytest.fixture()
def analyst(make_user, client):
    user = make_user(Role.ANALYST, name="分析员乙")
    log_in_session(client, user)
    return user


def post(client, url: str, data: dict, **kwargs):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/workbench/")}, **kwargs)


def ran(app, job_id: int) -> Job:
    """The job once the job thread has run everything it was given."""
    assert runner.wait_until_idle(app, timeout=120), "a job did not end"
    db.session.expire_all()
    return db.session.get(Job, job_id)


def started_job(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert "/jobs/" in location, location
    return int(location.rsplit("/", 1)[1])


def start_as(user, kind: str, params: dict) -> int:
    """Start a job as the JSON API does (by its name, committed, then handed to the job thread)."""
    with unit_of_work():
        job = jobs.start_job_by_name(kind, params, user)
    return job.id


def test_the_workbench_kinds_are_started_by_the_workbench_users_only(app, make_user):
    assert all(JOB_KINDS[kind].start_permission == "workbench.view" for kind in WORKBENCH_KINDS)
    for role in set(Role) - {Role.ANALYST}:
        user = make_user(role)
        for kind in WORKBENCH_KINDS:
            with pytest.raises(ServiceError) as refused:
                jobs.start_job_by_name(kind, {}, user)
            assert refused.value.status == 403 and kind in refused.value.message
    assert db.session.scalar(select(Job.id)) is None


@pytest.mark.parametrize("role", sorted(set(Role) - {Role.ANALYST}))
def test_the_job_pages_refuse_users_without_the_workbench(client, make_user, role, finished_harvest,
                                                          finished_rankings):
    owner = make_user(Role.ANALYST)
    harvest = finished_harvest(owner)
    ranking, _second = finished_rankings(owner)
    refresh = make_job(owner, "institutions", {"base_url": "http://127.0.0.1:9"})
    log_in_session(client, make_user(role))
    count = db.session.scalar(select(db.func.count(Job.id)))
    for url in ("/workbench/institutions/new", f"/workbench/institutions/{refresh.id}",
                f"/workbench/institutions/{refresh.id}/institutions.csv"):
        assert client.get(url).status_code == 403, url
    for url, data in ((f"/workbench/harvests/{harvest.id}/renormalise", {}),
                      ("/workbench/institutions/new", {"base_url": "http://127.0.0.1:9", "rate": "5"}),
                      (f"/workbench/institutions/{refresh.id}/rows", {"institution_id": "I1", "display_name": "x"}),
                      (f"/workbench/rankings/{ranking.id}/import", {"name": "不可以"})):
        assert post(client, url, data).status_code == 403, url
    assert db.session.scalar(select(db.func.count(Job.id))) == count  # nothing started


def test_an_institution_list_refresh_keeps_the_hand_added_rows(app, client, analyst, finished_harvest, openalex,
                                                               monkeypatch):
    openalex.api_key = API_KEY  # the server answers only with the key: the job got its secret
    harvest = finished_harvest(analyst)
    post(client, f"/workbench/harvests/{harvest.id}/institutions", {"institution_id": MANUAL_ID,
                                                                   "display_name": MANUAL_NAME})
    overview = client.get("/workbench/").get_data(as_text=True)
    assert 'data-testid="refresh-institutions"' in overview
    assert overview.count('data-testid="lists-table"') == 1  # once, in the page, not in its <title>
    assert "<table" not in overview.split("<title>", 1)[1].split("</title>", 1)[0]
    form = client.get(f"/workbench/institutions/new?current={harvest.id}").get_data(as_text=True)
    assert f'<option selected value="{harvest.id}">' in form and 'name="api_key"' in form

    response = post(client, "/workbench/institutions/new", {
        "current_list": str(harvest.id), "base_url": openalex.url + "/", "rate": "1000",
        "mailto": "analyst@example.cn", "api_key": API_KEY})
    job = ran(app, started_job(response))
    assert job.kind == "institutions" and job.state == JobState.FINISHED, job.log
    assert job.params["base_url"] == openalex.url and job.params["current_list_job_id"] == harvest.id
    assert API_KEY not in json.dumps(job.params) and API_KEY not in job.log
    assert not (runner.work_dir(job.id) / runner.SECRETS_FILE).exists()  # the secret is gone with the job
    assert job.progress["done"] == job.progress["total"] > 0 and job.progress["unit"] == "个机构"
    assert "institutions (" in job.log and "requests" in job.log

    # The list: every institution the server places in Beijing, plus the hand-added row.
    assert [output["label"] for output in job.outputs] == ["institutions.csv"]
    download = client.get(f"/jobs/{job.id}/outputs/institutions.csv")
    rows = {row["institution_id"]: row for row in csv.DictReader(io.StringIO(download.get_data(as_text=True)))}
    server = beijing_institutions_from_openalex(OpenAlexClient(openalex.url, api_key=API_KEY, rate=1000))
    assert server and set(server) <= set(rows)
    assert rows[MANUAL_ID]["reason"] == "manual" and rows[MANUAL_ID]["display_name"] == MANUAL_NAME
    assert {key for key, row in rows.items() if row["reason"] == "geo"} == set(server)

    page = client.get(f"/workbench/institutions/{job.id}").get_data(as_text=True)
    assert f'data-testid="institution-{MANUAL_ID}"' in page and "手工添加" in page
    assert f"共 {len(rows)} 个机构" in page and API_KEY not in page
    assert f"/workbench/institutions/{job.id}" in client.get("/workbench/").get_data(as_text=True)

    # Edited in the workbench like a harvest's list.
    assert post(client, f"/workbench/institutions/{job.id}/rows", {"institution_id": "I77",
                                                                   "display_name": "新机构"}).status_code == 302
    removed = next(iter(server))
    assert post(client, f"/workbench/institutions/{job.id}/rows/{removed}/remove", {}).status_code == 302
    edited = load_institution_list(services.edited_list_path(job))
    assert "I77" in edited and removed not in edited
    assert "已在工作台中修改" in client.get(f"/workbench/institutions/{job.id}").get_data(as_text=True)

    # A new harvest can use the refreshed list (a frozen copy of it as edited).
    monkeypatch.setattr(runner, "enqueue", lambda app, job_id, rq_job_id: None)
    form = client.get("/workbench/harvests/new").get_data(as_text=True)
    assert f'<option value="{job.id}">已更新名单 #{job.id}' in form
    response = post(client, "/workbench/harvests/new", {
        "from_year": "2021", "to_year": "2025", "base_url": openalex.url, "rate": "5", "institutions": str(job.id)})
    harvest_job = db.session.get(Job, started_job(response))
    assert harvest_job.params["institutions_of_refresh"] == job.id
    used = load_institution_list(harvest_job.params["institutions_path"])
    assert "I77" in used and MANUAL_ID in used and removed not in used


def test_a_refresh_without_the_api_key_the_server_asks_for_fails_in_chinese(app, client, analyst, openalex):
    openalex.api_key = API_KEY
    job = ran(app, started_job(post(client, "/workbench/institutions/new", {"base_url": openalex.url,
                                                                             "rate": "1000"})))
    assert job.state == JobState.FAILED and job.error == "服务器拒绝了该 API 密钥。"
    assert not (runner.work_dir(job.id) / "institutions.csv").exists() and job.outputs == []
    page = client.get(f"/workbench/institutions/{job.id}").get_data(as_text=True)
    assert "更新完成后，名单会显示在这里。" in page
    assert post(client, f"/workbench/institutions/{job.id}/rows", {"institution_id": "I77",
                                                                   "display_name": "x"}).status_code == 409


def test_the_refresh_refuses_bad_parameters_in_chinese(app, client, analyst, finished_rankings):
    response = post(client, "/workbench/institutions/new", {"base_url": "ftp://mirror", "rate": "0",
                                                             "mailto": "not-an-address", "api_key": API_KEY})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    for message in ("http:// 或 https://", "请求速率须在", "请填写有效的电子邮箱地址"):
        assert message in text, message
    assert API_KEY not in text
    assert post(client, "/workbench/institutions/new", {"base_url": "http://127.0.0.1:9", "rate": "5",
                                                         "current_list": "999999"}).status_code == 400
    ranking, _second = finished_rankings(analyst)
    for params, message in (({"base_url": "file:///etc"}, "OpenAlex 地址须为 http(s) 网址。"),
                            ({"rate": -1}, "请求速率须为每秒请求数"),
                            ({"rate": "fast"}, "请求速率须为每秒请求数"),
                            ({"mailto": "nobody"}, "联系地址须为电子邮箱地址。"),
                            ({"current_list_job_id": ranking.id}, "请选择要保留其手工添加机构的采集或已更新名单。")):
        with pytest.raises(ServiceError) as refused:
            jobs.start_job("institutions", params, analyst)
        assert message in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(db.func.count(Job.id)).where(Job.kind == "institutions")) == 0


def test_a_harvest_renormalised_from_its_raw_pages(app, client, analyst, finished_harvest, harvest_output):
    harvest = finished_harvest(analyst)
    page = client.get(f"/workbench/harvests/{harvest.id}").get_data(as_text=True)
    assert 'data-testid="renormalise"' in page
    before = pq.read_table(harvest_output / "works.parquet")
    job = ran(app, started_job(post(client, f"/workbench/harvests/{harvest.id}/renormalise", {})))
    assert job.state == JobState.FINISHED, job.log
    assert job.params == {"harvest_job_id": harvest.id} and job.progress["done"] == job.progress["total"] == 2
    assert "works rebuilt from" in job.log
    folder = services.harvest_folder(harvest)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    done = manifest["renormalised"][-1]
    assert done["works"] == before.num_rows and done["raw_pages"] > 0
    after = pq.read_table(folder / "works.parquet")
    assert sorted(after.column("work_id").to_pylist()) == sorted(before.column("work_id").to_pylist())
    assert {output["label"] for output in job.outputs} == {"works.parquet", "manifest.json"}
    for output in job.outputs:
        download = client.get(f"/jobs/{job.id}/outputs/{output['path']}")
        assert download.status_code == 200 and download.data == (folder / output["label"]).read_bytes()

    page = client.get(f"/workbench/harvests/{harvest.id}").get_data(as_text=True)
    assert 'data-testid="renormalisations-table"' in page and f"/jobs/{job.id}" in page
    assert f"<td>{before.num_rows}</td>" in page


def test_renormalising_refuses_what_it_cannot_rebuild(app, client, make_user, analyst, finished_harvest):
    running = make_job(analyst, "harvest", {"from_year": 2021, "to_year": 2025}, state=JobState.RUNNING)
    response = post(client, f"/workbench/harvests/{running.id}/renormalise", {})
    assert response.status_code == 409 and "只有已完成的采集才能重新规范化。" in response.get_data(as_text=True)
    assert 'data-testid="renormalise"' not in client.get(f"/workbench/harvests/{running.id}").get_data(as_text=True)

    harvest = finished_harvest(analyst)
    under_way = make_job(analyst, "renormalise", {"harvest_job_id": harvest.id}, state=JobState.RUNNING)
    under_way.heartbeat_at = utcnow()  # its worker is alive
    db.session.commit()
    busy = post(client, f"/workbench/harvests/{harvest.id}/renormalise", {})
    assert busy.status_code == 409 and "此采集的重新规范化正在进行中。" in busy.get_data(as_text=True)

    other = finished_harvest(make_user(Role.ANALYST))
    assert post(client, f"/workbench/harvests/{other.id}/renormalise", {}).status_code == 403
    # Started by its name (the API), another user's harvest is refused when the job runs.
    job = ran(app, start_as(analyst, "renormalise", {"harvest_job_id": other.id}))
    assert job.state == JobState.FAILED and "属于其他用户" in job.error
    with pytest.raises(ServiceError) as refused:
        jobs.start_job("renormalise", {"harvest_job_id": "1"}, analyst)
    assert refused.value.message == "请选择要重新规范化的采集。"
    db.session.rollback()

    # A harvest without its raw pages: the job says so in Chinese.
    bare = finished_harvest(analyst)
    shutil.rmtree(services.harvest_folder(bare) / "raw")
    job = ran(app, started_job(post(client, f"/workbench/harvests/{bare.id}/renormalise", {})))
    assert job.state == JobState.FAILED and job.error == "采集没有保存可用于重建的原始页面：请重新采集。"


def test_a_ranking_imported_as_a_round_by_a_job(app, client, make_user, analyst, finished_rankings):
    ranking, second = finished_rankings(analyst)
    empty = post(client, f"/workbench/rankings/{ranking.id}/import", {"name": "  "})
    assert empty.status_code == 400 and "请填写轮次名称。" in empty.get_data(as_text=True)

    job = ran(app, started_job(post(client, f"/workbench/rankings/{ranking.id}/import", {"name": "工作台轮次"})))
    assert job.kind == "import_round" and job.state == JobState.FINISHED, job.log
    selection_round = db.session.scalar(select(SelectionRound))
    assert selection_round.name == "工作台轮次" and selection_round.source_folder == f"workbench-ranking-{ranking.id}"
    assert selection_round.created_by_id == analyst.id and selection_round.candidate_count > 0
    assert [output["label"] for output in job.outputs] == ["round.json"]
    document = json.loads(client.get(f"/jobs/{job.id}/outputs/round.json").data)
    assert document["round_id"] == selection_round.id and document["created"] is True
    assert document["url"].endswith(f"/panels/rounds/{selection_round.id}")
    assert f"/panels/rounds/{selection_round.id}" in job.log
    job_page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f'href="/panels/rounds/{selection_round.id}" data-testid="job-link"' in job_page
    assert client.get(f"/jobs/{job.id}/status.json").json["links"][0]["url"] == f"/panels/rounds/{selection_round.id}"

    page = client.get(f"/workbench/rankings/{ranking.id}").get_data(as_text=True)
    assert 'data-testid="imported-round"' in page and 'data-testid="import-round-link"' in page
    assert f'href="/panels/rounds/{selection_round.id}"' in page and 'name="name"' not in page
    again = post(client, f"/workbench/rankings/{ranking.id}/import", {"name": "再来一次"})
    assert again.status_code == 409 and "此排名已导入为轮次“工作台轮次”。" in again.get_data(as_text=True)
    taken = post(client, f"/workbench/rankings/{second.id}/import", {"name": "工作台轮次"})
    assert taken.status_code == 409 and "名为“工作台轮次”的轮次已存在" in taken.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Job.id)).where(Job.kind == "import_round")) == 1

    # Started by its name (the API): a missing name or an unfinished ranking is refused at once,
    # another user's ranking when the job runs, nothing imported.
    running = make_job(analyst, "rank", {"harvest_job_id": 1, "settings": {}}, state=JobState.RUNNING)
    for params, message in (({"ranking_job_id": second.id}, "轮次名称"),
                            ({"ranking_job_id": running.id, "name": "太早"}, "只有已完成的排名才能导入。"),
                            ({"ranking_job_id": "x", "name": "x"}, "请选择要导入的排名。"),
                            ({"ranking_job_id": 2**40, "name": "x"}, "请选择要导入的排名。")):
        with pytest.raises(ServiceError) as refused:
            jobs.start_job("import_round", params, analyst)
        assert message in refused.value.message
    db.session.rollback()
    other_user = make_user(Role.ANALYST)
    job = ran(app, start_as(other_user, "import_round", {"ranking_job_id": second.id, "name": "别人的"}))
    assert job.state == JobState.FAILED and "属于其他用户" in job.error
    assert db.session.scalar(select(db.func.count(SelectionRound.id))) == 1
