"""API tokens: issued from the command line, stored hashed, listed and revoked by staff (and
by their owners), each decision in the audit log."""

from __future__ import annotations

import hashlib
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from conference_app.accounts.models import ApiToken
from conference_app.accounts.tokens import issue_token
from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.events.services import registrations
from conference_app.extensions import db
from tests.app.conftest import log_in_session
from tests.app.core.test_query_counts import FEW, MANY, statements_for
from tests.app.events.api_helpers import assert_api_error, bearer, check_in, token_for
from tests.app.helpers import csrf_token


@pytest.fixture()
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["users", *args])

    return invoke


def tokens() -> list[ApiToken]:
    db.session.expire_all()
    return db.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()


# --- issuing ---------------------------------------------------------------------------------


def test_the_command_prints_the_token_alone_on_the_last_line_and_keeps_only_its_hash(run, client, make_user,
                                                                                     make_event):
    staff = make_user(Role.STAFF)
    result = run("token", staff.email.upper(), "--scope", "checkin", "--name", "入口扫码枪 1")
    assert result.exit_code == 0, result.output
    secret = result.output.rstrip("\n").splitlines()[-1]
    assert secret.startswith("cap_") and len(secret) == 47 and " " not in secret
    [row] = tokens()
    assert (row.user_id, row.name, row.scope, row.revoked_at) == (staff.id, "入口扫码枪 1", "checkin", None)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest() and row.prefix == secret[:12]
    assert secret not in str(db.session.execute(select(ApiToken.__table__)).all())
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.action, entry.actor_label, entry.object_type, entry.to_state) == (
        "api_token.issued", "system (command line)", "ApiToken", "active")
    code = registrations.register(make_event(), {"name": "张三", "phone": "13800000001"}).code
    db.session.commit()
    assert check_in(client, secret, code).get_json()["status"] == "checked_in"


def test_the_default_name_is_the_scope_and_the_day(run, make_user):
    result = run("token", make_user(Role.SOCIETY).email, "--scope", "checkin")
    assert result.exit_code == 0, result.output
    assert tokens()[0].name.startswith("checkin 20")


def test_each_token_is_new(make_user):
    user = make_user(Role.STAFF)
    first, second = issue_token(user, "checkin", "a"), issue_token(user, "checkin", "b")
    db.session.commit()
    assert first.secret != second.secret and first.row.prefix != second.row.prefix


@pytest.mark.parametrize(("args", "exit_code", "message"), [
    (("token", "nobody@example.cn", "--scope", "checkin"), 1, "no user with e-mail"),
    (("token", "{email}", "--scope", "admin"), 2, "Invalid value for '--scope'"),
    (("token", "{email}"), 2, "Missing option '--scope'"),
    (("token", "{email}", "--scope", "checkin", "--name", "   "), 1, "请为令牌命名"),
    (("token", "{email}", "--scope", "checkin", "--name", "x" * 101), 1, "100"),
    (("token", "{disabled}", "--scope", "checkin"), 1, "该账号已停用"),
])
def test_bad_input_is_one_line_and_issues_nothing(run, make_user, args, exit_code, message):
    email = make_user(Role.STAFF).email
    disabled = make_user(Role.STAFF, is_enabled=False).email
    result = run(*(arg.format(email=email, disabled=disabled) for arg in args))
    assert result.exit_code == exit_code
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1 and message in result.output
    assert tokens() == [] and db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


# --- the staff list ----------------------------------------------------------------------------


def test_staff_list_every_token_with_its_user_scope_prefix_and_times(client, make_user):
    staff, society = make_user(Role.STAFF), make_user(Role.SOCIETY, name="学会用户")
    token_for(society, name="会场扫码枪")
    token_for(staff, name="总台")
    log_in_session(client, staff)
    html = client.get("/admin/tokens").get_data(as_text=True)
    for text in ("学会用户", society.email, "会场扫码枪", "总台", "活动签到", tokens()[0].prefix, "从未", "有效"):
        assert text in html, text
    assert "API 令牌" in client.get("/home").get_data(as_text=True)  # the navbar link


def test_staff_revoke_any_token_as_an_audited_decision_and_it_opens_nothing_after(client, make_user):
    staff, society = make_user(Role.STAFF), make_user(Role.SOCIETY)
    secret = token_for(society)
    [row] = tokens()
    log_in_session(client, staff)
    response = client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/admin/tokens")})
    assert response.status_code == 302 and response.location == "/admin/tokens"
    assert tokens()[0].revoked_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.revoked"))
    assert (entry.actor_id, entry.object_id, entry.from_state, entry.to_state) == (staff.id, str(row.id), "active",
                                                                                     "revoked")
    assert entry.details == {"user_id": society.id}
    html = client.get("/admin/tokens?status=revoked").get_data(as_text=True)
    assert "已吊销" in html and "吊销</button>" not in html
    assert_api_error(client.post("/api/v1/checkins", json={"code": "X"}, headers=bearer(secret)), 401)
    again = client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/admin/tokens")})
    assert again.status_code == 409 and "此令牌已被吊销" in again.get_data(as_text=True)


def test_the_list_filters_and_exports_with_its_filters(client, make_user):
    staff = make_user(Role.STAFF)
    alice, bob = make_user(Role.SOCIETY, name="Alice"), make_user(Role.SOCIETY, name="Bob")
    token_for(alice, name="north door")
    token_for(bob, name="south door")
    db.session.get(ApiToken, tokens()[1].id).revoked_at = tokens()[1].created_at
    db.session.commit()
    log_in_session(client, staff)

    def names(url) -> list[str]:
        html = client.get(url).get_data(as_text=True)
        return [name for name in ("north door", "south door") if name in html]

    assert names("/admin/tokens") == ["north door", "south door"]
    assert names("/admin/tokens?q=alice") == ["north door"]
    assert names(f"/admin/tokens?q={tokens()[1].prefix}") == ["south door"]
    assert names("/admin/tokens?status=active") == ["north door"]
    assert names("/admin/tokens?scope=checkin&status=revoked") == ["south door"]
    assert client.get("/admin/tokens?status=lost").status_code == 400
    assert 'href="/admin/tokens/export.xlsx?status=revoked"' in client.get("/admin/tokens?status=revoked").get_data(
        as_text=True)
    export = client.get("/admin/tokens/export.xlsx?status=revoked")
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("用户", "电子邮箱", "令牌名称", "权限范围", "前缀")
    assert [row[2] for row in rows[1:]] == ["south door"] and rows[1][7] is not None


@pytest.mark.parametrize("url", ["/admin/tokens", "/admin/tokens/export.xlsx"])
def test_the_list_issues_the_same_statements_for_few_and_many_tokens(client, make_user, url):
    log_in_session(client, make_user(Role.STAFF))

    def add(count: int) -> None:
        for _ in range(count):
            token_for(make_user(Role.SOCIETY))

    add(FEW)
    few = statements_for(client, url)
    add(MANY - FEW)
    assert statements_for(client, url) == few


# --- a user's own tokens -------------------------------------------------------------------------


def test_users_see_and_revoke_their_own_tokens_only(client, make_user):
    mine_owner, other = make_user(Role.SOCIETY), make_user(Role.SOCIETY)
    token_for(mine_owner, name="我的扫码枪")
    token_for(other, name="别人的扫码枪")
    mine, theirs = tokens()
    log_in_session(client, mine_owner)
    html = client.get("/account/tokens").get_data(as_text=True)
    assert "我的扫码枪" in html and "别人的扫码枪" not in html
    assert client.get("/admin/tokens").status_code == 403
    csrf = csrf_token(client, "/account/tokens")
    assert client.post(f"/account/tokens/{theirs.id}/revoke", data={"csrf_token": csrf}).status_code == 403
    assert client.post(f"/admin/tokens/{theirs.id}/revoke", data={"csrf_token": csrf}).status_code == 403
    assert client.post(f"/account/tokens/{mine.id}/revoke", data={"csrf_token": csrf}).location == "/account/tokens"
    assert [t.revoked_at is not None for t in tokens()] == [True, False]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.revoked"))
    assert entry.actor_id == mine_owner.id


def test_staff_revoke_others_tokens_through_the_staff_list_not_the_own_page(client, make_user):
    staff = make_user(Role.STAFF)
    token_for(make_user(Role.SOCIETY))
    log_in_session(client, staff)
    csrf = csrf_token(client, "/account/tokens")
    assert client.post(f"/account/tokens/{tokens()[0].id}/revoke", data={"csrf_token": csrf}).status_code == 403
    assert "您没有 API 令牌" in client.get("/account/tokens").get_data(as_text=True)


def test_revoking_needs_the_csrf_token(client, make_user):
    staff = make_user(Role.STAFF)
    token_for(staff)
    log_in_session(client, staff)
    assert client.post(f"/admin/tokens/{tokens()[0].id}/revoke").status_code == 400
    assert tokens()[0].revoked_at is None
