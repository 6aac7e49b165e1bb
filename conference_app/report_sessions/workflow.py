"""The transition tables of report sessions and their invitations.

``REPORT_SESSION``: draft → published (at least 4 speakers accepted on site and a discussion
guest accepted, what is missing listed) → published again after a change (a new programme
version; the people affected are told). ``INVITATION``: invited → accepted / declined (by the
invitee's link) / expired (``flask invitations expire``, by the system) / withdrawn (by the
organisers); an accepted invitee may still decline; an expired one may be invited again.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conference_app.core.timeutil import beijing_today
from conference_app.report_sessions import permissions as _permissions  # noqa: F401  (the tables name them)
from conference_app.report_sessions.models import (
    Invitation,
    InvitationStatus,
    ReportSession,
    ReportSessionStatus,
)
from conference_app.workflow import Transition, Workflow

DRAFT, PUBLISHED = ReportSessionStatus.DRAFT, ReportSessionStatus.PUBLISHED


def _ready(session: ReportSession) -> str | None:
    from conference_app.report_sessions.services.publishing import publishing_refusal

    return publishing_refusal(session)


def _ready_and_changed(session: ReportSession) -> str | None:
    from conference_app.report_sessions.services.publishing import republishing_refusal

    return republishing_refusal(session)


REPORT_SESSION = Workflow(
    ReportSession,
    ReportSessionStatus,
    [
        Transition("publish", _l("Publish the programme"), {DRAFT}, PUBLISHED, "report_sessions.manage",
                   done="published", done_title=_l("Report session published"), guard=_ready,
                   wrong_state=_l("The programme is published already: publish the changes instead.")),
        Transition("republish", _l("Publish the changes"), {PUBLISHED}, PUBLISHED, "report_sessions.manage",
                   done="republished", done_title=_l("Changed programme published"), guard=_ready_and_changed,
                   wrong_state=_l("Publish the programme a first time before publishing changes.")),
    ],
    action_prefix="report_session",
    object_title=_l("Report session"),
)

INVITED, ACCEPTED = InvitationStatus.INVITED, InvitationStatus.ACCEPTED
DECLINED, EXPIRED, WITHDRAWN = InvitationStatus.DECLINED, InvitationStatus.EXPIRED, InvitationStatus.WITHDRAWN


def is_overdue(invitation: Invitation) -> bool:
    """The deadline (a Beijing day, answers taken through it) has passed."""
    return invitation.deadline < beijing_today()


def _answer_in_time(invitation: Invitation) -> str | None:
    """An open invitation is answered by its deadline; an accepted one may still be declined."""
    if invitation.status == INVITED and is_overdue(invitation):
        return _("The deadline to answer this invitation (%(day)s) has passed; please contact the organisers.",
                 day=invitation.deadline.isoformat())
    return None


def _overdue(invitation: Invitation) -> str | None:
    if not is_overdue(invitation):
        return _("The deadline has not passed yet.")
    return None


INVITATION = Workflow(
    Invitation,
    InvitationStatus,
    [
        # Taken by the invitee through the personal link (the token is the right).
        Transition("accept", _l("Accept"), {INVITED}, ACCEPTED, None, done="accepted",
                   done_title=_l("Invitation accepted"), guard=_answer_in_time,
                   wrong_state=_l("This invitation can no longer be accepted.")),
        Transition("decline", _l("Decline"), {INVITED, ACCEPTED}, DECLINED, None, done="declined",
                   done_title=_l("Invitation declined"), guard=_answer_in_time,
                   wrong_state=_l("This invitation can no longer be declined.")),
        # Taken by the system (flask invitations expire).
        Transition("expire", _l("Mark as expired"), {INVITED}, EXPIRED, None, done="expired",
                   done_title=_l("Invitation expired without an answer"), guard=_overdue),
        Transition("withdraw", _l("Withdraw the invitation"), {INVITED, ACCEPTED}, WITHDRAWN,
                   "report_sessions.manage", done="withdrawn", done_title=_l("Invitation withdrawn"),
                   wrong_state=_l("Only an open or accepted invitation is withdrawn.")),
        Transition("reinvite", _l("Invite again"), {EXPIRED}, INVITED, "report_sessions.manage",
                   done="reinvited", done_title=_l("Invited again with a new deadline"),
                   wrong_state=_l("Only an invitation that expired without an answer is sent again.")),
    ],
    action_prefix="invitation",
    object_title=_l("Invitation"),
)
