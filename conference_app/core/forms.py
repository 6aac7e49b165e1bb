"""The one way a view runs a form through a service."""

from __future__ import annotations

from typing import Callable

from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField

from conference_app.core.db import STALE_EDIT_MESSAGE, VersionedMixin
from conference_app.core.services import ServiceError
from conference_app.extensions import db


class VersionedForm:
    """Mixin of a form that edits a ``VersionedMixin`` record: the record's version when the
    form was opened, as a hidden field (``render_form`` and ``form.hidden_tag()`` write it).
    The view hands the record to ``submit(form, operation, edits=record)``."""

    version = HiddenField()


def check_version(record: VersionedMixin, submitted: object) -> None:
    """Refuse (409) an edit of ``record`` made on a form opened at another version of it.

    ``submitted`` is the hidden version as posted: empty when the form was opened before the
    record existed (someone created it meanwhile), None when the post had no such field (a
    script, a page opened before the field existed), which is not checked. The write itself
    still says which version it read, so a change landing after this check is refused too.
    """
    if submitted is not None and str(submitted).strip() != str(record.version):
        raise ServiceError(STALE_EDIT_MESSAGE, 409)


def submit(form: FlaskForm, operation: Callable[[], object], edits: VersionedMixin | None = None) -> bool:
    """Validate ``form`` and run ``operation``; True when both succeeded (the request
    pipeline then commits).

    A ServiceError rolls the session back and joins the form's errors, so the view
    re-renders the form with ``form_status(form)``: the error's status (429 for a throttle,
    409 for a step the record's state does not allow ...). With ``edits`` (a record the
    ``VersionedForm`` edits), a form opened at an older version of it is refused first, and
    a write that finds the row changed meanwhile (``StaleDataError``) is refused alike.
    """
    if not form.validate_on_submit():
        return False
    try:
        if edits is not None:
            check_version(edits, form.version.raw_data[0] if form.version.raw_data else None)
        operation()
        db.session.flush()  # a stale write fails here, while the form can still say so
    except StaleDataError:
        db.session.rollback()
        form.form_errors.append(STALE_EDIT_MESSAGE)
        form.refusal_status = 409
        return False
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
