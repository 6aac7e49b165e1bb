"""Who may do what with events: staff everything; a society edits the events it hosts or
co-hosts, runs (registrations, check-in, attendance) those it holds in any role, and its
own salon series; experts score the influence rounds they are assigned to."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from conference_app.core.layout import (
    register_home_section,
    register_nav_group,
    register_nav_item,
    register_page_section,
)
from conference_app.core.permissions import Role, register, same_organisation


def hosts_event(user, event) -> bool:
    """The user's organisation hosts or co-hosts the event."""
    organisation_id = getattr(user, "organisation_id", None)
    return organisation_id is not None and organisation_id in event.host_organisation_ids


def runs_event(user, event) -> bool:
    """The user's organisation holds the event as host, co-host or main organiser."""
    organisation_id = getattr(user, "organisation_id", None)
    return organisation_id is not None and organisation_id in event.running_organisation_ids


def reviews_round(user, influence_round) -> bool:
    """The user is one of the round's reviewers."""
    return any(reviewer.user_id == user.id for reviewer in influence_round.reviewers)


register("events.list", _l("List every event"), {Role.STAFF})
register("events.mine", _l("List one's organisation's events"), {Role.SOCIETY})
register("events.create", _l("Record an event"), {Role.STAFF, Role.SOCIETY})
register("events.edit", _l("Edit an event, its programme and its filing"), {Role.STAFF},
         owner_roles={Role.SOCIETY}, owner_check=hosts_event)
register("events.run", _l("See an event's registrations, check people in, record attendance"), {Role.STAFF},
         owner_roles={Role.SOCIETY}, owner_check=runs_event)
register("events.manage", _l("Manage Academic Month editions and every event"), {Role.STAFF})
register("events.series_create", _l("Start a salon series"), {Role.STAFF, Role.SOCIETY})
register("events.series_edit", _l("Run a salon series and its topic selection"), {Role.STAFF},
         owner_roles={Role.SOCIETY}, owner_check=same_organisation)
register("events.statistics", _l("See attendance statistics of every event"), {Role.STAFF})
register("events.influence_manage", _l("Run the Top-10 influential conferences selection"), {Role.STAFF})
register("events.influence_score", _l("Score nominated conferences"), {Role.STAFF},
         owner_roles={Role.EXPERT}, owner_check=reviews_round)

register_nav_item(_l("Academic Month"), "events.calendar", None, order=30)  # public
register_nav_group("events", _l("Academic activities"))
register_nav_item(_l("Events"), "events.manage_list", "events.list", order=31, group="events")
register_nav_item(_l("Our events"), "events.my_events", "events.mine", order=31, group="events")

# --- the Top-10 influential conferences -----------------------------------------------------

def _rounds_to_score() -> dict | None:
    from conference_app.events.services.influence import rounds_to_score

    rounds = rounds_to_score(current_user)
    return {"rounds": rounds} if rounds else None


register_nav_item(_l("Top-10 conferences"), "events.influence_rounds", "events.influence_manage", order=35,
                  group="events")
register_home_section("events.influence_score", "events/influence/_home_expert.html", _rounds_to_score, order=20)

# --- manage: the organisation page lists the events it held and its upcoming ones ------------

def _organisation_events(organisation) -> dict:
    from conference_app.events.services import facts
    from conference_app.events.services.events import upcoming_events

    return {"held": facts.held_events(organisation), "upcoming": upcoming_events(organisation)}


register_page_section("organisation", "organisations.view", "events/manage/_organisation_events.html",
                      _organisation_events)

# --- series: the salon series list (public) and the attendance statistics (staff, and a
# society over the events it holds: the route needs events.run, the service narrows it)
register_nav_item(_l("Salon series"), "events.series_list", None, order=32, group="events")
register_nav_item(_l("Attendance statistics"), "events.statistics", "events.run", order=33, group="events")
