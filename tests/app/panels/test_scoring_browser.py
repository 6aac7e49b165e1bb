"""In Chromium, an expert scores a blind triage round from the keyboard: j/k move between rows,
the digits score them (0 is 10), u jumps to the next unscored row; each row says it is saved and
the progress follows; a comment saves after a pause and the shortcuts stay out of it; after a
reload the scores are in the database and on the screen; / searches; Enter opens the review.
Then the shortlist's four criteria from the keyboard, and the final vote's y and n.
Screenshots go to test-artifacts/panel-scoring-*.png (desktop, and a 390 px phone)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from conference_app.accounts import services as accounts
from conference_app.core.db import unit_of_work
from conference_app.extensions import db
from conference_app.panels import review
from conference_app.panels.models import Review, ReviewRound
from tests.app.conftest import ARTIFACTS_DIR, DEFAULT_PASSWORD, screenshot
from tests.app.organisations.test_journey_browser import log_in
from tests.app.panels.conftest import fill_round, import_round, running_panel

pytestmark = pytest.mark.browser

EXPERTS = [f"panel-expert{number}@example.cn" for number in range(1, 6)]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
SAVED_AT = re.compile(r"\d\d:\d\d:\d\d")


@pytest.fixture()
def blind_triage(live_server, review_ranking_output):
    """An open panel of five on the imported ranking, its blind triage round open: the round's
    id and the expert who scores (not the chair)."""
    app = live_server.app
    with app.app_context():
        with unit_of_work():
            staff = accounts.create_user("panel-staff@bast.example.cn", "王工作人员", "staff", password=DEFAULT_PASSWORD)
            experts = [accounts.create_user(email, f"评审专家{number}", "expert", password=DEFAULT_PASSWORD)
                       for number, email in enumerate(EXPERTS, start=1)]
        selection_round = import_round(app, review_ranking_output)
        panel = running_panel(selection_round, staff, experts, experts[0])
        triage = review.create_round(panel, "triage", experts[0], blind=True)
        db.session.commit()
        return triage.id, experts[1].email


def scores_in_database(app, review_round_id: int, email: str) -> dict[int, float | None]:
    from conference_app.accounts.models import User

    with app.app_context():
        user = db.session.scalar(select(User).filter_by(email=email))
        return dict(db.session.execute(select(Review.id, Review.score).filter_by(
            review_round_id=review_round_id, user_id=user.id)).all())


def row_id(row) -> int:
    return int(row.get_attribute("id").removeprefix("review-"))


def test_an_expert_scores_a_blind_triage_round_from_the_keyboard(live_server, browser, page, blind_triage):
    review_round_id, email = blind_triage
    base = live_server.url
    log_in(page, base, email, DEFAULT_PASSWORD)
    page.wait_for_url("**/home")
    page.goto(f"{base}/panels/my-reviews")
    page.get_by_test_id("score-link").click()
    page.wait_for_url(f"**/panels/review-rounds/{review_round_id}/score")

    rows = page.get_by_test_id("review-row")
    total = rows.count()
    assert total >= 50
    progress = page.get_by_test_id("progress")
    expect(progress).to_have_text(f"0 / {total}")
    expect(page.get_by_test_id("key-help")).to_be_visible()
    expect(page.get_by_test_id("filter-text")).to_be_visible()
    expect(rows.nth(0).locator(".row-save")).to_be_hidden()  # changes save themselves
    expect(page.get_by_test_id("blind-badge")).to_be_visible()

    def status(index: int):
        return rows.nth(index).get_by_test_id("row-status")

    def expect_saved(index: int) -> None:
        expect(status(index)).to_have_attribute("data-state", "saved")
        expect(status(index)).to_contain_text(SAVED_AT)

    # j to the first row, 7; j, 0 is 10; j j (one left out), 3.
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bis-active\b"))
    page.keyboard.press("7")
    expect_saved(0)
    expect(progress).to_have_text(f"1 / {total}")
    page.keyboard.press("j")
    page.keyboard.press("0")
    expect_saved(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("j")
    expect(rows.nth(3)).to_have_class(re.compile(r"\bis-active\b"))
    page.keyboard.press("3")
    expect_saved(3)
    expect(progress).to_have_text(f"3 / {total}")
    expect(rows.nth(3)).to_have_attribute("data-done", "1")
    # Back up with k, then u finds the row left out.
    for _ in range(3):
        page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bis-active\b"))
    page.keyboard.press("u")
    expect(rows.nth(2)).to_have_class(re.compile(r"\bis-active\b"))
    page.keyboard.press("5")
    expect_saved(2)
    expect(progress).to_have_text(f"4 / {total}")

    # A score of 11 typed into the field: the server's refusal is shown, nothing is saved.
    score_field = rows.nth(4).locator("input[name=score]")
    score_field.fill("11")
    score_field.press("Tab")
    expect(status(4)).to_have_attribute("data-state", "error")
    expect(score_field).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(progress).to_have_text(f"4 / {total}")
    score_field.fill("")
    score_field.press("Tab")
    expect(status(4)).to_have_attribute("data-state", "saved")

    # Typing a comment: the shortcut keys stay out of it; it saves after a pause; Esc leaves it.
    comment = rows.nth(0).locator("textarea[name=comment]")
    comment.click()
    first_url = rows.nth(0).get_attribute("data-save-url")
    with page.expect_response(lambda response: response.url.endswith(first_url)
                              and response.request.method == "POST") as comment_saved:
        page.keyboard.type("j 7 方法新颖")
    assert comment_saved.value.json()["review"]["comment"] == "j 7 方法新颖"
    expect_saved(0)
    page.keyboard.press("Escape")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bis-active\b"))
    expect(rows.nth(0).locator("input[name=score]")).to_have_value("7")
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bis-active\b"))
    screenshot(page, "panel-scoring-01-desktop-full")
    page.screenshot(path=str(ARTIFACTS_DIR / "panel-scoring-02-desktop.png"))

    ids = [row_id(rows.nth(index)) for index in range(5)]
    in_database = scores_in_database(live_server.app, review_round_id, email)
    assert [in_database[review_id] for review_id in ids] == [7, 10, 5, 3, None]
    assert sum(score is not None for score in in_database.values()) == 4

    # After a reload the scores are still there.
    page.reload()
    expect(progress).to_have_text(f"4 / {total}")
    for index, value in enumerate(("7", "10", "5", "3", "")):
        expect(rows.nth(index).locator("input[name=score]")).to_have_value(value)
    expect(rows.nth(0).locator("textarea[name=comment]")).to_have_value("j 7 方法新颖")
    expect(rows.nth(0)).to_have_attribute("data-done", "1")

    # / searches the titles and terms; "unscored only" hides the scored rows.
    wanted = rows.nth(6).get_by_test_id("review-link").inner_text()
    page.keyboard.press("/")
    expect(page.get_by_test_id("filter-text")).to_be_focused()
    page.keyboard.type(wanted)
    expect(rows.nth(6)).to_be_visible()
    shown = int(page.get_by_test_id("shown-count").inner_text())
    assert 1 <= shown < total
    assert page.locator('[data-testid="review-row"]:visible').count() == shown
    page.get_by_test_id("filter-text").fill("")
    page.get_by_test_id("filter-unscored").check()
    expect(page.get_by_test_id("shown-count")).to_have_text(str(total - 4))
    expect(rows.nth(0)).to_be_hidden()
    # j goes to the first row still shown; Enter opens its review, blind.
    page.locator("h1").click()
    page.keyboard.press("j")
    expect(rows.nth(4)).to_have_class(re.compile(r"\bis-active\b"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/panels/reviews/{ids[4]}")
    expect(page.get_by_test_id("blind-notice")).to_be_visible()
    expect(page.get_by_test_id("field-score")).to_be_visible()
    screenshot(page, "panel-scoring-03-review")
    page.get_by_test_id("back-to-scoring").click()
    page.wait_for_url(f"**/panels/review-rounds/{review_round_id}/score#review-{ids[4]}")
    expect(rows.nth(4)).to_have_class(re.compile(r"\bis-active\b"))

    # The session gone (logged out elsewhere, or expired): the row says so, nothing is saved.
    page.context.clear_cookies()
    page.keyboard.press("9")
    expect(status(4)).to_have_attribute("data-state", "error")
    expect(status(4)).to_have_text(page.locator("#panel-scoring").get_attribute("data-message-expired"))
    expect(rows.nth(4).locator("input[name=score]")).to_have_class(re.compile(r"\bis-invalid\b"))
    assert scores_in_database(live_server.app, review_round_id, email)[ids[4]] is None

    # On a 390 px phone the table scrolls sideways inside its box; the page itself does not.
    phone = browser.new_context(**PHONE)
    try:
        small = phone.new_page()
        log_in(small, base, email, DEFAULT_PASSWORD)
        small.wait_for_url("**/home")
        small.goto(f"{base}/panels/review-rounds/{review_round_id}/score")
        expect(small.get_by_test_id("progress")).to_have_text(f"4 / {total}")
        assert small.evaluate("document.documentElement.scrollWidth") <= 390
        small.screenshot(path=str(ARTIFACTS_DIR / "panel-scoring-04-phone.png"))
    finally:
        phone.close()


def test_the_shortlist_rubric_and_the_final_vote_from_the_keyboard(live_server, browser, page, blind_triage):
    review_round_id, email = blind_triage
    app, base = live_server.app, live_server.url
    with app.app_context():
        triage = db.session.get(ReviewRound, review_round_id)
        panel, chair = triage.panel, triage.panel.chair
        fill_round(triage)
        review.close_round(triage, None, chair)
        shortlist = review.create_round(panel, "shortlist", chair, blind=False)
        db.session.commit()
        shortlist_id = shortlist.id
    log_in(page, base, email, DEFAULT_PASSWORD)
    page.wait_for_url("**/home")
    page.goto(f"{base}/panels/review-rounds/{shortlist_id}/score")
    rows = page.get_by_test_id("review-row")
    first = rows.nth(0)
    expect(first.get_by_test_id("journal")).to_be_visible()  # not blind: the journal and the DOI are shown

    # j, then a digit per criterion: → and Tab move to the next one, ← back.
    page.keyboard.press("j")
    expect(first.locator("input[name=originality]")).to_have_class(re.compile(r"\bis-key-target\b"))
    page.keyboard.press("8")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("9")
    page.keyboard.press("Tab")
    page.keyboard.press("7")
    page.keyboard.press("Tab")
    expect(first.locator("input[name=influence]")).to_have_class(re.compile(r"\bis-key-target\b"))
    page.keyboard.press("6")
    expect(first.locator("[data-mean]")).to_have_text("7.50")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("5")
    expect(first.locator("[data-mean]")).to_have_text("7.00")
    first.locator("select[name=recommendation]").select_option("recommend")
    expect(first.get_by_test_id("row-status")).to_contain_text(SAVED_AT)
    expect(first).to_have_attribute("data-done", "1")
    expect(page.get_by_test_id("progress")).to_contain_text("1 / ")
    screenshot(page, "panel-scoring-05-shortlist")
    first_id = row_id(first)
    with app.app_context():
        saved = db.session.get(Review, first_id)
        assert (saved.originality, saved.frontier, saved.significance, saved.influence, saved.score) == (8, 9, 5, 6, 7)
        assert str(saved.recommendation) == "recommend"
        shortlist = db.session.get(ReviewRound, shortlist_id)
        chair = shortlist.panel.chair
        fill_round(shortlist, seed=1)
        review.close_round(shortlist, None, chair)
        final = review.create_round(shortlist.panel, "final", chair, blind=True)
        db.session.commit()
        final_id = final.id

    # The final vote: y and n; the yes count follows.
    page.goto(f"{base}/panels/review-rounds/{final_id}/score")
    votes = page.get_by_test_id("yes-votes")
    expect(votes).to_have_text("0")
    page.keyboard.press("j")
    page.keyboard.press("y")
    expect(votes).to_have_text("1")
    page.keyboard.press("j")
    page.keyboard.press("n")
    expect(rows.nth(1)).to_have_attribute("data-done", "1")
    expect(votes).to_have_text("1")
    expect(rows.nth(0).locator("input[value=yes]")).to_be_checked()
    expect(rows.nth(1).locator("input[value=no]")).to_be_checked()
    expect(page.get_by_test_id("progress")).to_contain_text("2 / ")
    total = rows.count()  # before the click: the page it loads builds its rows from its JSON only once loaded
    page.get_by_test_id("vote-rest-no").click()
    expect(page.get_by_test_id("progress")).to_have_text(f"{total} / {total}")
    expect(votes).to_have_text("1")
    # The rows built again from the page's JSON: each row's vote is its own (one radio group a row).
    expect(rows.nth(0).locator("input[value=yes]")).to_be_checked()
    expect(rows.nth(1).locator("input[value=no]")).to_be_checked()
    expect(rows.nth(2).locator("input[value=no]")).to_be_checked()
    screenshot(page, "panel-scoring-06-final")
