"""Landing page, each role's home page and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from conference_app.core import i18n
from conference_app.core.layout import register_nav_item
from conference_app.core.permissions import ALL_ROLES, Role, public, register, requires
from conference_app.core.services import ServiceError
from conference_app.extensions import db

blueprint = Blueprint("core", __name__)

register("core.home", _l("Open the home page"), ALL_ROLES)
register_nav_item(_l("Home"), "core.home", "core.home", order=0)

SELECTION_COMMANDS = (
    "python -m selection institutions --help",
    "python -m selection harvest --help",
    "python -m selection import-snapshot --help",
    "python -m selection rank --help",
)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # reset links carry a token: never send it to another site
}


@blueprint.after_app_request
def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@blueprint.get("/")
@public
def index():
    """What the platform is, with a way in; logged-in users go straight to their home."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    return render_template("core/index.html")


@blueprint.get("/home")
@requires("core.home")
def home():
    """The home page of the user's role."""
    template, context = HOME_PAGES[Role(current_user.role)]
    return render_template(template, **context())


@blueprint.post("/language")
@public
def set_language():
    """Remember the chosen language: on the account when logged in, else in the session."""
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        raise ServiceError(_("Unknown language."))
    session[i18n.SESSION_KEY] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("core.index"))


def safe_next(target: str | None) -> str | None:
    """Only a path on this site, never another host.

    Browsers ignore tabs and newlines in URLs and read a backslash as a slash, and Werkzeug
    strips control characters when it writes the Location header, so "/<tab>/evil.com" would
    become ``//evil.com``: any whitespace, control character or backslash is refused outright.
    """
    if not target or "\\" in target or any(ch.isspace() or not ch.isprintable() for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


def _staff_dashboard() -> dict:
    from conference_app.accounts.models import User
    from conference_app.audit.models import AuditEntry
    from conference_app.organisations.models import Organisation, OrganisationStatus

    return {
        "pending_organisations": db.session.scalar(
            select(func.count()).select_from(Organisation).where(Organisation.status == OrganisationStatus.PENDING.value)
        ),
        "user_count": db.session.scalar(select(func.count()).select_from(User)),
        "enabled_user_count": db.session.scalar(select(func.count()).select_from(User).where(User.is_enabled)),
        "recent_entries": db.session.scalars(
            select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(10)
        ).all(),
    }


def _selection_workspace() -> dict:
    """The selection's disciplines (none when that library is not available) and its commands."""
    disciplines = []
    try:
        from selection.disciplines import load_disciplines
        from selection.errors import SelectionError
    except ImportError:
        current_app.logger.warning("the selection library is not installed")
    else:
        try:
            disciplines = list(load_disciplines())
        except SelectionError:
            current_app.logger.exception("disciplines mapping could not be read")
    return {"disciplines": disciplines, "commands": SELECTION_COMMANDS}


# What each role sees at /home: a template and the function giving its context.
HOME_PAGES = {
    Role.STAFF: ("core/home_staff.html", _staff_dashboard),
    Role.ANALYST: ("core/home_analyst.html", _selection_workspace),
    Role.EXPERT: ("core/home_expert.html", dict),
    Role.SOCIETY: ("core/home_society.html", lambda: {"organisation": current_user.organisation}),
}
