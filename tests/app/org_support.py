"""Test support for the organisation tests, until tests/app/conftest.py covers it.

``fresh_g``: each test request starts with an empty ``g``.
The ``app`` fixture keeps one application context pushed for the whole test, so requests made
by the test client share its ``g``; Flask-WTF caches the CSRF token there and Flask-Login the
user, so a token issued before logging in would be reused after the session was renewed.
Import ``fresh_g`` into a test module to use it.

``log_out``: ``auth.logout`` takes its token from "/", which redirects once logged in.
"""

from __future__ import annotations

import pytest
from flask import g, request_started

from tests.app.helpers import csrf_token


def _clear_g(sender, **extra) -> None:
    for name in list(g):
        g.pop(name)


@pytest.fixture(autouse=True)
def fresh_g(app):
    request_started.connect(_clear_g, app)
    yield
    request_started.disconnect(_clear_g, app)


def log_out(client) -> None:
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/home")})
