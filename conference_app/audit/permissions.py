"""The audit log's permission, navbar link and staff home sections."""

from flask_babel import lazy_gettext as _l

from conference_app.audit import services
from conference_app.core.layout import register_home_section, register_nav_group, register_nav_item
from conference_app.core.permissions import Role, register

register("audit.view", _l("View and export the audit log"), {Role.STAFF})
register_nav_group("admin", _l("Administration"))
register_nav_item(_l("Audit log"), "audit.index", "audit.view", order=90, group="admin")
register_home_section("audit.view", "audit/_home_link.html", order=90, kind="card")
register_home_section("audit.view", "audit/_home_recent.html", lambda: {"entries": services.recent_entries()},
                      order=90)
