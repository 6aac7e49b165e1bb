"""Rounds of review through the services: triage assigned by the library, the shortlist and
the final vote, closing with unscored assignments only with a reason, locking exactly 20, and
staff's logged reopening."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.panels import review, services
from conference_app.panels.models import PanelConflict, PanelResult, Review, ReviewRound
from tests.app.conftest import log_in_session
from tests.app.panels.conftest import fill_round


def test_three_rounds_from_triage_to_twenty_locked_results(app, open_panel, five_experts, review_staff):
    chair = five_experts[0]
    triage = review.create_round(open_panel, "triage", chair)
    db.session.commit()
    reviews = list(db.session.scalars(select(Review).filter_by(review_round_id=triage.id)))
    assert len(reviews) == triage.item_count * 3 - sum(
        3 - entry["assigned"] for entry in triage.assignment_report["unfilled"])
    conflicted = {(c.user_id, c.candidate_id) for c in db.session.scalars(select(PanelConflict))}
    assert not conflicted & {(r.user_id, r.candidate_id) for r in reviews}
    loads = review.progress_by_expert(triage)
    assert max(t for _d, t in loads.values()) - min(t for _d, t in loads.values()) <= 1
    fill_round(triage)
    review.close_round(triage, None, chair)
    shortlist = review.create_round(open_panel, "shortlist", chair)
    db.session.commit()
    assert shortlist.item_count >= 60
    fill_round(shortlist, seed=1)
    review.close_round(shortlist, None, chair)
    final = review.create_round(open_panel, "final", chair)
    db.session.commit()
    fill_round(final, seed=2)
    review.close_round(final, None, chair)
    db.session.commit()
    tallies = review.final_tally(open_panel)
    with pytest.raises(ServiceError, match="20"):
        review.lock_results(open_panel, [(t.candidate.id, "理由") for t in tallies[:19]], chair)
    db.session.rollback()
    review.lock_results(open_panel, [(t.candidate.id, f"理由 {t.candidate.work_id}") for t in tallies[:20]], chair)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(PanelResult)) == 20
    assert str(open_panel.status) == "locked"
    assert db.session.scalar(select(AuditEntry).filter_by(action="panel.locked")) is not None


def _open_triage(panel, chair, **settings):
    triage = review.create_round(panel, "triage", chair, **settings)
    db.session.commit()
    return triage


def test_a_round_closes_with_unscored_assignments_only_when_the_chair_says_why(
        app, client, open_panel, five_experts, no_csrf):
    chair = five_experts[0]
    triage = _open_triage(open_panel, chair)
    fill_round(triage, leave=3)
    log_in_session(client, chair)
    refused = client.post(f"/panels/review-rounds/{triage.id}/close", data={"reason": ""})
    assert refused.status_code == 409
    assert "3" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert str(db.session.get(ReviewRound, triage.id).status) == "open"
    assert db.session.scalar(select(AuditEntry).filter_by(action="review_round.closed")) is None
    closed = client.post(f"/panels/review-rounds/{triage.id}/close", data={"reason": "两位专家出差，缺评按缺失处理"})
    assert closed.status_code == 302
    db.session.expire_all()
    closed_round = db.session.get(ReviewRound, triage.id)
    assert str(closed_round.status) == "closed" and closed_round.unscored_at_close == 3
    entry = db.session.scalar(select(AuditEntry).filter_by(action="review_round.closed"))
    assert entry.comment == "两位专家出差，缺评按缺失处理" and entry.details["unscored"] == 3
    # Closed: the scores no longer change.
    late = db.session.scalar(select(Review).filter_by(review_round_id=triage.id, score=None))
    with pytest.raises(ServiceError) as refusal:
        review.save_review(late, {"score": 5}, late.user)
    assert refusal.value.status == 409


def test_a_fully_scored_round_closes_without_a_reason_and_only_the_chair_or_staff_close_it(
        app, client, open_panel, five_experts, review_staff, no_csrf):
    triage = _open_triage(open_panel, five_experts[0])
    fill_round(triage)
    log_in_session(client, five_experts[1])
    assert client.post(f"/panels/review-rounds/{triage.id}/close", data={"reason": ""}).status_code == 403
    log_in_session(client, review_staff)
    assert client.post(f"/panels/review-rounds/{triage.id}/close", data={"reason": ""}).status_code == 302
    db.session.expire_all()
    stored = db.session.get(ReviewRound, triage.id)
    assert stored.close_reason is None and stored.unscored_at_close == 0
    assert stored.stats["items"] and "krippendorff_alpha_interval" in stored.stats


def test_rounds_run_in_order_after_conflicts_are_computed(app, open_panel, five_experts):
    chair = five_experts[0]
    with pytest.raises(ServiceError) as early:
        review.create_round(open_panel, "shortlist", chair)
    assert early.value.status == 409
    db.session.rollback()
    triage = _open_triage(open_panel, chair)
    with pytest.raises(ServiceError):
        review.create_round(open_panel, "shortlist", chair)  # triage still open
    db.session.rollback()
    with pytest.raises(ServiceError):
        review.create_round(open_panel, "triage", chair)  # once per panel
    db.session.rollback()
    with pytest.raises(ServiceError) as not_chair:
        review.create_round(open_panel, "shortlist", five_experts[1])
    assert not_chair.value.status == 403
    db.session.rollback()
    assert triage.per_item == 3


def _to_final(panel, chair) -> list:
    for stage, seed in (("triage", 0), ("shortlist", 1), ("final", 2)):
        current = review.create_round(panel, stage, chair)
        db.session.commit()
        fill_round(current, seed=seed)
        review.close_round(current, None, chair)
        db.session.commit()
    return review.final_tally(panel)


def test_the_final_list_locks_with_exactly_20_each_justified(app, open_panel, five_experts):
    chair = five_experts[0]
    tallies = _to_final(open_panel, chair)
    ids = [tally.candidate.id for tally in tallies]
    attempts = {
        "19": [(i, "理由") for i in ids[:19]],
        "21": [(i, "理由") for i in ids[:21]],
        "a duplicate": [(i, "理由") for i in ids[:19]] + [(ids[0], "理由")],
        "one unjustified": [(i, "理由") for i in ids[:19]] + [(ids[19], "  ")],
    }
    for what, entries in attempts.items():
        with pytest.raises(ServiceError):
            review.lock_results(open_panel, entries, chair)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(PanelResult)) == 0, what
        assert str(db.session.get(type(open_panel), open_panel.id).status) == "open", what
    with pytest.raises(ServiceError):  # a candidate that did not reach the final vote
        outsider = db.session.scalar(select(Review.candidate_id).where(Review.candidate_id.not_in(ids)))
        review.lock_results(open_panel, [(i, "理由") for i in ids[:19]] + [(outsider, "理由")], chair)
    db.session.rollback()
    with pytest.raises(ServiceError) as not_chair:
        review.lock_results(open_panel, [(i, "理由") for i in ids[:20]], five_experts[1])
    assert not_chair.value.status == 403
    db.session.rollback()
    review.lock_results(open_panel, [(i, f"第{n}项理由") for n, i in enumerate(ids[:20], start=1)], chair)
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).filter_by(action="panel.locked"))
    assert [row["justification"] for row in entry.details["results"]] == [f"第{n}项理由" for n in range(1, 21)]


def test_locked_results_change_only_after_a_logged_reopening_by_staff(
        app, client, open_panel, five_experts, review_staff, no_csrf):
    chair = five_experts[0]
    tallies = _to_final(open_panel, chair)
    ids = [tally.candidate.id for tally in tallies]
    review.lock_results(open_panel, [(i, "理由") for i in ids[:20]], chair)
    db.session.commit()
    with pytest.raises(ServiceError) as locked:
        review.lock_results(open_panel, [(i, "新理由") for i in ids[1:21]], chair)
    assert locked.value.status == 409
    db.session.rollback()
    log_in_session(client, chair)
    assert client.post(f"/panels/{open_panel.id}/reopen", data={"comment": "重新审议"}).status_code == 403
    log_in_session(client, review_staff)
    client.post(f"/panels/{open_panel.id}/reopen", data={"comment": ""})
    db.session.expire_all()
    assert str(db.session.get(type(open_panel), open_panel.id).status) == "locked"
    assert client.post(f"/panels/{open_panel.id}/reopen", data={"comment": "一项成果已撤稿，重新审议"}).status_code == 302
    db.session.expire_all()
    panel = db.session.get(type(open_panel), open_panel.id)
    assert str(panel.status) == "open" and panel.locked_at is None
    entry = db.session.scalar(select(AuditEntry).filter_by(action="panel.reopened"))
    assert entry.comment == "一项成果已撤稿，重新审议" and entry.actor_id == review_staff.id
    review.lock_results(panel, [(i, "新理由") for i in ids[1:21]], chair)
    db.session.commit()
    assert sorted(r.candidate_id for r in db.session.scalars(select(PanelResult))) == sorted(ids[1:21])


def test_an_expert_votes_yes_for_at_most_20(app, open_panel, five_experts):
    chair = five_experts[0]
    for stage, seed in (("triage", 0), ("shortlist", 1)):
        current = review.create_round(open_panel, stage, chair)
        db.session.commit()
        fill_round(current, seed=seed)
        review.close_round(current, None, chair)
        db.session.commit()
    final = review.create_round(open_panel, "final", chair)
    db.session.commit()
    mine = list(db.session.scalars(select(Review).filter_by(review_round_id=final.id, user_id=five_experts[2].id)
                                   .order_by(Review.position)))
    for item in mine[:20]:
        review.save_review(item, {"vote": True}, five_experts[2])
    db.session.commit()
    with pytest.raises(ServiceError) as too_many:
        review.save_review(mine[20], {"vote": "yes"}, five_experts[2])
    assert too_many.value.status == 409
    db.session.rollback()
    review.save_review(mine[0], {"vote": False}, five_experts[2])
    review.save_review(mine[20], {"vote": True}, five_experts[2])
    assert review.vote_rest_no(final, five_experts[2]) == len(mine) - 21
    assert review.progress(final, five_experts[2].id) == (len(mine), len(mine))


def test_a_conflict_declared_after_the_assignment_stops_the_scoring(app, open_panel, five_experts):
    triage = _open_triage(open_panel, five_experts[0])
    item = db.session.scalar(select(Review).filter_by(review_round_id=triage.id, user_id=five_experts[1].id))
    services.declare_conflict(open_panel, item.candidate.work_id, "我是该文作者的导师", five_experts[1])
    db.session.commit()
    with pytest.raises(ServiceError) as conflicted:
        review.save_review(item, {"score": 8}, five_experts[1])
    assert conflicted.value.status == 409


@pytest.mark.parametrize("values", [{"score": 0}, {"score": 11}, {"score": 7.5}, {"score": "七"},
                                    {"originality": 5}, {"vote": True}, {"rank": 1}])
def test_bad_triage_values_are_refused_and_nothing_is_saved(app, open_panel, five_experts, values):
    triage = _open_triage(open_panel, five_experts[0])
    item = db.session.scalar(select(Review).filter_by(review_round_id=triage.id, user_id=five_experts[1].id))
    with pytest.raises(ServiceError) as refusal:
        review.save_review(item, values, five_experts[1])
    assert refusal.value.status == 400
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Review, item.id).score is None


@pytest.mark.parametrize("per_item, status", [("abc", 400), ("0", 400), ("6", 400), ("-1", 400)])
def test_a_bad_number_of_experts_per_candidate_is_refused_with_a_message_and_opens_nothing(
        app, client, open_panel, five_experts, no_csrf, per_item, status):
    log_in_session(client, five_experts[0])
    response = client.post(f"/panels/{open_panel.id}/review-rounds",
                           data={"stage": "triage", "blind": "y", "per_item": per_item})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert "之间" in page or "整数" in page or "不是" in page or "有效" in page, page[-2000:]
    assert db.session.scalar(select(func.count()).select_from(ReviewRound)) == 0
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0


def test_a_lock_page_post_with_junk_ids_locks_nothing(app, client, open_panel, five_experts, no_csrf):
    tallies = _to_final(open_panel, five_experts[0])
    log_in_session(client, five_experts[0])
    response = client.post(f"/panels/{open_panel.id}/lock", data={
        "candidate_id": ["abc", "-3", "99999999999"] + [str(t.candidate.id) for t in tallies[:17]]})
    assert response.status_code == 409
    assert "20" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PanelResult)) == 0
