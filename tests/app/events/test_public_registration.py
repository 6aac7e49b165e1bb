"""Registering through the event page: confirmed or waitlisted and sent to the registrant's
page; promoted when a confirmed person cancels there; every refusal a clear Chinese message
with its status and nothing written; a per-address throttle."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import day_start
from conference_app.events.models import Registration
from conference_app.extensions import db
from tests.app.events.public_helpers import post_registration
from tests.app.helpers import csrf_token


def written() -> tuple[int, int]:
    """(registrations, audit entries) in the database."""
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(Registration)),
            db.session.scalar(select(func.count()).select_from(AuditEntry)))


def registrant_page(client, response):
    assert response.status_code == 302 and "/registrations/" in response.location
    return client.get(response.location)


def cancel_on_registrant_page(client, url: str):
    return client.post(url, data={"csrf_token": csrf_token(client, url)})


def test_a_registration_lands_on_the_registrants_page_with_the_qr_code(client, make_event, outbox):
    event = make_event(title_zh="量子材料沙龙", capacity=10)
    response = post_registration(client, event, name="孙丽", organisation="北京化工大学", title="博士研究生",
                                 phone="139 1234 5678", email="Sun.Li@Example.cn")
    page = registrant_page(client, response)
    html = page.get_data(as_text=True)
    registration = db.session.scalars(select(Registration)).one()
    assert (registration.status, registration.phone, registration.email, registration.locale) == (
        "confirmed", "13912345678", "sun.li@example.cn", "zh_CN")
    assert "报名成功，名额已确认" in html and "已确认" in html
    assert 'data-testid="qr-code"><svg' in html and registration.code in html
    assert f'href="/events/{event.id}.ics"' in html
    [message] = outbox()
    assert message["To"] == "sun.li@example.cn" and registration.code in message.get_body(("plain",)).get_content()
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["registration.created"]


def test_the_page_language_is_the_registrants_locale(client, make_event):
    event = make_event()
    with client.session_transaction() as session:
        session["locale"] = "en"
    page = registrant_page(client, post_registration(client, event, name="Li Lei", email="li.lei@example.com"))
    assert "You are registered and your place is confirmed." in page.get_data(as_text=True)
    assert db.session.scalars(select(Registration.locale)).one() == "en"


def test_beyond_capacity_goes_to_the_waiting_list_and_is_promoted_when_a_confirmed_person_cancels(client, make_event):
    event = make_event(capacity=1)
    first = registrant_page(client, post_registration(client, event, name="张三", phone="13800000001"))
    first_url = first.request.path
    second = registrant_page(client, post_registration(client, event, name="李四", phone="13800000002"))
    second_url = second.request.path
    second_html = second.get_data(as_text=True)
    assert "您已进入候补名单" in second_html and 'data-testid="qr-code"' not in second_html
    assert "名额已满，候补 1 人" in client.get(f"/events/{event.id}").get_data(as_text=True)

    response = cancel_on_registrant_page(client, first_url)
    assert response.status_code == 302
    assert "已取消" in client.get(first_url).get_data(as_text=True)
    promoted = client.get(second_url).get_data(as_text=True)
    assert 'data-testid="registration-status">已确认' in promoted and 'data-testid="qr-code"><svg' in promoted
    statuses = dict(db.session.execute(select(Registration.name, Registration.status)).all())
    assert statuses == {"张三": "cancelled", "李四": "confirmed"}
    assert "剩余" not in client.get(f"/events/{event.id}").get_data(as_text=True)  # full again, nobody waiting


REFUSALS = [
    ({"name": "张三", "phone": "1380000000"}, 400, "请填写 11 位中国大陆手机号码"),
    ({"name": "张三", "phone": "23800000001"}, 400, "请填写 11 位中国大陆手机号码"),
    ({"name": "张三", "email": "zhang@"}, 400, "请填写有效的电子邮箱地址"),
    ({"name": "张三"}, 400, "请填写手机号码或电子邮箱"),
    ({"name": "", "phone": "13800000009"}, 400, "请填写您的姓名"),
]


@pytest.mark.parametrize(("fields", "status", "message"), REFUSALS)
def test_malformed_input_is_refused_with_a_chinese_message_and_nothing_written(client, make_event, fields, status,
                                                                                message):
    event = make_event()
    before = written()
    response = post_registration(client, event, **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert re.search(r'data-testid="form-errors">\s*<div>' + message, html)
    assert 'data-testid="registration-form"' in html and 'value="' + (fields.get("phone") or "") + '"' in html
    assert written() == before


def test_a_duplicate_by_phone_or_email_is_refused_with_409_and_nothing_written(client, make_event, outbox):
    event = make_event()
    registrant_page(client, post_registration(client, event, name="张三", phone="13800000001", email="z@example.cn"))
    before = written()
    for fields in ({"name": "张三", "phone": "138-0000-0001"}, {"name": "张三丰", "email": "Z@example.cn"}):
        response = post_registration(client, event, **fields)
        assert response.status_code == 409
        assert "您已使用该手机号码或电子邮箱报名本活动" in response.get_data(as_text=True)
        assert written() == before
    assert len(outbox()) == 1  # the first registration's confirmation only


@pytest.mark.parametrize(("fields", "message"), [
    ({"starts_at": day_start(date(2020, 5, 1))}, "该活动已结束，报名已关闭"),
    ({"status": "held"}, "该活动未开放报名"),
    ({"status": "cancelled"}, "该活动未开放报名"),
    ({"registration_open": False}, "该活动报名已截止"),
])
def test_a_past_held_cancelled_or_closed_event_refuses_registration_with_409(client, make_event, fields, message):
    event = make_event(**fields)
    # The page shows no form then; a post sent anyway (an old tab) is refused the same way.
    token = csrf_token(client, "/academic-month/")
    response = client.post(f"/events/{event.id}/register", data={"csrf_token": token, "name": "张三",
                                                                   "phone": "13800000001"})
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert written() == (0, 0)


def test_a_draft_or_missing_event_cannot_be_registered_for(client, make_event):
    draft = make_event(status="draft")
    token = csrf_token(client, "/academic-month/")
    for event_id in (draft.id, draft.id + 1000):
        response = client.post(f"/events/{event_id}/register", data={"csrf_token": token, "name": "张三",
                                                                      "phone": "13800000001"})
        assert response.status_code == 404
    assert written() == (0, 0)


def test_a_post_without_the_csrf_token_is_refused(client, make_event):
    event = make_event()
    response = client.post(f"/events/{event.id}/register", data={"name": "张三", "phone": "13800000001"})
    assert response.status_code == 400
    assert written() == (0, 0)


@pytest.fixture()
def two_per_address(app):
    app.config["EVENT_REGISTRATION_IP_MAX"] = 2
    yield
    del app.config["EVENT_REGISTRATION_IP_MAX"]


def test_one_address_registers_a_limited_number_of_times(client, make_event, two_per_address):
    events = [make_event() for _ in range(3)]
    for number, event in enumerate(events[:2]):
        registrant_page(client, post_registration(client, event, name="张三", phone=f"1380000000{number}"))
    response = post_registration(client, events[2], name="张三", phone="13800000009")
    assert response.status_code == 429
    assert "您所在网络的报名次数过多" in response.get_data(as_text=True)
    assert written()[0] == 2
    # Another address is not held back.
    response = client.post(f"/events/{events[2].id}/register", environ_overrides={"REMOTE_ADDR": "10.0.0.2"},
                           data={"csrf_token": csrf_token(client, f"/events/{events[2].id}"), "name": "李四",
                                 "phone": "13800000010"})
    assert response.status_code == 302 and written()[0] == 3


def test_the_registration_throttle_counts_only_the_recent_past(app, make_event, two_per_address):
    from conference_app.core.db import utcnow
    from conference_app.events.services import registrations

    event = make_event()
    for number in range(2):
        registrations.register(event, {"name": "张三", "phone": f"1380000001{number}"}, ip_address="10.0.0.9")
    entries = db.session.scalars(select(AuditEntry)).all()
    for entry in entries:  # written outside a request, so without an address: give them one
        entry.ip_address = "10.0.0.9"
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        registrations.register(event, {"name": "张三", "phone": "13800000019"}, ip_address="10.0.0.9")
    assert refused.value.status == 429
    db.session.rollback()
    for entry in db.session.scalars(select(AuditEntry)):
        entry.created_at = utcnow() - timedelta(minutes=61)
    db.session.commit()
    registrations.register(event, {"name": "张三", "phone": "13800000019"}, ip_address="10.0.0.9")
    db.session.commit()
    assert written()[0] == 3
