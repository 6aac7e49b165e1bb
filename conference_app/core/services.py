"""What every domain's services share."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from conference_app.extensions import db


class ServiceError(Exception):
    """A business rule refused an operation; ``message`` is shown to the user as is.

    Services raise it before anything is committed; the view flashes the message or
    re-renders its form with status ``status`` (400 unless a rule says otherwise).
    """

    def __init__(self, message, status: int = 400) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return str(self.message)


def flush(conflicts: Mapping[str, object] | None = None) -> None:
    """Flush the session; a unique constraint that a concurrent request won becomes a ServiceError.

    A service checks for a duplicate before it writes, but two requests can both pass that
    check; the database's unique constraint then refuses the second at flush time.
    ``conflicts`` maps a column name found in the database's error to the message to show
    (the same one the check gives); anything else gets a general message.
    """
    try:
        db.session.flush()
    except IntegrityError as error:
        detail = str(error.orig)
        message = next(
            (message for column, message in (conflicts or {}).items() if column in detail),
            _("This record conflicts with an existing one."),
        )
        raise ServiceError(message) from error
