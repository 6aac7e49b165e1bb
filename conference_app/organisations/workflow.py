"""The review of a registration, as a transition table (the only way its status changes)."""

from flask_babel import lazy_gettext as _l

from conference_app.organisations import permissions as _permissions  # noqa: F401  (the table names them)
from conference_app.organisations.models import Organisation, OrganisationStatus
from conference_app.workflow import Transition, Workflow

PENDING, APPROVED, REJECTED = OrganisationStatus.PENDING, OrganisationStatus.APPROVED, OrganisationStatus.REJECTED

ORGANISATION = Workflow(
    Organisation,
    OrganisationStatus,
    [
        Transition("approve", _l("Approve"), {PENDING, REJECTED}, APPROVED, "organisations.review",
                   done="approved", done_title=_l("Organisation approved"),
                   wrong_state=_l("This organisation is already approved.")),
        Transition("reject", _l("Reject"), {PENDING}, REJECTED, "organisations.review",
                   done="rejected", done_title=_l("Organisation rejected"), comment="required",
                   wrong_state=_l("Only a registration waiting for review can be rejected."),
                   comment_missing=_l("Please give the reason for the rejection.")),
        Transition("resubmit", _l("Resubmit for review"), {REJECTED}, PENDING, "organisations.resubmit",
                   done="resubmitted", done_title=_l("Registration corrected and resubmitted"),
                   wrong_state=_l("Only a registration that was not approved can be corrected and resubmitted.")),
    ],
    action_prefix="organisation",
    object_title=_l("Organisation"),
)
