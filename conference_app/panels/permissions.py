"""Who may see and import selection rounds: the selection analysts (定量筛选团队) and staff."""

from flask_babel import lazy_gettext as _l

from conference_app.core.layout import register_nav_group, register_nav_item
from conference_app.core.permissions import Role, register

register("panels.rounds", _l("Import selection rounds and see their candidates"), {Role.ANALYST, Role.STAFF})

register_nav_group("panels", _l("Expert panels"))
register_nav_item(_l("Selection rounds"), "panels.rounds", "panels.rounds", order=50, group="panels")
