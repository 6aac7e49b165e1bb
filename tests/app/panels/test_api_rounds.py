"""The selection rounds in the JSON API (scope ``selection``, analysts and staff): the rounds,
one round with its lists, its candidates paged and filtered; who may read them. And the review
endpoint's refusal of members of the wrong kind (a 400 with the service's message, never a 500)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.panels import api, review
from conference_app.panels.models import Candidate, Review
from tests.app.conftest import log_in_session
from tests.app.events.api_helpers import assert_api_error, bearer, token_for
from tests.app.panels.conftest import busiest_discipline, import_round


@pytest.fixture()
def selection_round(app, review_ranking_output):
    return import_round(app, review_ranking_output, "接口轮次")


@pytest.fixture()
def analyst_headers(make_user) -> dict:
    return bearer(token_for(make_user(Role.ANALYST), "selection", "分析脚本"))


def test_an_analyst_lists_the_rounds_page_by_page(client, selection_round, analyst_headers, monkeypatch):
    body = client.get("/api/v1/selection-rounds", headers=analyst_headers).get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, api.ROUNDS_PER_PAGE, 1)
    (listed,) = body["selection_rounds"]
    assert listed["id"] == selection_round.id and listed["name"] == "接口轮次"
    assert listed["candidate_count"] == selection_round.candidate_count > 0
    assert listed["candidates_sha256"] == selection_round.candidates_sha256
    assert listed["created_at"].endswith("+08:00")
    assert client.get("/api/v1/selection-rounds?page=2", headers=analyst_headers).get_json()["selection_rounds"] == []


def test_a_round_shows_its_lists_with_their_imported_candidates(client, selection_round, analyst_headers):
    body = client.get(f"/api/v1/selection-rounds/{selection_round.id}", headers=analyst_headers).get_json()
    summary = selection_round.summary
    assert (body["as_of"], body["window"], body["funnel"]) == (summary["as_of"], summary["window"], summary["funnel"])
    assert body["settings"] == selection_round.settings
    assert [(entry["discipline"], entry["journal_group"], entry["selected"]) for entry in body["lists"]] == [
        (entry["discipline"], entry["journal_group"], entry["selected"]) for entry in summary["lists"]]
    assert sum(entry["imported"] for entry in body["lists"]) == selection_round.candidate_count
    physics = next(entry for entry in body["lists"] if entry["discipline"] == "physics")
    assert physics["discipline_title"] == "物理学"


def test_candidates_are_paged_in_list_order_and_filtered(client, selection_round, analyst_headers, monkeypatch):
    monkeypatch.setattr(api, "CANDIDATES_PER_PAGE", 7)
    url = f"/api/v1/selection-rounds/{selection_round.id}/candidates"
    first, second = (client.get(f"{url}?page={n}", headers=analyst_headers).get_json() for n in (1, 2))
    assert first["total"] == selection_round.candidate_count and first["per_page"] == 7
    listed = first["candidates"] + second["candidates"]
    assert len(listed) == 14 and len({item["id"] for item in listed}) == 14
    keys = [(item["discipline"], item["journal_group"], item["rank"]) for item in listed]
    assert keys == sorted(keys)
    assert {part["indicator"] for part in listed[0]["score_parts"]} and listed[0]["work_id"].startswith("W")

    discipline = busiest_discipline(selection_round)
    expected = db.session.scalar(select(func.count()).select_from(Candidate).where(
        Candidate.round_id == selection_round.id, Candidate.discipline == discipline,
        Candidate.journal_group == "international"))
    filtered = client.get(f"{url}?discipline={discipline}&journal_group=international",
                          headers=analyst_headers).get_json()
    assert filtered["total"] == expected > 0
    assert {(item["discipline"], item["journal_group"]) for item in filtered["candidates"]} == {
        (discipline, "international")}
    assert [item["rank"] for item in filtered["candidates"]] == list(range(1, 8))
    nothing = client.get(f"{url}?discipline=no_such_discipline", headers=analyst_headers).get_json()
    assert (nothing["total"], nothing["candidates"]) == (0, [])


@pytest.mark.parametrize("query, message", [
    ("journal_group=asian", "domestic, international"),
    ("discipline=" + "x" * 61, "discipline"),
    ("page=0", "page"),
    ("page=abc", "page"),
])
def test_bad_candidate_parameters_are_a_400_naming_them(client, selection_round, analyst_headers, query, message):
    response = client.get(f"/api/v1/selection-rounds/{selection_round.id}/candidates?{query}", headers=analyst_headers)
    assert_api_error(response, 400, message)


def test_only_analysts_and_staff_with_a_selection_token_read_rounds(client, selection_round, make_user):
    urls = ["/api/v1/selection-rounds", f"/api/v1/selection-rounds/{selection_round.id}",
            f"/api/v1/selection-rounds/{selection_round.id}/candidates"]
    for role in (Role.ANALYST, Role.STAFF):
        headers = bearer(token_for(make_user(role), "selection", "读取"))
        assert [client.get(url, headers=headers).status_code for url in urls] == [200, 200, 200]
    for role in (Role.EXPERT, Role.SOCIETY):
        headers = bearer(token_for(make_user(role), "selection", "读取"))
        for url in urls:
            assert_api_error(client.get(url, headers=headers), 403)
    analyst = make_user(Role.ANALYST)
    for url in urls:
        assert_api_error(client.get(url, headers=bearer(token_for(analyst, "review", "评审"))), 403, "selection")
        assert_api_error(client.get(url), 401)
    log_in_session(client, analyst)  # a login cookie opens nothing in the API
    assert_api_error(client.get(urls[0]), 401)
    headers = bearer(token_for(analyst, "selection", "读取"))
    for url in (f"/api/v1/selection-rounds/{selection_round.id + 1000}",
                f"/api/v1/selection-rounds/{selection_round.id + 1000}/candidates"):
        assert_api_error(client.get(url, headers=headers), 404)


@pytest.mark.parametrize("body, message", [
    (b'{"score": 1e400}', "1 到 10 的整数"),
    (b'{"score": NaN}', "1 到 10 的整数"),
    (b'{"score": 7.5}', "1 到 10 的整数"),
    (b'{"comment": {"text": "x"}}', "字段 comment 必须是文本"),
    (b'{"comment": "\\ud800"}', "字段 comment 必须是文本"),
    (b'{"recommendation": ["strongly"]}', "未知的推荐意见"),
    (b'{"vote": {}}', "赞成或不赞成"),
])
def test_a_review_member_of_the_wrong_kind_is_a_400_and_changes_nothing(client, open_panel, five_experts, body,
                                                                          message):
    triage = review.create_round(open_panel, "triage", five_experts[0], blind=True)
    db.session.commit()
    mine = db.session.scalars(select(Review).filter_by(review_round_id=triage.id, user_id=five_experts[1].id)).first()
    headers = bearer(token_for(five_experts[1], "review", "评审"))
    response = client.patch(f"/api/v1/reviews/{mine.id}", data=body, content_type="application/json",
                            headers=headers)
    assert_api_error(response, 400, message)
    db.session.expire_all()
    assert (db.session.get(Review, mine.id).score, db.session.get(Review, mine.id).comment) == (None, None)
