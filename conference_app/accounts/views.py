"""Login, logout, passwords, and the staff's user administration."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from conference_app.accounts import services
from conference_app.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    ResetPasswordForm,
    ResetRequestForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from conference_app.accounts.models import User
from conference_app.audit.services import client_ip
from conference_app.core import i18n
from conference_app.core.db import paginate
from conference_app.core.forms import form_status, submit
from conference_app.core.layout import register_nav_item
from conference_app.core.permissions import ALL_ROLES, Role, public, register, requires
from conference_app.core.services import ServiceError
from conference_app.core.views import safe_next
from conference_app.extensions import db, login_manager

blueprint = Blueprint("accounts", __name__)

register("accounts.own_account", _l("Change one's own password and log out"), ALL_ROLES)
register("accounts.manage_users", _l("Create, edit and disable users"), {Role.STAFF})
register_nav_item(_l("Users"), "accounts.users", "accounts.manage_users", order=80)

login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please log in to open this page.")
login_manager.login_message_category = "warning"
USERS_PER_PAGE = 25


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The session's user, unless disabled, logged out or the password changed since it logged in.

    The key is ``id:epoch:fingerprint`` (``User.get_id``): a logout or a new password raises
    the epoch, and a new password changes the fingerprint, so older keys (and copied
    cookies carrying them) no longer open a session.
    """
    user_id = session_id.partition(":")[0]
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_enabled or user.get_id() != session_id:
        return None
    return user


@blueprint.before_app_request
def end_idle_session():
    """Log out a session that has been idle longer than SESSION_IDLE_MINUTES."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    last_seen = session.get("last_seen", now)
    session["last_seen"] = now
    if now - last_seen <= current_app.config["SESSION_IDLE_MINUTES"] * 60:
        return None
    logout_user()
    session.pop("last_seen", None)
    flash(_("Your session timed out. Please log in again."), "warning")
    return redirect(url_for("accounts.login", next=request.full_path if request.method == "GET" else None))


def _clear_session() -> None:
    """Empty the session (nothing carries over a login or logout) but keep the chosen language."""
    locale = session.get(i18n.SESSION_KEY)
    session.clear()
    if locale:
        session[i18n.SESSION_KEY] = locale


def _start_session(user: User) -> None:
    _clear_session()
    session.permanent = True
    session["last_seen"] = int(time.time())
    login_user(user)


@blueprint.route("/auth/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), form_status(form)
    try:
        user = services.authenticate(form.email.data, form.password.data, client_ip())
    except ServiceError as error:
        db.session.commit()  # the failed attempt counts towards the locks
        form.form_errors.append(error.message)
        return render_template("accounts/login.html", form=form), error.status
    db.session.commit()
    _start_session(user)
    return redirect(safe_next(request.args.get("next")) or url_for("core.home"))


@blueprint.post("/auth/logout")
@requires("accounts.own_account")
def logout():
    services.end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    _clear_session()
    flash(_("You are logged out on all your devices."), "info")
    return redirect(url_for("accounts.login"))


@blueprint.route("/auth/password", methods=["GET", "POST"])
@requires("accounts.own_account")
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if not submit(form, lambda: services.change_password(user, form.current_password.data, form.new_password.data)):
        return render_template("accounts/change_password.html", form=form), form_status(form)
    db.session.commit()
    _start_session(user)  # the session key follows the new password
    flash(_("Your password was changed."), "success")
    return redirect(url_for("core.home"))


@blueprint.route("/auth/reset", methods=["GET", "POST"])
@public
def request_reset():
    form = ResetRequestForm()
    if not submit(form, lambda: services.request_password_reset(form.email.data, client_ip())):
        return render_template("accounts/reset_request.html", form=form), form_status(form)
    db.session.commit()
    # The same answer whether or not the address is registered.
    flash(_("If this address belongs to an account, a link to reset the password has been sent to it."), "info")
    return redirect(url_for("accounts.login"))


@blueprint.route("/auth/reset/<token>", methods=["GET", "POST"])
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
    db.session.commit()
    logout_user()
    flash(_("Your password was set. Please log in with it."), "success")
    return redirect(url_for("accounts.login"))


# --- staff: users -------------------------------------------------------------------------


@blueprint.get("/admin/users")
@requires("accounts.manage_users")
def users():
    filters = UserFilterForm(request.args)
    if not filters.validate():
        return render_template("accounts/users.html", filters=filters, page=None), 400
    enabled = {"enabled": True, "disabled": False}.get(filters.status.data)
    query = services.users_query(filters.q.data, filters.role.data or None, enabled)
    page = paginate(query, USERS_PER_PAGE)
    return render_template("accounts/users.html", filters=filters, page=page)


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
    db.session.commit()
    flash(_("User %(email)s was created.", email=services.normalise_email(form.email.data)), "success")
    return redirect(url_for("accounts.users"))


@blueprint.route("/admin/users/<id:user_id>/edit", methods=["GET", "POST"])
@requires("accounts.manage_users")
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
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

    if not submit(form, operation):
        return render_template("accounts/user_form.html", form=form, user=user), form_status(form)
    db.session.commit()
    flash(_("User %(email)s was saved.", email=user.email), "success")
    return redirect(url_for("accounts.users"))


@blueprint.post("/admin/users/<id:user_id>/disable")
@requires("accounts.manage_users")
def disable_user(user_id: int):
    return _set_enabled(db.get_or_404(User, user_id), False)


@blueprint.post("/admin/users/<id:user_id>/enable")
@requires("accounts.manage_users")
def enable_user(user_id: int):
    return _set_enabled(db.get_or_404(User, user_id), True)


def _set_enabled(user: User, enabled: bool):
    services.set_enabled(user, enabled, acting_user=current_user)  # a ServiceError becomes a 400 page
    db.session.commit()
    if enabled:
        flash(_("User %(email)s was enabled.", email=user.email), "success")
    else:
        flash(_("User %(email)s was disabled.", email=user.email), "success")
    return redirect(url_for("accounts.users"))
