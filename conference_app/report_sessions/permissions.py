"""Who organises report sessions: staff, and the users of the society whose category-F project
the session belongs to. Invitees hold no permission: their personal link is their right,
checked by ``services.invitations`` (a token names one invitation)."""

from flask_babel import lazy_gettext as _l

from conference_app.core.layout import register_nav_item
from conference_app.core.permissions import Role, register

# Granted to the society on its own objects: a project, a session, a slot or an invitation
# (each says its ``owner_organisation_id``: the project's organisation).
register("report_sessions.create", _l("Start a report session for a project"), {Role.STAFF},
         owner_roles={Role.SOCIETY})
register("report_sessions.manage", _l("Build, invite for and publish a report session"), {Role.STAFF},
         owner_roles={Role.SOCIETY})
register("report_sessions.list", _l("List every report session and the month's warnings"), {Role.STAFF})

register_nav_item(_l("Frontier-results report sessions"), "report_sessions_public.index", None, order=32, group="events")
register_nav_item(_l("Report sessions"), "report_sessions.index", "report_sessions.manage", order=34, group="events")
