"""The public part of the JSON API: listed events with their counts, and registering."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import utcnow
from conference_app.core.permissions import Role
from conference_app.events.models import CheckInMethod, Registration
from conference_app.events.services import checkins, registrations
from conference_app.events.views import api
from conference_app.extensions import db
from tests.app.core.test_query_counts import counted_statements
from tests.app.events.api_helpers import assert_api_error, post_json, written

EVENT_FIELDS = {"id", "title_zh", "title_en", "kind", "status", "starts_at", "ends_at", "capacity", "confirmed", "waitlisted",
                "checked_in"}
PERSON = {"name": "张三", "organisation": "北京大学", "title": "教授", "phone": "13800000001"}


def sign_up(event, number: int, **fields):
    registration = registrations.register(event, {"name": f"报名者{number}", "phone": f"139{number:08d}", **fields})
    db.session.commit()
    return registration


def test_an_event_object_has_the_contract_fields_with_beijing_times_and_counts(client, make_event, make_user):
    starts = datetime(2030, 10, 12, 1, 30, tzinfo=timezone.utc)  # 09:30 in Beijing
    event = make_event(title_en="Salon", capacity=2, starts_at=starts, ends_at=starts + timedelta(hours=3))
    first, second, third = (sign_up(event, n) for n in range(3))
    checkins.check_in(first, actor=make_user(Role.STAFF), method=CheckInMethod.SCAN)
    db.session.commit()
    body = client.get(f"/api/v1/events/{event.id}").get_json()
    assert body == {
        "id": event.id, "title_zh": event.title_zh, "title_en": "Salon", "kind": "salon_session", "status": "published",
        "starts_at": "2030-10-12T09:30:00+08:00", "ends_at": "2030-10-12T12:30:00+08:00",
        "capacity": 2, "confirmed": 2, "waitlisted": 1, "checked_in": 1,
    }
    assert [second.status, third.status] == ["confirmed", "waitlisted"]


def test_the_list_shows_published_held_and_cancelled_events_by_start_never_drafts(client, make_event):
    soon = utcnow().replace(microsecond=0) + timedelta(days=1)
    later = make_event(starts_at=soon + timedelta(days=2))
    held = make_event(status="held", starts_at=soon - timedelta(days=30))
    cancelled = make_event(status="cancelled", starts_at=soon)
    make_event(status="draft", starts_at=soon)
    response = client.get("/api/v1/events")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert [e["id"] for e in body["events"]] == [held.id, cancelled.id, later.id]
    assert (body["page"], body["per_page"], body["total"]) == (1, api.EVENTS_PER_PAGE, 3)
    assert all(set(e) == EVENT_FIELDS for e in body["events"])
    assert body["events"][0]["capacity"] is None and body["events"][0]["title_en"] is None


def test_upcoming_leaves_out_the_events_that_have_ended(client, make_event):
    now = utcnow().replace(microsecond=0)
    make_event(status="held", starts_at=now - timedelta(days=3))
    running = make_event(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    coming = make_event(starts_at=now + timedelta(days=3))
    for flag in ("1", "true"):
        body = client.get(f"/api/v1/events?upcoming={flag}").get_json()
        assert [e["id"] for e in body["events"]] == [running.id, coming.id] and body["total"] == 2
    assert client.get("/api/v1/events?upcoming=0").get_json()["total"] == 3


def test_the_list_pages(client, make_event, monkeypatch):
    monkeypatch.setattr(api, "EVENTS_PER_PAGE", 2)
    start = utcnow().replace(microsecond=0) + timedelta(days=1)
    ids = [make_event(starts_at=start + timedelta(hours=n)).id for n in range(5)]
    pages = [client.get(f"/api/v1/events?page={n}").get_json() for n in (1, 2, 3, 4)]
    assert [[e["id"] for e in page["events"]] for page in pages] == [ids[0:2], ids[2:4], ids[4:5], []]
    assert [(page["page"], page["per_page"], page["total"]) for page in pages] == [(n, 2, 5) for n in (1, 2, 3, 4)]


def test_the_list_issues_the_same_statements_for_few_and_many_events(client, make_event):
    def statements() -> int:
        db.session.expire_all()
        with counted_statements() as sent:
            assert client.get("/api/v1/events").status_code == 200
        return len(sent)

    def add_events(count: int) -> None:
        for _ in range(count):
            sign_up(make_event(capacity=5), 1)

    add_events(3)
    few = statements()
    add_events(27)
    assert statements() == few


@pytest.mark.parametrize("status", ["draft", None])
def test_a_draft_or_missing_event_is_a_json_404(client, make_event, status):
    event_id = make_event(status=status).id if status else 987654
    assert_api_error(client.get(f"/api/v1/events/{event_id}"), 404, "没有编号为")
    assert_api_error(post_json(client, f"/api/v1/events/{event_id}/registrations", PERSON), 404)
    assert written()["registrations"] == 0


def test_registration_answers_201_confirmed_then_waitlisted_beyond_capacity(client, make_event, outbox):
    event = make_event(capacity=1)
    first = post_json(client, f"/api/v1/events/{event.id}/registrations", PERSON | {"email": "zhang@example.cn"})
    second = post_json(client, f"/api/v1/events/{event.id}/registrations", {"name": "李四", "email": "li@example.cn"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert [r.get_json()["status"] for r in (first, second)] == ["confirmed", "waitlisted"]
    assert all(set(r.get_json()) == {"code", "status"} for r in (first, second))
    saved = db.session.scalars(select(Registration).order_by(Registration.id)).all()
    assert [(r.code, r.source, r.status, r.organisation, r.title) for r in saved] == [
        (first.get_json()["code"], "api", "confirmed", "北京大学", "教授"),
        (second.get_json()["code"], "api", "waitlisted", None, None),
    ]
    assert {m["To"] for m in outbox()} == {"zhang@example.cn", "li@example.cn"}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registration.created"))
    assert entry.details == {"event_id": event.id, "source": "api"} and entry.actor_label == "anonymous"
    assert client.get(f"/api/v1/events/{event.id}").get_json()["waitlisted"] == 1


REFUSALS = [
    # (body, status, part of the Chinese message)
    ('{"name": "张三", "phone": ', 400, "JSON 对象"),
    ('["张三"]', 400, "JSON 对象"),
    ("", 400, "JSON 对象"),
    (b"\xff\xfe{}", 400, "JSON 对象"),
    ({"phone": "13800000001"}, 400, "请填写您的姓名"),
    ({"name": "   ", "phone": "13800000001"}, 400, "请填写您的姓名"),
    ({"name": "张三", "phone": "1380000000"}, 400, "11 位"),
    ({"name": "张三", "phone": "23800000001"}, 400, "11 位"),
    ({"name": "张三", "email": "not-an-address"}, 400, "有效的电子邮箱"),
    ({"name": "张三"}, 400, "手机号码或电子邮箱"),
    ({"name": "张三", "phone": 13800000001}, 400, "phone"),
    ({"name": ["张三"], "phone": "13800000001"}, 400, "name"),
    ({"name": "张\x00三", "phone": "13800000001"}, 400, "不允许的字符"),
    ({"name": "张" * 101, "phone": "13800000001"}, 400, "100"),
]


@pytest.mark.parametrize(("body", "status", "message"), REFUSALS)
def test_bad_registrations_are_refused_as_json_4xx_in_chinese_and_write_nothing(client, make_event, outbox, body,
                                                                                status, message):
    event = make_event()
    response = post_json(client, f"/api/v1/events/{event.id}/registrations", body)
    assert_api_error(response, status, message)
    assert written() == {"registrations": 0, "checkins": 0, "audit": 0} and outbox() == []


@pytest.mark.parametrize("duplicate", [{"phone": "+86 138 0000 0001"}, {"email": "ZHANG@example.cn"}])
def test_a_duplicate_registration_is_a_409_and_writes_nothing(client, make_event, outbox, duplicate):
    event = make_event()
    url = f"/api/v1/events/{event.id}/registrations"
    assert post_json(client, url, PERSON | {"email": "zhang@example.cn"}).status_code == 201
    before, mails = written(), len(outbox())
    assert_api_error(post_json(client, url, {"name": "张三", **duplicate}), 409, "已使用该手机号码或电子邮箱报名")
    assert written() == before and len(outbox()) == mails


@pytest.mark.parametrize(("fields", "message"), [
    ({"starts_at": utcnow() - timedelta(days=2)}, "已结束"),
    ({"status": "cancelled"}, "未开放报名"),
    ({"status": "held", "starts_at": utcnow() - timedelta(days=2)}, "未开放报名"),
    ({"registration_open": False}, "报名已截止"),
])
def test_registration_for_a_past_cancelled_or_closed_event_is_a_409(client, make_event, fields, message):
    event = make_event(**fields)
    assert_api_error(post_json(client, f"/api/v1/events/{event.id}/registrations", PERSON), 409, message)
    assert written()["registrations"] == 0



def test_a_listed_events_programme_lists_its_agenda_and_people_in_order_without_contacts(client, make_event):
    from conference_app.events.models import EventPerson, PersonRole

    event = make_event(agenda="14:00 开幕\n14:10 报告")
    event.people = [
        EventPerson(role=PersonRole.CHAIR, position=0, name="主持人", organisation="北京市科协"),
        EventPerson(role=PersonRole.SPEAKER, position=1, name="报告人", organisation="清华大学", title="教授",
                    is_keynote=True, talk_title="量子材料", talk_minutes=30, is_leading_figure=True,
                    leading_reason="院士"),
        EventPerson(role=PersonRole.GUEST, position=2, name="嘉宾", on_site=False),
    ]
    draft = make_event(status="draft")
    db.session.commit()
    response = client.get(f"/api/v1/events/{event.id}/programme")
    assert response.status_code == 200
    programme = response.get_json()
    assert programme["event_id"] == event.id and programme["agenda"] == "14:00 开幕\n14:10 报告"
    assert [(person["role"], person["name"]) for person in programme["people"]] == [
        ("chair", "主持人"), ("speaker", "报告人"), ("guest", "嘉宾")]
    speaker = programme["people"][1]
    assert speaker["talk_title"] == "量子材料" and speaker["talk_minutes"] == 30 and speaker["is_keynote"] is True
    assert programme["people"][2]["on_site"] is False
    assert set(speaker) == {"role", "name", "organisation", "title", "is_leading_figure", "is_keynote", "talk_title",
                            "talk_minutes", "on_site"}
    assert_api_error(client.get(f"/api/v1/events/{draft.id}/programme"), 404)
