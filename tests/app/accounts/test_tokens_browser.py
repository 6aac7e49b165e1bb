"""In Chromium, on a phone-sized screen: staff find a society's scanner token and revoke it;
the scanner is refused from then on. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conference_app.accounts import services as accounts
from conference_app.accounts.tokens import issue_token
from conference_app.core.db import unit_of_work
from conference_app.extensions import db
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation
from tests.app.conftest import DEFAULT_PASSWORD, screenshot
from tests.app.organisations.test_journey_browser import log_in

pytestmark = pytest.mark.browser

STAFF_EMAIL, SOCIETY_EMAIL = "staff@bast.example.cn", "scan@society.example.cn"


def test_staff_revoke_a_scanner_token_on_a_phone(live_server, browser):
    with live_server.app.app_context():
        with unit_of_work():
            accounts.create_user(STAFF_EMAIL, "王审核", "staff", password=DEFAULT_PASSWORD)
            organisation = Organisation(name_zh="北京智能制造学会", org_type="society", status="approved",
                                        credit_code=make_credit_code("51110000500004242"))
            db.session.add(organisation)
            db.session.flush()
            society = accounts.create_user(SOCIETY_EMAIL, "赵签到", "society", organisation_id=organisation.id,
                                           password=DEFAULT_PASSWORD)
            secret = issue_token(society, "checkin", "东门扫码枪").secret
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, live_server.url, STAFF_EMAIL, DEFAULT_PASSWORD)
        page.goto(f"{live_server.url}/admin/tokens?status=active")
        table = page.get_by_test_id("tokens-table")
        expect(table).to_contain_text("赵签到")
        expect(table).to_contain_text("东门扫码枪")
        expect(table).to_contain_text(secret[:12])
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls, not the page
        screenshot(page, "api-tokens-01-staff-list-phone")
        table.get_by_role("button", name="吊销").click()
        expect(page.locator(".alert")).to_contain_text("已吊销")
        expect(page.get_by_test_id("tokens-table")).to_contain_text("已吊销")
        screenshot(page, "api-tokens-02-revoked")
        answer = page.request.post(f"{live_server.url}/api/v1/checkins", data={"code": "X"},
                                   headers={"Authorization": f"Bearer {secret}"})
        assert answer.status == 401 and answer.json()["error"]["status"] == 401
    finally:
        context.close()
