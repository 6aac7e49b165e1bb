"""The check-in page and its JSON endpoints: idempotent check-in by scanned code or by
search, refusals as 4xx JSON with a Chinese message, the live counter, and the page
working without JavaScript."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from conference_app.events.models import CheckInMethod
from conference_app.events.services import registrations
from conference_app.extensions import db
from tests.app.events.manage_helpers import post, row_counts, sign_up, society  # noqa: F401  (fixtures)
from tests.app.helpers import csrf_token


@pytest.fixture()
def event(society, make_event):
    return make_event(organisation=society.organisation, capacity=2, title_zh="催化前沿沙龙")


def scan(client, event, code, **extra):
    token = csrf_token(client, f"/manage/events/{event.id}/check-in")
    return client.post(f"/manage/events/{event.id}/check-in.json", json={"code": code, **extra},
                       headers={"X-CSRFToken": token})


def test_a_scanned_code_checks_in_once_and_twice_says_already(client, event):
    registration = sign_up(event, "张三", "13800000001")
    first = scan(client, event, registration.code)
    assert first.status_code == 200
    assert first.json["status"] == "checked_in"
    assert (first.json["checked_in"], first.json["confirmed"], first.json["name"]) == (1, 1, "张三")
    assert first.json["message"] == "张三 签到成功。"
    again = scan(client, event, registration.code.lower()[:5] + " " + registration.code.lower()[5:])
    assert again.status_code == 200
    assert (again.json["status"], again.json["checked_in"]) == ("already_checked_in", 1)
    assert again.json["message"] == "张三 已经签到过了。"
    db.session.expire_all()
    assert registration.check_in.method == CheckInMethod.SCAN
    counts = client.get(f"/manage/events/{event.id}/check-in/counts.json").json
    assert counts == {"confirmed": 1, "waitlisted": 0, "checked_in": 1}


def test_the_search_buttons_post_with_the_search_method(client, event):
    registration = sign_up(event, "张三", "13800000001")
    assert scan(client, event, registration.code, method="search").status_code == 200
    db.session.expire_all()
    assert registration.check_in.method == CheckInMethod.SEARCH


def refusal(response, status, message):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and message in response.json["error"]


def test_refusals_are_json_4xx_with_a_chinese_message_and_write_nothing(client, society, event, make_event):
    confirmed = [sign_up(event, f"参会者{n}", f"1380000000{n}") for n in range(2)]
    waitlisted = sign_up(event, "候补者", "13800000009")
    cancelled = sign_up(make_event(organisation=society.organisation), "取消者", "13800000008")
    registrations.cancel(cancelled)
    other_of_ours = sign_up(make_event(organisation=society.organisation, title_zh="另一场沙龙"), "他人", "13900000001")
    cancelled_here = sign_up(event, "退出者", "13800000007")
    registrations.cancel(cancelled_here)
    db.session.commit()
    before = row_counts()
    refusal(scan(client, event, "ZZZZZZZZZZ"), 404, "没有与该签到码对应的报名")
    refusal(scan(client, event, other_of_ours.code), 409, "该签到码属于其他活动：另一场沙龙")
    refusal(scan(client, event, waitlisted.code), 409, "候补者 仍在候补名单中")
    refusal(scan(client, event, cancelled_here.code), 409, "退出者 已取消该报名")
    refusal(scan(client, event, ""), 400, "请扫描二维码或输入签到码")
    refusal(scan(client, event, 12345), 400, "请扫描二维码或输入签到码")
    token = csrf_token(client, f"/manage/events/{event.id}/check-in")
    not_json = client.post(f"/manage/events/{event.id}/check-in.json", data="code=X",
                           headers={"X-CSRFToken": token})
    refusal(not_json, 400, "请扫描二维码或输入签到码")
    assert row_counts() == before
    assert confirmed  # they stay confirmed and not checked in


def test_an_event_taken_back_to_draft_is_not_open_for_check_in(client, event):
    registration = sign_up(event, "张三", "13800000001")
    event.status = "draft"
    db.session.commit()
    before = row_counts()
    refusal(scan(client, event, registration.code), 409, "该活动当前不能签到")
    assert row_counts() == before


def test_the_json_endpoint_needs_the_csrf_token(client, event):
    registration = sign_up(event, "张三", "13800000001")
    before = row_counts()
    response = client.post(f"/manage/events/{event.id}/check-in.json", json={"code": registration.code})
    assert response.status_code == 400
    assert row_counts() == before


def test_without_javascript_the_search_form_finds_and_checks_in(client, event):
    zhang = sign_up(event, "张三", "13800000001")
    sign_up(event, "李四", "13800000002")
    page = client.get(f"/manage/events/{event.id}/check-in")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="checked-in-count" data-count="checked_in">0<' in html
    assert "vendor/jsqr/jsQR.js" in html and "js/checkin.js" in html
    for search in ("张三", "138 0000 0001", zhang.code.lower()):
        found = client.get(f"/manage/events/{event.id}/check-in", query_string={"q": search}).get_data(as_text=True)
        assert "张三" in found and "李四" not in found, search
    nobody = client.get(f"/manage/events/{event.id}/check-in?q=王五").get_data(as_text=True)
    assert "没有找到符合条件的报名者" in nobody
    done = post(client, f"/manage/events/{event.id}/check-in", {"code": zhang.code, "q": "张三"},
                page=f"/manage/events/{event.id}/check-in")
    assert done.status_code == 302 and done.headers["Location"].endswith("check-in?q=%E5%BC%A0%E4%B8%89")
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "张三 签到成功" in after and 'data-count="checked_in">1<' in after
    assert 'data-testid="checkin-button"' not in after  # checked in: a badge instead of the button
    again = post(client, f"/manage/events/{event.id}/check-in", {"code": zhang.code, "q": "张三"})
    assert "张三 已经签到过了" in client.get(again.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert zhang.check_in.method == CheckInMethod.SEARCH


def test_without_javascript_a_refusal_shows_its_message(client, event):
    waitlisted = [sign_up(event, f"参会者{n}", f"1380000000{n}") for n in range(3)][-1]
    response = post(client, f"/manage/events/{event.id}/check-in", {"code": waitlisted.code})
    assert response.status_code == 409
    assert "仍在候补名单中" in response.get_data(as_text=True)


def test_the_qr_image_is_a_full_qr_code_not_a_micro_one():
    """Phone cameras and the check-in page's reader read QR codes, not Micro QR codes (which
    a 10-character code would fit): version 1 is 21 modules, with a border of 2, 8 px each."""
    image = Image.open(io.BytesIO(registrations.qr_png("ABCDEFGHJK")))
    assert image.size == ((21 + 2 * 2) * 8,) * 2
