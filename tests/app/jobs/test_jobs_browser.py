"""In Chromium: a job's page follows the job (its script polls the status under the CSP) and
shows how it ended without a reload by hand. A screenshot goes to test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conference_app.accounts import services as accounts
from conference_app.core.db import unit_of_work
from conference_app.jobs import runner, services
from tests.app.conftest import DEFAULT_PASSWORD, screenshot
from tests.app.jobs import kinds_for_tests
from tests.app.organisations.test_journey_browser import log_in

pytestmark = pytest.mark.browser

ANALYST_EMAIL = "analyst@bast.example.cn"


def test_the_job_page_follows_its_job_to_the_end(live_server, page):
    app = live_server.app
    kinds_for_tests.RELEASE.clear()
    kinds_for_tests.STARTED.clear()
    with app.app_context():
        with unit_of_work():
            analyst = accounts.create_user(ANALYST_EMAIL, "李分析", "analyst", password=DEFAULT_PASSWORD)
            job = services.start_job("test.wait", {}, analyst)
        job_id = job.id
    try:
        assert kinds_for_tests.STARTED.wait(30)
        log_in(page, live_server.url, ANALYST_EMAIL, DEFAULT_PASSWORD)
        page.goto(f"{live_server.url}/jobs/{job_id}")
        expect(page.get_by_test_id("job-state")).to_have_text("运行中")
        expect(page.get_by_test_id("cancel-job")).to_be_visible()
        kinds_for_tests.RELEASE.set()
        expect(page.get_by_test_id("job-state")).to_have_text("已完成", timeout=30_000)  # the script reloaded it
        expect(page.get_by_test_id("job-log")).to_contain_text("finished")
        expect(page.get_by_test_id("cancel-job")).to_have_count(0)
        screenshot(page, "jobs-01-finished")
    finally:
        kinds_for_tests.RELEASE.set()
        assert runner.wait_until_idle(app, timeout=60)
