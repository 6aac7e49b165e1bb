"""Review and decision through the services: conflicts of interest, weighted scores and their
aggregate, approval refused beyond quota, district quota and budget with the numbers, the
tranches planned from the category (60 / 30 / 10 in the Xinjiang call), the notice, the
agreement, releases in order, the summary sheet, and acceptance with its recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.programs.services import acceptance, agreements, applications, funds, notices, review
from conference_app.programs.workflow import APPLICATION
from tests.app.programs.helpers import CALLS, category, draft, eligible_organisation, open_call

XINJIANG = CALLS / "2025-xinjiang.yaml"


def in_expert_review(call, code, make_user, make_organisation, **fields):
    """A submitted application that passed formal review, with its society user and staff."""
    organisation = eligible_organisation(make_organisation)
    owner = make_user("society", organisation=organisation)
    staff = make_user(Role.STAFF)
    application = draft(organisation, category(call, code), owner, **fields)
    applications.submit(application, actor=owner)
    for index, rule in enumerate(applications.category_rules(application.category)):
        if rule.kind == "staff_confirmed":
            applications.confirm_rule(application, index, actor=staff, comment="已核实")
    review.pass_formal_review(application, actor=staff)
    db.session.commit()
    return application, owner, staff


def scored(application, make_user, totals=(8, 9, 7)):
    """Three experts assigned, each scoring every criterion ``value``."""
    staff = make_user(Role.STAFF)
    for value in totals:
        expert = make_user(Role.EXPERT)
        entry = review.assign_reviewer(application, expert, actor=staff)
        criteria = review.rubric(application)
        review.submit_review(entry, {c.code: value for c in criteria}, "意见", actor=expert)
    db.session.commit()


def test_an_expert_of_the_applicant_or_a_co_organiser_is_excluded_with_the_reason(app, make_user,
                                                                                   make_organisation):
    call = open_call()
    application, owner, staff = in_expert_review(call, "B", make_user, make_organisation)
    colleague = make_user(Role.EXPERT, organisation=application.organisation)
    choices = dict(review.reviewer_choices(application))
    assert application.organisation.name_zh in choices[colleague]
    with pytest.raises(ServiceError) as refused:
        review.assign_reviewer(application, colleague, actor=staff)
    assert refused.value.status == 409 and application.organisation.name_zh in refused.value.message


def test_scores_are_weighted_and_aggregated_with_a_trimmed_mean_and_the_spread(app, make_user, make_organisation):
    call = open_call()
    application, _owner, _staff = in_expert_review(call, "B", make_user, make_organisation)
    scored(application, make_user, totals=(8, 9, 7))
    summary = review.summarise([r.total for r in application.reviews])
    assert (summary.count, summary.mean, summary.low, summary.high) == (3, 80.0, 70.0, 90.0)
    assert review.trimmed_mean([10, 80, 82, 84, 100]) == 82.0  # the highest and lowest of five are dropped
    ranked = review.ranked_applications(application.category)
    assert ranked[0][0].id == application.id


def test_a_score_outside_the_criterions_range_is_refused(app, make_user, make_organisation):
    call = open_call()
    application, _owner, staff = in_expert_review(call, "B", make_user, make_organisation)
    expert = make_user(Role.EXPERT)
    entry = review.assign_reviewer(application, expert, actor=staff)
    db.session.commit()
    criteria = review.rubric(application)
    with pytest.raises(ServiceError):
        review.submit_review(entry, {c.code: 11 for c in criteria}, None, actor=expert)


def test_approving_needs_every_review_and_stops_at_the_quota_with_the_numbers(app, make_user, make_organisation):
    call = open_call()
    first, _owner, staff = in_expert_review(call, "B", make_user, make_organisation)
    with pytest.raises(ServiceError) as early:
        review.approve(first, actor=staff)
    assert "0" in early.value.message and "3" in early.value.message
    db.session.rollback()
    scored(first, make_user)
    second, _owner2, _ = in_expert_review(call, "B", make_user, make_organisation)
    scored(second, make_user)
    first.category.quota = 1
    db.session.commit()
    review.approve(first, actor=staff)
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        review.approve(second, actor=staff)
    assert refused.value.status == 409
    assert "1" in refused.value.message and "B" in refused.value.message
    db.session.rollback()
    assert second.status == "expert_review"


def test_the_district_quota_and_the_budget_are_held(app, make_user, make_organisation):
    call = open_call()
    first, _o, staff = in_expert_review(call, "B", make_user, make_organisation, district="haidian")
    second, _o2, _ = in_expert_review(call, "B", make_user, make_organisation, district="haidian")
    third, _o3, _ = in_expert_review(call, "B", make_user, make_organisation, district="chaoyang")
    for application in (first, second, third):
        scored(application, make_user)
    cat = first.category
    cat.per_district_quota, cat.budget_fen = 1, 150_000_00
    db.session.commit()
    review.approve(first, actor=staff)
    db.session.commit()
    with pytest.raises(ServiceError) as district:
        review.approve(second, actor=staff)
    assert "海淀" in district.value.message or "Haidian" in district.value.message
    db.session.rollback()
    with pytest.raises(ServiceError) as budget:
        review.approve(third, actor=staff)
    assert "150,000.00" in budget.value.message and "100,000.00" in budget.value.message
    db.session.rollback()


def test_the_xinjiang_call_plans_60_30_10_and_releases_them_in_order(app, make_user, make_organisation):
    call = open_call(XINJIANG)
    code = call.categories[0].code
    application, owner, staff = in_expert_review(call, code, make_user, make_organisation)
    scored(application, make_user)
    review.approve(application, actor=staff)
    db.session.commit()
    assert [(t.percent, str(t.when), t.amount_fen) for t in application.tranches] == [
        (60, "on_approval", 60_000_00), (30, "after_midterm", 30_000_00), (10, "after_acceptance", 10_000_00)]
    first, second, _third = application.tranches
    with pytest.raises(ServiceError):  # paid once the agreement is concluded, not before the notice
        funds.release(first, beijing_today(), actor=staff)
    db.session.rollback()

    notice = notices.publish_notice(call, {"title": "立项公示", "starts_on": beijing_today() - timedelta(days=7),
                                           "ends_on": beijing_today() - timedelta(days=1)}, actor=staff)
    db.session.commit()
    assert application.status == "in_notice"
    notices.conclude_notice(notice, actor=staff)
    db.session.commit()
    assert application.status == "agreement" and application.agreement_number == f"{call.year}-{code}-001"
    agreements.record_signing(application, beijing_today(), actor=staff)
    db.session.commit()
    with pytest.raises(ServiceError):
        funds.release(second, beijing_today(), actor=staff)  # after the mid-term evaluation only
    db.session.rollback()
    funds.release(first, beijing_today(), actor=staff)
    db.session.commit()
    ledger = funds.ledger(application)
    assert (ledger.planned_fen, ledger.released_fen, ledger.outstanding_fen) == (100_000_00, 60_000_00, 40_000_00)
    line = next(line for line in funds.call_summary(call) if line.category.code == code)
    assert (line.approved, line.approved_fen, line.released_fen) == (1, 100_000_00, 60_000_00)


def test_a_notice_with_an_open_objection_cannot_be_concluded(app, make_user, make_organisation):
    call = open_call()
    application, _owner, staff = in_expert_review(call, "B", make_user, make_organisation)
    scored(application, make_user)
    review.approve(application, actor=staff)
    notice = notices.publish_notice(call, {"title": "公示", "starts_on": beijing_today(),
                                           "ends_on": beijing_today()}, actor=staff)
    objection = notices.submit_objection(notice, {"name": "张三", "contact": "13800000000", "text": "有异议",
                                                  "application_id": application.id})
    db.session.commit()
    with pytest.raises(ServiceError):
        notices.conclude_notice(notice, actor=staff)  # still open today
    db.session.rollback()
    notice.ends_on = beijing_today() - timedelta(days=1)
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        notices.conclude_notice(notice, actor=staff)
    assert refused.value.status == 409
    db.session.rollback()
    notices.handle_objection(objection, "经核实，异议不成立", actor=staff)
    notices.conclude_notice(notice, actor=staff)
    db.session.commit()
    assert application.status == "agreement"


def test_acceptance_proposes_verdicts_and_a_recovery_and_staff_may_override_with_a_reason(
        app, make_user, make_organisation):
    call = open_call(XINJIANG)
    code = call.categories[0].code
    application, _owner, staff = in_expert_review(call, code, make_user, make_organisation)
    scored(application, make_user)
    review.approve(application, actor=staff)
    application.status = "acceptance"
    db.session.commit()
    proposals = acceptance.propose(application)
    decisions = {p.result.code: (p.proposed or "met") for p in proposals}
    unmet = sum(1 for d in decisions.values() if d == "not_met")
    assert unmet  # nothing was recorded: the counted indicators are not met
    expected = acceptance.recovery_fen(application, decisions)
    assert expected == application.requested_fen * unmet // len(decisions)
    first_code = next(code for code, d in decisions.items() if d == "not_met")
    with pytest.raises(ServiceError):
        acceptance.conclude(application, {**decisions, first_code: "met"}, {}, actor=staff, conclusion="验收")
    db.session.rollback()
    acceptance.conclude(application, decisions, {}, actor=staff, conclusion="验收结论")
    db.session.commit()
    assert application.status == "closed" and application.recovery_fen == expected
    assert APPLICATION.allowed(application, staff) == []
