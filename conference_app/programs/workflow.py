"""The life of an application, as one transition table: the only way its status changes.

draft → submitted (before the call closes) → formal review: passed to expert review /
returned for correction (→ submitted again) / rejected; expert review → approved (within
the category's quota, district quota and budget) / not approved; approved → in public
notice → task agreement → in progress → mid-term evaluation → acceptance → closed.
Withdrawing is possible until expert review starts. Side effects (the tranches planned on
approval, mail) stay in the services that call ``APPLICATION.apply``.
"""

from flask_babel import lazy_gettext as _l

from conference_app.programs import permissions as _permissions  # noqa: F401  (the table names them)
from conference_app.programs.models import Application, ApplicationStatus, Tranche, TrancheStatus
from conference_app.workflow import Transition, Workflow

S = ApplicationStatus


def _may_submit(application: Application) -> str | None:
    from conference_app.programs.services.applications import submission_refusal

    return submission_refusal(application)


def _may_withdraw(application: Application) -> str | None:
    from conference_app.programs.services.applications import withdrawal_refusal

    return withdrawal_refusal(application)


def _within_quotas(application: Application) -> str | None:
    from conference_app.programs.services.review import approval_refusal

    return approval_refusal(application)


def _notice_over(application: Application) -> str | None:
    from conference_app.programs.services.notices import notice_refusal

    return notice_refusal(application)


def _agreement_ready(application: Application) -> str | None:
    from conference_app.programs.services.agreements import signing_refusal

    return signing_refusal(application)


APPLICATION = Workflow(
    Application,
    ApplicationStatus,
    [
        Transition("submit", _l("Submit the application"), {S.DRAFT, S.RETURNED}, S.SUBMITTED, "programs.edit",
                   done="submitted", done_title=_l("Application submitted for review"), guard=_may_submit),
        Transition("withdraw", _l("Withdraw"), {S.DRAFT, S.SUBMITTED, S.RETURNED}, S.WITHDRAWN, "programs.edit",
                   done="withdrawn", done_title=_l("Application withdrawn"), guard=_may_withdraw,
                   wrong_state=_l("An application can be withdrawn only until its expert review starts.")),
        Transition("pass_formal", _l("Pass formal review"), {S.SUBMITTED}, S.EXPERT_REVIEW, "programs.review",
                   done="formal_passed", done_title=_l("Formal review passed")),
        Transition("return", _l("Return for correction"), {S.SUBMITTED}, S.RETURNED, "programs.review",
                   done="returned", done_title=_l("Returned for correction"), comment="required",
                   comment_missing=_l("Please say what the applicant must correct.")),
        Transition("reject", _l("Reject at formal review"), {S.SUBMITTED}, S.REJECTED, "programs.review",
                   done="rejected", done_title=_l("Rejected at formal review"), comment="required",
                   comment_missing=_l("Please give the reason for the rejection.")),
        Transition("approve", _l("Approve the project"), {S.EXPERT_REVIEW}, S.APPROVED, "programs.review",
                   done="approved", done_title=_l("Application approved"), guard=_within_quotas),
        Transition("decline", _l("Do not approve"), {S.EXPERT_REVIEW}, S.NOT_APPROVED, "programs.review",
                   done="declined", done_title=_l("Application not approved"), comment="required",
                   comment_missing=_l("Please give the reason.")),
        Transition("publish_notice", _l("Put on public notice"), {S.APPROVED}, S.IN_NOTICE, "programs.review",
                   done="in_notice", done_title=_l("Put on public notice")),
        Transition("conclude_notice", _l("Conclude the public notice"), {S.IN_NOTICE}, S.AGREEMENT,
                   "programs.review", done="notice_concluded", done_title=_l("Public notice concluded"),
                   guard=_notice_over),
        Transition("withdraw_approval", _l("Withdraw the approval after an objection"), {S.IN_NOTICE},
                   S.NOT_APPROVED, "programs.review", done="approval_withdrawn",
                   done_title=_l("Approval withdrawn after an objection"), comment="required",
                   comment_missing=_l("Please record why the approval is withdrawn.")),
        Transition("sign_agreement", _l("Record the signed task agreement"), {S.AGREEMENT}, S.IN_PROGRESS,
                   "programs.funds", done="agreement_signed", done_title=_l("Task agreement signed"),
                   guard=_agreement_ready),
        Transition("open_midterm", _l("Open the mid-term evaluation"), {S.IN_PROGRESS}, S.MIDTERM,
                   "programs.funds", done="midterm_opened", done_title=_l("Mid-term evaluation opened")),
        Transition("open_acceptance", _l("Open acceptance"), {S.IN_PROGRESS, S.MIDTERM}, S.ACCEPTANCE,
                   "programs.funds", done="acceptance_opened", done_title=_l("Acceptance opened")),
        Transition("close", _l("Conclude acceptance"), {S.ACCEPTANCE}, S.CLOSED, "programs.funds",
                   done="closed", done_title=_l("Acceptance concluded"), comment="required",
                   comment_missing=_l("Please give the conclusion of the acceptance.")),
    ],
    action_prefix="application",
    object_title=_l("Application"),
)

TRANCHE = Workflow(
    Tranche,
    TrancheStatus,
    [
        Transition("release", _l("Release"), {TrancheStatus.PLANNED}, TrancheStatus.RELEASED, "programs.funds",
                   done="released", done_title=_l("Tranche released"),
                   wrong_state=_l("This tranche is not waiting to be released.")),
        Transition("withhold", _l("Withhold"), {TrancheStatus.PLANNED}, TrancheStatus.WITHHELD, "programs.funds",
                   done="withheld", done_title=_l("Tranche withheld"), comment="required",
                   comment_missing=_l("Please say why the tranche is withheld.")),
    ],
    action_prefix="tranche",
    object_title=_l("Tranche"),
)
