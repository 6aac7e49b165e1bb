"""The societies' pages: their applications as a to-do list, applying for a category (the
eligibility verdicts first), editing a draft (fields, budget lines, planned events,
co-organisers, attachments), submitting and withdrawing, the one application page (also
shown to staff and to assigned reviewers), a funded project's results, and the task
agreement's downloads."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from conference_app.audit.services import history
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import requires, user_can
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import beijing_today
from conference_app.core.uploads import send_upload
from conference_app.events.models import Event
from conference_app.events.services.events import approved_organisations
from conference_app.extensions import db
from conference_app.programs.forms.applicant import (
    SUBKINDS,
    ApplicationEditForm,
    ApplicationForm,
    AttachmentForm,
    BudgetForm,
    ConfirmForm,
    CoOrganiserForm,
    LinkEventForm,
    PlannedEventForm,
    RecordForm,
    WithdrawForm,
)
from conference_app.programs.models import (
    ENDED_STATES,
    FUNDED_STATES,
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    CallCategory,
    CallStatus,
    CoOrganiser,
    PlannedEvent,
    ProjectEvent,
    ProjectRecord,
)
from conference_app.programs.services import agreements, funds, performance, queries
from conference_app.programs.services import applications as services
from conference_app.programs.views import blueprint
from conference_app.programs.workflow import APPLICATION

S = ApplicationStatus
# What waits for the society itself; everything else waits for others or is over.
TO_DO_STATES = frozenset({S.DRAFT, S.RETURNED, S.AGREEMENT, S.IN_PROGRESS, S.MIDTERM, S.ACCEPTANCE})
NEXT_STEPS = {
    S.DRAFT: _l("Complete the budget and the planned events, then submit before the call closes."),
    S.RETURNED: _l("Correct the application as program staff ask, then submit it again."),
    S.SUBMITTED: _l("Waiting for the formal review by program staff."),
    S.EXPERT_REVIEW: _l("Waiting for the experts' review."),
    S.APPROVED: _l("Approved: waiting for the public notice."),
    S.IN_NOTICE: _l("On public notice: waiting for the notice period to end."),
    S.AGREEMENT: _l("Download the task agreement, sign and stamp it, and return it to program staff."),
    S.IN_PROGRESS: _l("Hold the planned events, count them for the project and record its results."),
    S.MIDTERM: _l("Mid-term evaluation: make sure the results so far are recorded."),
    S.ACCEPTANCE: _l("Acceptance: make sure every result is recorded."),
    S.CLOSED: _l("Concluded."),
    S.REJECTED: _l("Rejected at formal review."),
    S.WITHDRAWN: _l("Withdrawn."),
    S.NOT_APPROVED: _l("Not approved."),
}
# The workflow steps whose buttons these pages carry (staff's steps are on staff's partial).
APPLICANT_TRANSITIONS = ("submit", "withdraw")
# Audit entries naming the reviewers: not shown outside staff.
REVIEW_ACTIONS = frozenset({"application.reviewer_assigned", "application.reviewer_removed", "application.scored"})


def _own_organisation():
    """The society user's organisation (a society account always has one)."""
    organisation = current_user.organisation
    if organisation is None:
        abort(404)
    return organisation


def _child(application: Application, model: type, child_id: int):
    """A planned event, co-organiser, attachment ... of ``application``; another one's is a 404."""
    child = queries.child_of(application, model, child_id)
    if child is None:
        abort(404)
    return child


# --- the to-do list -----------------------------------------------------------------------------


@blueprint.get("/programs/", endpoint="my_applications")
@requires("programs.apply")
def my_applications():
    """The society's applications: what waits for it (drafts, corrections, agreements to
    sign, projects to record) and what is with others or done; and the open calls."""
    organisation = _own_organisation()
    applications = queries.society_applications(organisation.id)
    to_do = [a for a in applications if a.status in TO_DO_STATES]
    done = [a for a in applications if a.status not in TO_DO_STATES]
    live_by_category: dict[int, Application] = {}
    for application in applications:
        if application.status not in ENDED_STATES:
            live_by_category.setdefault(application.category_id, application)
    return render_template(
        "programs/applicant/index.html", organisation=organisation, to_do=to_do, done=done,
        comments=queries.latest_comments([a for a in to_do if a.status == S.RETURNED]),
        calls=queries.open_calls_with_categories(beijing_today()), live_by_category=live_by_category,
        next_steps=NEXT_STEPS, funded_states=FUNDED_STATES,
    )


# --- applying -------------------------------------------------------------------------------------


def _blocking(verdicts) -> list:
    """The verdicts that refuse the application now (matching funds are judged once typed)."""
    return [v for v in verdicts if v.status == "not_met" and v.kind != "matching_funds"]


@blueprint.route("/programs/calls/<id:call_id>/categories/<id:category_id>/apply", methods=["GET", "POST"])
@requires("programs.apply", load=CallCategory, arg="category_id", within=("call_id", "call_id"))
def apply(call_category: CallCategory):
    """The eligibility verdicts rule by rule, then the application's first fields."""
    category = call_category
    if category.call.status == CallStatus.DRAFT:
        abort(404)  # a call being prepared is not shown to applicants
    organisation = _own_organisation()
    form = ApplicationForm(category=category)
    created = []
    if submit(form, lambda: created.append(services.start_application(
            organisation, category, form.application_fields(), actor=current_user))):
        flash(_("Application started as a draft: add its budget and planned events, then submit it."), "success")
        return redirect(url_for(".edit_application", application_id=created[0].id))
    verdicts = services.check_eligibility(organisation, category)
    return render_template(
        "programs/applicant/apply.html", category=category, call=category.call, organisation=organisation,
        form=form, verdicts=verdicts, blocking=_blocking(verdicts), window=services.window_refusal(category.call),
        definition=category.definition(),
    ), form_status(form)


# --- the application page ---------------------------------------------------------------------------


def _applicant_transitions(application: Application) -> list:
    """Submit / withdraw as the user may take them now, each with its guard's refusal."""
    return [(t, t.guard(application) if t.guard else None)
            for t in APPLICATION.allowed(application, current_user) if t.name in APPLICANT_TRANSITIONS]


def _visible_history(application: Application) -> list:
    """The application's history with its tranches' payments and its recorded results, newest
    first; who reviews it and how they scored is for staff only (the applicant and the other
    reviewers never learn the reviewers' names from it)."""
    entries = history(application) + [entry for part in (*application.tranches, *application.records)
                                      for entry in history(part)]
    entries.sort(key=lambda entry: (entry.created_at, entry.id), reverse=True)
    if user_can(current_user, "programs.manage"):
        return entries
    return [entry for entry in entries if entry.action not in REVIEW_ACTIONS]


def _render_application(application: Application, status: int = 200, **forms):
    """The one application page; ``forms`` are a submit or withdraw form with their errors."""
    funded = application.status in FUNDED_STATES
    context = {
        "application": application,
        "category": application.category,
        "definition": application.category.definition(),
        "transitions": _applicant_transitions(application),
        "submit_form": forms.get("submit_form") or ConfirmForm(formdata=None),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(formdata=None),
        "can_edit": application.status in services.EDITABLE_STATES
                    and user_can(current_user, "programs.edit", application),
        "can_record": funded and user_can(current_user, "programs.records", application),
        "is_staff": user_can(current_user, "programs.manage"),
        "verdicts": services.check_eligibility(application.organisation, application.category,
                                               application=application),
        "return_comment": queries.latest_comments([application]).get(application.id)
                          if application.status == S.RETURNED else None,
        "next_step": NEXT_STEPS.get(application.status),
        "funded": funded,
        "ledger": funds.ledger(application) if funded else None,
        "indicators": performance.evaluate_project(application) if funded else [],
        "linked": queries.linked_events(application) if funded else [],
        "history": _visible_history(application),
    }
    return render_template("programs/application.html", **context), status


@blueprint.get("/programs/applications/<id:application_id>", endpoint="application")
@requires("programs.view", load=Application, arg="application_id")
def application_page(application: Application):
    """An application: what it says, its verdicts, its steps, its project's progress, its history."""
    return _render_application(application)


@blueprint.post("/programs/applications/<id:application_id>/submit")
@requires("programs.edit", load=Application, arg="application_id")
def submit_application(application: Application):
    form = ConfirmForm()
    if submit(form, lambda: services.submit(application, actor=current_user)):
        flash(_("Application submitted: program staff will run its formal review."), "success")
        return redirect(url_for(".application", application_id=application.id))
    return _render_application(application, form_status(form), submit_form=form)


@blueprint.post("/programs/applications/<id:application_id>/withdraw")
@requires("programs.edit", load=Application, arg="application_id")
def withdraw_application(application: Application):
    form = WithdrawForm()
    if submit(form, lambda: services.withdraw(application, actor=current_user, comment=form.comment.data)):
        flash(_("Application withdrawn."), "success")
        return redirect(url_for(".application", application_id=application.id))
    return _render_application(application, form_status(form), withdraw_form=form)


# --- editing a draft ------------------------------------------------------------------------------


def _render_edit(application: Application, status: int = 200, **forms):
    """The edit page: each section its own form, shown with its errors when it was posted."""
    category = application.category
    return render_template(
        "programs/applicant/edit.html", application=application, category=category,
        editable=application.status in services.EDITABLE_STATES,
        form=forms.get("form") or ApplicationEditForm(formdata=None, data=ApplicationEditForm.data_of(application),
                                                      category=category),
        budget_form=forms.get("budget_form") or BudgetForm(formdata=None, application=application),
        event_form=forms.get("event_form") or PlannedEventForm(formdata=None),
        co_organiser_form=forms.get("co_organiser_form") or CoOrganiserForm(
            formdata=None, organisations=_partner_organisations(application)),
        attachment_form=forms.get("attachment_form") or AttachmentForm(formdata=None),
        confirm_form=forms.get("confirm_form") or ConfirmForm(formdata=None),
        attachment_kinds=services.ATTACHMENT_KINDS,
        attachment_max_mb=services.ATTACHMENT_MAX_BYTES // (1024 * 1024),
    ), status


def _partner_organisations(application: Application) -> list:
    return [o for o in approved_organisations() if o.id != application.organisation_id]


def _edited(application: Application, message: str, anchor: str):
    flash(message, "success")
    return redirect(url_for(".edit_application", application_id=application.id, _anchor=anchor))


@blueprint.route("/programs/applications/<id:application_id>/edit", methods=["GET", "POST"])
@requires("programs.edit", load=Application, arg="application_id")
def edit_application(application: Application):
    """A draft or returned application's fields, and its other sections below."""
    if request.method == "GET" and application.status not in services.EDITABLE_STATES:
        flash(_("Only a draft or an application returned for correction can be changed."), "info")
        return redirect(url_for(".application", application_id=application.id))
    form = ApplicationEditForm(category=application.category)
    if not form.is_submitted():
        return _render_edit(application)
    if submit(form, lambda: services.update_application(application, form.application_fields(),
                                                        actor=current_user), edits=application):
        return _edited(application, _("Changes saved."), "details")
    return _render_edit(application, form_status(form), form=form)


@blueprint.post("/programs/applications/<id:application_id>/budget")
@requires("programs.edit", load=Application, arg="application_id")
def budget(application: Application):
    """Every budget line at once; they must sum to the requested amount."""
    form = BudgetForm()
    if submit(form, lambda: services.set_budget_lines(application, form.budget_lines(), actor=current_user)):
        return _edited(application, _("Budget saved."), "budget")
    return _render_edit(application, form_status(form), budget_form=form)


@blueprint.post("/programs/applications/<id:application_id>/planned-events")
@requires("programs.edit", load=Application, arg="application_id")
def add_planned_event(application: Application):
    form = PlannedEventForm()
    if submit(form, lambda: services.add_planned_event(application, form.event_fields(), actor=current_user)):
        return _edited(application, _("Planned event added."), "planned-events")
    return _render_edit(application, form_status(form), event_form=form)


@blueprint.post("/programs/applications/<id:application_id>/planned-events/<id:planned_event_id>/remove")
@requires("programs.edit", load=Application, arg="application_id")
def remove_planned_event(application: Application, planned_event_id: int):
    planned = _child(application, PlannedEvent, planned_event_id)
    form = ConfirmForm()
    if submit(form, lambda: services.remove_planned_event(application, planned, actor=current_user)):
        return _edited(application, _("Planned event removed."), "planned-events")
    return _render_edit(application, form_status(form), confirm_form=form)


@blueprint.post("/programs/applications/<id:application_id>/co-organisers")
@requires("programs.edit", load=Application, arg="application_id")
def add_co_organiser(application: Application):
    form = CoOrganiserForm(organisations=_partner_organisations(application))
    if submit(form, lambda: services.add_co_organiser(application, form.co_organiser_fields(),
                                                      actor=current_user)):
        return _edited(application, _("Co-organiser added."), "co-organisers")
    return _render_edit(application, form_status(form), co_organiser_form=form)


@blueprint.post("/programs/applications/<id:application_id>/co-organisers/<id:co_organiser_id>/remove")
@requires("programs.edit", load=Application, arg="application_id")
def remove_co_organiser(application: Application, co_organiser_id: int):
    co_organiser = _child(application, CoOrganiser, co_organiser_id)
    form = ConfirmForm()
    if submit(form, lambda: services.remove_co_organiser(application, co_organiser, actor=current_user)):
        return _edited(application, _("Co-organiser removed."), "co-organisers")
    return _render_edit(application, form_status(form), confirm_form=form)


@blueprint.post("/programs/applications/<id:application_id>/attachments")
@requires("programs.edit", load=Application, arg="application_id")
def add_attachment(application: Application):
    form = AttachmentForm()
    if submit(form, lambda: services.add_attachment(application, form.file.data, actor=current_user)):
        return _edited(application, _("File attached."), "attachments")
    return _render_edit(application, form_status(form), attachment_form=form)


@blueprint.post("/programs/applications/<id:application_id>/attachments/<id:attachment_id>/remove")
@requires("programs.edit", load=Application, arg="application_id")
def remove_attachment(application: Application, attachment_id: int):
    attachment = _child(application, ApplicationAttachment, attachment_id)
    form = ConfirmForm()
    if submit(form, lambda: services.remove_attachment(application, attachment, actor=current_user)):
        return _edited(application, _("Attachment removed."), "attachments")
    return _render_edit(application, form_status(form), confirm_form=form)


@blueprint.get("/programs/applications/<id:application_id>/attachments/<id:attachment_id>")
@requires("programs.view", load=Application, arg="application_id")
def attachment(application: Application, attachment_id: int):
    """An attachment, as a download, for those who may see the application."""
    found = _child(application, ApplicationAttachment, attachment_id)
    return send_upload(path=found.path, download_name=found.original_name)


# --- the task agreement ---------------------------------------------------------------------------


def _agreement_download(application: Application, data: bytes, extension: str, mimetype: str):
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=f"task-agreement-{application.agreement_number}.{extension}")


@blueprint.get("/programs/applications/<id:application_id>/agreement.docx")
@requires("programs.view", load=Application, arg="application_id")
def agreement_docx(application: Application):
    """The task agreement as a Word file, once the project has its agreement number."""
    if not application.agreement_number:
        abort(404)
    return _agreement_download(application, agreements.agreement_docx(application), "docx",
                               "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@blueprint.get("/programs/applications/<id:application_id>/agreement.pdf")
@requires("programs.view", load=Application, arg="application_id")
def agreement_pdf(application: Application):
    """The task agreement as a PDF, once the project has its agreement number."""
    if not application.agreement_number:
        abort(404)
    return _agreement_download(application, agreements.agreement_pdf(application), "pdf", "application/pdf")


# --- a project's results ----------------------------------------------------------------------------


def _render_results(application: Application, status: int = 200, **forms):
    linked = queries.linked_events(application)
    linked_ids = {link.event_id for link in linked}
    choices = [e for e in queries.organisation_events(application.organisation_id) if e.id not in linked_ids]
    return render_template(
        "programs/applicant/results.html", application=application, category=application.category,
        linked=linked, records=list(application.records),
        indicators=performance.evaluate_project(application),
        link_form=forms.get("link_form") or LinkEventForm(formdata=None, events=choices),
        record_form=forms.get("record_form") or RecordForm(formdata=None),
        confirm_form=forms.get("confirm_form") or ConfirmForm(formdata=None),
        funded=application.status in FUNDED_STATES, subkinds=SUBKINDS,
    ), status


@blueprint.get("/programs/applications/<id:application_id>/results")
@requires("programs.records", load=Application, arg="application_id")
def results(application: Application):
    """The events counted for an approved project and the results it records, with its indicators."""
    return _render_results(application)


def _chosen_event(form: LinkEventForm) -> Event:
    event = db.session.get(Event, form.chosen_id()) if form.chosen_id() else None
    if event is None:
        raise ServiceError(_("Please choose one of the organisation's events."))
    return event


@blueprint.post("/programs/applications/<id:application_id>/results/events")
@requires("programs.records", load=Application, arg="application_id")
def link_event(application: Application):
    form = LinkEventForm(events=queries.organisation_events(application.organisation_id))
    if submit(form, lambda: performance.link_event(application, _chosen_event(form), actor=current_user)):
        flash(_("The event now counts for the project."), "success")
        return redirect(url_for(".results", application_id=application.id, _anchor="events"))
    return _render_results(application, form_status(form), link_form=form)


@blueprint.post("/programs/applications/<id:application_id>/results/events/<id:link_id>/unlink")
@requires("programs.records", load=Application, arg="application_id")
def unlink_event(application: Application, link_id: int):
    link = _child(application, ProjectEvent, link_id)
    form = ConfirmForm()
    if submit(form, lambda: performance.unlink_event(application, link, actor=current_user)):
        flash(_("The event no longer counts for the project."), "success")
        return redirect(url_for(".results", application_id=application.id, _anchor="events"))
    return _render_results(application, form_status(form), confirm_form=form)


@blueprint.post("/programs/applications/<id:application_id>/results/records")
@requires("programs.records", load=Application, arg="application_id")
def add_record(application: Application):
    form = RecordForm()
    if submit(form, lambda: performance.add_record(application, form.record_fields(), form.file.data,
                                                   actor=current_user)):
        flash(_("Result recorded."), "success")
        return redirect(url_for(".results", application_id=application.id, _anchor="records"))
    return _render_results(application, form_status(form), record_form=form)


@blueprint.post("/programs/applications/<id:application_id>/results/records/<id:record_id>/remove")
@requires("programs.records", load=ProjectRecord, arg="record_id", within=("application_id", "application_id"))
def remove_record(project_record: ProjectRecord):
    application = project_record.application
    form = ConfirmForm()
    if submit(form, lambda: performance.remove_record(project_record, actor=current_user)):
        flash(_("Result removed."), "success")
        return redirect(url_for(".results", application_id=application.id, _anchor="records"))
    return _render_results(application, form_status(form), confirm_form=form)


@blueprint.get("/programs/applications/<id:application_id>/results/records/<id:record_id>/file")
@requires("programs.view", load=Application, arg="application_id")
def record_file(application: Application, record_id: int):
    """A recorded result's file, as a download, for those who may see the application."""
    entry = _child(application, ProjectRecord, record_id)
    if not entry.file_path:
        abort(404)
    return send_upload(path=entry.file_path, download_name=entry.file_name)
