"""Fixtures for the web application: databases, clients, factories, live server, browser.

Every test that uses ``app`` runs on SQLite and, when ``TEST_DATABASE_URL`` is set, on
PostgreSQL too. The schema is built once per backend; after each test every table is
emptied, so tests stay isolated.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from pathlib import Path

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from conference_app import create_app
from conference_app.extensions import db
from tests.conftest import REPO_ROOT

DEFAULT_PASSWORD = "Correct-Horse-9"
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"


def _backends() -> list[str]:
    backends = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        backends.append("postgresql")
    return backends


def _postgres_url() -> str:
    url = os.environ["TEST_DATABASE_URL"]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def app_settings(database_url: str, instance_dir: Path) -> dict:
    """Settings for an app under test: fast password hashing, mail goes to a folder."""
    return {
        "TESTING": True,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": str(instance_dir),
        "UPLOAD_DIR": str(instance_dir / "uploads"),
        "MAIL_OUTBOX_DIR": str(instance_dir / "outbox"),
        "SERVER_NAME": None,
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",  # whatever the environment says
        "AUDIT_GUARD": True,
        "RATELIMIT_ENABLED": False,  # the suite logs in far more often than a person; test_hardening.py turns them on
        "PUBLIC_PAGE_CACHE_SECONDS": 0,  # every request sees the data as it is (the cache has its own test)  # a request that changes audited rows without an audit entry fails
    }


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory) -> str:
    """One database per backend for the whole session."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    return _postgres_url()


class FreshGlobalsClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as in production.

    The ``app`` fixture keeps one application context open for the whole test (so tests
    and requests share ``db.session``); without this, ``g`` would carry Flask-Login's
    user and Flask-WTF's token from one request into the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def _schema_app(database_url, tmp_path_factory):
    app = create_app(app_settings(database_url, tmp_path_factory.mktemp("instance")))
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _empty_all_tables() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture()
def app(_schema_app):
    """The app with an empty schema; yields inside an application context."""
    from conference_app.core import mail

    with _schema_app.app_context():
        yield _schema_app
        mail.wait_until_sent(_schema_app, timeout=30)  # SMTP mail a test handed to the background
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def no_csrf(app):
    """Disable CSRF for tests that exercise something else through forms."""
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


_sequence = itertools.count(1)


@pytest.fixture()
def make_organisation(app):
    """Factory: an approved organisation with a valid, unique credit code."""
    from conference_app.organisations.credit_code import make_credit_code
    from conference_app.organisations.models import Organisation, OrganisationStatus, OrganisationType

    def make(**fields) -> Organisation:
        n = next(_sequence)
        values = {
            "name_zh": f"测试学会{n}",
            "name_en": f"Test Society {n}",
            "org_type": OrganisationType.SOCIETY.value,
            "credit_code": make_credit_code(f"51110000{n:09d}"),
            "is_bast_member": True,
            "status": OrganisationStatus.APPROVED.value,
            "contact_email": f"office{n}@society.example.cn",
        }
        values.update(fields)
        organisation = Organisation(**values)
        db.session.add(organisation)
        db.session.commit()
        return organisation

    return make


@pytest.fixture()
def make_user(app):
    """Factory: a user of a role (society users get an organisation unless given one)."""
    from conference_app.accounts.models import User
    from conference_app.core.permissions import Role

    def make(role: Role | str = Role.STAFF, organisation=None, password: str = DEFAULT_PASSWORD, **fields) -> User:
        n = next(_sequence)
        role = Role(role)
        if role is Role.SOCIETY and organisation is None and "organisation_id" not in fields:
            from conference_app.organisations.credit_code import make_credit_code
            from conference_app.organisations.models import Organisation, OrganisationStatus

            organisation = Organisation(
                name_zh=f"用户学会{n}",
                org_type="society",
                credit_code=make_credit_code(f"51110000{n:09d}"),
                status=OrganisationStatus.APPROVED.value,
            )
            db.session.add(organisation)
        values = {
            "email": f"{role.value}{n}@example.cn",
            "name": f"{role.value} user {n}",
            "role": role.value,
            "organisation": organisation,
        }
        values.update(fields)
        user = User(**values)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture()
def make_event(app, make_organisation):
    """Factory: a published event hosted by an organisation (a new one unless given), a week
    from now for two hours, in Haidian, with the given fields; ``organisations`` lists
    (organisation, role) pairs to replace the host."""
    from datetime import timedelta

    from conference_app.core.db import utcnow
    from conference_app.events.models import Event, EventOrganisation

    def make(organisation=None, organisations=None, **fields) -> Event:
        n = next(_sequence)
        starts_at = fields.pop("starts_at", utcnow().replace(microsecond=0) + timedelta(days=7))
        values = {
            "kind": "salon_session",
            "status": "published",
            "title_zh": f"测试学术沙龙{n}",
            "starts_at": starts_at,
            "ends_at": fields.pop("ends_at", starts_at + timedelta(hours=2)),
            "venue": "北京科学中心",
            "in_beijing": True,
            "district": "haidian",
            "mode": "offline",
        }
        values.update(fields)
        event = Event(**values)
        links = organisations or [(organisation or make_organisation(), "host")]
        event.organisations = [EventOrganisation(organisation=org, role=role) for org, role in links]
        db.session.add(event)
        db.session.commit()
        return event

    return make


class AuthActions:
    """Log a test client in and out through the real login form."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = DEFAULT_PASSWORD, follow_redirects: bool = False):
        from tests.app.helpers import csrf_token

        token = csrf_token(self.client, "/auth/login")
        return self.client.post(
            "/auth/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=follow_redirects,
        )

    def logout(self):
        from tests.app.helpers import csrf_token

        token = csrf_token(self.client, "/home")
        return self.client.post("/auth/logout", data={"csrf_token": token})


@pytest.fixture()
def auth(client):
    return AuthActions(client)


def log_in_session(client, user) -> None:
    """Put ``user`` in the client's session without the login form (no password hashing):
    a new login session of the user, committed, its key in the client's cookie."""
    import time

    from conference_app.accounts.services import start_session

    key = start_session(db.session.get(type(user), user.id))
    db.session.commit()
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = key
        session["_fresh"] = True
        session["last_seen"] = session["started_at"] = int(time.time())


@pytest.fixture()
def outbox(app):
    """The messages written to MAIL_OUTBOX_DIR (no SMTP in tests), oldest first; emptied per test."""
    import email
    from email import policy

    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    shutil.rmtree(folder, ignore_errors=True)

    def messages() -> list:
        files = sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns) if folder.exists() else []
        return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in files]

    yield messages
    shutil.rmtree(folder, ignore_errors=True)


# --- live server and browser -------------------------------------------------------------


@pytest.fixture()
def live_server(tmp_path):
    """The app served on 127.0.0.1 from a thread, on its own SQLite file."""
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app(app_settings(database_url, tmp_path / "instance") | {"TESTING": False})
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.app = app
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


def chromium_path() -> str | None:
    """Debian's Chromium, or $CHROMIUM_PATH."""
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright; skips with the reason when absent."""
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run should have installed it")
        pytest.skip("Chromium not installed: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(browser, request):
    """A fresh browser page in Chinese; a screenshot is saved when the test ends, and the test
    fails when the page broke the Content-Security-Policy (core/security.py)."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    blocked = []
    page.on("console", lambda message: blocked.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    yield page
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"{request.node.name}-final.png"), full_page=True)
    context.close()
    assert blocked == [], "the Content-Security-Policy blocked: " + "; ".join(blocked[:3])


def open_dropdown(page, toggle) -> None:
    """Click a Bootstrap dropdown ``toggle`` once Bootstrap's script has run (a click before it
    has opens nothing: it happened once in CI on a loaded machine) and wait until it is open."""
    page.wait_for_function("() => window.bootstrap !== undefined")
    toggle.click()
    expect(toggle.locator("xpath=..").locator(".dropdown-menu")).to_be_visible()


def screenshot(page, name: str) -> Path:
    """Save a named screenshot under test-artifacts/ and return its path."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    """Whether TEST_DATABASE_URL points at a reachable server."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return False
    engine = create_engine(_postgres_url())
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        return True
    finally:
        engine.dispose()
