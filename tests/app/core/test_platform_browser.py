"""The layout in a real browser: local Bootstrap, Chinese by default, staff pages, language switch."""

from __future__ import annotations

import pytest

from conference_app.accounts import services
from conference_app.extensions import db
from tests.app.conftest import DEFAULT_PASSWORD, open_dropdown, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture()
def staff_email(live_server) -> str:
    with live_server.app.app_context():
        services.create_user("chief@bast.example.cn", "王主任", "staff", password=DEFAULT_PASSWORD)
        db.session.commit()
    return "chief@bast.example.cn"


def test_staff_logs_in_sees_the_dashboard_and_the_audit_log(live_server, page, staff_email):
    failed_requests = []
    page.on("requestfailed", lambda request: failed_requests.append(request.url))
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "首都学术平台"
    # Bootstrap is served locally: the navbar gets its primary colour.
    assert page.locator("nav.navbar").evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(13, 110, 253)"

    page.get_by_role("link", name="登录").first.click()
    page.get_by_label("电子邮箱").fill(staff_email)
    page.get_by_label("密码").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    assert "电子邮箱或密码错误" in page.get_by_test_id("form-errors").inner_text()
    page.get_by_label("密码").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/home")
    assert page.locator("h1").inner_text() == "工作台"
    screenshot(page, "platform-staff-dashboard")

    open_dropdown(page, page.get_by_test_id("nav-admin").get_by_role("button"))
    page.get_by_test_id("nav-admin").get_by_role("link", name="审计日志").click()
    table = page.get_by_test_id("audit-table")
    assert "登录失败" in table.inner_text() and "王主任" in table.inner_text()
    screenshot(page, "platform-audit-log")

    page.get_by_role("button", name="English").click()
    assert page.locator("h1").inner_text() == "Audit log"
    open_dropdown(page, page.get_by_test_id("user-menu"))
    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url("**/auth/login")
    assert "You are logged out." in page.content() and "all your devices" not in page.content()
    assert failed_requests == []


def test_narrow_screen_collapses_the_navigation(live_server, browser, staff_email):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(live_server.url + "/auth/login")
    toggler = page.locator(".navbar-toggler")
    assert toggler.is_visible()
    toggler.click()
    assert page.get_by_role("button", name="English").is_visible()
    screenshot(page, "platform-login-narrow")
    context.close()


def test_staff_creates_a_user_through_the_form(live_server, page, staff_email):
    page.goto(live_server.url + "/auth/login")
    page.get_by_label("电子邮箱").fill(staff_email)
    page.get_by_label("密码").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="登录").click()
    open_dropdown(page, page.get_by_test_id("nav-admin").get_by_role("button"))
    page.get_by_test_id("nav-admin").get_by_role("link", name="用户").click()
    page.get_by_role("link", name="新建用户").click()
    page.get_by_role("button", name="保存").click()
    assert page.locator(".invalid-feedback").first.inner_text() == "此项为必填项。"
    screenshot(page, "platform-user-form-errors")

    page.get_by_label("电子邮箱").fill("li.expert@example.cn")
    page.get_by_label("姓名").fill("李专家")
    page.get_by_label("角色").select_option("expert")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/admin/users")
    assert "已创建用户 li.expert@example.cn" in page.locator(".alert-success").inner_text()
    row = page.get_by_test_id("users-table").locator("tr", has_text="李专家")
    assert "评审专家" in row.inner_text() and "已启用" in row.inner_text()
    screenshot(page, "platform-users")
