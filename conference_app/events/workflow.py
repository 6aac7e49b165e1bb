"""The transition tables of events, their filing, and registrations."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conference_app.core.db import utcnow
from conference_app.events import permissions as _permissions  # noqa: F401  (the tables name them)
from conference_app.events.models import (
    Event,
    EventStatus,
    FilingStatus,
    InfluenceRound,
    Registration,
    RegistrationStatus,
    RoundStatus,
)
from conference_app.workflow import Transition, Workflow

DRAFT, PUBLISHED, HELD, CANCELLED = EventStatus.DRAFT, EventStatus.PUBLISHED, EventStatus.HELD, EventStatus.CANCELLED


def _ready_to_publish(event: Event) -> str | None:
    """What a published event must have: a host, and a venue unless it is online only."""
    if not event.host_organisation_ids:
        return _("Name the organisation that hosts the event before publishing it.")
    if event.mode != "online" and not event.venue:
        return _("Give the venue before publishing the event.")
    return None


def _has_started(event: Event) -> str | None:
    if event.starts_at > utcnow():
        return _("An event can be marked as held once it has started.")
    return None


EVENT = Workflow(
    Event,
    EventStatus,
    [
        Transition("publish", _l("Publish"), {DRAFT}, PUBLISHED, "events.edit", done="published",
                   done_title=_l("Event published"), guard=_ready_to_publish),
        Transition("unpublish", _l("Back to draft"), {PUBLISHED}, DRAFT, "events.edit", done="unpublished",
                   done_title=_l("Event taken back to draft")),
        Transition("mark_held", _l("Mark as held"), {PUBLISHED}, HELD, "events.edit", done="held",
                   done_title=_l("Event held"), guard=_has_started),
        Transition("cancel", _l("Cancel the event"), {DRAFT, PUBLISHED}, CANCELLED, "events.edit",
                   done="cancelled", done_title=_l("Event cancelled"), comment="required",
                   comment_missing=_l("Please say why the event is cancelled: registrants are told.")),
        Transition("reopen", _l("Reopen as draft"), {CANCELLED, HELD}, DRAFT, "events.manage", done="reopened",
                   done_title=_l("Event reopened"), comment="required"),
    ],
    action_prefix="event",
    object_title=_l("Event"),
)


def _has_approval_document(event: Event) -> str | None:
    if not event.filing_document_path:
        return _("Upload the approval document first.")
    return None


FILING = Workflow(
    Event,
    FilingStatus,
    [
        Transition("file", _l("Mark as filed"), {FilingStatus.NOT_NEEDED}, FilingStatus.PENDING, "events.edit",
                   done="filed", done_title=_l("International conference filed for approval")),
        Transition("approve", _l("Record the approval"), {FilingStatus.PENDING}, FilingStatus.APPROVED, "events.edit",
                   done="approved", done_title=_l("International conference filing approved"),
                   guard=_has_approval_document),
        Transition("withdraw", _l("Withdraw the filing"), {FilingStatus.PENDING, FilingStatus.APPROVED},
                   FilingStatus.NOT_NEEDED, "events.edit", done="withdrawn",
                   done_title=_l("International conference filing withdrawn"), comment="required"),
    ],
    action_prefix="event_filing",
    object_title=_l("Event"),
    state_attr="filing_status",
)

CONFIRMED, WAITLISTED = RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED

REGISTRATION = Workflow(
    Registration,
    RegistrationStatus,
    [
        # Taken by the registrant through the link of the confirmation mail (the token is the right).
        Transition("cancel", _l("Cancel the registration"), {CONFIRMED, WAITLISTED}, RegistrationStatus.CANCELLED,
                   None, done="cancelled", done_title=_l("Registration cancelled")),
        Transition("cancel_by_organiser", _l("Cancel the registration"), {CONFIRMED, WAITLISTED},
                   RegistrationStatus.CANCELLED, "events.run", done="cancelled_by_organiser",
                   done_title=_l("Registration cancelled by the organiser"), comment="required"),
        # Taken by the system when a place frees up.
        Transition("promote", _l("Promote from the waiting list"), {WAITLISTED}, CONFIRMED, None, done="promoted",
                   done_title=_l("Promoted from the waiting list")),
    ],
    action_prefix="registration",
    object_title=_l("Registration"),
)


def _ready_for_scoring(influence_round: InfluenceRound) -> str | None:
    if not influence_round.nominations:
        return _("Nominate at least one conference first.")
    if not influence_round.reviewers:
        return _("Assign at least one expert first.")
    return None


INFLUENCE_ROUND = Workflow(
    InfluenceRound,
    RoundStatus,
    [
        Transition("start_scoring", _l("Start scoring"), {RoundStatus.NOMINATING}, RoundStatus.SCORING,
                   "events.influence_manage", done="scoring", done_title=_l("Scoring of the Top-10 round started"),
                   guard=_ready_for_scoring),
        Transition("back_to_nominating", _l("Back to nominating"), {RoundStatus.SCORING}, RoundStatus.NOMINATING,
                   "events.influence_manage", done="nominating", done_title=_l("Top-10 round back to nominating"),
                   comment="required"),
        Transition("close", _l("Close and publish the result"), {RoundStatus.SCORING}, RoundStatus.CLOSED,
                   "events.influence_manage", done="closed", done_title=_l("Top-10 round closed")),
        Transition("reopen", _l("Reopen scoring"), {RoundStatus.CLOSED}, RoundStatus.SCORING,
                   "events.influence_manage", done="reopened", done_title=_l("Top-10 round reopened"),
                   comment="required"),
    ],
    action_prefix="influence_round",
    object_title=_l("Top-10 influential conferences round"),
)
