"""Friendly error pages in the user's language; never a stack trace.

Requests to the JSON API (paths under ``/api/``) get their errors as JSON instead, in one
shape: ``{"error": {"status": 404, "message": "..."}}`` with the same 4xx status (a 401
also says ``WWW-Authenticate: Bearer``), never an HTML page.
"""

from __future__ import annotations

import json
import math
import time

from flask import Flask, current_app, g, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from conference_app.core.db import STALE_EDIT_MESSAGE
from conference_app.core.services import ServiceError
from conference_app.extensions import db, limiter

ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check what you entered and try again.")),
    403: (_l("Access denied"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"), _l("The page or record you asked for does not exist.")),
    405: (_l("Method not allowed"), _l("This page cannot be used that way.")),
    409: (_l("Not possible now"), _l("This cannot be done in the record's present state.")),
    413: (_l("File too large"), _l("The uploaded file is larger than the allowed size.")),
    429: (_l("Too many requests"), _l("Too many requests. Please wait a moment and try again.")),
    500: (_l("Server error"), _l("Something went wrong on our side. The error was logged; please try again later.")),
}
CSRF_MESSAGE = _l("Your form has expired or is invalid. Please reload the page and try again.")

# --- the JSON API's errors ------------------------------------------------------------------

API_PATH_PREFIX = "/api/"
# Where the page texts speak of pages and forms, the API says what the client did wrong.
API_ERROR_TEXTS = {
    400: _l("The request could not be understood: send a JSON object with the documented fields."),
    401: _l("This request needs an API token: send it as the header Authorization: Bearer <token>."),
    403: _l("Your account may not do this."),
    404: _l("No record or address of the API matches this request."),
    405: _l("This address of the API does not take this HTTP method."),
    413: _l("The request body is too large."),
}
INVALID_TOKEN_MESSAGE = _l("The API token is malformed, unknown or revoked, or its account may not log in.")


def is_api_request() -> bool:
    """Whether the current request is one to the JSON API (which takes bearer tokens, not cookies)."""
    return request.path.startswith(API_PATH_PREFIX)


def json_response(data, status: int = 200):
    """A JSON response of ``data`` with Chinese text as it is (not as ``\\u`` escapes)."""
    return current_app.response_class(json.dumps(data, ensure_ascii=False), status=status,
                                      mimetype="application/json")


def api_error(status: int, message=None):
    """The API's one error shape, ``{"error": {"status", "message"}}``, with ``status``."""
    # RFC 6750: a 401 names the scheme, and says so when the token presented was refused.
    token_refused = status == 401 and "Authorization" in request.headers
    if message is None:
        message = INVALID_TOKEN_MESSAGE if token_refused else API_ERROR_TEXTS.get(status)
    if message is None:
        message = ERROR_TEXTS.get(status, ERROR_TEXTS[400 if status < 500 else 500])[1]
    response = json_response({"error": {"status": status, "message": str(message)}}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"' + (', error="invalid_token"' if token_refused else "")
    return response


def _api_http_error(error: HTTPException):
    # Werkzeug's descriptions are English and technical: the API says its own (a ServiceError
    # carries a specific message).
    status = error.code or 500
    response = api_error(status)
    if status == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


# --- handlers ----------------------------------------------------------------------------------


def render_error(status: int, message=None):
    """The error page for ``status``, with ``message`` in place of the default text."""
    title, default_message = ERROR_TEXTS.get(status, ERROR_TEXTS[400 if status < 500 else 500])
    return render_template("errors/error.html", status=status, title=title, message=message or default_message), status


def _http_error(error: HTTPException):
    if is_api_request():
        return _api_http_error(error)
    if error.code == 413:  # the body is over MAX_CONTENT_LENGTH: say how much may be sent
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        size = f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit / 1024:g} KB"
        return render_error(413, _("The uploaded file is larger than the allowed %(size)s.", size=size))
    return render_error(error.code or 500)


def _other_http_error(error: HTTPException):
    """Statuses without a page of their own (401, 415 ...): JSON for the API, Werkzeug's answer elsewhere."""
    return _api_http_error(error) if is_api_request() else error


def _csrf_error(error: CSRFError):
    if is_api_request():  # a route under /api/ outside the CSRF-exempt API blueprint
        return api_error(400, CSRF_MESSAGE)
    return render_error(400, CSRF_MESSAGE)


def _service_error(error: ServiceError):
    db.session.rollback()
    if is_api_request():
        return api_error(error.status, error.message)
    return render_error(error.status, error.message)


def _stale_edit(error: StaleDataError):
    """A write found its row changed since it was read (``core.db.VersionedMixin``): refused, 409."""
    db.session.rollback()
    if is_api_request():
        return api_error(409, STALE_EDIT_MESSAGE)
    return render_error(409, STALE_EDIT_MESSAGE)


def _flush_before_commit(response):
    """Flush what a request will commit before the response is finished.

    ``core.db.end_request`` commits after the other hooks have finished the response (its
    headers): a stale write failing there could only be a 500. Flushed here first, it is
    the 409 page, with every header a page gets.
    """
    if response.status_code < 400 or g.get("keep_changes"):
        try:
            db.session.flush()
        except StaleDataError as error:
            return make_response(_stale_edit(error))
    return response


def _rate_limited(error: RateLimitExceeded):
    """A rate limit (``extensions.rate_limit``, the API's) was reached: 429, saying when to come back
    (in the text and in ``Retry-After``)."""
    seconds = max(1, math.ceil(limiter.current_limit.window.reset_time - time.time()))  # the breached window's end
    minutes = math.ceil(seconds / 60)
    message = ngettext("Too many requests. Please try again in %(num)d minute.",
                       "Too many requests. Please try again in %(num)d minutes.", minutes)
    response = make_response(api_error(429, message) if is_api_request() else render_error(429, message))
    response.headers["Retry-After"] = str(seconds)
    return response


def _server_error(error: Exception):
    db.session.rollback()
    try:
        if is_api_request():
            return api_error(500)
        return render_error(500)
    except Exception:  # the page itself failed (database down ...): plain text, still no details
        current_app.logger.exception("the error page could not be rendered")
        title, message = ERROR_TEXTS[500]
        return f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>", 500


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(StaleDataError, _stale_edit)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    for status in (400, 403, 404, 405, 409, 413, 429):
        app.register_error_handler(status, _http_error)
    app.register_error_handler(HTTPException, _other_http_error)
    app.register_error_handler(500, _server_error)
    app.after_request(_flush_before_commit)  # runs before the hooks registered earlier (security headers)
