"""Helpers of the staff and reviewer page tests: posting with a CSRF token, uploading a call
file through the preview, applications brought to formal and expert review, experts and
their scores, workbooks read back."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook

from conference_app.core.permissions import Role
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.programs.services import applications as application_services
from conference_app.programs.services import review
from tests.app.conftest import log_in_session
from tests.app.helpers import csrf_token
from tests.app.programs.helpers import draft, eligible_organisation


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST a form as a browser does, with the CSRF token of the logged-in session."""
    data = dict(data or {})
    data["csrf_token"] = csrf_token(client, "/home")
    return client.post(url, data=data, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def upload_call(client, content: bytes, filename: str):
    """Upload a call file to the preview."""
    return post(client, "/programs/staff/calls/preview", {"file": (io.BytesIO(content), filename)},
                content_type="multipart/form-data")


def preview_token(response) -> str:
    match = re.search(r'<input[^>]*name="token"[^>]*>', text(response))
    assert match, "no preview token on the page"
    return re.search(r'value="([^"]+)"', match.group(0)).group(1)


def open_window(call) -> None:
    """Move a published call's window around today, as program staff would for a test run."""
    call.opens_on = beijing_today() - timedelta(days=10)
    call.closes_on = beijing_today() + timedelta(days=10)
    db.session.commit()


def submitted(make_organisation, make_user, category, **organisation_fields):
    """An eligible society's application for ``category``, submitted; (application, society user)."""
    organisation = eligible_organisation(make_organisation, **organisation_fields)
    user = make_user(Role.SOCIETY, organisation=organisation)
    application = draft(organisation, category, user, project_name_zh=f"{organisation.name_zh}的项目")
    application_services.submit(application, actor=user)
    db.session.commit()
    return application, user


def staff_confirmed_index(application) -> int:
    """The index of the category's first rule that staff confirm by hand."""
    rules = application_services.category_rules(application.category)
    return next(index for index, rule in enumerate(rules) if rule.kind == "staff_confirmed")


def in_expert_review(application, staff) -> None:
    """Formal review passed through the services (the staff-confirmed conditions confirmed)."""
    for index, rule in enumerate(application_services.category_rules(application.category)):
        if rule.kind == "staff_confirmed":
            application_services.confirm_rule(application, index, actor=staff, comment="材料齐全")
    review.pass_formal_review(application, actor=staff)
    db.session.commit()


def experts(make_user, count: int, **fields) -> list:
    return [make_user(Role.EXPERT, name=f"专家{n}", **fields) for n in range(1, count + 1)]


def scored(application, reviewers, staff, totals=(8, 7, 9)) -> None:
    """Each reviewer assigned and scoring every criterion ``totals[i]`` (through the services)."""
    for reviewer, value in zip(reviewers, totals):
        assigned = review.assign_reviewer(application, reviewer, actor=staff)
        scores = {criterion.code: value for criterion in review.rubric(application)}
        review.submit_review(assigned, scores, "意见", actor=reviewer)
    db.session.commit()


def score_form(application, value, comment: str = "方案可行") -> dict:
    """The reviewer page's form with every criterion scored ``value``."""
    data = {f"score_{criterion.code}": str(value) for criterion in review.rubric(application)}
    data["comment"] = comment
    return data


def as_user(client, user) -> None:
    log_in_session(client, user)


def workbook_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows()]
