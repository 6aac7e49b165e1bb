"""The Top-10 influential conferences: the ranking statistics by hand, and a round through its pages."""

from __future__ import annotations

from datetime import datetime, timezone
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.events.models import InfluenceRound, InfluenceScore
from conference_app.events.services.influence import DEFAULT_CRITERIA, rank_nominations
from conference_app.extensions import db
from tests.app.conftest import log_in_session
from tests.app.helpers import csrf_token

CRITERIA = [{"code": "a", "name_zh": "甲", "name_en": "A", "weight": 0.5},
            {"code": "b", "name_zh": "乙", "name_en": "B", "weight": 0.5}]


def test_the_score_is_the_mean_of_complete_expert_totals_and_ties_share_a_rank():
    scores = [
        # nomination 1: experts 10 and 11 -> totals 8.0 and 6.0 -> 7.0
        (1, 10, "a", 8), (1, 10, "b", 8), (1, 11, "a", 6), (1, 11, "b", 6),
        # nomination 2: expert 10 -> 7.0; expert 11 scored only one criterion (not counted)
        (2, 10, "a", 9), (2, 10, "b", 5), (2, 11, "a", 1),
        # nomination 3: 9.0 and 9.0
        (3, 10, "a", 9), (3, 10, "b", 9), (3, 11, "a", 9), (3, 11, "b", 9),
    ]
    ranked = rank_nominations(scores, CRITERIA, [1, 2, 3, 4], [10, 11], winners=2)
    summary = [(r.nomination_id, r.score, r.rank, r.selected, r.spread, r.missing) for r in ranked]
    assert summary == [
        (3, 9.0, 1, True, 0.0, 0),
        (1, 7.0, 2, True, 2.0, 0),
        (2, 7.0, 2, True, 0.0, 1),  # a tie with the last selected place is selected too
        (4, None, None, False, None, 2),  # nobody scored it
    ]
    assert ranked[1].stdev == 1.41 and ranked[2].by_criterion == {"a": 5.0, "b": 5.0}


def test_the_default_criteria_are_the_four_of_seed_004_and_weigh_one():
    assert [c["name_zh"] for c in DEFAULT_CRITERIA] == ["学术价值", "社会影响力", "科技工作者关注度", "服务经济社会发展"]
    assert abs(sum(c["weight"] for c in DEFAULT_CRITERIA) - 1) < 1e-9


@pytest.fixture()
def conferences(make_event):
    """Three held conferences of 2026 and one annual meeting of 2025 (not of the round's year)."""
    held = {"status": "held"}
    return [
        make_event(kind="international", title_zh="国际非线性力学大会", starts_at=datetime(2026, 10, 10, 1, tzinfo=timezone.utc), **held),
        make_event(kind="national", title_zh="全国固体力学学术会议", starts_at=datetime(2026, 10, 12, 1, tzinfo=timezone.utc), **held),
        make_event(kind="regional", title_zh="京津冀力学论坛", starts_at=datetime(2026, 11, 2, 1, tzinfo=timezone.utc), **held),
        make_event(kind="annual_meeting", title_zh="2025年学术年会", starts_at=datetime(2025, 11, 2, 1, tzinfo=timezone.utc), **held),
    ]


def post(client, url, data, page):
    return client.post(url, data=data | {"csrf_token": csrf_token(client, page)})


def test_a_round_from_nomination_to_a_ranked_exported_result(app, client, make_user, conferences):
    staff, first, second, outsider = (make_user(Role.STAFF), make_user(Role.EXPERT, name="张院士"),
                                      make_user(Role.EXPERT, name="刘教授"), make_user(Role.EXPERT))
    log_in_session(client, staff)
    weights = {f"weight_{c['code']}": "0.25" for c in DEFAULT_CRITERIA}
    refused = post(client, "/manage/influence", {"year": "2026", "winners": "2"} | weights | {"weight_academic_value": "0.5"},
                   "/manage/influence")
    assert refused.status_code == 400 and "权重之和须为 1" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(InfluenceRound)) == 0
    created = post(client, "/manage/influence", {"year": "2026", "winners": "2"} | weights, "/manage/influence")
    influence_round = db.session.scalar(select(InfluenceRound))
    assert created.location == f"/manage/influence/{influence_round.id}"
    page = f"/manage/influence/{influence_round.id}"
    for event in conferences[:3]:
        assert post(client, f"{page}/nominations", {"event_id": event.id, "reason": "影响广泛"}, page).status_code == 302
    too_old = post(client, f"{page}/nominations", {"event_id": conferences[3].id}, page)
    assert too_old.status_code == 400 and "2026" in too_old.get_data(as_text=True)
    not_ready = post(client, f"{page}/steps/start_scoring", {}, page)
    assert not_ready.status_code == 409 and "请先指定至少一位专家" in not_ready.get_data(as_text=True)
    assert post(client, f"{page}/reviewers", {"reviewer_ids": [first.id, second.id]}, page).status_code == 302
    assert post(client, f"{page}/steps/start_scoring", {}, page).status_code == 302

    nominations = sorted(db.session.get(InfluenceRound, influence_round.id).nominations, key=lambda n: n.id)
    sheet = {nominations[0].id: 9, nominations[1].id: 6, nominations[2].id: 8}
    for expert, bonus in ((first, 0), (second, 1)):
        log_in_session(client, expert)
        score_page = f"/influence/{influence_round.id}/score"
        assert client.get(score_page).status_code == 200
        for nomination_id, value in sheet.items():
            scores = {f"score_{c['code']}": str(min(10, value + bonus)) for c in DEFAULT_CRITERIA}
            answer = post(client, f"/influence/{influence_round.id}/nominations/{nomination_id}/score", scores, score_page)
            assert answer.status_code == 302
    bad = post(client, f"/influence/{influence_round.id}/nominations/{nominations[0].id}/score",
               {"score_academic_value": "11"}, f"/influence/{influence_round.id}/score")
    assert bad.status_code == 400
    log_in_session(client, outsider)
    assert client.get(f"/influence/{influence_round.id}/score").status_code == 403  # not one of its experts
    assert post(client, f"/influence/{influence_round.id}/nominations/{nominations[0].id}/score",
                {f"score_{c['code']}": "10" for c in DEFAULT_CRITERIA}, "/home").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(InfluenceScore)) == 3 * 2 * 4

    log_in_session(client, staff)
    assert post(client, f"{page}/steps/close", {}, page).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert html.index("国际非线性力学大会") < html.index("京津冀力学论坛") < html.index("全国固体力学学术会议")
    rows = list(load_workbook(BytesIO(client.get(f"{page}/result.xlsx").data)).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("排名", "入选", "会议", "主办单位", "开始时间", "得分")
    assert [(row[0], row[1], row[2], row[5]) for row in rows[1:]] == [
        (1, "是", "国际非线性力学大会", 9.5), (2, "是", "京津冀力学论坛", 8.5), (3, None, "全国固体力学学术会议", 6.5)]
    assert [row[-1] for row in rows[1:]] == [2, 2, 2]
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"influence_round.created", "influence_nomination.created", "influence_round.scoring",
            "influence_nomination.scored", "influence_round.closed"} <= actions


def test_an_expert_sees_the_rounds_to_score_on_the_home_page(app, client, make_user, conferences):
    from conference_app.events.services import influence

    expert, other = make_user(Role.EXPERT), make_user(Role.EXPERT)
    influence_round = influence.open_round(2026)
    influence.nominate(influence_round, conferences[0], None)
    influence.set_reviewers(influence_round, [expert.id])
    influence.change_round(influence_round, "start_scoring", actor=make_user(Role.STAFF))
    db.session.commit()
    log_in_session(client, expert)
    home = client.get("/home").get_data(as_text=True)
    assert f"/influence/{influence_round.id}/score" in home and "为 2026 年度推荐会议评分" in home
    log_in_session(client, other)
    home = client.get("/home").get_data(as_text=True)
    assert "目前尚未给您分配评审任务" in home and "/influence/" not in home
