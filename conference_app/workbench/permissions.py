"""The workbench's permission, its navbar link and its home-page section."""

from flask_babel import lazy_gettext as _l

from conference_app.core.layout import register_home_section, register_nav_item
from conference_app.core.permissions import Role, register
from conference_app.workbench import services

register("workbench.view", _l("Open the selection workbench"), {Role.ANALYST})
register_nav_item(_l("Selection workbench"), "workbench.overview", "workbench.view", order=48)
register_home_section("workbench.view", "workbench/_home.html", services.workspace, order=10)
