"""The audit log's filter form (GET, no CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError


def _plausible_year(field) -> None:
    if field.data and not 2000 <= field.data.year <= 2100:
        raise ValidationError(_l("Enter a date between the years 2000 and 2100."))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    actor = StringField(_l("Actor"), validators=[Optional(), Length(max=100)])
    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=False)
    object_type = SelectField(_l("Object type"), validators=[Optional()], validate_choice=False)
    object_id = StringField(_l("Object ID"), validators=[Optional(), Length(max=60)])
    date_from = DateField(
        _l("From (Beijing date)"), validators=[Optional()], format="%Y-%m-%d",
        render_kw={"type": "date"},
    )
    date_to = DateField(
        _l("To (Beijing date)"), validators=[Optional()], format="%Y-%m-%d",
        render_kw={"type": "date"},
    )

    def validate_date_from(self, field) -> None:
        _plausible_year(field)

    def validate_date_to(self, field) -> None:
        _plausible_year(field)
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def criteria(self) -> dict:
        """The filters as keyword arguments of ``entries_query``."""
        return {
            "actor": self.actor.data or None,
            "action": self.action.data or None,
            "object_type": self.object_type.data or None,
            "object_id": self.object_id.data or None,
            "date_from": self.date_from.data,
            "date_to": self.date_to.data,
        }


class StartExportForm(FlaskForm):
    """Only the CSRF token: prepare a large export in the background (the filters are in the URL)."""
