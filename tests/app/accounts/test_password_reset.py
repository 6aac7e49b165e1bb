"""Password reset by e-mail: same answer for every address, single-use timed links, mail after commit."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from conference_app.accounts import services
from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.core import mail
from conference_app.core.permissions import Role
from conference_app.extensions import db
from tests.app.helpers import csrf_token

NEW_PASSWORD = "Brand-new-pass-77"


def request_reset(client, email: str):
    return client.post("/auth/reset", data={"email": email, "csrf_token": csrf_token(client, "/auth/reset")})


def reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/auth/reset/\S+)", message.get_content()).group(1)


def set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    data = {"new_password": password, "confirm": confirm or password, "csrf_token": csrf_token(client, path)}
    return client.post(path, data=data)


def test_same_answer_whether_or_not_the_address_exists(client, make_user, outbox):
    user = make_user(Role.EXPERT)
    pages = []
    for email in (user.email, "nobody@example.cn"):
        response = request_reset(client, email)
        assert (response.status_code, response.location) == (302, "/auth/login")
        pages.append(client.get(response.location).get_data(as_text=True))
    assert "重置密码的链接已发送" in pages[0]
    without_tokens = [re.sub(r'(value|content)="[\w.-]{40,}"', "", page) for page in pages]
    assert without_tokens[0] == without_tokens[1]
    [message] = outbox()
    assert message["To"] == user.email
    assert "首都学术平台" in message["Subject"]


def test_reset_link_sets_the_password_once(client, auth, make_user, outbox):
    user = make_user(Role.EXPERT)
    request_reset(client, user.email)
    path = reset_link(outbox()[0])
    assert client.get(path).status_code == 200
    response = set_password(client, path)
    assert response.location == "/auth/login"
    assert auth.login(user.email, NEW_PASSWORD).location == "/home"
    auth.logout()
    # Spent: the link was bound to the old password.
    again = client.get(path)
    assert again.location == "/auth/reset"
    assert "链接无效、已过期或已被使用" in client.get("/auth/reset").get_data(as_text=True)
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[:2] == ["user.password_reset_requested", "user.password_reset"]


def test_reset_unlocks_a_locked_account(client, auth, make_user, outbox):
    user = make_user(Role.EXPERT)
    for _ in range(client.application.config["LOGIN_MAX_FAILURES"]):
        auth.login(user.email, "Wrong-password-1")
    request_reset(client, user.email)
    set_password(client, reset_link(outbox()[0]))
    assert auth.login(user.email, NEW_PASSWORD).location == "/home"


def test_expired_and_forged_tokens_are_refused(app, client, make_user):
    user = make_user(Role.EXPERT)
    token = services.reset_token(user)
    app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] = -1
    try:
        assert client.get(f"/auth/reset/{token}").location == "/auth/reset"
    finally:
        app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] = 3600
    assert client.get(f"/auth/reset/{token[:-3]}abc").location == "/auth/reset"
    assert client.get("/auth/reset/not-a-token").location == "/auth/reset"


def test_weak_new_password_is_refused_and_nothing_changes(client, make_user):
    user = make_user(Role.EXPERT)
    hash_before = user.password_hash
    path = f"/auth/reset/{services.reset_token(user)}"
    response = set_password(client, path, "short")
    assert response.status_code == 400
    assert "密码至少需要" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == hash_before


def test_disabled_account_gets_no_mail(client, make_user, outbox):
    user = make_user(Role.EXPERT, is_enabled=False)
    assert request_reset(client, user.email).status_code == 302
    assert outbox() == []


def test_bad_email_is_refused_in_chinese(client, outbox):
    response = request_reset(client, "not an address")
    assert response.status_code == 400
    assert "请输入有效的电子邮箱地址" in response.get_data(as_text=True)
    assert outbox() == []


def test_mail_goes_out_only_after_commit(app, outbox):
    with app.test_request_context():
        mail.send("a@example.cn", "subject", "body")
        db.session.rollback()
        assert outbox() == []
        mail.send("b@example.cn", "subject", "body")
        assert outbox() == []
        db.session.commit()
    [message] = outbox()
    assert message["To"] == "b@example.cn"


def test_mail_is_in_the_recipients_language(client, make_user, outbox):
    user = make_user(Role.EXPERT, locale="en")
    request_reset(client, user.email)  # the visitor browses in Chinese
    [message] = outbox()
    assert message["Subject"] == "Capital Academic Platform - Reset your password"
    assert message.get_content().startswith(f"Hello {user.name},")


def test_the_mail_says_how_long_the_link_lasts_in_good_english_and_chinese(app, client, make_user, outbox):
    """Not "expires in 1 hours": the lifetime is counted in minutes, singular or plural."""
    english, chinese = make_user(Role.EXPERT, locale="en"), make_user(Role.EXPERT)
    max_age = app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]
    try:
        for seconds, words in ((3600, "expires in 60 minutes."), (60, "expires in 1 minute.")):
            app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] = seconds
            request_reset(client, english.email)
            request_reset(client, chinese.email)
            *_, to_english, to_chinese = outbox()
            assert words in to_english.get_content() and "hours" not in to_english.get_content()
            assert f"{seconds // 60} 分钟后失效" in to_chinese.get_content()
    finally:
        app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] = max_age


def request_reset_from(client, email: str, ip_address: str):
    token = csrf_token(client, "/auth/reset")
    return client.post("/auth/reset", data={"email": email, "csrf_token": token}, environ_base={"REMOTE_ADDR": ip_address})


def test_an_account_gets_a_limited_number_of_links_with_the_same_answer(app, client, make_user, outbox):
    user = make_user(Role.EXPERT)
    limit = app.config["PASSWORD_RESET_MAX_MAILS"]
    answers = [request_reset_from(client, user.email, f"198.51.100.{n}") for n in range(limit + 2)]
    assert {(r.status_code, r.location) for r in answers} == {(302, "/auth/login")}
    assert len(outbox()) == limit
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["user.password_reset_requested"] * limit + ["user.password_reset_throttled"] * 2


def test_one_client_address_may_ask_only_so_often_whatever_the_addresses(app, client, make_user, outbox):
    user = make_user(Role.EXPERT)
    limit = app.config["PASSWORD_RESET_IP_MAX"]
    for number in range(limit):
        assert request_reset_from(client, f"guess{number}@example.cn", "203.0.113.7").status_code == 302
    refused = request_reset_from(client, user.email, "203.0.113.7")
    assert refused.status_code == 429 and "您所在网络的密码重置请求过多" in refused.get_data(as_text=True)
    assert outbox() == []
    assert request_reset_from(client, user.email, "203.0.113.8").status_code == 302  # another address is not affected
    assert len(outbox()) == 1


class SlowSMTP:
    """A stand-in for smtplib.SMTP whose every message takes as long as a real server's."""

    delay = 0.6
    sent: list = []

    def __init__(self, host, port, timeout=None):
        self.host = host

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def send_message(self, message):
        time.sleep(self.delay)
        self.sent.append(message)


def test_reset_request_does_not_wait_for_the_mail_server(app, client, make_user, monkeypatch):
    """An existing address must not answer slower than an unknown one (the SMTP round trip)."""
    import smtplib

    user = make_user(Role.EXPERT)
    monkeypatch.setattr(smtplib, "SMTP", SlowSMTP)
    monkeypatch.setattr(SlowSMTP, "sent", [])
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.cn")
    token = csrf_token(client, "/auth/reset")
    try:
        timings = []
        for email in (user.email, "nobody@example.cn"):
            started = time.perf_counter()
            response = client.post("/auth/reset", data={"email": email, "csrf_token": token})
            timings.append(time.perf_counter() - started)
            assert (response.status_code, response.location) == (302, "/auth/login")
        assert max(timings) < SlowSMTP.delay / 2, timings
    finally:
        mail.wait_until_sent(timeout=10)
    [message] = SlowSMTP.sent  # still delivered, in the background
    assert message["To"] == user.email and "/auth/reset/" in message.get_content()


def test_a_mail_failing_in_the_background_is_logged_not_raised(app, client, make_user, monkeypatch, caplog):
    import smtplib

    class BrokenSMTP(SlowSMTP):
        def send_message(self, message):
            raise smtplib.SMTPServerDisconnected("gone")

    user = make_user(Role.EXPERT)
    monkeypatch.setattr(smtplib, "SMTP", BrokenSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.cn")
    response = request_reset(client, user.email)
    mail.wait_until_sent(timeout=10)
    assert (response.status_code, response.location) == (302, "/auth/login")
    assert f"could not send mail to {user.email}" in caplog.text


def test_the_link_comes_from_the_public_base_url_never_from_the_host_header(app, client, make_user, outbox):
    """A request sent with a forged Host must not mail a link to that host (it would receive the token)."""
    user = make_user(Role.EXPERT)
    app.config["PUBLIC_BASE_URL"] = "https://xueshu.bast.example.cn/platform"
    try:
        evil = {"Host": "evil.example.com", "X-Forwarded-Host": "evil.example.com"}
        form = client.get("/auth/reset", headers=evil).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        response = client.post("/auth/reset", data={"email": user.email, "csrf_token": token}, headers=evil)
        assert response.status_code == 302
    finally:
        app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    [message] = outbox()
    body = message.get_content()
    assert "evil.example.com" not in body
    assert re.search(r"https://xueshu\.bast\.example\.cn/platform/auth/reset/[\w.-]+", body)


def test_a_link_for_a_new_account_made_on_the_command_line_uses_the_public_base_url(app, outbox):
    """Outside any request (no Host at all) the link is still absolute and right."""
    from conference_app.core.db import unit_of_work

    with unit_of_work():
        services.create_user("newcomer@example.cn", "新用户", "expert")
    [message] = outbox()
    assert re.search(r"http://127\.0\.0\.1:5000/auth/reset/[\w.-]+", message.get_content())
