"""The sent-mail log's search and the inbox's button."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length


class MailLogFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Recipient or subject"), validators=[Length(max=200, message=_l("At most %(max)d characters."))])


class MarkReadForm(FlaskForm):
    """Only the CSRF token: mark every notification read."""
