"""The organiser's pages of report sessions: they render for the project's society and for
staff, another society gets nothing, bad input is refused with the service's status and
message (in Chinese) and writes nothing, the timetable is reordered by the JSON endpoint, by
its form and by the move buttons, publishing is refused listing what is missing and then
allowed (and again after a change), and the session page's statements do not grow with its
talks, invitations and guests. A browser test drags a slot and moves one with the keyboard."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import unit_of_work
from conference_app.core.permissions import Role
from conference_app.core.timeutil import BEIJING, beijing_today
from conference_app.events.services import events as event_services
from conference_app.extensions import db
from conference_app.programs.models import Application
from conference_app.report_sessions.models import Invitation, ProgrammeVersion, ReportSession, Slot
from conference_app.report_sessions.services import invitations, publishing, sessions
from tests.app.conftest import DEFAULT_PASSWORD, log_in_session, screenshot
from tests.app.core.test_query_counts import counted_statements
from tests.app.helpers import csrf_token
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
    ready_session,
    result_candidate,
)

BASE = "/manage/report-sessions"


def page_url(session: ReportSession, rest: str = "") -> str:
    return f"{BASE}/{session.id}{rest}"


class Organiser:
    """A test client logged in as ``user``, posting with a CSRF token."""

    def __init__(self, client, user):
        self.client = client
        log_in_session(client, user)
        self.token = csrf_token(client, "/home")

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, **kwargs):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def post_json(self, url, payload):
        return self.client.post(url, json=payload, headers={"X-CSRFToken": self.token, "Accept": "application/json"})


def text(response) -> str:
    return response.get_data(as_text=True)


def audit_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def order_of(session: ReportSession) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(Slot.id).where(Slot.session_id == session.id)
                                   .order_by(Slot.position)))


def slot_times(html: str) -> list[str]:
    """The timetable's start times, in the page's order."""
    return re.findall(r"<span data-start>(\d\d:\d\d)</span>", html)


def other_society_project(world, make_organisation, make_user):
    """A second society with a funded category-F project of the same call, and its user."""
    society = make_organisation(name_zh="北京化学会")
    user = make_user(Role.SOCIETY, organisation=society, name="别家组织者")
    project = Application(call_id=world.project.call_id, category_id=world.project.category_id,
                          organisation_id=society.id, status="in_progress", project_name_zh="化学前沿报告会",
                          requested_fen=8_000_000)
    db.session.add(project)
    db.session.commit()
    return project, user


# --- the pages render -------------------------------------------------------------------------------


def test_the_pages_render_for_the_projects_society_and_for_staff(world, client, make_user):
    session, speakers, guest = ready_session(world)
    with unit_of_work():
        publishing.publish(session, actor=world.organiser)
    add_talks(session, world, [5])  # a talk without a speaker, for the invite page
    free_slot = session.slots[-1]
    for user in (world.organiser, world.staff):
        organiser = Organiser(client, user)
        listing = organiser.get(f"{BASE}/")
        assert listing.status_code == 200 and session.event.title_zh in text(listing)
        page = organiser.get(page_url(session))
        html = text(page)
        assert page.status_code == 200
        assert {"王1首", "张1通", "李1中", guest.name, "赵主持"} <= set(re.findall(r"[\u4e00-\u9fff\d]+", html))
        assert slot_times(html)[:2] == ["09:00", "09:20"]
        assert 'data-testid="version"' in html and "09:00" in html
        for rest in ("/edit", f"/slots/{free_slot.id}/invite", "/versions/1"):
            assert organiser.get(page_url(session, rest)).status_code == 200, rest
        assert organiser.get(f"{BASE}/new").status_code == 200
        # The navbar leads to the list.
        assert f'href="{BASE}/"' in text(organiser.get("/home"))
    # Staff: the month's warnings and the export; a society has neither.
    staff_list = text(Organiser(client, world.staff).get(f"{BASE}/?edition={world.edition.id}"))
    assert 'data-testid="month-warnings"' in staff_list
    workbook = load_workbook(io.BytesIO(client.get(f"{BASE}/export.xlsx").data))
    rows = list(workbook.active.values)
    assert rows[1][0] == session.event.title_zh and rows[1][8] == 5 and rows[1][9] == 4
    organiser = Organiser(client, world.organiser)
    assert 'data-testid="month-warnings"' not in text(organiser.get(f"{BASE}/"))
    assert organiser.get(f"{BASE}/export.xlsx").status_code == 403


def test_the_month_warnings_name_a_venue_booked_twice(world, client):
    make_session(world, title="上午场", hour=9, hours=3)
    make_session(world, title="重叠场", hour=10, hours=3)
    html = text(Organiser(client, world.staff).get(f"{BASE}/?edition={world.edition.id}"))
    assert 'data-testid="warning-venue_overlap"' in html and "上午场" in html and "重叠场" in html


def test_a_society_sees_and_changes_none_of_another_societys_sessions(world, client, make_organisation,
                                                                       make_user):
    session, speakers, _guest = ready_session(world)
    project, stranger = other_society_project(world, make_organisation, make_user)
    theirs = make_session(world, project=project, actor=stranger, title="化学前沿成果报告会", day_offset=9)
    slot = session.slots[0]
    before = audit_count()
    organiser = Organiser(client, stranger)
    listing = text(organiser.get(f"{BASE}/"))
    assert "化学前沿成果报告会" in listing and session.event.title_zh not in listing
    for rest in ("", "/edit", f"/slots/{slot.id}/invite", "/versions/1"):
        assert organiser.get(page_url(session, rest)).status_code == 403, rest
    for rest, data in (("/talks", {"candidate_id": result_candidate(world, 9).id, "minutes": "20"}),
                       ("/blocks", {"kind": "break", "minutes": "10"}), ("/publish", {}),
                       (f"/slots/{slot.id}", {"minutes": "30"}), (f"/slots/{slot.id}/move", {"direction": "down"}),
                       (f"/slots/{slot.id}/remove", {}), (f"/invitations/{speakers[0].id}/withdraw", {}),
                       (f"/invitations/{speakers[0].id}/renew", {}), ("/guests", {"name": "某", "email": "x@y.cn"})):
        assert organiser.post(page_url(session, rest), data).status_code == 403, rest
    assert organiser.post_json(page_url(session, "/slots/order"), {"slot_ids": order_of(session)[::-1]}
                               ).status_code == 403
    # Through its own session's address, another session's slot or invitation is not found.
    for rest in (f"/slots/{slot.id}/move", f"/invitations/{speakers[0].id}/renew"):
        assert organiser.post(page_url(theirs, rest), {"direction": "down"}).status_code == 404, rest
    assert organiser.get(page_url(theirs, f"/slots/{slot.id}/invite")).status_code == 404
    assert audit_count() == before


# --- starting and editing ------------------------------------------------------------------------------


def session_form(world, **overrides) -> dict:
    day = world.first_day + timedelta(days=3)
    data = {"project": str(world.project.id), "edition": str(world.edition.id), "panel": str(world.panel.id),
            "title_zh": "首都前沿学术成果报告会（物理学）", "title_en": "Frontier Results in Physics",
            "starts_at": f"{day.isoformat()}T14:00", "ends_at": f"{day.isoformat()}T17:30",
            "venue": "北京科学中心报告厅", "district": "xicheng", "mode": "offline", "online_url": "",
            "capacity": "150", "registration_open": "y", "description": "", "moderator_name": "周主持",
            "moderator_institution": "北京大学"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def session_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ReportSession))


def test_a_session_is_started_through_the_form(world, client, make_organisation):
    partner = make_organisation(name_zh="北京高校科协")
    organiser = Organiser(client, world.organiser)
    page = text(organiser.get(f"{BASE}/new"))
    assert world.project.project_name_zh in page and world.panel.name in page
    response = organiser.post(f"{BASE}/new", {**session_form(world), "co_hosts": [str(partner.id)]})
    assert response.status_code == 302
    session = db.session.scalar(select(ReportSession))
    assert response.headers["Location"].endswith(page_url(session))
    event = session.event
    assert (event.venue, event.district, event.capacity, session.moderator_name) == (
        "北京科学中心报告厅", "xicheng", 150, "周主持")
    assert event.starts_at.astimezone(BEIJING).strftime("%H:%M") == "14:00"
    assert [organisation.id for organisation in sessions.co_hosts(session)] == [partner.id]


@pytest.mark.parametrize(("overrides", "status", "message"), [
    ({"title_zh": ""}, 400, None),
    ({"starts_at": "tomorrow"}, 400, None),
    ({"project": "987654"}, 400, None),
    ({"panel": ""}, 400, None),
    ({"mode": "online"}, 400, "报告会须在北京线下举办"),
    ({"district": ""}, 400, None),
    ({"capacity": "-5"}, 400, None),
])
def test_starting_a_session_with_bad_input_is_refused_and_writes_nothing(world, client, overrides, status, message):
    organiser = Organiser(client, world.organiser)
    before = audit_count()
    response = organiser.post(f"{BASE}/new", session_form(world, **overrides))
    assert response.status_code == status
    assert 'data-testid="session-form"' in text(response)
    if message:
        assert message in text(response)
    assert session_count() == 0 and audit_count() == before


def test_a_society_without_a_report_session_project_cannot_start_one(world, client, make_user):
    stranger = make_user(Role.SOCIETY)
    organiser = Organiser(client, stranger)
    assert 'data-testid="no-project"' in text(organiser.get(f"{BASE}/new"))
    response = organiser.post(f"{BASE}/new", session_form(world))
    assert response.status_code == 400 and session_count() == 0


def test_editing_the_details_is_refused_when_someone_saved_meanwhile(world, client):
    session = make_session(world)
    organiser = Organiser(client, world.organiser)
    form = text(organiser.get(page_url(session, "/edit")))
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    event_version = re.search(r'name="event_version" type="hidden" value="(\d+)"', form).group(1)
    fields = session_form(world, venue="国家会议中心", moderator_name="钱主持", version=version,
                          event_version=event_version)
    for name in ("project", "edition", "panel"):
        fields.pop(name)
    response = organiser.post(page_url(session, "/edit"), fields)
    assert response.status_code == 302
    db.session.expire_all()
    assert (session.event.venue, session.moderator_name) == ("国家会议中心", "钱主持")
    # The same form posted again: the session's version moved on.
    stale = organiser.post(page_url(session, "/edit"), fields | {"venue": "又一处"})
    assert stale.status_code == 409 and "该记录已被他人修改" in text(stale)
    # A fresh form, but the event changed on the events' pages since it was opened.
    form = text(organiser.get(page_url(session, "/edit")))
    fields["version"] = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    with unit_of_work():
        event_services.update_event(session.event, {"capacity": 80})
    stale = organiser.post(page_url(session, "/edit"), fields | {"venue": "又一处"})
    assert stale.status_code == 409 and "该记录已被他人修改" in text(stale)
    db.session.expire_all()
    assert session.event.venue == "国家会议中心"


# --- the timetable -------------------------------------------------------------------------------------------


def test_the_timetable_is_reordered_by_the_json_endpoint_and_its_form(world, client):
    session = make_session(world)
    first, second, third = add_talks(session, world, [1, 2, 3])
    organiser = Organiser(client, world.organiser)
    response = organiser.post_json(page_url(session, "/slots/order"), {"slot_ids": [third.id, first.id, second.id]})
    assert response.status_code == 200
    assert [(slot["id"], slot["start"], slot["end"]) for slot in response.json["slots"]] == [
        (third.id, "09:00", "09:20"), (first.id, "09:20", "09:40"), (second.id, "09:40", "10:00")]
    assert order_of(session) == [third.id, first.id, second.id]
    assert db.session.scalar(select(AuditEntry).filter_by(action="report_session.slots_reordered"))
    # A list missing a slot (another organiser added one meanwhile) is refused, in Chinese.
    before = audit_count()
    refused = organiser.post_json(page_url(session, "/slots/order"), {"slot_ids": [first.id, second.id]})
    assert refused.status_code == 409 and "日程已被他人修改" in refused.json["error"]
    for payload in ({"slot_ids": "1,2,3"}, {"slot_ids": [first.id, "x", third.id]}, [first.id], {}):
        assert organiser.post_json(page_url(session, "/slots/order"), payload).status_code == 400, payload
    assert order_of(session) == [third.id, first.id, second.id] and audit_count() == before
    # Without the CSRF token nothing moves.
    no_token = client.post(page_url(session, "/slots/order"), json={"slot_ids": [first.id, second.id, third.id]})
    assert no_token.status_code == 400 and order_of(session) == [third.id, first.id, second.id]
    # The form's way: the page comes back with the times recomputed.
    response = organiser.post(page_url(session, "/slots/order"), {"slot_ids": [first.id, second.id, third.id]})
    assert response.status_code == 302 and order_of(session) == [first.id, second.id, third.id]


def test_the_move_buttons_reorder_without_javascript(world, client):
    session = make_session(world)
    first, second, third = add_talks(session, world, [1, 2, 3])
    with unit_of_work():
        sessions.update_slot(first, {"minutes": 30}, actor=world.organiser)
    organiser = Organiser(client, world.organiser)
    response = organiser.post(page_url(session, f"/slots/{third.id}/move"), {"direction": "up"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{page_url(session)}?moved=up#slot-{third.id}")
    assert order_of(session) == [first.id, third.id, second.id]
    html = text(organiser.get(page_url(session)))
    assert slot_times(html) == ["09:00", "09:30", "09:50"]
    assert html.index(f'id="slot-{third.id}"') < html.index(f'id="slot-{second.id}"')
    organiser.post(page_url(session, f"/slots/{first.id}/move"), {"direction": "down"})
    assert order_of(session) == [third.id, first.id, second.id]
    # The first slot cannot move further up: nothing changes, nothing is logged.
    before = audit_count()
    assert organiser.post(page_url(session, f"/slots/{third.id}/move"), {"direction": "up"}).status_code == 302
    refused = organiser.post(page_url(session, f"/slots/{third.id}/move"), {"direction": "sideways"})
    assert refused.status_code == 400 and 'data-testid="form-errors"' in text(refused)
    assert order_of(session) == [third.id, first.id, second.id] and audit_count() == before


def test_slots_are_added_changed_and_removed_and_refusals_say_why(world, client):
    session = make_session(world)
    (talk,) = add_talks(session, world, [1])
    invitation = invite(talk, world)
    organiser = Organiser(client, world.organiser)
    added = organiser.post(page_url(session, "/talks"), {"candidate_id": result_candidate(world, 2).id,
                                                          "minutes": "25"})
    assert added.status_code == 302
    assert organiser.post(page_url(session, "/blocks"), {"kind": "discussion", "minutes": "30",
                                                         "title": "与嘉宾对话"}).status_code == 302
    assert organiser.post(page_url(session, f"/slots/{talk.id}"), {"minutes": "15", "title": ""}).status_code == 302
    html = text(organiser.get(page_url(session)))
    assert slot_times(html) == ["09:00", "09:15", "09:40"] and "与嘉宾对话" in html
    before = audit_count()
    refusals = [
        (page_url(session, f"/slots/{talk.id}"), {"minutes": "0"}, 400, "每个环节时长为1至480分钟"),
        (page_url(session, f"/slots/{talk.id}"), {"minutes": "lots"}, 400, None),
        (page_url(session, f"/slots/{talk.id}/remove"), {}, 409, "请先撤回该报告的邀请"),
        (page_url(session, "/talks"), {"candidate_id": result_candidate(world, 2).id, "minutes": "20"}, 409,
         "该成果已在日程中安排了报告"),
        (page_url(session, "/talks"), {"candidate_id": "987654", "minutes": "20"}, 404, "这不是该专家组锁定的入选成果"),
        (page_url(session, "/blocks"), {"kind": "talk", "minutes": "20"}, 400, None),
    ]
    for url, data, status, message in refusals:
        response = organiser.post(url, data)
        assert response.status_code == status, (url, data, response.status_code)
        if message:
            assert message in text(response), message
    assert audit_count() == before and len(order_of(session)) == 3
    withdrawn = organiser.post(page_url(session, f"/invitations/{invitation.id}/withdraw"), {"comment": "调整"})
    assert withdrawn.status_code == 302
    assert organiser.post(page_url(session, f"/slots/{talk.id}/remove")).status_code == 302
    assert len(order_of(session)) == 2


# --- speakers and guests ----------------------------------------------------------------------------------


def test_speakers_are_invited_from_the_beijing_authors_and_their_invitations_followed(world, client, outbox):
    session = make_session(world)
    (talk,) = add_talks(session, world, [1])
    organiser = Organiser(client, world.organiser)
    form = text(organiser.get(page_url(session, f"/slots/{talk.id}/invite")))
    # First author, then the corresponding one, then the other Beijing author; the foreign one is not offered.
    assert form.index("王1首") < form.index("张1通") < form.index("李1中") and "Smith" not in form
    bad = organiser.post(page_url(session, f"/slots/{talk.id}/invite"), {"author_index": str(FIRST),
                                                                          "email": "not-an-address"})
    assert bad.status_code == 400 and "请填写有效的电子邮箱地址" in text(bad)
    response = organiser.post(page_url(session, f"/slots/{talk.id}/invite"), {
        "author_index": str(FIRST), "email": "wang@tsinghua.example.cn", "name": "王一首", "locale": "zh_CN"})
    assert response.status_code == 302
    invitation = db.session.scalar(select(Invitation))
    assert (invitation.name, invitation.author_index, invitation.institution) == ("王一首", FIRST, "清华大学")
    assert [message["To"] for message in outbox()] == ["wang@tsinghua.example.cn"]
    assert 'data-testid="talk-taken"' in text(organiser.get(page_url(session, f"/slots/{talk.id}/invite")))
    taken = organiser.post(page_url(session, f"/slots/{talk.id}/invite"), {"author_index": str(CORRESPONDING),
                                                                            "email": "zhang@iop.example.cn"})
    assert taken.status_code == 409 and "该报告已有待答复或已接受的邀请" in text(taken)
    # Remind, send a new link, withdraw; a step the state does not allow is a 409.
    nonce = invitation.token_nonce
    assert organiser.post(page_url(session, f"/invitations/{invitation.id}/remind")).status_code == 302
    assert organiser.post(page_url(session, f"/invitations/{invitation.id}/renew")).status_code == 302
    db.session.expire_all()
    assert invitation.reminders_sent == 1 and invitation.token_nonce != nonce and len(outbox()) == 3
    assert organiser.post(page_url(session, f"/invitations/{invitation.id}/withdraw"),
                          {"comment": "日程调整"}).status_code == 302
    db.session.expire_all()
    assert invitation.status == "withdrawn"
    refused = organiser.post(page_url(session, f"/invitations/{invitation.id}/remind"))
    assert refused.status_code == 409 and "只能提醒截止日期前尚未答复的邀请" in text(refused)
    # An invitation that expired without an answer is sent again with a new deadline.
    second = invite(talk, world, author=CORRESPONDING)
    second.deadline = beijing_today() - timedelta(days=1)
    db.session.commit()
    with unit_of_work():
        invitations.expire_overdue()
    deadline = beijing_today() + timedelta(days=5)
    response = organiser.post(page_url(session, f"/invitations/{second.id}/reinvite"),
                              {"deadline": deadline.isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    assert (second.status, second.deadline) == ("invited", deadline)


def test_a_declined_talk_suggests_the_next_author_then_the_next_result(world, client):
    session = make_session(world)
    (talk,) = add_talks(session, world, [1])
    organiser = Organiser(client, world.organiser)
    for author in (FIRST, CORRESPONDING):
        with unit_of_work():
            invitations.decline(invitations.invitation_token(invite(talk, world, author=author)))
        html = text(organiser.get(page_url(session)))
        assert 'data-testid="offer"' in html
    # After the first and the corresponding author, the other Beijing author, one click away.
    assert "李1中" in html and f"/slots/{talk.id}/invite?author={MIDDLE}" in html
    with unit_of_work():
        invitations.decline(invitations.invitation_token(invite(talk, world, author=MIDDLE)))
    html = text(organiser.get(page_url(session)))
    assert 'data-testid="offer-result"' in html
    response = organiser.post(page_url(session, f"/slots/{talk.id}/result"),
                              {"candidate_id": result_candidate(world, 2).id})
    assert response.status_code == 302
    db.session.expire_all()
    assert talk.candidate_id == result_candidate(world, 2).id
    # The talk's new result: its first author is suggested next.
    html = text(organiser.get(page_url(session)))
    assert 'data-testid="offer-invite"' in html and f"/slots/{talk.id}/invite?author={FIRST}" in html


def test_guests_are_invited_from_expert_accounts_or_typed_in(world, client, make_user, outbox):
    session = make_session(world)
    expert = make_user(Role.EXPERT, name="孙院士", email="sun@cas.example.cn")
    organiser = Organiser(client, world.organiser)
    assert "sun@cas.example.cn" in text(organiser.get(page_url(session)))
    assert organiser.post(page_url(session, "/guests"), {"user_id": str(expert.id)}).status_code == 302
    typed = {"name": "钱嘉宾", "email": "qian@pku.example.cn", "institution": "北京大学", "locale": "zh_CN"}
    assert organiser.post(page_url(session, "/guests"), typed).status_code == 302
    guests = list(db.session.scalars(select(Invitation).order_by(Invitation.id)))
    assert [(guest.name, guest.user_id, guest.role) for guest in guests] == [
        ("孙院士", expert.id, "guest"), ("钱嘉宾", None, "guest")]
    html = text(organiser.get(page_url(session)))
    assert html.count('data-testid="guest"') == 2
    before = audit_count()
    again = organiser.post(page_url(session, "/guests"), typed)
    assert again.status_code == 409 and "钱嘉宾" in text(again)
    assert organiser.post(page_url(session, "/guests"), {"email": "nobody@example.cn"}).status_code == 400
    assert organiser.post(page_url(session, "/guests"), {"user_id": str(world.staff.id)}).status_code == 400
    assert organiser.post(page_url(session, "/guests"), {"user_id": "987654"}).status_code == 400
    assert audit_count() == before and len(outbox()) == 2


# --- publishing -------------------------------------------------------------------------------------------


def test_publishing_is_refused_listing_what_is_missing_then_allowed_and_again_after_a_change(world, client, outbox):
    session, speakers, guest = ready_session(world, speakers=3)
    organiser = Organiser(client, world.organiser)
    html = text(organiser.get(page_url(session)))
    assert 'data-testid="missing"' in html and "还需1位同意现场报告的报告人" in html
    refused = organiser.post(page_url(session, "/publish"))
    assert refused.status_code == 409
    assert "日程暂不能发布" in text(refused) and "还需1位同意现场报告的报告人" in text(refused)
    assert db.session.scalar(select(func.count()).select_from(ProgrammeVersion)) == 0
    (fourth,) = add_talks(session, world, [4])
    accept(invite(fourth, world))
    html = text(organiser.get(page_url(session)))
    assert 'data-testid="missing"' not in html and 'data-testid="ready"' in html
    published = organiser.post(page_url(session, "/publish"))
    assert published.status_code == 302 and published.headers["Location"].endswith("#publishing")
    db.session.expire_all()
    assert session.status == "published" and [version.number for version in session.versions] == [1]
    html = text(organiser.get(page_url(session)))
    assert 'data-testid="up-to-date"' in html and 'data-testid="public-programme"' in html
    unchanged = organiser.post(page_url(session, "/publish"))
    assert unchanged.status_code == 409 and "未发生变化" in text(unchanged)
    # A change is listed as not yet published, then published as version 2; version 1 stays viewable.
    organiser.post(page_url(session, f"/slots/{fourth.id}"), {"minutes": "40"})
    html = text(organiser.get(page_url(session)))
    assert 'data-testid="pending-changes"' in html and 'data-testid="unpublished-changes"' in html
    assert organiser.post(page_url(session, "/publish")).status_code == 302
    db.session.expire_all()
    assert [version.number for version in session.versions] == [1, 2]
    first = text(organiser.get(page_url(session, "/versions/1")))
    assert session.event.title_zh in first and "王4首" in first
    assert organiser.get(page_url(session, "/versions/3")).status_code == 404


# --- no N+1 --------------------------------------------------------------------------------------------------


def statements_for(client, url: str) -> int:
    db.session.expire_all()
    with counted_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(statements)


def test_the_session_page_issues_the_same_statements_for_few_and_many_talks(world, client, make_user):
    session = make_session(world, hours=8)
    positions = iter(range(1, 21))
    declined = add_talks(session, world, [next(positions)])[0]
    with unit_of_work():
        invitations.decline(invitations.invitation_token(invite(declined, world)))
    experts = iter(make_user(Role.EXPERT) for _ in range(8))

    def grow(count: int) -> None:
        talks = add_talks(session, world, [next(positions) for _ in range(count)])
        for slot in talks[:-1]:
            accept(invite(slot, world))
        invite(talks[-1], world)  # waits for an answer
        with unit_of_work():
            sessions.add_block(session, "break", minutes=10, actor=world.organiser)
        accept(invite_guest(session, world, user=next(experts), name=None, email=None, institution=None))
        invite_guest(session, world)
        with unit_of_work():
            publishing.publish(session, actor=world.organiser)

    log_in_session(client, world.organiser)
    grow(5)
    few = statements_for(client, page_url(session))
    grow(9)
    many = statements_for(client, page_url(session))
    assert many == few, f"{few} statements with 6 talks, {many} with 15"


def test_the_list_issues_the_same_statements_for_few_and_many_sessions(world, client):
    def grow(count: int) -> None:
        for number in range(count):
            session = make_session(world, day_offset=number % 40)
            accept(invite(add_talks(session, world, [1])[0], world))
            accept(invite_guest(session, world))

    log_in_session(client, world.staff)
    grow(3)
    few = statements_for(client, f"{BASE}/")
    grow(12)
    many = statements_for(client, f"{BASE}/")
    assert many == few, f"{few} statements with 3 sessions, {many} with 15"


# --- in Chromium ----------------------------------------------------------------------------------------------


def seed_live(app) -> tuple[int, list[int]]:
    """In the live server's database: the report-session world, a session with three talks and
    a break; its id and its slots' ids in order."""
    from conference_app.accounts.models import User
    from conference_app.events.models import AcademicMonthEdition
    from conference_app.organisations.credit_code import make_credit_code
    from conference_app.organisations.models import Organisation
    from tests.app.programs.helpers import category, open_call
    from tests.app.report_sessions.conftest import locked_panel

    with app.app_context():
        call = open_call()
        society = Organisation(name_zh="中国物理学会北京分会", org_type="society", status="approved",
                               credit_code=make_credit_code("51110000500007777"))
        db.session.add(society)
        db.session.flush()
        organiser = User(email="organiser@physics.example.cn", name="组织者", role="society",
                         organisation_id=society.id)
        organiser.set_password(DEFAULT_PASSWORD)
        project = Application(call_id=call.id, category_id=category(call, "F").id, organisation_id=society.id,
                              status="in_progress", project_name_zh="首都前沿学术成果报告会（物理学）",
                              requested_fen=8_000_000)
        start = beijing_today() + timedelta(days=20)
        edition = AcademicMonthEdition(number=29, year=start.year, starts_on=start, ends_on=start + timedelta(days=50))
        db.session.add_all([organiser, project, edition])
        db.session.commit()
        panel = locked_panel()
        with unit_of_work():
            session = sessions.create_session(project, edition, panel, {
                "title_zh": "首都前沿学术成果报告会", "starts_at": at(start + timedelta(days=5), 9),
                "ends_at": at(start + timedelta(days=5), 12), "venue": "北京科学中心报告厅", "district": "haidian"},
                actor=organiser)
            results = sessions.speaker_candidates(session)
            for found in results[:3]:
                sessions.add_talk(session, found.candidate.id, minutes=20, actor=organiser)
            sessions.add_block(session, "break", minutes=10, actor=organiser)
        return session.id, [slot.id for slot in session.slots]


def live_order(app, session_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Slot.id).where(Slot.session_id == session_id).order_by(Slot.position)))


@pytest.mark.browser
def test_the_timetable_is_ordered_by_drag_and_drop_and_by_the_keyboard(live_server, page):
    from tests.app.organisations.test_journey_browser import log_in

    session_id, (first, second, third, pause) = seed_live(live_server.app)
    log_in(page, live_server.url, "organiser@physics.example.cn", DEFAULT_PASSWORD)
    page.wait_for_url("**/home")
    page.goto(f"{live_server.url}{BASE}/{session_id}#timetable")
    slots = page.get_by_test_id("timetable").locator("li[data-slot-id]")
    # Drag the third talk above the first: saved at once, times recomputed in place.
    slots.nth(2).drag_to(slots.nth(0), target_position={"x": 20, "y": 5})
    expect(page.locator("#timetable-status")).to_have_class(re.compile("alert-success"))
    assert live_order(live_server.app, session_id) == [third, first, second, pause]
    expect(page.locator(f"#slot-{third} [data-start]")).to_have_text("09:00")
    expect(page.locator(f"#slot-{second} [data-start]")).to_have_text("09:40")
    expect(page.locator(f"#slot-{third} [data-move=up]")).to_be_disabled()
    screenshot(page, "report-session-timetable-dragged")
    # The keyboard: the break's "move up" button, pressed twice with Enter (the focus stays on it).
    page.locator(f"#slot-{pause} [data-move=up]").focus()
    for _ in range(2):
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.endswith(f"/{session_id}?moved=up#slot-{pause}")
        expect(page.locator(f"#slot-{pause} [data-move=up]")).to_be_focused()
    assert live_order(live_server.app, session_id) == [third, pause, first, second]
    expect(page.locator(f"#slot-{first} [data-start]")).to_have_text("09:30")
    screenshot(page, "report-session-timetable-keyboard")


@pytest.mark.browser
def test_the_session_page_fits_a_phone(live_server, browser):
    from tests.app.organisations.test_journey_browser import log_in

    session_id, _slots = seed_live(live_server.app)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    try:
        log_in(page, live_server.url, "organiser@physics.example.cn", DEFAULT_PASSWORD)
        page.wait_for_url("**/home")
        for url, name in ((f"{BASE}/{session_id}", "report-session-page-phone"), (f"{BASE}/", "report-sessions-phone"),
                          (f"{BASE}/new", "report-session-new-phone")):
            page.goto(f"{live_server.url}{url}")
            # Nothing wider than the screen: the page does not scroll sideways.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
            screenshot(page, name)
    finally:
        context.close()
