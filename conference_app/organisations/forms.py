"""Forms for organisations: one per audience, so nobody can post a field they may not set.

Staff edit everything; a society's administrator only its contacts; a registering society
declares its identity and contacts but never its BAST membership or status.
"""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional, ValidationError

from conference_app.accounts.models import User
from conference_app.core.db import column_length
from conference_app.core.enums import TitledStrEnum
from conference_app.core.forms import VersionedForm
from conference_app.organisations.credit_code import credit_code_problem
from conference_app.organisations.models import ORGANISATION_FIELD_LABELS as LABELS
from conference_app.organisations.models import (
    Organisation,
    OrganisationStatus,
    OrganisationType,
    PastEvent,
    PastEventKind,
    PastEventRole,
)
from conference_app.organisations.services import ORGANISATION_FIELDS
from conference_app.workflow import COMMENT_MAX_LENGTH

TOO_LONG = _l("At most %(max)d characters.")
# Choice fields below use validate_choice=False: the services check the value and say in
# words what is wrong, rather than WTForms' generic "Not a valid choice".


def _length(model: type, name: str) -> Length:
    return Length(max=column_length(model, name), message=TOO_LONG)


def _valid_credit_code(form, field) -> None:
    problem = credit_code_problem(field.data or "")
    if problem:
        raise ValidationError(gettext(problem))


def _choices(titled_enum: type[TitledStrEnum], *, everything: bool = False) -> list[SelectChoice]:
    """An option per enum member; first "All" (empty value) for filters when ``everything``."""
    options = [SelectChoice("", _l("All"))] if everything else []
    return options + [SelectChoice(value, title) for value, title in titled_enum.titles().items()]


class _OrganisationForm(FlaskForm):
    """Base: hands over exactly the organisation fields the concrete form has."""

    def organisation_fields(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name in ORGANISATION_FIELDS}


class _IdentityFields(_OrganisationForm):
    name_zh = StringField(
        LABELS["name_zh"],
        validators=[DataRequired(_l("Please enter the Chinese name of the organisation.")), _length(Organisation, "name_zh")],
    )
    org_type = SelectField(LABELS["org_type"], choices=_choices(OrganisationType), validate_choice=False)
    credit_code = StringField(
        LABELS["credit_code"],
        validators=[DataRequired(_l("Please enter the unified social credit code.")), _valid_credit_code],
        description=_l("18 characters, printed on the registration certificate."),
    )


class _ContactFields(_OrganisationForm):
    name_en = StringField(LABELS["name_en"], validators=[Optional(), _length(Organisation, "name_en")])
    publishes_journal = BooleanField(LABELS["publishes_journal"])
    contact_name = StringField(LABELS["contact_name"], validators=[Optional(), _length(Organisation, "contact_name")])
    contact_phone = StringField(
        LABELS["contact_phone"], validators=[Optional(), _length(Organisation, "contact_phone")]
    )
    contact_email = EmailField(
        LABELS["contact_email"],
        validators=[
            Optional(),
            Email(_l("Please enter a valid e-mail address.")),
            _length(Organisation, "contact_email"),
        ],
    )
    address = StringField(LABELS["address"], validators=[Optional(), _length(Organisation, "address")])


class SocietyOrganisationForm(VersionedForm, _ContactFields):
    """A society's administrator keeps its English name and contacts up to date."""


class StaffOrganisationForm(_IdentityFields, _ContactFields):
    """Staff create and edit every field, including the BAST-verified facts."""

    is_bast_member = BooleanField(LABELS["is_bast_member"])
    bast_member_since = DateField(LABELS["bast_member_since"], validators=[Optional()])
    in_journal_excellence_plan = BooleanField(LABELS["in_journal_excellence_plan"])


class StaffOrganisationEditForm(VersionedForm, StaffOrganisationForm):
    """Staff edit every field of an organisation, as it was when they opened the form."""


class RegistrationForm(_IdentityFields, _ContactFields):
    """Public self-registration: the organisation and its first user."""

    user_name = StringField(
        _l("Your name"), validators=[DataRequired(_l("Please enter your name.")), _length(User, "name")]
    )
    email = EmailField(
        _l("Your e-mail (login name)"),
        validators=[
            DataRequired(_l("Please enter a valid e-mail address.")),
            Email(_l("Please enter a valid e-mail address.")),
            _length(User, "email"),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Please choose a password.")),
            Length(max=128, message=TOO_LONG),
        ],
    )
    password_confirm = PasswordField(
        _l("Password again"), validators=[EqualTo("password", _l("The two passwords do not match."))]
    )


class ResubmissionForm(VersionedForm, _IdentityFields, _ContactFields):
    """A rejected applicant corrects what it declared and says what it changed."""

    comment = TextAreaField(
        _l("What did you correct?"), validators=[Length(max=COMMENT_MAX_LENGTH, message=TOO_LONG)]
    )


class ConfirmForm(FlaskForm):
    """No fields, only the CSRF token: for buttons that post (delete)."""


class ReviewForm(FlaskForm):
    """Staff approve or reject a registration, with a comment (required to reject)."""

    comment = TextAreaField(_l("Comment"), validators=[Length(max=COMMENT_MAX_LENGTH, message=TOO_LONG)])


class PastEventForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(_l("Please enter the year."))])
    kind = SelectField(_l("Kind"), choices=_choices(PastEventKind), validate_choice=False)
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Please enter the title of the event.")), _length(PastEvent, "title")]
    )
    role = SelectField(_l("Role"), choices=_choices(PastEventRole), validate_choice=False)
    held_in_beijing = BooleanField(_l("Held in Beijing"), default=True)


class OrganisationFilterForm(FlaskForm):
    """The staff list's filters, read from the query string."""

    class Meta:
        csrf = False

    # default "": a filter left out of the query string means "All", not an invalid choice.
    status = SelectField(_l("Status"), choices=_choices(OrganisationStatus, everything=True), default="")
    org_type = SelectField(LABELS["org_type"], choices=_choices(OrganisationType, everything=True), default="")
    bast_member = SelectField(
        LABELS["is_bast_member"], default="",
        choices=[SelectChoice("", _l("All")), SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
    )
    q = StringField(_l("Search"), validators=[Length(max=100, message=TOO_LONG)])

    def filters(self) -> dict:
        """Keyword arguments for ``services.organisation_query``; invalid values are ignored."""
        self.validate()
        clean = {name: None if field.errors else (field.data or None) for name, field in self._fields.items()}
        return {
            "status": clean["status"],
            "org_type": clean["org_type"],
            "bast_member": {"yes": True, "no": False}.get(clean["bast_member"]),
            "search": clean["q"],
        }
