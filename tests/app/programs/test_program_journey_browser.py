"""In Chromium, the money loop of one category-A application: the society applies; staff pass
formal review and assign three reviewers; they score; staff approve and publish the notice,
which an anonymous visitor reads; the notice's week passes, staff conclude it, record the
signed agreement and release the first tranche; the society downloads its task agreement
(its PDF's first page rendered to PNG, in the CJK font) and reads every step in its history.
Screenshots go to test-artifacts/program-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pypdfium2
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from conference_app.accounts import services as accounts
from conference_app.core.db import unit_of_work
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.organisations import services as organisations
from conference_app.organisations.credit_code import make_credit_code
from conference_app.programs.models import Notice
from tests.app.conftest import ARTIFACTS_DIR, DEFAULT_PASSWORD, screenshot
from tests.app.organisations.test_journey_browser import log_in
from tests.app.programs.helpers import CALL_2026

pytestmark = pytest.mark.browser

STAFF = "staff@bast.example.cn"
SOCIETY = "admin@optics.example.cn"
EXPERTS = ("expert1@example.cn", "expert2@example.cn", "expert3@example.cn")
PROJECT = "京津冀光学前沿国际交流"


@pytest.fixture()
def world(live_server):
    """An open 2026 call, a society that held an international conference, staff and experts."""
    from conference_app.programs.call_schema import load_call_file
    from conference_app.programs.services.calls import load_call, publish_call

    with live_server.app.app_context():
        with unit_of_work():
            accounts.create_user(STAFF, "王学会", "staff", password=DEFAULT_PASSWORD)
            for number, email in enumerate(EXPERTS, start=1):
                accounts.create_user(email, f"评审专家{number}", "expert", password=DEFAULT_PASSWORD)
            society = organisations.create_organisation({
                "name_zh": "北京光学学会", "org_type": "society", "credit_code": make_credit_code("51110000500300001"),
                "is_bast_member": True, "contact_name": "周秘书长"})
            accounts.create_user(SOCIETY, "周秘书长", "society", organisation_id=society.id, is_org_admin=True,
                                 password=DEFAULT_PASSWORD)
            year = beijing_today().year
            for kind, title in (("international", "国际光学工程会议"), ("national", "全国光学学术年会"),
                                ("other", "光学青年沙龙")):
                organisations.add_past_event(society, year=year - 1, kind=kind, title=title, role="host")
            call = load_call(load_call_file(CALL_2026), source_name=CALL_2026.name,
                             source=CALL_2026.read_bytes()).call
            publish_call(call, actor=None)
            call.opens_on, call.closes_on = beijing_today() - timedelta(days=5), beijing_today() + timedelta(days=20)
        return call.id


def sign_in(page, base: str, email: str) -> None:
    """Log in as ``email`` in a browser with no session (the previous user's cookie dropped)."""
    page.context.clear_cookies()
    log_in(page, base, email, DEFAULT_PASSWORD)
    page.wait_for_url("**/home")


def test_a_category_a_application_from_submission_to_its_first_tranche(live_server, browser, page, world):
    base = live_server.url

    # The society applies for category A: its conditions are shown first, rule by rule.
    sign_in(page, base, SOCIETY)
    page.goto(f"{base}/programs/")
    page.get_by_test_id("apply-A").click()
    expect(page.get_by_test_id("verdicts")).to_contain_text("国际光学工程会议")
    screenshot(page, "program-01-conditions")
    page.locator("[name=project_name_zh]").fill(PROJECT)
    page.locator("[name=theme]").fill("面向京津冀国际科技创新中心的光学前沿与产业交叉")
    page.get_by_test_id("start-application").click()
    page.locator("[name='lines-0-item']").fill("国际会议会务")
    page.locator("[name='lines-0-amount']").fill("150000")
    page.locator("[name='lines-1-item']").fill("专家咨询")
    page.locator("[name='lines-1-amount']").fill("50000")
    page.get_by_test_id("budget-form").get_by_role("button").click()
    planned = page.get_by_test_id("planned-event-form")
    planned.locator("[name=kind]").select_option("international")
    planned.locator("[name=title]").fill("2026国际光学前沿论坛")
    planned.locator("[name=starts_on]").fill(f"{beijing_today().year}-10-20")
    planned.locator("[name=venue]").fill("北京国际会议中心")
    planned.locator("[name=expected_attendance]").fill("400")
    planned.locator("[name=filing_status]").select_option("pending")
    planned.get_by_role("button").click()
    screenshot(page, "program-02-draft")
    page.goto(f"{base}/programs/")
    page.get_by_role("link", name=PROJECT).first.click()
    application_url = page.url
    page.get_by_test_id("transition-submit").click()
    expect(page.get_by_test_id("application-title")).to_contain_text("已提交")
    screenshot(page, "program-03-submitted")

    # Staff: confirm the condition they check by hand, pass formal review, assign three reviewers.
    sign_in(page, base, STAFF)
    page.goto(application_url)
    panel = page.get_by_test_id("staff-panel")
    confirm = panel.locator("[data-testid^=confirm-rule-]").first
    confirm.locator("textarea, input[type=text]").first.fill("已核对学会近三年学术活动材料")
    confirm.get_by_role("button").click()
    page.get_by_test_id("formal-pass").click()
    for number in range(1, 4):
        assign = page.get_by_test_id("assign-form")
        select = assign.locator("[name$=reviewer_id]")
        value = select.evaluate("(s, name) => [...s.options].find(o => o.text.includes(name)).value",
                                f"评审专家{number}")
        select.select_option(value)
        assign.get_by_role("button").click()
    expect(page.get_by_test_id("reviews-table")).to_contain_text("评审专家3")
    screenshot(page, "program-04-reviewers-assigned")

    # Each expert scores from their own list.
    for number, email in enumerate(EXPERTS, start=1):
        sign_in(page, base, email)
        page.goto(f"{base}/programs/reviews/")
        page.get_by_role("link", name=PROJECT).first.click()
        form = page.get_by_test_id("review-form")
        for field in form.locator("input[name^=score_]").all():
            field.fill(str(7 + number))
        form.locator("[name=comment]").fill("主题前沿，方案可行。")
        form.get_by_role("button").click()
        expect(page.locator(".alert-success")).to_contain_text("评审意见已提交")
    screenshot(page, "program-05-scored")

    # Staff approve and put the approved projects on public notice for a week.
    sign_in(page, base, STAFF)
    page.goto(application_url)
    expect(page.get_by_test_id("score-summary")).to_contain_text("90")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("application-title")).to_contain_text("已立项")
    page.goto(f"{base}/programs/staff/calls/{world}/notices")
    page.locator("[name=title]").fill("2026年度首都学术培优项目立项公示")
    page.locator("[name=starts_on]").fill(beijing_today().isoformat())
    page.locator("[name=ends_on]").fill((beijing_today() + timedelta(days=6)).isoformat())
    page.locator("form:has([name=ends_on])").get_by_role("button").click()
    screenshot(page, "program-06-notice-published")

    # An anonymous visitor reads the notice.
    visitor = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    public = visitor.new_page()
    public.goto(f"{base}/notices/")
    public.get_by_role("link", name="2026年度首都学术培优项目立项公示").click()
    expect(public.get_by_test_id("notice-project")).to_contain_text(PROJECT)
    expect(public.get_by_test_id("notice-open")).to_be_visible()
    screenshot(public, "program-07-public-notice-phone")
    visitor.close()

    # The notice's week passes; staff conclude it, record the signed agreement, release the first tranche.
    with live_server.app.app_context():
        notice = db.session.scalar(db.select(Notice))
        notice.starts_on, notice.ends_on = beijing_today() - timedelta(days=7), beijing_today() - timedelta(days=1)
        db.session.commit()
    page.goto(f"{base}/programs/staff/calls/{world}/notices")
    page.locator("[data-testid^=conclude-]").first.click()
    page.goto(application_url)
    page.locator("[name$=signed_on]").fill(beijing_today().isoformat())
    page.get_by_test_id("record-signing").click()
    page.locator("[name$=released_on]").first.fill(beijing_today().isoformat())
    page.get_by_test_id("release-1").click()
    expect(page.get_by_test_id("tranche-status-1")).to_contain_text("已拨付")
    screenshot(page, "program-08-first-tranche-released")

    # The society downloads its task agreement and reads every step in its history.
    sign_in(page, base, SOCIETY)
    page.goto(application_url)
    with page.expect_download() as download:
        page.get_by_test_id("agreement-downloads").get_by_role("link", name=re.compile("PDF")).click()
    pdf = ARTIFACTS_DIR / "program-agreement.pdf"
    download.value.save_as(pdf)
    reader = PdfReader(pdf)
    assert PROJECT in reader.pages[0].extract_text()
    fonts = {str(font.get_object()["/BaseFont"]) for font in reader.pages[0]["/Resources"]["/Font"].values()}
    assert any("WenQuanYi" in font for font in fonts), fonts  # the Chinese glyphs come from the CJK font
    first_page = pypdfium2.PdfDocument(str(pdf))[0].render(scale=1.5).to_pil()
    first_page.save(ARTIFACTS_DIR / "program-09-agreement-page-1.png")
    history = page.get_by_test_id("application-history")
    for step in ("已提交", "形式审查通过", "已立项", "公示", "任务书", "拨付"):
        expect(history).to_contain_text(step)
    expect(history).not_to_contain_text("评审专家1")  # reviewers' names are for staff only
    screenshot(page, "program-10-society-history")
