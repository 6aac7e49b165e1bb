"""Applying: eligibility from the recorded facts (category A needs an international
conference in the last three years), one application per category, budget lines and amounts,
attachments checked by their bytes; nothing is written by a refused step."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from werkzeug.datastructures import FileStorage

from conference_app.core.services import ServiceError
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.organisations.models import PastEvent
from conference_app.programs.services import applications as services
from tests.app.programs.helpers import category, draft, eligible_organisation, open_call, written


@pytest.fixture()
def call_2026(app):
    return open_call()


def test_without_an_international_conference_in_three_years_category_a_is_refused_with_the_evidence(
        call_2026, make_organisation, make_user, make_event):
    organisation = make_organisation()
    user = make_user("society", organisation=organisation)
    year = beijing_today().year
    db.session.add_all([PastEvent(organisation_id=organisation.id, year=year - 1, kind="national", title="全国学术年会",
                                  role="host", held_in_beijing=True),
                        PastEvent(organisation_id=organisation.id, year=year - 5, kind="international",
                                  title="五年前的国际会议", role="host", held_in_beijing=True)])
    db.session.commit()
    cat_a = category(call_2026, "A")

    verdicts = services.check_eligibility(organisation, cat_a)
    held = next(v for v in verdicts if v.kind == "held_events")
    assert held.status == "not_met"
    assert "0" in held.reason and f"{year - 3}" in held.reason, held.reason
    before = written()
    with pytest.raises(ServiceError) as refused:
        services.start_application(organisation, cat_a, {"project_name_zh": "国际交流项目"}, actor=user)
    assert refused.value.status == 409
    assert "国际学术会议" in refused.value.message
    db.session.rollback()
    assert written() == before

    # Once an international conference of last year is recorded (held through the platform), it may apply.
    from datetime import datetime, timezone

    make_event(organisation=organisation, kind="international", status="held", title_zh="去年的国际学术研讨会",
               starts_at=datetime(year - 1, 9, 1, 2, tzinfo=timezone.utc),
               ends_at=datetime(year - 1, 9, 2, 9, tzinfo=timezone.utc))
    held = next(v for v in services.check_eligibility(organisation, cat_a) if v.kind == "held_events")
    assert held.status == "met"
    assert any("去年的国际学术研讨会" in line for line in held.evidence), held.evidence
    application = services.start_application(organisation, cat_a, {"project_name_zh": "国际交流项目"}, actor=user)
    db.session.commit()
    assert application.requested_fen == 200_000_00  # category A's fixed amount

    # A second application in the same category is refused.
    with pytest.raises(ServiceError) as second:
        services.start_application(organisation, cat_a, {"project_name_zh": "第二个项目"}, actor=user)
    assert second.value.status == 409
    db.session.rollback()
    assert written()["applications"] == 1


def test_an_organisation_neither_member_nor_in_the_journal_plan_is_refused(call_2026, make_organisation, make_user):
    organisation = eligible_organisation(make_organisation, is_bast_member=False, in_journal_excellence_plan=False)
    user = make_user("society", organisation=organisation)
    with pytest.raises(ServiceError) as refused:
        services.start_application(organisation, category(call_2026, "B"), {"project_name_zh": "区域项目"},
                                   actor=user)
    assert "团体会员" in refused.value.message


def test_a_closed_call_takes_no_application(call_2026, make_organisation, make_user):
    organisation = eligible_organisation(make_organisation)
    user = make_user("society", organisation=organisation)
    call_2026.closes_on = beijing_today() - timedelta(days=1)
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        services.start_application(organisation, category(call_2026, "A"), {"project_name_zh": "迟到的项目"},
                                   actor=user)
    assert refused.value.status == 409 and "截止" in refused.value.message


@pytest.fixture()
def application_a(call_2026, make_organisation, make_user):
    organisation = eligible_organisation(make_organisation)
    user = make_user("society", organisation=organisation)
    return draft(organisation, category(call_2026, "A"), user), user


def test_budget_lines_that_do_not_sum_to_the_request_are_refused_and_nothing_changes(application_a):
    application, user = application_a
    before = written()
    with pytest.raises(ServiceError) as refused:
        services.set_budget_lines(application, [{"item": "会议费", "amount": "150000"},
                                                {"item": "专家费", "amount": "40000.50"}], actor=user)
    assert "190,000.50" in refused.value.message and "200,000.00" in refused.value.message
    db.session.rollback()
    assert written() == before
    assert [line.amount_fen for line in application.budget_lines] == [200_000_00]


@pytest.mark.parametrize("amount, message", [("abc", "不是"), ("12.345", "两位小数"), ("-5", "负"), ("0", "大于零")])
def test_a_malformed_budget_amount_is_refused_in_chinese(application_a, amount, message):
    application, user = application_a
    with pytest.raises(ServiceError) as refused:
        services.set_budget_lines(application, [{"item": "会议费", "amount": amount}], actor=user)
    assert message in refused.value.message, refused.value.message


def test_an_amount_over_the_categorys_is_refused(call_2026, make_organisation, make_user):
    organisation = eligible_organisation(make_organisation)
    user = make_user("society", organisation=organisation)
    before = written()
    with pytest.raises(ServiceError) as refused:
        services.start_application(organisation, category(call_2026, "B"),
                                   {"project_name_zh": "区域项目", "requested_fen": "100000.01"}, actor=user)
    assert "100,000.01" in refused.value.message and "100,000.00" in refused.value.message
    db.session.rollback()
    assert written() == before


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def test_an_executable_renamed_pdf_and_a_30_mb_file_are_refused_and_nothing_is_kept(application_a, app):
    from pathlib import Path

    application, user = application_a
    upload_dir = Path(app.config["UPLOAD_DIR"])
    files_before = sorted(upload_dir.rglob("*")) if upload_dir.exists() else []
    before = written()
    elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 4096
    with pytest.raises(ServiceError) as refused:
        services.add_attachment(application, _file(elf, "申报书.pdf"), actor=user)
    assert "文件类型不符合要求" in refused.value.message
    big = b"%PDF-1.4\n" + b"0" * (30 * 1024 * 1024)
    with pytest.raises(ServiceError) as too_big:
        services.add_attachment(application, _file(big, "申报书.pdf"), actor=user)
    assert too_big.value.status == 413 and "MB" in too_big.value.message
    db.session.rollback()
    assert written() == before
    assert (sorted(upload_dir.rglob("*")) if upload_dir.exists() else []) == files_before


def test_a_real_pdf_is_kept_with_a_generated_name_outside_static(application_a, app):
    application, user = application_a
    attachment = services.add_attachment(application, _file(b"%PDF-1.4\n%%EOF\n", "申报书.pdf"), actor=user)
    db.session.commit()
    assert attachment.file_kind == "pdf" and attachment.original_name == "申报书.pdf"
    assert "申报书" not in attachment.path and attachment.path.startswith("programs/")
    assert "static" not in app.config["UPLOAD_DIR"]


def test_submitting_needs_the_budget_the_plan_and_the_window(application_a):
    application, user = application_a
    services.submit(application, actor=user)
    db.session.commit()
    assert application.status == "submitted" and application.submitted_at is not None
    with pytest.raises(ServiceError):
        services.update_application(application, {"project_name_zh": "改名"}, actor=user)


def test_a_30_mb_upload_through_the_page_is_a_413_in_chinese_and_writes_nothing(app, client, no_csrf, application_a):
    from tests.app.conftest import log_in_session

    application, user = application_a
    log_in_session(client, user)
    before = written()
    big = b"%PDF-1.4\n" + b"0" * (30 * 1024 * 1024)
    response = client.post(f"/programs/applications/{application.id}/attachments",
                           data={"file": (io.BytesIO(big), "申报书.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "上传的文件超过允许的 20 MB" in response.get_data(as_text=True)
    assert written() == before
