"""Who may do what with organisations, their navbar links and home-page sections."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from conference_app.core.layout import register_home_section, register_nav_item
from conference_app.core.permissions import Role, register, same_organisation, same_organisation_admin

register("organisations.list", _l("List all organisations"), {Role.STAFF})
register("organisations.create", _l("Add organisations"), {Role.STAFF})
register("organisations.review", _l("Approve or reject registrations"), {Role.STAFF})
# Not a route: decides which edit form a user gets (identity and BAST-verified facts).
register("organisations.edit_all", _l("Edit every field of an organisation"), {Role.STAFF})
register(
    "organisations.view",
    _l("View an organisation"),
    {Role.STAFF},
    owner_roles={Role.SOCIETY},
    owner_check=same_organisation,
)
register("organisations.own", _l("Open one's own organisation"), {Role.SOCIETY})
register(
    "organisations.edit",
    _l("Edit an organisation and its past events"),
    {Role.STAFF},
    owner_roles={Role.SOCIETY},
    owner_check=same_organisation_admin,
)
# Taken by the applicant through the link of a successful login (no session: the account
# waits for approval), never by staff.
register(
    "organisations.resubmit",
    _l("Correct a rejected registration and resubmit it"),
    set(),
    owner_roles={Role.SOCIETY},
    owner_check=same_organisation_admin,
)
register_nav_item(_l("Organisations"), "organisations.index", "organisations.list", order=20)
register_nav_item(_l("My organisation"), "organisations.mine", "organisations.own", order=20)


def _pending_count() -> dict:
    from conference_app.organisations import services
    from conference_app.organisations.models import OrganisationStatus

    return {"pending": services.count_organisations(OrganisationStatus.PENDING)}


register_home_section("organisations.review", "organisations/_home_pending.html", _pending_count, order=10,
                      kind="card")
register_home_section("organisations.own", "organisations/_home_mine.html",
                      lambda: {"organisation": current_user.organisation}, order=10)
