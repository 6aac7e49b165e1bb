"""The public pages of report sessions: the list by edition, the published programme (the
release, never later draft edits) with its earlier versions, its ICS, Excel and PDF files,
404 for drafts; and the invitee's answer page (accept, decline, a tampered or expired link,
CSRF, the mailed link)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from io import BytesIO

import pypdfium2
import pytest
from icalendar import Calendar
from itsdangerous import TimestampSigner
from openpyxl import load_workbook
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import unit_of_work
from conference_app.core.excel import XLSX_MIMETYPE
from conference_app.core.timeutil import BEIJING
from conference_app.extensions import db
from conference_app.report_sessions.models import Invitation, InvitationStatus
from conference_app.report_sessions.services import invitations, publishing, sessions
from tests.app.core.test_query_counts import statements_for
from tests.app.helpers import csrf_token
from tests.app.report_sessions.conftest import add_talks, at, invite, make_session, ready_session


def publish(session, world):
    with unit_of_work():
        return publishing.publish(session, actor=world.organiser)


def get_page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture()
def published(world):
    """A published session: four talks from 09:00 (20 minutes each), a discussion, a guest."""
    session, speakers, guest = ready_session(world)
    publish(session, world)
    return session, speakers, guest


# --- the list ---------------------------------------------------------------------------------------


def test_the_list_shows_the_published_sessions_by_edition_not_the_drafts(client, world, published):
    session, _speakers, _guest = published
    draft = make_session(world, day_offset=8, title="尚未发布的报告会")
    html = get_page(client, "/report-sessions/")
    assert session.event.title_zh in html and draft.event.title_zh not in html
    assert f'href="/report-sessions/{session.id}"' in html
    section = html[html.index('data-testid="edition-29"'):]
    assert "4" in re.search(r'data-testid="report-session-counts">([^<]*)<', section).group(1)
    day = session.event.starts_at.astimezone(BEIJING)
    assert f"{day:%Y-%m-%d}" in section and "09:00–13:00" in section and "北京科学中心报告厅" in section


def test_the_list_is_empty_without_a_published_session_and_its_queries_do_not_grow(client, world):
    assert 'data-testid="no-report-sessions"' in get_page(client, "/report-sessions/")
    first, *_ = ready_session(world, day_offset=3, venue="第一报告厅")
    publish(first, world)
    one = statements_for(client, "/report-sessions/")
    second, *_ = ready_session(world, day_offset=9, venue="第二报告厅")
    publish(second, world)
    assert statements_for(client, "/report-sessions/") == one
    html = get_page(client, "/report-sessions/")
    assert html.index(first.event.title_zh) < html.index(second.event.title_zh)  # soonest first


# --- the programme ---------------------------------------------------------------------------------


def test_the_programme_shows_the_published_release_not_later_draft_edits(client, world, published):
    session, speakers, guest = published
    url = f"/report-sessions/{session.id}"
    html = get_page(client, url)
    assert session.event.title_zh in html and "前沿成果1：拓扑量子材料" in html
    assert all(f"王{n}首" in html for n in range(1, 5)) and "清华大学" in html
    assert "钱嘉宾" in html and "中国科学院" in html and "赵主持" in html
    assert "09:00–09:20" in html and "10:20–10:50" in html  # the discussion after the four talks
    assert f'href="/events/{session.event_id}#register"' in html
    # A draft edit after publishing: the public page keeps the release.
    first_talk = sessions.schedule(session)[0].slot
    with unit_of_work():
        sessions.update_slot(first_talk, {"title": "发布后修改的题目", "minutes": 30}, actor=world.organiser)
    html = get_page(client, url)
    assert "发布后修改的题目" not in html and "09:00–09:20" in html
    for export in (f"{url}.ics", f"{url}/programme.xlsx"):
        assert "发布后修改的题目".encode() not in client.get(export).data
    # Published again: version 2 shows, version 1 stays viewable, the changelog says what moved.
    publish(session, world)
    html = get_page(client, url)
    assert "发布后修改的题目" in html and "09:00–09:30" in html
    changelog = html[html.index('data-testid="changelog"'):]
    assert f'href="/report-sessions/{session.id}/versions/1"' in changelog
    release = changelog[changelog.index('data-testid="release-2"'):changelog.index('data-testid="release-1"')]
    assert "发布后修改的题目" in release and "09:30–09:50" in release  # the second talk moved
    old = get_page(client, f"{url}/versions/1")
    assert 'data-testid="old-version"' in old and "前沿成果1：拓扑量子材料" in old and "09:00–09:20" in old
    assert "发布后修改的题目" not in old[:old.index('data-testid="changelog"')]
    assert 'data-testid="old-version"' not in get_page(client, f"{url}/versions/2")
    get_page(client, f"{url}/versions/3", 404)


def test_a_draft_or_unknown_session_is_404_everywhere(client, world):
    session = make_session(world)
    add_talks(session, world, [1, 2])
    for base in (f"/report-sessions/{session.id}", "/report-sessions/987654"):
        for url in (base, f"{base}.ics", f"{base}/programme.xlsx", f"{base}/programme.pdf", f"{base}/versions/1"):
            assert client.get(url).status_code == 404, url
    assert client.get("/report-sessions/99999999999").status_code == 404


def test_the_ics_has_the_talks_at_their_beijing_times(client, world, published):
    session, _speakers, _guest = published
    response = client.get(f"/report-sessions/{session.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert b"TZID=Asia/Shanghai" in response.data
    calendar = Calendar.from_ical(response.data)
    assert [component["TZID"] for component in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    entries = calendar.walk("VEVENT")
    assert len(entries) == 5
    day = session.event.starts_at.astimezone(BEIJING).date()
    starts = [entry.decoded("dtstart") for entry in entries]
    assert starts == [at(day, 9), at(day, 9, 20), at(day, 9, 40), at(day, 10), at(day, 10, 20)]
    assert all(str(start.tzinfo) == "Asia/Shanghai" for start in starts)
    assert entries[0].decoded("dtend") == at(day, 9, 20)
    assert "前沿成果1：拓扑量子材料" in str(entries[0]["summary"]) and "王1首" in str(entries[0]["summary"])
    assert "北京科学中心报告厅" in str(entries[0]["location"])
    assert str(entries[0]["url"]) == f"http://127.0.0.1:5000/report-sessions/{session.id}"
    assert len({str(entry["uid"]) for entry in entries}) == 5
    assert all(int(entry["sequence"]) == 0 for entry in entries)


def test_the_excel_sheet_opens_with_the_timetable_and_people(client, world, published):
    session, _speakers, _guest = published
    response = client.get(f"/report-sessions/{session.id}/programme.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX_MIMETYPE
    workbook = load_workbook(BytesIO(response.data))
    assert workbook.sheetnames == ["学术报告会", "日程", "人员"]
    rows = list(workbook["日程"].iter_rows(values_only=True))
    assert len(rows) == 6 and rows[0][:3] == ("序号", "开始时间", "结束时间")
    day = session.event.starts_at.astimezone(BEIJING).date()
    assert rows[1][1] == at(day, 9).replace(tzinfo=None) and rows[1][6] == "王1首"
    people = {(row[0], row[1]) for row in workbook["人员"].iter_rows(min_row=2, values_only=True)}
    assert ("交流嘉宾", "钱嘉宾") in people and ("主持人", "赵主持") in people
    facts = dict(workbook["学术报告会"].iter_rows(min_row=2, values_only=True))
    assert facts["学术报告会"] == session.event.title_zh


def test_the_pdf_renders_the_chinese_title_and_speakers(client, world, published):
    session, _speakers, _guest = published
    response = client.get(f"/report-sessions/{session.id}/programme.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    document = pypdfium2.PdfDocument(response.data)
    text = squeezed("".join(page_.get_textpage().get_text_range() for page_ in document))
    assert squeezed(session.event.title_zh) in text
    assert all(f"王{n}首" in text for n in range(1, 5)) and "钱嘉宾" in text and "拓扑量子材料" in text


# --- the invitee's answer page ---------------------------------------------------------------------


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def state(invitation: Invitation) -> tuple:
    db.session.expire_all()
    row = db.session.get(Invitation, invitation.id)
    return row.status, row.attendance, row.answer_note


@pytest.fixture()
def invited(world):
    session = make_session(world)
    slot, = add_talks(session, world, [1])
    return invite(slot, world, email="wang@example.cn")


def answer(client, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def test_the_answer_page_shows_the_invitation_and_takes_an_acceptance_once(client, invited):
    url = f"/report-sessions/invitations/{invitations.invitation_token(invited)}"
    html = get_page(client, url)
    assert invited.session.event.title_zh in html and "前沿成果1：拓扑量子材料" in html
    assert "报告人" in html and "王1首" in html and 'data-testid="answer-form"' in html
    response = answer(client, url, {"attendance": "on_site", "note": "准时到场", "accept": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert state(invited) == (InvitationStatus.ACCEPTED, "on_site", "准时到场")
    entries = audit_count()
    again = answer(client, url, {"attendance": "on_site", "accept": "1"})
    assert again.status_code == 302 and audit_count() == entries  # the same answer changes nothing
    html = get_page(client, url)
    assert 'data-testid="invitation-attendance"' in html
    # Accepted: remote instead, then declining is still possible.
    answer(client, url, {"attendance": "remote", "accept": "1"})
    assert state(invited)[1] == "remote"
    answer(client, url, {"note": "临时出差", "decline": "1"})
    assert state(invited) == (InvitationStatus.DECLINED, None, "临时出差")
    assert 'data-testid="answer-form"' not in get_page(client, url)


def test_declining_and_accepting_without_saying_how_are_answered_on_the_page(client, invited):
    url = f"/report-sessions/invitations/{invitations.invitation_token(invited)}"
    refused = answer(client, url, {"accept": "1"})
    assert refused.status_code == 400 and "现场" in refused.get_data(as_text=True)
    assert state(invited)[0] == InvitationStatus.INVITED
    assert answer(client, url, {"note": "无法参加", "decline": "1"}).status_code == 302
    assert state(invited) == (InvitationStatus.DECLINED, None, "无法参加")


def test_a_tampered_link_is_404_and_changes_nothing(client, invited):
    token = invitations.invitation_token(invited)
    before, entries = state(invited), audit_count()
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), token + "x", "not-a-token"):
        url = f"/report-sessions/invitations/{bad}"
        response = client.get(url)
        assert response.status_code == 404 and "邀请链接无效" in response.get_data(as_text=True)
        assert client.post(url, data={"attendance": "on_site", "accept": "1"}).status_code in (400, 404)
    assert state(invited) == before and audit_count() == entries


def test_an_expired_link_is_a_chinese_410_page_and_changes_nothing(client, invited, monkeypatch):
    long_ago = int(time.time()) - (invitations.LINK_DAYS + 1) * 24 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: long_ago)
        old = invitations.invitation_token(invited)
    before, entries = state(invited), audit_count()
    url = f"/report-sessions/invitations/{old}"
    response = client.get(url)
    assert response.status_code == 410 and "该邀请链接已过期" in response.get_data(as_text=True)
    fresh = f"/report-sessions/invitations/{invitations.invitation_token(invited)}"
    posted = client.post(url, data={"csrf_token": csrf_token(client, fresh), "attendance": "on_site", "accept": "1"})
    assert posted.status_code == 410
    assert state(invited) == before and audit_count() == entries


def test_an_answer_after_the_deadline_is_refused_and_the_form_is_gone(client, invited):
    invited.deadline = invited.deadline - timedelta(days=invitations.DEFAULT_ANSWER_DAYS + 1)
    db.session.commit()
    url = f"/report-sessions/invitations/{invitations.invitation_token(invited)}"
    html = get_page(client, url)
    assert 'data-testid="invitation-late"' in html and 'data-testid="answer-form"' not in html
    refused = answer(client, url, {"attendance": "on_site", "accept": "1"})
    assert refused.status_code == 409 and state(invited)[0] == InvitationStatus.INVITED


def test_the_answer_form_needs_its_csrf_token(client, invited):
    url = f"/report-sessions/invitations/{invitations.invitation_token(invited)}"
    before, entries = state(invited), audit_count()
    assert client.post(url, data={"attendance": "on_site", "accept": "1"}).status_code == 400
    assert client.post(url, data={"csrf_token": "forged", "attendance": "on_site", "accept": "1"}).status_code == 400
    assert state(invited) == before and audit_count() == entries


def test_the_mailed_link_opens_the_answer_page(client, world, outbox):
    session = make_session(world)
    slot, = add_talks(session, world, [2])
    invitation = invite(slot, world, email="zhang@example.cn")
    message, = [message for message in outbox() if message["To"] == "zhang@example.cn"]
    link = re.search(r"http://127\.0\.0\.1:5000(/report-sessions/invitations/\S+)", message.get_content())
    assert link is not None and invitations.invitation_link(invitation).endswith(link.group(1))
    html = get_page(client, link.group(1))
    assert "前沿成果2：拓扑量子材料" in html and "王2首" in html
    assert client.get(link.group(1)).headers["Cache-Control"] == "no-store"
