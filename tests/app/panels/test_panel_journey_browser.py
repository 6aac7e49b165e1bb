"""In Chromium, a panel from a ranking to its 20 frontier results: the analyst uploads the
ranking's output as a round; staff form a panel of five, name the chair, open it and compute
the conflicts; the chair opens a blind triage; an expert scores with the keyboard and sees no
author, institution or journal; the chair closes the triage (with the reason for what is left
unscored), runs the shortlist and the final vote, locks 20 with a justification each, and
downloads the Excel and the PDF report. Screenshots go to test-artifacts/panel-*.png."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pypdfium2
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from conference_app.accounts import services as accounts
from conference_app.core.db import unit_of_work
from conference_app.extensions import db
from conference_app.panels.models import Candidate, Panel, Review, ReviewRound, SelectionRound
from tests.app.conftest import DEFAULT_PASSWORD, screenshot
from tests.app.organisations.test_journey_browser import log_in
from tests.app.panels.conftest import busiest_discipline, fill_round

pytestmark = pytest.mark.browser

ANALYST = "analyst@bast.example.cn"
STAFF = "staff@bast.example.cn"
EXPERTS = tuple(f"expert{number}@example.cn" for number in range(1, 6))
ROUND = "2026年度前沿成果遴选"


@pytest.fixture()
def people(live_server):
    with live_server.app.app_context(), unit_of_work():
        accounts.create_user(ANALYST, "定量分析员", "analyst", password=DEFAULT_PASSWORD)
        accounts.create_user(STAFF, "王学会", "staff", password=DEFAULT_PASSWORD)
        for number, email in enumerate(EXPERTS, start=1):
            accounts.create_user(email, f"评审专家{number}", "expert", password=DEFAULT_PASSWORD)


def sign_in(page, base: str, email: str) -> None:
    page.context.clear_cookies()
    log_in(page, base, email, DEFAULT_PASSWORD)
    page.wait_for_url("**/home")


def ranking_zip(folder, target) -> str:
    path = target / "ranking.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in folder.iterdir():
            archive.write(file, f"ranking/{file.name}")
    return str(path)


def in_app(live_server, work):
    with live_server.app.app_context():
        with unit_of_work():
            result = work()
        db.session.remove()
        return result


def test_from_a_ranking_to_twenty_locked_results(live_server, browser, page, people, review_ranking_output,
                                                 tmp_path):
    base = live_server.url

    # The analyst imports the ranking's output.
    sign_in(page, base, ANALYST)
    page.goto(f"{base}/panels/rounds/import")
    page.locator("[name=name]").fill(ROUND)
    page.locator("[name=file]").set_input_files(ranking_zip(review_ranking_output, tmp_path))
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    screenshot(page, "panel-01-round-imported")
    round_id, discipline = in_app(live_server, lambda: (
        db.session.scalar(select(SelectionRound.id)),
        busiest_discipline(db.session.scalar(select(SelectionRound)))))

    # A world top-1% candidate's page: the dossier and why it holds its seat.
    world_class = in_app(live_server, lambda: db.session.scalar(
        select(Candidate.id).where(Candidate.dossier["admission"].as_string() == "world_top_1pct")
        .order_by(Candidate.rank, Candidate.id).limit(1)))
    page.goto(f"{base}/panels/candidates/{world_class}")
    expect(page.get_by_test_id("world-top-1pct")).to_be_visible()
    expect(page.get_by_test_id("admission")).to_contain_text("前1%")
    expect(page.get_by_test_id("citing-not-fetched")).to_be_visible()
    expect(page.get_by_test_id("first-author").first).to_be_visible()
    screenshot(page, "panel-01b-candidate-dossier")

    # Staff form the panel of five, name the chair, open it and compute the conflicts.
    sign_in(page, base, STAFF)
    page.goto(f"{base}/panels/rounds/{round_id}/panels")
    page.locator("[name=discipline]").select_option(discipline)
    page.locator("[name=name]").fill("前沿成果评审专家组")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/panels/*")
    for email in EXPERTS:
        page.locator("select[name=user_id]").select_option(label=f"{in_app(live_server, lambda: accounts_name(email))} ({email})")
        page.locator("form[action$='/members'] button[type=submit]").click()
        expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id("member")).to_have_count(5)
    page.get_by_test_id("member").first.locator("form[action$='/chair'] button").click()
    expect(page.get_by_test_id("chair")).to_have_text("评审专家1")
    page.get_by_test_id("open-panel").click()
    expect(page.get_by_test_id("panel-status")).to_have_text("已开启评审")
    page.locator("form[action$='/conflicts'] button").click()
    expect(page.locator(".alert-success")).to_be_visible()
    screenshot(page, "panel-02-panel-open")
    panel_id = in_app(live_server, lambda: db.session.scalar(select(Panel.id)))

    # The chair opens a blind triage, three experts per candidate.
    sign_in(page, base, EXPERTS[0])
    page.goto(f"{base}/panels/{panel_id}")
    expect(page.locator("[name=blind]")).to_be_checked()
    page.locator("form[action$='/review-rounds'] button[type=submit]").click()
    expect(page.get_by_test_id("round-status")).to_be_visible()
    triage_id = in_app(live_server, lambda: db.session.scalar(select(ReviewRound.id)))

    # An expert scores with the keyboard; the screen shows no author, institution or journal.
    sign_in(page, base, EXPERTS[1])
    page.goto(f"{base}/panels/my-reviews")
    page.get_by_test_id("score-link").click()
    expect(page.get_by_test_id("review-row").first).to_be_visible()
    hidden = in_app(live_server, lambda: hidden_strings(triage_id, EXPERTS[1]))
    html = page.content()
    assert not [text for text in hidden if text in html]
    page.locator("body").click()
    for key in ("j", "8", "j", "6", "j", "1", "0"):
        page.keyboard.press(key)
    expect(page.get_by_test_id("review-row").nth(2)).to_have_attribute("data-done", "1")
    expect(page.get_by_test_id("progress")).to_contain_text("3")
    screenshot(page, "panel-03-scoring-blind")
    page.reload()
    saved = in_app(live_server, lambda: sorted(
        score for score in db.session.scalars(select(Review.score).join(Review.user).where(
            Review.review_round_id == triage_id, Review.score.is_not(None)))))
    assert saved == [6, 8, 10]

    # The others score everything but three; the chair closes the triage with the reason.
    in_app(live_server, lambda: fill_round(db.session.get(ReviewRound, triage_id), leave=3))
    sign_in(page, base, EXPERTS[0])
    page.goto(f"{base}/panels/review-rounds/{triage_id}")
    page.locator("form[action$='/close'] button[type=submit]").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("3")
    page.locator("[name=reason]").fill("三项评分因专家临时出差缺失，按缺失值处理")
    page.locator("form[action$='/close'] button[type=submit]").click()
    expect(page.get_by_test_id("round-status")).to_have_text("已结束")
    expect(page.get_by_test_id("agreement")).to_be_visible()
    screenshot(page, "panel-04-triage-closed")

    # The shortlist and the final vote, scored by the panel, closed by the chair.
    for stage in ("shortlist", "final"):
        page.goto(f"{base}/panels/{panel_id}")
        page.locator("form[action$='/review-rounds'] button[type=submit]").click()
        expect(page.get_by_test_id("round-status")).to_be_visible()
        round_id_now = in_app(live_server, lambda: db.session.scalar(
            select(ReviewRound.id).filter_by(panel_id=panel_id, stage=stage)))
        in_app(live_server, lambda: fill_round(db.session.get(ReviewRound, round_id_now), seed=len(stage)))
        page.reload()
        page.locator("form[action$='/close'] button[type=submit]").click()
        expect(page.get_by_test_id("round-status")).to_have_text("已结束")
    screenshot(page, "panel-05-final-closed")

    # The chair locks 20, each with its justification.
    page.goto(f"{base}/panels/{panel_id}/lock")
    expect(page.get_by_test_id("chosen-count")).to_have_text("20")
    rows = page.get_by_test_id("lock-row")
    for number in range(rows.count()):
        row = rows.nth(number)
        if row.locator("input[type=checkbox]").is_checked():
            row.locator("textarea").fill(f"专家组认为该成果处于国际前沿（第{number + 1}项）")
    screenshot(page, "panel-06-lock")
    page.get_by_test_id("lock-submit").click()
    expect(page.get_by_test_id("result-row")).to_have_count(20)
    expect(page.get_by_test_id("results-status")).to_have_text("结果已锁定")
    screenshot(page, "panel-07-results-locked")

    with page.expect_download() as download:
        page.get_by_test_id("export-results").click()
    workbook = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    texts = [str(cell.value) for row in workbook.active.iter_rows() for cell in row if cell.value]
    assert any("专家组认为该成果处于国际前沿" in text for text in texts)
    with page.expect_download() as download:
        page.get_by_test_id("report-pdf").click()
    pdf = pypdfium2.PdfDocument(download.value.path().read_bytes())
    text = "".join(pdf[number].get_textpage().get_text_range() for number in range(len(pdf)))
    assert "前沿成果评审专家组" in text and "专家组认为该成果处于国际前沿" in text
    image = pdf[0].render(scale=1.5).to_pil()
    image.save(screenshot_path("panel-08-report-pdf"))


def accounts_name(email: str) -> str:
    from conference_app.accounts.models import User

    return db.session.scalar(select(User.name).filter_by(email=email))


def hidden_strings(review_round_id: int, email: str) -> set[str]:
    """The author names, institution ids, journals and DOIs of the expert's candidates."""
    from conference_app.accounts.models import User

    user_id = db.session.scalar(select(User.id).filter_by(email=email))
    candidates = db.session.scalars(select(Candidate).join(Review, Review.candidate_id == Candidate.id).where(
        Review.review_round_id == review_round_id, Review.user_id == user_id))
    hidden = set()
    for candidate in candidates:
        hidden |= {text for text in (candidate.source_name, candidate.doi, candidate.work_id) if text}
        for authorship in candidate.authorships or []:
            hidden |= {text for text in (authorship.get("name"), *(authorship.get("institution_ids") or [])) if text}
    return {text for text in hidden if len(text) >= 4}


def screenshot_path(name: str):
    from tests.app.conftest import ARTIFACTS_DIR

    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR / f"{name}.png"
