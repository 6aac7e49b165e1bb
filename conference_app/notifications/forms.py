"""The sent-mail log's and the outbox's filters, and the buttons of the inbox and the outbox."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from conference_app.core.outbox import OutboxState


class MailLogFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Recipient or subject"), validators=[Length(max=200, message=_l("At most %(max)d characters."))])


class MarkReadForm(FlaskForm):
    """Only the CSRF token: mark every notification read."""


class OutboxFilterForm(FlaskForm):
    class Meta:
        csrf = False

    state = SelectField(_l("Delivery state"), validators=[Optional()],
                        choices=[SelectChoice("", _l("All states"))]
                        + [SelectChoice(state.value, state.lazy_title) for state in OutboxState])
    q = StringField(_l("Recipient or subject"), validators=[Length(max=200, message=_l("At most %(max)d characters."))])


class RetryMailForm(FlaskForm):
    """Only the CSRF token: deliver a failed mail again."""


class DeliverMailForm(FlaskForm):
    """Only the CSRF token: start a delivery of the waiting mail now."""
