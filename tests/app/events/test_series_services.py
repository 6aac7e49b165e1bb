"""Salon series at the service level: the series and its mechanism, topic proposals and the
committee's audited decisions, sessions with initiator and discussants, progress toward the
year's targets."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import utcnow
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import BEIJING
from conference_app.events.models import CheckInMethod, Event, PersonRole, SalonSeries
from conference_app.events.services import series as series_services
from conference_app.extensions import db
from tests.app.events.series_helpers import check_in_people, make_series, make_session, make_topic

SERIES_FIELDS = {
    "title_zh": "前沿交叉学术沙龙", "title_en": "Frontier salon", "year": 2026, "description": "跨学科交流",
    "topic_mechanism": "每季度向会员公开征集选题，选题委员会投票确定。", "committee": " 张明 \n\n李红\n",
    "venue": "北京科学中心", "district": "haidian", "sessions_target": 4, "person_times_target": 100,
}


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_a_society_starts_a_series_for_its_own_organisation_whatever_it_names(app, make_user, make_organisation):
    user = make_user(Role.SOCIETY)
    other = make_organisation()
    series = series_services.create_series(SERIES_FIELDS, creator=user, organisation_id=other.id)
    db.session.commit()
    assert series.organisation_id == user.organisation_id
    assert series_services.committee_members(series) == ["张明", "李红"]
    assert actions() == ["series.created"]


def test_staff_start_a_series_for_an_approved_organisation_only(app, make_user, make_organisation):
    staff = make_user(Role.STAFF)
    pending = make_organisation(status="pending")
    with pytest.raises(ServiceError, match="已审核通过的单位"):
        series_services.create_series(SERIES_FIELDS, creator=staff, organisation_id=pending.id)
    db.session.rollback()
    approved = make_organisation()
    assert series_services.create_series(SERIES_FIELDS, creator=staff, organisation_id=approved.id).id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title_zh": " "}, "请填写"),
        ({"topic_mechanism": ""}, "请填写"),
        ({"committee": "\n \n"}, "请填写"),
        ({"committee": "张" * 101}, "每行填写一位"),
        ({"year": 1999}, "2000 至 2100"),
        ({"sessions_target": 0}, "1 至 100"),
        ({"person_times_target": None}, "1 至 100000"),
        ({"district": "pudong"}, "北京市辖区"),
    ],
)
def test_bad_series_fields_are_refused(app, make_user, change, message):
    user = make_user(Role.SOCIETY)
    with pytest.raises(ServiceError, match=message):
        series_services.create_series(SERIES_FIELDS | change, creator=user)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SalonSeries)) == 0


def test_a_second_series_of_the_same_title_and_year_is_refused(app, make_user):
    user = make_user(Role.SOCIETY)
    series_services.create_series(SERIES_FIELDS, creator=user)
    db.session.commit()
    with pytest.raises(ServiceError, match="同名"):
        series_services.create_series(SERIES_FIELDS, creator=user)


def test_editing_a_series_logs_what_changed_and_keeps_its_year_once_it_has_sessions(app, make_user):
    user = make_user(Role.SOCIETY)
    series = series_services.create_series(SERIES_FIELDS, creator=user)
    db.session.commit()
    series_services.update_series(series, SERIES_FIELDS | {"venue": "中关村会议中心", "person_times_target": 150})
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "series.updated"))
    assert entry.details["changes"] == {"venue": ["北京科学中心", "中关村会议中心"], "person_times_target": [100, 150]}
    make_session(series, datetime(2026, 10, 10, 6, tzinfo=BEIJING))
    with pytest.raises(ServiceError, match="不能修改年份"):
        series_services.update_series(series, SERIES_FIELDS | {"year": 2027})


def test_members_and_staff_propose_topics_other_societies_may_not(app, make_user, make_organisation):
    series = make_series(make_organisation())
    member = make_user(Role.SOCIETY, organisation=series.organisation)
    staff, outsider = make_user(Role.STAFF), make_user(Role.SOCIETY)
    mine = series_services.propose_topic(series, {"title": "量子计算与密码", "rationale": "安全新挑战"}, proposer=member)
    on_behalf = series_services.propose_topic(series, {"title": "碳中和", "rationale": "政策热点",
                                                       "proposed_by": "王会员"}, proposer=staff)
    db.session.commit()
    assert (mine.proposed_by, mine.proposed_by_user_id, mine.status) == (member.name, member.id, "proposed")
    assert on_behalf.proposed_by == "王会员"
    with pytest.raises(ServiceError) as refused:
        series_services.propose_topic(series, {"title": "x", "rationale": "y"}, proposer=outsider)
    assert refused.value.status == 403
    with pytest.raises(ServiceError, match="理由"):
        series_services.propose_topic(series, {"title": "x", "rationale": " "}, proposer=member)


def test_the_committee_decision_is_recorded_with_its_members_time_and_note(app, make_user, make_organisation):
    series = make_series(make_organisation(), committee="张明\n李红\n赵强")
    member = make_user(Role.SOCIETY, organisation=series.organisation)
    chosen, declined = make_topic(series, status="proposed"), make_topic(series, status="proposed")
    series_services.decide_topic(chosen, "choose", actor=member, decided_by=["赵强", "张明"], note="三票赞成")
    series_services.decide_topic(declined, "decline", actor=member, decided_by=["李红"], note="与上期重复")
    db.session.commit()
    assert (chosen.status, chosen.decided_by, chosen.decision_note) == ("chosen", "张明、赵强", "三票赞成")
    assert declined.status == "declined" and declined.decided_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "topic.chosen"))
    assert (entry.from_state, entry.to_state, entry.details, entry.comment) == (
        "proposed", "chosen", {"decided_by": ["张明", "赵强"]}, "三票赞成")
    assert entry.actor_id == member.id


@pytest.mark.parametrize(
    ("decision", "decided_by", "note", "message"),
    [
        ("choose", [], None, "勾选"),
        ("choose", ["张明", "外人"], None, "委员会的成员"),
        ("decline", ["张明"], "", "未采纳该选题的原因"),
        ("maybe", ["张明"], None, "是否采纳"),
    ],
)
def test_a_decision_without_committee_members_or_reason_is_refused(app, make_user, make_organisation, decision,
                                                                   decided_by, note, message):
    series = make_series(make_organisation())
    topic = make_topic(series, status="proposed")
    with pytest.raises(ServiceError, match=message):
        series_services.decide_topic(topic, decision, actor=make_user(Role.STAFF), decided_by=decided_by, note=note)
    db.session.rollback()
    assert topic.status == "proposed"


def test_a_decided_topic_is_not_decided_again_and_is_reconsidered_only_without_sessions(app, make_user,
                                                                                         make_organisation):
    series = make_series(make_organisation())
    staff = make_user(Role.STAFF)
    topic = make_topic(series, status="proposed")
    series_services.decide_topic(topic, "choose", actor=staff, decided_by=["张明"])
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        series_services.decide_topic(topic, "decline", actor=staff, decided_by=["张明"], note="改变主意")
    assert refused.value.status == 409
    db.session.rollback()
    series_services.reconsider_topic(topic, actor=staff, comment="委员会要求复议")
    db.session.commit()
    assert (topic.status, topic.decided_by, topic.decided_at) == ("proposed", None, None)
    used = make_topic(series)
    make_session(series, utcnow() + timedelta(days=3), topic_id=used.id)
    db.session.expire_all()
    with pytest.raises(ServiceError, match="不能重新审议"):
        series_services.reconsider_topic(used, actor=staff, comment="复议")


def session_fields(topic, starts_at, **extra) -> dict:
    return {"topic_id": topic.id, "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=2), "mode": "offline",
            **extra}


def test_a_session_is_a_salon_session_event_on_a_chosen_topic_with_its_people(app, make_user, make_organisation):
    series = make_series(make_organisation(), year=2026)
    member = make_user(Role.SOCIETY, organisation=series.organisation)
    topic = make_topic(series, "人工智能与科学发现")
    starts_at = datetime(2026, 10, 12, 14, tzinfo=BEIJING)
    event = series_services.add_session(
        series, session_fields(topic, starts_at), creator=member,
        initiator={"name": "王教授", "organisation": "清华大学", "title": "教授"},
        discussants=series_services.people_from_lines("李华，北京大学，研究员\n赵六; 中科院\n\n孙七"), publish=True)
    db.session.commit()
    assert (event.kind, event.status, event.series_id, event.topic_id, event.core_topic) == (
        "salon_session", "published", series.id, topic.id, "人工智能与科学发现")
    assert (event.title_zh, event.venue, event.district) == (f"{series.title_zh}：人工智能与科学发现", series.venue,
                                                             "haidian")
    assert [(link.organisation_id, link.role) for link in event.organisations] == [(series.organisation_id, "host")]
    people = [(p.role, p.name, p.organisation, p.title) for p in event.people]
    assert people == [(PersonRole.INITIATOR, "王教授", "清华大学", "教授"),
                      (PersonRole.DISCUSSANT, "李华", "北京大学", "研究员"),
                      (PersonRole.DISCUSSANT, "赵六", "中科院", None), (PersonRole.DISCUSSANT, "孙七", None, None)]
    assert {"event.created", "series.session_added", "event.published"} <= set(actions())
    assert actions().count("event.person_added") == 4


@pytest.mark.parametrize(
    ("topic_status", "fields", "initiator", "discussants", "message"),
    [
        ("proposed", {}, {"name": "王"}, [{"name": "李"}], "委员会已确定的选题"),
        ("chosen", {}, {"name": " "}, [{"name": "李"}], "发起人"),
        ("chosen", {}, {"name": "王"}, [], "主要参与研讨人员"),
        ("chosen", {"starts_at": datetime(2027, 1, 5, 14, tzinfo=BEIJING)}, {"name": "王"}, [{"name": "李"}],
         "2026 年内"),
    ],
)
def test_a_session_without_chosen_topic_initiator_discussants_or_in_another_year_is_refused(
        app, make_user, make_organisation, topic_status, fields, initiator, discussants, message):
    series = make_series(make_organisation(), year=2026)
    topic = make_topic(series, status=topic_status)
    values = session_fields(topic, datetime(2026, 10, 12, 14, tzinfo=BEIJING)) | fields
    if "starts_at" in fields:
        values["ends_at"] = fields["starts_at"] + timedelta(hours=2)
    with pytest.raises(ServiceError, match=message):
        series_services.add_session(series, values, creator=make_user(Role.STAFF), initiator=initiator,
                                    discussants=discussants)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_another_society_may_not_add_sessions_nor_use_another_series_topic(app, make_user, make_organisation):
    series, other_series = make_series(make_organisation(), year=2026), make_series(make_organisation(), year=2026)
    outsider = make_user(Role.SOCIETY)
    starts_at = datetime(2026, 10, 12, 14, tzinfo=BEIJING)
    with pytest.raises(ServiceError) as refused:
        series_services.add_session(series, session_fields(make_topic(series), starts_at), creator=outsider,
                                    initiator={"name": "王"}, discussants=[{"name": "李"}])
    assert refused.value.status == 403
    with pytest.raises(ServiceError, match="委员会已确定的选题"):
        series_services.add_session(series, session_fields(make_topic(other_series), starts_at),
                                    creator=make_user(Role.STAFF), initiator={"name": "王"},
                                    discussants=[{"name": "李"}])


def test_progress_counts_held_sessions_and_person_times_of_published_and_held_sessions(app, make_organisation):
    series = make_series(make_organisation(), sessions_target=4, person_times_target=10)
    now = utcnow()
    past = make_session(series, now - timedelta(days=20))  # published and over: held
    marked = make_session(series, now - timedelta(days=10), status="held")
    upcoming = make_session(series, now + timedelta(days=10))
    cancelled = make_session(series, now - timedelta(days=5), status="cancelled")
    make_session(series, now + timedelta(days=20), status="draft")
    check_in_people(past, 3)
    check_in_people(marked, 2, method=CheckInMethod.IMPORT)
    check_in_people(upcoming, 1)
    check_in_people(cancelled, 7)  # never counts
    result = series_services.progress([series])[series.id]
    assert (result.sessions_recorded, result.sessions_held, result.sessions_target) == (3, 2, 4)
    assert (result.person_times.total, result.person_times.imported, result.person_times_target) == (6, 2, 10)
    assert (result.sessions_met, result.person_times_met, result.sessions_percent, result.person_times_percent) == (
        False, False, 50, 60)


def test_the_series_page_shows_public_sessions_and_decided_topics_to_visitors(app, make_organisation):
    series = make_series(make_organisation())
    now = utcnow()
    published = make_session(series, now + timedelta(days=1))
    make_session(series, now + timedelta(days=2), status="draft")
    check_in_people(published, 2)
    make_topic(series, "已确定")
    make_topic(series, "待定", status="proposed")
    public = series_services.series_page(series, manage=False)
    managed = series_services.series_page(series, manage=True)
    assert [line.event.id for line in public.sessions] == [published.id]
    assert [line.number for line in managed.sessions] == [1, 0]  # a draft has no number
    assert [p.title for p in public.proposals] == ["已确定"]
    assert [p.title for p in managed.proposals] == ["已确定", "待定"]
    assert public.chart["datasets"][0]["data"] == [2] and public.chart["datasets"][1]["data"] == [2]
    assert public.sessions[0].person_times.total == 2
    assert [p.name for p in public.sessions[0].discussants] == [p.name for p in published.people[1:]]


def test_the_list_shows_staff_everything_a_society_its_own_and_visitors_series_with_public_sessions(
        app, make_user, make_organisation):
    mine, other, hidden = (make_series(make_organisation()) for _ in range(3))
    make_session(other, utcnow() + timedelta(days=3))
    make_session(hidden, utcnow() + timedelta(days=3), status="draft")
    society = make_user(Role.SOCIETY, organisation=mine.organisation)

    def listed(viewer, **filters):
        return {series.id for series in db.session.scalars(series_services.series_query(viewer, **filters))}

    from flask_login import AnonymousUserMixin

    assert listed(make_user(Role.STAFF)) == {mine.id, other.id, hidden.id}
    assert listed(society) == {mine.id}
    assert listed(AnonymousUserMixin()) == {other.id}
    assert listed(make_user(Role.STAFF), search=other.title_zh[-3:]) == {other.id}
    assert listed(make_user(Role.STAFF), year=1999) == set()

