"""Importing the attendance of an event checked in elsewhere: the template, the file's checks,
row validation that refuses the whole file with row numbers, and a good file written as
imported registrations and check-ins in one audited step (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import utcnow
from conference_app.core.permissions import Role
from conference_app.core.timeutil import BEIJING
from conference_app.events.models import CheckIn, CheckInMethod, Registration, RegistrationStatus
from conference_app.extensions import db
from tests.app.conftest import log_in_session
from tests.app.events.series_helpers import TEMPLATE_HEADERS, attendance_file
from tests.app.helpers import csrf_token

EVENT_START = datetime(2026, 10, 12, 9, 0, tzinfo=BEIJING)
GOOD_ROWS = [
    ["张三", "北京大学", "教授", "13800000001", None, "2026-10-12 09:05"],
    ["李四", "清华大学", None, None, "li@example.cn", datetime(2026, 10, 13, 14, 30)],
    ["王五", None, None, 13800000003, "wang@example.cn", None],
]


@pytest.fixture()
def held_event(make_event):
    """A two-day conference already held (12 and 13 October 2026, Beijing)."""
    return make_event(kind="national", status="held", starts_at=EVENT_START,
                      ends_at=EVENT_START + timedelta(days=1, hours=9))


def upload(client, event, data: bytes, name: str = "签到.xlsx"):
    url = f"/manage/events/{event.id}/attendance"
    return client.post(url, data={"file": (BytesIO(data), name), "csrf_token": csrf_token(client, url)},
                       content_type="multipart/form-data")


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count()).select_from(Registration)),
            db.session.scalar(select(func.count()).select_from(CheckIn)),
            db.session.scalar(select(func.count()).select_from(AuditEntry)))


@pytest.fixture()
def organiser(client, make_user, held_event):
    user = make_user(Role.SOCIETY, organisation=held_event.organisations[0].organisation)
    log_in_session(client, user)
    return user


def test_the_template_has_the_chinese_headers_and_imports_once_filled(app, client, organiser, held_event):
    response = client.get(f"/manage/events/{held_event.id}/attendance/template.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(BytesIO(response.data))
    assert [cell.value for cell in workbook.active[1]] == TEMPLATE_HEADERS
    workbook.active.append(["赵六", "中科院", "研究员", "13900000006", None, "2026-10-12 10:00"])
    filled = BytesIO()
    workbook.save(filled)
    assert upload(client, held_event, filled.getvalue()).status_code == 302
    assert counts()[:2] == (1, 1)


def test_a_good_file_adds_exactly_its_rows_as_imported_attendance(app, client, organiser, held_event):
    data = attendance_file(GOOD_ROWS + [[None, None, None, None, None, None]])  # a blank row is skipped
    response = upload(client, held_event, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    registrations = db.session.scalars(select(Registration).order_by(Registration.id)).all()
    assert [(r.name, r.phone, r.email, r.status, r.source) for r in registrations] == [
        ("张三", "13800000001", None, RegistrationStatus.CONFIRMED, "import"),
        ("李四", None, "li@example.cn", RegistrationStatus.CONFIRMED, "import"),
        ("王五", "13800000003", "wang@example.cn", RegistrationStatus.CONFIRMED, "import"),
    ]
    check_ins = db.session.scalars(select(CheckIn).order_by(CheckIn.registration_id)).all()
    assert [c.method for c in check_ins] == [CheckInMethod.IMPORT] * 3
    assert [c.checked_in_at for c in check_ins] == [datetime(2026, 10, 12, 9, 5, tzinfo=BEIJING),
                                                    datetime(2026, 10, 13, 14, 30, tzinfo=BEIJING), EVENT_START]
    assert {c.by_user_id for c in check_ins} == {organiser.id}
    entries = db.session.scalars(select(AuditEntry)).all()
    assert [entry.action for entry in entries] == ["attendance.imported"]  # once for the import
    assert entries[0].details | {"path": None} == {"file": "签到.xlsx", "sha256": hashlib.sha256(data).hexdigest(),
                                                   "size": len(data), "rows": 3, "path": None}
    page = client.get(f"/manage/events/{held_event.id}/attendance").get_data(as_text=True)
    assert page.count("导入的签到记录") >= 3 and "签到.xlsx" in page and "平台签到 0，导入 3" in page
    evidence = client.get(f"/manage/events/{held_event.id}/attendance/files/{entries[0].id}")
    assert evidence.status_code == 200 and evidence.data == data


def test_a_file_with_one_bad_row_is_refused_with_that_row_and_writes_nothing(app, client, organiser, held_event):
    bad = ["赵六", None, None, "1234567", None, None]  # row 4: not a mainland mobile number
    stored_before = stored_files(app)
    response = upload(client, held_event, attendance_file(GOOD_ROWS[:2] + [bad] + GOOD_ROWS[2:]))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "文件未导入：有 1 行存在问题" in html
    problems = html.split('data-testid="import-problems"')[1].split("</table>")[0]
    assert "<td>4</td>" in problems and "11 位" in problems
    assert "<td>2</td>" not in problems and "<td>3</td>" not in problems and "<td>5</td>" not in problems
    assert counts() == (0, 0, 0)
    assert stored_files(app) == stored_before  # the uploaded copy went with the rollback


def stored_files(app) -> set:
    return {path for path in (Path(app.config["UPLOAD_DIR"]) / "attendance").rglob("*") if path.is_file()}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([[None, "北大", None, "13800000009", None, None]], [(2, "缺少姓名")]),
        ([["张三", None, None, None, None, None]], [(2, "手机号码或电子邮箱")]),
        ([["张三", None, None, None, "not-an-address", None]], [(2, "有效的电子邮箱")]),
        ([["张三", None, None, "13800000009", None, "2026-10-14 09:00"]], [(2, "不在活动举办日期内（2026-10-12 至 2026-10-13）")]),
        ([["张三", None, None, "13800000009", None, "明天上午"]], [(2, "格式不正确")]),
        ([["张三", None, None, "13800000009", None, None], ["张三", None, None, "138 0000 0009", None, None]],
         [(3, "与第 2 行的手机号或电子邮箱重复")]),
        ([["张三", None, None, None, "A@Example.cn", None], ["李四", None, None, None, "a@example.cn", None]],
         [(3, "与第 2 行")]),
    ],
)
def test_each_bad_row_is_named_with_its_reason(app, client, organiser, held_event, rows, expected):
    response = upload(client, held_event, attendance_file(rows))
    assert response.status_code == 400
    problems = response.get_data(as_text=True).split('data-testid="import-problems"')[1].split("</table>")[0]
    for row, reason in expected:
        assert f"<td>{row}</td>" in problems and reason in problems
    assert counts() == (0, 0, 0)


def test_a_row_already_registered_for_the_event_is_refused(app, client, organiser, held_event):
    db.session.add(Registration(event=held_event, code="EXISTING01", status="confirmed", name="李四",
                                email="li@example.cn"))
    db.session.commit()
    response = upload(client, held_event, attendance_file(GOOD_ROWS))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<td>3</td>" in html and "已报名本活动（报名人：李四）" in html
    assert counts()[:2] == (1, 0)


@pytest.mark.parametrize(
    ("data", "name", "message", "status"),
    [
        (b"%PDF-1.4 not a workbook", "a.xlsx", "文件类型不符合要求", 400),
        (attendance_file(GOOD_ROWS, headers=["名字", "电话"]), "a.xlsx", "第一行须为模板的表头", 400),
        (attendance_file([]), "a.xlsx", "没有数据行", 400),
        (b"PK\x03\x04" + b"\x00" * (2 * 1024 * 1024), "big.xlsx", "MB", 413),
    ],
)
def test_a_wrong_file_is_refused_with_a_clear_message(app, client, organiser, held_event, data, name, message, status):
    response = upload(client, held_event, data, name)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)


def test_too_many_rows_are_refused(app, client, organiser, held_event, monkeypatch):
    from conference_app.events.services import attendance

    monkeypatch.setattr(attendance, "IMPORT_MAX_ROWS", 2)
    response = upload(client, held_event, attendance_file(GOOD_ROWS))
    assert response.status_code == 400 and "每个文件最多 2 行" in response.get_data(as_text=True)


def test_attendance_is_imported_only_once_an_event_has_started_and_for_its_organisers(app, client, make_user,
                                                                                   make_event, held_event):
    upcoming = make_event(starts_at=utcnow() + timedelta(days=3))
    log_in_session(client, make_user(Role.SOCIETY, organisation=upcoming.organisations[0].organisation))
    response = upload(client, upcoming, attendance_file(GOOD_ROWS))
    assert response.status_code == 409 and "活动开始后才能导入" in response.get_data(as_text=True)
    for url in (f"/manage/events/{held_event.id}/attendance", f"/manage/events/{held_event.id}/attendance/template.xlsx",
                f"/manage/events/{held_event.id}/attendance/export.xlsx"):
        assert client.get(url).status_code == 403, url
    assert upload(client, held_event, attendance_file(GOOD_ROWS)).status_code == 403
    assert counts() == (0, 0, 0)


def test_the_attendance_export_flags_imported_rows(app, client, organiser, held_event):
    upload(client, held_event, attendance_file(GOOD_ROWS[:1]))
    response = client.get(f"/manage/events/{held_event.id}/attendance/export.xlsx")
    rows = list(load_workbook(BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "工作单位", "职称/职务", "手机号", "电子邮箱", "签到时间", "签到方式")
    assert rows[1][0] == "张三" and rows[1][5] == datetime(2026, 10, 12, 9, 5) and rows[1][6] == "导入的签到记录"


def test_an_imported_file_of_another_event_is_not_served(app, client, organiser, held_event, make_event):
    upload(client, held_event, attendance_file(GOOD_ROWS[:1]))
    entry = db.session.scalar(select(AuditEntry))
    other = make_event(organisation=held_event.organisations[0].organisation, status="held",
                       starts_at=EVENT_START - timedelta(days=30))
    assert client.get(f"/manage/events/{other.id}/attendance/files/{entry.id}").status_code == 404
