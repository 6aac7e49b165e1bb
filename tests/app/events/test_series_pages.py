"""The salon series pages: starting and editing a series, proposing and deciding topics,
adding sessions through the forms; who may do what; the public series page, its .ics and
its constant number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from conference_app import create_app
from conference_app.audit.models import AuditEntry
from conference_app.core.db import utcnow
from conference_app.core.permissions import Role, public
from conference_app.core.timeutil import BEIJING, beijing_today
from conference_app.events.models import Event, SalonSeries, TopicProposal
from conference_app.extensions import db
from tests.app.conftest import app_settings, log_in_session
from tests.app.core.test_query_counts import statements_for
from tests.app.events.series_helpers import check_in_people, make_series, make_session, make_topic
from tests.app.helpers import csrf_token

FORM = {"title_zh": "前沿交叉学术沙龙", "year": "2026", "topic_mechanism": "会员自由提出选题，委员会每季度投票。",
        "committee": "张明\n李红", "venue": "北京科学中心", "district": "haidian", "sessions_target": "4",
        "person_times_target": "100"}


def post(client, url: str, data: dict, form_url: str | None = None):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_url or url)})


def test_a_society_user_starts_a_series_through_the_form(app, client, make_user):
    user = make_user(Role.SOCIETY)
    log_in_session(client, user)
    response = post(client, "/series/new", FORM)
    assert response.status_code == 302
    series = db.session.scalar(select(SalonSeries))
    assert response.location == f"/series/{series.id}"
    assert (series.organisation_id, series.committee, series.sessions_target) == (user.organisation_id, "张明\n李红", 4)
    html = client.get(response.location).get_data(as_text=True)
    assert "会员自由提出选题" in html and "提出选题" in html and "新增一期" in html


def test_a_refused_series_form_says_why_and_writes_nothing(app, client, make_user):
    log_in_session(client, make_user(Role.SOCIETY))
    response = post(client, "/series/new", FORM | {"topic_mechanism": "", "year": "1990"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "请说明如何征集和确定选题" in html
    assert db.session.scalar(select(func.count()).select_from(SalonSeries)) == 0


def test_staff_choose_the_organisation_of_a_new_series(app, client, make_user, make_organisation):
    organisation = make_organisation(name_zh="北京物理学会")
    log_in_session(client, make_user(Role.STAFF))
    assert "北京物理学会" in client.get("/series/new").get_data(as_text=True)
    assert post(client, "/series/new", FORM | {"organisation_id": str(organisation.id)}).status_code == 302
    assert db.session.scalar(select(SalonSeries.organisation_id)) == organisation.id


def test_proposing_deciding_and_adding_a_session_through_the_pages(app, client, make_user, make_organisation):
    series = make_series(make_organisation(), year=2026)
    member = make_user(Role.SOCIETY, organisation=series.organisation)
    log_in_session(client, member)
    page = f"/series/{series.id}"
    assert post(client, f"{page}/proposals", {"title": "脑机接口伦理", "rationale": "新兴技术的规范"}, page).status_code == 302
    proposal = db.session.scalar(select(TopicProposal))
    prefix = f"p{proposal.id}-"
    response = client.post(f"{page}/proposals/{proposal.id}/decision", data={
        f"{prefix}decided_by": ["张明", "李红"], f"{prefix}note": "一致通过", f"{prefix}decision": "choose",
        f"{prefix}csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    db.session.expire_all()
    assert (proposal.status, proposal.decided_by) == ("chosen", "张明、李红")
    response = post(client, f"{page}/sessions/new", {
        "topic_id": str(proposal.id), "day": "2026-10-20", "starts": "14:00", "ends": "16:30", "mode": "offline",
        "initiator_name": "王教授", "initiator_organisation": "清华大学", "discussants": "李华, 北京大学, 教授\n赵六",
        "publish": "y"})
    assert response.status_code == 302
    event = db.session.scalar(select(Event))
    assert (event.status, event.topic_id, event.starts_at) == ("published", proposal.id,
                                                                datetime(2026, 10, 20, 14, tzinfo=BEIJING))
    html = client.get(page).get_data(as_text=True)
    assert "脑机接口伦理" in html and "王教授" in html and "李华" in html and "张明、李红 于" in html


def test_a_refused_decision_is_shown_on_the_series_page_and_changes_nothing(app, client, make_user,
                                                                           make_organisation):
    series = make_series(make_organisation())
    topic = make_topic(series, status="proposed")
    log_in_session(client, make_user(Role.STAFF))
    page = f"/series/{series.id}"
    prefix = f"p{topic.id}-"
    response = client.post(f"{page}/proposals/{topic.id}/decision", data={
        f"{prefix}decision": "decline", f"{prefix}decided_by": ["张明"], f"{prefix}csrf_token": csrf_token(client, page)})
    assert response.status_code == 400
    assert "请注明委员会未采纳该选题的原因" in response.get_data(as_text=True)
    db.session.expire_all()
    assert topic.status == "proposed"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_session_form_without_chosen_topics_says_so(app, client, make_user, make_organisation):
    series = make_series(make_organisation())
    log_in_session(client, make_user(Role.SOCIETY, organisation=series.organisation))
    assert "委员会尚未确定任何选题" in client.get(f"/series/{series.id}/sessions/new").get_data(as_text=True)


def test_another_society_can_read_the_series_page_but_change_nothing(app, client, make_user, make_organisation):
    series = make_series(make_organisation())
    topic = make_topic(series, status="proposed")
    log_in_session(client, make_user(Role.SOCIETY))
    page = f"/series/{series.id}"
    html = client.get(page).get_data(as_text=True)
    assert series.title_zh in html and "提出选题" not in html and "新增一期" not in html
    token = csrf_token(client, page)
    for url, data in (
        (f"{page}/edit", FORM),
        (f"{page}/proposals", {"title": "x", "rationale": "y"}),
        (f"{page}/proposals/{topic.id}/decision", {f"p{topic.id}-decision": "choose"}),
        (f"{page}/proposals/{topic.id}/reconsider", {}),
        (f"{page}/sessions/new", {}),
    ):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    assert client.get(f"{page}/edit").status_code == 403


def test_a_topic_is_decided_only_through_its_own_series_url(app, client, make_user, make_organisation):
    series = make_series(make_organisation())
    other = make_series(series.organisation)
    topic = make_topic(other, status="proposed")
    log_in_session(client, make_user(Role.STAFF))
    response = client.post(f"/series/{series.id}/proposals/{topic.id}/decision",
                           data={"csrf_token": csrf_token(client, f"/series/{series.id}")})
    assert response.status_code == 404


def test_the_public_sees_published_sessions_and_decided_topics_only(app, client, make_organisation):
    series = make_series(make_organisation())
    make_session(series, utcnow() + timedelta(days=3), core_topic="公开的议题")
    make_session(series, utcnow() + timedelta(days=4), status="draft", core_topic="草稿议题")
    make_topic(series, "已确定的选题")
    make_topic(series, "尚待决定的选题", status="proposed")
    html = client.get(f"/series/{series.id}").get_data(as_text=True)
    assert "公开的议题" in html and "已确定的选题" in html
    assert "草稿议题" not in html and "尚待决定的选题" not in html and "历史记录" not in html
    assert client.get("/series/987654").status_code == 404


def test_the_list_and_its_export_for_a_society(app, client, make_user, make_organisation):
    mine = make_series(make_organisation(), title_zh="我们的沙龙")
    make_series(make_organisation(), title_zh="别人的沙龙")
    check_in_people(make_session(mine, utcnow() - timedelta(days=2)), 3)
    log_in_session(client, make_user(Role.SOCIETY, organisation=mine.organisation))
    html = client.get("/series/").get_data(as_text=True)
    assert "我们的沙龙" in html and "别人的沙龙" not in html and "3 / 100" in html and "1 / 4" in html
    response = client.get("/series/export.xlsx?q=我们")
    assert response.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    rows = list(load_workbook(BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("举办单位", "年份", "沙龙系列") and rows[1][2] == "我们的沙龙" and rows[1][6] == 3


@pytest.fixture()
def app_with_event_pages(tmp_path):
    """A fresh app on its own SQLite file. The iCalendar writer links each event to the public
    event page (``events.event_page``), which another branch builds; until both are merged
    this app routes a stand-in there."""
    fresh = create_app(app_settings(f"sqlite:///{tmp_path / 'ics.db'}", tmp_path / "instance"))
    if "events.event_page" not in fresh.view_functions:
        fresh.add_url_rule("/events/<id:event_id>", "events.event_page", public(lambda event_id: ""))
    with fresh.app_context():
        db.create_all()
        yield fresh
        db.session.remove()
        db.engine.dispose()


def test_the_series_calendar_holds_its_public_sessions_in_beijing_time(app_with_event_pages):
    from conference_app.organisations.credit_code import make_credit_code
    from conference_app.organisations.models import Organisation

    organisation = Organisation(name_zh="北京化学会", org_type="society", credit_code=make_credit_code("51110000900000001"),
                                status="approved")
    db.session.add(organisation)
    db.session.commit()
    series = make_series(organisation, title_zh="化学前沿沙龙")
    first = make_session(series, datetime(2026, 10, 12, 14, tzinfo=BEIJING), title_zh="第一期")
    make_session(series, datetime(2026, 11, 2, 9, tzinfo=BEIJING), title_zh="第二期", status="held")
    make_session(series, datetime(2026, 11, 9, 9, tzinfo=BEIJING), title_zh="草稿", status="draft")
    response = app_with_event_pages.test_client().get(f"/series/{series.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = calendar.walk("VEVENT")
    assert calendar["X-WR-CALNAME"] == "化学前沿沙龙"
    assert [str(event["SUMMARY"]) for event in events] == ["第一期", "第二期"]
    start = events[0].decoded("DTSTART")
    assert start == datetime(2026, 10, 12, 14, tzinfo=BEIJING) and str(start.tzinfo) == "Asia/Shanghai"
    assert str(events[0]["UID"]) == f"event-{first.id}@capital-academic-platform"


def add_sessions(series, count: int) -> None:
    """Sessions with people, check-ins and a decided topic each."""
    for n in range(count):
        topic = make_topic(series)
        event = make_session(series, utcnow() - timedelta(days=60 - n), topic_id=topic.id)
        check_in_people(event, 2)


@pytest.mark.parametrize("viewer", ["visitor", "manager"])
def test_the_series_page_issues_the_same_statements_for_few_and_many_sessions(app, client, make_user,
                                                                              make_organisation, viewer):
    small, large = make_series(make_organisation()), make_series(make_organisation())
    add_sessions(small, 3)
    add_sessions(large, 30)
    for series in (small, large):
        make_topic(series, status="proposed")
    if viewer == "manager":
        log_in_session(client, make_user(Role.STAFF))
    few = statements_for(client, f"/series/{small.id}")
    many = statements_for(client, f"/series/{large.id}")
    assert many == few, f"{few} statements with 3 sessions, {many} with 30"


def test_the_series_list_issues_the_same_statements_for_few_and_many_series(app, client, make_user,
                                                                            make_organisation):
    log_in_session(client, make_user(Role.STAFF))

    def grow(count: int) -> None:
        for _ in range(count):
            add_sessions(make_series(make_organisation()), 1)

    grow(3)
    few = statements_for(client, "/series/")
    few_export = statements_for(client, "/series/export.xlsx")
    grow(27)
    assert statements_for(client, "/series/") == few
    assert statements_for(client, "/series/export.xlsx") == few_export


def test_a_series_year_defaults_to_this_year_on_the_form(app, client, make_user):
    log_in_session(client, make_user(Role.SOCIETY))
    html = client.get("/series/new").get_data(as_text=True)
    assert f'value="{beijing_today().year}"' in html
