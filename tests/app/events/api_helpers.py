"""Helpers for the JSON API's tests: tokens, authorised requests, what the database holds."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from conference_app.accounts.models import User
from conference_app.accounts.tokens import issue_token
from conference_app.audit.models import AuditEntry
from conference_app.events.models import CheckIn, Registration
from conference_app.extensions import db


def token_for(user, scope: str = "checkin", name: str = "scanner") -> str:
    """A new API token of ``user`` (committed), as the client sends it."""
    secret = issue_token(db.session.get(User, user.id), scope, name).secret
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def post_json(client, url: str, body, token: str | None = None, **kwargs):
    """POST ``body`` as JSON (a str or bytes body is sent as it is), with the token when given."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    headers = bearer(token) if token else {}
    return client.post(url, data=data, content_type="application/json", headers=headers, **kwargs)


def check_in(client, token: str, code: str):
    return post_json(client, "/api/v1/checkins", {"code": code}, token)


def rows(model) -> int:
    """How many rows the table holds (as committed or flushed in the test's session)."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def written() -> dict[str, int]:
    """The rows a request may write: registrations, check-ins, audit entries."""
    return {"registrations": rows(Registration), "checkins": rows(CheckIn), "audit": rows(AuditEntry)}


def assert_api_error(response, status: int, message_part: str | None = None) -> str:
    """The response is the API's JSON error with ``status``; returns its message."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message"}
    assert body["error"]["status"] == status and body["error"]["message"]
    if message_part is not None:
        assert message_part in body["error"]["message"], body["error"]["message"]
    return body["error"]["message"]
