"""Security headers on every response.

- A Content-Security-Policy that allows scripts, styles, images and requests from the
  platform itself only: no inline script and no ``eval`` (every template loads its scripts
  from ``static/``; data for them travels in ``<script type="application/json">`` blocks,
  which browsers never run). Inline ``style`` attributes stay allowed: they carry layout,
  not code. ``frame-ancestors 'none'`` (and ``X-Frame-Options: DENY`` for old browsers)
  keeps the pages out of other sites' frames.
- ``nosniff`` and ``Referrer-Policy: same-origin`` (reset links carry a token: it must
  never reach another site).
- ``Strict-Transport-Security`` when the platform is served over HTTPS
  (``PUBLIC_BASE_URL``), so browsers never fall back to plain HTTP.
- ``Cache-Control: no-store`` on every response to a logged-in user: a shared or back-button
  cache must not keep a page only that user may see. Static files keep their caching.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",  # the check-in page's camera stream
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Add the headers to every response of ``app``."""
    hsts = app.config["PUBLIC_BASE_URL"].startswith("https://")

    @app.after_request
    def add_security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static" and _logged_in():
            response.headers["Cache-Control"] = "no-store"
        return response


def _logged_in() -> bool:
    """Whether the request came from a logged-in user (False when the database that would
    say is down: the health check's 503 must still go out)."""
    try:
        return bool(current_user.is_authenticated)
    except SQLAlchemyError:
        return False
