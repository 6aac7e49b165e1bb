"""Who may do what with calls and applications: staff run the calls and every decision; a
society applies for its own organisation and records its projects' results; an expert sees
and scores only the applications assigned to it."""

from flask_babel import lazy_gettext as _l

from conference_app.core.layout import register_nav_group, register_nav_item
from conference_app.core.permissions import Role, register, same_organisation


def reviews_application(user, application) -> bool:
    """The user is one of the application's assigned reviewers."""
    return any(review.reviewer_id == user.id for review in application.reviews)


def owns_review(user, review) -> bool:
    """The review is the user's own."""
    return review.reviewer_id == user.id


def may_view_application(user, application) -> bool:
    """A society sees its own applications, an expert those assigned to it."""
    return same_organisation(user, application) or reviews_application(user, application)


register("programs.manage", _l("Load and publish calls, see every application, run decisions"), {Role.STAFF})
register("programs.apply", _l("Apply for a program category"), {Role.SOCIETY})
register("programs.edit", _l("Edit, submit and withdraw one's organisation's applications"), set(),
         owner_roles={Role.SOCIETY}, owner_check=same_organisation)
register("programs.view", _l("See an application and its history"), {Role.STAFF},
         owner_roles={Role.SOCIETY, Role.EXPERT}, owner_check=may_view_application)
register("programs.review", _l("Run formal review, assign reviewers, approve"), {Role.STAFF})
register("programs.score", _l("Score an assigned application"), set(), owner_roles={Role.EXPERT},
         owner_check=owns_review)
register("programs.funds", _l("Release tranches and run acceptance"), {Role.STAFF})
register("programs.records", _l("Record a project's results"), {Role.STAFF},
         owner_roles={Role.SOCIETY}, owner_check=same_organisation)

register_nav_group("programs", _l("Programs"))
register_nav_item(_l("Calls"), "programs.calls", "programs.manage", order=40, group="programs")
register_nav_item(_l("Our applications"), "programs.my_applications", "programs.apply", order=40, group="programs")
register_nav_item(_l("Applications to review"), "programs.my_reviews", "programs.score", order=41, group="programs")
register_nav_item(_l("Public notices"), "programs.notices", None, order=45, group="programs")
