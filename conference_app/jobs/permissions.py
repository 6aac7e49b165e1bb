"""Everyone sees and acts on their own background jobs; staff on every job."""

from flask_babel import lazy_gettext as _l

from conference_app.core.layout import register_nav_item
from conference_app.core.permissions import ALL_ROLES, Role, register


def owns_job(user, job) -> bool:
    """The user started the job."""
    return job.user_id is not None and job.user_id == user.id


register("jobs.view", _l("See one's own background jobs: progress, log and outputs"), {Role.STAFF},
         owner_roles=ALL_ROLES, owner_check=owns_job)
register("jobs.control", _l("Cancel and resume one's own background jobs"), {Role.STAFF},
         owner_roles=ALL_ROLES, owner_check=owns_job)
register("jobs.view_all", _l("See every user's background jobs"), {Role.STAFF})

register_nav_item(_l("Background jobs"), "jobs.index", "jobs.view_all", order=92, group="admin")
