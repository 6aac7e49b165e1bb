"""The societies' pages through real HTTP: applying (verdicts first), the budget, planned
events, co-organisers and attachments, submitting; another organisation's application and
its children are out of reach; bad input re-renders with a message and writes nothing; a
funded project's results and its task agreement; the to-do page without N+1."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from conference_app.audit.models import AuditEntry
from conference_app.audit.services import record
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.programs.models import (
    Application,
    ApplicationReview,
    ApplicationStatus,
    ProjectEvent,
    ProjectRecord,
)
from conference_app.programs.services import applications as services
from conference_app.programs.services import performance, review
from tests.app.conftest import log_in_session
from tests.app.core.test_query_counts import statements_for
from tests.app.helpers import csrf_token
from tests.app.programs.helpers import category, draft, open_call, written
from tests.app.programs.page_helpers import (  # noqa: F401  (fixtures)
    EXE_BYTES,
    PDF_BYTES,
    application_form,
    application_url,
    apply_url,
    budget_rows,
    call_2026,
    docx_bytes,
    funded,
    other_society,
    planned_event_form,
    society,
    upload,
)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def form_errors(response) -> str:
    """The text of the page's form-error alerts (what the refusing service said)."""
    found = re.findall(r'data-testid="form-errors">(.*?)</div>\s*</div>', text_of(response), flags=re.S)
    return " ".join(found)


# --- the journey ------------------------------------------------------------------------------


def test_a_society_applies_sets_the_budget_plans_an_event_and_submits(client, no_csrf, call_2026, society):
    home = client.get("/programs/")
    assert home.status_code == 200
    assert f'href="{apply_url(call_2026, "A")}"' in text_of(home)

    page = client.get(apply_url(call_2026, "A"))
    assert page.status_code == 200
    html = text_of(page)
    assert html.index('data-testid="verdicts"') < html.index('data-testid="apply-form"')  # verdicts before the form
    assert 'data-status="needs_confirmation"' in html  # 具有良好的学术交流基础: staff confirm it
    assert "近三年有主办或主要承办国际学术会议经验" in html and "往年会议0" in html  # the rule and its evidence
    assert re.search(r'name="requested"[^>]*readonly|readonly[^>]*name="requested"', html)
    assert 'value="200000"' in html  # the fixed amount, in yuan

    response = client.post(apply_url(call_2026, "A"), data=application_form(requested="1"))
    assert response.status_code == 302
    application = db.session.scalar(select(Application))
    assert response.location == application_url(application, "/edit")
    assert (application.status, application.requested_fen) == (ApplicationStatus.DRAFT, 200_000_00)
    assert application.district == "haidian" and application.created_by_id == society.id

    edit = client.get(application_url(application, "/edit"))
    assert edit.status_code == 200 and text_of(edit).count('name="lines-') == 8 * 3  # 8 blank rows

    assert client.post(application_url(application, "/budget"),
                       data=budget_rows(("会议费", "150000", "场地与会务"), ("专家劳务费", "50,000.00", ""))
                       ).status_code == 302
    assert client.post(application_url(application, "/planned-events"), data=planned_event_form()).status_code == 302
    assert client.post(application_url(application, "/co-organisers"),
                       data={"organisation_id": "", "name": "天津市人工智能学会", "responsibility": "联合承办分论坛"}
                       ).status_code == 302
    assert client.post(application_url(application, "/attachments"),
                       data={"file": upload(PDF_BYTES, "申报书.pdf")}).status_code == 302
    db.session.expire_all()
    assert [(line.item, line.amount_fen) for line in application.budget_lines] == [("会议费", 150_000_00),
                                                                                 ("专家劳务费", 50_000_00)]
    assert application.planned_events[0].title == "2026京津冀人工智能国际学术会议"
    assert application.co_organisers[0].name == "天津市人工智能学会"
    attachment = application.attachments[0]
    assert (attachment.original_name, attachment.file_kind) == ("申报书.pdf", "pdf")

    download = client.get(application_url(application, f"/attachments/{attachment.id}"))
    assert download.status_code == 200 and download.data == PDF_BYTES
    assert download.headers["Content-Disposition"].startswith("attachment")

    page = client.get(application_url(application))
    html = text_of(page)
    assert page.status_code == 200
    assert re.search(r'data-testid="transition-submit"(?![^>]*disabled)', html)
    assert "¥200,000.00" in html and "天津市人工智能学会" in html and "申报书.pdf" in html
    assert 'data-testid="application-history"' in html

    response = client.post(application_url(application, "/submit"))
    assert response.status_code == 302 and response.location == application_url(application)
    db.session.expire_all()
    assert application.status == ApplicationStatus.SUBMITTED and application.submitted_at is not None
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(application.id))))
    assert {"application.created", "application.budget_set", "application.planned_event_added",
            "application.co_organiser_added", "application.attachment_added", "application.submitted"} <= actions

    done = text_of(client.get("/programs/"))
    assert done.index('data-testid="done"') < done.index(f'data-testid="application-{application.id}"')
    # Once submitted it cannot be edited any more: the edit page sends back to the application.
    assert client.get(application_url(application, "/edit")).location == application_url(application)
    response = client.post(application_url(application, "/budget"), data=budget_rows(("会议费", "200000", "")))
    assert response.status_code == 409


def test_a_draft_without_budget_shows_why_it_cannot_be_submitted_and_can_be_withdrawn(client, no_csrf, call_2026,
                                                                                      society):
    application = services.start_application(society.organisation, category(call_2026, "B"),
                                             {"project_name_zh": "区域学术会议"}, actor=society)
    db.session.commit()
    html = text_of(client.get(application_url(application)))
    assert re.search(r'data-testid="transition-submit"[^>]*disabled', html)
    assert 'data-testid="refusal-submit"' in html
    before = written()
    assert client.post(application_url(application, "/submit")).status_code == 409
    assert written() == before
    response = client.post(application_url(application, "/withdraw"), data={"comment": "本年度不再申报"})
    assert response.status_code == 302
    db.session.expire_all()
    assert application.status == ApplicationStatus.WITHDRAWN


def test_a_returned_application_shows_staffs_comment_on_the_to_do_page(client, no_csrf, call_2026, society,
                                                                       make_user):
    application = draft(society.organisation, category(call_2026, "B"), society)
    services.submit(application, actor=society)
    review.return_for_correction(application, actor=make_user(Role.STAFF), comment="请补充联合承办单位的责任分工")
    db.session.commit()
    html = text_of(client.get("/programs/"))
    to_do = html[html.index('data-testid="to-do"'):html.index('data-testid="done"')]
    assert f'data-testid="application-{application.id}"' in to_do and "请补充联合承办单位的责任分工" in to_do
    assert "请补充联合承办单位的责任分工" in text_of(client.get(application_url(application)))
    assert client.get(application_url(application, "/edit")).status_code == 200


# --- eligibility ------------------------------------------------------------------------------


def test_category_a_shows_the_unmet_condition_and_refuses_the_post_writing_nothing(client, no_csrf, call_2026,
                                                                                   make_organisation, make_user):
    organisation = make_organisation()  # a member, but it never held an international conference
    log_in_session(client, make_user(Role.SOCIETY, organisation=organisation))
    page = client.get(apply_url(call_2026, "A"))
    html = text_of(page)
    assert page.status_code == 200
    assert 'data-testid="not-eligible"' in html and 'data-testid="apply-form"' not in html
    unmet = re.search(r'data-status="not_met".*?</li>', html, flags=re.S).group(0)
    assert "近三年有主办或主要承办国际学术会议经验" in unmet and 'data-testid="verdict-reason"' in unmet

    before = written()
    response = client.post(apply_url(call_2026, "A"), data=application_form())
    assert response.status_code == 409
    assert "近三年有主办或主要承办国际学术会议经验" in form_errors(response)
    assert written() == before


def test_a_category_is_found_only_within_its_call(client, call_2026, society):
    wrong = f"/programs/calls/{call_2026.id + 1000}/categories/{category(call_2026, 'A').id}/apply"
    assert client.get(wrong).status_code == 404


# --- isolation --------------------------------------------------------------------------------


@pytest.fixture()
def theirs(call_2026, make_user, make_organisation):
    """Another organisation's draft of category B with a planned event, a co-organiser and a file."""
    user, organisation = other_society(make_user, make_organisation)
    application = draft(organisation, category(call_2026, "B"), user)
    services.add_co_organiser(application, {"name": "河北省学会", "responsibility": "联合承办"}, actor=user)
    services.add_attachment(application, FileStorage(io.BytesIO(PDF_BYTES), "他们的申报书.pdf"), actor=user)
    db.session.commit()
    return application


def test_another_organisations_application_and_its_children_are_out_of_reach(client, no_csrf, call_2026, society,
                                                                             theirs):
    planned, co, attachment = theirs.planned_events[0], theirs.co_organisers[0], theirs.attachments[0]
    before = written()
    for method, suffix in [("GET", ""), ("GET", "/edit"), ("POST", "/edit"), ("POST", "/budget"),
                           ("POST", "/planned-events"), ("POST", f"/planned-events/{planned.id}/remove"),
                           ("POST", f"/co-organisers/{co.id}/remove"), ("GET", f"/attachments/{attachment.id}"),
                           ("POST", f"/attachments/{attachment.id}/remove"), ("POST", "/submit"),
                           ("POST", "/withdraw"), ("GET", "/results"), ("GET", "/agreement.docx")]:
        response = client.open(application_url(theirs, suffix), method=method)
        assert response.status_code == 403, (method, suffix, response.status_code)
    assert "他们的申报书" not in text_of(client.get(application_url(theirs)))

    # Their children named through our own application's URLs are not found.
    ours = draft(society.organisation, category(call_2026, "B"), society)
    for method, suffix in [("POST", f"/planned-events/{planned.id}/remove"), ("POST", f"/co-organisers/{co.id}/remove"),
                           ("GET", f"/attachments/{attachment.id}"), ("POST", f"/attachments/{attachment.id}/remove")]:
        response = client.open(application_url(ours, suffix), method=method)
        assert response.status_code == 404, (method, suffix, response.status_code)
    assert client.get("/programs/applications/987654").status_code == 404
    after = written()
    assert after["audit"] == before["audit"] + 3 and after["attachments"] == before["attachments"]  # only our draft
    db.session.expire_all()
    assert len(theirs.planned_events) == 1 and len(theirs.co_organisers) == 1 and len(theirs.attachments) == 1


def test_an_expert_sees_only_an_assigned_application_and_staff_see_the_reviews(client, call_2026, theirs, make_user):
    stranger, assigned = make_user(Role.EXPERT), make_user(Role.EXPERT)
    db.session.add(ApplicationReview(application_id=theirs.id, reviewer_id=assigned.id, total=86.5, comment="选题好",
                                     submitted_at=datetime(2026, 6, 1, tzinfo=timezone.utc)))
    db.session.commit()
    attachment = theirs.attachments[0]
    log_in_session(client, stranger)
    assert client.get(application_url(theirs)).status_code == 403
    assert client.get(application_url(theirs, f"/attachments/{attachment.id}")).status_code == 403
    log_in_session(client, assigned)
    page = client.get(application_url(theirs))
    assert page.status_code == 200 and 'data-testid="reviews"' not in text_of(page)
    assert 'data-testid="transition-submit"' not in text_of(page)
    assert client.get(application_url(theirs, f"/attachments/{attachment.id}")).data == PDF_BYTES
    assert client.get(application_url(theirs, "/edit")).status_code == 403
    log_in_session(client, make_user(Role.STAFF))
    page = client.get(application_url(theirs))
    assert page.status_code == 200 and 'data-testid="reviews"' in text_of(page) and "选题好" in text_of(page)


# --- bad input ----------------------------------------------------------------------------------

CAPPED_A = [("amount_cny: 200000", "max_amount_cny: 200000")]


@pytest.mark.parametrize("requested, shown", [("abc", "abc"), ("300000", "200,000.00"), ("12.345", None),
                                              ("", None), ("-5", None)])
def test_a_bad_requested_amount_is_refused_with_a_message_and_nothing_written(app, client, no_csrf, society,
                                                                            requested, shown):
    call = open_call(replace=CAPPED_A)
    page = text_of(client.get(apply_url(call, "A")))
    assert not re.search(r'name="requested"[^>]*readonly', page)  # a cap: the applicant types the amount
    before = written()
    response = client.post(apply_url(call, "A"), data=application_form(requested=requested))
    assert response.status_code == 400
    message = form_errors(response)
    assert message and (shown is None or shown in message), message
    assert written() == before
    assert client.post(apply_url(call, "A"), data=application_form(requested="150000.50")).status_code == 302
    assert db.session.scalar(select(Application.requested_fen)) == 150_000_50


@pytest.fixture()
def ours(call_2026, society):
    application = draft(society.organisation, category(call_2026, "B"), society)  # 100 000 yuan in one line
    return application


BUDGET_CASES = {
    "not summing": budget_rows(("会议费", "60000", ""), ("劳务费", "30000", "")),
    "amount not a number": budget_rows(("会议费", "十万", "")),
    "three decimals": budget_rows(("会议费", "99999.999", ""), ("劳务费", "0.001", "")),
    "no item": budget_rows(("", "100000", "")),
    "all blank": budget_rows(),
    "negative line": budget_rows(("会议费", "110000", ""), ("退款", "-10000", "")),
}


@pytest.mark.parametrize("case", BUDGET_CASES)
def test_a_bad_budget_is_refused_and_the_old_lines_stay(client, no_csrf, ours, case):
    data = BUDGET_CASES[case]
    before = written()
    response = client.post(application_url(ours, "/budget"), data=data)
    assert response.status_code == 400
    assert form_errors(response)
    assert 'data-testid="budget-form"' in text_of(response)
    assert written() == before
    db.session.expire_all()
    assert [(line.item, line.amount_fen) for line in ours.budget_lines] == [("会议费", 100_000_00)]


def test_the_budget_that_does_not_sum_names_both_amounts(client, no_csrf, ours):
    response = client.post(application_url(ours, "/budget"), data=budget_rows(("会议费", "60000", "")))
    assert response.status_code == 400
    assert "60,000.00" in form_errors(response) and "100,000.00" in form_errors(response)


def test_bad_field_edits_are_refused(client, no_csrf, ours):
    before = written()
    for data in (application_form(project_name_zh="  "), application_form(matching_funds="abc"),
                 application_form(theme="主题\x00")):
        response = client.post(application_url(ours, "/edit"), data=data)
        assert response.status_code == 400 and form_errors(response), data
    assert written() == before
    db.session.expire_all()
    assert ours.project_name_zh.endswith("项目")
    assert client.post(application_url(ours, "/edit"), data=application_form(matching_funds="30000")).status_code == 302
    db.session.expire_all()
    assert ours.matching_funds_fen == 30_000_00 and ours.requested_fen == 100_000_00  # the fixed amount stays


@pytest.mark.parametrize("fields", [{"starts_on": "下周三"}, {"ends_on": "2026-10-01"}, {"kind": "party"},
                                    {"title": ""}, {"expected_attendance": "很多"}, {"starts_on": ""}])
def test_a_bad_planned_event_is_refused(client, no_csrf, ours, fields):
    before = written()
    response = client.post(application_url(ours, "/planned-events"), data=planned_event_form(**fields))
    assert response.status_code == 400
    assert 'data-testid="planned-event-form"' in text_of(response)
    assert written() == before


def test_a_bad_co_organiser_is_refused(client, no_csrf, ours, society):
    before = written()
    for data in ({"organisation_id": "", "name": "", "responsibility": "承办"},
                 {"organisation_id": str(society.organisation.id), "name": "", "responsibility": "承办"},
                 {"organisation_id": "987654", "name": "", "responsibility": "承办"},
                 {"organisation_id": "", "name": "某学会", "responsibility": ""}):
        response = client.post(application_url(ours, "/co-organisers"), data=data)
        assert response.status_code == 400 and form_errors(response), data
    assert written() == before


def _uploads(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"]) / "programs"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_a_renamed_executable_or_an_oversized_file_is_refused_and_nothing_kept(app, client, no_csrf, ours,
                                                                              monkeypatch):
    files_before, before = _uploads(app), written()
    response = client.post(application_url(ours, "/attachments"), data={"file": upload(EXE_BYTES, "申报书.pdf")})
    assert response.status_code == 400 and "PDF" in form_errors(response)
    response = client.post(application_url(ours, "/attachments"), data={})
    assert response.status_code == 400
    monkeypatch.setattr(services, "ATTACHMENT_MAX_BYTES", 1024)
    response = client.post(application_url(ours, "/attachments"),
                           data={"file": upload(PDF_BYTES + b"%" * 2048, "大文件.pdf")})
    assert response.status_code == 413 and 'data-testid="attachment-form"' in text_of(response)
    assert written() == before and _uploads(app) == files_before


def test_a_tampered_csrf_token_is_a_400_and_writes_nothing(client, ours):
    token = csrf_token(client, application_url(ours, "/edit"))
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    before = written()
    response = client.post(application_url(ours, "/budget"),
                           data={**budget_rows(("会议费", "100000", "改")), "csrf_token": tampered})
    assert response.status_code == 400
    response = client.post(application_url(ours, "/submit"), data={})
    assert response.status_code == 400
    assert written() == before
    response = client.post(application_url(ours, "/budget"),
                           data={**budget_rows(("会议费", "100000", "改")), "csrf_token": token})
    assert response.status_code == 302


# --- a funded project ------------------------------------------------------------------------


@pytest.fixture()
def project(call_2026, society):
    return funded(draft(society.organisation, category(call_2026, "B"), society))


def test_a_funded_project_shows_its_funds_indicators_and_agreement(client, project):
    html = text_of(client.get(application_url(project)))
    assert 'data-testid="tranches"' in html and 'data-testid="indicators"' in html
    assert 'data-testid="indicator-B2"' in html and 'data-testid="agreement-downloads"' in html
    assert project.agreement_number in html
    docx_response = client.get(application_url(project, "/agreement.docx"))
    assert docx_response.status_code == 200 and docx_response.data[:2] == b"PK"
    assert docx_response.headers["Content-Disposition"].startswith("attachment")
    try:
        pdf = client.get(application_url(project, "/agreement.pdf"))
    except Exception as error:  # WeasyPrint or its fonts missing on this machine
        pytest.skip(f"the task agreement PDF cannot be rendered here: {error}")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"


def test_the_agreement_is_a_404_before_it_has_a_number(client, call_2026, society):
    application = funded(draft(society.organisation, category(call_2026, "B"), society), "approved",
                         with_agreement=False)
    assert client.get(application_url(application, "/agreement.docx")).status_code == 404
    assert client.get(application_url(application, "/agreement.pdf")).status_code == 404
    assert 'data-testid="agreement-downloads"' not in text_of(client.get(application_url(application)))


def test_a_project_links_its_events_and_records_its_results(client, no_csrf, project, society, make_event,
                                                            make_organisation):
    ours = make_event(organisation=society.organisation, kind="regional", status="held", title_zh="京津冀区域学术会议")
    foreign = make_event(organisation=make_organisation(), title_zh="别人的沙龙")
    page = text_of(client.get(application_url(project, "/results")))
    assert "京津冀区域学术会议" in page and "别人的沙龙" not in page  # only the organisation's events are offered

    assert client.post(application_url(project, "/results/events"), data={"event_id": str(ours.id)}).status_code == 302
    before = written()
    refused = client.post(application_url(project, "/results/events"), data={"event_id": str(foreign.id)})
    assert refused.status_code == 403 and form_errors(refused)
    assert client.post(application_url(project, "/results/events"), data={"event_id": "abc"}).status_code == 400
    assert written() == before

    response = client.post(application_url(project, "/results/records"),
                           data={"kind": "news_item", "title": "学术会议在京召开", "link": "https://news.example.cn/1",
                                 "site": "北京日报", "recorded_on": ""})
    assert response.status_code == 302
    response = client.post(application_url(project, "/results/records"),
                           data={"kind": "document", "subkind": "summary_report", "title": "项目总结报告"})
    assert response.status_code == 400 and form_errors(response)  # a document needs its file
    response = client.post(application_url(project, "/results/records"),
                           data={"kind": "document", "subkind": "", "title": "项目总结报告",
                                 "file": upload(docx_bytes(), "总结.docx")})
    assert response.status_code == 400  # and its kind
    response = client.post(application_url(project, "/results/records"),
                           data={"kind": "document", "subkind": "summary_report", "title": "项目总结报告",
                                 "file": upload(docx_bytes("项目总结报告全文"), "总结.docx")})
    assert response.status_code == 302
    document = db.session.scalar(select(ProjectRecord).where(ProjectRecord.kind == "document"))
    assert document.char_count == 8
    html = text_of(client.get(application_url(project, "/results")))
    assert 'data-testid="char-count"' in html and "8" in html and "学术会议在京召开" in html
    assert client.get(application_url(project, f"/results/records/{document.id}/file")).data[:2] == b"PK"

    link = db.session.scalar(select(ProjectEvent))
    assert client.post(application_url(project, f"/results/events/{link.id}/unlink")).status_code == 302
    assert client.post(application_url(project, f"/results/records/{document.id}/remove")).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(ProjectEvent)) is None
    assert [r.kind for r in db.session.scalars(select(ProjectRecord))] == ["news_item"]


def test_another_projects_results_are_out_of_reach(client, no_csrf, project, call_2026, make_user, make_organisation):
    user, organisation = other_society(make_user, make_organisation)
    other = funded(draft(organisation, category(call_2026, "B"), user))
    entry = performance.add_record(other, {"kind": "typical_case", "title": "他们的案例"}, actor=user)
    db.session.commit()
    assert client.get(application_url(other, "/results")).status_code == 403
    assert client.post(application_url(other, f"/results/records/{entry.id}/remove")).status_code == 403
    # Their record through our project's URL is not found.
    assert client.post(application_url(project, f"/results/records/{entry.id}/remove")).status_code == 404
    assert client.get(application_url(project, f"/results/records/{entry.id}/file")).status_code == 404
    assert db.session.get(ProjectRecord, entry.id) is not None


def test_a_draft_records_no_result(client, no_csrf, ours):
    before = written()
    response = client.post(application_url(ours, "/results/records"), data={"kind": "typical_case", "title": "案例"})
    assert response.status_code == 409
    assert written() == before


# --- the to-do page without N+1 ------------------------------------------------------------------


def test_the_to_do_page_issues_the_same_statements_for_3_and_10_applications(client, call_2026, society):
    organisation = society.organisation
    categories = call_2026.categories
    states = ["draft", "returned", "agreement", "in_progress", "submitted", "closed", "withdrawn"]

    def grow(count: int) -> None:
        existing = db.session.query(Application).count()
        for n in range(existing, existing + count):
            application = Application(call_id=call_2026.id, category_id=categories[n % len(categories)].id,
                                      organisation_id=organisation.id, status=states[n % len(states)],
                                      project_name_zh=f"项目{n}", requested_fen=100_000_00,
                                      agreement_number=f"2026-T-{n:03d}" if states[n % len(states)] == "agreement"
                                      else None)
            db.session.add(application)
            db.session.flush()
            if application.status == "returned":
                record("application.returned", application, from_state="submitted", to_state="returned",
                       comment=f"请修改{n}")
        db.session.commit()

    grow(3)
    few = statements_for(client, "/programs/")
    grow(7)
    many = statements_for(client, "/programs/")
    assert db.session.query(Application).count() == 10
    assert many == few, f"{few} statements with 3 applications, {many} with 10"
    html = text_of(client.get("/programs/"))
    assert "请修改1" in html and "请修改8" in html  # staff's comments on the returned ones


def test_the_history_names_the_reviewers_to_staff_only(client, ours, society, make_user):
    expert, staff = make_user(Role.EXPERT, name="李评审"), make_user(Role.STAFF)
    record("application.reviewer_assigned", ours, actor=staff, details={"reviewer": expert.name,
                                                                         "reviewer_id": expert.id})
    record("application.scored", ours, actor=expert, details={"reviewer_id": expert.id, "total": 80.0})
    db.session.commit()
    assert "李评审" not in text_of(client.get(application_url(ours)))  # the society's own page
    log_in_session(client, staff)
    assert "李评审" in text_of(client.get(application_url(ours)))
