"""Brand salon series (list, start and edit, topic proposals and the committee's decisions,
sessions, the public series page and its .ics) and attendance (the import of attendance
checked in elsewhere, the statistics with their charts and exports)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from conference_app.audit.services import history
from conference_app.core.cache import public_pages
from conference_app.core.db import paginate
from conference_app.core.excel import xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import public, requires, user_can
from conference_app.core.timeutil import beijing_today
from conference_app.core.uploads import send_upload
from conference_app.events.forms.series import (
    AttendanceFilterForm,
    AttendanceImportForm,
    ReconsiderForm,
    SeriesEditForm,
    SeriesFilterForm,
    SeriesForm,
    SessionForm,
    StaffSeriesForm,
    TopicDecisionForm,
    TopicProposalForm,
)
from conference_app.events.models import (
    AcademicMonthEdition,
    Event,
    SalonSeries,
    TopicProposal,
    TopicStatus,
)
from conference_app.events.services import attendance, ical
from conference_app.events.services import series as series_services
from conference_app.events.views import blueprint
from conference_app.extensions import db
from conference_app.organisations.models import Organisation, OrganisationStatus

PER_PAGE = 20
ATTENDANCE_PER_PAGE = 50
TOP_ORGANISATIONS = 20
STATISTICS_BREAKDOWNS = "any(events, days, kinds, districts, editions, organisations)"


# --- the series list, starting and editing a series ---------------------------------------------


@blueprint.get("/series/")
@public
def series_list():
    """Staff: every series; a society's user: its own; anyone else: the series with public sessions."""
    filter_form = SeriesFilterForm(formdata=request.args)
    pagination = paginate(series_services.series_query(current_user, **filter_form.filters()), PER_PAGE)
    return render_template(
        "events/series/list.html", filter_form=filter_form, pagination=pagination,
        progress=series_services.progress(pagination.items),
        may_create=user_can(current_user, "events.series_create"),
        may_export=user_can(current_user, "events.series_create"),
    )


@blueprint.get("/series/export.xlsx")
@requires("events.series_create")
def series_export():
    """The series the user lists, with their progress, as an Excel workbook (the list's filters)."""
    filter_form = SeriesFilterForm(formdata=request.args)
    query = series_services.series_query(current_user, **filter_form.filters())
    return xlsx_response(series_services.series_workbook(query), "salon-series")


def _organisation_choices(empty_label: str) -> list[SelectChoice]:
    """The approved organisations, after an empty choice labelled ``empty_label``."""
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name_zh).where(Organisation.status == OrganisationStatus.APPROVED)
        .order_by(Organisation.name_zh))
    return [SelectChoice("", empty_label)] + [SelectChoice(i, name) for i, name in organisations]


@blueprint.route("/series/new", methods=["GET", "POST"])
@requires("events.series_create")
def series_create():
    """Start a salon series: staff for any organisation, a society's user for its own."""
    if user_can(current_user, "events.manage"):
        form = StaffSeriesForm()
        form.organisation_id.choices = _organisation_choices(_("Choose an organisation"))
    else:
        form = SeriesForm()
    created = []

    def operation():
        organisation_id = form.organisation_id.data if isinstance(form, StaffSeriesForm) else None
        created.append(series_services.create_series(form.series_fields(), creator=current_user,
                                                     organisation_id=organisation_id))

    if submit(form, operation):
        flash(_("Salon series started. Members can now propose topics."), "success")
        return redirect(url_for(".series_page", series_id=created[0].id))
    return render_template("events/series/form.html", form=form, series=None), form_status(form)


@blueprint.route("/series/<id:series_id>/edit", methods=["GET", "POST"])
@requires("events.series_edit", load=SalonSeries, arg="series_id")
def series_edit(salon_series: SalonSeries):
    form = SeriesEditForm(obj=salon_series)
    if submit(form, lambda: series_services.update_series(salon_series, form.series_fields()), edits=salon_series):
        flash(_("Changes saved."), "success")
        return redirect(url_for(".series_page", series_id=salon_series.id))
    return render_template("events/series/form.html", form=form, series=salon_series), form_status(form)


# --- the series page and its calendar ---------------------------------------------------------------


def _decision_form(proposal: TopicProposal, formdata=None) -> TopicDecisionForm:
    form = TopicDecisionForm(formdata=formdata, prefix=f"p{proposal.id}")
    form.decided_by.choices = [SelectChoice(name, name) for name in series_services.committee_members(proposal.series)]
    return form


def _render_series_page(salon_series: SalonSeries, status: int = 200, **forms):
    """The series page; ``forms`` carries a refused form back with its errors. Visitors who
    do not run the series all see the same page: its body is rendered once for a few seconds."""
    manage = user_can(current_user, "events.series_edit", salon_series)
    if manage:
        body, has_chart = _series_body(salon_series, manage=True, forms=forms)
    else:
        key = ("series", salon_series.id, str(get_locale()), beijing_today())
        body, has_chart = public_pages.get_or_make(key, lambda: _series_body(salon_series, manage=False, forms={}))
    return render_template("events/series/page.html", series=salon_series, body=body, has_chart=has_chart), status


def _series_body(salon_series: SalonSeries, *, manage: bool, forms: dict) -> tuple[Markup, bool]:
    """The rendered body of a series page, and whether it draws a chart."""
    content = series_services.series_page(salon_series, manage=manage)
    decision_forms, reconsider_forms = {}, {}
    if manage:
        for proposal in content.proposals:
            if proposal.status == TopicStatus.PROPOSED:
                decision_forms[proposal.id] = forms.get(f"decision_{proposal.id}") or _decision_form(proposal)
            else:
                reconsider_forms[proposal.id] = (forms.get(f"reconsider_{proposal.id}")
                                                 or ReconsiderForm(formdata=None, prefix=f"r{proposal.id}"))
    body = render_template(
        "events/series/_body.html", series=salon_series, page=content, manage=manage,
        proposal_form=forms.get("proposal_form") or TopicProposalForm(formdata=None),
        decision_forms=decision_forms, reconsider_forms=reconsider_forms,
        history=history(salon_series) if manage else [],
    )
    return Markup(body), bool(content.chart["labels"])


@blueprint.get("/series/<id:series_id>")
@public
def series_page(series_id: int):
    """A series: its sessions (topic, initiator, discussants, date, person-times), progress toward
    the year's targets, the topic-selection record; and, for those who run it, its management."""
    return _render_series_page(db.get_or_404(SalonSeries, series_id))


@blueprint.get("/series/<id:series_id>.ics")
@public
def series_ics(series_id: int):
    """The published and held sessions of a series as an iCalendar file."""
    salon_series = db.get_or_404(SalonSeries, series_id)
    data = ical.calendar_bytes(series_services.public_sessions(salon_series), salon_series.title_zh)
    return data, 200, {"Content-Type": "text/calendar; charset=utf-8",
                       "Content-Disposition": f"attachment; filename=series-{salon_series.id}.ics"}


@blueprint.post("/series/<id:series_id>/proposals")
@requires("events.series_edit", load=SalonSeries, arg="series_id")
def topic_propose(salon_series: SalonSeries):
    form = TopicProposalForm()
    if submit(form, lambda: series_services.propose_topic(salon_series, form.data, proposer=current_user)):
        flash(_("Topic proposed; the committee will decide on it."), "success")
        return redirect(url_for(".series_page", series_id=salon_series.id, _anchor="topics"))
    return _render_series_page(salon_series, form_status(form), proposal_form=form)


@blueprint.post("/series/<id:series_id>/proposals/<id:proposal_id>/decision")
@requires("events.series_edit", load=TopicProposal, arg="proposal_id", within=("series_id", "series_id"))
def topic_decide(topic_proposal: TopicProposal):
    form = _decision_form(topic_proposal, request.form)

    def operation():
        series_services.decide_topic(topic_proposal, form.decision.data, actor=current_user,
                                     decided_by=form.decided_by.data, note=form.note.data)

    if submit(form, operation):
        flash(_("The committee's decision is recorded."), "success")
        return redirect(url_for(".series_page", series_id=topic_proposal.series_id, _anchor="topics"))
    return _render_series_page(topic_proposal.series, form_status(form), **{f"decision_{topic_proposal.id}": form})


@blueprint.post("/series/<id:series_id>/proposals/<id:proposal_id>/reconsider")
@requires("events.series_edit", load=TopicProposal, arg="proposal_id", within=("series_id", "series_id"))
def topic_reconsider(topic_proposal: TopicProposal):
    form = ReconsiderForm(prefix=f"r{topic_proposal.id}")
    if submit(form, lambda: series_services.reconsider_topic(topic_proposal, actor=current_user,
                                                             comment=form.comment.data)):
        flash(_("The decision is reopened; the topic is proposed again."), "info")
        return redirect(url_for(".series_page", series_id=topic_proposal.series_id, _anchor="topics"))
    return _render_series_page(topic_proposal.series, form_status(form), **{f"reconsider_{topic_proposal.id}": form})


@blueprint.route("/series/<id:series_id>/sessions/new", methods=["GET", "POST"])
@requires("events.series_edit", load=SalonSeries, arg="series_id")
def session_create(salon_series: SalonSeries):
    """Add a session on a chosen topic, with its initiator and main discussants."""
    form = SessionForm()
    topics = series_services.chosen_topics(salon_series)
    form.topic_id.choices = [SelectChoice("", _("Choose a topic"))] + [SelectChoice(t.id, t.title) for t in topics]

    def operation():
        series_services.add_session(
            salon_series, form.event_fields(), creator=current_user, initiator=form.initiator(),
            discussants=series_services.people_from_lines(form.discussants.data), publish=form.publish.data)

    if submit(form, operation):
        flash(_("Session added to the series."), "success")
        return redirect(url_for(".series_page", series_id=salon_series.id, _anchor="sessions"))
    return render_template("events/series/session_form.html", form=form, series=salon_series,
                           topics=topics), form_status(form)


# --- attendance of one event: import, list, files ---------------------------------------------------


def _render_attendance(event: Event, form: AttendanceImportForm, problems=(), status: int = 200):
    pagination = paginate(attendance.attendance_query(event), ATTENDANCE_PER_PAGE)
    return render_template(
        "events/attendance/import.html", event=event, form=form, problems=problems, pagination=pagination,
        imports=attendance.imports_of(event), closed=attendance.import_closed(event),
        person_times=attendance.event_person_times([event.id]).get(event.id, attendance.PersonTimes()),
        max_rows=attendance.IMPORT_MAX_ROWS, max_megabytes=attendance.IMPORT_MAX_BYTES // (1024 * 1024),
    ), status


@blueprint.route("/manage/events/<id:event_id>/attendance", methods=["GET", "POST"])
@requires("events.run", load=Event, arg="event_id")
def attendance_import(event: Event):
    """An event's attendance, and the import of attendance checked in elsewhere (an Excel file)."""
    form = AttendanceImportForm()
    problems, imported = [], []

    def operation():
        try:
            imported.append(attendance.import_attendance(event, form.file.data, actor=current_user))
        except attendance.AttendanceRefused as refused:
            problems.extend(refused.problems)  # shown beside the refusal; submit rolls everything back
            raise

    if submit(form, operation):
        flash(_("%(count)d attendance rows imported.", count=imported[0].rows), "success")
        return redirect(url_for(".attendance_import", event_id=event.id))
    return _render_attendance(event, form, problems, form_status(form))


@blueprint.get("/manage/events/<id:event_id>/attendance/template.xlsx")
@requires("events.run", load=Event, arg="event_id")
def attendance_template(event: Event):
    return xlsx_response(attendance.template_bytes(), f"attendance-template-{event.id}")


@blueprint.get("/manage/events/<id:event_id>/attendance/export.xlsx")
@requires("events.run", load=Event, arg="event_id")
def attendance_export(event: Event):
    return xlsx_response(attendance.attendance_bytes(event), f"attendance-{event.id}")


@blueprint.get("/manage/events/<id:event_id>/attendance/files/<id:entry_id>")
@requires("events.run", load=Event, arg="event_id")
def attendance_file(event: Event, entry_id: int):
    """A file imported for the event, as it was uploaded (the evidence of imported attendance)."""
    path, name = attendance.imported_file(event, entry_id)
    return send_upload(path=path, download_name=name,
                       mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- attendance statistics ----------------------------------------------------------------------------


def _statistics_scope() -> tuple[AttendanceFilterForm, attendance.AttendanceFilter]:
    form = AttendanceFilterForm(formdata=request.args)
    editions = db.session.scalars(select(AcademicMonthEdition).order_by(AcademicMonthEdition.number.desc()))
    form.edition.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(e.id, _("Academic Month %(number)d (%(year)d)", number=e.number, year=e.year)) for e in editions]
    if user_can(current_user, "events.statistics"):
        form.organisation.choices = _organisation_choices(_("All"))
    else:
        del form.organisation  # a society sees its own organisation's events only
    return form, attendance.statistics_filter(current_user, **form.filters())  # a ServiceError is its error page


@blueprint.get("/statistics/attendance")
@requires("events.run")
def statistics():
    """Person-times per event, organisation and edition, with charts by day, kind and district:
    staff over every event, a society over the events its organisation holds."""
    form, scope = _statistics_scope()
    pagination = paginate(attendance.events_query(scope), PER_PAGE)
    return render_template(
        "events/attendance/statistics.html", filter_form=form, totals=attendance.totals(scope),
        days=attendance.by_day(scope), kinds=attendance.by_kind(scope), districts=attendance.by_district(scope),
        editions=attendance.by_edition(scope),
        organisations=attendance.by_organisation(scope, limit=TOP_ORGANISATIONS), top_organisations=TOP_ORGANISATIONS,
        pagination=pagination, event_times=attendance.event_person_times(event.id for event in pagination.items),
        chart=attendance.chart_data,
    )


@blueprint.get(f"/statistics/attendance/<{STATISTICS_BREAKDOWNS}:breakdown>.xlsx")
@requires("events.run")
def statistics_export(breakdown: str):
    """One table of the statistics page, with its filters, as an Excel workbook."""
    _form, scope = _statistics_scope()
    return xlsx_response(attendance.export_bytes(scope, breakdown), f"attendance-{breakdown}")

