"""The expert's scoring screen and one review, through the test client: the screen embeds the
expert's own reviews and no one else's (as JSON; its pages without JavaScript as rows with
forms, 50 a page), in a constant number of statements; a blind round shows none of its
candidates' authors, institutions, journals or DOIs (screen and its JSON, its pages, review
pages, JSON answers), an open one does; a form without JavaScript saves and redirects to the
page holding its row; the JSON save refuses a score of 11 and another expert's review; a closed
round only shows its scores; the shortlist and the final vote have their own fields."""

from __future__ import annotations

import html
import json
import math
import re

import pytest
from sqlalchemy import delete, select

from conference_app.extensions import db
from conference_app.panels import review
from conference_app.panels.models import Candidate, Review, ReviewRound
from tests.app.conftest import log_in_session
from tests.app.core.test_query_counts import statements_for
from tests.app.helpers import csrf_token
from tests.app.panels.conftest import fill_round

ROW_ID = re.compile(r'<tr id="review-(\d+)" data-testid="review-row"')
REVIEW_DATA = re.compile(r'<script type="application/json" id="review-data">(.*?)</script>', re.S)
PAGE_SIZE = 50  # the rows of a page without JavaScript


def open_round(panel, chair, stage: str = "triage", blind: bool = True) -> ReviewRound:
    review_round = review.create_round(panel, stage, chair, blind=blind)
    db.session.commit()
    return review_round


def reviews_of(review_round: ReviewRound, user) -> list[Review]:
    return list(db.session.scalars(select(Review).filter_by(review_round_id=review_round.id, user_id=user.id)
                                   .order_by(Review.position)))


def score_url(review_round: ReviewRound) -> str:
    return f"/panels/review-rounds/{review_round.id}/score"


def page_url(review_round: ReviewRound, page: int) -> str:
    return f"{score_url(review_round)}?page={page}"


def review_data(text: str) -> dict:
    """What the screen embeds for its script: the journal groups' titles, and the rows (one
    array a review, in the order of the columns), read here as dicts."""
    found = REVIEW_DATA.findall(text)
    assert len(found) == 1
    data = json.loads(found[0])
    return {**data, "rows": [dict(zip(data["columns"], row, strict=True)) for row in data["rows"]]}


def form_pages(client, review_round: ReviewRound, count: int) -> list[str]:
    """The screen's pages without JavaScript, for an expert with ``count`` reviews."""
    return [client.get(page_url(review_round, page)).get_data(as_text=True)
            for page in range(1, math.ceil(count / PAGE_SIZE) + 1)]


def json_save(client, review_id: int, values: dict, token: str):
    return client.post(f"/panels/reviews/{review_id}", json=values,
                       headers={"X-CSRFToken": token, "Accept": "application/json"})


def stored(review_id: int) -> Review:
    db.session.expire_all()
    return db.session.get(Review, review_id)


def identifying_strings(candidates: list[Candidate]) -> set[str]:
    """What a blind round hides: the authors' names, their institutions, the journal and the DOI."""
    secrets = set()
    for candidate in candidates:
        for authorship in candidate.authorships or []:
            secrets.add(authorship.get("name") or "")
            secrets.update(authorship.get("institution_ids") or [])
        secrets.update((candidate.source_name or "", candidate.doi or ""))
    return {secret for secret in secrets if secret.strip()}


def leaked(text: str, secrets: set[str]) -> list[str]:
    return sorted(secret for secret in secrets if secret in text or html.escape(secret) in text)


def test_the_scoring_screen_lists_every_assigned_review_of_the_expert_and_none_of_another(
        app, client, open_panel, five_experts):
    triage = open_round(open_panel, five_experts[0])
    expert, other = five_experts[1], five_experts[2]
    mine, theirs = reviews_of(triage, expert), reviews_of(triage, other)
    assert mine and theirs
    log_in_session(client, expert)
    page = client.get(score_url(triage))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    data = review_data(text)
    assert [row["id"] for row in data["rows"]] == [item.id for item in mine]  # in the round's order
    assert [row["position"] for row in data["rows"]] == [item.position for item in mine]
    assert ROW_ID.findall(text) == []  # the script builds the rows
    assert 'data-review-url="/panels/reviews/"' in text and 'id="review-row-template"' in text
    assert f'<span data-progress-done>0</span> / <span data-progress-total>{len(mine)}</span>' in text
    assert "js/panel-scoring.js" in text and f'href="{page_url(triage, 1)}"' in text  # the pages without it
    # Without JavaScript: the same rows, 50 a page, each saving with its own form.
    pages = form_pages(client, triage, len(mine))
    assert len(pages) >= 2
    assert [int(found) for text in pages for found in ROW_ID.findall(text)] == [item.id for item in mine]
    assert all(len(ROW_ID.findall(text)) <= PAGE_SIZE for text in pages)
    for number, item in enumerate(mine):
        text = pages[number // PAGE_SIZE]
        assert f'href="/panels/reviews/{item.id}"' in text
        assert f'action="/panels/reviews/{item.id}"' in text
    assert all('name="csrf_token"' in text and REVIEW_DATA.search(text) is None for text in pages)
    assert f'<span data-progress-done>0</span> / <span data-progress-total>{len(mine)}</span>' in pages[-1]
    for item in theirs:
        assert item.id not in [row["id"] for row in data["rows"]]
        assert all(f'id="review-{item.id}"' not in text and f"/panels/reviews/{item.id}\"" not in text
                   for text in pages)
    # The other expert sees theirs.
    log_in_session(client, other)
    assert [row["id"] for row in review_data(client.get(score_url(triage)).get_data(as_text=True))["rows"]] == [
        item.id for item in theirs]


def test_the_scoring_screen_issues_the_same_statements_for_few_and_many_reviews(
        app, client, open_panel, five_experts):
    triage = open_round(open_panel, five_experts[0])
    expert = five_experts[1]
    mine = reviews_of(triage, expert)
    assert len(mine) > PAGE_SIZE  # two pages without JavaScript
    for item in mine[:10]:
        review.save_review(item, {"score": 7, "comment": "方法扎实"}, expert)
    db.session.commit()
    log_in_session(client, expert)
    client.get(score_url(triage))  # the login session's first request writes its own rows
    many = statements_for(client, score_url(triage))
    many_pages = [statements_for(client, page_url(triage, page)) for page in (1, 2)]
    db.session.execute(delete(Review).where(Review.id.in_([item.id for item in mine[3:]])))
    db.session.commit()
    few = statements_for(client, score_url(triage))
    assert len(review_data(client.get(score_url(triage)).get_data(as_text=True))["rows"]) == 3
    assert many == few, f"{few} statements with 3 reviews, {many} with {len(mine)}"
    few_pages = [statements_for(client, page_url(triage, 1))]
    assert len(ROW_ID.findall(client.get(page_url(triage, 1)).get_data(as_text=True))) == 3
    assert set(many_pages) == set(few_pages), (few_pages, many_pages)


def test_a_blind_round_shows_no_author_institution_journal_or_doi(app, client, open_panel, five_experts):
    triage = open_round(open_panel, five_experts[0], blind=True)
    expert = five_experts[1]
    mine = reviews_of(triage, expert)
    secrets = identifying_strings([item.candidate for item in mine])
    assert any(re.fullmatch(r"I\d+", secret) for secret in secrets)  # the test has something to look for
    assert any(secret.startswith("10.") for secret in secrets)
    log_in_session(client, expert)
    screen = client.get(score_url(triage)).get_data(as_text=True)
    assert leaked(screen, secrets) == []
    assert 'data-testid="blind-badge"' in screen and 'data-testid="journal"' not in screen
    data = review_data(screen)  # decoded: a secret escaped in the JSON (\u0026 for &) is found too
    assert leaked(json.dumps(data, ensure_ascii=False), secrets) == []
    assert not {"source_name", "doi", "work_id", "authorships"} & set(data["columns"])
    assert not {item.candidate.work_id for item in mine} & set(re.findall(r"W\d+", screen))
    for text in form_pages(client, triage, len(mine)):
        assert leaked(text, secrets) == [] and 'data-testid="journal"' not in text
    token = csrf_token(client, score_url(triage))
    for item in mine:
        page = client.get(f"/panels/reviews/{item.id}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert leaked(text, secrets) == [], item.candidate.work_id
        assert 'data-testid="blind-notice"' in text and item.candidate.work_id not in text
    answer = json_save(client, mine[0].id, {"score": 8, "comment": "前沿性强"}, token)
    assert answer.status_code == 200
    assert leaked(answer.get_data(as_text=True), secrets) == []
    refused = json_save(client, mine[1].id, {"score": 11}, token)
    assert leaked(refused.get_data(as_text=True), secrets) == []


def test_an_open_round_shows_the_journal_doi_and_authors(app, client, open_panel, five_experts):
    triage = open_round(open_panel, five_experts[0], blind=False)
    expert = five_experts[1]
    item = next(item for item in reviews_of(triage, expert)
                if item.candidate.doi and item.candidate.source_name and item.candidate.authorships)
    candidate = item.candidate
    log_in_session(client, expert)
    text = client.get(f"/panels/reviews/{item.id}").get_data(as_text=True)
    assert html.escape(candidate.source_name) in text
    assert f'href="https://doi.org/{candidate.doi}"' in text
    assert f"https://openalex.org/{candidate.work_id}" in text
    assert html.escape(candidate.authorships[0]["name"]) in text
    assert 'data-testid="authors-table"' in text and 'data-testid="blind-notice"' not in text
    screen = client.get(score_url(triage)).get_data(as_text=True)
    row = next(row for row in review_data(screen)["rows"] if row["id"] == item.id)
    assert (row["source_name"], row["doi"]) == (candidate.source_name, candidate.doi)
    assert 'data-testid="journal"' in screen and 'data-testid="doi-link"' in screen  # in the row template
    mine = [found.id for found in reviews_of(triage, expert)]
    page = client.get(page_url(triage, mine.index(item.id) // PAGE_SIZE + 1)).get_data(as_text=True)
    assert html.escape(candidate.source_name) in page and f'href="https://doi.org/{candidate.doi}"' in page


def test_the_form_without_javascript_saves_and_redirects(app, client, open_panel, five_experts):
    triage = open_round(open_panel, five_experts[0])
    expert = five_experts[1]
    mine = reviews_of(triage, expert)
    first, second = mine[:2]
    assert len(mine) > PAGE_SIZE
    log_in_session(client, expert)
    token = csrf_token(client, page_url(triage, 1))
    saved = client.post(f"/panels/reviews/{first.id}", data={"csrf_token": token, "score": "7", "comment": "数据扎实"})
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"{page_url(triage, 1)}#review-{first.id}")  # the page holding it
    assert (stored(first.id).score, stored(first.id).comment) == (7, "数据扎实")
    screen = client.get(page_url(triage, 1)).get_data(as_text=True)
    assert re.search(rf'id="review-{first.id}" data-testid="review-row" data-done="1"', screen)
    assert '<span data-progress-done>1</span>' in screen and "数据扎实</textarea>" in screen
    # A row of the second page: back to the second page, where it shows saved.
    later = mine[PAGE_SIZE]
    saved = client.post(f"/panels/reviews/{later.id}", data={"csrf_token": token, "score": "4"})
    assert saved.headers["Location"].endswith(f"{page_url(triage, 2)}#review-{later.id}")
    screen = client.get(page_url(triage, 2)).get_data(as_text=True)
    assert re.search(rf'id="review-{later.id}" data-testid="review-row" data-done="1"', screen)
    assert '<span data-progress-done>2</span>' in screen
    assert next(row for row in review_data(client.get(score_url(triage)).get_data(as_text=True))["rows"]
                if row["id"] == later.id)["score"] == 4
    # From the review page's full form, back to the review page.
    review_page = client.get(f"/panels/reviews/{second.id}").get_data(as_text=True)
    assert 'name="back" value="review"' in review_page and 'data-testid="field-score"' in review_page
    back = client.post(f"/panels/reviews/{second.id}",
                       data={"csrf_token": token, "score": "9", "comment": "", "back": "review"})
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/panels/reviews/{second.id}")
    assert stored(second.id).score == 9
    assert '<option value="9" selected>' in client.get(f"/panels/reviews/{second.id}").get_data(as_text=True)
    # Without a CSRF token nothing is saved.
    assert client.post(f"/panels/reviews/{second.id}", data={"score": "3"}).status_code == 400
    assert stored(second.id).score == 9


def test_the_json_save_answers_the_progress_and_refuses_a_score_of_11(app, client, open_panel, five_experts):
    triage = open_round(open_panel, five_experts[0])
    expert = five_experts[1]
    mine = reviews_of(triage, expert)
    log_in_session(client, expert)
    token = csrf_token(client, score_url(triage))
    answer = json_save(client, mine[0].id, {"score": 6}, token)
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["ok"] is True and data["review"]["score"] == 6 and data["review"]["done"] is True
    assert data["progress"] == {"done": 1, "total": len(mine)}
    assert re.fullmatch(r"\d\d:\d\d:\d\d", data["saved_at"])
    refused = json_save(client, mine[0].id, {"score": 11}, token)
    assert refused.status_code == 400
    body = refused.get_json()
    assert body["ok"] is False and body["error"]
    assert stored(mine[0].id).score == 6
    assert json_save(client, mine[0].id, {"originality": 5}, token).status_code == 400  # not a triage field
    assert json_save(client, mine[0].id, {"score": 6}, "not-the-token").status_code == 400
    cleared = json_save(client, mine[0].id, {"score": ""}, token).get_json()
    assert cleared["review"]["done"] is False and cleared["progress"]["done"] == 0


def test_another_experts_review_cannot_be_saved(app, client, open_panel, five_experts):
    triage = open_round(open_panel, five_experts[0])
    expert, other = five_experts[1], five_experts[2]
    theirs = reviews_of(triage, other)[0]
    log_in_session(client, expert)
    token = csrf_token(client, score_url(triage))
    assert json_save(client, theirs.id, {"score": 8}, token).status_code == 403
    assert client.post(f"/panels/reviews/{theirs.id}", data={"csrf_token": token, "score": "8"}).status_code == 403
    assert client.get(f"/panels/reviews/{theirs.id}").status_code == 403
    after = stored(theirs.id)
    assert after.score is None and after.comment is None and after.updated_at is None


def test_a_closed_round_shows_its_scores_with_every_input_disabled(app, client, open_panel, five_experts):
    chair, expert = five_experts[0], five_experts[1]
    triage = open_round(open_panel, chair)
    fill_round(triage, leave=5)
    review.close_round(triage, "两位专家出差", chair)
    db.session.commit()
    mine = reviews_of(triage, expert)
    log_in_session(client, expert)
    text = client.get(score_url(triage)).get_data(as_text=True)
    assert 'data-testid="round-closed"' in text and 'data-open="0"' in text
    inputs = re.findall(r"<(?:input|textarea|select)[^>]*name=\"(?:score|comment)\"[^>]*>", text)
    assert len(inputs) == 2 and all(" disabled" in tag for tag in inputs)  # the row template's
    assert 'class="btn btn-sm btn-outline-primary row-save"' not in text
    assert [row["score"] is not None for row in review_data(text)["rows"]] == [
        item.score is not None for item in mine]
    text = client.get(page_url(triage, 1)).get_data(as_text=True)
    inputs = re.findall(r"<(?:input|textarea|select)[^>]*name=\"(?:score|comment)\"[^>]*>", text)
    assert len(inputs) == 2 * min(PAGE_SIZE, len(mine)) and all(" disabled" in tag for tag in inputs)
    assert 'class="btn btn-sm btn-outline-primary row-save"' not in text
    review_page = client.get(f"/panels/reviews/{mine[0].id}").get_data(as_text=True)
    assert 'data-testid="round-closed"' in review_page and 'data-testid="review-save"' not in review_page
    token = csrf_token(client, score_url(triage))
    refused = json_save(client, mine[0].id, {"score": 1}, token)
    assert refused.status_code == 409 and refused.get_json()["error"]


def test_the_parts_of_the_screen_alike_for_everyone_follow_the_language_and_the_round(
        app, client, open_panel, five_experts):
    """The labels, the table's head and the row template are rendered once for each language,
    stage, blindness and state, and served from there."""
    chair, expert = five_experts[0], five_experts[1]
    triage = open_round(open_panel, chair)
    log_in_session(client, expert)
    chinese = client.get(score_url(triage)).get_data(as_text=True)
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, score_url(triage))})
    english = client.get(score_url(triage)).get_data(as_text=True)
    assert 'data-label-saved="Saved"' in english and 'data-label-saved="Saved"' not in chinese
    assert '<th scope="col">Number</th>' in english and '<th scope="col">Number</th>' not in chinese
    assert 'class="btn btn-sm btn-outline-primary row-save"' in english
    fill_round(triage, leave=5)
    review.close_round(triage, "两位专家出差", chair)
    db.session.commit()
    closed = client.get(score_url(triage)).get_data(as_text=True)
    assert 'class="btn btn-sm btn-outline-primary row-save"' not in closed
    assert all(" disabled" in tag for tag in re.findall(r"<(?:input|textarea)[^>]*name=\"(?:score|comment)\"[^>]*>",
                                                       closed))


@pytest.mark.slow
def test_the_shortlist_scores_the_rubric_and_the_final_round_votes(app, client, open_panel, five_experts):
    chair, expert = five_experts[0], five_experts[1]
    triage = open_round(open_panel, chair)
    fill_round(triage)
    review.close_round(triage, None, chair)
    db.session.commit()
    shortlist = open_round(open_panel, chair, "shortlist")
    mine = reviews_of(shortlist, expert)
    log_in_session(client, expert)
    screen = client.get(page_url(shortlist, 1)).get_data(as_text=True)
    shown = min(PAGE_SIZE, len(mine))
    for name in review.RUBRIC:
        assert screen.count(f'name="{name}"') == shown
    assert screen.count('name="recommendation"') == shown and 'name="score"' not in screen
    screen = client.get(score_url(shortlist)).get_data(as_text=True)
    assert all(screen.count(f'name="{name}"') == 1 for name in (*review.RUBRIC, "recommendation"))
    assert 'name="score"' not in screen and len(review_data(screen)["rows"]) == len(mine)
    token = csrf_token(client, score_url(shortlist))
    answer = json_save(client, mine[0].id, {"originality": 8, "frontier": 9, "significance": 7}, token).get_json()
    assert answer["review"]["score"] is None and answer["review"]["done"] is False
    answer = json_save(client, mine[0].id, {"influence": 8, "recommendation": "strongly"}, token).get_json()
    assert answer["review"]["score"] == 8 and answer["review"]["done"] is True
    review_page = client.get(f"/panels/reviews/{mine[0].id}").get_data(as_text=True)
    assert '<option value="strongly" selected>' in review_page and 'data-testid="rubric-mean">8.00<' in review_page
    fill_round(shortlist, seed=1)
    review.close_round(shortlist, None, chair)
    db.session.commit()

    final = open_round(open_panel, chair, "final")
    mine = reviews_of(final, expert)
    screen = client.get(score_url(final)).get_data(as_text=True)
    assert screen.count('name="vote" value="yes"') == 1 and len(review_data(screen)["rows"]) == len(mine)
    assert client.get(page_url(final, 1)).get_data(as_text=True).count('name="vote" value="yes"') == min(
        PAGE_SIZE, len(mine))
    assert 'data-testid="yes-votes" data-yes-votes>0<' in screen and "/vote-rest-no" in screen
    assert 'data-testid="anchors"' not in screen
    answer = json_save(client, mine[0].id, {"vote": "yes"}, token).get_json()
    assert answer["yes_votes"] == 1 and answer["progress"]["done"] == 1
    rest = client.post(f"/panels/review-rounds/{final.id}/vote-rest-no", data={"csrf_token": token})
    assert rest.status_code == 302
    assert review.progress(final, expert.id) == (len(mine), len(mine))
    screen = client.get(score_url(final)).get_data(as_text=True)
    assert f'<span data-progress-done>{len(mine)}</span>' in screen
    votes = {row["id"]: row["vote"] for row in review_data(screen)["rows"]}
    assert (votes[mine[0].id], votes[mine[1].id]) == (True, False)
    screen = client.get(page_url(final, 1)).get_data(as_text=True)
    assert re.search(rf'value="yes" id="vote-yes-{mine[0].id}"[^>]* checked', screen)
    assert re.search(rf'value="no" id="vote-no-{mine[1].id}"[^>]* checked', screen)
    review_page = client.get(f"/panels/reviews/{mine[0].id}").get_data(as_text=True)
    assert re.search(r'name="vote" value="yes" id="vote-yes" checked', review_page)
    assert 'data-testid="blind-notice"' in review_page and 'data-testid="field-score"' not in review_page
