"""Registration, the waiting list, check-in and the held-events facts, at the service level."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import utcnow
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.events.models import CheckIn, CheckInMethod, Registration, RegistrationStatus
from conference_app.events.services import checkins, facts, registrations
from conference_app.extensions import db
from conference_app.organisations.models import PastEvent

PEOPLE = [("张三", "13800000001"), ("李四", "13800000002"), ("王五", "13800000003")]


def sign_up(event, name, phone, **extra):
    registration = registrations.register(event, {"name": name, "phone": phone, **extra})
    db.session.commit()
    return registration


def test_beyond_capacity_is_waitlisted_and_promoted_in_order_when_a_place_frees(app, make_event, outbox):
    event = make_event(capacity=1)
    first = sign_up(event, *PEOPLE[0], email="zhang@example.cn")
    second = sign_up(event, *PEOPLE[1], email="li@example.cn")
    third = sign_up(event, *PEOPLE[2])
    assert [r.status for r in (first, second, third)] == ["confirmed", "waitlisted", "waitlisted"]
    registrations.cancel(first)
    db.session.commit()
    db.session.expire_all()
    assert [r.status for r in (first, second, third)] == ["cancelled", "confirmed", "waitlisted"]
    assert second.promoted_at is not None
    subjects = [(m["To"], m["Subject"]) for m in outbox()]
    assert ("li@example.cn", "首都学术平台 - 您已获得名额") in subjects or any(
        to == "li@example.cn" and "名额" in subject for to, subject in subjects)
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("registration.created") == 3
    assert "registration.cancelled" in actions and "registration.promoted" in actions


def test_a_bigger_capacity_promotes_the_waiting_list(app, make_event):
    from conference_app.events.services.events import update_event

    event = make_event(capacity=1)
    for person in PEOPLE:
        sign_up(event, *person)
    update_event(event, {"capacity": 3})
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(Registration.status == RegistrationStatus.CONFIRMED)) == 3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "张三", "phone": "1380000000"}, "11 位"),
        ({"name": "张三", "phone": "23800000001"}, "11 位"),
        ({"name": "张三", "email": "not-an-address"}, "有效的电子邮箱"),
        ({"name": "张三"}, "手机号码或电子邮箱"),
        ({"name": "  ", "phone": "13800000009"}, "请填写您的姓名"),
        ({"name": "张\x00三", "phone": "13800000009"}, "不允许的字符"),
    ],
)
def test_bad_contact_details_are_refused_and_nothing_is_written(app, make_event, fields, message):
    event = make_event()
    with pytest.raises(ServiceError, match=message):
        registrations.register(event, fields)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_a_duplicate_by_phone_or_email_is_refused_until_cancelled(app, make_event):
    event = make_event()
    first = sign_up(event, "张三", "138 0000 0001", email="Zhang@Example.cn")
    assert first.phone == "13800000001" and first.email == "zhang@example.cn"
    for duplicate in ({"name": "张三", "phone": "+86 13800000001"}, {"name": "张三", "email": "zhang@example.cn"}):
        with pytest.raises(ServiceError, match="已使用该手机号码或电子邮箱报名") as refused:
            registrations.register(event, duplicate)
        assert refused.value.status == 409
        db.session.rollback()
    registrations.cancel(first)
    db.session.commit()
    assert sign_up(event, "张三", "13800000001").status == "confirmed"  # a cancelled one does not count


def test_registration_is_closed_for_past_unpublished_and_closed_events(app, make_event):
    past = make_event(starts_at=utcnow() - timedelta(days=2))
    draft = make_event(status="draft")
    closed = make_event(registration_open=False)
    for event, message in ((past, "已结束"), (draft, "未开放报名"), (closed, "报名已截止")):
        with pytest.raises(ServiceError, match=message):
            registrations.register(event, {"name": "张三", "phone": "13800000001"})
        db.session.rollback()


def test_a_registration_link_names_its_registration_only(app, make_event):
    event = make_event()
    registration = sign_up(event, *PEOPLE[0])
    token = registrations.registration_token(registration)
    assert registrations.registration_for_token(token).id == registration.id
    with pytest.raises(ServiceError) as refused:
        registrations.registration_for_token(token[:-4] + "abcd")
    assert refused.value.status == 404


def test_check_in_counts_once_and_only_for_the_right_event_and_person(app, make_event, make_user):
    event, other = make_event(), make_event()
    staff = make_user(Role.STAFF)
    confirmed = sign_up(event, *PEOPLE[0])
    first = checkins.check_in(confirmed, actor=staff, method=CheckInMethod.SCAN, event=event)
    again = checkins.check_in(checkins.registration_by_code(confirmed.code.lower()), actor=staff,
                              method=CheckInMethod.SEARCH, event=event)
    db.session.commit()
    assert (first.status, first.checked_in, again.status, again.checked_in) == ("checked_in", 1, "already_checked_in", 1)
    assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 1
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "checkin.created")) == 1
    with pytest.raises(ServiceError, match="其他活动") as wrong_event:
        checkins.check_in(confirmed, actor=staff, method=CheckInMethod.SCAN, event=other)
    assert wrong_event.value.status == 409
    outsider = make_user(Role.SOCIETY)
    with pytest.raises(ServiceError) as not_theirs:
        checkins.check_in(confirmed, actor=outsider, method=CheckInMethod.SCAN)
    assert not_theirs.value.status == 403
    with pytest.raises(ServiceError) as unknown:
        checkins.registration_by_code("NOPE")
    assert unknown.value.status == 404


def test_a_host_society_checks_in_and_finds_people_by_name_or_phone(app, make_event, make_organisation, make_user):
    host = make_organisation()
    event = make_event(organisation=host)
    registration = sign_up(event, "赵六", "13900000006")
    member = make_user(Role.SOCIETY, organisation=host)
    assert [r.id for r in checkins.find_registrations(event, "赵")] == [registration.id]
    assert [r.id for r in checkins.find_registrations(event, "139 0000 0006")] == [registration.id]
    assert checkins.check_in(registration, actor=member, method=CheckInMethod.SEARCH).status == "checked_in"


def test_held_events_count_declared_and_platform_events_and_say_which(app, make_event, make_organisation):
    organisation = make_organisation()
    db.session.add(PastEvent(organisation=organisation, year=utcnow().year - 1, kind="international",
                             title="第十届国际力学会议", role="host"))
    db.session.commit()
    held = make_event(organisation=organisation, kind="international", title_zh="国际非线性力学论坛",
                      starts_at=utcnow() - timedelta(days=3))
    make_event(organisation=organisation, kind="international", title_zh="尚未举办的会议")  # in the future
    make_event(organisation=organisation, kind="international", title_zh="已取消的会议", status="cancelled",
               starts_at=utcnow() - timedelta(days=5))
    found = facts.held_events(organisation, kinds=["international"], since_year=utcnow().year - 3)
    assert [(h.source, h.title) for h in found] == [("platform", "国际非线性力学论坛"), ("declared", "第十届国际力学会议")]
    assert found[0].event_id == held.id and found[0].source_title == "通过平台举办"
    assert facts.held_events(organisation, kinds=["regional"]) == []
