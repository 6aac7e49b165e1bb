"""Acceptance 5: bad input gets a clear Chinese message or a 400, never a 500, and nothing
is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation, PastEvent
from tests.app.helpers import csrf_token

GOOD_CODE = make_credit_code("51110000500007777")
WRONG_CHECK = GOOD_CODE[:17] + ("0" if GOOD_CODE[17] != "0" else "1")


def row_counts() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) for model in (Organisation, User, PastEvent, AuditEntry)
    )


def registration(**overrides) -> dict:
    data = {
        "name_zh": "北京声学学会",
        "org_type": "society",
        "credit_code": GOOD_CODE,
        "contact_phone": "010-12345678",
        "user_name": "周会长",
        "email": "zhou@acoustics.example.cn",
        "password": "Sound-Wave-2026",
        "password_confirm": "Sound-Wave-2026",
    }
    return data | overrides


@pytest.fixture()
def existing(make_organisation):
    return make_organisation(name_zh="北京计算机学会", credit_code=make_credit_code("51110000500008888"))


CASES = {
    "wrong check character": ({"credit_code": WRONG_CHECK}, "统一社会信用代码校验位不正确"),
    "credit code too short": ({"credit_code": GOOD_CODE[:17]}, "统一社会信用代码必须为18位"),
    "bad character in code": ({"credit_code": GOOD_CODE[:16] + "I" + GOOD_CODE[17]}, "不允许的字符"),
    "empty name": ({"name_zh": "   "}, "请填写单位中文名称"),
    "over-long name": ({"name_zh": "学" * 201}, "最多 200 个字符"),
    "over-long phone": ({"contact_phone": "1" * 31}, "最多 30 个字符"),
    "duplicate name": ({"name_zh": "北京计算机学会"}, "该中文名称的单位已注册"),
    "duplicate credit code": ({"credit_code": make_credit_code("51110000500008888").lower()}, "该统一社会信用代码的单位已注册"),
    "bad organisation type": ({"org_type": "club"}, "请选择"),
    "NUL character": ({"contact_name": "周\x00会长"}, "含有不允许的字符"),
}


@pytest.mark.parametrize("url", ["/register", "/organisations/new"])
@pytest.mark.parametrize("case", CASES)
def test_organisation_bad_input(client, auth, make_user, existing, url, case):
    """The same refusals on the public registration form and on staff's form."""
    if url == "/organisations/new":
        auth.login(make_user(Role.STAFF).email)
    overrides, message = CASES[case]
    before = row_counts()
    response = client.post(url, data=registration(**overrides) | {"csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts() == before


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"password_confirm": "Another-Pass-1"}, "两次输入的密码不一致"),
        ({"email": "not-an-address"}, "请填写有效的电子邮箱地址"),
        ({"user_name": ""}, "请填写您的姓名"),
    ],
)
def test_self_registration_bad_user_fields(client, overrides, message):
    before = row_counts()
    response = client.post("/register", data=registration(**overrides) | {"csrf_token": csrf_token(client, "/register")})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts() == before


def test_registration_with_a_taken_email_creates_nothing_and_answers_like_a_new_one(client, make_user, outbox):
    """The form does not tell a stranger which addresses have accounts; the owner is told by mail."""
    user = make_user(Role.EXPERT)
    organisations, users, events, entries = row_counts()
    data = registration(email=user.email.upper()) | {"csrf_token": csrf_token(client, "/register")}
    taken = client.post("/register", data=data)
    assert row_counts() == (organisations, users, events, entries + 1)  # only the refusal is logged
    (mail,) = outbox()
    assert mail["To"] == user.email and "已有账号" in mail.get_content()
    fresh = client.post("/register", data=registration(name_zh="北京光学学会", credit_code=make_credit_code(
        "51110000500007778"), email="new@optics.example.cn") | {"csrf_token": csrf_token(client, "/register")})
    assert (taken.status_code, taken.location) == (fresh.status_code, fresh.location) == (302, "/register/done")
    assert [message["To"] for message in outbox()][1:] == ["new@optics.example.cn"]  # its confirmation


def test_staff_edit_to_a_duplicate_changes_nothing(client, auth, make_user, make_organisation, existing):
    auth.login(make_user(Role.STAFF).email)
    organisation = make_organisation(name_zh="北京力学会")
    url = f"/organisations/{organisation.id}/edit"
    data = {
        "name_zh": "北京计算机学会",
        "org_type": "society",
        "credit_code": organisation.credit_code,
        "contact_name": "不应保存",
        "csrf_token": csrf_token(client, url),
    }
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "该中文名称的单位已注册" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (organisation.name_zh, organisation.contact_name) == ("北京力学会", None)


@pytest.mark.parametrize("token", ["tampered", ""])
def test_tampered_csrf_token_is_400_and_writes_nothing(client, token):
    client.get("/register")  # a session with a real token exists
    before = row_counts()
    response = client.post("/register", data=registration() | {"csrf_token": token})
    assert response.status_code == 400
    assert "表单已过期或无效" in response.get_data(as_text=True)
    assert row_counts() == before


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"year": "1800"}, "年份须在 1949 至"),
        ({"year": "二〇二四"}, "不是有效的整数"),
        ({"title": ""}, "请填写活动名称"),
        ({"title": "会" * 301}, "最多 300 个字符"),
        ({"title": "会\x00议"}, "含有不允许的字符"),
        ({"kind": "galactic"}, "请选择活动类别"),
    ],
)
def test_past_event_bad_input_is_400_with_message(client, auth, make_user, make_organisation, overrides, message):
    organisation = make_organisation()
    auth.login(make_user(Role.SOCIETY, organisation=organisation, is_org_admin=True).email)
    url = f"/organisations/{organisation.id}"
    before = row_counts()
    data = {"year": "2024", "kind": "national", "title": "会议", "role": "host"} | overrides
    response = client.post(f"{url}/events", data=data | {"csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts() == before


def test_review_comment_and_search_with_odd_input_never_fail(client, auth, make_user, make_organisation):
    organisation = make_organisation(status="pending")
    auth.login(make_user(Role.STAFF).email)
    assert client.get("/organisations/?q=x&status=bogus&org_type=x&bast_member=maybe&page=-3").status_code == 200
    assert client.get("/organisations/?q=%00").status_code in (200, 400)
    url = f"/organisations/{organisation.id}"
    before = row_counts()
    response = client.post(f"{url}/reject", data={"comment": "不\x00行", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 400 and "含有不允许的字符" in response.get_data(as_text=True)
    response = client.post(f"{url}/approve", data={"comment": "好" * 2001, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 400 and "最多 2000 个字符" in response.get_data(as_text=True)
    assert row_counts() == before
