"""A large audit export is the ``audit_export`` background job (same filters), downloaded from
the job's page; up to AUDIT_EXPORT_INLINE_MAX_ROWS entries the workbook comes at once."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from conference_app.audit import export as exports
from conference_app.audit.models import AuditEntry
from conference_app.audit.services import record
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.jobs import runner
from conference_app.jobs.models import Job, JobState
from tests.app.conftest import log_in_session
from tests.app.helpers import csrf_token

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def export_app(app):
    """The app with its job thread, and exports above 5 entries as jobs."""
    app.config.update(REDIS_URL="", AUDIT_EXPORT_INLINE_MAX_ROWS=5)
    yield app
    assert runner.wait_until_idle(app, timeout=60)
    app.config.pop("AUDIT_EXPORT_INLINE_MAX_ROWS")


@pytest.fixture
def staff(client, make_user):
    user = make_user(Role.STAFF, name="Staff Zhao")
    log_in_session(client, user)
    return user


def _entries(make_user, approved: int, other: int) -> None:
    """``approved`` organisation approvals (one a formula-like comment) and ``other`` other entries."""
    target = make_user(Role.EXPERT)
    for number in range(approved):
        entry = record("organisation.approved", target, comment="=1+2" if number == 0 else f"第{number}条")
        entry.created_at = datetime(2026, 3, 1, 8, number, tzinfo=timezone.utc)
    for number in range(other):
        record("user.updated", target, comment=f"其他{number}")
    db.session.commit()


def _rows(data: bytes) -> list[tuple]:
    return list(load_workbook(BytesIO(data)).active.iter_rows(values_only=True))


def test_up_to_the_setting_the_workbook_comes_at_once(export_app, client, staff, make_user):
    _entries(make_user, approved=5, other=3)
    response = client.get("/audit/export.xlsx?action=organisation.approved")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert len(_rows(response.data)) == 1 + 5
    assert db.session.scalars(select(Job)).all() == []


def test_above_the_setting_the_export_is_a_job_with_the_same_filters(export_app, client, staff, make_user):
    _entries(make_user, approved=7, other=4)
    page = client.get("/audit/export.xlsx?action=organisation.approved")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "超过 5 条" in html and 'data-testid="start-export"' in html
    assert db.session.scalars(select(Job)).all() == []  # a GET starts nothing

    token = csrf_token(client, "/audit/export.xlsx?action=organisation.approved")
    started = client.post("/audit/export?action=organisation.approved", data={"csrf_token": token})
    assert started.status_code == 302
    job_id = int(re.fullmatch(r"/jobs/(\d+)", started.location).group(1))
    assert runner.wait_until_idle(export_app, timeout=60)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.kind, job.state, job.user_id, job.params) == ("audit_export", JobState.FINISHED, staff.id,
                                                             {"action": "organisation.approved"}), job.log
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "job.started")).actor_id == staff.id

    detail = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "审计日志导出" in detail and "审计日志（Excel，7 条）" in detail
    [output] = job.outputs
    assert re.fullmatch(r"audit-log-\d{8}-\d{6}\.xlsx", output["path"])
    download = client.get(f"/jobs/{job_id}/outputs/{output['path']}")
    assert download.status_code == 200
    rows = _rows(download.data)
    assert rows[0][:4] == ("时间（北京时间）", "操作人", "IP 地址", "操作")
    assert len(rows) == 1 + 7 and {row[4] for row in rows[1:]} == {"organisation.approved"}  # the filter held
    assert rows[1][0] == datetime(2026, 3, 1, 16, 6) and rows[-1][0] == datetime(2026, 3, 1, 16, 0)  # newest first
    assert job.progress["done"] == 7 and job.progress["total"] == 7

    sheet = load_workbook(BytesIO(download.data)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    [risky] = [cell for cell in cells if cell.value == "=1+2"]
    assert risky.data_type == "s" and risky.quotePrefix


def test_bad_filters_start_no_job(export_app, client, staff, make_user):
    _entries(make_user, approved=7, other=0)
    token = csrf_token(client, "/audit/export.xlsx")
    response = client.post("/audit/export?date_from=2026-03-05&date_to=2026-03-01", data={"csrf_token": token})
    assert response.status_code == 400 and "结束日期早于开始日期" in response.get_data(as_text=True)
    assert client.post("/audit/export", data={}).status_code == 400  # no CSRF token
    assert db.session.scalars(select(Job)).all() == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"colour": "red"}, "未知的审计日志筛选条件：colour"),
        ({"actor": "x" * 101}, "不超过 100 个字符"),
        ({"action": 5}, "不超过 200 个字符"),
        ({"date_from": "yesterday"}, "必须是日期"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "结束日期早于开始日期"),
    ],
)
def test_the_job_refuses_bad_parameters_in_chinese(app, params, message):
    with pytest.raises(ServiceError, match=message):
        exports.check_job_params(params)


def test_only_staff_start_an_export(export_app, client, make_user):
    log_in_session(client, make_user(Role.ANALYST))
    token = csrf_token(client, "/auth/reset")
    assert client.post("/audit/export", data={"csrf_token": token}).status_code == 403
    assert db.session.scalars(select(Job)).all() == []
