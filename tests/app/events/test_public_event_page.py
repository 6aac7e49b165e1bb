"""An event's public page (everything a visitor needs, drafts hidden) and the iCalendar
files of an event and of an Academic Month edition, read back with the icalendar library."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from conference_app.core.timeutil import BEIJING, day_start
from conference_app.events.models import AcademicMonthEdition, EventOrganisation, Registration, SalonSeries
from conference_app.extensions import db
from tests.app.core.test_query_counts import statements_for
from tests.app.events.public_helpers import add_people, edition29, make_edition  # noqa: F401  (a fixture)

# 2026-10-12 06:00 UTC is 14:00 in Beijing.
STARTS_UTC = datetime(2026, 10, 12, 6, 0, tzinfo=timezone.utc)


def test_the_event_page_shows_everything_a_visitor_needs(client, make_event, make_organisation):
    host = make_organisation(name_zh="北京材料研究学会")
    co_host = make_organisation(name_zh="北京理工大学科协")
    edition = make_edition()
    event = make_event(
        organisations=[(host, "host"), (co_host, "co_host")], title_zh="面向量子计算的新型材料学术沙龙",
        title_en="New materials for quantum computing", kind="salon_session", mode="hybrid",
        online_url="https://meeting.example.cn/42", venue="北京科学中心", district="xicheng", capacity=2,
        discipline="materials_science", core_topic="拓扑量子材料的制备难题", agenda="14:00 引导发言\n16:00 总结",
        edition_id=edition.id, starts_at=day_start(edition.ends_on) + timedelta(hours=14),
    )
    add_people(event, [
        {"role": "initiator", "name": "张海峰", "organisation": "北京材料研究学会", "title": "研究员"},
        {"name": "欧阳明远", "organisation": "清华大学", "title": "教授", "talk_title": "拓扑超导体的生长",
         "talk_minutes": 30, "is_leading_figure": True, "leading_reason": "中国科学院院士", "on_site": False},
        {"role": "discussant", "name": "陈静", "organisation": "北京大学"},
        {"role": "guest", "name": "刘洋", "organisation": "中国科学院物理研究所"},
    ])
    db.session.add(Registration(event=event, code="CONFIRMED1", name="听众", phone="13900000001", status="confirmed"))
    db.session.commit()
    response = client.get(f"/events/{event.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in ("面向量子计算的新型材料学术沙龙", "New materials for quantum computing", "学术沙龙", "14:00–16:00",
                 "北京时间", "北京科学中心", "西城", "线上线下结合", 'href="https://meeting.example.cn/42"',
                 "北京材料研究学会", "主办", "北京理工大学科协", "材料科学", "拓扑量子材料的制备难题",
                 "欧阳明远", "清华大学", "教授", "拓扑超导体的生长", "30 分钟", "领军人物", "中国科学院院士", "线上参加",
                 "发起人", "张海峰", "主要参与研讨人员", "陈静", "交流嘉宾", "刘洋", "14:00 引导发言",
                 "第29届", "剩余 1 个名额（共 2 个）", 'data-testid="registration-form"',
                 f'href="/events/{event.id}.ics"'):
        assert text in html, text


def test_a_salon_session_names_its_series(client, make_event, make_organisation):
    society = make_organisation()
    series = SalonSeries(organisation=society, year=2026, title_zh="材料前沿交叉学术沙龙", topic_mechanism="会员征集")
    event = make_event(organisation=society, series=series)
    assert "材料前沿交叉学术沙龙" in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_an_online_link_that_is_not_a_web_address_is_not_a_link(client, make_event):
    event = make_event(mode="online", online_url="javascript:alert(1)", venue=None, district=None)
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "javascript:alert(1)" in html and 'href="javascript' not in html


@pytest.mark.parametrize(("fields", "reason"), [
    ({"status": "held"}, "未开放报名"),
    ({"status": "cancelled"}, "未开放报名"),
    ({"registration_open": False}, "报名已截止"),
    ({"starts_at": day_start(date(2020, 5, 1))}, "已结束"),
])
def test_the_page_says_why_registration_is_closed(client, make_event, fields, reason):
    event = make_event(**fields)
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert 'data-testid="registration-closed"' in html and reason in html
    assert 'data-testid="registration-form"' not in html


def test_a_full_event_says_new_registrations_go_to_the_waiting_list(client, make_event):
    event = make_event(capacity=1)
    db.session.add_all([
        Registration(event=event, code="FULL000001", name="甲", phone="13900000001", status="confirmed"),
        Registration(event=event, code="WAIT000001", name="乙", phone="13900000002", status="waitlisted"),
    ])
    db.session.commit()
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "名额已满，候补 1 人" in html and 'data-testid="waitlist-note"' in html


def test_drafts_and_missing_events_are_not_found(client, make_event):
    draft = make_event(status="draft")
    for url in (f"/events/{draft.id}", f"/events/{draft.id}.ics", f"/events/{draft.id + 1000}", "/events/0",
                "/events/2147483648"):
        assert client.get(url).status_code == 404, url


def read_calendar(response) -> Calendar:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return Calendar.from_ical(response.data)


def test_an_events_ics_parses_with_beijing_times(client, make_event):
    event = make_event(title_zh="量子材料沙龙", starts_at=STARTS_UTC, ends_at=STARTS_UTC + timedelta(hours=2))
    response = client.get(f"/events/{event.id}.ics")
    assert response.headers["Content-Disposition"] == f'attachment; filename="event-{event.id}.ics"'
    ics = read_calendar(response)
    [item] = ics.walk("VEVENT")
    start, end = item.decoded("dtstart"), item.decoded("dtend")
    assert str(start.tzinfo) == "Asia/Shanghai" and item["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert (start.hour, start.minute, end.hour) == (14, 0, 16)
    assert start == STARTS_UTC
    assert str(item["summary"]) == "量子材料沙龙"
    assert str(item["url"]).endswith(f"/events/{event.id}")
    assert [str(zone["tzid"]) for zone in ics.walk("VTIMEZONE")] == ["Asia/Shanghai"]


def test_the_month_ics_holds_the_editions_public_events_with_beijing_times(client, edition29, make_event):
    first = make_event(title_zh="十月的沙龙", edition_id=edition29.id, starts_at=STARTS_UTC)
    make_event(title_zh="取消的报告会", edition_id=edition29.id, status="cancelled",
               starts_at=STARTS_UTC + timedelta(days=3))
    make_event(title_zh="草稿", edition_id=edition29.id, status="draft", starts_at=STARTS_UTC)
    make_event(title_zh="学术月以外", starts_at=STARTS_UTC + timedelta(days=90))
    response = client.get("/academic-month/calendar.ics")
    assert response.headers["Content-Disposition"] == 'attachment; filename="academic-month-29.ics"'
    ics = read_calendar(response)
    assert str(ics["x-wr-calname"]) == "第29届北京科技交流学术月"
    items = {str(item["summary"]): item for item in ics.walk("VEVENT")}
    assert set(items) == {"十月的沙龙", "取消的报告会"}
    assert str(items["取消的报告会"]["status"]) == "CANCELLED"
    start = items["十月的沙龙"].decoded("dtstart")
    assert start.astimezone(BEIJING).replace(tzinfo=None) == datetime(2026, 10, 12, 14, 0)
    assert str(start.tzinfo) == "Asia/Shanghai"
    assert str(items["十月的沙龙"]["uid"]) == f"event-{first.id}@capital-academic-platform"
    named = read_calendar(client.get("/academic-month/calendar.ics?edition=29"))
    assert {str(item["summary"]) for item in named.walk("VEVENT")} == set(items)


def test_the_month_ics_of_another_edition_and_of_none(client, edition29, make_event):
    earlier = AcademicMonthEdition(number=28, year=2025, starts_on=date(2025, 10, 1), ends_on=date(2025, 11, 30))
    db.session.add(earlier)
    db.session.commit()
    make_event(title_zh="上届的会议", edition_id=earlier.id, status="held",
               starts_at=datetime(2025, 10, 20, 1, 30, tzinfo=timezone.utc))
    ics = read_calendar(client.get("/academic-month/calendar.ics?edition=28"))
    [item] = ics.walk("VEVENT")
    assert str(item["summary"]) == "上届的会议" and item.decoded("dtstart").hour == 9
    for query in ("edition=27", "edition=abc"):
        assert client.get(f"/academic-month/calendar.ics?{query}").status_code == 404


def test_without_any_edition_the_month_ics_is_not_found(client):
    assert client.get("/academic-month/calendar.ics").status_code == 404


def add_programme(event, make_organisation, size: int) -> None:
    """``size`` co-hosts, speakers, discussants and registrations."""
    co_hosts = [make_organisation() for _ in range(size)]
    for number, co_host in enumerate(co_hosts):
        event.organisations.append(EventOrganisation(organisation=co_host, role="co_host"))
        db.session.add(Registration(event=event, code=f"P{event.id:04d}{number:04d}", name="听众",
                                    phone=f"139{event.id:04d}{number:04d}", status="confirmed"))
    db.session.commit()
    add_people(event, [{"name": f"报告人{n}", "talk_title": "报告"} for n in range(size)]
               + [{"role": "discussant", "name": f"研讨人{n}"} for n in range(size)])


def test_the_event_page_issues_the_same_statements_for_a_small_and_a_large_programme(client, edition29, make_event,
                                                                                     make_organisation):
    pages = []
    for size in (1, 20):
        series = SalonSeries(organisation=make_organisation(), year=2026, title_zh=f"系列{size}", topic_mechanism="征集")
        event = make_event(edition_id=edition29.id, series=series, starts_at=STARTS_UTC)
        add_programme(event, make_organisation, size)
        pages.append(statements_for(client, f"/events/{event.id}"))
    assert pages[0] == pages[1], f"{pages[0]} statements for a small programme, {pages[1]} for a large one"
