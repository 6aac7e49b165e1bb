"""In Chromium on a 390 px phone: a visitor finds a salon session in the Academic Month
calendar by a Chinese word, opens it, registers, gets the QR code on the registrant's page
and cancels. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
import segno
from playwright.sync_api import expect

from conference_app.events.models import Registration
from conference_app.extensions import db
from tests.app.conftest import screenshot
from tests.app.events.public_helpers import SALON_SPEAKER, SALON_TITLE, build_calendar_world

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture()
def world(live_server):
    with live_server.app.app_context():
        return build_calendar_world()


@pytest.fixture()
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def assert_fits_the_phone(page) -> None:
    """Nothing sticks out sideways: the page is no wider than the screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a {PHONE['width']} px screen"


def dark_modules(svg: str) -> set[tuple[int, int]]:
    """(row, column) of the dark modules an SVG QR image of segno draws, without its quiet zone.

    segno draws each row's dark runs as horizontal strokes: "M x y" starts, "m dx dy" moves,
    "h n" draws n modules; the first stroke starts at the quiet zone's width."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    x = y = border = None
    dark = set()
    for command, arguments in re.findall(r"([Mmh])([-\d. ]+)", path):
        values = [float(value) for value in arguments.split()]
        if command == "M":
            x, y = values
            border = int(x)
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            dark.update((int(y) - border, int(x) - border + step) for step in range(int(values[0])))
            x += values[0]
    return dark


def test_a_visitor_finds_a_salon_session_registers_and_cancels_on_a_phone(live_server, phone, world):
    page = phone
    page.goto(f"{live_server.url}/academic-month/")
    expect(page.get_by_test_id("calendar-scope")).to_contain_text("第29届")
    expect(page.get_by_test_id("calendar-list")).to_contain_text(SALON_TITLE)
    expect(page.get_by_test_id("calendar-list")).not_to_contain_text("尚未发布")  # the draft
    expect(page.get_by_test_id("event-cancelled")).to_be_visible()
    assert_fits_the_phone(page)
    screenshot(page, "public-01-calendar-phone")

    page.get_by_role("searchbox", name="搜索").fill("量子")
    page.get_by_test_id("calendar-search").click()
    expect(page.get_by_test_id("calendar-event")).to_have_count(1)
    expect(page.get_by_test_id("calendar-count")).to_contain_text("1")
    screenshot(page, "public-02-search-quantum")

    page.get_by_test_id("calendar-event").click()
    expect(page.get_by_test_id("event-title")).to_have_text(SALON_TITLE)
    expect(page.get_by_test_id("event-speakers")).to_contain_text(SALON_SPEAKER)
    expect(page.get_by_test_id("event-speakers")).to_contain_text("拓扑超导体的生长")
    expect(page.get_by_test_id("leading-figure")).to_be_visible()
    expect(page.get_by_test_id("event-initiators")).to_contain_text("张海峰")
    expect(page.get_by_test_id("event-discussants")).to_contain_text("刘洋")
    expect(page.get_by_test_id("event-series")).to_contain_text("材料前沿交叉学术沙龙")
    expect(page.get_by_test_id("places")).to_contain_text("剩余 30")
    assert_fits_the_phone(page)
    screenshot(page, "public-03-event-page")

    page.get_by_role("link", name="报名参加").click()
    page.get_by_label("您的姓名").fill("孙丽")
    page.get_by_label("工作单位").fill("北京化工大学")
    page.get_by_label("职称/职务").fill("博士研究生")
    page.get_by_label("手机号码").fill("139 1234 5678")
    screenshot(page, "public-04-registration-form")
    page.get_by_test_id("register-button").click()

    page.wait_for_url(re.compile(r".*/registrations/[^/]+$"))
    expect(page.get_by_role("alert")).to_contain_text("名额已确认")
    expect(page.get_by_test_id("registration-status")).to_have_text("已确认")
    qr = page.get_by_test_id("qr-code").locator("svg")
    expect(qr).to_be_visible()
    code = page.get_by_test_id("registration-code").inner_text().strip()
    with live_server.app.app_context():
        registration = db.session.query(Registration).one()
        assert (registration.code, registration.phone, registration.locale) == (code, "13912345678", "zh_CN")
    # The QR image on the page is the QR symbol of this code, module for module.
    symbol = segno.make(code, error="m", micro=False)  # a full QR code, as phone cameras read
    expected = {(row, column) for row, line in enumerate(symbol.matrix) for column, dark in enumerate(line) if dark}
    assert dark_modules(qr.evaluate("svg => svg.outerHTML")) == expected
    assert_fits_the_phone(page)
    screenshot(page, "public-05-registrant-page-with-qr")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("cancel-registration").click()
    expect(page.get_by_test_id("registration-status")).to_have_text("已取消")
    expect(page.get_by_test_id("qr-code")).to_have_count(0)
    screenshot(page, "public-06-cancelled")
    with live_server.app.app_context():
        assert db.session.query(Registration).one().status == "cancelled"

    page.get_by_role("link", name="返回活动页面").click()
    expect(page.get_by_test_id("places")).to_contain_text("剩余 30")


@pytest.mark.parametrize("view", ["week", "month"])
def test_the_week_and_month_grids_become_a_day_list_on_a_phone(live_server, phone, browser, world, view):
    page = phone
    page.goto(f"{live_server.url}/academic-month/?view={view}")
    expect(page.get_by_test_id(f"calendar-{view}")).to_be_visible()
    assert_fits_the_phone(page)
    if view == "month":
        # Days without events (and the neighbouring months' days) are left out of the phone's list.
        visible_days = page.locator("[data-testid=calendar-day]:visible")
        expect(visible_days.first).to_contain_text("月")
        assert visible_days.count() <= 4
        expect(page.get_by_test_id("calendar-event").filter(has_text="柔性电子报告会")).to_contain_text("已取消")
    screenshot(page, f"public-07-{view}-phone")

    desktop = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    desktop.goto(f"{live_server.url}/academic-month/?view={view}")
    days = desktop.get_by_test_id("calendar-day")
    tops = {round(days.nth(index).bounding_box()["y"]) for index in range(7)}
    assert len(tops) == 1, "the first seven days sit in one row on a wide screen"
    screenshot(desktop, f"public-08-{view}-desktop")
    desktop.close()
