"""Forms of the accounts pages; every message is translated."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from conference_app.accounts.models import TokenScope
from conference_app.accounts.services import password_problem
from conference_app.core.forms import VersionedForm
from conference_app.core.permissions import Role

REQUIRED = _l("This field is required.")
EMAIL_INVALID = _l("Enter a valid e-mail address.")


def acceptable_password(form, field) -> None:
    if field.data:
        # The account's name and address where the form has them (the service checks again with the account's).
        user_inputs = [form[name].data for name in ("name", "email") if name in form]
        problem = password_problem(field.data, user_inputs=user_inputs)
        if problem is not None:
            raise ValidationError(problem)


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, role.title) for role in Role]


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Email(EMAIL_INVALID), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(REQUIRED), Length(max=200), acceptable_password]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(REQUIRED), EqualTo("new_password", _l("The two passwords differ."))],
    )


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])


class _UserFields(FlaskForm):
    """What staff may set on an account."""

    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    role = SelectField(_l("Role"), choices=role_choices, validators=[DataRequired(REQUIRED)])
    organisation_id = SelectField(_l("Organisation (society users only)"), coerce=int, validate_choice=True)
    is_org_admin = BooleanField(_l("Administers the organisation"))

    def set_organisations(self, organisations) -> None:
        self.organisation_id.choices = [SelectChoice(0, _l("(none)"))] + [
            SelectChoice(org.id, org.name_zh) for org in organisations
        ]


class UserEditForm(VersionedForm, _UserFields):
    """What staff may change on an account, with the version of the account it was opened at."""


class UserCreateForm(_UserFields):
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Email(EMAIL_INVALID), Length(max=254)])
    password = PasswordField(
        _l("Initial password"),
        description=_l("Leave empty to e-mail the user a link to set a password."),
        validators=[Optional(), Length(max=200), acceptable_password],
    )


class UserFilterForm(FlaskForm):
    """The staff user list's search box and filters (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    role = SelectField(
        _l("Role"), choices=lambda: [SelectChoice("", _l("All roles"))] + role_choices(), validators=[Optional()]
    )
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("All")), SelectChoice("enabled", _l("Enabled")),
                 SelectChoice("disabled", _l("Disabled"))],
        validators=[Optional()],
    )


class TokenFilterForm(FlaskForm):
    """The staff API token list's search box and filters (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])  # user, token name or prefix
    scope = SelectField(
        _l("Scope"), choices=lambda: [SelectChoice("", _l("All scopes"))] + [
            SelectChoice(scope.value, scope.title) for scope in TokenScope],
        validators=[Optional()],
    )
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("All")), SelectChoice("active", _l("Active")),
                 SelectChoice("revoked", _l("Revoked"))],
        validators=[Optional()],
    )
