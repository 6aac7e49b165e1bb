"""What the events forms share: buttons that only post, a workflow step's comment, choices."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from conference_app.core.db import MAX_ID
from conference_app.core.enums import TitledStrEnum
from conference_app.events.services import events as event_services
from conference_app.workflow import COMMENT_MAX_LENGTH

TOO_LONG = _l("At most %(max)d characters.")
LONG_TEXT = 20_000


class ConfirmForm(FlaskForm):
    """No fields, only the CSRF token: for buttons that post (cancel, check in)."""


class CommentForm(FlaskForm):
    """A workflow step, with its comment (required by some steps)."""

    comment = TextAreaField(_l("Comment"), validators=[Length(max=COMMENT_MAX_LENGTH, message=TOO_LONG)])


def titled_choices(titled_enum: type[TitledStrEnum], first=None) -> list[SelectChoice]:
    """An option per enum member, after ``first`` (an "All" or "—" option with the empty value)."""
    options = [SelectChoice("", first)] if first is not None else []
    return options + [SelectChoice(value, title) for value, title in titled_enum.titles().items()]


def discipline_select_choices(first) -> list[SelectChoice]:
    """The disciplines in the reader's language, after ``first`` (the empty value)."""
    chinese = str(get_locale() or "zh_CN").startswith("zh")
    return [SelectChoice("", first)] + [SelectChoice(key, name_zh if chinese else name_en)
                                        for key, name_zh, name_en in event_services.discipline_choices()]


def optional_id(value) -> int | None:
    """A select's value as a database id: None for "" or anything that is not one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None
