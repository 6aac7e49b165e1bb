"""The one way a view runs a form through a service."""

from __future__ import annotations

from typing import Callable

from flask_wtf import FlaskForm

from conference_app.core.services import ServiceError
from conference_app.extensions import db


def submit(form: FlaskForm, operation: Callable[[], object]) -> bool:
    """Validate ``form`` and run ``operation``; True when both succeeded (the request
    pipeline then commits).

    A ServiceError rolls the session back and joins the form's errors, so the view
    re-renders the form with ``form_status(form)``: the error's status (429 for a throttle,
    409 for a step the record's state does not allow ...).
    """
    if not form.validate_on_submit():
        return False
    try:
        operation()
    except ServiceError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        form.refusal_status = error.status
        return False
    return True


def form_status(form: FlaskForm) -> int:
    """200 for a first display, 400 for invalid input, a refusing service's own status."""
    if not form.is_submitted():
        return 200
    return getattr(form, "refusal_status", 400)


def filter_args(form: FlaskForm) -> dict[str, str]:
    """The query arguments of a GET filter form, for links that keep the filters (pager, export).

    Only the form's own fields, as typed, and only those filled in: the rest of the query
    string never reaches ``url_for`` (``?endpoint=x`` or ``?_method=PUT`` would break it).
    """
    return {
        field.name: field.raw_data[0]
        for field in form
        if field.name != "csrf_token" and field.raw_data and field.raw_data[0] != ""
    }
