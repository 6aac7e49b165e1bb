"""Forms of the public pages: the calendar's filters and the registration form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from conference_app.events.models import District, EventKind

CALENDAR_VIEWS = {"list": _l("List"), "week": _l("Week"), "month": _l("Month")}
CALENDAR_YEARS = range(1990, 2101)  # dates far outside would overflow the week and month arithmetic


def _calendar_year(form, field) -> None:
    if field.data is not None and field.data.year not in CALENDAR_YEARS:
        raise ValidationError(_l("Please give a date between %(first)d and %(last)d.",
                                 first=CALENDAR_YEARS[0], last=CALENDAR_YEARS[-1]))


def _all_and(options) -> list[SelectChoice]:
    """A filter's choices, "All" (the empty value) first."""
    return [SelectChoice("", _l("All"))] + [SelectChoice(value, label) for value, label in options]


class CalendarFilterForm(FlaskForm):
    """The calendar's view, scope and filters, read from the query string.

    The edition and discipline choices come from the database and the
    selection's mapping: the view hands them to ``offer``. An invalid value is ignored
    (``cleaned``), never an error page.
    """

    class Meta:
        csrf = False

    view = SelectField(_l("View"), default="list",
                       choices=[SelectChoice(value, label) for value, label in CALENDAR_VIEWS.items()])
    # "" is the current edition; otherwise an edition's number, "upcoming" or "all".
    edition = SelectField(_l("Academic Month"), default="", validate_choice=False)
    q = StringField(_l("Search"), validators=[Length(max=100, message=_l("At most %(max)d characters."))])
    discipline = SelectField(_l("Discipline"), default="", validate_choice=False)
    kind = SelectField(_l("Kind"), choices=_all_and(EventKind.titles().items()), default="")
    # A name (Chinese or English, or part of one): a list of hundreds of organisations would be
    # heavy to send and to scroll on a phone; the page offers the names as suggestions.
    organisation = StringField(_l("Organisation holding it"),
                               validators=[Length(max=100, message=_l("At most %(max)d characters."))],
                               render_kw={"list": "organisation-names", "autocomplete": "off"})
    district = SelectField(_l("District"), choices=_all_and(District.titles().items()), default="")
    date_from = DateField(_l("From date"), validators=[Optional(), _calendar_year])
    date_to = DateField(_l("To date"), validators=[Optional(), _calendar_year])
    day = DateField(_l("Week or month of"), validators=[Optional(), _calendar_year])  # the period a grid shows

    def offer(self, edition_choices, disciplines, *, chinese: bool) -> None:
        """Fill the choices that are data: (value, label) of the scopes, (key, Chinese,
        English) of the disciplines."""
        self.edition.choices = [SelectChoice(value, label) for value, label in edition_choices]
        self.discipline.choices = _all_and(
            (key, name_zh if chinese else name_en) for key, name_zh, name_en in disciplines)

    def cleaned(self) -> dict:
        """Each field's valid value; an empty or invalid one is None (for a filter: any)."""
        self.validate()
        values = {}
        for field in self:
            data = None if field.errors else field.data
            if isinstance(field, SelectField) and data not in {choice.value for choice in field.choices}:
                data = None
            values[field.name] = data if data not in ("", None) else None
        return values


class EventRegistrationForm(FlaskForm):
    """A visitor registers for an event; ``services.registrations.register`` checks every
    value (names, the mainland mobile number, the e-mail address) and says what is wrong."""

    name = StringField(_l("Your name"), render_kw={"autocomplete": "name"})
    organisation = StringField(_l("Work unit"), render_kw={"autocomplete": "organization"})
    title = StringField(_l("Title or position"), render_kw={"autocomplete": "organization-title"})
    phone = TelField(_l("Mobile phone number"), render_kw={"autocomplete": "tel", "inputmode": "tel"})
    email = EmailField(_l("E-mail"), render_kw={"autocomplete": "email"})

    def registrant_fields(self) -> dict:
        """The values for ``registrations.register``."""
        return {name: self[name].data for name in ("name", "organisation", "title", "phone", "email")}


