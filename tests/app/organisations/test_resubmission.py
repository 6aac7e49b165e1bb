"""A rejected society corrects its record and resubmits it (it used to be told to register
again, which the duplicate checks refused)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.organisations import services
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation
from tests.app.helpers import csrf_token
from tests.app.organisations.test_registration import PASSWORD, log_in, registered, review  # noqa: F401

WRONG_CODE = make_credit_code("51110000500006666")
RIGHT_CODE = make_credit_code("51110000500006667")


@pytest.fixture()
def rejected(client, auth, registered, make_user):  # noqa: F811
    staff = make_user(Role.STAFF)
    auth.login(staff.email)
    assert review(client, registered, "reject", "统一社会信用代码与登记证书不符").status_code == 302
    auth.logout()
    return registered


def login_as_applicant(client, password=PASSWORD):
    return client.post("/auth/login", data={
        "email": "zhou@acoustics.example.cn", "password": password, "csrf_token": csrf_token(client, "/auth/login"),
    })


def corrected(**overrides) -> dict:
    return {
        "name_zh": "北京声学学会", "name_en": "Acoustical Society of Beijing", "org_type": "society",
        "credit_code": f" {RIGHT_CODE[:4]} {RIGHT_CODE[4:8]}-{RIGHT_CODE[8:12]} {RIGHT_CODE[12:]} ",  # as typed
        "contact_name": "周会长", "comment": "已按登记证书更正信用代码",
    } | overrides


def test_a_rejected_applicant_corrects_and_resubmits(client, auth, rejected, make_user):
    response = login_as_applicant(client)
    assert response.status_code == 302 and "/register/resubmit/" in response.location
    form = client.get(response.location).get_data(as_text=True)
    assert "统一社会信用代码与登记证书不符" in form and "重新提交审核" in form
    assert client.get("/home").location.startswith("/auth/login")  # no session: the account still waits

    sent = client.post(response.location, data=corrected() | {"csrf_token": csrf_token(client, response.location)})
    assert sent.status_code == 302 and sent.location == "/register/done?resubmitted=1"
    assert "重新提交" in client.get(sent.location).get_data(as_text=True)
    db.session.expire_all()
    organisation = db.session.get(Organisation, rejected.id)
    assert (organisation.status, organisation.credit_code) == ("pending", RIGHT_CODE)
    applicant = organisation.users[0]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.resubmitted"))
    assert (entry.actor_id, entry.from_state, entry.to_state, entry.comment) == (
        applicant.id, "rejected", "pending", "已按登记证书更正信用代码")
    change = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.updated"))
    assert change.details == {"changes": {"credit_code": [WRONG_CODE, RIGHT_CODE]}} and change.actor_id == applicant.id

    # The link is spent; the registration waits for review again; approval lets the applicant in.
    assert client.get(response.location).status_code == 400
    assert login_as_applicant(client).status_code == 403
    auth.login(make_user(Role.STAFF).email)
    history = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    assert "注册已修改并重新提交" in history and "统一社会信用代码: " in history
    assert review(client, organisation, "approve").status_code == 302
    auth.logout()
    assert log_in(auth, client) == 200


def test_a_refused_correction_changes_nothing(client, rejected, make_organisation):
    make_organisation(name_zh="北京计算机学会", credit_code=RIGHT_CODE)
    link = login_as_applicant(client).location
    response = client.post(link, data=corrected() | {"csrf_token": csrf_token(client, link)})
    assert response.status_code == 400 and "该统一社会信用代码的单位已注册" in response.get_data(as_text=True)
    db.session.expire_all()
    organisation = db.session.get(Organisation, rejected.id)
    assert (organisation.status, organisation.credit_code) == ("rejected", WRONG_CODE)
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "organisation.resubmitted")).all()


def test_only_the_applicant_with_the_right_password_gets_the_link(client, rejected, make_user):
    assert login_as_applicant(client, "Wrong-Password-1").status_code == 400
    member = make_user(Role.SOCIETY, organisation=rejected, is_enabled=False, awaiting_approval=True)
    response = client.post("/auth/login", data={
        "email": member.email, "password": "Correct-Horse-9", "csrf_token": csrf_token(client, "/auth/login")})
    assert response.status_code == 403 and "未通过审核" in response.get_data(as_text=True)  # not its administrator
    db.session.get(User, rejected.users[0].id).awaiting_approval = False  # staff disabled it on purpose
    db.session.commit()
    assert login_as_applicant(client).status_code == 403


def test_a_forged_or_foreign_token_opens_nothing(app, client, rejected):
    from conference_app.accounts.services import reset_token

    applicant = rejected.users[0]
    for token in ("garbage", reset_token(applicant), services.resubmission_token(applicant)[:-3] + "abc"):
        response = client.get(f"/register/resubmit/{token}")
        assert response.status_code == 400 and "链接无效" in response.get_data(as_text=True)


def test_the_rejection_mail_tells_how_to_resubmit(app, client, auth, registered, make_user, outbox):  # noqa: F811
    auth.login(make_user(Role.STAFF).email)
    review(client, registered, "reject", "材料不全")
    (mail,) = [message for message in outbox() if message["To"] == "zhou@acoustics.example.cn" and "未通过" in message["Subject"]]
    body = mail.get_content()
    assert "重新提交" in body and re.search(r"http://127\.0\.0\.1:5000/auth/login", body)
