"""Cleaning what people type, with one set of messages for every domain."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _

from conference_app.core.services import ServiceError

# Control characters other than tab and line breaks: PostgreSQL refuses NUL, and the rest
# only ever arrive by accident or on purpose.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_nul(value: str | None) -> str:
    """``value`` without NUL characters and surrounding blanks ("" for None): for search terms."""
    return (value or "").replace("\x00", "").strip()


def clean_text(
    value: str | None,
    label: Any,
    *,
    max_length: int | None = None,
    required: bool = False,
    required_message: Any = None,
) -> str | None:
    """The typed text without surrounding blanks, or None when empty; ServiceError when bad.

    Refused: control characters (NUL included), more than ``max_length`` characters, and
    nothing at all when ``required`` (with ``required_message`` or a general one).
    """
    value = (value or "").strip()
    if _CONTROL_CHARACTERS.search(value):
        raise ServiceError(_("%(field)s contains characters that are not allowed.", field=label))
    if not value:
        if required:
            raise ServiceError(required_message or _("Please fill in %(field)s.", field=label))
        return None
    if max_length is not None and len(value) > max_length:
        raise ServiceError(_("%(field)s must be at most %(max)d characters.", field=label, max=max_length))
    return value
