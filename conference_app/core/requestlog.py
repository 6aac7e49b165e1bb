"""One log line per request: request id, user id, method, path, status and duration.

The id comes from the proxy's ``X-Request-ID`` when it is a plain token (letters, digits,
``-``, ``_``, at most 64), else a new one; the response carries it back, so a user's report
and the nginx, gunicorn and app logs meet on it. ``LOG_FORMAT=json`` writes each line as
one JSON object (for a log collector); the default is ``key=value`` text.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, g, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("conference_app.requests")

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def init_app(app: Flask) -> None:
    """Stamp every request of ``app`` and log it when its response goes out."""
    as_json = app.config.get("LOG_FORMAT") == "json"

    @app.before_request
    def stamp_request():
        g.request_started = time.perf_counter()
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex

    @app.after_request
    def log_request(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        record = {
            "request_id": request_id,
            "user_id": _user_id(),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 1),
        }
        if as_json:
            log.info(json.dumps(record, ensure_ascii=False))
        else:
            log.info(" ".join(f"{key}={value}" for key, value in record.items()))
        return response


def _user_id() -> int | None:
    try:
        return current_user.id if current_user.is_authenticated else None
    except SQLAlchemyError:  # the database is down (the health check's 503 still goes out)
        return None
