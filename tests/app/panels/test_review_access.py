"""Who reaches which review: an expert reads and writes only their own reviews, by URL, form
field or API; a member who is not the chair sees no other expert's scores; a non-member sees
nothing. Two experts saving at the same moment lose nothing (both databases)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.panels import review
from conference_app.panels.models import Review, ReviewRound
from tests.app.conftest import log_in_session
from tests.app.events.api_helpers import bearer, token_for


@pytest.fixture()
def triage(app, open_panel, five_experts) -> ReviewRound:
    created = review.create_round(open_panel, "triage", five_experts[0], blind=True)
    db.session.commit()
    return created


def reviews_of(review_round: ReviewRound, user) -> list[Review]:
    return list(db.session.scalars(select(Review).filter_by(review_round_id=review_round.id, user_id=user.id)
                                   .order_by(Review.position)))


def test_another_experts_review_is_refused_by_url_form_and_json(app, client, triage, five_experts):
    theirs = reviews_of(triage, five_experts[2])[0]
    log_in_session(client, five_experts[1])
    assert client.get(f"/panels/reviews/{theirs.id}").status_code == 403
    token = client.get(f"/panels/review-rounds/{triage.id}/score").get_data(as_text=True)
    csrf = token.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    form = client.post(f"/panels/reviews/{theirs.id}", data={"score": "9", "csrf_token": csrf})
    assert form.status_code == 403
    answer = client.post(f"/panels/reviews/{theirs.id}", json={"score": 9}, headers={"X-CSRFToken": csrf,
                                                                                     "Accept": "application/json"})
    assert answer.status_code == 403
    db.session.expire_all()
    assert db.session.get(Review, theirs.id).score is None


def test_a_review_id_in_the_form_body_changes_nothing_else(app, client, triage, five_experts, no_csrf):
    mine, theirs = reviews_of(triage, five_experts[1])[0], reviews_of(triage, five_experts[2])[0]
    log_in_session(client, five_experts[1])
    saved = client.post(f"/panels/reviews/{mine.id}", data={"score": "6", "review_id": theirs.id,
                                                            "user_id": five_experts[2].id})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Review, mine.id).score == 6 and db.session.get(Review, theirs.id).score is None
    refused = client.post(f"/panels/reviews/{mine.id}", json={"score": 6, "user_id": five_experts[2].id},
                          headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "user_id" in refused.get_json()["error"]


def test_the_api_gives_an_expert_only_their_own_reviews(app, client, triage, five_experts, make_user):
    secret = token_for(five_experts[1], scope="review", name="评审")
    listed = client.get(f"/api/v1/review-rounds/{triage.id}/reviews", headers=bearer(secret))
    assert listed.status_code == 200
    ids = {item["id"] for item in listed.get_json()["reviews"]}
    assert ids == {item.id for item in reviews_of(triage, five_experts[1])}
    assert all("work_id" not in item["candidate"] and "source_name" not in item["candidate"]
               for item in listed.get_json()["reviews"])  # a blind round
    mine, theirs = reviews_of(triage, five_experts[1])[0], reviews_of(triage, five_experts[2])[0]
    assert client.patch(f"/api/v1/reviews/{mine.id}", json={"score": 7}, headers=bearer(secret)).status_code == 200
    refused = client.patch(f"/api/v1/reviews/{theirs.id}", json={"score": 7}, headers=bearer(secret))
    assert refused.status_code == 403 and refused.get_json()["error"]["status"] == 403
    bad = client.patch(f"/api/v1/reviews/{mine.id}", json={"score": 70}, headers=bearer(secret))
    assert bad.status_code == 400 and bad.get_json()["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Review, mine.id).score == 7 and db.session.get(Review, theirs.id).score is None
    outsider = token_for(make_user(Role.EXPERT), scope="review", name="外人")
    assert client.get(f"/api/v1/review-rounds/{triage.id}/reviews", headers=bearer(outsider)).status_code == 403
    checkin = token_for(five_experts[1], scope="checkin", name="签到")
    assert client.patch(f"/api/v1/reviews/{mine.id}", json={"score": 1}, headers=bearer(checkin)).status_code == 403


def test_members_see_their_own_screen_and_only_the_chair_and_staff_see_everyones_scores(
        app, client, triage, five_experts, review_staff, make_user):
    member = five_experts[3]
    log_in_session(client, member)
    assert client.get(f"/panels/review-rounds/{triage.id}").status_code == 302  # to their own screen
    for path in (f"/panels/review-rounds/{triage.id}/scores.xlsx", f"/panels/{triage.panel_id}/lock",
                 f"/panels/{triage.panel_id}/results.xlsx"):
        assert client.get(path).status_code == 403, path
    outsider = make_user(Role.EXPERT)
    log_in_session(client, outsider)
    assert client.get(f"/panels/review-rounds/{triage.id}/score").status_code == 403
    assert client.get(f"/panels/reviews/{reviews_of(triage, member)[0].id}").status_code == 403
    for user in (five_experts[0], review_staff):
        log_in_session(client, user)
        assert client.get(f"/panels/review-rounds/{triage.id}").status_code == 200


def test_two_experts_saving_at_the_same_moment_lose_nothing(app, triage, five_experts):
    """Each of two experts saves 25 scores, the two in parallel threads with their own session
    and client; a third thread saves one expert's comments on the same reviews at once."""
    first, second = five_experts[1], five_experts[2]
    plan = {first.id: [item.id for item in reviews_of(triage, first)[:25]],
            second.id: [item.id for item in reviews_of(triage, second)[:25]]}
    barrier = threading.Barrier(3)
    failures: list[str] = []

    def save(user_id: int, field: str) -> None:
        with app.app_context():
            client = app.test_client()
            log_in_session(client, db.session.get(type(first), user_id))
            app.config["WTF_CSRF_ENABLED"] = False
            barrier.wait()
            for number, review_id in enumerate(plan[user_id]):
                value = (number % 10) + 1 if field == "score" else f"评语{number}"
                response = client.post(f"/panels/reviews/{review_id}", json={field: value},
                                       headers={"Accept": "application/json"})
                if response.status_code != 200:
                    failures.append(f"{user_id} {review_id} {response.status_code} {response.get_data(as_text=True)}")
            db.session.remove()

    threads = [threading.Thread(target=save, args=args)
               for args in ((first.id, "score"), (second.id, "score"), (first.id, "comment"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    app.config["WTF_CSRF_ENABLED"] = True
    assert not failures
    db.session.expire_all()
    for user_id, ids in plan.items():
        saved = {item.id: item for item in db.session.scalars(select(Review).where(Review.id.in_(ids)))}
        assert [saved[review_id].score for review_id in ids] == [(n % 10) + 1 for n in range(len(ids))]
    assert [db.session.get(Review, review_id).comment for review_id in plan[first.id]] == [
        f"评语{n}" for n in range(25)]
