"""Who is told what at each step of an application: the society's users, the staff, the
assigned expert; in the app and by mail, in the recipient's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from conference_app.notifications.services import notify, organisation_users, staff_users
from conference_app.programs.models import Application, ApplicationReview

APPLICATION_PAGE = "programs.application"

# step -> (subject, body(name=, comment=)) told to the applicant's users; %(name)s is the project, %(comment)s staff's words.
APPLICANT_MESSAGES = {
    "returned": (_l("Application returned for correction"),
                 lambda **v: _l("Your application \"%(name)s\" was returned for correction: %(comment)s", **v)),
    "rejected": (_l("Application rejected at formal review"),
                 lambda **v: _l("Your application \"%(name)s\" was rejected at formal review: %(comment)s", **v)),
    "formal_passed": (_l("Application passed formal review"),
                      lambda **v: _l("Your application \"%(name)s\" passed formal review and goes to expert review.", **v)),
    "approved": (_l("Application approved"),
                 lambda **v: _l("Your application \"%(name)s\" is approved. It will be put on public notice.", **v)),
    "declined": (_l("Application not approved"),
                 lambda **v: _l("Your application \"%(name)s\" is not approved: %(comment)s", **v)),
    "approval_withdrawn": (_l("Approval withdrawn"),
                           lambda **v: _l("The approval of \"%(name)s\" was withdrawn after the public notice: %(comment)s", **v)),
    "agreement": (_l("Task agreement ready"),
                  lambda **v: _l("The public notice is over. The task agreement of \"%(name)s\" can be downloaded and signed.", **v)),
    "agreement_signed": (_l("Task agreement signed"),
                         lambda **v: _l("The task agreement of \"%(name)s\" is recorded as signed: the project is under way.", **v)),
    "tranche_released": (_l("Funds released"),
                         lambda **v: _l("A tranche of \"%(name)s\" was released: %(comment)s", **v)),
    "acceptance_opened": (_l("Acceptance opened"),
                          lambda **v: _l("The acceptance of \"%(name)s\" is open: check that its results are recorded.", **v)),
    "closed": (_l("Acceptance concluded"),
               lambda **v: _l("The acceptance of \"%(name)s\" is concluded: %(comment)s", **v)),
}


def tell_applicant(application: Application, step: str, comment: str | None = None) -> None:
    subject, body = APPLICANT_MESSAGES[step]
    notify(organisation_users(application.organisation_id), subject,
           body(name=application.project_name_zh, comment=comment or "—"),
           endpoint=APPLICATION_PAGE, application_id=application.id)


def tell_staff_of_submission(application: Application) -> None:
    notify(staff_users(), _l("New application submitted"),
           _l("%(organisation)s submitted \"%(name)s\" (category %(category)s): it waits for formal review.",
              organisation=application.organisation.name_zh, name=application.project_name_zh,
              category=application.category.code),
           endpoint=APPLICATION_PAGE, application_id=application.id)


def tell_reviewer(review: ApplicationReview) -> None:
    application = review.application
    notify([review.reviewer], _l("An application to review"),
           _l("You are asked to review \"%(name)s\" (category %(category)s).", name=application.project_name_zh,
              category=application.category.code),
           endpoint="programs.my_reviews")
