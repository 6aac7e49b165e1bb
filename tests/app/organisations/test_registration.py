"""Self-registration: pending until staff approve; approval enables, rejection says why."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation
from tests.app.helpers import csrf_token

PASSWORD = "Sound-Wave-2026"


@pytest.fixture()
def registered(client):
    """A society that registered itself through the public form."""
    data = {
        "name_zh": "北京声学学会",
        "name_en": "Acoustical Society of Beijing",
        "org_type": "society",
        "credit_code": make_credit_code("51110000500006666"),
        "contact_name": "周会长",
        "user_name": "周会长",
        "email": "Zhou@Acoustics.example.cn",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "is_bast_member": "y",  # not on the public form: must be ignored
        "status": "approved",
        "csrf_token": csrf_token(client, "/register"),
    }
    response = client.post("/register", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/register/done")
    assert client.get("/register/done").status_code == 200
    return db.session.scalar(select(Organisation).where(Organisation.name_zh == "北京声学学会"))


def log_in(auth, client, email=" zhou@acoustics.example.cn", password=PASSWORD) -> int:
    auth.login(email.strip(), password)
    return client.get("/home").status_code


def review(client, organisation, action: str, comment: str = ""):
    url = f"/organisations/{organisation.id}"
    return client.post(f"{url}/{action}", data={"comment": comment, "csrf_token": csrf_token(client, url)})


def last_mail(app, before: set[Path]) -> EmailMessage:
    """The one message written to the outbox since ``before``."""
    (path,) = set(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")) - before
    return message_from_bytes(path.read_bytes(), policy=default)


def outbox(app) -> set[Path]:
    return set(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))


def entries(action: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_registration_is_pending_and_cannot_log_in(client, auth, registered):
    user = registered.users[0]
    assert registered.status == "pending" and not registered.is_bast_member
    assert (user.email, user.role, user.is_org_admin, user.is_enabled) == (
        "zhou@acoustics.example.cn", Role.SOCIETY.value, True, False
    )
    assert [(entry.to_state, entry.actor_id) for entry in entries("organisation.registered")] == [("pending", user.id)]
    assert log_in(auth, client) != 200


def test_staff_approval_enables_the_user(app, client, auth, registered, make_user):
    staff = make_user(Role.STAFF, name="王审核")
    auth.login(staff.email)
    pending = client.get("/organisations/?status=pending").get_data(as_text=True)
    assert "北京声学学会" in pending
    before = outbox(app)
    assert review(client, registered, "approve", "材料齐全").status_code == 302
    notice = last_mail(app, before)
    assert notice["To"] == "zhou@acoustics.example.cn" and "审核通过" in notice["Subject"]
    assert "北京声学学会" in notice.get_content()
    assert "http://127.0.0.1:5000/auth/login" in notice.get_content()  # a link to the platform, from PUBLIC_BASE_URL
    db.session.expire_all()
    assert registered.status == "approved" and registered.reviewed_by_id == staff.id
    assert registered.users[0].is_enabled
    (approval,) = entries("organisation.approved")
    assert (approval.actor_id, approval.from_state, approval.to_state, approval.comment) == (
        staff.id, "pending", "approved", "材料齐全"
    )
    assert entries("user.enabled")[0].object_id == str(registered.users[0].id)
    assert "王审核" in client.get(f"/organisations/{registered.id}").get_data(as_text=True)
    assert review(client, registered, "approve").status_code == 409  # not twice: the state says no
    auth.logout()
    assert log_in(auth, client) == 200
    assert client.get("/organisations/mine").status_code == 302


@pytest.mark.parametrize(("action", "message"), [("approve", "该单位已审核通过。"), ("reject", "只有待审核的注册才能不予通过。")])
def test_a_second_decision_is_refused_with_a_visible_message(client, auth, registered, make_user, action, message):
    """Once approved the review panel is gone; the refusal must still be shown."""
    auth.login(make_user(Role.STAFF).email)
    assert review(client, registered, "approve").status_code == 302
    response = review(client, registered, action, "再审一次")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'data-testid="form-errors"' in html and message in html
    db.session.expire_all()
    assert registered.status == "approved" and len(entries("organisation.approved")) == 1


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_decision_mails_are_in_each_recipients_language(app, client, auth, registered, make_user, outbox, action):
    """Staff reviewing in English write to a Chinese society user in Chinese (and to an English one in English)."""
    db.session.add(User(email="en@acoustics.example.cn", name="Member", role=Role.SOCIETY.value,
                        organisation=registered, is_enabled=False, locale="en", password_hash="x"))
    db.session.commit()
    staff = make_user(Role.STAFF, locale="en")
    auth.login(staff.email)
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/home")})
    assert review(client, registered, action, "Papers missing").status_code == 302
    mails = {message["To"]: message for message in outbox()}
    chinese, english = mails["zhou@acoustics.example.cn"], mails["en@acoustics.example.cn"]
    assert ("审核通过" if action == "approve" else "未通过") in chinese["Subject"]
    assert "首都学术平台" in chinese.get_content() or "北京市科学技术协会" in chinese.get_content()
    assert "registration" in english["Subject"] and "Hello" in english.get_content()


@pytest.mark.parametrize("first", ["approve", "reject"])
def test_approval_enables_only_the_users_awaiting_it(client, auth, registered, make_user, first):
    """Accounts staff disabled on purpose stay disabled when the organisation is approved."""
    staff = make_user(Role.STAFF)
    disabled_member = make_user(Role.SOCIETY, organisation=registered, is_enabled=False)
    second = make_user(Role.SOCIETY, organisation=registered, is_enabled=False, awaiting_approval=True)
    auth.login(staff.email)
    url = f"/admin/users/{second.id}/disable"
    assert client.post(url, data={"csrf_token": csrf_token(client, "/admin/users")}).status_code == 302
    if first == "reject":
        assert review(client, registered, "reject", "材料不全").status_code == 302
    assert review(client, registered, "approve").status_code == 302
    db.session.expire_all()
    assert registered.users[0].is_enabled  # the registrant, who was waiting
    assert not db.session.get(User, disabled_member.id).is_enabled
    assert not db.session.get(User, second.id).is_enabled
    assert [entry.object_id for entry in entries("user.enabled")] == [str(registered.users[0].id)]


def test_rejection_needs_a_reason_and_keeps_the_user_out(app, client, auth, registered, make_user):
    auth.login(make_user(Role.STAFF).email)
    response = review(client, registered, "reject", "  ")
    assert response.status_code == 400 and "请填写不予通过的理由" in response.get_data(as_text=True)
    db.session.expire_all()
    assert registered.status == "pending" and not entries("organisation.rejected")
    before = outbox(app)
    assert review(client, registered, "reject", "信用代码与名称不符").status_code == 302
    assert "信用代码与名称不符" in last_mail(app, before).get_content()
    db.session.expire_all()
    assert registered.status == "rejected" and registered.review_comment == "信用代码与名称不符"
    (rejection,) = entries("organisation.rejected")
    assert (rejection.from_state, rejection.to_state, rejection.comment) == ("pending", "rejected", "信用代码与名称不符")
    auth.logout()
    assert log_in(auth, client) != 200
    assert not db.session.get(User, registered.users[0].id).is_enabled


def test_only_staff_review(client, auth, registered, make_user):
    auth.login(make_user(Role.EXPERT).email)
    assert review(client, registered, "approve").status_code == 403
    db.session.expire_all()
    assert registered.status == "pending"


def test_a_credit_code_typed_with_spaces_or_hyphens_is_accepted_and_stored_plain(client):
    code = make_credit_code("51110000500006668")
    typed = f"{code[:4]} {code[4:8]} {code[8:12]}-{code[12:16]} {code[16:]}"  # 9111 0000 7001 0009 AQ
    data = {
        "name_zh": "北京光学学会", "org_type": "society", "credit_code": typed, "user_name": "林会长",
        "email": "lin@optics.example.cn", "password": PASSWORD, "password_confirm": PASSWORD,
        "csrf_token": csrf_token(client, "/register"),
    }
    assert len(typed) > 18
    response = client.post("/register", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(select(Organisation.credit_code).where(Organisation.name_zh == "北京光学学会")) == code


def test_registrations_are_throttled_per_client_address(app, client):
    app.config["REGISTRATION_IP_MAX"] = 2
    try:
        answers = []
        for number in range(3):
            data = {
                "name_zh": f"北京第{number}学会", "org_type": "society",
                "credit_code": make_credit_code(f"5111000050000{7000 + number}"), "user_name": "申请人",
                "email": f"applicant{number}@example.cn", "password": PASSWORD, "password_confirm": PASSWORD,
                "csrf_token": csrf_token(client, "/register"),
            }
            answers.append(client.post("/register", data=data, environ_base={"REMOTE_ADDR": "203.0.113.30"}))
        assert [answer.status_code for answer in answers] == [302, 302, 429]
        assert "注册次数过多" in answers[2].get_data(as_text=True)
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 2
        other = client.post("/register", data=data | {"csrf_token": csrf_token(client, "/register")},
                            environ_base={"REMOTE_ADDR": "198.51.100.30"})
        assert other.status_code == 302  # another network is not affected
    finally:
        app.config["REGISTRATION_IP_MAX"] = 5
