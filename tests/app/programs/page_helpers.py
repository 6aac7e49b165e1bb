"""Fixtures and helpers of the applicants' and the public pages' tests: a society logged in
with an eligible organisation, forms as a browser posts them, files, and applications brought
to a funded state or onto a public notice."""

from __future__ import annotations

import io
from datetime import timedelta

import docx
import pytest

from conference_app.core.permissions import Role
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.programs.services import agreements, notices, review
from tests.app.conftest import log_in_session
from tests.app.programs.helpers import category, draft, eligible_organisation, open_call

# The smallest bytes each accepted kind is recognised by (filetype reads the magic numbers).
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture()
def call_2026(app):
    """The 2026 call, open today."""
    return open_call()


@pytest.fixture()
def society(app, client, make_user, make_organisation):
    """A society user of an organisation eligible for every category, logged in."""
    organisation = eligible_organisation(make_organisation)
    user = make_user(Role.SOCIETY, organisation=organisation)
    log_in_session(client, user)
    return user


def apply_url(call, code: str) -> str:
    return f"/programs/calls/{call.id}/categories/{category(call, code).id}/apply"


def application_url(application, suffix: str = "") -> str:
    return f"/programs/applications/{application.id}{suffix}"


def application_form(**overrides) -> dict:
    """The apply / edit form as a browser posts it."""
    data = {"project_name_zh": "京津冀人工智能国际学术会议", "project_name_en": "Jing-Jin-Ji AI Conference",
            "form_code": "", "theme": "人工智能驱动的科学发现", "expected_outcomes": "专家共识一项",
            "requested": "", "matching_funds": "", "district": "haidian"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def budget_rows(*lines: tuple[str, str, str], blank: int = 3) -> dict:
    """Budget rows (item, yuan, note) then ``blank`` empty rows, as the table posts them."""
    data = {}
    rows = list(lines) + [("", "", "")] * blank
    for index, (item, amount, note) in enumerate(rows):
        data.update({f"lines-{index}-item": item, f"lines-{index}-amount": amount, f"lines-{index}-note": note})
    return data


def planned_event_form(**overrides) -> dict:
    data = {"kind": "international", "title": "2026京津冀人工智能国际学术会议", "starts_on": "2026-10-20",
            "ends_on": "2026-10-21", "venue": "北京国际会议中心", "district": "chaoyang",
            "expected_attendance": "300", "filing_status": "pending"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def upload(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    """A file field's value for the test client."""
    return io.BytesIO(data), name


def docx_bytes(text: str = "项目总结报告：京津冀学术交流成果丰硕。") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def other_society(make_user, make_organisation):
    """Another eligible organisation's user and its draft of category B (not logged in)."""
    organisation = eligible_organisation(make_organisation)
    user = make_user(Role.SOCIETY, organisation=organisation)
    return user, organisation


def funded(application, status: str = "in_progress", *, with_agreement: bool = True):
    """A draft brought straight to a funded state (the decisions are tested elsewhere): its
    tranches planned and, unless told otherwise, its agreement numbered."""
    review.plan_tranches(application)
    if with_agreement:
        agreements.assign_agreement_number(application)
    application.status = status
    db.session.commit()
    return application


def approved_drafts(call, make_user, make_organisation, codes=("A", "B")) -> list:
    """One approved application per category code, each of another organisation."""
    found = []
    for code in codes:
        organisation = eligible_organisation(make_organisation)
        owner = make_user(Role.SOCIETY, organisation=organisation)
        application = draft(organisation, category(call, code), owner,
                            project_name_zh=f"{organisation.name_zh}{code}类项目")
        application.status = "approved"
        found.append(application)
    db.session.commit()
    return found


def notice_of(call, make_user, make_organisation, *, days: int = 5):
    """A public notice of two approved projects (categories A and B), open from today for ``days``."""
    projects = approved_drafts(call, make_user, make_organisation)
    staff = make_user(Role.STAFF)
    notice = notices.publish_notice(call, {"title": "2026年度首都学术培优项目立项公示",
                                           "body": "现将拟立项项目予以公示。",
                                           "starts_on": beijing_today(),
                                           "ends_on": beijing_today() + timedelta(days=days)}, actor=staff)
    db.session.commit()
    return notice, projects
