"""Bad input on every form of the management pages: a clear Chinese message, never a 500,
and nothing written (no event, link, person, audit entry or file)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from conference_app.events.models import AcademicMonthEdition
from conference_app.extensions import db
from tests.app.events.manage_helpers import (  # noqa: F401  (fixtures)
    event_form,
    person_form,
    post,
    row_counts,
    society,
    staff,
)

EVENT_CASES = {
    "end before start": ({"ends_at": "2026-10-15T13:00"}, "结束时间须晚于开始时间"),
    "end equal to start": ({"ends_at": "2026-10-15T14:00"}, "结束时间须晚于开始时间"),
    "longer than a month": ({"ends_at": "2026-12-15T14:00"}, "单个活动最长一个月"),
    "no start": ({"starts_at": ""}, "请填写活动开始的日期和时间"),
    "start not a time": ({"starts_at": "下周三"}, "不是有效的日期与时间值"),
    "capacity not a number": ({"capacity": "八十"}, "不是有效的整数"),
    "district missing in Beijing": ({"district": ""}, "请选择活动所在的北京市辖区"),
    "unknown district": ({"district": "pudong"}, "请选择活动所在的北京市辖区"),
    "city missing outside Beijing": ({"in_beijing": None, "district": "", "city": ""}, "请填写活动所在城市"),
    "capacity 0": ({"capacity": "0"}, "名额须为 1 至"),
    "capacity negative": ({"capacity": "-5"}, "名额须为 1 至"),
    "capacity too large": ({"capacity": "100001"}, "名额须为 1 至"),
    "empty title": ({"title_zh": "   "}, "请填写活动的中文名称"),
    "title too long": ({"title_zh": "长" * 301}, "最多 300 个字符"),
    "control character": ({"venue": "报告厅\x00"}, "含有不允许的字符"),
    "unknown kind": ({"kind": "party"}, "请选择活动类别"),
    "unknown format": ({"mode": "telepathy"}, "请选择活动形式"),
    "unknown discipline": ({"discipline": "alchemy"}, "请从列表中选择学科"),
}


@pytest.mark.parametrize("case", EVENT_CASES)
def test_a_bad_event_form_is_refused_with_a_chinese_message(client, society, case):
    fields, message = EVENT_CASES[case]
    before = row_counts()
    response = post(client, "/manage/events/new", event_form([(society.organisation.id, "host")], **fields))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts() == before


ORGANISATION_CASES = {
    "no host": ([("ours", "co_host")], "活动至少需要一个主办单位"),
    "the same organisation twice": ([("ours", "host"), ("ours", "co_host")], "每个单位只能填写一次"),
    "a pending organisation": ([("ours", "host"), ("pending", "co_host")], "只有审核通过的单位才能举办活动"),
    "an unknown organisation": ([("ours", "host"), (987654, "co_host")], "只有审核通过的单位才能举办活动"),
    "an unknown role": ([("ours", "sponsor")], "请选择每个单位的角色"),
}


@pytest.mark.parametrize("case", ORGANISATION_CASES)
def test_bad_organisation_rows_are_refused(client, society, make_organisation, case):
    pending = make_organisation(status="pending")
    ids = {"ours": society.organisation.id, "pending": pending.id}
    rows, message = ORGANISATION_CASES[case]
    before = row_counts()
    response = post(client, "/manage/events/new", event_form([(ids.get(org, org), role) for org, role in rows]))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts() == before


def test_a_bad_edit_changes_nothing(client, society, make_event):
    event = make_event(organisation=society.organisation, title_zh="原标题", capacity=50)
    before = row_counts()
    data = event_form([(society.organisation.id, "host")], title_zh="新标题", capacity="0")
    response = post(client, f"/manage/events/{event.id}/edit", data)
    assert response.status_code == 400 and "名额须为 1 至" in response.get_data(as_text=True)
    # The organisations are checked after the fields: a bad row rolls the good fields back too.
    data = event_form([(society.organisation.id, "co_host")], title_zh="新标题")
    response = post(client, f"/manage/events/{event.id}/edit", data)
    assert response.status_code == 400 and "活动至少需要一个主办单位" in response.get_data(as_text=True)
    assert row_counts() == before
    db.session.expire_all()
    assert (event.title_zh, event.capacity) == ("原标题", 50)


PERSON_CASES = {
    "a leading figure without a reason": ({"leading_reason": ""}, "请说明该报告人为学科或行业领军人物的理由"),
    "no name": ({"name": ""}, "请填写姓名"),
    "talk of 0 minutes": ({"talk_minutes": "0"}, "报告时长须为 1 至"),
    "talk of two days": ({"talk_minutes": "2880"}, "报告时长须为 1 至"),
    "an unknown role": ({"role": "magician"}, "请选择该人员在日程中的角色"),
    "name too long": ({"name": "名" * 101}, "最多 100 个字符"),
}


@pytest.mark.parametrize("case", PERSON_CASES)
def test_a_bad_person_is_refused(client, society, make_event, case):
    event = make_event(organisation=society.organisation)
    fields, message = PERSON_CASES[case]
    before = row_counts()
    response = post(client, f"/manage/events/{event.id}/people", person_form(**fields))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts() == before


def test_a_bad_edit_of_a_person_changes_nothing(client, society, make_event):
    event = make_event(organisation=society.organisation)
    assert post(client, f"/manage/events/{event.id}/people", person_form()).status_code == 302
    person = event.people[0]
    before = row_counts()
    response = post(client, f"/manage/events/{event.id}/people/{person.id}/edit",
                    person_form(name="改名", leading_reason=""))
    assert response.status_code == 400 and "领军人物的理由" in response.get_data(as_text=True)
    assert row_counts() == before
    db.session.expire_all()
    assert person.name == "张院士"


DOCUMENT_CASES = {
    "a text file renamed .pdf": (b"This is not a PDF at all, only text.\n" * 20, "批复.pdf", "文件类型不符合要求"),
    "a Word file renamed .pdf": (b"PK\x03\x04" + b"\x00" * 200, "批复.pdf", "文件类型不符合要求"),
    "an empty file": (b"", "批复.pdf", "文件为空"),
    "no file": (None, None, "请选择文件"),
}


def kept_files(app) -> set[Path]:
    """The files under UPLOAD_DIR (the folder lives as long as the test session)."""
    return {path for path in Path(app.config["UPLOAD_DIR"]).rglob("*") if path.is_file()}


@pytest.mark.parametrize("case", DOCUMENT_CASES)
def test_a_bad_approval_document_is_refused_and_no_file_is_kept(client, society, make_event, app, case):
    event = make_event(organisation=society.organisation, kind="international")
    content, name, message = DOCUMENT_CASES[case]
    data = {"document": (io.BytesIO(content), name)} if content is not None else {}
    before, files_before = row_counts(), kept_files(app)
    response = post(client, f"/manage/events/{event.id}/filing/document", data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts() == before
    db.session.expire_all()
    assert event.filing_document_path is None
    assert kept_files(app) == files_before


def test_a_document_for_an_event_that_is_not_international_is_refused(client, society, make_event):
    event = make_event(organisation=society.organisation, kind="national")
    pdf = b"%PDF-1.4\n%%EOF\n"
    response = post(client, f"/manage/events/{event.id}/filing/document", {"document": (io.BytesIO(pdf), "a.pdf")},
                    content_type="multipart/form-data")
    assert response.status_code == 400 and "只有国际学术会议需要报备审批" in response.get_data(as_text=True)


EDITION_CASES = {
    "last day before the first": ({"ends_on": "2026-09-30"}, "结束日期不能早于开始日期"),
    "first day outside the year": ({"year": "2025"}, "开始日期须在该届次的年份内"),
    "a number taken": ({"number": "28", "starts_on": "2027-10-01", "ends_on": "2027-11-30", "year": "2027"},
                       "第 28 届已存在"),
    "overlapping dates": ({"starts_on": "2025-11-15", "year": "2025"}, "该日期与第 28 届重叠"),
    "no number": ({"number": ""}, "请填写届次"),
    "number 0": ({"number": "0"}, "届次须为正整数"),
    "not a date": ({"starts_on": "十月一日"}, "不是有效的日期"),
}


@pytest.mark.parametrize("case", EDITION_CASES)
def test_a_bad_edition_is_refused(client, staff, case):
    db.session.add(AcademicMonthEdition(number=28, year=2025, starts_on=date(2025, 10, 1), ends_on=date(2025, 11, 30)))
    db.session.commit()
    fields, message = EDITION_CASES[case]
    data = {"number": "29", "year": "2026", "starts_on": "2026-10-01", "ends_on": "2026-11-30"} | fields
    before = row_counts()
    response = post(client, "/manage/editions", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts() == before
    assert db.session.query(AcademicMonthEdition).count() == 1


def test_a_state_step_without_its_reason_or_out_of_turn_is_refused(client, society, make_event):
    event = make_event(organisation=society.organisation, status="draft", venue=None)
    before = row_counts()
    refused = post(client, f"/manage/events/{event.id}/publish")
    assert refused.status_code == 409 and "发布前请填写活动地点" in refused.get_data(as_text=True)
    refused = post(client, f"/manage/events/{event.id}/mark_held")
    assert refused.status_code == 409
    assert row_counts() == before
