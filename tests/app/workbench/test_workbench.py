"""The workbench's pages: who may open them, the harvest form (its checks in Chinese, the API key
kept out of every page), a harvest's manifest and its editable institution list, the rank form
checked by the selection library, a ranking run as a job, compared and imported as a round."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from sqlalchemy import select

from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.jobs import runner
from conference_app.jobs.models import Job, JobState
from conference_app.panels.models import Candidate, SelectionRound
from conference_app.workbench import services
from selection.institutions import load_institution_list
from tests.app.conftest import log_in_session
from tests.app.helpers import csrf_token

SECRET_KEY = "oa-key-Zq81-do-not-show"
RANK_DEFAULTS = {"weight_influence": "0.35", "weight_hot": "0.25", "weight_frontier": "0.2",
                 "weight_originality": "0.2", "per_group": "200", "topic_cap_share": "0.1",
                 "review_seat_share": "0.1", "eligibility_top_share": "0.1", "author_rule": "first_or_corresponding"}


@pytest.fixture()
def analyst(make_user, client):
    user = make_user(Role.ANALYST, name="分析员甲")
    log_in_session(client, user)
    return user


@pytest.fixture()
def no_job_runs(monkeypatch):
    """Jobs are queued but not run (the test looks at what was queued)."""
    monkeypatch.setattr(runner, "enqueue", lambda app, job_id, rq_job_id: None)


def post(client, url: str, data: dict, **kwargs):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/workbench/")}, **kwargs)


@pytest.mark.parametrize("role", list(Role))
def test_only_analysts_open_the_workbench(client, make_user, role, finished_harvest):
    user = make_user(role)
    job = finished_harvest(user)
    log_in_session(client, user)
    expected = 200 if role is Role.ANALYST else 403
    for url in ("/workbench/", "/workbench/harvests/new", "/workbench/rankings/new", "/workbench/compare",
                f"/workbench/harvests/{job.id}"):
        assert client.get(url).status_code == expected, url


def test_an_analyst_sees_only_their_own_jobs(client, make_user, analyst, finished_harvest, finished_rankings):
    other = make_user(Role.ANALYST)
    harvest = finished_harvest(other)
    first, second = finished_rankings(other)
    assert client.get(f"/workbench/harvests/{harvest.id}").status_code == 403
    assert client.get(f"/workbench/rankings/{first.id}").status_code == 403
    assert client.get(f"/workbench/compare?a={first.id}&b={second.id}").status_code == 403
    assert post(client, f"/workbench/harvests/{harvest.id}/institutions",
                {"institution_id": "I1", "display_name": "x"}).status_code == 403
    # A harvest is not a ranking, nor the other way round.
    mine = finished_harvest(analyst)
    assert client.get(f"/workbench/rankings/{mine.id}").status_code == 404
    assert client.get("/workbench/harvests/999999").status_code == 404


def test_the_harvest_form_says_what_is_wrong_in_chinese(client, analyst, no_job_runs):
    page = client.get("/workbench/harvests/new").get_data(as_text=True)
    assert "https://api.openalex.org" in page and 'name="api_key"' in page
    response = post(client, "/workbench/harvests/new", {
        "from_year": "2024", "to_year": "2025", "base_url": "ftp://mirror", "rate": "0", "mailto": "not-an-address",
        "api_key": SECRET_KEY, "disciplines": "no_such_discipline"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    for message in ("时间窗口须为 3 至 5 年", "http:// 或 https://", "请求速率须在", "请填写有效的电子邮箱地址"):
        assert message in text, message
    assert SECRET_KEY not in text  # a password field is never filled in again
    assert db.session.scalar(select(Job.id)) is None


def test_a_harvest_starts_with_its_api_key_kept_as_a_secret(client, analyst, no_job_runs):
    response = post(client, "/workbench/harvests/new", {
        "from_year": "2021", "to_year": "2025", "base_url": "http://127.0.0.1:9/", "rate": "5",
        "mailto": "analyst@example.cn", "api_key": SECRET_KEY, "disciplines": ["mathematics", "physics"]})
    job = db.session.scalar(select(Job))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/jobs/{job.id}")
    assert job.kind == "harvest" and job.user_id == analyst.id
    assert (job.params["from_year"], job.params["to_year"]) == (2021, 2025)
    assert job.params["disciplines"] == ["mathematics", "physics"] and job.params["institutions_path"] is None
    assert job.params["base_url"] == "http://127.0.0.1:9" and job.params["rate"] == 5.0
    assert SECRET_KEY not in json.dumps(job.params)
    assert runner.read_secrets(runner.work_dir(job.id)) == {"api_key": SECRET_KEY}
    for url in (f"/jobs/{job.id}", f"/jobs/{job.id}/status.json", f"/workbench/harvests/{job.id}", "/workbench/",
                "/workbench/harvests/new"):
        assert SECRET_KEY not in client.get(url).get_data(as_text=True), url
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == str(job.id))).all()
    assert entries and all(SECRET_KEY not in json.dumps(entry.details) for entry in entries)


def test_a_harvest_page_shows_its_manifest_and_list(client, analyst, finished_harvest, harvest_output):
    job = finished_harvest(analyst)
    manifest = json.loads((harvest_output / "manifest.json").read_text(encoding="utf-8"))
    page = client.get(f"/workbench/harvests/{job.id}").get_data(as_text=True)
    assert f">{manifest['requests']['made']} ·" in page
    assert f"{manifest['credits']['cost_usd']} USD" in page
    assert f">{manifest['counts']['works']}<" in page
    assert "没有标记通讯作者，以第一作者计" in page  # a missing field's reason, in Chinese
    used = load_institution_list(harvest_output / "state" / "institutions.csv")
    for entry in list(used.values())[:3]:
        assert entry.institution_id in page
    assert page.count("手工添加</span>") == sum(entry.reason == "manual" for entry in used.values())


def test_editing_a_harvests_institution_list(client, analyst, finished_harvest, harvest_output):
    job = finished_harvest(analyst)
    url = f"/workbench/harvests/{job.id}/institutions"
    response = post(client, url, {"institution_id": "https://openalex.org/i4210090411", "display_name": "北京量子信息科学研究院"})
    assert response.status_code == 302
    edited = load_institution_list(services.edited_list_path(job))
    row = edited["I4210090411"]
    assert (row.reason, row.city, row.display_name) == ("manual", "Beijing", "北京量子信息科学研究院")
    assert "分析员甲" in row.note
    page = client.get(f"/workbench/harvests/{job.id}").get_data(as_text=True)
    assert 'data-testid="institution-I4210090411" class' not in page
    assert "institution-I4210090411" in page and "已在工作台中修改" in page
    # The list the harvest used is untouched: a resumed harvest keeps it.
    assert "I4210090411" not in load_institution_list(harvest_output / "state" / "institutions.csv")

    twice = post(client, url, {"institution_id": "I4210090411", "display_name": "再次添加"})
    assert twice.status_code == 409 and "I4210090411 已在名单中" in twice.get_data(as_text=True)
    bad = post(client, url, {"institution_id": "W123", "display_name": "不是机构"})
    assert bad.status_code == 400 and "不是 OpenAlex 机构编号" in bad.get_data(as_text=True)

    removed = next(iter(edited))
    assert post(client, f"{url}/{removed}/remove", {}).status_code == 302
    assert removed not in load_institution_list(services.edited_list_path(job))
    download = client.get(f"/workbench/harvests/{job.id}/institutions.csv")
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert {"I4210090411"} <= {row["institution_id"] for row in rows} and removed not in {
        row["institution_id"] for row in rows}
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(job.id))).all()
    assert sorted(actions) == ["institution_list.row_added", "institution_list.row_removed"]


def test_a_frozen_copy_of_a_list_never_changes(app, make_user, finished_harvest):
    user = make_user(Role.ANALYST)
    job = finished_harvest(user)
    first = services.frozen_list_copy(job)
    services.add_institution(job, "I77", "新机构", user)
    second = services.frozen_list_copy(job)
    assert first != second and "I77" not in load_institution_list(first) and "I77" in load_institution_list(second)
    db.session.rollback()


@pytest.mark.parametrize(("changes", "field_message"), [
    ({"per_group": "100"}, "每个名单的名额必须在 200 至 500 之间"),
    ({"topic_cap_share": "0"}, "主题上限须大于 0 且不超过 1"),
    ({"weight_influence": "0", "weight_hot": "0", "weight_frontier": "0", "weight_originality": "0"},
     "至少给一个指标大于 0 的权重"),
    ({"eligibility_top_share": "1.5"}, "请填写 0 至 1 之间的比例"),
])
def test_the_rank_form_is_checked_by_the_selection_library(client, analyst, finished_harvest, no_job_runs,
                                                           changes, field_message):
    harvest = finished_harvest(analyst)
    response = post(client, "/workbench/rankings/new", {**RANK_DEFAULTS, "harvest": str(harvest.id), **changes})
    assert response.status_code == 400
    assert field_message in response.get_data(as_text=True)
    assert db.session.scalar(select(Job.id).where(Job.kind == "rank")) is None


def test_rank_settings_become_a_file_the_library_loads():
    values = {"weights": {"influence": 0.1, "hot": 0.6, "frontier": 0.15, "originality": 0.15}, "per_group": 250,
              "topic_cap_share": 0.2, "review_seat_share": 0.05, "eligibility_top_share": 0.3, "author_rule": "first"}
    assert services.rank_settings_problem(values) is None
    assert services.rank_settings_problem({**values, "author_rule": "last"})[0] == "author_rule"


def test_a_ranking_runs_as_a_job_and_becomes_a_round(client, app, analyst, finished_harvest):
    harvest = finished_harvest(analyst)
    response = post(client, "/workbench/rankings/new", {**RANK_DEFAULTS, "harvest": str(harvest.id),
                                                        "weight_hot": "0.5", "eligibility_top_share": "1"})
    ranking = db.session.scalar(select(Job).where(Job.kind == "rank"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/jobs/{ranking.id}")
    assert runner.wait_until_idle(app, timeout=120)
    db.session.refresh(ranking)
    assert ranking.state == JobState.FINISHED, ranking.log
    assert ranking.params["settings"]["weights"]["hot"] == 0.5
    settings = (runner.work_dir(ranking.id) / "settings.toml").read_text(encoding="utf-8")
    assert "hot = 0.5" in settings and "eligibility_top_share = 1.0" in settings
    summary = json.loads((services.ranking_folder(ranking) / "summary.json").read_text(encoding="utf-8"))
    assert summary["settings"]["weights"]["hot"] == 0.5 and summary["candidates"] > 0
    assert {output["label"] for output in ranking.outputs} >= {"candidates.xlsx", "candidates.parquet",
                                                              "summary.json", "topic_shares.png"}
    assert ranking.progress["done"] == ranking.progress["total"]

    page = client.get(f"/workbench/rankings/{ranking.id}").get_data(as_text=True)
    assert f'data-testid="candidate-count">{summary["candidates"]}<' in page
    assert "采集到的记录" in page and "每个 DOI 保留一篇" in page  # the funnel from the harvest to the candidates
    assert client.get(f"/workbench/rankings/{ranking.id}/charts/topic_shares.png").mimetype == "image/png"
    assert client.get(f"/workbench/rankings/{ranking.id}/charts/secrets.json").status_code == 404
    workbook = client.get(f"/jobs/{ranking.id}/outputs/ranking/candidates.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"

    imported = post(client, f"/workbench/rankings/{ranking.id}/import", {"name": "2026年度工作台轮次"})
    assert imported.status_code == 302
    importing = db.session.scalar(select(Job).where(Job.kind == "import_round"))
    assert imported.headers["Location"].endswith(f"/jobs/{importing.id}")
    assert runner.wait_until_idle(app, timeout=120)
    db.session.expire_all()
    assert importing.state == JobState.FINISHED, importing.log
    selection_round = db.session.scalar(select(SelectionRound))
    assert selection_round.candidate_count == summary["candidates"]
    assert db.session.scalar(select(db.func.count(Candidate.id))) == summary["candidates"]
    page = client.get(f"/workbench/rankings/{ranking.id}").get_data(as_text=True)
    assert f'href="/panels/rounds/{selection_round.id}"' in page and "已导入为轮次" in page
    again = post(client, f"/workbench/rankings/{ranking.id}/import", {"name": "另一个名称"})
    assert again.status_code == 409 and "已导入为轮次“2026年度工作台轮次”" in again.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(SelectionRound.id))) == 1


def test_an_unfinished_ranking_cannot_be_imported(client, analyst, finished_harvest):
    harvest = finished_harvest(analyst)
    from tests.app.workbench.conftest import make_job

    running = make_job(analyst, "rank", {"harvest_job_id": harvest.id, "settings": {}}, state=JobState.RUNNING)
    response = post(client, f"/workbench/rankings/{running.id}/import", {"name": "太早"})
    assert response.status_code == 409 and "只有已完成的排名才能导入" in response.get_data(as_text=True)
    assert db.session.scalar(select(SelectionRound.id)) is None


def test_two_rankings_compared_with_an_excel_export(client, analyst, finished_rankings):
    first, second = finished_rankings(analyst)
    page = client.get(f"/workbench/compare?a={first.id}&b={second.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for header in ("不同的设置", "新入选", "落选", "保留", "为什么", "国际影响力权重"):
        assert header in text, header
    comparison = services.compare_rankings(first, second).comparison
    assert f'data-testid="total-entered">{comparison.count("entered")}<' in text
    assert 'type="application/json" id="chart-scores"' in text and "<script>" not in text

    export = client.get(f"/workbench/compare/export.xlsx?a={first.id}&b={second.id}")
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    headers = [cell.value for cell in sheet[1]]
    assert headers[:5] == ["学科", "期刊组", "变化", "OpenAlex 论文", "标题"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == sum(comparison.count(status) for status in ("entered", "left", "stayed"))
    assert {row[2] for row in rows} == {"新入选", "落选", "保留"}

    assert client.get(f"/workbench/compare?a={first.id}&b=999999").status_code == 404
    chooser = client.get("/workbench/compare").get_data(as_text=True)
    assert f'<option value="{first.id}"' in chooser


def test_a_new_harvest_uses_the_edited_list_of_an_earlier_one(client, analyst, finished_harvest, no_job_runs):
    earlier = finished_harvest(analyst)
    post(client, f"/workbench/harvests/{earlier.id}/institutions", {"institution_id": "I4210090411",
                                                                    "display_name": "北京量子信息科学研究院"})
    form = client.get(f"/workbench/harvests/new?institutions={earlier.id}").get_data(as_text=True)
    assert f'<option selected value="{earlier.id}">' in form
    response = post(client, "/workbench/harvests/new", {
        "from_year": "2021", "to_year": "2025", "base_url": "http://127.0.0.1:9", "rate": "5",
        "institutions": str(earlier.id)})
    assert response.status_code == 302
    job = db.session.scalar(select(Job).where(Job.id != earlier.id))
    used = load_institution_list(job.params["institutions_path"])
    assert "I4210090411" in used and job.params["institutions_of_harvest"] == earlier.id
    # Editing the earlier list again does not change the file the new harvest (and its resumption) reads.
    post(client, f"/workbench/harvests/{earlier.id}/institutions", {"institution_id": "I1", "display_name": "再加一个"})
    assert "I1" not in load_institution_list(job.params["institutions_path"])


def test_the_analysts_home_and_navbar_lead_to_the_workbench(client, analyst):
    page = client.get("/home").get_data(as_text=True)
    assert 'data-testid="open-workbench"' in page
    assert page.count('href="/workbench/"') == 2  # the home section's button and the navbar link


def test_removing_what_is_not_on_the_list_says_so(client, analyst, finished_harvest):
    job = finished_harvest(analyst)
    response = post(client, f"/workbench/harvests/{job.id}/institutions/I999/remove", {}, follow_redirects=True)
    assert "I999 不在名单中" in response.get_data(as_text=True)
    assert not services.edited_list_path(job).exists()
