"""Who may see and import selection rounds: the selection analysts (定量筛选团队) and staff;
who forms expert panels (staff), chairs one (its chair), sits on one (its members) and edits
an expert profile (staff, and the expert their own)."""

from flask_babel import lazy_gettext as _l

from conference_app.core.layout import register_nav_group, register_nav_item
from conference_app.core.permissions import Role, register


def _panel_of(obj):
    """A panel, or the panel of a conflict."""
    return getattr(obj, "panel", None) or obj


def chairs_panel(user, obj) -> bool:
    """The user chairs the panel (of the conflict)."""
    panel = _panel_of(obj)
    return panel.chair_user_id is not None and panel.chair_user_id == user.id


def sits_on_panel(user, obj) -> bool:
    """The user is a member of the panel."""
    return _panel_of(obj).has_member(user.id)


def owns_review(user, review) -> bool:
    """The review is the user's own."""
    return review.user_id == user.id


def is_self(user, target) -> bool:
    """The user (whose profile it is) is the user."""
    return target.id == user.id


register("panels.rounds", _l("Import selection rounds and see their candidates"), {Role.ANALYST, Role.STAFF})
register("panels.manage", _l("Form expert panels: members, chair, opening"), {Role.STAFF})
register("panels.view", _l("See an expert panel, its members and conflicts"), {Role.STAFF},
         owner_roles={Role.EXPERT}, owner_check=sits_on_panel)
register("panels.chair", _l("Compute and override a panel's conflicts"), {Role.STAFF},
         owner_roles={Role.EXPERT}, owner_check=chairs_panel)
register("panels.declare", _l("Declare a conflict with a candidate"), set(),
         owner_roles={Role.EXPERT}, owner_check=sits_on_panel)
register("panels.review", _l("Score one's own assigned candidates"), set(),
         owner_roles={Role.EXPERT}, owner_check=owns_review)
register("panels.reopen", _l("Reopen a panel's locked results"), {Role.STAFF})
register("panels.profile", _l("Edit an expert profile"), {Role.STAFF}, owner_roles={Role.EXPERT}, owner_check=is_self)

register_nav_group("panels", _l("Expert panels"))
register_nav_item(_l("Selection rounds"), "panels.rounds", "panels.rounds", order=50, group="panels")
register_nav_item(_l("My reviews"), "panels.my_reviews", "panels.review", order=49, group="panels")
register_nav_item(_l("My expert profile"), "panels.my_profile", "panels.profile", order=51, group="panels")
