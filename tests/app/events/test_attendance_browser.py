"""In Chromium: the statistics page draws its charts by day, kind and district with Chinese
labels beside their tables; an organiser's attendance file with a bad row is refused with the
row to correct, and the corrected file is imported and listed as imported.
Screenshots: test-artifacts/attendance-*.png."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from conference_app.accounts.models import User
from conference_app.core.permissions import Role
from conference_app.core.timeutil import BEIJING
from conference_app.events.models import AcademicMonthEdition, CheckInMethod, Event, EventOrganisation
from conference_app.extensions import db
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation
from tests.app.conftest import screenshot
from tests.app.events.series_helpers import attendance_file, check_in_people
from tests.app.organisations.test_journey_browser import log_in

STAFF_EMAIL, SOCIETY_EMAIL, PASSWORD = "stats@bast.example.cn", "wu@optics.example.cn", "Person-Times-2026"
OCTOBER = datetime(2026, 10, 10, 14, tzinfo=BEIJING)
EVENTS = [("national", "haidian", 0, 12), ("salon_session", "haidian", 1, 5), ("international", "chaoyang", 3, 40),
          ("regional", "dongcheng", 5, 18), ("report_session", "xicheng", 5, 25)]


def chart(page, key: str) -> dict:
    return page.evaluate(f"""(() => {{ const c = Chart.getChart(document.querySelector('[data-testid=chart-{key}]'));
        return {{labels: c.data.labels, data: c.data.datasets.map(d => d.data)}}; }})()""")


@pytest.mark.browser
def test_statistics_charts_and_an_attendance_import(live_server, page):
    base = live_server.url
    with live_server.app.app_context():
        organisation = Organisation(name_zh="北京光学学会", org_type="society", status="approved",
                                    credit_code=make_credit_code("51110000800008888"))
        staff = User(email=STAFF_EMAIL, name="统计员", role=Role.STAFF.value)
        organiser = User(email=SOCIETY_EMAIL, name="吴干事", role=Role.SOCIETY.value, organisation=organisation)
        for user in (staff, organiser):
            user.set_password(PASSWORD)
        db.session.add_all([organisation, staff, organiser,
                            AcademicMonthEdition(number=29, year=2026, starts_on=date(2026, 10, 1),
                                                 ends_on=date(2026, 11, 30))])
        db.session.commit()
        edition_id = db.session.query(AcademicMonthEdition.id).scalar()
        for n, (kind, district, day, people) in enumerate(EVENTS):
            starts_at = OCTOBER + timedelta(days=day)
            event = Event(kind=kind, status="held", title_zh=f"光学活动{n + 1}", starts_at=starts_at,
                          ends_at=starts_at + timedelta(hours=3), venue="会议中心", district=district,
                          edition_id=edition_id)
            event.organisations = [EventOrganisation(organisation=organisation, role="host")]
            db.session.add(event)
            db.session.commit()
            check_in_people(event, people)
        check_in_people(event, 3, method=CheckInMethod.IMPORT)
        target_id = db.session.query(Event.id).filter_by(title_zh="光学活动1").scalar()

    # 1. Staff open the statistics: totals, charts with Chinese labels, tables beside them.
    log_in(page, base, STAFF_EMAIL, PASSWORD)
    page.goto(f"{base}/statistics/attendance")
    expect(page.get_by_test_id("total-person-times")).to_have_text("103")
    expect(page.get_by_test_id("total-imported")).to_have_text("3")
    days = chart(page, "days")
    assert days["labels"] == ["2026-10-10", "2026-10-11", "2026-10-13", "2026-10-15"]
    assert days["data"] == [[12, 5, 40, 43], [0, 0, 0, 3]]
    kinds = chart(page, "kinds")
    assert kinds["labels"][:3] == ["国际学术会议", "全国性学术会议", "区域（京津冀）学术会议"]
    districts = chart(page, "districts")
    assert districts["labels"] == ["朝阳区", "西城区", "东城区", "海淀区"]  # most person-times first
    expect(page.get_by_test_id("breakdown-districts")).to_contain_text("朝阳区")
    screenshot(page, "attendance-01-statistics")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "attendance-02-statistics-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # 2. The organiser imports attendance of an event checked in elsewhere: one bad row refuses the file.
    page.context.clear_cookies()
    log_in(page, base, SOCIETY_EMAIL, PASSWORD)
    page.goto(f"{base}/manage/events/{target_id}/attendance")
    rows = [["钱一", "北京理工大学", "副教授", "13700000001", None, "2026-10-10 14:05"],
            ["孙二", None, None, "137000", None, None],
            ["周三", None, None, None, "zhou@example.cn", None]]
    page.set_input_files("#file", files=[{"name": "线下签到.xlsx", "buffer": attendance_file(rows),
                                          "mimeType": "application/octet-stream"}])
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("有 1 行存在问题")
    expect(page.get_by_test_id("import-problems")).to_contain_text("11 位")
    expect(page.get_by_test_id("event-person-times")).to_have_text("12")
    screenshot(page, "attendance-03-import-refused")

    rows[1][3] = "13700000002"
    page.set_input_files("#file", files=[{"name": "线下签到.xlsx", "buffer": attendance_file(rows),
                                          "mimeType": "application/octet-stream"}])
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_test_id("event-person-times")).to_have_text("15")
    expect(page.get_by_test_id("attendance-table").locator("tr", has_text="孙二")).to_contain_text("导入的签到记录")
    expect(page.get_by_test_id("imports")).to_contain_text("线下签到.xlsx")
    screenshot(page, "attendance-04-imported")
