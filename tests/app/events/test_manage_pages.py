"""The organisers' and staff pages of events: lists, recording and editing an event with its
organisations and programme, its state and filing, editions, registrations, and the
organisation page's events."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

from openpyxl import load_workbook
from sqlalchemy import select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import utcnow
from conference_app.events.models import AcademicMonthEdition, CheckInMethod, Event, RegistrationStatus
from conference_app.events.services import checkins
from conference_app.extensions import db
from conference_app.organisations.models import PastEvent
from tests.app.events.manage_helpers import (  # noqa: F401  (fixtures)
    event_form,
    person_form,
    post,
    row_counts,
    sign_up,
    society,
    staff,
)

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def workbook_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows()]


# --- creating and editing ----------------------------------------------------------------------


def test_a_society_records_an_event_with_its_organisation_as_host_in_beijing_time(client, society):
    form_page = client.get("/manage/events/new").get_data(as_text=True)
    assert f'<option selected value="{society.organisation.id}">' in form_page  # preselected as host
    organisations = [(society.organisation.id, "host"), (society.other.id, "co_host")]
    response = post(client, "/manage/events/new", event_form(organisations))
    assert response.status_code == 302
    event = db.session.scalar(select(Event))
    assert response.headers["Location"].endswith(f"/manage/events/{event.id}")
    assert event.status == "draft" and event.created_by_id == society.user.id
    assert event.starts_at == datetime(2026, 10, 15, 6, 0, tzinfo=timezone.utc)  # 14:00 in Beijing
    assert event.ends_at == datetime(2026, 10, 15, 9, 30, tzinfo=timezone.utc)
    assert (event.district, event.capacity, event.discipline) == ("haidian", 80, "information_science")
    assert sorted((link.organisation_id, link.role) for link in event.organisations) == sorted(organisations)
    assert actions() == ["event.created"]
    page = client.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert "人工智能与科学发现沙龙" in page and "2026-10-15 14:00" in page and "北京化学会" in page


def test_staff_record_an_event_for_any_approved_organisation(client, staff, make_organisation):
    host = make_organisation(name_zh="北京物理学会")
    data = event_form([(host.id, "host")], kind="international", in_beijing="", district="", city="天津",
                      capacity="")
    assert post(client, "/manage/events/new", data).status_code == 302
    event = db.session.scalar(select(Event))
    assert (event.kind, event.in_beijing, event.district, event.city, event.capacity) == (
        "international", False, None, "天津", None)


def test_editing_an_event_logs_what_changed_and_keeps_the_organisations(client, society, make_event):
    event = make_event(organisation=society.organisation, title_zh="旧标题")
    edit_page = client.get(f"/manage/events/{event.id}/edit")
    assert edit_page.status_code == 200 and "旧标题" in edit_page.get_data(as_text=True)
    data = event_form([(society.organisation.id, "host"), (society.other.id, "main_organiser")],
                      title_zh="新标题", capacity="120")
    assert post(client, f"/manage/events/{event.id}/edit", data).status_code == 302
    db.session.expire_all()
    assert (event.title_zh, event.capacity) == ("新标题", 120)
    assert {link.organisation_id: link.role for link in event.organisations} == {
        society.organisation.id: "host", society.other.id: "main_organiser"}
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [entry.action for entry in entries] == ["event.updated", "event.organisations_changed"]
    assert entries[0].details["changes"]["title_zh"] == ["旧标题", "新标题"]
    history = client.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert "旧标题 → 新标题" in history


def test_the_edit_form_shows_the_times_in_beijing(client, society, make_event):
    event = make_event(organisation=society.organisation, starts_at=datetime(2026, 10, 20, 1, 30, tzinfo=timezone.utc),
                       ends_at=datetime(2026, 10, 20, 4, 0, tzinfo=timezone.utc))
    page = client.get(f"/manage/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="2026-10-20T09:30"' in page and 'value="2026-10-20T12:00"' in page


# --- the programme -----------------------------------------------------------------------------


def test_people_are_added_edited_and_removed_on_the_management_page(client, society, make_event):
    event = make_event(organisation=society.organisation)
    url = f"/manage/events/{event.id}"
    assert post(client, f"{url}/people", person_form()).status_code == 302
    assert post(client, f"{url}/people", person_form(role="discussant", name="李研究员", is_leading_figure=None,
                                                     leading_reason="", talk_title="", talk_minutes="",
                                                     on_site=None)).status_code == 302
    db.session.expire_all()
    speaker, discussant = event.people
    assert (speaker.role, speaker.is_leading_figure, speaker.leading_reason, speaker.talk_minutes) == (
        "speaker", True, "中国科学院院士", 45)
    assert (discussant.role, discussant.on_site, discussant.talk_minutes) == ("discussant", False, None)
    page = client.get(url).get_data(as_text=True)
    assert "张院士" in page and "科学智能的前沿" in page and "远程" in page
    assert client.get(f"{url}/people/{speaker.id}/edit").status_code == 200
    assert post(client, f"{url}/people/{speaker.id}/edit", person_form(talk_minutes="30")).status_code == 302
    assert post(client, f"{url}/people/{discussant.id}/remove").status_code == 302
    db.session.expire_all()
    assert [(person.name, person.talk_minutes) for person in event.people] == [("张院士", 30)]
    assert actions() == ["event.person_added", "event.person_added", "event.person_updated", "event.person_removed"]


# --- states ------------------------------------------------------------------------------------


def test_the_state_buttons_publish_take_back_and_cancel_with_a_reason(client, society, make_event, outbox):
    event = make_event(organisation=society.organisation, status="draft")
    url = f"/manage/events/{event.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="transition-publish"' in page and 'data-testid="transition-reopen"' not in page
    assert post(client, f"{url}/publish").status_code == 302
    assert post(client, f"{url}/unpublish").status_code == 302
    assert post(client, f"{url}/publish").status_code == 302
    registration = sign_up(event, "张三", "13800000001")
    registration.email = "zhang@example.cn"
    db.session.commit()
    refused = post(client, f"{url}/cancel", {"comment": ""})
    assert refused.status_code == 400 and "请说明取消活动的原因" in refused.get_data(as_text=True)
    assert post(client, f"{url}/cancel", {"comment": "场地临时关闭"}).status_code == 302
    db.session.expire_all()
    assert event.status == "cancelled"
    assert any("取消" in message["Subject"] for message in outbox())
    # Reopening is for staff.
    assert post(client, f"{url}/reopen", {"comment": "改期"}).status_code == 403
    assert actions()[-1] == "event.cancelled"


def test_staff_reopen_and_an_event_is_marked_held_once_it_started(client, staff, make_event):
    event = make_event(status="cancelled", starts_at=utcnow() - timedelta(hours=3))
    url = f"/manage/events/{event.id}"
    assert post(client, f"{url}/reopen", {"comment": "改期后重新举办"}).status_code == 302
    assert post(client, f"{url}/publish").status_code == 302
    assert post(client, f"{url}/mark_held").status_code == 302
    db.session.expire_all()
    assert event.status == "held"
    upcoming = make_event()
    refused = post(client, f"/manage/events/{upcoming.id}/mark_held")
    assert refused.status_code == 409 and "活动开始后" in refused.get_data(as_text=True)


# --- the international-conference filing --------------------------------------------------------


def test_an_international_conference_is_filed_approved_with_its_document_and_withdrawn(client, society, make_event,
                                                                                      app):
    event = make_event(organisation=society.organisation, kind="international")
    url = f"/manage/events/{event.id}"
    assert 'data-testid="filing"' in client.get(url).get_data(as_text=True)
    assert post(client, f"{url}/filing/file").status_code == 302
    refused = post(client, f"{url}/filing/approve")
    assert refused.status_code == 409 and "请先上传批复文件" in refused.get_data(as_text=True)
    upload = post(client, f"{url}/filing/document", {"document": (io.BytesIO(PDF_BYTES), "批复.pdf")},
                  content_type="multipart/form-data")
    assert upload.status_code == 302
    assert post(client, f"{url}/filing/approve").status_code == 302
    db.session.expire_all()
    assert event.filing_status == "approved" and event.filing_approved_at is not None
    download = client.get(f"{url}/filing/document")
    assert download.status_code == 200 and download.data == PDF_BYTES
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert post(client, f"{url}/filing/withdraw", {"filing-comment": ""}).status_code == 400
    assert post(client, f"{url}/filing/withdraw", {"filing-comment": "会议取消报备"}).status_code == 302
    db.session.expire_all()
    assert (event.filing_status, event.filing_approved_at) == ("not_needed", None)
    assert actions() == ["event_filing.filed", "event_filing.document_uploaded", "event_filing.approved",
                         "event_filing.withdrawn"]


def test_other_events_have_no_filing_section(client, society, make_event):
    event = make_event(organisation=society.organisation, kind="national")
    assert 'data-testid="filing"' not in client.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert post(client, f"/manage/events/{event.id}/filing/file").status_code == 400


# --- lists and exports -------------------------------------------------------------------------


def test_the_staff_list_filters_counts_and_exports_with_its_filters(client, staff, make_event, make_organisation):
    chemistry = make_organisation(name_zh="北京化学会")
    salon = make_event(organisation=chemistry, title_zh="催化化学沙龙", discipline="chemistry", district="chaoyang")
    make_event(title_zh="全国力学大会", kind="national", status="draft")
    for number in range(3):
        sign_up(salon, f"参会者{number}", f"1380000000{number}")
    checkins.check_in(sign_up(salon, "签到者", "13900000009"), actor=staff, method=CheckInMethod.SEARCH)
    db.session.commit()
    page = client.get("/manage/events").get_data(as_text=True)
    assert "催化化学沙龙" in page and "全国力学大会" in page
    filtered = client.get(f"/manage/events?organisation={chemistry.id}&kind=salon_session&q=催化").get_data(as_text=True)
    assert "催化化学沙龙" in filtered and "全国力学大会" not in filtered
    assert "export.xlsx?" in filtered and f"organisation={chemistry.id}" in filtered
    for query in ("status=draft", "district=chaoyang", "discipline=chemistry", "q=北京化学会"):
        response = client.get(f"/manage/events?{query}").get_data(as_text=True)
        assert ("全国力学大会" in response) == (query == "status=draft"), query
    rows = workbook_rows(client.get("/manage/events/export.xlsx?q=催化"))
    header, row = rows
    assert header[0] == "中文名称" and "已签到" in header and len(rows) == 2
    values = dict(zip(header, row))
    assert values["中文名称"] == "催化化学沙龙" and values["已确认"] == 4 and values["已签到"] == 1
    assert "北京化学会" in values["主办/承办单位"]


def test_a_society_lists_and_exports_only_the_events_its_organisation_holds(client, society, make_event):
    make_event(organisation=society.organisation, title_zh="我们主办的沙龙")
    make_event(organisations=[(society.other, "host"), (society.organisation, "main_organiser")],
               title_zh="我们承办的会议")
    make_event(organisation=society.other, title_zh="别人的会议")
    page = client.get("/manage/our-events").get_data(as_text=True)
    assert "我们主办的沙龙" in page and "我们承办的会议" in page and "别人的会议" not in page
    # The organisation filter of the staff list is not offered, and is ignored when typed in.
    assert 'name="organisation"' not in page
    tampered = client.get(f"/manage/our-events?organisation={society.other.id}").get_data(as_text=True)
    assert "别人的会议" not in tampered and "我们主办的沙龙" in tampered
    titles = [row[0] for row in workbook_rows(client.get(f"/manage/our-events/export.xlsx?organisation={society.other.id}"))[1:]]
    assert sorted(titles) == ["我们主办的沙龙", "我们承办的会议"]
    assert client.get("/manage/events").status_code == 403


# --- editions ----------------------------------------------------------------------------------


def test_staff_add_and_edit_editions_and_events_follow_their_dates(client, staff, make_event):
    october = make_event(starts_at=datetime(2026, 10, 8, 2, 0, tzinfo=timezone.utc))
    december = make_event(starts_at=datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc))
    data = {"number": "29", "year": "2026", "starts_on": "2026-10-01", "ends_on": "2026-11-30"}
    assert post(client, "/manage/editions", data).status_code == 302
    edition = db.session.scalar(select(AcademicMonthEdition))
    assert (edition.number, edition.starts_on, edition.ends_on) == (29, date(2026, 10, 1), date(2026, 11, 30))
    db.session.expire_all()
    assert (october.edition_id, december.edition_id) == (edition.id, None)
    assert "第29届" in client.get("/manage/editions").get_data(as_text=True)
    edit = dict(data, ends_on="2026-12-31")
    assert post(client, f"/manage/editions/{edition.id}/edit", edit).status_code == 302
    db.session.expire_all()
    assert december.edition_id == edition.id
    assert actions() == ["edition.created", "edition.updated"]


def test_editions_are_for_staff(client, society):
    assert client.get("/manage/editions").status_code == 403


# --- registrations -----------------------------------------------------------------------------


def test_organisers_list_filter_export_and_cancel_registrations(client, society, make_event):
    event = make_event(organisation=society.organisation, capacity=1)
    first = sign_up(event, "张三", "13800000001")
    second = sign_up(event, "李四", "13800000002")
    url = f"/manage/events/{event.id}/registrations"
    page = client.get(url).get_data(as_text=True)
    assert "张三" in page and "李四" in page and first.code in page
    waiting = client.get(f"{url}?status=waitlisted").get_data(as_text=True)
    assert "李四" in waiting and "张三" not in waiting
    assert "张三" in client.get(f"{url}?q=13800000001").get_data(as_text=True)
    rows = workbook_rows(client.get(f"{url}/export.xlsx?status=confirmed"))
    assert [row[1] for row in rows[1:]] == ["张三"] and rows[0][0] == "签到码"
    refused = post(client, f"{url}/{first.id}/cancel", {"comment": ""})
    assert refused.status_code == 400 and "须填写意见" in refused.get_data(as_text=True)
    assert post(client, f"{url}/{first.id}/cancel", {"comment": "重复报名"}).status_code == 302
    db.session.expire_all()
    assert (first.status, second.status) == (RegistrationStatus.CANCELLED, RegistrationStatus.CONFIRMED)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.cancelled_by_organiser")).one()
    assert entry.comment == "重复报名"


# --- the organisation page -----------------------------------------------------------------------


def test_the_organisation_page_lists_declared_and_platform_events_and_upcoming_ones(client, society, make_event):
    db.session.add(PastEvent(organisation=society.organisation, year=2025, kind="international",
                             title="2025国际人工智能大会", role="host"))
    db.session.commit()
    make_event(organisation=society.organisation, title_zh="平台上举办的沙龙", status="held",
               starts_at=utcnow() - timedelta(days=30))
    make_event(organisation=society.organisation, title_zh="即将举办的沙龙")
    make_event(organisation=society.other, title_zh="别人的沙龙")
    page = client.get(f"/organisations/{society.organisation.id}").get_data(as_text=True)
    held = page[page.index('data-testid="held-events"'):page.index('data-testid="upcoming-events"')]
    assert "2025国际人工智能大会" in held and "单位填报" in held
    assert "平台上举办的沙龙" in held and "通过平台举办" in held
    upcoming = page[page.index('data-testid="upcoming-events"'):]
    assert "即将举办的沙龙" in upcoming and "别人的沙龙" not in page

