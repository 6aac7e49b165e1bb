"""Everyone reads their own notifications; staff read the log of sent mail and the mail outbox."""

from flask_babel import lazy_gettext as _l

from conference_app.core.layout import register_nav_item
from conference_app.core.permissions import ALL_ROLES, Role, register

register("notifications.own", _l("Read one's notifications"), ALL_ROLES)
register("notifications.mail_log", _l("Read the log of sent mail"), {Role.STAFF})
register("notifications.outbox", _l("See the delivery of mail and retry a failed one"), {Role.STAFF})

register_nav_item(_l("Notifications"), "notifications.inbox", "notifications.own", order=95)
register_nav_item(_l("Sent mail"), "notifications.mail_log", "notifications.mail_log", order=91, group="admin")
register_nav_item(_l("Mail delivery"), "notifications.outbox", "notifications.outbox", order=91, group="admin")
