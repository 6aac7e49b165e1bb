"""The staff pages of the programs: a call loaded through its preview, the applications list
and its export, formal review, reviewers without conflicts, approval within the quota, the
public notice with its objections, the agreement, tranches, acceptance, the summary sheet and
the indicators table; nothing of it open to a society."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from openpyxl import load_workbook
from sqlalchemy import func, select

from conference_app.core.permissions import Role
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.programs.call_schema import load_call_file
from conference_app.programs.models import (
    Application,
    ApplicationReview,
    Call,
    CallCategory,
    Notice,
    Tranche,
)
from conference_app.programs.services import notices, review
from conference_app.programs.services.calls import load_call
from tests.app.conftest import log_in_session
from tests.app.core.test_query_counts import statements_for
from tests.app.programs.helpers import CALL_2026, category, open_call
from tests.app.programs.staff_helpers import (
    experts,
    in_expert_review,
    open_window,
    post,
    preview_token,
    score_form,
    scored,
    staff_confirmed_index,
    submitted,
    text,
    upload_call,
    workbook_rows,
)


def zh(msgid: str) -> str:
    """A msgid as the Chinese pages and workbooks say it (the programs catalog may still lack it)."""
    with force_locale("zh_CN"):
        return gettext(msgid)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def staff(client, make_user):
    user = make_user(Role.STAFF, name="王学会部")
    log_in_session(client, user)
    return user


# --- the journey ------------------------------------------------------------------------------

def test_staff_run_the_2026_call_from_its_file_to_the_first_tranche(client, staff, make_user, make_organisation):
    # The file is previewed: every category with its amount, quota, period, tranches, rules and indicators.
    preview = upload_call(client, CALL_2026.read_bytes(), CALL_2026.name)
    assert preview.status_code == 200
    page = text(preview)
    assert "首都学术培优A类项目（国际）" in page and "¥200,000.00" in page
    assert "2026-07-01" in page and f"100% {zh('On approval')}" in page
    assert "近三年有主办或主要承办国际学术会议经验" in page  # an eligibility rule of category A
    assert "累计线下覆盖科技工作者不少于400人次" in page and "min_person_times=400" in page  # indicator A5
    assert count(Call) == 0  # a preview loads nothing

    loaded = post(client, "/programs/staff/calls/load", {"token": preview_token(preview)})
    assert loaded.status_code == 302
    call = db.session.scalar(select(Call))
    assert loaded.headers["Location"].endswith(f"/programs/staff/calls/{call.id}")
    assert call.code == "2026-capital-academic" and call.status == "draft" and call.source_name == CALL_2026.name
    assert post(client, f"/programs/staff/calls/{call.id}/publish").status_code == 302
    assert call.status == "published"
    open_window(call)
    listing = text(client.get("/programs/staff/calls"))
    assert call.title_zh in listing and f'{zh("Published")}</span>' in listing

    cat_a = category(call, "A")
    first, _user = submitted(make_organisation, make_user, cat_a, name_zh="北京甲学会")
    second, _user = submitted(make_organisation, make_user, cat_a, name_zh="北京乙学会")
    call_page = text(client.get(f"/programs/staff/calls/{call.id}"))
    assert f"/programs/staff/calls/{call.id}/categories/{cat_a.id}/ranking" in call_page

    # Formal review: returning needs a comment; passing needs the staff-confirmed condition.
    base = f"/programs/staff/applications/{first.id}"
    refused = post(client, f"{base}/formal/return", {"formal-comment": ""})
    assert refused.status_code == 400 and first.status == "submitted"
    assert 'data-testid="form-errors"' in text(refused)  # what the applicant must correct is asked for
    staff_page = text(client.get(base))
    assert "具有良好的学术交流基础" in staff_page and 'data-testid="confirm-rule-' in staff_page
    assert post(client, f"{base}/formal/pass").status_code == 409
    index = staff_confirmed_index(first)
    assert post(client, f"{base}/conditions/{index}/confirm", {f"rule{index}-comment": ""}).status_code == 400
    assert post(client, f"{base}/conditions/{index}/confirm",
                {f"rule{index}-comment": "查阅了近三年活动记录"}).status_code == 302
    assert index in first.confirmed_rules
    assert post(client, f"{base}/formal/pass").status_code == 302
    assert first.status == "expert_review"

    # Reviewers: an expert of the applicant is offered disabled with the reason and refused.
    conflicted = make_user(Role.EXPERT, name="甲学会的专家", organisation=first.organisation)
    assert conflicted.organisation_id == first.organisation_id
    reviewers = experts(make_user, 3)
    staff_page = text(client.get(base))
    assert f"甲学会的专家: {review.conflict_of(first, conflicted)}" in staff_page  # the list of excluded experts
    assert f'disabled value="{conflicted.id}"' in staff_page or f'value="{conflicted.id}" disabled' in staff_page
    refused = post(client, f"{base}/reviewers", {"reviewer-reviewer_id": str(conflicted.id)})
    assert refused.status_code == 409 and "北京甲学会" in text(refused)
    assert count(ApplicationReview) == 0
    for reviewer in reviewers:
        assert post(client, f"{base}/reviewers", {"reviewer-reviewer_id": str(reviewer.id)}).status_code == 302
    assert sorted(r.reviewer_id for r in first.reviews) == sorted(r.id for r in reviewers)

    # Approving before the scores are in is refused with the numbers.
    refused = post(client, f"{base}/approve")
    assert refused.status_code == 409 and review.approval_refusal(first) in text(refused)  # 0 of the 3 reviews

    # Each expert scores on the reviewer page.
    for reviewer, value in zip(reviewers, (8, 7, 9)):
        log_in_session(client, reviewer)
        own = next(r for r in first.reviews if r.reviewer_id == reviewer.id)
        assert post(client, f"/programs/reviews/{own.id}", score_form(first, value)).status_code == 302
    log_in_session(client, staff)
    staff_page = text(client.get(base))
    assert "80.0" in staff_page and "70.0" in staff_page and "90.0" in staff_page  # the totals
    assert "σ 10.0" in staff_page  # the spread of the three totals

    ranking = text(client.get(f"/programs/staff/calls/{call.id}/categories/{cat_a.id}/ranking"))
    assert first.project_name_zh in ranking and "80.0" in ranking
    assert post(client, f"{base}/approve", {"from": "ranking"}).status_code == 302
    assert first.status == "approved" and [t.amount_fen for t in first.tranches] == [200_000_00]

    # A second approval beyond the category's quota of one is refused with the numbers.
    in_expert_review(second, staff)
    scored(second, experts(make_user, 3), staff)
    db.session.get(CallCategory, cat_a.id).quota = 1
    db.session.commit()
    refused = post(client, f"/programs/staff/applications/{second.id}/approve", {"from": "ranking"})
    assert refused.status_code == 409
    assert review.approval_refusal(second) in text(refused)  # at most 1 in category A, 1 approved already
    assert "1" in review.approval_refusal(second) and second.status == "expert_review"
    ranking = text(client.get(f"/programs/staff/calls/{call.id}/categories/{cat_a.id}/ranking"))
    assert 'data-testid="category-usage"' in ranking and "1<span" in ranking  # 1 of the quota taken

    # The public notice takes every approved project; after its last day it is concluded.
    notice_data = {"title": "2026年度首都学术培优项目立项公示", "body": "公示期内可书面提出异议。",
                   "starts_on": (beijing_today() - timedelta(days=7)).isoformat(),
                   "ends_on": (beijing_today() - timedelta(days=1)).isoformat()}
    assert post(client, f"/programs/staff/calls/{call.id}/notices", notice_data).status_code == 302
    notice = db.session.scalar(select(Notice))
    assert notice.application_ids == [first.id] and first.status == "in_notice"
    assert first.project_name_zh in text(client.get(f"/programs/staff/calls/{call.id}/notices"))
    assert post(client, f"/programs/staff/notices/{notice.id}/conclude").status_code == 302
    assert first.status == "agreement" and first.agreement_number == "2026-A-001"

    # The agreement signed today; the first tranche released today.
    assert post(client, f"{base}/agreement", {"signing-signed_on": beijing_today().isoformat()}).status_code == 302
    assert first.status == "in_progress"
    tranche = first.tranches[0]
    refused = post(client, f"{base}/tranches/{tranche.id}/release", {f"tranche{tranche.id}-released_on": ""})
    assert refused.status_code == 400 and tranche.status == "planned"
    released = post(client, f"{base}/tranches/{tranche.id}/release",
                    {f"tranche{tranche.id}-released_on": beijing_today().isoformat()})
    assert released.status_code == 302
    assert tranche.status == "released" and tranche.released_on == beijing_today()

    # The summary sheet holds the figures, on the page and in the workbook.
    summary = text(client.get(f"/programs/staff/calls/{call.id}/summary"))
    assert "¥200,000.00" in summary
    rows = workbook_rows(client.get(f"/programs/staff/calls/{call.id}/summary.xlsx"))
    line = next(row for row in rows if str(row[0]).startswith("A "))
    assert line[1:4] == (2, 2, 1)  # two applications, both in review or decided, one approved
    assert [float(value) for value in line[4:7]] == [400000.0, 200000.0, 200000.0]

    # The indicators table of category A lists the funded project with a status per indicator.
    table = client.get(f"/programs/staff/calls/{call.id}/categories/{cat_a.id}/indicators")
    assert table.status_code == 200 and first.project_name_zh in text(table)
    assert 'data-testid="indicator-A5"' in text(table)
    rows = workbook_rows(client.get(f"/programs/staff/calls/{call.id}/categories/{cat_a.id}/indicators.xlsx"))
    with force_locale("zh_CN"):
        explanation = gettext("%(code)s explanation", code="A1")
    assert rows[0][:5] == (zh("Project"), zh("Organisation"), zh("Status"), "A1", explanation)
    assert len(rows) == 2 and rows[1][0] == first.project_name_zh
    assert rows[1][3] == zh("Needs review")  # A1 is a text people judge


# --- loading calls ----------------------------------------------------------------------------

BROKEN = b"""code: 2027-broken
year: 2027
title_zh: \xe5\x9d\x8f\xe7\x9a\x84
title_en: Broken
opens: 2027-05-20
closes: 2027-13-01
recovery: {rule: staff_decides, text_zh: x}
categories:
  - code: A
    name_zh: A
    name_en: A
    amount_cny: 100
    period: {start: 2027-07-01, end: 2027-12-31}
    tranches:
      - {percent: 60, when: on_approval}
"""


def test_a_broken_call_file_shows_its_lines_with_400_and_loads_nothing(client, staff):
    response = upload_call(client, BROKEN, "broken.yaml")
    assert response.status_code == 400
    page = text(response)
    assert "broken.yaml:6: closes: must be a real date written YYYY-MM-DD, not &#39;2027-13-01&#39;" in page
    assert "broken.yaml:14: categories[0].tranches: the percents sum to 60, not 100" in page
    assert 'name="token"' not in page
    assert count(Call) == 0

    syntax = upload_call(client, b"code: [unclosed\n", "syntax.yaml")
    assert syntax.status_code == 400 and "syntax.yaml:" in text(syntax) and "(yaml syntax)" in text(syntax)
    assert post(client, "/programs/staff/calls/load", {"token": "not-a-real-preview-token-0000"}).status_code == 400
    assert count(Call) == 0


def test_a_changed_file_of_a_call_with_applications_is_refused_with_409(client, staff, make_user, make_organisation):
    call = open_call()
    submitted(make_organisation, make_user, category(call, "A"))
    changed = CALL_2026.read_bytes().replace("2026年度首都学术培优项目申报指南".encode(), "改过的指南".encode())
    preview = upload_call(client, changed, "changed.yaml")
    assert preview.status_code == 200 and 'data-testid="preview-existing"' in text(preview)
    refused = post(client, "/programs/staff/calls/load", {"token": preview_token(preview)})
    assert refused.status_code == 409 and 'data-testid="form-errors"' in text(refused)
    assert 'data-testid="confirm-load"' in text(refused)  # the preview again, with the refusal
    db.session.expire_all()
    assert db.session.scalar(select(Call.title_zh)) == "2026年度首都学术培优项目申报指南"


def test_an_unchanged_file_changes_nothing(client, staff):
    call = load_call(load_call_file(CALL_2026), source_name=CALL_2026.name, source=CALL_2026.read_bytes()).call
    db.session.commit()
    preview = upload_call(client, CALL_2026.read_bytes(), CALL_2026.name)
    response = post(client, "/programs/staff/calls/load", {"token": preview_token(preview)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/calls/{call.id}")
    assert count(Call) == 1


# --- the applications list --------------------------------------------------------------------

def test_the_applications_list_filters_searches_and_exports_with_its_filters(client, staff, make_user,
                                                                             make_organisation):
    call = open_call()
    a, _user = submitted(make_organisation, make_user, category(call, "A"), name_zh="北京光学学会")
    b, _user = submitted(make_organisation, make_user, category(call, "B"), name_zh="北京声学学会")
    page = text(client.get("/programs/staff/applications"))
    assert a.project_name_zh in page and b.project_name_zh in page
    found = text(client.get("/programs/staff/applications", query_string={"q": "光学"}))
    assert a.project_name_zh in found and b.project_name_zh not in found
    assert "/programs/staff/applications/export.xlsx?q=" in found
    by_category = text(client.get("/programs/staff/applications",
                                  query_string={"call": call.id, "category": category(call, "B").id}))
    assert b.project_name_zh in by_category and a.project_name_zh not in by_category
    assert a.project_name_zh not in text(client.get("/programs/staff/applications",
                                                    query_string={"status": "approved"}))
    rows = workbook_rows(client.get("/programs/staff/applications/export.xlsx", query_string={"q": "声学"}))
    assert len(rows) == 2 and rows[1][3] == b.project_name_zh and rows[1][4] == "北京声学学会"


def test_the_applications_list_issues_the_same_statements_for_3_and_12_applications(
        client, staff, make_user, make_organisation):
    call = open_call()
    codes = iter(["A", "B"] * 6)

    def grow(number: int) -> None:
        for _ in range(number):
            application, _user = submitted(make_organisation, make_user, category(call, next(codes)))
            in_expert_review(application, staff)
            review.assign_reviewer(application, make_user(Role.EXPERT), actor=staff)
            db.session.commit()

    grow(3)
    few = statements_for(client, "/programs/staff/applications")
    few_export = statements_for(client, "/programs/staff/applications/export.xlsx")
    grow(9)
    assert count(Application) == 12
    assert statements_for(client, "/programs/staff/applications") == few
    assert statements_for(client, "/programs/staff/applications/export.xlsx") == few_export


# --- formal review, decline, reviewers --------------------------------------------------------

def test_rejecting_needs_its_reason_and_declining_too(client, staff, make_user, make_organisation):
    call = open_call()
    application, _user = submitted(make_organisation, make_user, category(call, "A"))
    base = f"/programs/staff/applications/{application.id}"
    refused = post(client, f"{base}/formal/reject", {"formal-comment": "  "})
    assert refused.status_code == 400 and application.status == "submitted"
    assert post(client, f"{base}/formal/return", {"formal-comment": "请补充预算说明"}).status_code == 302
    assert application.status == "returned"

    other, _user = submitted(make_organisation, make_user, category(call, "A"))
    in_expert_review(other, staff)
    refused = post(client, f"/programs/staff/applications/{other.id}/decline", {"decision-comment": ""})
    assert refused.status_code == 400 and other.status == "expert_review"
    assert post(client, f"/programs/staff/applications/{other.id}/decline",
                {"decision-comment": "得分偏低"}).status_code == 302
    assert other.status == "not_approved"


def test_an_unsubmitted_reviewer_can_be_removed_a_submitted_one_not(client, staff, make_user, make_organisation):
    call = open_call()
    application, _user = submitted(make_organisation, make_user, category(call, "A"))
    in_expert_review(application, staff)
    waiting, done = experts(make_user, 2)
    pending = review.assign_reviewer(application, waiting, actor=staff)
    scored(application, [done], staff)
    finished = next(r for r in application.reviews if r.reviewer_id == done.id)
    base = f"/programs/staff/applications/{application.id}/reviewers"
    refused = post(client, f"{base}/{finished.id}/remove")
    assert refused.status_code == 409 and 'data-testid="form-errors"' in text(refused)
    assert post(client, f"{base}/{pending.id}/remove").status_code == 302
    assert [r.reviewer_id for r in application.reviews] == [done.id]


def test_a_tranche_of_another_application_is_not_found_through_this_one(client, staff, make_user,
                                                                        make_organisation):
    call = open_call()
    mine, _user = submitted(make_organisation, make_user, category(call, "A"))
    theirs, _user = submitted(make_organisation, make_user, category(call, "B"))
    for application in (mine, theirs):
        in_expert_review(application, staff)
        scored(application, experts(make_user, 3), staff)
        review.approve(application, actor=staff)
    db.session.commit()
    other_tranche = theirs.tranches[0]
    response = post(client, f"/programs/staff/applications/{mine.id}/tranches/{other_tranche.id}/release",
                    {f"tranche{other_tranche.id}-released_on": beijing_today().isoformat()})
    assert response.status_code == 404 and other_tranche.status == "planned"

    # Through its own application it is withheld, with the reason.
    url = f"/programs/staff/applications/{theirs.id}/tranches/{other_tranche.id}/withhold"
    assert post(client, url, {f"withhold{other_tranche.id}-comment": ""}).status_code == 400
    assert post(client, url, {f"withhold{other_tranche.id}-comment": "项目未启动"}).status_code == 302
    assert other_tranche.status == "withheld"


# --- notices and objections -------------------------------------------------------------------

def _approved(make_organisation, make_user, staff, call, code="A"):
    application, _user = submitted(make_organisation, make_user, category(call, code))
    in_expert_review(application, staff)
    scored(application, experts(make_user, 3), staff)
    review.approve(application, actor=staff)
    db.session.commit()
    return application


def test_an_objection_is_read_and_handled_by_staff_and_an_upheld_one_withdraws_the_approval(
        client, staff, make_user, make_organisation):
    call = open_call()
    kept = _approved(make_organisation, make_user, staff, call, "A")
    contested = _approved(make_organisation, make_user, staff, call, "B")
    notice = notices.publish_notice(call, {"title": "立项公示", "starts_on": beijing_today(),
                                           "ends_on": beijing_today() + timedelta(days=5)}, actor=staff)
    objection = notices.submit_objection(notice, {"application_id": contested.id, "name": "李四",
                                                  "contact": "13800000000", "text": "该项目申报材料不实"})
    db.session.commit()

    page = text(client.get(f"/programs/staff/calls/{call.id}/notices"))
    assert "该项目申报材料不实" in page and "李四" in page and "13800000000" in page
    refused = post(client, f"/programs/staff/notices/{notice.id}/conclude")
    assert refused.status_code == 409 and kept.status == "in_notice"  # the notice runs for five more days

    url = f"/programs/staff/notices/{notice.id}/objections/{objection.id}/resolve"
    assert post(client, url, {f"objection{objection.id}-resolution": ""}).status_code == 400
    assert post(client, url, {f"objection{objection.id}-resolution": "经核实，异议成立"}).status_code == 302
    assert objection.handled_at is not None and objection.handled_by_id == staff.id
    assert post(client, url, {f"objection{objection.id}-resolution": "again"}).status_code == 409

    withdraw = f"/programs/staff/applications/{contested.id}/withdraw-approval"
    assert post(client, withdraw, {f"withdraw{contested.id}-comment": ""}).status_code == 400
    assert post(client, withdraw, {f"withdraw{contested.id}-comment": "异议成立，撤销立项"}).status_code == 302
    assert contested.status == "not_approved" and contested.tranches == [] and kept.status == "in_notice"

    # Another notice's objection is not found through this notice.
    assert post(client, f"/programs/staff/notices/{notice.id + 1}/objections/{objection.id}/resolve",
                {f"objection{objection.id}-resolution": "x"}).status_code == 404


def test_a_notice_needs_approved_projects_and_its_dates(client, staff):
    call = open_call()
    response = post(client, f"/programs/staff/calls/{call.id}/notices",
                    {"title": "公示", "starts_on": beijing_today().isoformat(),
                     "ends_on": beijing_today().isoformat()})
    assert response.status_code == 409 and count(Notice) == 0
    response = post(client, f"/programs/staff/calls/{call.id}/notices", {"title": "公示"})
    assert response.status_code == 400 and count(Notice) == 0


# --- the project: steps and acceptance --------------------------------------------------------

def test_acceptance_takes_a_verdict_per_indicator_and_an_amount_to_recover(client, staff, make_user,
                                                                          make_organisation):
    call = open_call()
    application = _approved(make_organisation, make_user, staff, call, "A")
    notice = notices.publish_notice(call, {"title": "公示", "starts_on": beijing_today() - timedelta(days=9),
                                           "ends_on": beijing_today() - timedelta(days=2)}, actor=staff)
    notices.conclude_notice(notice, actor=staff)
    db.session.commit()
    base = f"/programs/staff/applications/{application.id}"
    assert post(client, f"{base}/agreement", {"signing-signed_on": beijing_today().isoformat()}).status_code == 302
    assert post(client, f"{base}/steps/open_acceptance").status_code == 302
    assert application.status == "acceptance"

    page = text(client.get(base))
    assert 'data-testid="acceptance-form"' in page and "A1" in page and "A5" in page
    codes = [indicator.code for indicator in category(call, "A").definition().all_indicators(None)]
    # A1 is for people to judge: without a verdict it is refused.
    refused = post(client, f"{base}/acceptance", {"acceptance-conclusion": "验收"})
    assert refused.status_code == 400 and "A1" in text(refused) and application.status == "acceptance"
    data = {f"acceptance-decision_{code}": "met" for code in codes}
    data |= {f"acceptance-comment_{code}": "现场核查已完成" for code in codes}
    data |= {"acceptance-recovery": "1000", "acceptance-conclusion": "部分指标经核查完成，收回1000元"}
    concluded = post(client, f"{base}/acceptance", data)
    assert concluded.status_code == 302, text(concluded)
    assert application.status == "closed" and application.recovery_fen == 1000_00
    assert "¥1,000.00" in text(client.get(base))


# --- who may ------------------------------------------------------------------------------------

def _staff_urls(call, application, notice, tranche):
    category_id = application.category_id
    return [
        "/programs/staff/calls", f"/programs/staff/calls/{call.id}", "/programs/staff/applications",
        "/programs/staff/applications/export.xlsx", f"/programs/staff/applications/{application.id}",
        f"/programs/staff/calls/{call.id}/categories/{category_id}/ranking",
        f"/programs/staff/calls/{call.id}/summary", f"/programs/staff/calls/{call.id}/summary.xlsx",
        f"/programs/staff/calls/{call.id}/categories/{category_id}/indicators",
        f"/programs/staff/calls/{call.id}/categories/{category_id}/indicators.xlsx",
        f"/programs/staff/calls/{call.id}/notices",
    ], [
        f"/programs/staff/calls/{call.id}/publish", f"/programs/staff/applications/{application.id}/formal/pass",
        f"/programs/staff/applications/{application.id}/approve",
        f"/programs/staff/applications/{application.id}/tranches/{tranche.id}/release",
        f"/programs/staff/notices/{notice.id}/conclude",
    ]


def test_a_society_user_gets_403_on_every_staff_page_even_for_its_own_application(
        client, make_user, make_organisation):
    staff = make_user(Role.STAFF)
    call = open_call()
    application = _approved(make_organisation, make_user, staff, call, "A")
    notice = notices.publish_notice(call, {"title": "公示", "starts_on": beijing_today(),
                                           "ends_on": beijing_today()}, actor=staff)
    db.session.commit()
    society = make_user(Role.SOCIETY, organisation=application.organisation)
    log_in_session(client, society)
    gets, posts = _staff_urls(call, application, notice, application.tranches[0])
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert post(client, url).status_code == 403, url
    assert db.session.get(Tranche, application.tranches[0].id).status == "planned"


def test_the_staff_part_of_the_application_page_is_not_shown_to_the_society(client, make_user, make_organisation):
    staff = make_user(Role.STAFF)
    call = open_call()
    application, user = submitted(make_organisation, make_user, category(call, "A"))
    log_in_session(client, user)
    page = client.get(f"/programs/applications/{application.id}")
    assert page.status_code == 200 and 'data-testid="staff-panel"' not in text(page)
    log_in_session(client, staff)
    page = client.get(f"/programs/applications/{application.id}")
    assert page.status_code == 200 and 'data-testid="staff-panel"' in text(page)
    assert 'data-testid="formal-pass"' in text(page)


def test_workbooks_open_in_openpyxl(client, staff):
    call = open_call()
    data = client.get(f"/programs/staff/calls/{call.id}/summary.xlsx").data
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.cell(1, 1).value == zh("Category") and sheet.max_row == 1 + len(call.categories)
