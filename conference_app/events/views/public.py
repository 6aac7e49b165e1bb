"""Pages anyone may open, no login: the Academic Month calendar (list, week and month views,
filters and search), an event's page with its registration form, iCalendar files of an
event and of an edition, and the registrant's own page (QR code, cancel)."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from conference_app.audit.services import client_ip
from conference_app.core.cache import public_pages
from conference_app.core.db import paginate
from conference_app.core.forms import filter_args, form_status, submit
from conference_app.core.i18n import select_locale
from conference_app.core.permissions import public
from conference_app.core.timeutil import beijing_today
from conference_app.events.forms.common import ConfirmForm
from conference_app.events.forms.public import (
    CALENDAR_VIEWS,
    CalendarFilterForm,
    EventRegistrationForm,
)
from conference_app.events.models import Event, RegistrationStatus
from conference_app.events.services import calendar, ical, registrations
from conference_app.events.services.events import current_edition, discipline_choices
from conference_app.events.views import blueprint
from conference_app.extensions import rate_limit

PER_PAGE = 20
# How many events a day of the week and month grids shows before "n more" (links to the day's list).
DAY_PREVIEW = {"week": 8, "month": 3}


def _reads_chinese() -> bool:
    return get_locale().language == "zh"


def _scope_choices(editions) -> list[tuple[str, str]]:
    choices = [(str(edition.number), _("Edition %(number)d (%(year)d)", number=edition.number, year=edition.year))
               for edition in editions]
    return choices + [(calendar.UPCOMING, _("Upcoming events")), (calendar.EVERYTHING, _("All events"))]


def _discipline_names(disciplines) -> dict[str, str]:
    chinese = _reads_chinese()
    return {key: name_zh if chinese else name_en for key, name_zh, name_en in disciplines}


@blueprint.get("/academic-month/organisations.json")
@public
def organisation_names():
    """The names of the organisations holding public events: suggestions for the calendar's
    organisation filter, fetched once the field is used (cached by the browser)."""
    chinese = _reads_chinese()
    names = [name_en if name_en and not chinese else name_zh
             for _id, name_zh, name_en in calendar.organisations_with_public_events()]
    response = jsonify({"names": names})
    response.headers["Cache-Control"] = "public, max-age=600"
    return response


@blueprint.get("/academic-month/", endpoint="calendar")
@public
def academic_month():
    """The Academic Month calendar: the current edition by default, other editions or the
    upcoming events on demand; as a paged list, a week or a month."""
    editions, disciplines = calendar.editions(), discipline_choices()
    form = CalendarFilterForm(formdata=request.args)
    form.offer(_scope_choices(editions), disciplines, chinese=_reads_chinese())
    values = form.cleaned()
    scope = calendar.resolve_scope(values["edition"], editions)
    if not values["edition"]:
        form.edition.data = scope.value  # the select shows what "" stands for
    filters = calendar.CalendarFilters(
        scope=scope, discipline=values["discipline"], kind=values["kind"], district=values["district"],
        organisation=values["organisation"],
        date_from=values["date_from"], date_to=values["date_to"], search=values["q"],
    )
    view = values["view"] or "list"
    today = beijing_today()
    context = {"form": form, "scope": scope, "view": view, "views": CALENDAR_VIEWS, "today": today}
    if view != "list":
        anchor = values["day"] or scope.first_day(today)
        context["first"], context["last"] = calendar.week_of(anchor) if view == "week" else calendar.month_of(anchor)
    # The list or grid is the same for every visitor: rendered once for a few seconds.
    key = ("calendar", str(get_locale()), today, tuple(sorted(filter_args(form).items())), view,
           context.get("first"), request.args.get("page"))
    body = public_pages.get_or_make(key, lambda: Markup(render_template(
        "events/public/_calendar_body.html", **_calendar_body(context, filters, disciplines))))
    return render_template("events/public/calendar.html", body=body, **context)


def _calendar_body(context: dict, filters: calendar.CalendarFilters, disciplines) -> dict:
    """What the calendar's list or grid needs from the database, with the page's context."""
    body = dict(context, args=filter_args(context["form"]), disciplines=_discipline_names(disciplines))
    view = context["view"]
    if view == "list":
        pagination = paginate(calendar.calendar_query(filters), PER_PAGE)
        return body | {"pagination": pagination,
                       "counts": registrations.counts([event.id for event in pagination.items])}
    first, last = context["first"], context["last"]
    weeks = calendar.grid(filters, first, last, whole_weeks=view == "month")
    return body | {
        "weeks": weeks,
        "period_is_empty": not any(cell.events for week in weeks for cell in week),
        "previous": first - timedelta(days=7) if view == "week" else (first - timedelta(days=1)).replace(day=1),
        "following": last + timedelta(days=1),
        "preview": DAY_PREVIEW[view],
    }


def _public_event_or_404(event_id: int) -> Event:
    event = calendar.public_event(event_id)
    if event is None:  # drafts are nobody's business but their organisers'
        abort(404)
    return event


def _render_event(event: Event, form: EventRegistrationForm | None = None, status: int = 200):
    counts = registrations.counts([event.id])[event.id]
    return render_template(
        "events/public/event.html",
        event=event,
        counts=counts,
        places_left=None if event.capacity is None else max(0, event.capacity - counts.confirmed),
        closed_reason=registrations.registration_closed(event),
        form=form or EventRegistrationForm(formdata=None),
        disciplines=_discipline_names(discipline_choices()),
    ), status


@blueprint.get("/events/<id:event_id>", endpoint="event_page")
@public
def event_page(event_id: int):
    """Everything a visitor needs to know about an event, and its registration form."""
    return _render_event(_public_event_or_404(event_id))


@blueprint.post("/events/<id:event_id>/register", endpoint="register")
@rate_limit("EVENT_REGISTRATION_RATE_LIMIT")
@public
def register(event_id: int):
    """Register for an event; the registrant lands on their own page with the QR code."""
    event = _public_event_or_404(event_id)
    form = EventRegistrationForm()
    created = []

    def operation():
        created.append(registrations.register(event, form.registrant_fields(), locale=select_locale(),
                                              ip_address=client_ip()))

    if not submit(form, operation):
        # The refusal rolled everything back: show the event as it is now, with the message.
        return _render_event(_public_event_or_404(event_id), form, form_status(form))
    registration = created[0]
    if registration.status == RegistrationStatus.CONFIRMED:
        flash(_("You are registered and your place is confirmed. Show the QR code below at the entrance."), "success")
    else:
        flash(_("The event is full: you are on the waiting list. This page shows your place as soon as one frees up."),
              "warning")
    return redirect(url_for(".registration", token=registrations.registration_token(registration)))


def _ics_response(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blueprint.get("/events/<id:event_id>.ics", endpoint="event_ics")
@public
def event_ics(event_id: int):
    """The event as an iCalendar file, to add to one's own calendar."""
    event = _public_event_or_404(event_id)
    return _ics_response(ical.calendar_bytes([event], event.title_zh), f"event-{event.id}.ics")


@blueprint.get("/academic-month/calendar.ics", endpoint="edition_ics")
@public
def edition_ics():
    """Every public event of the current edition (or of ``edition=<number>``) as one iCalendar file."""
    number = request.args.get("edition", "")
    if number:
        edition = next((e for e in calendar.editions() if str(e.number) == number), None)
    else:
        edition = current_edition()
    if edition is None:
        abort(404)
    name = _("Beijing S&T Exchange Academic Month, edition %(number)d", number=edition.number)
    return _ics_response(ical.calendar_bytes(calendar.edition_events(edition), name),
                         f"academic-month-{edition.number}.ics")


@blueprint.route("/registrations/<token>", methods=["GET", "POST"])
@public
def registration(token: str):
    """A registrant's page: the code and its QR image to show at the entrance, and a way to cancel."""
    found = registrations.registration_for_token(token)  # a wrong link is a 404 page
    form = ConfirmForm()
    if found.status != RegistrationStatus.CANCELLED and submit(form, lambda: registrations.cancel(found)):
        flash(_("Your registration is cancelled."), "info")
        return redirect(url_for(".registration", token=token))
    return render_template(
        "events/public/registration.html",
        registration=found,
        event=found.event,
        qr_svg=registrations.qr_svg(found.code) if found.status == RegistrationStatus.CONFIRMED else None,
        form=form,
    ), form_status(form)
