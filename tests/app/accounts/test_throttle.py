"""Login throttling: per account (lock after repeated failures) and per client address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from conference_app.accounts.models import LoginFailure, User
from conference_app.audit.models import AuditEntry
from conference_app.core.db import utcnow
from conference_app.core.permissions import Role
from conference_app.extensions import db
from tests.app.conftest import DEFAULT_PASSWORD
from tests.app.helpers import csrf_token

WRONG = "Wrong-password-1"


def login_from(client, ip_address: str, email: str, password: str):
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip_address},
    )


def test_account_is_locked_after_repeated_failures(app, client, auth, make_user):
    user = make_user(Role.EXPERT)
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert auth.login(user.email, WRONG).status_code == 400
    response = auth.login(user.email)  # the right password, but locked now
    assert response.status_code == 429
    assert "该账号已被临时锁定" in response.get_data(as_text=True)
    db.session.expire_all()
    locked = db.session.get(User, user.id)
    assert locked.locked_until > utcnow() + timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"] - 1)
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "user.locked")) == 1
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "user.login_throttled")) == 1

    # The lock runs out when the failures leave the window.
    db.session.execute(update(LoginFailure).values(
        created_at=utcnow() - timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"], seconds=1)))
    db.session.commit()
    assert auth.login(user.email).location == "/home"
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0


def test_a_success_resets_the_failure_count(app, auth, make_user):
    user = make_user(Role.EXPERT)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        auth.login(user.email, WRONG)
    assert auth.login(user.email).location == "/home"
    auth.logout()
    assert auth.login(user.email, WRONG).status_code == 400
    assert auth.login(user.email).location == "/home"


@pytest.fixture()
def low_ip_limit(app):
    app.config["LOGIN_IP_MAX_FAILURES"] = 3
    yield 3
    app.config["LOGIN_IP_MAX_FAILURES"] = 30


def test_one_address_trying_many_accounts_is_throttled(app, client, make_user, low_ip_limit):
    user = make_user(Role.EXPERT)
    for number in range(low_ip_limit):
        assert login_from(client, "203.0.113.9", f"guess{number}@example.cn", WRONG).status_code == 400
    refused = login_from(client, "203.0.113.9", user.email, DEFAULT_PASSWORD)
    assert refused.status_code == 429
    assert "您所在网络的登录失败次数过多" in refused.get_data(as_text=True)
    # Another address is not affected, and the failures were kept across requests in the database.
    assert login_from(client, "198.51.100.7", user.email, DEFAULT_PASSWORD).location == "/home"
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == low_ip_limit
    throttled = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.login_throttled"))
    assert throttled.ip_address == "203.0.113.9" and "登录失败次数过多" in throttled.comment


def test_old_failures_no_longer_count(app, client, make_user, low_ip_limit):
    user = make_user(Role.EXPERT)
    long_ago = utcnow() - timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"] + 1)
    for number in range(low_ip_limit):
        db.session.add(LoginFailure(ip_address="203.0.113.9", email=f"g{number}@x.cn", created_at=long_ago))
    db.session.commit()
    assert login_from(client, "203.0.113.9", user.email, DEFAULT_PASSWORD).location == "/home"


def test_failures_are_in_the_audit_log_with_the_address(client, make_user):
    user = make_user(Role.EXPERT)
    login_from(client, "203.0.113.9", user.email, WRONG)
    login_from(client, "203.0.113.9", "ghost@example.cn", WRONG)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.object_label, e.ip_address) for e in entries] == [
        ("user.login_failed", f"{user.name} <{user.email}>", "203.0.113.9"),
        ("user.login_failed", "ghost@example.cn", "203.0.113.9"),
    ]


def wrong_logins(auth, email: str, count: int):
    return [auth.login(email, WRONG) for _ in range(count)][-1]


def test_an_unknown_address_locks_like_an_account(app, client, auth, make_user):
    """After the same failures, an account and an unknown address give the same answer."""
    user = make_user(Role.EXPERT)
    limit = app.config["LOGIN_MAX_FAILURES"]
    answers = []
    for email in (user.email, "nobody@example.cn"):
        assert wrong_logins(auth, email, limit - 1).status_code == 400
        last_failure = auth.login(email, WRONG)
        locked = auth.login(email, WRONG)
        answers.append([(r.status_code, error_text(r)) for r in (last_failure, locked)])
    assert answers[0] == answers[1]
    assert answers[0][0][0] == 400 and answers[0][1][0] == 429 and "该账号已被临时锁定" in answers[0][1][1]


def error_text(response) -> str:
    import re

    match = re.search(r'data-testid="form-errors">(.*?)</div>\s*</div>', response.get_data(as_text=True), re.S)
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).strip() if match else ""


def test_parallel_failures_all_count(app, make_user):
    """Requests that all read the account before any failure was saved still lock it.

    Simulated at the service level: each "request" sees failed_logins == 0 (a stale
    object), as parallel requests did when they incremented the value they had read.
    """
    from sqlalchemy.orm.attributes import set_committed_value

    from conference_app.accounts import services
    from conference_app.core.services import ServiceError

    user = make_user(Role.EXPERT)
    now = utcnow()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        set_committed_value(user, "failed_logins", 0)  # what each parallel request had read
        services._record_failure(user, user.email, "203.0.113.5", now)
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        services.authenticate(user.email, DEFAULT_PASSWORD, "198.51.100.1")
    assert refused.value.status == 429
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "user.locked")) == 1


def test_failed_logins_is_incremented_in_the_database(app, make_user):
    from sqlalchemy.orm.attributes import set_committed_value

    from conference_app.accounts import services

    user = make_user(Role.EXPERT)
    for _ in range(2):
        set_committed_value(user, "failed_logins", 0)
        services._record_failure(user, user.email, None, utcnow())
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 2


def parallel_wrong_logins(app, emails: list[str], ip_address: str) -> list[int]:
    """Post one wrong password per address at the same moment, each from a client (and
    database session) of its own; returns the answers' status codes."""
    import threading

    barrier = threading.Barrier(len(emails))
    statuses: list[int] = []

    def attempt(email: str) -> None:
        with app.app_context():
            client = app.test_client()
            token = csrf_token(client, "/auth/login")
            barrier.wait()
            response = client.post("/auth/login", data={"email": email, "password": WRONG, "csrf_token": token},
                                   environ_base={"REMOTE_ADDR": ip_address})
            statuses.append(response.status_code)
            db.session.remove()

    threads = [threading.Thread(target=attempt, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sorted(statuses)


def test_parallel_wrong_passwords_are_checked_no_more_than_the_limit(app, make_user):
    """Twelve guesses at once (SQLite, the default database, as well as PostgreSQL): five are
    checked, the others find the address locked."""
    user = make_user(Role.EXPERT)
    limit = app.config["LOGIN_MAX_FAILURES"]
    statuses = parallel_wrong_logins(app, [user.email] * 12, "203.0.113.40")
    assert statuses == [400] * limit + [429] * (12 - limit)
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == limit
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is not None


def test_parallel_guesses_on_many_accounts_from_one_address_stop_at_its_limit(app, low_ip_limit):
    statuses = parallel_wrong_logins(app, [f"guess{n}@example.cn" for n in range(8)], "203.0.113.41")
    assert statuses == [400] * low_ip_limit + [429] * (8 - low_ip_limit)
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == low_ip_limit
