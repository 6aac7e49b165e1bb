"""Organisations: services (create, edit, uniqueness, past events, eligibility) and pages."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.organisations import services
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation, PastEvent
from tests.app.helpers import csrf_token


def org_fields(**overrides) -> dict:
    fields = {
        "name_zh": "北京力学会",
        "name_en": "Beijing Society of Theoretical and Applied Mechanics",
        "org_type": "society",
        "credit_code": make_credit_code("51110000500001234").lower(),
        "is_bast_member": True,
        "contact_email": " office@bstam.example.cn ",
    }
    return fields | overrides


def audit_actions(target) -> list[str]:
    query = select(AuditEntry.action).where(
        AuditEntry.object_type == type(target).__name__, AuditEntry.object_id == str(target.id)
    )
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


# --- services ------------------------------------------------------------------------------


def test_create_normalises_and_records(app):
    organisation = services.create_organisation(org_fields())
    db.session.commit()
    assert organisation.status == "approved"
    assert organisation.credit_code == organisation.credit_code.upper()
    assert organisation.contact_email == "office@bstam.example.cn"
    assert audit_actions(organisation) == ["organisation.created"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name_zh": "  "}, "请填写单位中文名称"),
        ({"credit_code": "91350100M000100Y44"}, "校验位不正确"),
        ({"contact_phone": "1" * 31}, "联系电话最多 30 个字符"),
        ({"contact_email": "office"}, "有效的电子邮箱"),
        ({"org_type": "club"}, "请选择单位类型"),
        ({"contact_name": "周\x00会长"}, "联系人含有不允许的字符"),
    ],
)
def test_service_refuses_bad_input(app, overrides, message):
    with pytest.raises(ServiceError, match=message):
        services.create_organisation(org_fields(**overrides))
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0


@pytest.mark.parametrize("field", ["name_zh", "credit_code"])
def test_duplicates_are_refused_by_the_service(app, make_organisation, field):
    existing = make_organisation()
    with pytest.raises(ServiceError, match="已注册"):
        services.create_organisation(org_fields(**{field: getattr(existing, field)}))


@pytest.mark.parametrize("field", ["name_zh", "credit_code"])
def test_duplicates_that_pass_the_check_hit_the_constraint_and_are_reported(
    app, make_organisation, monkeypatch, field
):
    existing = make_organisation()
    monkeypatch.setattr(services, "_ensure_unique", lambda *args, **kwargs: None)
    with pytest.raises(ServiceError, match="已注册") as caught:
        services.create_organisation(org_fields(**{field: getattr(existing, field)}))
    expected = "中文名称" if field == "name_zh" else "统一社会信用代码"
    assert expected in str(caught.value)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_update_records_changes_and_keeps_unchanged_fields(app, make_organisation):
    organisation = make_organisation(contact_name="张三")
    changes = services.update_organisation(organisation, {"contact_name": "李四", "address": "  "})
    db.session.commit()
    assert changes == {"contact_name": ["张三", "李四"]}
    assert organisation.address is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.updated"))
    assert entry.details == {"changes": changes}


def test_update_refuses_fields_outside_the_allowed_set(app, make_organisation):
    organisation = make_organisation()
    with pytest.raises(ValueError):
        services.update_organisation(organisation, {"is_bast_member": False}, services.SOCIETY_EDITABLE_FIELDS)
    with pytest.raises(ValueError):
        services.update_organisation(organisation, {"status": "rejected"})


def test_leaving_the_bast_group_clears_the_since_date(app, make_organisation):
    from datetime import date

    organisation = make_organisation(bast_member_since=date(2020, 1, 1))
    services.update_organisation(organisation, {"is_bast_member": False})
    assert organisation.bast_member_since is None


def test_past_events_add_filter_and_remove(app, make_organisation):
    organisation = make_organisation()
    conference = services.add_past_event(
        organisation, year=2024, kind="international", title=" 国际力学大会 ", role="host"
    )
    services.add_past_event(organisation, year=2021, kind="regional", title="京津冀力学论坛", role="co_host")
    services.add_past_event(
        organisation, year=2025, kind="international", title="国际青年论坛", role="co_host", held_in_beijing=False
    )
    db.session.commit()
    assert conference.title == "国际力学大会"
    titles = lambda events: [event.title for event in events]  # noqa: E731
    assert titles(services.past_events(organisation, kinds=["international"])) == ["国际青年论坛", "国际力学大会"]
    assert titles(services.past_events(organisation, since_year=2022, roles=["host", "main_organiser"])) == [
        "国际力学大会"
    ]
    assert titles(services.past_events(organisation, kinds=["international"], in_beijing=True)) == ["国际力学大会"]
    services.remove_past_event(conference)
    db.session.commit()
    assert titles(services.past_events(organisation)) == ["国际青年论坛", "京津冀力学论坛"]
    assert "past_event.removed" in db.session.scalars(select(AuditEntry.action)).all()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"year": 1800}, "年份须在"),
        ({"year": 2999}, "年份须在"),
        ({"title": " "}, "请填写活动名称"),
        ({"title": "x" * 301}, "最多 300 个字符"),
        ({"kind": "galactic"}, "请选择活动类别"),
        ({"role": "sponsor"}, "角色"),
    ],
)
def test_past_event_bad_input(app, make_organisation, fields, message):
    organisation = make_organisation()
    values = {"year": 2024, "kind": "national", "title": "全国学术年会", "role": "host"} | fields
    with pytest.raises(ServiceError, match=message):
        services.add_past_event(organisation, **values)


def test_the_same_past_event_twice_is_refused(app, make_organisation):
    organisation = make_organisation()
    services.add_past_event(organisation, year=2024, kind="national", title="全国学术年会", role="host")
    with pytest.raises(ServiceError, match="已记录"):
        services.add_past_event(organisation, year=2024, kind="other", title="全国学术年会", role="co_host")


@pytest.mark.parametrize(
    "fields, eligible",
    [
        ({"is_bast_member": True}, True),
        ({"is_bast_member": False, "in_journal_excellence_plan": True}, True),
        ({"is_bast_member": False}, False),
        ({"is_bast_member": True, "status": "pending"}, False),
    ],
)
def test_eligible_applicants(app, make_organisation, fields, eligible):
    assert services.is_eligible_applicant(make_organisation(**fields)) is eligible


# --- pages ---------------------------------------------------------------------------------


@pytest.fixture()
def staff(make_user, auth):
    user = make_user(Role.STAFF, name="王审核")
    auth.login(user.email)
    return user


def test_staff_list_filters_and_pages(client, staff, make_organisation):
    make_organisation(name_zh="北京计算机学会", is_bast_member=False)
    make_organisation(name_zh="清华大学科协", org_type="university_association")
    make_organisation(name_zh="待审学会", status="pending")
    for n in range(22):
        make_organisation(name_zh=f"批量学会{n:02d}")

    def names(query: str) -> str:
        response = client.get(f"/organisations/?{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "北京计算机学会" in names("q=计算机") and "清华大学科协" not in names("q=计算机")
    assert "待审学会" in names("status=pending") and "清华大学科协" not in names("status=pending")
    assert "清华大学科协" in names("org_type=university_association")
    assert "北京计算机学会" not in names("org_type=university_association")
    assert "北京计算机学会" in names("bast_member=no") and "清华大学科协" not in names("bast_member=no")
    first, second = names("q=批量"), names("q=批量&page=2")
    assert "批量学会00" in first and "批量学会21" not in first and "批量学会21" in second
    assert names("status=nonsense&page=99")  # bad filters are ignored, never a 500


def test_staff_create_organisation(client, staff):
    data = {
        "name_zh": "中关村科技园区科协",
        "org_type": "park_association",
        "credit_code": make_credit_code("51110000500009999"),
        "is_bast_member": "y",
        "csrf_token": csrf_token(client, "/organisations/new"),
    }
    response = client.post("/organisations/new", data=data)
    assert response.status_code == 302
    organisation = db.session.scalar(select(Organisation).where(Organisation.name_zh == "中关村科技园区科协"))
    assert organisation.is_bast_member and organisation.status == "approved"


def test_detail_shows_members_events_and_history(client, staff, make_organisation, make_user):
    organisation = make_organisation(name_zh="北京力学会")
    make_user(Role.SOCIETY, organisation=organisation, name="赵会员")
    services.add_past_event(organisation, year=2024, kind="international", title="国际力学大会", role="host")
    services.update_organisation(organisation, {"contact_name": "钱联系"})
    db.session.commit()
    html = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    for text in ("北京力学会", "赵会员", "国际力学大会", "钱联系", "王审核"):
        assert text in html


def test_staff_edit_sets_staff_fields(client, staff, make_organisation):
    organisation = make_organisation(is_bast_member=False)
    url = f"/organisations/{organisation.id}/edit"
    data = {
        "name_zh": organisation.name_zh,
        "org_type": "society",
        "credit_code": organisation.credit_code,
        "is_bast_member": "y",
        "bast_member_since": "2019-05-01",
        "in_journal_excellence_plan": "y",
        "csrf_token": csrf_token(client, url),
    }
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(organisation)
    assert organisation.is_bast_member and organisation.in_journal_excellence_plan
    assert organisation.bast_member_since.isoformat() == "2019-05-01"


def test_own_admin_edits_contacts_only(client, auth, make_organisation, make_user):
    organisation = make_organisation(is_bast_member=False)
    admin = make_user(Role.SOCIETY, organisation=organisation, is_org_admin=True)
    auth.login(admin.email)
    url = f"/organisations/{organisation.id}/edit"
    html = client.get(url).get_data(as_text=True)
    assert 'name="contact_name"' in html and 'name="is_bast_member"' not in html
    data = {"contact_name": "孙联系", "contact_email": "sun@example.cn", "csrf_token": csrf_token(client, url)}
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(organisation)
    assert organisation.contact_name == "孙联系"


def test_plain_member_cannot_edit_and_society_cannot_list(client, auth, make_organisation, make_user):
    organisation = make_organisation()
    member = make_user(Role.SOCIETY, organisation=organisation)
    auth.login(member.email)
    assert client.get(f"/organisations/{organisation.id}").status_code == 200
    assert client.get(f"/organisations/{organisation.id}/edit").status_code == 403
    assert client.get("/organisations/").status_code == 403
    assert client.get("/organisations/new").status_code == 403
    assert client.get("/organisations/mine").headers["Location"].endswith(f"/organisations/{organisation.id}")


@pytest.mark.parametrize("role", [Role.EXPERT, Role.ANALYST])
def test_other_roles_see_no_organisation(client, auth, make_organisation, make_user, role):
    organisation = make_organisation()
    auth.login(make_user(role).email)
    assert client.get(f"/organisations/{organisation.id}").status_code == 403


def test_own_admin_adds_and_removes_past_events(client, auth, make_organisation, make_user):
    organisation = make_organisation()
    admin = make_user(Role.SOCIETY, organisation=organisation, is_org_admin=True)
    auth.login(admin.email)
    detail = f"/organisations/{organisation.id}"
    data = {"year": "2024", "kind": "regional", "title": "京津冀力学论坛", "role": "host", "held_in_beijing": "y"}
    response = client.post(f"{detail}/events", data=data | {"csrf_token": csrf_token(client, detail)})
    assert response.status_code == 302
    event = db.session.scalar(select(PastEvent))
    assert (event.title, event.kind, event.held_in_beijing) == ("京津冀力学论坛", "regional", True)
    bad = client.post(f"{detail}/events", data=data | {"year": "", "csrf_token": csrf_token(client, detail)})
    assert bad.status_code == 400
    response = client.post(f"{detail}/events/{event.id}/delete", data={"csrf_token": csrf_token(client, detail)})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PastEvent)) == 0


def test_missing_organisation_is_404(client, staff):
    assert client.get("/organisations/999999").status_code == 404


def test_the_history_names_the_command_line_in_the_readers_language(client, staff, make_organisation):
    """An entry written by a command (no logged-in user) reads "系统（命令行）" in the Chinese page."""
    from conference_app.core.db import unit_of_work

    organisation = make_organisation(status="pending")
    with unit_of_work():
        services.reject_organisation(organisation, staff, "信用代码不符")
        services.update_organisation(db.session.get(Organisation, organisation.id), {"address": "北京市海淀区"})
    html = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    history = html[html.index('data-testid="review-history"'):]
    assert "系统（命令行）" in history and "system (command line)" not in history
    assert "地址: — → 北京市海淀区" in history


def test_the_list_exports_to_excel_with_its_filters(client, staff, make_organisation):
    from io import BytesIO

    from openpyxl import load_workbook

    make_organisation(name_zh="北京力学会", status="approved")
    make_organisation(name_zh="北京声学学会", status="pending", contact_email="=HYPERLINK(\"http://x\")")
    make_organisation(name_zh="北京化学会", status="pending", is_bast_member=False)
    page = client.get("/organisations/?status=pending&bast_member=yes").get_data(as_text=True)
    assert "/organisations/export.xlsx?status=pending&amp;bast_member=yes" in page
    response = client.get("/organisations/export.xlsx?status=pending&bast_member=yes")
    assert response.status_code == 200 and "organisations-" in response.headers["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("中文名称", "英文名称", "单位类型", "统一社会信用代码", "状态")
    assert [(row[0], row[4]) for row in rows[1:]] == [("北京声学学会", "待审核")]
    email_cell = sheet.cell(row=2, column=12)
    assert email_cell.value.startswith("=") and email_cell.data_type == "s"  # text, never a live formula
