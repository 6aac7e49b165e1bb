"""Account hardening: rate limits (429 in the reader's language, Retry-After, JSON on the API,
off with RATELIMIT_ENABLED=false, counted in Redis), the change form's guesses counting
towards the lock, zxcvbn on every new password, and disabled accounts' sessions ending."""

from __future__ import annotations

import secrets

import pytest
import redis
from sqlalchemy import func, select

from conference_app import create_app
from conference_app.accounts import services
from conference_app.accounts.models import User, UserSession
from conference_app.audit.models import AuditEntry
from conference_app.core import i18n
from conference_app.core.permissions import Role
from conference_app.extensions import db, limiter
from conference_app.organisations.credit_code import make_credit_code
from config import Config
from tests.app.conftest import DEFAULT_PASSWORD, FreshGlobalsClient, app_settings, log_in_session
from tests.app.helpers import csrf_token

WRONG = "Wrong-password-1"
STRONG = "Velvet-Otter-Parade-31"
REDIS_URL = "redis://127.0.0.1:6379/0"


def build_app(tmp_path, name: str, **settings):
    """An app of its own (the suite's has its limits off), on its own SQLite file, CSRF off."""
    config = app_settings(f"sqlite:///{tmp_path / name}.db", tmp_path / name) | {"WTF_CSRF_ENABLED": False}
    app = create_app(config | {"RATELIMIT_ENABLED": True} | settings)
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture()
def limited_app(tmp_path):
    """An app with its rate limits on, each at two requests a day; inside its app context.

    The process has one Limiter: it counts for the app built last, so this one is built
    within the test, after every other app.
    """
    app = build_app(tmp_path, "limited", **{setting: "2 per day" for setting in (
        "LOGIN_RATE_LIMIT", "PASSWORD_CHANGE_RATE_LIMIT", "PASSWORD_RESET_RATE_LIMIT",
        "EVENT_REGISTRATION_RATE_LIMIT", "API_RATE_LIMIT")})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def post_login(client, password: str = WRONG, **kwargs):
    return client.post("/auth/login", data={"email": "nobody@example.cn", "password": password}, **kwargs)


def make_account(**fields) -> User:
    user = User(email=fields.pop("email", "li@example.cn"), name="Li", role=Role.EXPERT, **fields)
    user.set_password(DEFAULT_PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def retry_after(response) -> int:
    return int(response.headers["Retry-After"])


# --- rate limits ------------------------------------------------------------------------------


def test_login_posts_beyond_the_limit_get_a_chinese_429_that_says_when_to_retry(limited_app):
    client = limited_app.test_client()
    for _ in range(4):
        assert client.get("/auth/login").status_code == 200  # the page is never limited
    assert [post_login(client).status_code for _ in range(2)] == [400, 400]
    refused = post_login(client, DEFAULT_PASSWORD)
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "请求过于频繁，请" in page and "分钟后再试" in page
    assert 0 < retry_after(refused) <= 24 * 3600
    assert client.get("/auth/login").status_code == 200
    # Another address has its own count.
    assert post_login(client, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 400


def test_the_429_page_is_in_the_readers_language(limited_app):
    limited_app.config["LOGIN_RATE_LIMIT"] = "1 per day"  # read at each request
    client = limited_app.test_client()
    with client.session_transaction() as session:
        session[i18n.SESSION_KEY] = "en"
    post_login(client)
    refused = post_login(client)
    assert refused.status_code == 429
    assert "Too many requests. Please try again in" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/auth/reset", {"email": "nobody@example.cn"}),
        ("/auth/reset/not-a-token", {"new_password": STRONG, "confirm": STRONG}),
        ("/events/999/register", {"name": "王五", "phone": "13800000000"}),
    ],
)
def test_every_public_form_is_limited_on_its_own(limited_app, path, data):
    client = limited_app.test_client()
    answers = [client.post(path, data=data).status_code for _ in range(3)]
    assert 429 not in answers[:2] and answers[2] == 429
    assert "请求过于频繁" in client.post(path, data=data).get_data(as_text=True)
    assert client.get(path).status_code != 429  # its page still opens
    assert post_login(client).status_code == 400  # the login keeps its own count


def test_the_password_change_form_is_limited(limited_app):
    client = limited_app.test_client()
    log_in_session(client, make_account())
    data = {"current_password": WRONG, "new_password": STRONG, "confirm": STRONG}
    assert [client.post("/auth/password", data=data).status_code for _ in range(3)] == [400, 400, 429]
    assert client.get("/auth/password").status_code == 200


def test_the_api_shares_one_limit_and_refuses_in_json(limited_app):
    client = limited_app.test_client()
    assert client.get("/api/v1/events").status_code == 200
    assert client.get("/api/v1/events/999").status_code == 404  # every route of the API counts
    refused = client.get("/api/v1/events")
    assert refused.status_code == 429 and refused.mimetype == "application/json"
    error = refused.get_json()["error"]
    assert error["status"] == 429 and error["message"].startswith("请求过于频繁")
    assert retry_after(refused) > 0
    for _ in range(3):  # pages are not the API
        assert client.get("/academic-month/").status_code == 200


def test_ratelimit_enabled_false_switches_the_limits_off(tmp_path, monkeypatch):
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    settings = app_settings(f"sqlite:///{tmp_path / 'off.db'}", tmp_path / "off") | {
        "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT": "1 per day"}
    del settings["RATELIMIT_ENABLED"]  # as the environment says
    off = create_app(settings)
    assert off.config["RATELIMIT_ENABLED"] is False
    on = build_app(tmp_path, "on", LOGIN_RATE_LIMIT="1 per day")  # the process's limiter now counts
    with off.app_context():
        db.create_all()
        assert [post_login(off.test_client()).status_code for _ in range(3)] == [400, 400, 400]
    with on.app_context():
        assert [post_login(on.test_client()).status_code for _ in range(2)] == [400, 429]


def test_the_limits_are_settings(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "3/minute;20/hour")
    config = Config()
    assert (config.RATELIMIT_ENABLED, config.RATELIMIT_STORAGE_URI) == (True, "memory://")
    assert config.LOGIN_RATE_LIMIT == "3/minute;20/hour"
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    assert Config().RATELIMIT_STORAGE_URI == REDIS_URL
    monkeypatch.setenv("API_RATE_LIMIT", "lots")
    with pytest.raises(ValueError, match='API_RATE_LIMIT=.lots. is not a rate limit: write it like "10 per minute"'):
        Config()


def test_counts_are_kept_in_redis_and_an_unreachable_redis_falls_back_to_the_process(tmp_path):
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    address = f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    shared = build_app(tmp_path, "redis", RATELIMIT_STORAGE_URI=REDIS_URL, LOGIN_RATE_LIMIT="1 per day")
    try:
        with shared.app_context():
            client = shared.test_client()
            assert post_login(client, environ_base={"REMOTE_ADDR": address}).status_code == 400
            assert connection.keys(f"LIMITS:LIMITER/{address}/*")  # a count every worker sees
            assert post_login(client, environ_base={"REMOTE_ADDR": address}).status_code == 429

        down = build_app(tmp_path, "down", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", LOGIN_RATE_LIMIT="1 per day")
        with down.app_context():
            client = down.test_client()
            assert [post_login(client).status_code for _ in range(2)] == [400, 429]  # no 500
    finally:
        for key in connection.keys(f"LIMITS:LIMITER/{address}/*"):
            connection.delete(key)
        limiter._storage_dead = False  # the process's limiter would keep using its fallback a while


# --- the change form's guesses count towards the lock --------------------------------------------


def change_password(client, current: str, new: str = STRONG):
    token = csrf_token(client, "/auth/password")
    return client.post("/auth/password", data={"current_password": current, "new_password": new,
                                               "confirm": new, "csrf_token": token})


def count(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def test_wrong_current_passwords_lock_the_account_with_login_failures_and_end_the_session(app, client, auth,
                                                                                             make_user):
    user = make_user(Role.EXPERT)
    limit = app.config["LOGIN_MAX_FAILURES"]
    stranger = app.test_client()
    for _ in range(limit - 2):
        assert stranger.post("/auth/login", data={"email": user.email, "password": WRONG,
                                                  "csrf_token": csrf_token(stranger, "/auth/login")}).status_code == 400
    log_in_session(client, user)
    refused = change_password(client, WRONG)
    assert refused.status_code == 400 and "当前密码不正确" in refused.get_data(as_text=True)
    assert count("user.password_change_failed") == 1  # kept, although the request was refused

    locking = change_password(client, WRONG)  # the last failure allowed
    assert locking.status_code == 302 and locking.location == "/auth/login"
    assert "该账号已被临时锁定" in client.get("/auth/login").get_data(as_text=True)
    assert client.get("/home").location.startswith("/auth/login")  # the guessing session ended
    assert count("user.locked") == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_change_failed")
                              .order_by(AuditEntry.id.desc()))
    assert entry.details == {"failed_logins": limit} and entry.object_id == str(user.id)
    assert auth.login(user.email).status_code == 429  # the right password no longer opens it
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(DEFAULT_PASSWORD)


def test_a_locked_account_cannot_change_its_password(app, client, make_user):
    user = make_user(Role.EXPERT)
    log_in_session(client, user)
    stranger = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        stranger.post("/auth/login", data={"email": user.email, "password": WRONG,
                                           "csrf_token": csrf_token(stranger, "/auth/login")})
    refused = change_password(client, DEFAULT_PASSWORD)  # even with the right password
    assert refused.status_code == 429 and "该账号已被临时锁定" in refused.get_data(as_text=True)
    assert client.get("/home").status_code == 200  # told, not logged out: this session guessed nothing
    assert count("user.password_change_refused") == 1
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(DEFAULT_PASSWORD)


def test_a_right_current_password_clears_the_failures(app, client, auth, make_user):
    user = make_user(Role.EXPERT)
    log_in_session(client, user)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert change_password(client, WRONG).status_code == 400
    assert change_password(client, DEFAULT_PASSWORD).status_code == 302
    assert change_password(client, WRONG, new="Another-Velvet-Otter-42").status_code == 400  # not locked
    auth.logout()
    assert auth.login(user.email, STRONG).location == "/home"


# --- password strength ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "user_inputs", "message"),
    [
        ("password123", (), "密码过于常见或容易猜测"),
        ("P@ssw0rd2024", (), "密码过于常见或容易猜测"),
        ("1qaz2wsx3edc", (), "密码过于常见或容易猜测"),
        ("abcdefgh123", (), "连续的序列"),
        ("aaaaaaaa11", (), "重复的字符"),
        ("Zhangwei2024", ("Zhang Wei", "zhangwei@example.cn"), "不能包含账号的姓名、电子邮箱"),
        ("Kexie2026!", (), "本平台的名称"),
        ("Zhangwei2024", (), None),  # the same password for someone else
        (STRONG, ("Zhang Wei", "zhangwei@example.cn"), None),
        ("Ab3$" * 30, (), "重复的字符"),  # past zxcvbn's 72 characters: judged by its start
    ],
)
def test_password_problem_says_in_chinese_why_a_password_is_guessable(app, password, user_inputs, message):
    problem = services.password_problem(password, user_inputs)
    if message is None:
        assert problem is None
    else:
        assert message in problem


def test_the_minimum_score_is_a_setting(app, monkeypatch):
    assert services.password_problem("zhangsan2024") is None  # zxcvbn gives it a 3
    monkeypatch.setitem(app.config, "PASSWORD_MIN_SCORE", 4)
    assert services.password_problem("zhangsan2024") is not None
    monkeypatch.setitem(app.config, "PASSWORD_MIN_SCORE", 0)
    assert services.password_problem("password123") is None


def test_the_change_form_refuses_a_password_made_of_the_users_name(client, make_user):
    user = make_user(Role.EXPERT, name="Zhang Wei", email="zhangwei@example.cn")
    log_in_session(client, user)
    refused = change_password(client, DEFAULT_PASSWORD, new="Zhangwei2024")
    assert refused.status_code == 400 and "不能包含账号的姓名" in refused.get_data(as_text=True)
    assert change_password(client, DEFAULT_PASSWORD, new="password123").status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(DEFAULT_PASSWORD)


def test_a_reset_link_refuses_a_common_password(client, make_user):
    user = make_user(Role.EXPERT)
    path = f"/auth/reset/{services.reset_token(user)}"
    refused = client.post(path, data={"new_password": "password123", "confirm": "password123",
                                      "csrf_token": csrf_token(client, path)})
    assert refused.status_code == 400 and "密码过于常见或容易猜测" in refused.get_data(as_text=True)


def test_staff_cannot_give_a_new_account_a_guessable_password(client, make_user):
    log_in_session(client, make_user(Role.STAFF))
    data = {"email": "liu.yang@example.cn", "name": "Liu Yang", "phone": "", "role": "expert",
            "organisation_id": "0", "password": "Liuyang2024", "csrf_token": csrf_token(client, "/admin/users/new")}
    refused = client.post("/admin/users/new", data=data)
    assert refused.status_code == 400 and "不能包含账号的姓名" in refused.get_data(as_text=True)
    assert services.find_user("liu.yang@example.cn") is None


def test_self_registration_refuses_a_common_password(client):
    data = {"name_zh": "北京声学学会", "name_en": "Acoustical Society of Beijing", "org_type": "society",
            "credit_code": make_credit_code("51110000500006666"), "contact_name": "周会长", "user_name": "周会长",
            "email": "zhou@acoustics.example.cn", "password": "password123", "password_confirm": "password123",
            "csrf_token": csrf_token(client, "/register")}
    refused = client.post("/register", data=data)
    assert refused.status_code == 400 and "密码过于常见或容易猜测" in refused.get_data(as_text=True)
    assert services.find_user("zhou@acoustics.example.cn") is None


# --- disabled accounts ---------------------------------------------------------------------------


def test_re_enabling_an_account_does_not_bring_its_old_sessions_back(app, client, auth, make_user):
    user = make_user(Role.EXPERT)
    log_in_session(client, user)
    staff = app.test_client()
    log_in_session(staff, make_user(Role.STAFF))
    token = csrf_token(staff, "/admin/users")
    assert staff.post(f"/admin/users/{user.id}/disable", data={"csrf_token": token}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)) == 0
    assert staff.post(f"/admin/users/{user.id}/enable", data={"csrf_token": token}).status_code == 302
    assert client.get("/home").location.startswith("/auth/login")  # the old cookie stays dead
    assert auth.login(user.email).location == "/home"  # a new login works
    assert client.get("/home").status_code == 200
