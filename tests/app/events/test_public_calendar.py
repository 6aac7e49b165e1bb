"""The public Academic Month calendar: what it shows, its scopes, filters, full-text search
(Chinese included), paging, the week and month grids, odd arguments, and its query counts."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from conference_app.core.timeutil import day_start
from conference_app.events.models import AcademicMonthEdition, Registration
from conference_app.events.views.public import DAY_PREVIEW
from conference_app.extensions import db
from tests.app.core.test_query_counts import FEW, MANY, statements_for
from tests.app.events.public_helpers import add_people, edition29, make_edition  # noqa: F401  (a fixture)

EDITION_DAY = date(2026, 10, 12)  # a Monday inside the 29th edition


def at(day: date, hour: int = 14):
    """A Beijing time on ``day``."""
    return day_start(day) + timedelta(hours=hour)


def titles(client, query: str = "") -> list[str]:
    """The event titles the calendar's list shows for ``query``."""
    response = client.get(f"/academic-month/?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return re.findall(r'data-testid="calendar-event">.*?<span class="event-title">\s*(.*?)\s*</span>', html, re.S)


def test_the_calendar_finds_an_event_by_a_chinese_word_of_its_title_and_by_a_speaker(client, make_event):
    salon = make_event(title_zh="面向量子计算的新型材料学术沙龙")
    other = make_event(title_zh="智能制造青年论坛")
    add_people(salon, [{"name": "欧阳明远", "talk_title": "拓扑超导体的生长"}])
    add_people(other, [{"name": "赵立新", "talk_title": "工业机器人"}])
    assert titles(client, "edition=all&q=量子") == ["面向量子计算的新型材料学术沙龙"]
    assert titles(client, "edition=all&q=欧阳明远") == ["面向量子计算的新型材料学术沙龙"]
    assert titles(client, "edition=all&q=超导") == ["面向量子计算的新型材料学术沙龙"]  # a talk title
    assert titles(client, "edition=all&q=机器人") == ["智能制造青年论坛"]
    assert titles(client, "edition=all&q=天文") == []


def test_search_covers_english_titles_organisations_and_needs_every_word(client, make_event, make_organisation):
    society = make_organisation(name_zh="北京力学学会", name_en="Beijing Society of Theoretical and Applied Mechanics")
    make_event(title_zh="断裂力学研讨会", title_en="Workshop on Fracture Mechanics", organisation=society)
    make_event(title_zh="100%_通配符测试")
    make_event(title_zh="其他活动")
    assert titles(client, "edition=all&q=fracture") == ["断裂力学研讨会"]  # case does not matter
    assert titles(client, "edition=all&q=力学学会") == ["断裂力学研讨会"]  # the host's Chinese name
    assert titles(client, "edition=all&q=applied+mechanics") == ["断裂力学研讨会"]
    assert titles(client, "edition=all&q=断裂　天文") == []  # a full-width space separates words; both must match
    assert titles(client, "edition=all&q=%25_") == ["100%_通配符测试"]  # % and _ match only themselves


def test_drafts_are_never_shown_cancelled_events_are_marked_held_ones_stay(client, make_event):
    make_event(title_zh="已发布的沙龙")
    make_event(title_zh="草稿沙龙", status="draft")
    make_event(title_zh="已取消的沙龙", status="cancelled")
    make_event(title_zh="已举办的沙龙", status="held", starts_at=day_start(date.today()) - timedelta(days=3))
    html = client.get("/academic-month/?edition=all").get_data(as_text=True)
    assert "草稿沙龙" not in html
    assert {"已发布的沙龙", "已取消的沙龙", "已举办的沙龙"} <= set(titles(client, "edition=all"))
    assert html.count('data-testid="event-cancelled"') == 1
    assert "草稿沙龙" not in client.get("/academic-month/?edition=all&q=草稿").get_data(as_text=True)


def test_the_current_edition_by_default_and_other_editions_or_upcoming_events_on_demand(client, make_event):
    current = make_edition(29)
    earlier = AcademicMonthEdition(number=28, year=2025, starts_on=date(2025, 10, 1), ends_on=date(2025, 11, 30))
    db.session.add(earlier)
    db.session.commit()
    make_event(title_zh="本届活动", edition_id=current.id)
    make_event(title_zh="上届活动", edition_id=earlier.id, status="held", starts_at=at(date(2025, 10, 20)))
    make_event(title_zh="学术月以外的沙龙", starts_at=day_start(current.ends_on + timedelta(days=30)))
    assert titles(client) == ["本届活动"]
    html = client.get("/academic-month/").get_data(as_text=True)
    assert "第29届" in html and 'href="/academic-month/calendar.ics?edition=29"' in html
    assert titles(client, "edition=28") == ["上届活动"]
    assert titles(client, "edition=upcoming") == ["本届活动", "学术月以外的沙龙"]
    assert titles(client, "edition=all") == ["上届活动", "本届活动", "学术月以外的沙龙"]
    assert titles(client, "edition=99") == ["本届活动"]  # an unknown edition: the current one


def test_between_editions_the_calendar_opens_on_what_is_coming_until_the_next_edition_has_events(
        client, edition29, make_event):
    make_event(title_zh="上月的报告会", edition_id=edition29.id, status="held", starts_at=at(date(2026, 10, 20)))
    make_event(title_zh="全年的沙龙")  # next week, outside any edition
    assert edition29.ends_on < date.today()  # the 29th is over
    next_one = AcademicMonthEdition(number=30, year=2027, starts_on=date(2027, 10, 1), ends_on=date(2027, 11, 30))
    db.session.add(next_one)
    db.session.commit()
    make_event(title_zh="第30届的草稿", edition_id=next_one.id, status="draft", starts_at=at(date(2027, 10, 9)))
    assert titles(client) == ["全年的沙龙"]  # the 30th has nothing public yet
    assert titles(client, "edition=29") == ["上月的报告会"]
    make_event(title_zh="第30届开幕式", edition_id=next_one.id, starts_at=at(date(2027, 10, 8)))
    assert titles(client) == ["第30届开幕式"]


def test_without_editions_the_calendar_shows_the_upcoming_events(client, make_event):
    make_event(title_zh="下周的沙龙")
    make_event(title_zh="上周的沙龙", status="held", starts_at=day_start(date.today()) - timedelta(days=7))
    assert titles(client) == ["下周的沙龙"]


def test_filters_by_discipline_kind_organisation_district_and_dates(client, edition29, make_event, make_organisation):
    society = make_organisation(name_zh="北京化学会")
    base = {"edition_id": edition29.id}
    make_event(title_zh="化学沙龙", discipline="chemistry", organisation=society, starts_at=at(date(2026, 10, 5)), **base)
    make_event(title_zh="区域会议", kind="regional", district="chaoyang", discipline="chemistry",
               starts_at=at(date(2026, 10, 20)), **base)
    make_event(title_zh="两天的会议", kind="national", starts_at=at(date(2026, 11, 2)),
               ends_at=at(date(2026, 11, 3), 18), **base)
    assert titles(client, "edition=29&discipline=chemistry") == ["化学沙龙", "区域会议"]
    assert titles(client, "edition=29&kind=regional") == ["区域会议"]
    assert titles(client, f"edition=29&organisation={society.name_zh}") == ["化学沙龙"]
    assert titles(client, f"edition=29&organisation={society.name_zh[2:5]}") == ["化学沙龙"]  # part of the name
    assert titles(client, "edition=29&district=chaoyang") == ["区域会议"]
    assert titles(client, "edition=29&date_from=2026-10-06&date_to=2026-10-31") == ["区域会议"]
    assert titles(client, "edition=29&date_from=2026-11-03") == ["两天的会议"]  # still running on its second day
    assert titles(client, "edition=29&date_to=2026-10-05") == ["化学沙龙"]
    html = client.get("/academic-month/").get_data(as_text=True)
    assert 'value="chemistry">化学</option>' in html and 'list="organisation-names"' in html
    # The organisation names come as suggestions from a JSON list the browser keeps a while.
    suggestions = client.get("/academic-month/organisations.json")
    assert "北京化学会" in suggestions.get_json()["names"] and "max-age" in suggestions.headers["Cache-Control"]


def test_the_list_pages_and_its_links_keep_the_filters(client, edition29, make_event):
    for number in range(23):
        make_event(title_zh=f"化学沙龙{number:02d}", discipline="chemistry", edition_id=edition29.id,
                   starts_at=at(date(2026, 10, 1) + timedelta(days=number % 20), 9 + number % 5))
    html = client.get("/academic-month/?edition=29&discipline=chemistry&endpoint=x").get_data(as_text=True)
    assert "共 23 场活动" in html
    assert "/academic-month/?edition=29&amp;discipline=chemistry&amp;page=2" in html
    assert "/academic-month/?edition=29&amp;discipline=chemistry&amp;view=month" in html
    assert "endpoint" not in "".join(re.findall(r'href="([^"]*)"', html))
    assert len(titles(client, "edition=29&discipline=chemistry&page=2")) == 3


def test_the_week_grid_shows_each_day_and_an_event_of_several_days_on_each(client, edition29, make_event):
    make_event(title_zh="周二沙龙", edition_id=edition29.id, starts_at=at(date(2026, 10, 13)))
    make_event(title_zh="三天的会议", kind="national", edition_id=edition29.id, starts_at=at(date(2026, 10, 15), 9),
               ends_at=at(date(2026, 10, 17), 17))
    make_event(title_zh="到午夜的晚会", edition_id=edition29.id, starts_at=at(date(2026, 10, 18), 20),
               ends_at=day_start(date(2026, 10, 19)))
    make_event(title_zh="下周的沙龙", edition_id=edition29.id, starts_at=at(date(2026, 10, 20)))
    html = client.get("/academic-month/?edition=29&view=week&day=2026-10-14").get_data(as_text=True)
    days = dict(re.findall(r'data-day="(\d{4}-\d\d-\d\d)">(.*?)</section>', html, re.S))
    assert list(days) == [f"2026-10-{day}" for day in range(12, 19)]  # Monday to Sunday
    assert "周二沙龙" in days["2026-10-13"] and "14:00" in days["2026-10-13"]  # Beijing time
    assert all("三天的会议" in days[f"2026-10-{day}"] for day in (15, 16, 17))
    assert "到午夜的晚会" in days["2026-10-18"]
    assert "下周的沙龙" not in html
    assert "?view=week&amp;edition=29&amp;day=2026-10-05" in html and "?view=week&amp;edition=29&amp;day=2026-10-19" in html


def test_the_month_grid_fills_whole_weeks_and_links_a_busy_day_to_its_list(client, edition29, make_event):
    for hour in range(8, 13):
        make_event(title_zh=f"十月九日活动{hour}", edition_id=edition29.id, starts_at=at(date(2026, 10, 9), hour))
    html = client.get("/academic-month/?edition=29&view=month&day=2026-10-20").get_data(as_text=True)
    days = re.findall(r'class="calendar-day([^"]*)"\s+data-testid="calendar-day" data-day="([^"]+)"', html)
    assert days[0][1] == "2026-09-28" and days[-1][1] == "2026-11-01" and len(days) == 35
    assert "is-outside" in days[0][0] and "is-outside" not in days[3][0]
    assert html.count('title="十月九日活动') == DAY_PREVIEW["month"] == 3
    assert "还有 2 场" in html
    more = re.search(r'href="([^"]+)"\s+data-testid="calendar-more"', html).group(1)
    assert {"view=list", "date_from=2026-10-09", "date_to=2026-10-09"} <= set(more.split("?")[1].split("&amp;"))
    assert "2026年10月" in html


@pytest.mark.parametrize("query", [
    "view=year", "edition=abc", "organisation=%25", "organisation=" + "学" * 101, "discipline=astrology",
    "kind=party", "district=tianjin", "date_from=2026-13-40", "date_from=0001-01-01&view=week",
    "day=9999-12-31&view=month", "day=1900-01-01&view=week", "q=" + "长" * 150, "page=99999999999",
    "date_from=2026-11-01&date_to=2026-10-01",
])
def test_odd_arguments_show_a_calendar_never_an_error(client, edition29, make_event, query):
    make_event(edition_id=edition29.id, starts_at=at(date(2026, 10, 9)))
    assert client.get(f"/academic-month/?{query}").status_code == 200


def test_the_calendar_in_english_shows_english_titles_and_names(client, edition29, make_event, make_organisation):
    society = make_organisation(name_zh="北京力学学会", name_en="Beijing Mechanics Society")
    make_event(title_zh="断裂力学研讨会", title_en="Workshop on Fracture Mechanics", organisation=society,
               edition_id=edition29.id, discipline="chemistry")
    with client.session_transaction() as session:
        session["locale"] = "en"
    html = client.get("/academic-month/").get_data(as_text=True)
    assert "Workshop on Fracture Mechanics" in html and "Beijing Mechanics Society" in html
    assert "Chemistry" in html and "Edition 29" in html


def add_calendar_events(make_event, make_organisation, edition, count: int, day: date) -> None:
    """Events on one day, each with two organisations, three people and two registrations."""
    for number in range(count):
        organisations = [(make_organisation(), "host"), (make_organisation(), "co_host")]
        event = make_event(organisations=organisations, edition_id=edition.id, capacity=50, discipline="chemistry",
                           starts_at=at(day, 8) + timedelta(minutes=number))
        add_people(event, [{"name": f"报告人{number}-{n}"} for n in range(3)])
        db.session.add_all(Registration(event=event, code=f"Q{event.id:05d}{n}", name="听众",
                                        phone=f"1390000{event.id:03d}{n}", status="confirmed") for n in range(2))
    db.session.commit()


@pytest.mark.parametrize("query", ["", "view=week&day=2026-10-12", "view=month&day=2026-10-12",
                                   "q=报告人&discipline=chemistry", "view=month&day=2026-10-12&q=报告人"])
def test_the_calendar_issues_the_same_statements_for_few_and_many_events(client, edition29, make_event,
                                                                          make_organisation, query):
    url = f"/academic-month/?edition=29&{query}"
    add_calendar_events(make_event, make_organisation, edition29, FEW, EDITION_DAY)
    few = statements_for(client, url)
    add_calendar_events(make_event, make_organisation, edition29, MANY - FEW, EDITION_DAY)
    many = statements_for(client, url)
    assert many == few, f"{url}: {few} statements with {FEW} events, {many} with {MANY}"
    assert 'data-testid="calendar-event"' in client.get(url).get_data(as_text=True)  # the events are on it
