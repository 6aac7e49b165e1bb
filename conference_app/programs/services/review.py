"""Formal review, expert review and the decision: reviewers assigned without conflicts of
interest, scores on the call's weighted rubric aggregated per application (mean, trimmed
mean, spread), a ranked list per category, and approval within quota, district quota and
budget, with the numbers shown when it is refused."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from conference_app.accounts.models import User
from conference_app.audit.services import record, register_action_titles
from conference_app.core.db import lock, utcnow
from conference_app.core.layout import money
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.core.text import clean_text
from conference_app.extensions import db
from conference_app.programs.models import (
    FUNDED_STATES,
    Application,
    ApplicationReview,
    ApplicationStatus,
    CallCategory,
    Tranche,
    TrancheWhen,
)
from conference_app.programs.services import applications as application_services
from conference_app.programs.services import messages
from conference_app.programs.services.calls import call_definition
from conference_app.programs.workflow import APPLICATION

register_action_titles({
    "application.reviewer_assigned": _l("Reviewer assigned"),
    "application.reviewer_removed": _l("Reviewer removed"),
    "application.scored": _l("Review submitted"),
})

DEFAULT_REVIEWERS = 3
TRIM_SHARE = 0.2  # of each end, once there are five reviews or more


# --- formal review -----------------------------------------------------------------------------

def pass_formal_review(application: Application, *, actor, comment: str | None = None) -> None:
    """Formal review passed: the application goes to expert review. Conditions staff
    confirm by hand must have been confirmed first."""
    pending = [v for v in application_services.check_eligibility(application.organisation, application.category,
                                                                 application=application)
               if v.status != "met"]
    if pending:
        raise ServiceError(_("Formal review cannot pass while a condition is not met or not confirmed: %(rules)s",
                             rules="; ".join(v.text_zh for v in pending)), 409)
    APPLICATION.apply(application, "pass_formal", actor=actor, comment=comment)
    messages.tell_applicant(application, "formal_passed")


def return_for_correction(application: Application, *, actor, comment: str | None) -> None:
    APPLICATION.apply(application, "return", actor=actor, comment=comment)
    messages.tell_applicant(application, "returned", comment)


def reject(application: Application, *, actor, comment: str | None) -> None:
    APPLICATION.apply(application, "reject", actor=actor, comment=comment)
    application.decided_at = utcnow()
    messages.tell_applicant(application, "rejected", comment)


# --- reviewers -------------------------------------------------------------------------------

def reviewers_required(application: Application) -> int:
    return call_definition(application.call).reviewers_per_application or DEFAULT_REVIEWERS


def conflict_of(application: Application, reviewer: User) -> str | None:
    """Why ``reviewer`` may not review ``application`` (its organisation is the applicant or a
    co-organiser), or None."""
    if reviewer.organisation_id is None:
        return None
    if reviewer.organisation_id == application.organisation_id:
        return _("works for the applicant, %(name)s", name=application.organisation.name_zh)
    for co_organiser in application.co_organisers:
        if co_organiser.organisation_id == reviewer.organisation_id:
            return _("works for the co-organiser %(name)s", name=co_organiser.name)
    return None


def reviewer_choices(application: Application) -> list[tuple[User, str | None]]:
    """Every enabled expert with the conflict that excludes them (None: may review)."""
    experts = db.session.scalars(select(User).where(User.role == Role.EXPERT, User.is_enabled.is_(True))
                                 .order_by(User.name))
    return [(expert, conflict_of(application, expert)) for expert in experts]


def assign_reviewer(application: Application, reviewer: User, *, actor) -> ApplicationReview:
    if application.status != ApplicationStatus.EXPERT_REVIEW:
        raise ServiceError(_("Reviewers are assigned while the application is in expert review."), 409)
    if reviewer.role != Role.EXPERT or not reviewer.is_enabled:
        raise ServiceError(_("Only an enabled expert account can review."))
    conflict = conflict_of(application, reviewer)
    if conflict:
        raise ServiceError(_("%(name)s cannot review this application: %(reason)s.", name=reviewer.name,
                             reason=conflict), 409)
    if any(review.reviewer_id == reviewer.id for review in application.reviews):
        raise ServiceError(_("%(name)s already reviews this application.", name=reviewer.name), 409)
    review = ApplicationReview(reviewer_id=reviewer.id, scores={})
    application.reviews.append(review)
    db.session.flush()
    record("application.reviewer_assigned", application, actor=actor,
           details={"reviewer": reviewer.name, "reviewer_id": reviewer.id})
    review.reviewer = reviewer
    messages.tell_reviewer(review)
    return review


def remove_reviewer(review: ApplicationReview, *, actor) -> None:
    if review.submitted_at is not None:
        raise ServiceError(_("A submitted review stays on record."), 409)
    application = review.application
    application.reviews.remove(review)
    record("application.reviewer_removed", application, actor=actor,
           details={"reviewer": review.reviewer.name, "reviewer_id": review.reviewer_id})


def rubric(application: Application):
    return call_definition(application.call).category(application.category.code).rubric_for(
        call_definition(application.call))


def weighted_total(criteria, scores: dict[str, float]) -> float:
    """The scores on a 0-100 scale: each criterion's share of its maximum, weighted."""
    weight = sum(criterion.weight for criterion in criteria)
    return round(sum(criterion.weight * scores[criterion.code] / criterion.max_score for criterion in criteria)
                 / weight * 100, 2)


def submit_review(review: ApplicationReview, scores: dict[str, str | float | None], comment: str | None, *,
                  actor) -> None:
    """The expert's scores (each criterion from 0 to its maximum) and comment; final once submitted."""
    application = review.application
    if application.status != ApplicationStatus.EXPERT_REVIEW:
        raise ServiceError(_("This application is not in expert review any more."), 409)
    if review.submitted_at is not None:
        raise ServiceError(_("This review has been submitted already."), 409)
    criteria = rubric(application)
    if not criteria:
        raise ServiceError(_("The call gives no rubric to score against."), 409)
    parsed: dict[str, float] = {}
    for criterion in criteria:
        value = scores.get(criterion.code)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ServiceError(_("%(criterion)s: please give a score from 0 to %(max)s.",
                                 criterion=criterion.name_zh, max=criterion.max_score)) from None
        if not 0 <= number <= criterion.max_score or number != number:
            raise ServiceError(_("%(criterion)s: please give a score from 0 to %(max)s.",
                                 criterion=criterion.name_zh, max=criterion.max_score))
        parsed[criterion.code] = number
    review.scores = parsed
    review.comment = clean_text(comment, _l("Comment"), max_length=5000)
    review.total = weighted_total(criteria, parsed)
    review.submitted_at = utcnow()
    record("application.scored", application, actor=actor,
           details={"reviewer_id": review.reviewer_id, "scores": parsed, "total": review.total})


@dataclass(frozen=True)
class ScoreSummary:
    """The submitted reviews of one application, aggregated."""

    count: int
    mean: float | None
    trimmed_mean: float | None
    low: float | None
    high: float | None
    stdev: float | None


def trimmed_mean(values: list[float], share: float = TRIM_SHARE) -> float | None:
    """The mean without the ``share`` highest and lowest values (none dropped below five values)."""
    if not values:
        return None
    ordered = sorted(values)
    cut = int(len(ordered) * share) if len(ordered) >= 5 else 0
    kept = ordered[cut:len(ordered) - cut]
    return round(statistics.fmean(kept), 2)


def summarise(totals: list[float]) -> ScoreSummary:
    if not totals:
        return ScoreSummary(0, None, None, None, None, None)
    return ScoreSummary(len(totals), round(statistics.fmean(totals), 2), trimmed_mean(totals), min(totals),
                        max(totals), round(statistics.stdev(totals), 2) if len(totals) > 1 else 0.0)


def ranked_applications(category: CallCategory) -> list[tuple[Application, ScoreSummary]]:
    """The category's applications in expert review or decided, best trimmed mean first."""
    applications = db.session.scalars(
        select(Application).where(Application.category_id == category.id,
                                  Application.status.in_([ApplicationStatus.EXPERT_REVIEW,
                                                          ApplicationStatus.NOT_APPROVED, *FUNDED_STATES]))
        .options(selectinload(Application.reviews), selectinload(Application.organisation)))
    lines = [(a, summarise([r.total for r in a.reviews if r.submitted_at is not None])) for a in applications]
    return sorted(lines, key=lambda line: (line[1].trimmed_mean is None, -(line[1].trimmed_mean or 0), line[0].id))


# --- the decision ------------------------------------------------------------------------------

def _funded(category_or_call_column, value, *, district=None):
    query = select(func.count(), func.coalesce(func.sum(Application.requested_fen), 0)).where(
        category_or_call_column == value, Application.status.in_([str(s) for s in FUNDED_STATES]))
    if district is not None:
        query = query.where(Application.district == district)
    return db.session.execute(query).one()


def approval_refusal(application: Application) -> str | None:
    """Why approving would break a rule of the call (reviews missing, quota, district quota,
    category budget, call budget), with the numbers; None when it may be approved."""
    submitted = sum(1 for review in application.reviews if review.submitted_at is not None)
    required = reviewers_required(application)
    if submitted < required:
        return _("%(submitted)d of the %(required)d reviews are in: approve once every reviewer has scored.",
                 submitted=submitted, required=required)
    category = application.category
    approved, approved_fen = _funded(Application.category_id, category.id)
    if category.quota is not None and approved + 1 > category.quota:
        return _("Category %(category)s approves at most %(quota)d projects and %(approved)d are approved already.",
                 category=category.code, quota=category.quota, approved=approved)
    if category.per_district_quota is not None and application.district is not None:
        in_district, _fen = _funded(Application.category_id, category.id, district=application.district)
        if in_district + 1 > category.per_district_quota:
            return _("Category %(category)s approves at most %(quota)d projects per district and %(district)s has "
                     "%(approved)d already.", category=category.code, quota=category.per_district_quota,
                     district=application.district.title, approved=in_district)
    if category.budget_fen is not None and approved_fen + application.requested_fen > category.budget_fen:
        return _("The budget of category %(category)s is %(budget)s; %(approved)s is approved already and this "
                 "project asks %(requested)s.", category=category.code, budget=money(category.budget_fen),
                 approved=money(approved_fen), requested=money(application.requested_fen))
    call = application.call
    if call.budget_fen is not None:
        _count, call_fen = _funded(Application.call_id, call.id)
        if call_fen + application.requested_fen > call.budget_fen:
            return _("The call's budget is %(budget)s; %(approved)s is approved already and this project asks "
                     "%(requested)s.", budget=money(call.budget_fen), approved=money(call_fen),
                     requested=money(application.requested_fen))
    return None


def plan_tranches(application: Application) -> list[Tranche]:
    """The project's payments from its category's tranches; the last takes the rounding."""
    tranches = call_definition(application.call).category(application.category.code).tranches
    amount, planned, rows = application.requested_fen, 0, []
    for position, tranche in enumerate(tranches, start=1):
        share = amount - planned if position == len(tranches) else amount * tranche.percent // 100
        planned += share
        rows.append(Tranche(position=position, percent=tranche.percent, when=TrancheWhen(tranche.when),
                            amount_fen=share))
    application.tranches[:] = rows
    return rows


def approve(application: Application, *, actor, comment: str | None = None) -> None:
    """Approve and plan the tranches. The call is locked first, so two approvals at once
    cannot both take the last place of a quota or budget."""
    lock(f"program_calls:{application.call_id}")
    APPLICATION.apply(application, "approve", actor=actor, comment=comment,
                      details={"requested_fen": application.requested_fen})
    application.decided_at = utcnow()
    plan_tranches(application)
    db.session.flush()
    messages.tell_applicant(application, "approved")


def decline(application: Application, *, actor, comment: str | None) -> None:
    APPLICATION.apply(application, "decline", actor=actor, comment=comment)
    application.decided_at = utcnow()
    messages.tell_applicant(application, "declined", comment)
