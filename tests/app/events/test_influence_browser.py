"""In Chromium: staff run a Top-10 round, an expert scores it, the ranked result is shown."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from conference_app.accounts import services as accounts
from conference_app.core.db import unit_of_work
from conference_app.events.models import Event, EventOrganisation
from conference_app.extensions import db
from conference_app.organisations import services as organisations
from conference_app.organisations.credit_code import make_credit_code
from tests.app.conftest import DEFAULT_PASSWORD, screenshot
from tests.app.organisations.test_journey_browser import log_in, log_out

pytestmark = pytest.mark.browser


@pytest.fixture()
def world(live_server):
    with live_server.app.app_context():
        with unit_of_work():
            accounts.create_user("staff@bast.example.cn", "王学会", "staff", password=DEFAULT_PASSWORD)
            accounts.create_user("expert@bast.example.cn", "张院士", "expert", password=DEFAULT_PASSWORD)
            host = organisations.create_organisation({"name_zh": "北京力学会", "org_type": "society",
                                                      "credit_code": make_credit_code("51110000500003001")})
            for day, title in ((10, "国际非线性力学大会"), (20, "京津冀力学论坛")):
                event = Event(kind="international" if day == 10 else "regional", status="held", title_zh=title,
                              starts_at=datetime(2026, 10, day, 1, tzinfo=timezone.utc),
                              ends_at=datetime(2026, 10, day, 9, tzinfo=timezone.utc), venue="北京会议中心",
                              district="haidian")
                event.organisations = [EventOrganisation(organisation=host, role="host")]
                db.session.add(event)


def test_staff_run_a_round_and_an_expert_scores_it(live_server, page, world):
    base = live_server.url
    log_in(page, base, "staff@bast.example.cn", DEFAULT_PASSWORD)
    page.goto(f"{base}/manage/influence")
    page.get_by_label("年份").fill("2026")
    page.get_by_label("入选会议数").fill("1")
    page.get_by_role("button", name="开启评选").click()
    expect(page.get_by_test_id("round-status")).to_have_text("推荐中")
    for title in ("国际非线性力学大会", "京津冀力学论坛"):
        page.get_by_label("会议", exact=True).select_option(label=f"2026-10-{10 if '国际' in title else 20} {title}")
        page.get_by_role("button", name="推荐", exact=True).click()
    page.get_by_label("评审专家").select_option(label="张院士 <expert@bast.example.cn>")
    page.get_by_role("button", name="保存评审专家").click()
    page.get_by_role("button", name="开始评分").click()
    expect(page.get_by_test_id("round-status")).to_have_text("评分中")
    screenshot(page, "influence-01-round")
    log_out(page)

    log_in(page, base, "expert@bast.example.cn", DEFAULT_PASSWORD)
    page.get_by_role("link", name="为 2026 年度推荐会议评分").click()
    cards = page.locator(".card")
    for index, score in ((0, "9"), (1, "7")):
        card = cards.nth(index)
        for select in card.locator("select").all():
            select.select_option(score)
        card.get_by_role("button", name="保存评分").click()
        cards = page.locator(".card")
    expect(page.get_by_test_id("scored-count")).to_have_text("已评分：2 / 2")
    screenshot(page, "influence-02-expert-scored")
    log_out(page)

    log_in(page, base, "staff@bast.example.cn", DEFAULT_PASSWORD)
    page.goto(f"{base}/manage/influence")
    page.get_by_role("link", name="2026").click()
    page.get_by_role("button", name="结束并公布结果").click()
    expect(page.get_by_test_id("round-status")).to_have_text("已结束")
    first_row = page.get_by_test_id("influence-results").locator("tbody tr").first
    expect(first_row).to_contain_text("国际非线性力学大会")
    expect(first_row).to_contain_text("入选")
    screenshot(page, "influence-03-result")
