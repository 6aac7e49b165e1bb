"""Attendance statistics: the person-times an indicator counts, the breakdowns by day, kind,
district, edition and organisation, what staff and a society see, the exports with the
filters, and a constant number of queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from conference_app.core.permissions import Role
from conference_app.core.timeutil import BEIJING
from conference_app.events.models import AcademicMonthEdition, CheckInMethod
from conference_app.events.services import attendance
from conference_app.extensions import db
from tests.app.conftest import log_in_session
from tests.app.core.test_query_counts import statements_for
from tests.app.events.series_helpers import check_in_people

OCTOBER = datetime(2026, 10, 12, 9, tzinfo=BEIJING)


def test_an_organisation_s_person_times_count_exactly_what_the_docstring_says(app, make_event, make_organisation):
    organisation, partner = make_organisation(), make_organisation()
    counted = make_event(organisation, kind="international", status="held", starts_at=OCTOBER)
    co_hosted = make_event(organisations=[(partner, "host"), (organisation, "main_organiser")], status="published",
                           starts_at=OCTOBER + timedelta(days=1))
    hybrid = make_event(organisation, mode="hybrid", status="held", starts_at=OCTOBER + timedelta(days=2))
    not_counted = {
        "online": make_event(organisation, mode="online", district=None, status="held", starts_at=OCTOBER),
        "outside Beijing": make_event(organisation, in_beijing=False, district=None, city="天津", status="held",
                                      starts_at=OCTOBER),
        "another year": make_event(organisation, status="held", starts_at=datetime(2025, 12, 31, 23, tzinfo=BEIJING)),
        "cancelled": make_event(organisation, status="cancelled", starts_at=OCTOBER),
        "draft": make_event(organisation, status="draft", starts_at=OCTOBER),
        "not ours": make_event(partner, status="held", starts_at=OCTOBER),
    }
    check_in_people(counted, 3)
    check_in_people(counted, 2, method=CheckInMethod.IMPORT)
    check_in_people(co_hosted, 4)
    check_in_people(hybrid, 1)
    for event in not_counted.values():
        check_in_people(event, 10)

    result = attendance.organisation_person_times(organisation, 2026)
    assert (result.person_times.total, result.person_times.imported) == (10, 2)
    assert [(line.event_id, line.person_times.total, line.person_times.imported) for line in result.events] == [
        (counted.id, 5, 2), (co_hosted.id, 4, 0), (hybrid.id, 1, 0)]
    assert attendance.organisation_person_times(organisation, 2026, roles=["host"]).person_times.total == 6
    assert attendance.organisation_person_times(organisation, 2026, kinds=["international"]).person_times.total == 5
    assert attendance.organisation_person_times(organisation, 2026, offline=False).person_times.total == 20
    assert attendance.organisation_person_times(organisation, 2026, in_beijing=None).person_times.total == 20
    assert attendance.organisation_person_times(organisation, 2025).person_times.total == 10


def test_an_event_without_check_ins_is_listed_with_zero(app, make_event, make_organisation):
    organisation = make_organisation()
    event = make_event(organisation, status="held", starts_at=OCTOBER)
    result = attendance.organisation_person_times(organisation, 2026)
    assert [(line.event_id, line.person_times.total) for line in result.events] == [(event.id, 0)]


def world(make_event, make_organisation):
    """Two organisations' events in the 29th Academic Month and one outside it."""
    db.session.add(AcademicMonthEdition(number=29, year=2026, starts_on=date(2026, 10, 1), ends_on=date(2026, 11, 30)))
    db.session.commit()
    edition = db.session.query(AcademicMonthEdition).one()
    ours, theirs = make_organisation(name_zh="北京物理学会"), make_organisation(name_zh="北京化学会")
    salon = make_event(ours, status="held", starts_at=OCTOBER, district="haidian", edition_id=edition.id)
    conference = make_event(theirs, kind="national", status="held", starts_at=OCTOBER + timedelta(days=1),
                            district="chaoyang", edition_id=edition.id)
    outside = make_event(ours, kind="annual_meeting", status="held", starts_at=datetime(2026, 6, 1, 9, tzinfo=BEIJING),
                         district="haidian")
    # 07:30 on 13 October in Beijing is 23:30 UTC on the 12th: it counts on the 13th
    check_in_people(salon, 2, at=datetime(2026, 10, 13, 7, 30, tzinfo=BEIJING))
    check_in_people(salon, 1, method=CheckInMethod.IMPORT)
    check_in_people(conference, 4)
    check_in_people(outside, 5)
    return edition, ours, theirs, salon, conference, outside


def test_breakdowns_by_day_kind_district_edition_and_organisation(app, make_event, make_organisation):
    edition, ours, theirs, salon, conference, outside = world(make_event, make_organisation)
    everything = attendance.AttendanceFilter()
    totals = attendance.totals(everything)
    assert (totals.events, totals.person_times.total, totals.person_times.imported) == (3, 12, 1)
    assert [(line.label, line.person_times.total) for line in attendance.by_day(everything)] == [
        ("2026-06-01", 5), ("2026-10-12", 1), ("2026-10-13", 6)]
    kinds = {line.key: line.person_times.total for line in attendance.by_kind(everything)}
    assert (kinds["salon_session"], kinds["national"], kinds["annual_meeting"], kinds["international"]) == (3, 4, 5, 0)
    assert [(line.label, line.person_times.total) for line in attendance.by_district(everything)] == [
        ("海淀区", 8), ("朝阳区", 4)]
    assert [(line.key, line.person_times.total) for line in attendance.by_edition(everything)] == [
        (edition.id, 7), (None, 5)]
    assert [(line.name, line.events, line.person_times.total) for line in attendance.by_organisation(everything)] == [
        ("北京物理学会", 2, 8), ("北京化学会", 1, 4)]
    in_edition = attendance.AttendanceFilter(edition_id=edition.id, kind="salon_session")
    assert attendance.totals(in_edition).person_times.total == 3
    assert attendance.totals(attendance.AttendanceFilter(organisation_id=ours.id)).person_times.total == 8
    assert attendance.totals(attendance.AttendanceFilter(year=2025)).events == 0


def test_staff_see_every_event_and_a_society_only_its_own(app, client, make_user, make_event, make_organisation):
    edition, ours, theirs, salon, conference, outside = world(make_event, make_organisation)
    log_in_session(client, make_user(Role.STAFF))
    html = client.get("/statistics/attendance").get_data(as_text=True)
    assert 'data-testid="total-person-times">12<' in html and "北京化学会" in html
    assert 'data-chart="chart-days"' in html and "第29届学术月（2026）" in html
    filtered = client.get(f"/statistics/attendance?organisation={theirs.id}").get_data(as_text=True)
    assert 'data-testid="total-person-times">4<' in filtered

    log_in_session(client, make_user(Role.SOCIETY, organisation=ours))
    html = client.get(f"/statistics/attendance?organisation={theirs.id}").get_data(as_text=True)
    assert 'data-testid="total-person-times">8<' in html and 'data-testid="total-imported">1<' in html
    assert conference.title_zh not in html and 'name="organisation"' not in html


def test_experts_do_not_reach_the_statistics(app, client, make_user):
    log_in_session(client, make_user(Role.EXPERT))
    assert client.get("/statistics/attendance").status_code == 403


def workbook_rows(response) -> list[tuple]:
    assert response.status_code == 200
    return list(load_workbook(BytesIO(response.data)).active.iter_rows(values_only=True))


def test_the_exports_keep_the_filters_and_chinese_headers(app, client, make_user, make_event, make_organisation):
    edition, ours, theirs, salon, conference, outside = world(make_event, make_organisation)
    log_in_session(client, make_user(Role.STAFF))
    events = workbook_rows(client.get(f"/statistics/attendance/events.xlsx?edition={edition.id}"))
    assert events[0] == ("开始时间", "活动", "类别", "所在区", "举办单位", "人次", "其中导入")
    assert sorted((row[1], row[5], row[6]) for row in events[1:]) == sorted(
        [(salon.title_zh, 3, 1), (conference.title_zh, 4, 0)])
    days = workbook_rows(client.get("/statistics/attendance/days.xlsx?kind=annual_meeting"))
    assert days == [("日期", "人次", "其中导入"), (datetime(2026, 6, 1), 5, 0)]  # a date cell
    organisations = workbook_rows(client.get("/statistics/attendance/organisations.xlsx"))
    assert organisations[1:] == [("北京物理学会", 2, 8, 1), ("北京化学会", 1, 4, 0)]
    assert client.get("/statistics/attendance/people.xlsx").status_code == 404


def test_bad_filters_mean_all_never_an_error(app, client, make_user):
    log_in_session(client, make_user(Role.STAFF))
    for query in ("year=99999999999", "year=abc", "edition=99999999999", "organisation=x", "kind=moon",
                  "district=pudong", "page=-3"):
        assert client.get(f"/statistics/attendance?{query}").status_code == 200, query


def add_events(make_event, organisation, count: int) -> None:
    for n in range(count):
        event = make_event(organisation, status="held", starts_at=OCTOBER + timedelta(days=n % 20), kind="national")
        check_in_people(event, 2)
        check_in_people(event, 1, method=CheckInMethod.IMPORT)


@pytest.mark.parametrize("url", ["/statistics/attendance", "/statistics/attendance/events.xlsx",
                                 "/statistics/attendance/organisations.xlsx"])
def test_the_statistics_pages_issue_the_same_statements_for_few_and_many_events(app, client, make_user,
                                                                               make_event, make_organisation, url):
    log_in_session(client, make_user(Role.STAFF))
    add_events(make_event, make_organisation(), 3)
    few = statements_for(client, url)
    for _ in range(3):
        add_events(make_event, make_organisation(), 9)
    assert statements_for(client, url) == few


def test_the_attendance_page_of_an_event_issues_the_same_statements_for_few_and_many(app, client, make_user,
                                                                                    make_event):
    log_in_session(client, make_user(Role.STAFF))
    event = make_event(status="held", starts_at=OCTOBER)
    check_in_people(event, 3)
    few = statements_for(client, f"/manage/events/{event.id}/attendance")
    check_in_people(event, 27, method=CheckInMethod.IMPORT)
    assert statements_for(client, f"/manage/events/{event.id}/attendance") == few
