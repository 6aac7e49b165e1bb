"""Acceptance 5, the organiser's part, in Chromium on a 390 px phone: a society user checks a
registered visitor in by search, and by the camera (Chromium's fake camera plays a video of
the visitor's QR code): the counter goes from 0 to 1 and a second scan says already checked
in. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from conference_app.accounts import services as accounts
from conference_app.core.db import unit_of_work, utcnow
from conference_app.events.models import Event, EventOrganisation
from conference_app.events.services import registrations
from conference_app.events.services.checkins import checked_in_count
from conference_app.extensions import db
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation
from tests.app.conftest import CHROMIUM_ARGS, DEFAULT_PASSWORD, chromium_path, screenshot
from tests.app.organisations.test_journey_browser import log_in

pytestmark = pytest.mark.browser

ORGANISER_EMAIL = "zhao@ai-society.example.cn"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
FRAME_WIDTH, FRAME_HEIGHT = 640, 480


def seed(app, visitors: list[tuple[str, str]]) -> tuple[int, list[str]]:
    """A society with its organiser, a published salon tomorrow, and the visitors registered:
    the event's id and the visitors' codes."""
    with app.app_context(), unit_of_work():
        organisation = Organisation(name_zh="北京人工智能学会", org_type="society", status="approved",
                                    credit_code=make_credit_code("51110000500002468"))
        db.session.add(organisation)
        db.session.flush()
        accounts.create_user(ORGANISER_EMAIL, "赵秘书长", "society", organisation_id=organisation.id,
                             password=DEFAULT_PASSWORD)
        starts_at = utcnow().replace(microsecond=0) + timedelta(days=1)
        event = Event(kind="salon_session", status="published", title_zh="人工智能与科学发现沙龙", starts_at=starts_at,
                      ends_at=starts_at + timedelta(hours=3), venue="北京科学中心", in_beijing=True,
                      district="haidian", mode="offline", capacity=50)
        event.organisations = [EventOrganisation(organisation=organisation, role="host")]
        db.session.add(event)
        db.session.flush()
        codes = [registrations.register(event, {"name": name, "phone": phone}).code for name, phone in visitors]
        return event.id, codes


@contextmanager
def organiser_on_phone(browser, base_url: str, **context_options):
    """A page on a 390 px phone, the society's organiser logged in."""
    context = browser.new_context(**PHONE, **context_options)
    page = context.new_page()
    try:
        log_in(page, base_url, ORGANISER_EMAIL, DEFAULT_PASSWORD)
        page.wait_for_url("**/home")
        yield page
    finally:
        context.close()


def test_an_organiser_checks_a_visitor_in_by_search_on_a_phone(live_server, browser):
    event_id, (code,) = seed(live_server.app, [("孙访客", "13812345678")])
    with organiser_on_phone(browser, live_server.url) as page:
        page.goto(f"{live_server.url}/manage/our-events")
        page.get_by_role("link", name="人工智能与科学发现沙龙").click()
        page.get_by_test_id("checkin-link").click()
        counter = page.get_by_test_id("checked-in-count")
        expect(counter).to_have_text("0")
        expect(page.get_by_test_id("confirmed-count")).to_have_text("1")
        screenshot(page, "checkin-01-phone-page")

        page.get_by_label("姓名、手机号或签到码").fill("孙访客")
        page.get_by_role("button", name="搜索").click()
        results = page.get_by_test_id("checkin-results")
        expect(results).to_contain_text("孙访客")
        expect(results).to_contain_text(code)
        screenshot(page, "checkin-02-found")
        page.get_by_test_id("checkin-button").click()
        expect(page.get_by_test_id("checkin-result")).to_have_text("孙访客 签到成功。")
        expect(counter).to_have_text("1")
        expect(results).to_contain_text("已签到")
        screenshot(page, "checkin-03-checked-in")
        # The page fits the phone: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390


def y4m_of(png: bytes, path: Path, frames: int = 5) -> Path:
    """An uncompressed YUV4MPEG2 4:2:0 video of ``png`` centred on white: what Chromium's fake
    camera plays (and loops)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    image = image.resize((image.width * 3 // 2, image.height * 3 // 2), Image.NEAREST)
    frame = Image.new("L", (FRAME_WIDTH, FRAME_HEIGHT), 255)
    frame.paste(image, ((FRAME_WIDTH - image.width) // 2, (FRAME_HEIGHT - image.height) // 2))
    luma = frame.tobytes()  # full-range grey levels as Y; no colour
    chroma = bytes([128]) * (FRAME_WIDTH // 2 * FRAME_HEIGHT // 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{FRAME_WIDTH} H{FRAME_HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + luma + chroma + chroma)
    return path


@pytest.fixture()
def camera_browser(browser):
    """Launches a separate Chromium whose fake camera plays a given video (the launch
    arguments of the shared browser cannot change); closed after the test."""
    launched = []

    def launch(video: Path):
        instance = browser.browser_type.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS + [
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        launched.append(instance)
        return instance

    yield launch
    for instance in launched:
        instance.close()


def test_an_organiser_checks_a_visitor_in_with_the_camera(live_server, camera_browser, tmp_path):
    event_id, (code, _other) = seed(live_server.app, [("孙访客", "13812345678"), ("钱访客", "13812345679")])
    video = y4m_of(registrations.qr_png(code), tmp_path / "visitor-qr.y4m")
    with organiser_on_phone(camera_browser(video), live_server.url, permissions=["camera"]) as page:
        page.goto(f"{live_server.url}/manage/events/{event_id}/check-in")
        counter = page.get_by_test_id("checked-in-count")
        expect(counter).to_have_text("0")
        expect(page.get_by_test_id("confirmed-count")).to_have_text("2")
        page.get_by_test_id("start-scanner").click()
        result = page.get_by_test_id("checkin-result")
        expect(result).to_have_text("孙访客 签到成功。", timeout=20_000)
        expect(counter).to_have_text("1")
        screenshot(page, "checkin-04-camera-checked-in")
        # The same code stays in front of the camera: scanned again, it counts once.
        expect(result).to_have_text("孙访客 已经签到过了。", timeout=20_000)
        expect(counter).to_have_text("1")
        screenshot(page, "checkin-05-camera-already-checked-in")
    with live_server.app.app_context():
        assert checked_in_count(event_id) == 1


def test_an_organiser_records_an_event_adds_a_speaker_and_publishes_it_on_a_phone(live_server, browser):
    seed(live_server.app, [])
    with organiser_on_phone(browser, live_server.url) as page:
        page.goto(f"{live_server.url}/manage/our-events")
        screenshot(page, "manage-01-our-events")
        page.get_by_test_id("create-event").click()
        expect(page.get_by_label("单位信息 1").locator("option:checked")).to_have_text("北京人工智能学会")  # the host
        page.get_by_label("类别").select_option("salon_session")
        page.get_by_label("中文名称").fill("量子计算青年沙龙")
        page.get_by_label("开始时间").fill("2026-10-20T14:00")
        page.get_by_label("结束时间").fill("2026-10-20T17:00")
        page.get_by_label("地点", exact=True).fill("中关村国际创新中心")
        page.get_by_label("所在区").select_option("haidian")
        page.get_by_label("名额").fill("60")
        screenshot(page, "manage-02-event-form")
        page.get_by_role("button", name="保存").click()
        expect(page.get_by_test_id("event-title")).to_contain_text("量子计算青年沙龙")
        expect(page.get_by_test_id("event-status")).to_have_text("草稿")
        assert "2026-10-20 14:00" in page.locator("main").inner_text()

        page.get_by_test_id("add-person").locator("summary").click()
        page.get_by_label("姓名").fill("潘研究员")
        page.get_by_label("报告题目").fill("量子纠错的新进展")
        page.get_by_label("报告时长（分钟）").fill("40")
        page.get_by_label("学科或行业领军人物").check()
        page.get_by_role("button", name="添加", exact=True).click()
        expect(page.get_by_test_id("form-errors")).to_contain_text("领军人物的理由")
        page.get_by_label("领军人物理由").fill("国家重点研发计划首席科学家")
        page.get_by_role("button", name="添加", exact=True).click()
        expect(page.get_by_test_id("programme")).to_contain_text("潘研究员")
        page.get_by_test_id("transition-publish").click()
        expect(page.get_by_test_id("event-status")).to_have_text("已发布")
        expect(page.get_by_test_id("event-history")).to_contain_text("发布活动")
        screenshot(page, "manage-03-event-page")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
