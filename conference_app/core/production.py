"""What a production deployment needs: the health check and the refusal of unsafe settings.

``GET /healthz`` answers ``{"status": "ok", "database": "ok", "queue": "ok" | "inline"}``
(``inline``: no ``REDIS_URL``, jobs run in a thread of the web process), or 503 with
``"status": "down"`` and the part that is down. A load balancer polls it.

``production_problems(config, workers)`` lists what makes a configuration unsafe to serve
with ``workers`` processes; ``gunicorn.conf.py`` refuses to start on any of them, and
``flask --app conference_app check-config`` prints them.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import click
from flask import Blueprint, current_app, jsonify
from flask.cli import with_appcontext
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from conference_app.core.permissions import public
from conference_app.extensions import db

blueprint = Blueprint("health", __name__)

MIN_SECRET_KEY_LENGTH = 32
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
QUEUE_TIMEOUT_SECONDS = 2


@blueprint.get("/healthz")
@public
def healthz():
    """Whether the database and the job queue answer; 503 naming what is down."""
    parts = {"database": _database_state(), "queue": _queue_state(current_app.config.get("REDIS_URL") or "")}
    down = [name for name, state in parts.items() if state == "down"]
    body = {"status": "down" if down else "ok", **parts}
    if down:
        body["down"] = down
    return jsonify(body), 503 if down else 200


def _database_state() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError:
        db.session.rollback()
        return "down"


def _queue_state(redis_url: str) -> str:
    if not redis_url:
        return "inline"
    import redis

    try:
        connection = redis.Redis.from_url(redis_url, socket_timeout=QUEUE_TIMEOUT_SECONDS,
                                          socket_connect_timeout=QUEUE_TIMEOUT_SECONDS)
        return "ok" if connection.ping() else "down"
    except (redis.RedisError, OSError, ValueError):
        return "down"


def production_problems(config, workers: int, environ=os.environ) -> list[str]:
    """Why ``config`` must not be served by ``workers`` processes (empty: nothing), one
    sentence each, naming the setting to change."""
    problems = []
    database = str(config["SQLALCHEMY_DATABASE_URI"])
    if database.startswith("sqlite") and workers > 1:
        problems.append(
            f"DATABASE_URL is SQLite, which {workers} worker processes cannot share safely: set DATABASE_URL to a "
            "PostgreSQL database (postgresql://user@host/db), or serve with WORKERS=1"
        )
    base_url = urlsplit(config["PUBLIC_BASE_URL"])
    local = base_url.hostname in LOCAL_HOSTS  # a trial on this machine
    secret = environ.get("SECRET_KEY", "")
    if not secret and not local:
        problems.append(
            "SECRET_KEY is not set: the key generated into the instance folder differs on every machine, so "
            "sessions break behind a load balancer; set SECRET_KEY to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters (python -c 'import secrets; print(secrets.token_hex(32))'), "
            "the same on every machine"
        )
    elif secret and len(secret) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters: use a long random value")
    if base_url.scheme != "https" and not local:
        problems.append(
            f"PUBLIC_BASE_URL {config['PUBLIC_BASE_URL']} is not https: logins and session cookies would travel "
            "in clear; serve over https (TLS at nginx or the load balancer) and set PUBLIC_BASE_URL to the https "
            "address"
        )
    elif base_url.scheme == "https" and not config["SESSION_COOKIE_SECURE"]:
        problems.append("SESSION_COOKIE_SECURE is off while PUBLIC_BASE_URL is https: leave it unset or set it to true")
    if not local and not config.get("PROXY_COUNT"):
        problems.append(
            "PROXY_COUNT is 0 while the platform is served at a public address: behind nginx or a load balancer "
            "set PROXY_COUNT to the number of proxies, or every client shares one address in the login locks and "
            "rate limits"
        )
    return problems


@click.command("check-config")
@click.option("--workers", type=int, default=1, show_default=True, help="the web processes that will serve it")
@with_appcontext
def check_config(workers: int) -> None:
    """Say whether this configuration is safe to serve in production."""
    problems = production_problems(current_app.config, workers)
    if problems:
        raise click.ClickException("unsafe production configuration:\n- " + "\n- ".join(problems))
    click.echo(f"configuration ready for production with {workers} worker(s)")
