"""Staff pages of the programs domain (市科协学会部): calls loaded from their YAML files
through a preview, the applications list, the decisions on an application (formal review,
reviewers, approval, the agreement, tranches, acceptance: the part of the application page
in ``programs/staff/_application_staff.html``), the ranking per category, the public
notices with their objections, the summary sheet and the indicators table."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from conference_app.accounts.models import User
from conference_app.core.db import paginate
from conference_app.core.excel import xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import Role, requires, user_can
from conference_app.core.services import ServiceError
from conference_app.events.forms.common import optional_id
from conference_app.extensions import db
from conference_app.programs.call_schema import CallFileError
from conference_app.programs.forms.staff import (
    ApplicationFilterForm,
    CallConfirmForm,
    CallUploadForm,
    CommentForm,
    ConfirmForm,
    NoticeForm,
    ReleaseForm,
    RequiredCommentForm,
    ResolutionForm,
    ReviewerForm,
    SigningForm,
    acceptance_form,
)
from conference_app.programs.models import (
    Application,
    ApplicationReview,
    ApplicationStatus,
    Call,
    CallCategory,
    Notice,
    Objection,
    Tranche,
    TrancheStatus,
    TrancheWhen,
)
from conference_app.programs.services import acceptance, agreements, funds, notices, performance, review, staff_queries
from conference_app.programs.services import applications as application_services
from conference_app.programs.services import calls as call_services
from conference_app.programs.views import blueprint
from conference_app.programs.workflow import APPLICATION

PER_PAGE = 30
PREVIEW_MAX_AGE_SECONDS = 3600
S = ApplicationStatus
FORMAL_STEPS = {"pass": review.pass_formal_review, "return": review.return_for_correction, "reject": review.reject}
FORMAL_DONE = {"pass": _l("Formal review passed: the application is in expert review."),
               "return": _l("Returned to the applicant for correction."),
               "reject": _l("Rejected at formal review.")}
PROJECT_STEPS = ("open_midterm", "open_acceptance")


def application_url(application, anchor: str | None = None) -> str:
    """The application's page (the one detail page of every audience), at ``anchor``."""
    return url_for("programs.application", application_id=application.id, _anchor=anchor)


def _back(application: Application, anchor: str = "staff"):
    return redirect(application_url(application, anchor))


# --- the part of the application page that staff work in -----------------------------------------

def _reviewer_form(application: Application, form: ReviewerForm | None) -> tuple[ReviewerForm, list]:
    """The form assigning an expert, the experts excluded with their reasons."""
    form = form or ReviewerForm(formdata=None, prefix="reviewer")
    assigned = {r.reviewer_id for r in application.reviews}
    choices, excluded = [SelectChoice("", "—")], []
    for expert, conflict in review.reviewer_choices(application):
        if expert.id in assigned:
            continue
        if conflict:
            excluded.append((expert, conflict))
            choices.append(SelectChoice(str(expert.id), _("%(name)s (excluded: %(reason)s)", name=expert.name,
                                                          reason=conflict), render_kw={"disabled": True}))
        else:
            choices.append(SelectChoice(str(expert.id), expert.name))
    form.reviewer_id.choices = choices
    return form, excluded


def _acceptance(application: Application, form=None) -> dict:
    proposals = acceptance.propose(application)
    codes = [p.result.code for p in proposals]
    if form is None:
        form = acceptance_form(codes, data={f"decision_{p.result.code}": p.proposed for p in proposals})
    decisions = {code: form[f"decision_{code}"].data or proposal.proposed or "met"
                 for code, proposal in zip(codes, proposals)}
    return {"proposals": proposals, "form": form, "recovery_fen": acceptance.recovery_fen(application, decisions),
            "rule": call_services.call_definition(application.call).recovery}


def staff_panel(application: Application, user, forms: dict | None = None) -> dict | None:
    """What ``_application_staff.html`` shows a user holding programs.review or programs.funds
    on ``application`` (None for anyone else); ``forms`` are the ones to show with their errors."""
    can_review = user_can(user, "programs.review", application)
    can_fund = user_can(user, "programs.funds", application)
    if not (can_review or can_fund):
        return None
    forms = forms or {}
    status = application.status
    steps = {transition.name: refusal for transition, refusal in APPLICATION.available(application, user)}
    panel = {
        "application": application, "can_review": can_review, "can_fund": can_fund, "steps": steps,
        "formal_form": forms.get("formal") or CommentForm(formdata=None, prefix="formal"),
        "decision_form": forms.get("decision") or CommentForm(formdata=None, prefix="decision"),
        "step_form": forms.get("step") or ConfirmForm(formdata=None),
        "verdicts": [], "rule_forms": {}, "reviewer_form": None, "excluded": [],
        "criteria": review.rubric(application) if application.reviews or status == S.EXPERT_REVIEW else (),
        "reviews": list(application.reviews), "reviewers_required": review.reviewers_required(application),
        "summary": review.summarise([r.total for r in application.reviews if r.submitted_at is not None]),
        "signing_form": forms.get("signing") or SigningForm(formdata=None, prefix="signing"),
        "ledger": funds.ledger(application) if application.tranches else None,
        "tranche_forms": {}, "acceptance": None, "verdicts_given": [],
        # what a refused action says (and an expired CSRF token), shown at the top of the panel
        "errors": [message for form in forms.values()
                   for message in [*form.form_errors, *form.errors.get("csrf_token", [])]],
    }
    if can_review and status == S.SUBMITTED:
        panel["verdicts"] = application_services.check_eligibility(application.organisation, application.category,
                                                                   application=application)
        for verdict in panel["verdicts"]:
            if verdict.status == "needs_confirmation":
                panel["rule_forms"][verdict.index] = forms.get(f"rule{verdict.index}") or RequiredCommentForm(
                    formdata=None, prefix=f"rule{verdict.index}")
    if can_review and status == S.EXPERT_REVIEW:
        panel["reviewer_form"], panel["excluded"] = _reviewer_form(application, forms.get("reviewer"))
    if can_fund:
        for tranche in application.tranches:
            if tranche.status == TrancheStatus.PLANNED:
                panel["tranche_forms"][tranche.id] = {
                    "refusal": funds.release_refusal(tranche),
                    "release": forms.get(f"tranche{tranche.id}") or ReleaseForm(formdata=None,
                                                                                prefix=f"tranche{tranche.id}"),
                    "withhold": forms.get(f"withhold{tranche.id}") or CommentForm(formdata=None,
                                                                                  prefix=f"withhold{tranche.id}"),
                }
        if status == S.ACCEPTANCE:
            panel["acceptance"] = _acceptance(application, forms.get("acceptance"))
    if status == S.CLOSED:
        panel["verdicts_given"] = acceptance.verdicts(application)
    return panel


blueprint.add_app_template_global(staff_panel, "programs_staff_panel")
blueprint.add_app_template_global(application_url, "programs_application_url")
blueprint.add_app_template_global(staff_queries.indicator_status_title, "programs_indicator_status")
blueprint.add_app_template_global(staff_queries.INDICATOR_STATUS_BADGES, "programs_indicator_badges")
blueprint.add_app_template_global(lambda value: TrancheWhen(value).title, "programs_tranche_when")


def _staff_page(application: Application, status: int = 200, **forms):
    """The staff's page of an application: its essentials and the staff part, with ``forms``
    showing their errors."""
    return render_template("programs/staff/application.html", application=application, staff_forms=forms), status


@blueprint.get("/programs/staff/applications/<id:application_id>")
@requires("programs.review", load=Application, arg="application_id")
def staff_application(application: Application):
    """Formal review, reviewers, the decision, the agreement, tranches and acceptance of one application."""
    return _staff_page(application)


# --- calls --------------------------------------------------------------------------------------

def _calls_page(upload_form: CallUploadForm, status: int = 200, errors: list[str] | None = None):
    return render_template("programs/staff/calls.html", calls=staff_queries.calls_with_counts(),
                           upload_form=upload_form, errors=errors or []), status


@blueprint.get("/programs/staff/calls")
@requires("programs.manage")
def calls():
    """The calls with their status, window, categories and applications; upload a call file."""
    return _calls_page(CallUploadForm(formdata=None))


def _preview_folder() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "call-previews"


def _save_preview(data: bytes, filename: str) -> str:
    """Keep an uploaded call file on the server for the preview's confirm button; the token names it."""
    folder = _preview_folder()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):  # previews nobody confirmed
        if old.stat().st_mtime < time.time() - PREVIEW_MAX_AGE_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.json").write_text(json.dumps({"name": filename, "data": base64.b64encode(data).decode(),
                                                      "user_id": current_user.id}), encoding="utf-8")
    return token


def _read_preview(token: str) -> tuple[bytes, str] | None:
    """The file kept under ``token`` for the current user, or None (unknown, expired, another's)."""
    path = _preview_folder() / f"{token}.json"
    try:
        if path.stat().st_mtime < time.time() - PREVIEW_MAX_AGE_SECONDS:
            return None
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept.get("user_id") != current_user.id:
            return None
        return base64.b64decode(kept["data"], validate=True), str(kept["name"])
    except (OSError, ValueError, KeyError, TypeError, binascii.Error):
        return None


def _upload_name(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in name if ch.isprintable())[:200] or "call.yaml"


def _preview_page(definition, data: bytes, filename: str, confirm_form: CallConfirmForm, status: int = 200):
    existing = staff_queries.call_by_code(definition.code)
    return render_template(
        "programs/staff/call_preview.html", definition=definition, filename=filename, confirm_form=confirm_form,
        sha256=hashlib.sha256(data).hexdigest(), existing=existing,
        existing_count=call_services.application_count(existing) if existing else 0,
        unchanged=existing is not None and existing.definition == definition.model_dump(mode="json"),
    ), status


@blueprint.post("/programs/staff/calls/preview")
@requires("programs.manage")
def call_preview():
    """A call file checked and shown as it would be loaded; every problem as FILE:LINE: field: message."""
    form = CallUploadForm()
    if not form.validate_on_submit():
        return _calls_page(form, 400)
    filename = _upload_name(form.file.data.filename)
    data = form.file.data.read(call_services.MAX_CALL_FILE_BYTES + 1)
    try:
        definition = call_services.parse_upload(data, filename)
    except CallFileError as error:
        return _calls_page(form, 400, errors=error.errors)
    confirm_form = CallConfirmForm(formdata=None, token=_save_preview(data, filename))
    return _preview_page(definition, data, filename, confirm_form)


@blueprint.post("/programs/staff/calls/load")
@requires("programs.manage")
def call_load():
    """Load the previewed file: a new call, or the update of the call with its code (refused,
    409, once that call has applications)."""
    form = CallConfirmForm()
    valid = form.validate_on_submit()
    kept = _read_preview(form.token.data) if valid else None
    if kept is None:
        upload_form = CallUploadForm(formdata=None)
        problems = [error for errors in form.errors.values() for error in errors] if not valid else []
        upload_form.form_errors.extend(problems or [_("The preview has expired: please upload the file again.")])
        return _calls_page(upload_form, 400)
    data, filename = kept
    try:
        definition = call_services.parse_upload(data, filename)
    except CallFileError as error:
        return _calls_page(CallUploadForm(formdata=None), 400, errors=error.errors)
    loaded = []
    if not submit(form, lambda: loaded.append(call_services.load_call(definition, source_name=filename, source=data,
                                                                      actor=current_user))):
        return _preview_page(definition, data, filename, form, form_status(form))
    (_preview_folder() / f"{form.token.data}.json").unlink(missing_ok=True)
    result = loaded[0]
    if result.created:
        flash(_("Call %(code)s loaded as a draft.", code=result.call.code), "success")
    elif result.changed:
        flash(_("Call %(code)s updated.", code=result.call.code), "success")
    else:
        flash(_("Call %(code)s is unchanged: the file says what it says already.", code=result.call.code), "info")
    return redirect(url_for(".call", call_id=result.call.id))


def _call_page(call: Call, status: int = 200, publish_form: ConfirmForm | None = None):
    return render_template(
        "programs/staff/call.html", call=call, definition=call_services.call_definition(call),
        counts=staff_queries.category_counts(call),
        by_status=[(S(str(state)).title, count) for state, count in application_services.counts_by_status(call).items()],
        notices=staff_queries.call_notices(call), publish_form=publish_form or ConfirmForm(formdata=None),
    ), status


@blueprint.get("/programs/staff/calls/<id:call_id>")
@requires("programs.manage", load=Call, arg="call_id")
def call(call: Call):
    """A call: its categories with their applications, the links to ranking, summary, indicators, notices."""
    return _call_page(call)


@blueprint.post("/programs/staff/calls/<id:call_id>/publish")
@requires("programs.manage", load=Call, arg="call_id")
def call_publish(call: Call):
    form = ConfirmForm()
    if submit(form, lambda: call_services.publish_call(call, actor=current_user)):
        flash(_("Call %(code)s is published.", code=call.code), "success")
        return redirect(url_for(".call", call_id=call.id))
    return _call_page(call, form_status(form), publish_form=form)


# --- the applications list ------------------------------------------------------------------

def _application_filters() -> tuple[ApplicationFilterForm, dict]:
    form = ApplicationFilterForm(formdata=request.args, calls=staff_queries.call_choices(),
                                 categories=staff_queries.category_choices())
    return form, form.filters()


@blueprint.get("/programs/staff/applications")
@requires("programs.manage")
def applications():
    """Every application, filtered by call, category, status and a search in names."""
    filter_form, filters = _application_filters()
    pagination = paginate(staff_queries.applications_list_query(**filters), PER_PAGE)
    return render_template("programs/staff/applications.html", filter_form=filter_form, pagination=pagination,
                           reviews=staff_queries.review_counts([a.id for a in pagination.items]))


@blueprint.get("/programs/staff/applications/export.xlsx")
@requires("programs.manage")
def applications_export():
    """The applications list with its filters as an Excel workbook."""
    _form, filters = _application_filters()
    return xlsx_response(staff_queries.applications_workbook(staff_queries.applications_list_query(**filters)),
                         "applications")


# --- formal review, reviewers, the decision ---------------------------------------------------

@blueprint.post("/programs/staff/applications/<id:application_id>/formal/<any(pass,return,reject):step>")
@requires("programs.review", load=Application, arg="application_id")
def formal_review(application: Application, step: str):
    """Pass formal review, return for correction or reject (the last two with their comment)."""
    form = CommentForm(prefix="formal")
    if submit(form, lambda: FORMAL_STEPS[step](application, actor=current_user, comment=form.comment.data)):
        flash(str(FORMAL_DONE[step]), "success")
        return _back(application)
    return _staff_page(application, form_status(form), formal=form)


@blueprint.post("/programs/staff/applications/<id:application_id>/conditions/<int:rule_index>/confirm")
@requires("programs.review", load=Application, arg="application_id")
def rule_confirm(application: Application, rule_index: int):
    """Confirm a condition of the call that staff check by hand, saying how."""
    form = RequiredCommentForm(prefix=f"rule{rule_index}")
    if submit(form, lambda: application_services.confirm_rule(application, rule_index, actor=current_user,
                                                              comment=form.comment.data)):
        flash(_("The condition is confirmed."), "success")
        return _back(application)
    return _staff_page(application, form_status(form), **{f"rule{rule_index}": form})


@blueprint.post("/programs/staff/applications/<id:application_id>/reviewers")
@requires("programs.review", load=Application, arg="application_id")
def reviewer_assign(application: Application):
    """Assign an expert; one with a conflict of interest is refused with the reason."""
    form = ReviewerForm(prefix="reviewer")

    def operation():
        reviewer = db.session.get(User, optional_id(form.reviewer_id.data) or 0)
        if reviewer is None or reviewer.role != Role.EXPERT:
            raise ServiceError(_("Please choose an expert."))
        review.assign_reviewer(application, reviewer, actor=current_user)

    if submit(form, operation):
        flash(_("The expert is assigned."), "success")
        return _back(application, "reviewers")
    return _staff_page(application, form_status(form), reviewer=form)


@blueprint.post("/programs/staff/applications/<id:application_id>/reviewers/<id:review_id>/remove")
@requires("programs.review", load=ApplicationReview, arg="review_id", within=("application_id", "application_id"))
def reviewer_remove(application_review: ApplicationReview):
    """Remove a reviewer who has not submitted the review yet."""
    application = application_review.application
    form = ConfirmForm()
    if submit(form, lambda: review.remove_reviewer(application_review, actor=current_user)):
        flash(_("The reviewer is removed."), "success")
        return _back(application, "reviewers")
    return _staff_page(application, form_status(form), step=form)


def _ranking_page(category: CallCategory, status: int = 200, decision_form: CommentForm | None = None,
                  failed_id: int | None = None):
    return render_template(
        "programs/staff/ranking.html", category=category, call=category.call,
        lines=review.ranked_applications(category), usage=staff_queries.category_usage(category),
        required=call_services.call_definition(category.call).reviewers_per_application,
        decision_form=decision_form or CommentForm(formdata=None, prefix="decision"), failed_id=failed_id,
    ), status


@blueprint.post("/programs/staff/applications/<id:application_id>/approve")
@requires("programs.review", load=Application, arg="application_id")
def application_approve(application: Application):
    """Approve within the category's quota, district quota and budget (refused with the numbers)."""
    form = CommentForm(prefix="decision")
    from_ranking = request.form.get("from") == "ranking"
    if submit(form, lambda: review.approve(application, actor=current_user, comment=form.comment.data)):
        flash(_("%(project)s is approved.", project=application.project_name_zh), "success")
        if from_ranking:
            return redirect(url_for(".ranking", call_id=application.call_id, category_id=application.category_id))
        return _back(application)
    if from_ranking:
        return _ranking_page(application.category, form_status(form), decision_form=form, failed_id=application.id)
    return _staff_page(application, form_status(form), decision=form)


@blueprint.post("/programs/staff/applications/<id:application_id>/decline")
@requires("programs.review", load=Application, arg="application_id")
def application_decline(application: Application):
    """Do not approve, with the reason."""
    form = CommentForm(prefix="decision")
    if submit(form, lambda: review.decline(application, actor=current_user, comment=form.comment.data)):
        flash(_("%(project)s is not approved.", project=application.project_name_zh), "success")
        return _back(application)
    return _staff_page(application, form_status(form), decision=form)


# --- the project: agreement, steps, tranches, acceptance -------------------------------------

@blueprint.post("/programs/staff/applications/<id:application_id>/agreement")
@requires("programs.funds", load=Application, arg="application_id")
def agreement_sign(application: Application):
    """Record the date the task agreement was signed: the project is under way."""
    form = SigningForm(prefix="signing")
    if submit(form, lambda: agreements.record_signing(application, form.signed_on.data, actor=current_user)):
        flash(_("The signed task agreement is recorded."), "success")
        return _back(application)
    return _staff_page(application, form_status(form), signing=form)


@blueprint.post(f"/programs/staff/applications/<id:application_id>/steps/<any({','.join(PROJECT_STEPS)}):step>")
@requires("programs.funds", load=Application, arg="application_id")
def project_step(application: Application, step: str):
    """Open the mid-term evaluation or acceptance."""
    form = ConfirmForm()
    opening = {"open_midterm": acceptance.open_midterm, "open_acceptance": acceptance.open_acceptance}[step]
    if submit(form, lambda: opening(application, actor=current_user)):
        flash(_("Done: %(step)s.", step=APPLICATION.transition(step).title), "success")
        return _back(application)
    return _staff_page(application, form_status(form), step=form)


@blueprint.post("/programs/staff/applications/<id:application_id>/tranches/<id:tranche_id>/release")
@requires("programs.funds", load=Tranche, arg="tranche_id", within=("application_id", "application_id"))
def tranche_release(tranche: Tranche):
    """Record the payment of a tranche on a date."""
    form = ReleaseForm(prefix=f"tranche{tranche.id}")
    if submit(form, lambda: funds.release(tranche, form.released_on.data, actor=current_user)):
        flash(_("Tranche %(number)d is released.", number=tranche.position), "success")
        return _back(tranche.application, "tranches")
    return _staff_page(tranche.application, form_status(form), **{f"tranche{tranche.id}": form})


@blueprint.post("/programs/staff/applications/<id:application_id>/tranches/<id:tranche_id>/withhold")
@requires("programs.funds", load=Tranche, arg="tranche_id", within=("application_id", "application_id"))
def tranche_withhold(tranche: Tranche):
    """Withhold a tranche, saying why."""
    form = CommentForm(prefix=f"withhold{tranche.id}")
    if submit(form, lambda: funds.withhold(tranche, actor=current_user, comment=form.comment.data)):
        flash(_("Tranche %(number)d is withheld.", number=tranche.position), "success")
        return _back(tranche.application, "tranches")
    return _staff_page(tranche.application, form_status(form), **{f"withhold{tranche.id}": form})


@blueprint.post("/programs/staff/applications/<id:application_id>/acceptance")
@requires("programs.funds", load=Application, arg="application_id")
def acceptance_conclude(application: Application):
    """Conclude acceptance: a verdict per indicator, the amount to recover, the conclusion."""
    codes = [proposal.result.code for proposal in acceptance.propose(application)] \
        if application.status == S.ACCEPTANCE else []
    form = acceptance_form(codes, formdata=request.form)

    def operation():
        decisions = {code: form[f"decision_{code}"].data for code in codes if form[f"decision_{code}"].data}
        comments = {code: form[f"comment_{code}"].data for code in codes if form[f"comment_{code}"].data}
        override = application_services.parse_fen(form.recovery.data, _l("Amount to recover"), required=False)
        acceptance.conclude(application, decisions, comments, actor=current_user, conclusion=form.conclusion.data,
                            recovery_override_fen=override)

    if submit(form, operation):
        flash(_("Acceptance is concluded."), "success")
        return _back(application)
    return _staff_page(application, form_status(form), acceptance=form)


# --- ranking, summary, indicators -----------------------------------------------------------

@blueprint.get("/programs/staff/calls/<id:call_id>/categories/<id:category_id>/ranking")
@requires("programs.review", load=CallCategory, arg="category_id", within=("call_id", "call_id"))
def ranking(call_category: CallCategory):
    """The category's applications by trimmed mean score, with its quota and budget used so far."""
    return _ranking_page(call_category)


@blueprint.get("/programs/staff/calls/<id:call_id>/summary")
@requires("programs.manage", load=Call, arg="call_id")
def summary(call: Call):
    """The summary sheet (汇总表): per category, applications, approved projects and amounts."""
    return render_template("programs/staff/summary.html", call=call, lines=funds.call_summary(call))


@blueprint.get("/programs/staff/calls/<id:call_id>/summary.xlsx")
@requires("programs.manage", load=Call, arg="call_id")
def summary_export(call: Call):
    return xlsx_response(funds.summary_workbook(call), f"summary-{call.code}")


@blueprint.get("/programs/staff/calls/<id:call_id>/categories/<id:category_id>/indicators")
@requires("programs.manage", load=CallCategory, arg="category_id", within=("call_id", "call_id"))
def indicators_table(call_category: CallCategory):
    """The funded projects of a category and where each stands on each indicator."""
    indicators, rows = performance.category_table(call_category)
    return render_template("programs/staff/indicators.html", category=call_category, call=call_category.call,
                           indicators=indicators, rows=rows, result_of=staff_queries.result_of)


@blueprint.get("/programs/staff/calls/<id:call_id>/categories/<id:category_id>/indicators.xlsx")
@requires("programs.manage", load=CallCategory, arg="category_id", within=("call_id", "call_id"))
def indicators_export(call_category: CallCategory):
    return xlsx_response(staff_queries.indicators_workbook(call_category),
                         f"indicators-{call_category.call.code}-{call_category.code}")


# --- public notices -----------------------------------------------------------------------------

def _notices_page(call: Call, status: int = 200, **forms):
    """The call's notices with their projects and (confidential) objections; ``forms`` with errors."""
    found = staff_queries.call_notices(call)
    projects = staff_queries.applications_by_id(i for notice in found for i in notice.application_ids)
    return render_template(
        "programs/staff/notices.html", call=call, notices=found, projects=projects, forms=forms,
        notice_form=forms.get("notice") or NoticeForm(formdata=None),
        waiting=staff_queries.approved_waiting_notice(call), is_open=notices.is_open,
        resolution_form=lambda objection: forms.get(f"objection{objection.id}") or ResolutionForm(
            formdata=None, prefix=f"objection{objection.id}"),
        withdraw_form=lambda application: forms.get(f"withdraw{application.id}") or CommentForm(
            formdata=None, prefix=f"withdraw{application.id}"),
        conclude_form=forms.get("conclude") or ConfirmForm(formdata=None),
    ), status


@blueprint.get("/programs/staff/calls/<id:call_id>/notices")
@requires("programs.review", load=Call, arg="call_id")
def staff_notices(call: Call):
    """The call's public notices, their objections, and a form for the next notice."""
    return _notices_page(call)


@blueprint.post("/programs/staff/calls/<id:call_id>/notices")
@requires("programs.review", load=Call, arg="call_id")
def staff_notice_publish(call: Call):
    """Put every approved project of the call on a public notice from its first to its last day."""
    form = NoticeForm()
    fields = {name: form[name].data for name in ("title", "body", "starts_on", "ends_on")}
    if submit(form, lambda: notices.publish_notice(call, fields, actor=current_user)):
        flash(_("The public notice is published."), "success")
        return redirect(url_for(".staff_notices", call_id=call.id))
    return _notices_page(call, form_status(form), notice=form)


@blueprint.post("/programs/staff/notices/<id:notice_id>/objections/<id:objection_id>/resolve")
@requires("programs.review", load=Objection, arg="objection_id", within=("notice_id", "notice_id"))
def objection_resolve(objection: Objection):
    """Record how an objection was handled."""
    call = objection.notice.call
    form = ResolutionForm(prefix=f"objection{objection.id}")
    if submit(form, lambda: notices.handle_objection(objection, form.resolution.data, actor=current_user)):
        flash(_("The objection is handled."), "success")
        return redirect(url_for(".staff_notices", call_id=call.id, _anchor=f"objection-{objection.id}"))
    return _notices_page(call, form_status(form), **{f"objection{objection.id}": form})


@blueprint.post("/programs/staff/notices/<id:notice_id>/conclude")
@requires("programs.review", load=Notice, arg="notice_id")
def notice_conclude(notice: Notice):
    """After its last day, with every objection handled: the projects go on to their agreements."""
    form = ConfirmForm()
    if submit(form, lambda: notices.conclude_notice(notice, actor=current_user)):
        flash(_("The public notice is concluded."), "success")
        return redirect(url_for(".staff_notices", call_id=notice.call_id))
    return _notices_page(notice.call, form_status(form), conclude=form)


@blueprint.post("/programs/staff/applications/<id:application_id>/withdraw-approval")
@requires("programs.review", load=Application, arg="application_id")
def approval_withdraw(application: Application):
    """An objection upheld: the project leaves the notice, not approved."""
    form = CommentForm(prefix=f"withdraw{application.id}")
    if submit(form, lambda: notices.withdraw_approval(application, actor=current_user, comment=form.comment.data)):
        flash(_("The approval of %(project)s is withdrawn.", project=application.project_name_zh), "success")
        return redirect(url_for(".staff_notices", call_id=application.call_id))
    return _notices_page(application.call, form_status(form), **{f"withdraw{application.id}": form})
