"""Login, logout, session timeout, password change, and the staff's user administration."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db
from tests.app.conftest import DEFAULT_PASSWORD, log_in_session
from tests.app.helpers import csrf_token


def audit_actions(object_type: str = "User") -> list[str]:
    query = select(AuditEntry.action).where(AuditEntry.object_type == object_type).order_by(AuditEntry.id)
    return list(db.session.scalars(query))


def test_login_then_home_then_logout(client, auth, make_user):
    user = make_user(Role.EXPERT)
    response = auth.login(user.email)
    assert response.status_code == 302 and response.location == "/home"
    assert "目前尚未给您分配评审任务" in client.get("/home").get_data(as_text=True)
    assert db.session.get(User, user.id).last_login_at is not None
    assert auth.logout().location == "/auth/login"
    assert client.get("/home").location.startswith("/auth/login")
    assert audit_actions() == ["user.login"]


def test_login_is_case_insensitive_and_follows_only_local_next(client, make_user):
    user = make_user(Role.STAFF)
    token = csrf_token(client, "/auth/login")
    data = {"email": user.email.upper(), "password": DEFAULT_PASSWORD, "csrf_token": token}
    assert client.post("/auth/login?next=//evil.example.com/x", data=data).location == "/home"
    auth_client = client.application.test_client()
    token = csrf_token(auth_client, "/auth/login")
    response = auth_client.post("/auth/login?next=/audit/", data=dict(data, csrf_token=token))
    assert response.location == "/audit/"


@pytest.mark.parametrize("email", ["unknown@example.cn", None])
def test_wrong_credentials_give_the_same_chinese_message(client, auth, make_user, email):
    user = make_user(Role.STAFF)
    response = auth.login(email or user.email, password="Wrong-password-1")
    assert response.status_code == 400
    assert "电子邮箱或密码错误" in response.get_data(as_text=True)
    assert client.get("/home").status_code == 302
    assert audit_actions() == ["user.login_failed"]


def test_empty_login_form_is_refused_in_chinese(client):
    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login", data={"email": "", "password": "", "csrf_token": token})
    assert response.status_code == 400
    assert "此项为必填项" in response.get_data(as_text=True)


def test_disabled_account_cannot_log_in(auth, make_user):
    user = make_user(Role.ANALYST, is_enabled=False)
    response = auth.login(user.email)
    assert response.status_code == 403
    assert "该账号已停用" in response.get_data(as_text=True)
    assert audit_actions() == ["user.login_refused"]


def test_pending_society_is_told_its_registration_is_under_review(auth, make_user, make_organisation):
    organisation = make_organisation(status="pending")
    user = make_user(Role.SOCIETY, organisation=organisation, is_enabled=False, is_org_admin=True)
    response = auth.login(user.email)
    assert response.status_code == 403
    assert "您的注册正在审核中" in response.get_data(as_text=True)


def test_logged_in_user_is_sent_home_from_the_login_page(client, make_user):
    log_in_session(client, make_user(Role.STAFF))
    assert client.get("/auth/login").location == "/home"


def test_idle_session_times_out(client, make_user):
    log_in_session(client, make_user(Role.STAFF))
    assert client.get("/home").status_code == 200
    idle = client.application.config["SESSION_IDLE_MINUTES"] * 60
    with client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - idle - 5
        assert session.permanent or True
    response = client.get("/home")
    assert response.status_code == 302 and response.location.startswith("/auth/login")
    assert "会话已超时" in client.get(response.location).get_data(as_text=True)
    assert client.get("/home").status_code == 302


def test_login_makes_the_session_permanent(client, auth, make_user):
    auth.login(make_user(Role.STAFF).email)
    with client.session_transaction() as session:
        assert session.permanent


def test_session_ends_when_the_account_is_disabled(client, make_user):
    user = make_user(Role.EXPERT)
    log_in_session(client, user)
    user.is_enabled = False
    db.session.commit()
    assert client.get("/home").location.startswith("/auth/login")


def _change_password(client, current: str, new: str, confirm: str | None = None):
    token = csrf_token(client, "/auth/password")
    return client.post(
        "/auth/password",
        data={"current_password": current, "new_password": new, "confirm": confirm or new, "csrf_token": token},
    )


def test_change_password(client, auth, make_user):
    user = make_user(Role.EXPERT)
    auth.login(user.email)
    response = _change_password(client, DEFAULT_PASSWORD, "New-password-2024")
    assert response.status_code == 302
    assert client.get("/home").status_code == 200  # still logged in under the new password
    auth.logout()
    assert auth.login(user.email).status_code == 400
    assert auth.login(user.email, "New-password-2024").location == "/home"
    assert "user.password_changed" in audit_actions()


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("Wrong-password-1", "New-password-2024", None, "当前密码不正确"),
        (DEFAULT_PASSWORD, "short1", None, "密码至少需要 10 个字符"),
        (DEFAULT_PASSWORD, "onlyletterspassword", None, "密码必须同时包含字母和数字"),
        (DEFAULT_PASSWORD, "New-password-2024", "Other-password-2024", "两次输入的密码不一致"),
    ],
)
def test_change_password_refusals(client, make_user, current, new, confirm, message):
    user = make_user(Role.EXPERT)
    log_in_session(client, user)
    hash_before = user.password_hash
    response = _change_password(client, current, new, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == hash_before
    # A wrong current password is a guess: it counts toward the lock and is audited.
    assert audit_actions() == (["user.password_change_failed"] if current != DEFAULT_PASSWORD else [])


def test_password_change_ends_other_sessions(client, make_user):
    user = make_user(Role.EXPERT)
    other = client.application.test_client()
    log_in_session(client, user)
    log_in_session(other, user)
    assert _change_password(client, DEFAULT_PASSWORD, "New-password-2024").status_code == 302
    assert client.get("/home").status_code == 200
    assert other.get("/home").location.startswith("/auth/login")


# --- staff: users -------------------------------------------------------------------------


@pytest.fixture()
def staff_client(client, make_user):
    staff = make_user(Role.STAFF, name="Staff Wang")
    log_in_session(client, staff)
    client.staff = staff
    return client


def _user_form(client, url: str, **fields):
    data = {"name": "", "phone": "", "role": "expert", "organisation_id": "0", "csrf_token": csrf_token(client, url)}
    data.update(fields)
    return client.post(url, data=data)


def test_staff_creates_a_user_with_a_password(staff_client, outbox):
    response = _user_form(
        staff_client, "/admin/users/new", email="Li.Expert@Example.cn", name="李专家", role="expert",
        password="Initial-pass-2024",
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "li.expert@example.cn"))
    assert user.role == "expert" and user.check_password("Initial-pass-2024")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.created"))
    assert entry.actor_id == staff_client.staff.id and entry.to_state == "expert"
    assert outbox() == []
    assert "已创建用户 li.expert@example.cn" in staff_client.get("/admin/users").get_data(as_text=True)


def test_staff_creates_a_society_user_who_gets_a_link(staff_client, make_organisation, outbox):
    organisation = make_organisation()
    response = _user_form(
        staff_client, "/admin/users/new", email="member@society.cn", name="学会成员", role="society",
        organisation_id=str(organisation.id), is_org_admin="y",
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "member@society.cn"))
    assert user.organisation_id == organisation.id and user.is_org_admin
    [message] = outbox()
    assert message["To"] == "member@society.cn" and "/auth/reset/" in message.get_content()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address", "name": "X"}, "请输入有效的电子邮箱地址"),
        ({"email": "a@b.cn", "name": ""}, "此项为必填项"),
        ({"email": "a@b.cn", "name": "X", "role": "society"}, "学会用户必须属于一个已存在的单位"),
        ({"email": "a@b.cn", "name": "X", "role": "emperor"}, "不是有效的选择"),
        ({"email": "a@b.cn", "name": "X", "organisation_id": "abc"}, "选择无效"),
        ({"email": "a@b.cn", "name": "X", "password": "weak"}, "密码至少需要"),
        ({"email": "a@b.cn", "name": "X\x00Y"}, "含有不允许的字符"),
        ({"email": "a\x00@b.cn", "name": "X"}, "请输入有效的电子邮箱地址"),
    ],
)
def test_bad_user_input_is_refused_in_chinese_and_nothing_is_written(staff_client, fields, message):
    users_before = db.session.scalar(select(db.func.count()).select_from(User))
    response = _user_form(staff_client, "/admin/users/new", **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(User)) == users_before
    assert audit_actions() == []


def test_duplicate_email_is_refused(staff_client, make_user):
    existing = make_user(Role.EXPERT)
    response = _user_form(staff_client, "/admin/users/new", email=existing.email.upper(), name="Again")
    assert response.status_code == 400
    assert "该电子邮箱已被其他用户使用" in response.get_data(as_text=True)


def test_duplicate_email_created_at_the_same_time_is_refused_not_a_500(staff_client, make_user, monkeypatch):
    """Two requests both pass the duplicate check; the unique constraint refuses the second."""
    from conference_app.accounts import services

    existing = make_user(Role.EXPERT)
    monkeypatch.setattr(services, "find_user", lambda email: None)  # the winner was not committed yet
    response = _user_form(staff_client, "/admin/users/new", email=existing.email, name="Again", password="Initial-pass-2024")
    assert response.status_code == 400
    assert "该电子邮箱已被其他用户使用" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 2  # staff and the first one
    assert audit_actions() == []


def test_role_change_is_audited_with_from_and_to(staff_client, make_user):
    user = make_user(Role.EXPERT)
    response = _user_form(staff_client, f"/admin/users/{user.id}/edit", name="New Name", role="analyst")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).role == "analyst"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.role_changed"))
    assert (entry.from_state, entry.to_state, entry.object_id) == ("expert", "analyst", str(user.id))


def test_disable_and_enable(staff_client, make_user):
    user = make_user(Role.EXPERT)
    token = csrf_token(staff_client, "/admin/users")
    assert staff_client.post(f"/admin/users/{user.id}/disable", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_enabled
    assert staff_client.post(f"/admin/users/{user.id}/enable", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).is_enabled
    assert audit_actions() == ["user.disabled", "user.enabled"]


def test_staff_cannot_disable_themselves(staff_client):
    token = csrf_token(staff_client, "/admin/users")
    response = staff_client.post(f"/admin/users/{staff_client.staff.id}/disable", data={"csrf_token": token})
    assert response.status_code == 400
    assert "不能停用自己的账号" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, staff_client.staff.id).is_enabled


def test_staff_cannot_change_their_own_role(staff_client):
    staff = staff_client.staff
    response = _user_form(staff_client, f"/admin/users/{staff.id}/edit", name=staff.name, role="expert")
    assert response.status_code == 400
    assert "不能修改自己的角色" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, staff.id).role == "staff"


def test_missing_user_is_404(staff_client):
    assert staff_client.get("/admin/users/999999/edit").status_code == 404


def test_user_list_filters_search_and_pages(staff_client, make_user):
    for number in range(30):
        make_user(Role.EXPERT, name=f"Expert {number:02d}")
    make_user(Role.ANALYST, name="Analyst Zhao", is_enabled=False)
    page = staff_client.get("/admin/users?role=expert").get_data(as_text=True)
    assert "共 30 个用户" in page and "第 1 页，共 2 页" in page and "Analyst Zhao" not in page
    page_two = staff_client.get("/admin/users?role=expert&page=2").get_data(as_text=True)
    assert page_two.count("Expert ") == 5
    found = staff_client.get("/admin/users?q=zhao&status=disabled").get_data(as_text=True)
    assert "Analyst Zhao" in found and "共 1 个用户" in found
    assert staff_client.get("/admin/users?role=emperor").status_code == 400
    assert staff_client.get("/admin/users?q=%00zhao").status_code == 200


def test_nul_in_the_login_form_never_reaches_the_database(client, auth, make_user):
    user = make_user(Role.EXPERT)
    assert auth.login(user.email + "\x00").location == "/home"  # dropped, like surrounding blanks
    auth.logout()
    response = auth.login("\x00" + user.email, "Wrong\x00password-1")
    assert response.status_code == 400 and "电子邮箱或密码错误" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.STAFF, ["工作台", "待审核单位"]),
        (Role.ANALYST, ["遴选工作台", "python -m selection rank --help", "mathematics", "数学"]),
        (Role.EXPERT, ["目前尚未给您分配评审任务"]),
        (Role.SOCIETY, ["本单位", "查看单位信息"]),
    ],
)
def test_each_role_has_its_home_page(client, make_user, role, expected):
    user = make_user(role)
    log_in_session(client, user)
    html = client.get("/home").get_data(as_text=True)
    for text in expected:
        assert text in html
    if role is Role.SOCIETY:
        assert f'href="/organisations/{user.organisation_id}"' in html


NEXT_TO_ANOTHER_HOST = [
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r/evil.com",
    "/%09/evil.com",
    "/%0a/evil.com",
    "/\\evil.com",
    "/\\/evil.com",
    "//evil.com",
    "https://evil.com",
    " //evil.com",
    "/\u3000/evil.com",
]


@pytest.mark.parametrize("target", NEXT_TO_ANOTHER_HOST)
def test_login_never_redirects_to_another_host(client, make_user, target):
    from urllib.parse import quote

    user = make_user(Role.STAFF)
    token = csrf_token(client, "/auth/login")
    data = {"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token}
    # %-escapes in the list are sent as typed (the server decodes them), the rest quoted.
    query = target if "%" in target else quote(target, safe="")
    response = client.post("/auth/login?next=" + query, data=data)
    assert response.status_code == 302
    assert response.location == "/home"


@pytest.mark.parametrize("target", NEXT_TO_ANOTHER_HOST)
def test_language_switch_never_redirects_to_another_host(client, target):
    from urllib.parse import unquote

    token = csrf_token(client, "/auth/login")
    response = client.post("/language", data={"locale": "en", "next": unquote(target), "csrf_token": token})
    assert response.status_code == 302
    assert response.location == "/"


def test_safe_next_keeps_local_paths_with_query():
    from conference_app.core.views import safe_next

    assert safe_next("/audit/?page=2&q=a") == "/audit/?page=2&q=a"
    assert safe_next("/organisations/1") == "/organisations/1"
    for target in ["", None, "audit/", "javascript:alert(1)", "/\\evil.com", "//evil.com", "/\x00x"]:
        assert safe_next(target) is None


def test_logout_ends_a_copied_session_cookie(client, auth, make_user):
    """The session lives in the signed cookie: logging out must make a copy of it worthless."""
    user = make_user(Role.EXPERT)
    auth.login(user.email)
    cookie_name = client.application.config["SESSION_COOKIE_NAME"]
    copied = client.get_cookie(cookie_name).value
    thief = client.application.test_client()
    thief.set_cookie(cookie_name, copied)
    assert thief.get("/home").status_code == 200  # the copy works while the session lives
    response = auth.logout()
    assert response.location == "/auth/login"
    message = client.get(response.location).get_data(as_text=True)
    assert "您已退出登录。" in message and "所有设备" not in message  # an everyday logout does not alarm
    replayed = client.application.test_client()
    replayed.set_cookie(cookie_name, copied)
    assert replayed.get("/home").location.startswith("/auth/login")
    assert thief.get("/home").location.startswith("/auth/login")
    # Logging in again starts a new session that works.
    assert auth.login(user.email).location == "/home"
    assert client.get("/home").status_code == 200


def test_logout_ends_this_session_only_and_logout_everywhere_ends_all(client, auth, make_user):
    user, colleague = make_user(Role.EXPERT), make_user(Role.EXPERT)
    laptop, other_user = client.application.test_client(), client.application.test_client()
    log_in_session(laptop, user)
    log_in_session(other_user, colleague)
    auth.login(user.email)
    auth.logout()
    assert laptop.get("/home").status_code == 200  # the user's laptop stays logged in
    auth.login(user.email)
    response = client.post("/auth/logout-everywhere", data={"csrf_token": csrf_token(client, "/home")})
    assert response.location == "/auth/login"
    assert "已在所有设备上退出登录" in client.get(response.location).get_data(as_text=True)
    assert laptop.get("/home").location.startswith("/auth/login")
    assert client.get("/home").location.startswith("/auth/login")
    assert other_user.get("/home").status_code == 200  # somebody else's sessions are not touched


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(client, auth, make_user):
    user = make_user(Role.EXPERT)
    laptop = client.application.test_client()
    log_in_session(laptop, user)
    auth.login(user.email)
    response = client.post("/auth/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": "Another-Secret-42", "confirm": "Another-Secret-42",
        "csrf_token": csrf_token(client, "/auth/password"),
    })
    assert response.location == "/home"
    assert client.get("/home").status_code == 200
    assert laptop.get("/home").location.startswith("/auth/login")


def test_a_password_set_any_other_way_ends_every_session(client, auth, make_user):
    """The session row keeps the password fingerprint: a password set outside the services ends it too."""
    user = make_user(Role.EXPERT)
    auth.login(user.email)
    db.session.get(User, user.id).set_password("Set-Directly-77")
    db.session.commit()
    assert client.get("/home").location.startswith("/auth/login")


def test_the_user_list_exports_to_excel_with_its_filters(staff_client, make_user):
    from io import BytesIO

    from openpyxl import load_workbook

    make_user(Role.EXPERT, name="张院士", email="zhang@example.cn")
    make_user(Role.EXPERT, name="刘教授", email="liu@example.cn", is_enabled=False)
    make_user(Role.ANALYST, name="陈分析", email="chen@example.cn")
    page = staff_client.get("/admin/users?role=expert&status=enabled").get_data(as_text=True)
    assert "/admin/users/export.xlsx?role=expert&amp;status=enabled" in page
    response = staff_client.get("/admin/users/export.xlsx?role=expert&status=enabled")
    assert response.status_code == 200 and "users-" in response.headers["Content-Disposition"]
    rows = list(load_workbook(BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("姓名", "电子邮箱", "角色")
    assert [row[:3] for row in rows[1:]] == [("张院士", "zhang@example.cn", "评审专家")]
    assert staff_client.get("/admin/users/export.xlsx?role=nobody").status_code == 400


def test_a_session_ends_after_its_absolute_lifetime_however_active(app, client, auth, make_user):
    user = make_user(Role.EXPERT)
    auth.login(user.email)
    assert client.get("/home").status_code == 200
    with client.session_transaction() as session:
        session["started_at"] = int(time.time()) - app.config["SESSION_MAX_HOURS"] * 3600 - 1
    response = client.get("/home")
    assert response.location.startswith("/auth/login")
    assert "会话已结束" in client.get(response.location).get_data(as_text=True)
    assert client.get("/home").location.startswith("/auth/login")


def test_the_cookie_is_secure_when_the_platform_is_served_over_https(monkeypatch, tmp_path):
    from config import Config

    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://xueshu.bast.example.cn")
    assert Config(tmp_path).SESSION_COOKIE_SECURE is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    assert Config(tmp_path).SESSION_COOKIE_SECURE is False
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    monkeypatch.setenv("SESSION_MAX_HOURS", "8")
    settings = Config(tmp_path)
    assert settings.SESSION_COOKIE_SECURE is True and settings.PERMANENT_SESSION_LIFETIME.total_seconds() == 8 * 3600


def test_a_secure_setting_marks_the_session_cookie_secure(app, client, make_user):
    user = make_user(Role.EXPERT)
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        response = client.post("/auth/login", data={
            "email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": csrf_token(client, "/auth/login")})
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
