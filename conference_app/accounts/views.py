"""Login, logout, passwords, and the staff's user administration."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from conference_app.accounts import services, tokens
from conference_app.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    ResetPasswordForm,
    ResetRequestForm,
    TokenFilterForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from conference_app.accounts.models import ApiToken, User
from conference_app.audit.services import client_ip
from conference_app.core import i18n
from conference_app.core.db import keep_changes, paginate
from conference_app.core.errors import is_api_request
from conference_app.core.excel import workbook_bytes, xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import public, requires
from conference_app.core.services import ServiceError
from conference_app.core.views import safe_next
from conference_app.extensions import db, login_manager, rate_limit

blueprint = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please log in to open this page.")
login_manager.login_message_category = "warning"
USERS_PER_PAGE = 25
EXPORT_MAX_ROWS = 100_000

# Where a user goes whose password was right but whose account may not log in: each
# handler returns a URL (a rejected applicant corrects its registration), or None.
REFUSED_LOGIN_HANDLERS: list[Callable[[User], str | None]] = []


@login_manager.user_loader
def load_user(session_key: str) -> User | None:
    """The user of a live login session (see ``services.user_for_session``); never on the
    JSON API, which is CSRF-exempt and so must not act on a browser's cookie."""
    if is_api_request():
        return None
    return services.user_for_session(session_key)


@login_manager.request_loader
def load_api_user(request_) -> User | None:
    """On the JSON API only: the user of the request's bearer token (``tokens.token_for_bearer``),
    with the token kept in ``g.api_token`` for the views' scope check."""
    if not is_api_request():
        return None
    token = tokens.token_for_bearer(request_.headers.get("Authorization"))
    if token is None:
        return None
    g.api_token = token
    return token.user


@blueprint.before_app_request
def end_expired_session():
    """Log out a session idle longer than SESSION_IDLE_MINUTES or older than SESSION_MAX_HOURS."""
    if request.endpoint == "static" or is_api_request() or not current_user.is_authenticated:
        return None  # the API has no sessions: its tokens live until revoked
    config = current_app.config
    now = int(time.time())
    last_seen = session.get("last_seen", now)
    started_at = session.get("started_at", now)
    session["last_seen"] = now
    idle = now - last_seen > config["SESSION_IDLE_MINUTES"] * 60
    if not idle and now - started_at <= config["SESSION_MAX_HOURS"] * 3600:
        return None
    services.end_session(session.get("_user_id"))
    logout_user()
    _clear_session()
    if idle:
        flash(_("Your session timed out. Please log in again."), "warning")
    else:
        flash(_("Your session has ended after %(hours)d hours. Please log in again.",
                hours=config["SESSION_MAX_HOURS"]), "warning")
    return redirect(url_for("accounts.login", next=request.full_path if request.method == "GET" else None))


def _clear_session() -> None:
    """Empty the session (nothing carries over a login or logout) but keep the chosen language."""
    locale = session.get(i18n.SESSION_KEY)
    session.clear()
    if locale:
        session[i18n.SESSION_KEY] = locale


def _start_session(user: User) -> None:
    """A new login session for this browser, in a cleared cookie."""
    _clear_session()
    services.start_session(user, client_ip(), request.user_agent.string)
    session.permanent = True
    session["last_seen"] = session["started_at"] = int(time.time())
    login_user(user)


@blueprint.route("/auth/login", methods=["GET", "POST"])
@rate_limit("LOGIN_RATE_LIMIT")
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), form_status(form)
    try:
        user = services.authenticate(form.email.data, form.password.data, client_ip())
    except services.LoginRefused as refused:
        keep_changes()  # the refusal is logged
        for handler in REFUSED_LOGIN_HANDLERS:
            target = handler(refused.user)
            if target:
                flash(refused.message, "warning")
                return redirect(target)
        form.form_errors.append(refused.message)
        return render_template("accounts/login.html", form=form), refused.status
    except ServiceError as error:
        keep_changes()  # the failed attempt counts towards the locks
        form.form_errors.append(error.message)
        return render_template("accounts/login.html", form=form), error.status
    _start_session(user)
    return redirect(safe_next(request.args.get("next")) or url_for("core.home"))


@blueprint.post("/auth/logout")
@requires("accounts.own_account")
def logout():
    """End this browser's session; the user's other devices stay logged in."""
    services.end_session(session.get("_user_id"))
    logout_user()
    _clear_session()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@blueprint.post("/auth/logout-everywhere")
@requires("accounts.own_account")
def logout_everywhere():
    """End every session of the user, on all devices (a lost phone, a shared computer)."""
    services.end_all_sessions(current_user._get_current_object())
    logout_user()
    _clear_session()
    flash(_("You are logged out on all your devices."), "info")
    return redirect(url_for("accounts.login"))


@blueprint.route("/auth/password", methods=["GET", "POST"])
@rate_limit("PASSWORD_CHANGE_RATE_LIMIT")
@requires("accounts.own_account")
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render_template("accounts/change_password.html", form=form), form_status(form)
    user = current_user._get_current_object()
    try:
        services.change_password(user, form.current_password.data, form.new_password.data, client_ip())
    except services.AccountLocked as locked:
        keep_changes()  # the failure and the lock are logged
        services.end_session(session.get("_user_id"))  # the session that guessed ends
        logout_user()
        _clear_session()
        flash(locked.message, "danger")
        return redirect(url_for("accounts.login"))
    except ServiceError as error:
        keep_changes()  # a wrong current password counts towards the lock (other refusals write nothing)
        form.form_errors.append(error.message)
        return render_template("accounts/change_password.html", form=form), error.status
    _start_session(user)  # the new password ended every session, this one included
    flash(_("Your password was changed. Your other devices are logged out."), "success")
    return redirect(url_for("core.home"))


@blueprint.route("/auth/reset", methods=["GET", "POST"])
@rate_limit("PASSWORD_RESET_RATE_LIMIT")
@public
def request_reset():
    form = ResetRequestForm()
    if not submit(form, lambda: services.request_password_reset(form.email.data, client_ip())):
        return render_template("accounts/reset_request.html", form=form), form_status(form)
    # The same answer whether or not the address is registered.
    flash(_("If this address belongs to an account, a link to reset the password has been sent to it."), "info")
    return redirect(url_for("accounts.login"))


@blueprint.route("/auth/reset/<token>", methods=["GET", "POST"])
@rate_limit("PASSWORD_RESET_RATE_LIMIT")
@public
def reset_password(token: str):
    try:
        services.user_for_reset_token(token)
    except ServiceError as error:
        flash(error.message, "danger")
        return redirect(url_for("accounts.request_reset"))
    form = ResetPasswordForm()
    if not submit(form, lambda: services.reset_password(token, form.new_password.data)):
        return render_template("accounts/reset_password.html", form=form), form_status(form)
    logout_user()
    _clear_session()
    flash(_("Your password was set. Please log in with it."), "success")
    return redirect(url_for("accounts.login"))


# --- staff: users -------------------------------------------------------------------------


def _filtered_users():
    """The user list's filter form and the statement it selects (None when the form is invalid)."""
    filters = UserFilterForm(request.args)
    if not filters.validate():
        return filters, None
    enabled = {"enabled": True, "disabled": False}.get(filters.status.data)
    return filters, services.users_query(filters.q.data, filters.role.data or None, enabled)


@blueprint.get("/admin/users")
@requires("accounts.manage_users")
def users():
    filters, query = _filtered_users()
    if query is None:
        return render_template("accounts/users.html", filters=filters, page=None), 400
    return render_template("accounts/users.html", filters=filters, page=paginate(query, USERS_PER_PAGE))


@blueprint.get("/admin/users/export.xlsx")
@requires("accounts.manage_users")
def export_users():
    """The user list, with its filters, as an Excel workbook."""
    filters, query = _filtered_users()
    if query is None:
        return render_template("accounts/users.html", filters=filters, page=None), 400
    rows = db.session.scalars(query.limit(EXPORT_MAX_ROWS)).unique()
    return xlsx_response(workbook_bytes(_l("Users"), services.EXPORT_COLUMNS, rows), "users")


def _organisations():
    from conference_app.organisations.models import Organisation

    return db.session.scalars(select(Organisation).order_by(Organisation.name_zh)).all()


@blueprint.route("/admin/users/new", methods=["GET", "POST"])
@requires("accounts.manage_users")
def create_user():
    form = UserCreateForm()
    form.set_organisations(_organisations())

    def operation():
        services.create_user(
            form.email.data,
            form.name.data,
            form.role.data,
            organisation_id=form.organisation_id.data or None,
            is_org_admin=form.is_org_admin.data,
            phone=form.phone.data,
            password=form.password.data or None,
        )

    if not submit(form, operation):
        return render_template("accounts/user_form.html", form=form, user=None), form_status(form)
    flash(_("User %(email)s was created.", email=services.normalise_email(form.email.data)), "success")
    return redirect(url_for("accounts.users"))


@blueprint.route("/admin/users/<id:user_id>/edit", methods=["GET", "POST"])
@requires("accounts.manage_users", load=User, arg="user_id")
def edit_user(user: User):
    form = UserEditForm(obj=user)
    form.set_organisations(_organisations())
    if request.method == "GET":
        form.organisation_id.data = user.organisation_id or 0

    def operation():
        services.update_user(
            user,
            name=form.name.data,
            role=form.role.data,
            organisation_id=form.organisation_id.data or None,
            is_org_admin=form.is_org_admin.data,
            phone=form.phone.data,
            acting_user=current_user,
        )

    if not submit(form, operation, edits=user):
        return render_template("accounts/user_form.html", form=form, user=user), form_status(form)
    flash(_("User %(email)s was saved.", email=user.email), "success")
    return redirect(url_for("accounts.users"))


@blueprint.post("/admin/users/<id:user_id>/disable")
@requires("accounts.manage_users", load=User, arg="user_id")
def disable_user(user: User):
    services.set_enabled(user, False, acting_user=current_user)  # a ServiceError becomes a 400 page
    flash(_("User %(email)s was disabled.", email=user.email), "success")
    return redirect(url_for("accounts.users"))


@blueprint.post("/admin/users/<id:user_id>/enable")
@requires("accounts.manage_users", load=User, arg="user_id")
def enable_user(user: User):
    services.set_enabled(user, True, acting_user=current_user)
    flash(_("User %(email)s was enabled.", email=user.email), "success")
    return redirect(url_for("accounts.users"))


# --- API tokens: staff list and revoke every one, a user their own ---------------------------

TOKENS_PER_PAGE = 25


def _filtered_tokens():
    """The token list's filter form and the statement it selects (None when the form is invalid)."""
    filters = TokenFilterForm(request.args)
    if not filters.validate():
        return filters, None
    return filters, tokens.tokens_query(filters.q.data, filters.scope.data or None, filters.status.data or None)


@blueprint.get("/admin/tokens")
@requires("accounts.manage_tokens")
def tokens_list():
    filters, query = _filtered_tokens()
    if query is None:
        return render_template("accounts/tokens.html", filters=filters, page=None), 400
    return render_template("accounts/tokens.html", filters=filters, page=paginate(query, TOKENS_PER_PAGE))


@blueprint.get("/admin/tokens/export.xlsx")
@requires("accounts.manage_tokens")
def export_tokens():
    """The token list, with its filters, as an Excel workbook."""
    filters, query = _filtered_tokens()
    if query is None:
        return render_template("accounts/tokens.html", filters=filters, page=None), 400
    rows = db.session.scalars(query.limit(EXPORT_MAX_ROWS)).unique()
    return xlsx_response(workbook_bytes(_l("API tokens"), tokens.EXPORT_COLUMNS, rows), "api-tokens")


@blueprint.post("/admin/tokens/<id:token_id>/revoke")
@requires("accounts.manage_tokens", load=ApiToken, arg="token_id")
def revoke_token(api_token: ApiToken):
    return _revoke(api_token, "accounts.tokens_list")


def _revoke(api_token: ApiToken, back_to: str):
    tokens.revoke_token(api_token, current_user._get_current_object())  # a ServiceError becomes a page
    flash(_("The API token %(prefix)s… (%(name)s) was revoked.", prefix=api_token.prefix, name=api_token.name),
          "success")
    return redirect(url_for(back_to))


@blueprint.get("/account/tokens")
@requires("accounts.own_tokens")
def my_tokens():
    query = tokens.tokens_query(user=current_user._get_current_object())
    return render_template("accounts/my_tokens.html", page=paginate(query, TOKENS_PER_PAGE))


@blueprint.post("/account/tokens/<id:token_id>/revoke")
@requires("accounts.own_tokens", load=ApiToken, arg="token_id")
def revoke_my_token(api_token: ApiToken):
    return _revoke(api_token, "accounts.my_tokens")
