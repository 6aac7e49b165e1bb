"""Organisers' and staff pages: the event lists, recording and editing an event with its
organisations, programme, state and international-conference filing, Academic Month
editions, an event's registrations, and the check-in page built for a phone."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from conference_app.audit.services import history
from conference_app.core.db import paginate
from conference_app.core.excel import workbook_bytes, xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import requires, user_can
from conference_app.core.services import ServiceError
from conference_app.core.uploads import send_upload
from conference_app.events.forms.common import CommentForm, ConfirmForm
from conference_app.events.forms.manage import (
    CheckInSearchForm,
    EditionEditForm,
    EditionForm,
    EventEditForm,
    EventFilterForm,
    EventForm,
    FilingDocumentForm,
    PersonEditForm,
    PersonForm,
    RegistrationFilterForm,
)
from conference_app.events.models import (
    AcademicMonthEdition,
    CheckInMethod,
    Event,
    EventKind,
    Registration,
)
from conference_app.events.services import checkins, registrations
from conference_app.events.services import events as services
from conference_app.events.views import blueprint
from conference_app.events.workflow import EVENT, FILING
from conference_app.extensions import db
from conference_app.organisations.models import PastEventRole

PER_PAGE = 20
REGISTRATIONS_PER_PAGE = 50
EXPORT_MAX_ROWS = 100_000
EVENT_TRANSITIONS = ",".join(EVENT.transitions)
FILING_TRANSITIONS = ",".join(FILING.transitions)


# --- the lists ---------------------------------------------------------------------------


def _event_filters(organisation_id: int | None) -> tuple[EventFilterForm, dict]:
    """The list's filter form and the query's filters; a society's list is held to its organisation."""
    filter_form = EventFilterForm(formdata=request.args, editions=services.editions(),
                                  organisations=services.approved_organisations() if organisation_id is None else ())
    filters = filter_form.filters()
    if organisation_id is not None:
        filters["organisation_id"] = organisation_id
    return filter_form, filters


def _event_list(*, organisation_id: int | None, export_endpoint: str, endpoint: str, heading):
    filter_form, filters = _event_filters(organisation_id)
    pagination = paginate(services.event_query(**filters), PER_PAGE)
    return render_template(
        "events/manage/list.html", heading=heading, filter_form=filter_form, pagination=pagination,
        rows=services.with_counts(pagination.items), endpoint=endpoint, export_endpoint=export_endpoint,
        show_organisation_filter=organisation_id is None, can_create=user_can(current_user, "events.create"),
        can_manage_editions=user_can(current_user, "events.manage"),
    )


def _event_export(*, organisation_id: int | None, name_prefix: str):
    _filter_form, filters = _event_filters(organisation_id)
    events = db.session.scalars(services.event_query(**filters).limit(EXPORT_MAX_ROWS))
    data = workbook_bytes(_l("Events"), services.EVENT_EXPORT_COLUMNS, services.with_counts(events))
    return xlsx_response(data, name_prefix)


def _own_organisation_id() -> int:
    if current_user.organisation_id is None:
        abort(404)
    return current_user.organisation_id


@blueprint.get("/manage/events")
@requires("events.list")
def manage_list():
    """Staff: every event, filtered, with its registrations and check-ins."""
    return _event_list(organisation_id=None, endpoint="events.manage_list", export_endpoint="events.manage_export",
                       heading=_("Events"))


@blueprint.get("/manage/events/export.xlsx")
@requires("events.list")
def manage_export():
    """Staff: the event list with its filters as an Excel workbook."""
    return _event_export(organisation_id=None, name_prefix="events")


@blueprint.get("/manage/our-events")
@requires("events.mine")
def my_events():
    """A society: the events its organisation holds in any role."""
    return _event_list(organisation_id=_own_organisation_id(), endpoint="events.my_events",
                       export_endpoint="events.my_events_export", heading=_("Our events"))


@blueprint.get("/manage/our-events/export.xlsx")
@requires("events.mine")
def my_events_export():
    return _event_export(organisation_id=_own_organisation_id(), name_prefix="our-events")


# --- recording and editing an event ----------------------------------------------------------


@blueprint.route("/manage/events/new", methods=["GET", "POST"])
@requires("events.create")
def event_create():
    """Record an event as a draft; a society's own organisation is offered as its host."""
    data = None
    if current_user.organisation_id is not None:
        data = {"organisations": [{"organisation_id": str(current_user.organisation_id),
                                   "role": PastEventRole.HOST.value}]}
    form = EventForm(data=data, organisations=services.approved_organisations())
    created = []
    if submit(form, lambda: created.append(
            services.create_event(form.event_fields(), form.organisation_rows(), creator=current_user))):
        flash(_("Event recorded as a draft: add its programme, then publish it."), "success")
        return redirect(url_for(".event_manage", event_id=created[0].id))
    return render_template("events/manage/form.html", form=form, event=None), form_status(form)


@blueprint.route("/manage/events/<id:event_id>/edit", methods=["GET", "POST"])
@requires("events.edit", load=Event, arg="event_id")
def event_edit(event: Event):
    form = EventEditForm(data=EventEditForm.data_of(event), organisations=services.approved_organisations())

    def operation():
        services.update_event(event, form.event_fields())
        services.set_organisations(event, form.organisation_rows(), actor=current_user)

    if submit(form, operation, edits=event):
        flash(_("Changes saved."), "success")
        return redirect(url_for(".event_manage", event_id=event.id))
    return render_template("events/manage/form.html", form=form, event=event), form_status(form)


def _render_manage(event: Event, status: int = 200, **forms):
    """The management page of an event; ``forms`` are the ones to show with their errors."""
    can_edit = user_can(current_user, "events.edit", event)
    return render_template(
        "events/manage/detail.html",
        event=event,
        can_edit=can_edit,
        counts=registrations.counts([event.id])[event.id],
        transitions=EVENT.available(event, current_user),
        filing_transitions=FILING.available(event, current_user) if event.kind == EventKind.INTERNATIONAL else [],
        state_form=forms.get("state_form") or CommentForm(formdata=None),
        filing_form=forms.get("filing_form") or CommentForm(formdata=None, prefix="filing"),
        document_form=forms.get("document_form") or FilingDocumentForm(formdata=None),
        person_form=forms.get("person_form") or PersonForm(formdata=None),
        discipline_title=services.discipline_title(event.discipline),
        history=history(event),
    ), status


@blueprint.get("/manage/events/<id:event_id>")
@requires("events.run", load=Event, arg="event_id")
def event_manage(event: Event):
    """An event's management page: its record, programme, state, filing and history."""
    return _render_manage(event)


@blueprint.post(f"/manage/events/<id:event_id>/<any({EVENT_TRANSITIONS}):transition>")
@requires("events.edit", load=Event, arg="event_id")
def event_state(event: Event, transition: str):
    """Publish, take back, mark as held, cancel or reopen (the workflow says who may)."""
    form = CommentForm()
    if submit(form, lambda: services.change_state(event, transition, actor=current_user,
                                                  comment=form.comment.data)):
        flash(_("Done: %(step)s.", step=EVENT.transition(transition).title), "success")
        return redirect(url_for(".event_manage", event_id=event.id))
    return _render_manage(event, form_status(form), state_form=form)


# --- the programme ----------------------------------------------------------------------------


@blueprint.post("/manage/events/<id:event_id>/people")
@requires("events.edit", load=Event, arg="event_id")
def person_add(event: Event):
    form = PersonForm()
    if submit(form, lambda: services.add_person(event, form.person_fields())):
        flash(_("Added to the programme."), "success")
        return redirect(url_for(".event_manage", event_id=event.id, _anchor="programme"))
    return _render_manage(event, form_status(form), person_form=form)


@blueprint.route("/manage/events/<id:event_id>/people/<id:person_id>/edit", methods=["GET", "POST"])
@requires("events.edit", load=Event, arg="event_id")
def person_edit(event: Event, person_id: int):
    person = services.person_of(event, person_id)  # a person of another event is a 404
    form = PersonEditForm(obj=person)
    if submit(form, lambda: services.update_person(person, form.person_fields()), edits=person):
        flash(_("Changes saved."), "success")
        return redirect(url_for(".event_manage", event_id=event.id, _anchor="programme"))
    return render_template("events/manage/person.html", form=form, event=event, person=person), form_status(form)


@blueprint.post("/manage/events/<id:event_id>/people/<id:person_id>/remove")
@requires("events.edit", load=Event, arg="event_id")
def person_remove(event: Event, person_id: int):
    person = services.person_of(event, person_id)
    if submit(ConfirmForm(), lambda: services.remove_person(person)):
        flash(_("Removed from the programme."), "success")
        return redirect(url_for(".event_manage", event_id=event.id, _anchor="programme"))
    return _render_manage(event, 400)


# --- the international-conference filing ----------------------------------------------------


@blueprint.post("/manage/events/<id:event_id>/filing/document")
@requires("events.edit", load=Event, arg="event_id")
def filing_upload(event: Event):
    form = FilingDocumentForm()
    if submit(form, lambda: services.upload_filing_document(event, form.document.data)):
        flash(_("Approval document uploaded."), "success")
        return redirect(url_for(".event_manage", event_id=event.id, _anchor="filing"))
    return _render_manage(event, form_status(form), document_form=form)


@blueprint.get("/manage/events/<id:event_id>/filing/document")
@requires("events.edit", load=Event, arg="event_id")
def filing_document(event: Event):
    """The approval document, as an attachment, for those who may edit the event."""
    if not event.filing_document_path:
        abort(404)
    return send_upload(path=event.filing_document_path, download_name=event.filing_document_name)


@blueprint.post(f"/manage/events/<id:event_id>/filing/<any({FILING_TRANSITIONS}):transition>")
@requires("events.edit", load=Event, arg="event_id")
def filing_state(event: Event, transition: str):
    form = CommentForm(prefix="filing")
    if submit(form, lambda: services.change_filing(event, transition, actor=current_user,
                                                   comment=form.comment.data)):
        flash(_("Done: %(step)s.", step=FILING.transition(transition).title), "success")
        return redirect(url_for(".event_manage", event_id=event.id, _anchor="filing"))
    return _render_manage(event, form_status(form), filing_form=form)


# --- Academic Month editions -----------------------------------------------------------------


def _edition_fields(form: EditionForm) -> dict:
    return {name: form[name].data for name in ("number", "year", "starts_on", "ends_on")}


@blueprint.route("/manage/editions", methods=["GET", "POST"])
@requires("events.manage")
def editions():
    """Staff: the Academic Month editions, and a form to add one."""
    form = EditionForm()
    if submit(form, lambda: services.save_edition(_edition_fields(form))):
        flash(_("Edition added; events inside its dates now belong to it."), "success")
        return redirect(url_for(".editions"))
    return render_template("events/manage/editions.html", form=form, editions=services.editions()), form_status(form)


@blueprint.route("/manage/editions/<id:edition_id>/edit", methods=["GET", "POST"])
@requires("events.manage", load=AcademicMonthEdition, arg="edition_id")
def edition_edit(academic_month_edition: AcademicMonthEdition):
    edition = academic_month_edition
    form = EditionEditForm(obj=edition)
    if submit(form, lambda: services.save_edition(_edition_fields(form), edition), edits=edition):
        flash(_("Edition saved; events were reassigned to the editions holding their dates."), "success")
        return redirect(url_for(".editions"))
    return render_template("events/manage/edition_form.html", form=form, edition=edition), form_status(form)


# --- an event's registrations -------------------------------------------------------------


def _render_registrations(event: Event, status: int = 200, cancel_form: CommentForm | None = None):
    filter_form = RegistrationFilterForm(formdata=request.args)
    pagination = paginate(services.registration_query(event, **filter_form.filters()), REGISTRATIONS_PER_PAGE)
    return render_template(
        "events/manage/registrations.html", event=event, filter_form=filter_form, pagination=pagination,
        counts=registrations.counts([event.id])[event.id], cancel_form=cancel_form or CommentForm(formdata=None),
    ), status


@blueprint.get("/manage/events/<id:event_id>/registrations")
@requires("events.run", load=Event, arg="event_id")
def registrations_list(event: Event):
    """Who registered, in which state, and who was checked in; organisers may cancel one."""
    return _render_registrations(event)


@blueprint.get("/manage/events/<id:event_id>/registrations/export.xlsx")
@requires("events.run", load=Event, arg="event_id")
def registrations_export(event: Event):
    filter_form = RegistrationFilterForm(formdata=request.args)
    rows = db.session.scalars(services.registration_query(event, **filter_form.filters()).limit(EXPORT_MAX_ROWS))
    return xlsx_response(workbook_bytes(_l("Registrations"), services.REGISTRATION_EXPORT_COLUMNS, rows),
                         f"registrations-{event.id}")


@blueprint.post("/manage/events/<id:event_id>/registrations/<id:registration_id>/cancel")
@requires("events.run", load=Registration, arg="registration_id", within=("event_id", "event_id"))
def registration_cancel(registration: Registration):
    """An organiser cancels a registration, saying why (the place goes to the waiting list)."""
    event = registration.event
    form = CommentForm()
    if submit(form, lambda: registrations.cancel(registration, by_organiser=current_user,
                                                 comment=form.comment.data)):
        flash(_("The registration of %(name)s is cancelled.", name=registration.name), "success")
        return redirect(url_for(".registrations_list", event_id=event.id))
    return _render_registrations(event, form_status(form), cancel_form=form)


# --- check-in -------------------------------------------------------------------------------


def _counts_json(event: Event) -> dict:
    found = registrations.counts([event.id])[event.id]
    return {"confirmed": found.confirmed, "waitlisted": found.waitlisted, "checked_in": found.checked_in}


def _render_checkin(event: Event, status: int = 200, confirm_form: ConfirmForm | None = None, search: str = ""):
    return render_template(
        "events/manage/checkin.html", event=event, search_form=CheckInSearchForm(formdata=None, q=search),
        found=checkins.find_registrations(event, search), searched=bool(search), counts=_counts_json(event),
        confirm_form=confirm_form or ConfirmForm(formdata=None),
    ), status


@blueprint.get("/manage/events/<id:event_id>/check-in")
@requires("events.run", load=Event, arg="event_id")
def checkin_page(event: Event):
    """The entrance: scan QR codes with the phone's camera, or find someone and check them in."""
    search_form = CheckInSearchForm(formdata=request.args)
    return _render_checkin(event, search=(search_form.q.data or "") if search_form.validate() else "")


@blueprint.post("/manage/events/<id:event_id>/check-in")
@requires("events.run", load=Event, arg="event_id")
def checkin_submit(event: Event):
    """Check someone in from the search results (the page without JavaScript)."""
    form = ConfirmForm()
    code, search = request.form.get("code", ""), request.form.get("q", "")[:100]
    results = []
    if not submit(form, lambda: results.append(checkins.check_in(
            checkins.registration_by_code(code), actor=current_user, method=CheckInMethod.SEARCH, event=event))):
        return _render_checkin(event, form_status(form), confirm_form=form, search=search)
    result = results[0]
    if result.status == "checked_in":
        flash(_("%(name)s is checked in.", name=result.registration.name), "success")
    else:
        flash(_("%(name)s was already checked in.", name=result.registration.name), "info")
    return redirect(url_for(".checkin_page", event_id=event.id, q=search or None))


@blueprint.post("/manage/events/<id:event_id>/check-in.json")
@requires("events.run", load=Event, arg="event_id")
def checkin_json(event: Event):
    """The check-in page's scanner and buttons: ``{"code": ...}`` in, the result and counts out;
    a refusal is a 4xx with a message in the reader's language."""
    payload = request.get_json(silent=True)
    payload = payload if isinstance(payload, dict) else {}
    code = payload.get("code")
    method = CheckInMethod.SEARCH if payload.get("method") == "search" else CheckInMethod.SCAN
    if not isinstance(code, str) or not code.strip():
        return jsonify(error=_("Scan a QR code or type a registration code.")), 400
    try:
        result = checkins.check_in(checkins.registration_by_code(code), actor=current_user, method=method,
                                   event=event)
    except ServiceError as error:
        db.session.rollback()
        return jsonify(error=str(error.message), **_counts_json(event)), error.status
    registration = result.registration
    if result.status == "checked_in":
        message = _("%(name)s is checked in.", name=registration.name)
    else:
        message = _("%(name)s was already checked in.", name=registration.name)
    return jsonify(status=result.status, message=message, name=registration.name,
                   organisation=registration.organisation or "", code=registration.code, **_counts_json(event))


@blueprint.get("/manage/events/<id:event_id>/check-in/counts.json")
@requires("events.run", load=Event, arg="event_id")
def checkin_counts(event: Event):
    """The live counter of the check-in page: confirmed, waiting list, checked in."""
    return jsonify(**_counts_json(event))
