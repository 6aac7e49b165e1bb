"""Friendly error pages in the user's language; never a stack trace."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from conference_app.core.services import ServiceError
from conference_app.extensions import db

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


def render_error(status: int, message=None):
    """The error page for ``status``, with ``message`` in place of the default text."""
    title, default_message = ERROR_TEXTS.get(status, ERROR_TEXTS[400 if status < 500 else 500])
    return render_template("errors/error.html", status=status, title=title, message=message or default_message), status


def _http_error(error: HTTPException):
    return render_error(error.code or 500)


def _csrf_error(error: CSRFError):
    return render_error(400, CSRF_MESSAGE)


def _service_error(error: ServiceError):
    db.session.rollback()
    return render_error(error.status, error.message)


def _server_error(error: Exception):
    db.session.rollback()
    try:
        return render_error(500)
    except Exception:  # the page itself failed (database down ...): plain text, still no details
        current_app.logger.exception("the error page could not be rendered")
        title, message = ERROR_TEXTS[500]
        return f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>", 500


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(ServiceError, _service_error)
    for status in (400, 403, 404, 405, 409, 413, 429):
        app.register_error_handler(status, _http_error)
    app.register_error_handler(500, _server_error)
