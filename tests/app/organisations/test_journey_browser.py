"""Acceptance 6 and 7 in Chromium: a society registers itself, staff approve it and see the
approval in the audit log, the society user logs in, opens its organisation page and records a
past event. Screenshots of each step go to test-artifacts/journey-*.png."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.organisations.credit_code import make_credit_code
from tests.app.conftest import open_dropdown, screenshot

STAFF_EMAIL, STAFF_PASSWORD = "staff@bast.example.cn", "Review-Desk-2026"
SOCIETY_EMAIL, SOCIETY_PASSWORD = "zhou@acoustics.example.cn", "Sound-Wave-2026"


def log_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()


def log_out(page) -> None:
    open_dropdown(page, page.get_by_test_id("user-menu"))
    page.get_by_role("button", name="退出登录", exact=True).click()


@pytest.mark.browser
def test_register_approve_audit_and_open_organisation(live_server, page):
    base = live_server.url
    with live_server.app.app_context():
        staff = User(email=STAFF_EMAIL, name="王审核", role=Role.STAFF.value)
        staff.set_password(STAFF_PASSWORD)
        db.session.add(staff)
        db.session.commit()

    # 1. The society registers itself.
    page.goto(f"{base}/register")
    page.fill("#name_zh", "北京声学学会")
    page.fill("#name_en", "Acoustical Society of Beijing")
    page.select_option("#org_type", "society")
    page.fill("#credit_code", make_credit_code("51110000500006666").lower())
    page.fill("#contact_name", "周会长")
    page.fill("#contact_phone", "010-62345678")
    page.fill("#user_name", "周会长")
    page.fill("#email", SOCIETY_EMAIL)
    page.fill("#password", SOCIETY_PASSWORD)
    page.fill("#password_confirm", SOCIETY_PASSWORD)
    screenshot(page, "journey-01-registration-form")
    page.get_by_role("button", name="提交注册").click()
    expect(page).to_have_url(f"{base}/register/done")
    expect(page.get_by_test_id("registration-done")).to_contain_text("审核")
    screenshot(page, "journey-02-registration-done")

    # 2. Not yet approved: the society user cannot log in.
    log_in(page, base, SOCIETY_EMAIL, SOCIETY_PASSWORD)
    expect(page.get_by_test_id("form-errors")).to_contain_text("审核")
    screenshot(page, "journey-03-login-refused-while-pending")

    # 3. Staff log in, open the pending list and approve.
    log_in(page, base, STAFF_EMAIL, STAFF_PASSWORD)
    expect(page).to_have_url(f"{base}/home")
    page.goto(f"{base}/organisations/")
    page.get_by_test_id("pending-link").click()
    expect(page.locator("table")).to_contain_text("北京声学学会")
    screenshot(page, "journey-04-pending-list")
    page.get_by_role("link", name="北京声学学会").click()
    page.fill("#comment", "材料齐全，同意注册")
    screenshot(page, "journey-05-review")
    page.get_by_role("button", name="通过", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("已通过")
    expect(page.get_by_test_id("review-history")).to_contain_text("王审核")
    screenshot(page, "journey-06-approved")

    # 4. The audit log shows the approval with actor and Beijing time.
    with live_server.app.app_context():
        approval = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.approved"))
        beijing_time = approval.created_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    page.goto(f"{base}/audit/")
    row = page.get_by_test_id("audit-table").locator("tr", has_text="organisation.approved")
    expect(row).to_contain_text("王审核")
    expect(row).to_contain_text(beijing_time)
    expect(row).to_contain_text("材料齐全，同意注册")
    screenshot(page, "journey-07-audit-log")
    log_out(page)
    expect(page).to_have_url(re.compile(r"/auth/login"))

    # 5. The society user logs in, lands on its home page and opens its organisation page.
    log_in(page, base, SOCIETY_EMAIL, SOCIETY_PASSWORD)
    expect(page).to_have_url(f"{base}/home")
    expect(page.locator("main")).to_contain_text("北京声学学会")
    screenshot(page, "journey-08-society-home")
    page.get_by_role("link", name="本单位", exact=True).click()  # not "本单位活动"
    expect(page.get_by_test_id("organisation-name")).to_contain_text("北京声学学会")
    expect(page.get_by_test_id("status")).to_have_text("已通过")
    expect(page.locator("main")).to_contain_text("周会长")
    screenshot(page, "journey-09-society-organisation-page")

    # 6. As its administrator, the society records a past event (used later for eligibility).
    page.locator("summary", has_text="添加既往学术活动").click()
    page.fill("#year", "2025")
    page.select_option("#kind", "international")
    page.fill("#title", "国际声学前沿研讨会")
    page.select_option("#role", "host")
    page.get_by_role("button", name="添加", exact=True).click()
    expect(page.get_by_test_id("past-events")).to_contain_text("国际声学前沿研讨会")
    expect(page.get_by_test_id("past-events")).to_contain_text("国际学术会议")
    screenshot(page, "journey-10-society-past-event-added")
