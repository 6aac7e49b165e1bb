"""Account permissions, the users link of the navbar and the staff's users card."""

from flask_babel import lazy_gettext as _l

from conference_app.core.layout import register_home_section, register_nav_item
from conference_app.core.permissions import ALL_ROLES, Role, register

register("accounts.own_account", _l("Change one's own password and log out"), ALL_ROLES)
register("accounts.manage_users", _l("Create, edit and disable users"), {Role.STAFF})
register_nav_item(_l("Users"), "accounts.users", "accounts.manage_users", order=80, group="admin")


def _user_counts() -> dict:
    from conference_app.accounts.services import user_counts

    return user_counts()


register_home_section("accounts.manage_users", "accounts/_home_users.html", _user_counts, order=80, kind="card")


# --- API tokens (issue 8, the events API) ---------------------------------------------------


def owns_token(user, token) -> bool:
    """The API token is the user's own."""
    return token.user_id == user.id


register("accounts.manage_tokens", _l("List and revoke every API token"), {Role.STAFF})
register("accounts.own_tokens", _l("See and revoke one's own API tokens"), set(), owner_roles=ALL_ROLES,
         owner_check=owns_token)
register_nav_item(_l("API tokens"), "accounts.tokens_list", "accounts.manage_tokens", order=81, group="admin")
