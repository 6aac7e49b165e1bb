"""Landing page, the home page assembled from the domains' sections, the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from conference_app.core import i18n
from conference_app.core.layout import page_sections, register_nav_item
from conference_app.core.permissions import Role, public, requires
from conference_app.core.production import blueprint as health_blueprint
from conference_app.core.services import ServiceError

blueprint = Blueprint("core", __name__)
blueprints = [blueprint, health_blueprint]

register_nav_item(_l("Home"), "core.home", "core.home", order=0)

# Each role's home page: its title, and what it says while no domain has a section for it.
HOME_TITLES = {
    Role.STAFF: (_l("Staff dashboard"), [_l("Nothing needs your attention.")]),
    Role.ANALYST: (_l("Selection workspace"), [_l("Nothing needs your attention.")]),
    Role.EXPERT: (_l("My reviews"), [
        _l("No review is assigned to you yet."),
        _l("When program staff assign applications or candidate papers to you, they will be listed here."),
    ]),
    Role.SOCIETY: (_l("My organisation"), [_l("Nothing needs your attention.")]),
}

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
    """The home page of the user's role: the sections the domains registered for it."""
    title, empty_texts = HOME_TITLES[Role(current_user.role)]
    sections = page_sections("home", current_user)
    return render_template(
        "core/home.html",
        title=title,
        empty_texts=empty_texts,
        cards=[(section, context) for section, context in sections if section.kind == "card"],
        panels=[(section, context) for section, context in sections if section.kind == "panel"],
    )


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
