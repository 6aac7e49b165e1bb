"""Production serving: security headers on every route, no-store for logged-in users, HSTS
over https, the health check, the refusal of unsafe settings (also by gunicorn before any
worker starts) and the request log."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from conference_app import create_app
from conference_app.core import production
from conference_app.core.permissions import Role
from conference_app.core.security import CONTENT_SECURITY_POLICY
from conference_app.extensions import db
from tests.app.conftest import app_settings, log_in_session
from tests.app.core.test_url_map_permissions import bearer_headers, walk_requests

REPO_DIR = Path(__file__).resolve().parents[3]
HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-ID")


def missing_headers(response) -> list[str]:
    return [name for name in HEADERS if name not in response.headers]


def test_every_route_of_the_url_map_answers_with_the_security_headers(app, client, make_user):
    """Anonymous and logged in, every method of every rule: the headers are there whatever the
    status (redirect to login, 403, 404, 405, 400 for a missing CSRF token ...)."""
    app.config["WTF_CSRF_ENABLED"] = True
    problems = []
    staff = make_user(Role.STAFF)
    for logged_in in (False, True):
        if logged_in:
            log_in_session(client, staff)
        for endpoint, method, url in walk_requests(app):
            response = client.open(url, method=method)
            missing = missing_headers(response)
            if missing:
                problems.append(f"{method} {url} ({endpoint}, {response.status_code}): {', '.join(missing)}")
            # (the JSON API ignores login sessions: its authenticated requests carry a token, below)
            if logged_in and not url.startswith("/api/") and response.headers.get("Cache-Control") != "no-store":
                problems.append(f"{method} {url}: Cache-Control {response.headers.get('Cache-Control')!r}")
    assert problems == []
    assert len(list(walk_requests(app))) > 150


def test_an_api_request_with_a_token_is_not_stored(app, client, make_user):
    headers = bearer_headers(make_user(Role.EXPERT), "review", {})
    response = client.get("/api/v1/review-rounds/987654/reviews", headers=headers)
    assert response.status_code == 404 and response.headers["Cache-Control"] == "no-store"
    assert not missing_headers(response)


def test_the_policy_allows_no_inline_script_and_no_framing():
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY.split(
        "script-src")[1].split(";")[0]
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_no_template_has_an_inline_script_or_event_handler():
    """What the policy would block in a browser, found at the source."""
    offenders = []
    for path in (REPO_DIR / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for line_number, line in enumerate(text.splitlines(), 1):
            lowered = line.lower()
            inline_script = "<script" in lowered and "src=" not in lowered and 'type="application/json"' not in lowered
            handler = any(f" {name}=" in lowered for name in ("onclick", "onload", "onchange", "onsubmit", "oninput"))
            if inline_script or handler or "javascript:" in lowered:
                offenders.append(f"{path.relative_to(REPO_DIR)}:{line_number}")
    assert offenders == []


def test_public_pages_may_be_cached_and_static_files_keep_their_caching(app, client, make_user):
    assert client.get("/").headers.get("Cache-Control") != "no-store"
    log_in_session(client, make_user(Role.STAFF))
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"
    assert client.get("/home").headers["Cache-Control"] == "no-store"


def test_hsts_only_when_served_over_https(database_url, tmp_path):
    plain = client_of(database_url, tmp_path / "plain")
    assert "Strict-Transport-Security" not in plain.get("/healthz").headers
    secure = client_of(database_url, tmp_path / "secure", PUBLIC_BASE_URL="https://academic.bast.example.cn")
    assert secure.get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=31536000")


def client_of(database_url, instance_dir, **settings):
    return create_app({**app_settings(database_url, instance_dir), **settings}).test_client()


def test_the_health_check_names_what_is_down(app, client, monkeypatch):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "inline"}

    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    if production._queue_state(app.config["REDIS_URL"]) == "ok":  # the machine's Redis
        assert client.get("/healthz").get_json()["queue"] == "ok"
    app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "down", "database": "ok", "queue": "down", "down": ["queue"]}
    app.config["REDIS_URL"] = ""

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["down"] == ["database"]


SAFE = {
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://app@db/academic",
    "PUBLIC_BASE_URL": "https://academic.bast.example.cn",
    "SESSION_COOKIE_SECURE": True,
    "PROXY_COUNT": 1,
}
GOOD_SECRET = {"SECRET_KEY": "k" * 64}


@pytest.mark.parametrize(("change", "environ", "workers", "says"), [
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:///instance/app.db"}, GOOD_SECRET, 4, "DATABASE_URL is SQLite"),
    ({}, {}, 4, "SECRET_KEY is not set"),
    ({}, {"SECRET_KEY": "short"}, 1, "shorter than 32"),
    ({"PUBLIC_BASE_URL": "http://academic.bast.example.cn"}, GOOD_SECRET, 4, "is not https"),
    ({"SESSION_COOKIE_SECURE": False}, GOOD_SECRET, 4, "SESSION_COOKIE_SECURE is off"),
    ({"PROXY_COUNT": 0}, GOOD_SECRET, 4, "PROXY_COUNT is 0"),
])
def test_an_unsafe_production_configuration_is_named(change, environ, workers, says):
    problems = production.production_problems({**SAFE, **change}, workers, environ)
    assert len(problems) == 1 and says in problems[0]


def test_a_safe_configuration_and_a_local_trial_pass():
    assert production.production_problems(SAFE, 8, GOOD_SECRET) == []
    local = {"SQLALCHEMY_DATABASE_URI": "sqlite:///instance/app.db", "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
             "SESSION_COOKIE_SECURE": False, "PROXY_COUNT": 0}
    assert production.production_problems(local, 1, {}) == []  # make serve WORKERS=1 on this machine
    assert "SQLite" in production.production_problems(local, 3, {})[0]


def test_check_config_prints_the_problems_and_fails(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["check-config", "--workers", "1"])
    assert result.exit_code == 0 and "ready for production with 1 worker" in result.output
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        result = runner.invoke(args=["check-config", "--workers", "3"])
        assert result.exit_code == 1 and "DATABASE_URL is SQLite" in result.output


def test_gunicorn_refuses_to_start_on_sqlite_with_several_workers(tmp_path):
    """The master refuses before any worker boots, with the reason, and exits 3."""
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "INSTANCE_PATH": str(tmp_path),
                   "WORKERS": "3", "PORT": "0", "PUBLIC_BASE_URL": "http://127.0.0.1:8000"}
    completed = subprocess.run([str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"],
                               cwd=REPO_DIR, env=environment, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 3, completed.stderr[-2000:]
    assert "refusing to serve" in completed.stderr and "DATABASE_URL is SQLite" in completed.stderr
    assert "Booting worker" not in completed.stderr


def test_each_request_is_one_log_line_with_its_ids(app, client, make_user, caplog):
    user = make_user(Role.STAFF)
    log_in_session(client, user)
    with caplog.at_level(logging.INFO, logger="conference_app.requests"):
        response = client.get("/home", headers={"X-Request-ID": "proxy-id-42"})
        client.get("/healthz", headers={"X-Request-ID": "not a token forged=1"})
    lines = [record.getMessage() for record in caplog.records if record.name == "conference_app.requests"]
    assert response.headers["X-Request-ID"] == "proxy-id-42"
    assert lines[0].startswith("request_id=proxy-id-42 ") and f"user_id={user.id}" in lines[0]
    assert "path=/home status=200" in lines[0] and "duration_ms=" in lines[0]
    assert "forged" not in lines[1] and "user_id=" in lines[1]

    json_app = create_app({**{key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "INSTANCE_DIR")},
                           "TESTING": True, "LOG_FORMAT": "json"})
    with caplog.at_level(logging.INFO, logger="conference_app.requests"):
        caplog.clear()
        json_app.test_client().get("/healthz")
    record = json.loads(caplog.records[-1].getMessage())
    assert record["path"] == "/healthz" and record["status"] == 200 and record["user_id"] is None
