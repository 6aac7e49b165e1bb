"""Acceptance 5 of the events issue in Chromium, end to end: a society user starts a salon
series with its topic-selection mechanism, members' topics are proposed and the committee's
decisions recorded, four sessions are added with initiators and discussants; a visitor on a
390 px phone finds a session in the Academic Month calendar, registers and gets a QR code;
the organiser, on a phone at the door, checks the visitor in from the check-in page; the
series page then shows the new person-time, as a number and in the chart.
Screenshots: test-artifacts/series-*.png."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from conference_app.accounts.models import User
from conference_app.core.permissions import Role
from conference_app.core.timeutil import beijing_today
from conference_app.events.models import SalonSeries
from conference_app.extensions import db
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation
from tests.app.conftest import screenshot
from tests.app.organisations.test_journey_browser import log_in

EMAIL, PASSWORD = "chen@materials.example.cn", "Salon-Series-2026"
TOPICS = [("二维材料的规模化制备", "产业化瓶颈"), ("固态电池界面问题", "能源转型关键"),
          ("材料基因组与人工智能", "研发范式变革"), ("极端环境材料", "航天需求"), ("材料史漫谈", "科普")]


def session_days(today: date) -> list[date]:
    """Four consecutive days from tomorrow, all in one year (the series' year)."""
    first = today + timedelta(days=1)
    if (first + timedelta(days=3)).year != first.year:
        first = date(first.year + 1, 1, 1)
    return [first + timedelta(days=k) for k in range(4)]


@pytest.mark.browser
def test_a_series_its_sessions_a_visitor_registering_on_a_phone_and_checked_in_show_on_the_series_page(
        live_server, browser, page):
    base = live_server.url
    days = session_days(beijing_today())
    with live_server.app.app_context():
        organisation = Organisation(name_zh="北京材料学会", org_type="society", status="approved",
                                    credit_code=make_credit_code("51110000700007777"))
        user = User(email=EMAIL, name="陈秘书长", role=Role.SOCIETY.value, organisation=organisation)
        user.set_password(PASSWORD)
        db.session.add_all([organisation, user])
        db.session.commit()

    # 1. The society user starts a series with its topic-selection mechanism.
    log_in(page, base, EMAIL, PASSWORD)
    page.goto(f"{base}/series/")
    page.get_by_test_id("series-create").click()
    page.fill("#title_zh", "材料前沿交叉沙龙")
    page.fill("#year", str(days[0].year))
    page.fill("#description", "每月一期，二十人以内，围绕一个核心议题深入研讨。")
    page.fill("#topic_mechanism", "1. 每季度初向全体会员征集选题，附提出理由；\n2. 选题委员会集中评议，过半数同意即采纳；\n3. 采纳的选题在学会网站公布。")
    page.fill("#committee", "张明 研究员（召集人）\n李红 教授\n王强 高级工程师")
    page.fill("#venue", "中关村材料科学馆 3 层报告厅")
    page.select_option("#district", "haidian")
    screenshot(page, "series-01-new-series")
    page.get_by_role("button", name="创建系列").click()
    expect(page.get_by_test_id("series-title")).to_have_text("材料前沿交叉沙龙")
    expect(page.get_by_test_id("topic-mechanism")).to_contain_text("过半数同意即采纳")

    # 2. Members propose topics; the committee chooses four and declines one.
    for title, rationale in TOPICS:
        page.get_by_test_id("propose").locator("summary").click()
        page.fill("#title", title)
        page.fill("#rationale", rationale)
        page.get_by_role("button", name="提出", exact=True).click()
        expect(page.get_by_test_id("topics")).to_contain_text(title)
    screenshot(page, "series-02-proposals")
    with live_server.app.app_context():
        proposal_ids = [p.id for p in db.session.scalar(select(SalonSeries)).proposals]
    for proposal_id, (title, _rationale) in zip(proposal_ids, TOPICS):
        card = page.get_by_test_id(f"proposal-{proposal_id}")
        card.get_by_label("张明 研究员（召集人）").check()
        card.get_by_label("李红 教授").check()
        if title == "材料史漫谈":
            card.locator("textarea").fill("偏科普，不符合本系列的深度研讨定位")
            card.get_by_role("button", name="不予采纳").click()
        else:
            card.locator("textarea").fill("两票赞成")
            card.get_by_role("button", name="采纳该选题").click()
        expect(page.get_by_test_id(f"proposal-{proposal_id}").get_by_test_id("proposal-decision")).to_contain_text(
            "张明 研究员（召集人）、李红 教授")
    expect(page.get_by_test_id("topics")).to_contain_text("偏科普")
    screenshot(page, "series-03-decisions")

    # 3. Four sessions, each on a chosen topic with its initiator and main discussants.
    for number, (day, (title, _rationale)) in enumerate(zip(days, TOPICS), start=1):
        page.get_by_test_id("add-session").click()
        page.select_option("#topic_id", label=title)
        page.fill("#day", day.isoformat())
        page.fill("#starts", "14:00")
        page.fill("#ends", "16:30")
        page.fill("#initiator_name", f"发起人{number}")
        page.fill("#initiator_organisation", "北京科技大学")
        page.fill("#discussants", f"研讨人{number}甲, 清华大学, 教授\n研讨人{number}乙, 中科院物理所, 研究员")
        if number == 1:
            screenshot(page, "series-04-session-form")
        page.get_by_role("button", name="新增本期沙龙").click()
        expect(page.get_by_test_id("sessions-table").locator("tbody tr")).to_have_count(number)
    table = page.get_by_test_id("sessions-table")
    for title, _rationale in TOPICS[:4]:
        expect(table).to_contain_text(title)
    expect(table).to_contain_text("研讨人4乙")
    expect(page.get_by_test_id("person-times")).to_contain_text("0")
    screenshot(page, "series-05-four-sessions")

    # 4. A visitor on a phone finds the first session in the calendar, registers, gets a QR code.
    phone = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "viewport": {"width": 390, "height": 844}}
    visitor_context = browser.new_context(**phone)
    visitor = visitor_context.new_page()
    visitor.goto(f"{base}/academic-month/")
    visitor.get_by_role("searchbox", name="搜索").fill("二维材料")
    visitor.get_by_test_id("calendar-search").click()
    expect(visitor.get_by_test_id("calendar-event")).to_have_count(1)
    screenshot(visitor, "series-05a-visitor-finds-the-session")
    visitor.get_by_test_id("calendar-event").click()
    expect(visitor.get_by_test_id("event-initiators")).to_contain_text("发起人1")
    visitor.get_by_role("link", name="报名参加").click()
    visitor.get_by_label("您的姓名").fill("刘访客")
    visitor.get_by_label("工作单位").fill("北京化工大学")
    visitor.get_by_label("手机号码").fill("139 1234 5678")
    visitor.get_by_test_id("register-button").click()
    expect(visitor.get_by_test_id("registration-status")).to_have_text("已确认")
    expect(visitor.get_by_test_id("qr-code").locator("svg")).to_be_visible()
    code = visitor.get_by_test_id("registration-code").inner_text().strip()
    assert visitor.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(visitor, "series-05b-visitor-qr-code")
    visitor_context.close()

    # 5. The organiser, on a phone at the door, checks the visitor in from the check-in page.
    page.set_viewport_size(phone["viewport"])
    page.goto(f"{base}/manage/our-events")
    page.get_by_role("link", name=f"材料前沿交叉沙龙：{TOPICS[0][0]}").click()
    page.get_by_test_id("checkin-link").click()
    expect(page.get_by_test_id("checked-in-count")).to_have_text("0")
    page.get_by_label("姓名、手机号或签到码").fill("刘访客")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_test_id("checkin-results")).to_contain_text(code)
    page.get_by_test_id("checkin-button").click()
    expect(page.get_by_test_id("checkin-result")).to_have_text("刘访客 签到成功。")
    expect(page.get_by_test_id("checked-in-count")).to_have_text("1")
    screenshot(page, "series-05c-organiser-checks-in")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/series/")
    page.get_by_role("link", name="材料前沿交叉沙龙").first.click()

    # 6. The series page shows the new person-time: the number and the chart.
    expect(page).to_have_url(re.compile(r"/series/\d+$"))
    expect(page.get_by_test_id("person-times")).to_have_text("1 / 100")
    expect(page.get_by_test_id("session-person-times").first).to_have_text("1")
    chart = "Chart.getChart(document.querySelector('[data-testid=series-chart]'))"
    page.wait_for_function(f"() => window.Chart && {chart}")  # the chart is drawn once the page's scripts ran
    bars = page.evaluate(f"{chart}.data.datasets[0].data")
    assert bars == [1, 0, 0, 0]
    labels = page.evaluate(f"{chart}.data.labels")
    assert labels[0].startswith("第1期")
    screenshot(page, "series-06-person-time")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "series-07-phone")

    # 7. The public sees the same progress without logging in.
    page.context.clear_cookies()
    page.reload()
    expect(page.get_by_test_id("person-times")).to_have_text("1 / 100")
    expect(page.get_by_test_id("topics")).to_contain_text("偏科普")
    expect(page.locator("body")).not_to_contain_text("新增一期")
