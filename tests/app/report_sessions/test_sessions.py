"""A report session is an event of its project; its speakers come from the locked results;
its timetable is ordered and timed; the month's warnings (acceptance 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import unit_of_work
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.events.models import EventKind, EventStatus
from conference_app.events.services.events import add_person, update_event
from conference_app.extensions import db
from conference_app.notifications.models import Notification
from conference_app.programs.models import Application, ProjectEvent
from conference_app.report_sessions.models import ReportSession
from conference_app.report_sessions.services import invitations, sessions
from conference_app.report_sessions.services.invitations import withdraw
from tests.app.core.test_query_counts import counted_statements
from tests.app.report_sessions.conftest import (
    CORRESPONDING,
    FIRST,
    MIDDLE,
    accept,
    add_talks,
    at,
    invite,
    invite_guest,
    make_session,
    result_candidate,
)


def test_a_session_is_a_draft_report_session_event_of_the_project(world, make_organisation):
    partner = make_organisation(name_zh="北京高校科协")
    with unit_of_work():
        session = sessions.create_session(
            world.project, world.edition, world.panel,
            {"title_zh": "首都前沿学术成果报告会", "starts_at": at(world.first_day, 9),
             "ends_at": at(world.first_day, 12), "venue": "北京科学中心", "district": "xicheng", "capacity": 150,
             "moderator_name": "赵主持"},
            co_hosts=[partner.id], actor=world.organiser)
    event = session.event
    assert (event.kind, event.status, event.in_beijing, event.capacity) == (EventKind.REPORT_SESSION,
                                                                          EventStatus.DRAFT, True, 150)
    assert event.edition_id == world.edition.id and event.discipline == "physics"
    assert [organisation.id for organisation in sessions.co_hosts(session)] == [partner.id]
    assert event.host_organisation_ids == {world.society.id, partner.id}
    # It counts for the project's indicators (events of kind report session).
    assert db.session.scalar(select(ProjectEvent).filter_by(application_id=world.project.id, event_id=event.id))
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"event.created", "report_session.created", "application.event_linked"} <= actions


def test_only_the_projects_society_and_staff_organise_and_only_on_site(world, make_user):
    stranger = make_user(Role.SOCIETY)
    fields = {"title_zh": "报告会", "starts_at": at(world.first_day, 9), "ends_at": at(world.first_day, 12),
              "venue": "北京科学中心", "district": "xicheng"}
    with pytest.raises(ServiceError) as refused:
        sessions.create_session(world.project, world.edition, world.panel, fields, actor=stranger)
    assert refused.value.status == 403
    with pytest.raises(ServiceError) as online:
        sessions.create_session(world.project, world.edition, world.panel, fields | {"mode": "online"},
                                actor=world.organiser)
    assert online.value.status == 400
    session = make_session(world, actor=world.staff)
    with pytest.raises(ServiceError) as other:
        sessions.add_talk(session, result_candidate(world, 1).id, actor=stranger)
    assert other.value.status == 403
    assert sessions.report_session_projects(world.organiser) == [world.project]
    assert sessions.report_session_projects(stranger) == []
    assert db.session.scalar(select(func.count()).select_from(ReportSession)) == 1


def test_sessions_come_from_funded_report_session_projects_and_locked_panels(world):
    fields = {"title_zh": "报告会", "starts_at": at(world.first_day, 9), "ends_at": at(world.first_day, 12),
              "venue": "北京科学中心", "district": "xicheng"}
    other_category = next(c for c in world.project.call.categories if c.code == "C")
    plain = Application(call_id=world.project.call_id, category_id=other_category.id,
                        organisation_id=world.society.id, status="in_progress", project_name_zh="品牌项目",
                        requested_fen=5_000_000)
    db.session.add(plain)
    db.session.commit()
    with pytest.raises(ServiceError) as wrong_category:
        sessions.create_session(plain, world.edition, world.panel, fields, actor=world.organiser)
    assert wrong_category.value.status == 409
    world.panel.status = "open"
    db.session.commit()
    with pytest.raises(ServiceError) as not_locked:
        sessions.create_session(world.project, world.edition, world.panel, fields, actor=world.organiser)
    assert not_locked.value.status == 409


def test_the_speakers_of_a_result_are_its_beijing_authors_first_and_corresponding_first(world):
    session = make_session(world)
    slot, = add_talks(session, world, [3])
    invite(slot, world, author=CORRESPONDING)
    found = sessions.speaker_candidates(session)
    assert [entry.result.position for entry in found] == list(range(1, 21))
    third = found[2]
    assert third.slot.id == slot.id and found[0].slot is None
    assert [(a.index, a.name, a.institutions, a.is_first, a.is_corresponding) for a in third.authors] == [
        (FIRST, "王3首", ("清华大学",), True, False),
        (CORRESPONDING, "张3通", ("中国科学院物理研究所",), False, True),
        (MIDDLE, "李3中", ("北京大学",), False, False)]  # Smith 3 of MIT is not a Beijing author
    assert [a.invitation is not None for a in third.authors] == [False, True, False]


def test_the_timetable_is_timed_from_the_start_and_reordered(world):
    session = make_session(world, hour=9)
    talks = add_talks(session, world, [1, 2], minutes=25)
    with unit_of_work():
        qa = sessions.add_block(session, "qa", minutes=10, actor=world.organiser)
        brk = sessions.add_block(session, "break", minutes=15, title="茶歇", actor=world.organiser)
    times = [(entry.title, f"{entry.starts_at.astimezone(at(world.first_day, 0).tzinfo):%H:%M}")
             for entry in sessions.schedule(session)]
    assert times == [("前沿成果1：拓扑量子材料", "09:00"), ("前沿成果2：拓扑量子材料", "09:25"),
                     (qa.kind.title, "09:50"), ("茶歇", "10:00")]
    with unit_of_work():
        sessions.move_slot(brk, -3, actor=world.organiser)  # the keyboard's "move up", three times
    with unit_of_work():
        sessions.reorder_slots(session, [brk.id, talks[1].id, talks[0].id, qa.id], actor=world.organiser)
    with unit_of_work():
        sessions.update_slot(talks[1], {"minutes": 30}, actor=world.organiser)
    assert [(entry.slot.id, f"{entry.starts_at.astimezone(at(world.first_day, 0).tzinfo):%H:%M}")
            for entry in sessions.schedule(session)] == [
        (brk.id, "09:00"), (talks[1].id, "09:15"), (talks[0].id, "09:45"), (qa.id, "10:10")]
    with pytest.raises(ServiceError) as stale:
        sessions.reorder_slots(session, [brk.id, talks[0].id], actor=world.organiser)
    assert stale.value.status == 409
    with pytest.raises(ServiceError):
        sessions.add_talk(session, result_candidate(world, 1).id, actor=world.organiser)  # a result talks once
    with pytest.raises(ServiceError):
        sessions.add_block(session, "qa", minutes=0, actor=world.organiser)
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("report_session.slot%"))))
    assert actions.count("report_session.slot_added") == 4 and "report_session.slots_reordered" in actions


def test_a_talk_with_an_invitation_is_removed_only_once_it_is_withdrawn(world):
    session = make_session(world)
    slot, = add_talks(session, world, [1])
    invitation = invite(slot, world)
    with pytest.raises(ServiceError) as held:
        sessions.remove_slot(slot, actor=world.organiser)
    assert held.value.status == 409
    with unit_of_work():
        withdraw(invitation, actor=world.organiser)
        sessions.remove_slot(slot, actor=world.organiser)
    assert session.slots == []


# --- acceptance 2: the month's warnings -----------------------------------------------------------------


def codes(warnings) -> list[str]:
    return sorted(warning.code for warning in warnings)


def test_a_speaker_accepted_in_two_overlapping_sessions_is_flagged(world):
    morning = make_session(world, hour=9, hours=4, venue="北京科学中心报告厅", title="上午场")
    noon = make_session(world, hour=12, hours=3, venue="北京大学英杰交流中心", title="中午场", moderator=None)
    for session, email in ((morning, "wang@example.cn"), (noon, "wang.3@example.cn")):
        slot, = add_talks(session, world, [3])
        accept(invite(slot, world, author=FIRST, email=email))  # 王3首 of 清华大学 in both
    with force_locale("en"):
        warnings = sessions.session_warnings(morning)
    assert codes(warnings) == ["person_overlap"]
    assert warnings[0].event_ids == (morning.event_id, noon.event_id)
    assert "王3首 (清华大学)" in warnings[0].message and "中午场" in warnings[0].message
    assert "matched by name and institution" in warnings[0].message
    # Not overlapping: another day, no warning.
    later = make_session(world, day_offset=6, hour=9, title="次日场", moderator=None)
    slot, = add_talks(later, world, [3])
    accept(invite(slot, world, author=FIRST, email="wang.later@example.cn"))
    assert sessions.session_warnings(later) == []


def test_an_expert_guest_in_two_overlapping_sessions_is_matched_by_account(world, make_user):
    expert = make_user(Role.EXPERT, name="周院士")
    first = make_session(world, hour=9, venue="甲厅", moderator=None)
    second = make_session(world, hour=10, venue="乙厅", moderator=None)
    accept(invite_guest(first, world, user=expert, name=None, email=None, institution="中国科学院"))
    accept(invite_guest(second, world, user=expert, name=None, email=None, institution="Chinese Academy of Sciences"))
    with force_locale("en"):
        warnings = sessions.session_warnings(second)
    assert codes(warnings) == ["person_overlap"] and "matched by account" in warnings[0].message
    # An expert with an account finds the invitations in the platform too.
    assert db.session.scalar(select(func.count()).select_from(Notification).filter_by(user_id=expert.id)) == 2


def test_two_sessions_in_one_room_at_one_time_are_flagged(world, make_event):
    first = make_session(world, hour=9, venue="北京科学中心报告厅", moderator=None)
    second = make_session(world, hour=11, venue="北京科学中心 报告厅", moderator=None)
    with force_locale("en"):
        warnings = sessions.session_warnings(first)
    assert codes(warnings) == ["venue_overlap"]
    assert "is booked by" in warnings[0].message and second.event.title_zh in warnings[0].message
    # Another society's published event in that room counts; its draft does not.
    day = world.first_day + timedelta(days=5)
    make_event(title_zh="学术沙龙", starts_at=at(day, 10), ends_at=at(day, 11), venue="北京科学中心报告厅",
               district="haidian")
    make_event(title_zh="未发布的沙龙", status="draft", starts_at=at(day, 10), ends_at=at(day, 11),
               venue="北京科学中心报告厅", district="haidian")
    warnings = sessions.session_warnings(first)
    assert codes(warnings) == ["venue_overlap", "venue_overlap"]
    assert not any("未发布的沙龙" in warning.message for warning in warnings)
    month = sessions.edition_warnings(world.edition)
    assert codes(month) == ["venue_overlap"] * 2  # first-second, first-salon (the salon ends as second starts)


def test_a_session_outside_the_editions_dates_is_flagged(world):
    inside = make_session(world, day_offset=0, moderator=None)
    outside = make_session(world, day_offset=-2, venue="别处", moderator=None)
    assert sessions.session_warnings(inside) == []
    with force_locale("en"):
        warnings = sessions.session_warnings(outside)
    assert codes(warnings) == ["outside_edition"] and "Academic Month 29" in warnings[0].message
    assert codes(sessions.edition_warnings(world.edition)) == ["outside_edition"]


def test_a_timetable_longer_than_the_session_is_flagged(world):
    session = make_session(world, hour=9, hours=1, moderator=None)
    add_talks(session, world, [1, 2, 3], minutes=25)
    with force_locale("en"):
        warnings = sessions.session_warnings(session)
    assert codes(warnings) == ["runs_over"] and "ends at" in warnings[0].message


def test_a_person_on_another_published_event_at_the_same_time_is_flagged(world, make_event):
    session = make_session(world, hour=9, moderator="刘教授")
    session.moderator_institution = "清华大学"
    day = world.first_day + timedelta(days=5)
    salon = make_event(title_zh="同时的沙龙", starts_at=at(day, 10), ends_at=at(day, 12), venue="别处")
    add_person(salon, {"role": "speaker", "name": "刘教授", "organisation": "清华大学"})
    db.session.commit()
    assert codes(sessions.session_warnings(session)) == ["person_overlap"]


def test_the_session_is_edited_through_its_event_and_listed(world, make_organisation):
    session = make_session(world)
    partner = make_organisation(name_zh="北京期刊协会")
    with unit_of_work():
        changes = sessions.update_session(session, {"venue": "国家会议中心", "capacity": 300,
                                                    "moderator_name": "孙主持"}, actor=world.organiser)
    assert changes["venue"][1] == "国家会议中心" and changes["moderator_name"] == ["赵主持", "孙主持"]
    assert session.event.capacity == 300
    with unit_of_work():
        sessions.set_co_hosts(session, [partner.id], actor=world.organiser)
    assert sessions.co_hosts(session) == [partner]
    with pytest.raises(ServiceError):
        sessions.set_co_hosts(session, [world.society.id], actor=world.organiser)
    with pytest.raises(ServiceError):
        sessions.update_session(session, {"mode": "online"}, actor=world.organiser)
    db.session.rollback()
    listed = db.session.scalars(sessions.session_query(organisation_id=world.society.id)).all()
    assert listed == [session] and sessions.published_sessions() == []
    assert db.session.scalars(sessions.session_query(status="published")).all() == []


@pytest.mark.parametrize("change", [{"kind": "salon_session"}, {"in_beijing": False, "city": "天津"}, {"mode": "online"}])
def test_the_events_pages_cannot_turn_a_sessions_event_into_another_kind_or_take_it_online(world, make_event, change):
    session = make_session(world)
    event = session.event
    with pytest.raises(ServiceError) as refused:
        update_event(event, change)
    assert refused.value.status == 409 and "报告会" in refused.value.message
    db.session.rollback()
    assert db.session.get(type(event), event.id).kind == EventKind.REPORT_SESSION
    other = make_event(kind=EventKind.REPORT_SESSION)  # a report-session event of no session may change
    with unit_of_work():
        update_event(other, {"kind": "salon_session"})
    assert other.kind == "salon_session"
    with unit_of_work():
        update_event(event, {"venue": "国家会议中心"})
    assert event.venue == "国家会议中心"


def test_the_timetable_and_the_speakers_are_read_in_statements_that_do_not_grow(world):
    def statements(session) -> int:
        db.session.expire_all()
        session = db.session.get(ReportSession, session.id)
        with counted_statements() as sent:
            sessions.schedule(session)
            sessions.speaker_candidates(session)
        return len(sent)

    few, many = make_session(world), make_session(world, venue="另一处")
    for invitation in [invite(slot, world) for slot in add_talks(few, world, [1, 2])]:
        accept(invitation)
    for invitation in [invite(slot, world) for slot in add_talks(many, world, range(1, 11))]:
        accept(invitation)
    assert statements(few) == statements(many)


def test_a_sessions_slots_invitations_and_versions_are_found_only_through_it(world):
    first, second = make_session(world), make_session(world, venue="另一处")
    slot, = add_talks(first, world, [1])
    invitation = invite(slot, world)
    assert sessions.slot_of(first, slot.id) is slot
    assert invitations.invitation_of(first, invitation.id) is invitation
    for lookup in (lambda: sessions.slot_of(second, slot.id), lambda: invitations.invitation_of(second, invitation.id),
                   lambda: sessions.version_of(first, 1), lambda: sessions.locked_result(first, 10**6)):
        with pytest.raises(ServiceError) as missing:
            lookup()
        assert missing.value.status == 404
    assert sessions.locked_panels() == [world.panel]
