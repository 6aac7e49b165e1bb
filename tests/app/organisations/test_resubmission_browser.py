"""In Chromium: a rejected society corrects its registration and resubmits it; staff approve
it; and the staff lists stay readable on a phone. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conference_app.accounts import services as accounts
from conference_app.core.db import unit_of_work
from conference_app.extensions import db
from conference_app.organisations import services
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation
from tests.app.conftest import DEFAULT_PASSWORD, screenshot
from tests.app.organisations.test_journey_browser import log_in, log_out

pytestmark = pytest.mark.browser

STAFF_EMAIL = "staff@bast.example.cn"
APPLICANT_EMAIL, APPLICANT_PASSWORD = "sun@future.example.cn", "Future-Tech-2026"
WRONG_CODE, RIGHT_CODE = make_credit_code("51110000500001313"), make_credit_code("51110000500001314")


@pytest.fixture()
def rejected_registration(live_server):
    """A registration staff rejected because its credit code was wrong."""
    with live_server.app.app_context():
        with unit_of_work():
            staff = accounts.create_user(STAFF_EMAIL, "王审核", "staff", password=DEFAULT_PASSWORD)
            applicant = services.register_society(
                {"name_zh": "北京未来科技促进会", "org_type": "other", "credit_code": WRONG_CODE, "contact_name": "孙先生"},
                user_name="孙先生", email=APPLICANT_EMAIL, password=APPLICANT_PASSWORD,
            )
            services.reject_organisation(applicant.organisation, staff, "统一社会信用代码与登记证书不符，请核实。")
        return applicant.organisation_id


def test_a_rejected_society_corrects_and_resubmits_then_is_approved(live_server, page, rejected_registration):
    base = live_server.url
    log_in(page, base, APPLICANT_EMAIL, APPLICANT_PASSWORD)
    page.wait_for_url("**/register/resubmit/**")
    expect(page.get_by_test_id("rejection-reason")).to_contain_text("统一社会信用代码与登记证书不符")
    screenshot(page, "resubmit-01-correction-form")

    spaced = f"{RIGHT_CODE[:4]} {RIGHT_CODE[4:8]} {RIGHT_CODE[8:12]}-{RIGHT_CODE[12:16]} {RIGHT_CODE[16:]}"
    page.get_by_label("统一社会信用代码").fill(spaced)
    page.get_by_label("修改说明").fill("已按登记证书更正信用代码")
    page.get_by_role("button", name="重新提交审核").click()
    page.wait_for_url("**/register/done?resubmitted=1")
    expect(page.get_by_test_id("registration-done")).to_contain_text("重新提交")
    screenshot(page, "resubmit-02-sent")

    log_in(page, base, STAFF_EMAIL, DEFAULT_PASSWORD)
    page.goto(f"{base}/organisations/?status=pending")
    page.get_by_role("link", name="北京未来科技促进会").click()
    expect(page.get_by_test_id("review-history")).to_contain_text("注册已修改并重新提交")
    expect(page.get_by_test_id("review-history")).to_contain_text(RIGHT_CODE)
    screenshot(page, "resubmit-03-staff-sees-the-correction")
    page.get_by_role("button", name="通过", exact=True).click()
    expect(page.get_by_test_id("status")).to_have_text("已通过")
    log_out(page)

    log_in(page, base, APPLICANT_EMAIL, APPLICANT_PASSWORD)
    page.wait_for_url("**/home")
    expect(page.locator("main")).to_contain_text("北京未来科技促进会")
    screenshot(page, "resubmit-04-applicant-home")
    with live_server.app.app_context():
        organisation = db.session.get(Organisation, rejected_registration)
        assert (organisation.status, organisation.credit_code) == ("approved", RIGHT_CODE)


def test_staff_lists_stay_readable_on_a_phone(live_server, browser):
    """390 px wide: every header of the list tables keeps to one line; the table scrolls instead."""
    with live_server.app.app_context():
        with unit_of_work():
            accounts.create_user(STAFF_EMAIL, "王审核", "staff", password=DEFAULT_PASSWORD)
            for number in range(3):
                services.create_organisation({
                    "name_zh": f"北京市第{number}专业学会", "org_type": "university_association",
                    "credit_code": make_credit_code(f"5111000050000{2000 + number}"),
                    "in_journal_excellence_plan": True,
                })
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server.url, STAFF_EMAIL, DEFAULT_PASSWORD)
    page.wait_for_url("**/home")
    for path, name in (("/organisations/", "organisations"), ("/admin/users", "users"), ("/audit/", "audit")):
        page.goto(live_server.url + path)
        headers = page.locator("table.list-table th").evaluate_all(
            """cells => cells.filter(c => c.innerText.trim()).map(c => {
                   const lines = c.getBoundingClientRect().height / parseFloat(getComputedStyle(c).lineHeight);
                   return [c.innerText.trim(), lines]; })"""
        )
        assert headers, path
        assert page.get_by_test_id("filter-error").count() == 0, f"{path}: a filter error without any filter"
        wrapped = [text for text, lines in headers if lines > 1.9]
        assert wrapped == [], f"{path}: headers broken over lines on a phone: {wrapped}"
        squeezed = page.locator("table.list-table td").evaluate_all(
            """cells => cells.filter(c => c.innerText.trim().length >= 6
                                  && c.getBoundingClientRect().width < 5 * parseFloat(getComputedStyle(c).fontSize))
                             .map(c => c.innerText.trim())"""
        )
        assert squeezed == [], f"{path}: cells squeezed to a few characters a line: {squeezed}"
        # The page itself does not scroll sideways: the table does, inside its box.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, f"phone-{name}")
    context.close()
