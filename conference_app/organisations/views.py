"""Organisation pages: staff list and review, each organisation's page, self-registration
and the correction of a rejected registration."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from conference_app.accounts.models import User
from conference_app.accounts.views import REFUSED_LOGIN_HANDLERS
from conference_app.audit.services import client_ip, history
from conference_app.core.db import paginate
from conference_app.core.excel import workbook_bytes, xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import public, requires, user_can
from conference_app.extensions import db, rate_limit
from conference_app.organisations import services
from conference_app.organisations.forms import (
    ConfirmForm,
    OrganisationFilterForm,
    PastEventForm,
    RegistrationForm,
    ResubmissionForm,
    ReviewForm,
    SocietyOrganisationForm,
    StaffOrganisationEditForm,
    StaffOrganisationForm,
)
from conference_app.organisations.models import Organisation, OrganisationStatus, PastEvent
from conference_app.organisations.workflow import ORGANISATION

blueprint = Blueprint("organisations", __name__)

PER_PAGE = 20
EXPORT_MAX_ROWS = 100_000


def _render_detail(organisation: Organisation, status: int = 200, **forms):
    can_edit = user_can(current_user, "organisations.edit", organisation)
    can_review = user_can(current_user, "organisations.review", organisation)
    return (
        render_template(
            "organisations/detail.html",
            organisation=organisation,
            can_edit=can_edit,
            can_review=can_review,
            transitions=ORGANISATION.available(organisation, current_user),
            event_form=forms.get("event_form") or PastEventForm(formdata=None),
            review_form=forms.get("review_form") or ReviewForm(formdata=None),
            history=history(organisation) if can_review else [],
        ),
        status,
    )


@blueprint.get("/organisations/")
@requires("organisations.list")
def index():
    """Staff: every organisation, filtered and paged."""
    filter_form = OrganisationFilterForm(formdata=request.args)
    pagination = paginate(services.organisation_query(**filter_form.filters()), PER_PAGE)
    pending_count = services.count_organisations(OrganisationStatus.PENDING)
    return render_template(
        "organisations/index.html", filter_form=filter_form, pagination=pagination, pending_count=pending_count
    )


@blueprint.get("/organisations/export.xlsx")
@requires("organisations.list")
def export():
    """The organisation list, with its filters, as an Excel workbook."""
    filter_form = OrganisationFilterForm(formdata=request.args)
    rows = db.session.scalars(services.organisation_query(**filter_form.filters()).limit(EXPORT_MAX_ROWS))
    return xlsx_response(workbook_bytes(_l("Organisations"), services.EXPORT_COLUMNS, rows), "organisations")


@blueprint.route("/organisations/new", methods=["GET", "POST"])
@requires("organisations.create")
def create():
    form = StaffOrganisationForm()
    created = []
    if submit(form, lambda: created.append(services.create_organisation(form.organisation_fields()))):
        flash(_("Organisation added."), "success")
        return redirect(url_for(".detail", org_id=created[0].id))
    return render_template("organisations/form.html", form=form, organisation=None), form_status(form)


@blueprint.get("/organisations/mine")
@requires("organisations.own")
def mine():
    """A society user's own organisation."""
    if current_user.organisation_id is None:
        abort(404)
    return redirect(url_for(".detail", org_id=current_user.organisation_id))


@blueprint.get("/organisations/<id:org_id>")
@requires("organisations.view", load=Organisation, arg="org_id")
def detail(organisation: Organisation):
    return _render_detail(organisation)


@blueprint.route("/organisations/<id:org_id>/edit", methods=["GET", "POST"])
@requires("organisations.edit", load=Organisation, arg="org_id")
def edit(organisation: Organisation):
    """Staff edit every field; a society's administrator only its contacts."""
    if user_can(current_user, "organisations.edit_all", organisation):
        form, allowed = StaffOrganisationEditForm(obj=organisation), services.ORGANISATION_FIELDS
    else:
        form, allowed = SocietyOrganisationForm(obj=organisation), services.SOCIETY_EDITABLE_FIELDS
    if submit(form, lambda: services.update_organisation(organisation, form.organisation_fields(), allowed),
              edits=organisation):
        flash(_("Changes saved."), "success")
        return redirect(url_for(".detail", org_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=organisation), form_status(form)


def _review(organisation: Organisation, decide, done_message):
    """Run a staff decision (``decide(organisation, reviewer, comment)``) from the review form."""
    form = ReviewForm()
    if submit(form, lambda: decide(organisation, current_user, form.comment.data)):
        flash(done_message % {"name": organisation.name_zh}, "success")
        return redirect(url_for(".detail", org_id=organisation.id))
    return _render_detail(organisation, form_status(form), review_form=form)


@blueprint.post("/organisations/<id:org_id>/approve")
@requires("organisations.review", load=Organisation, arg="org_id")
def approve(organisation: Organisation):
    return _review(organisation, services.approve_organisation, _l("%(name)s approved; its users can now log in."))


@blueprint.post("/organisations/<id:org_id>/reject")
@requires("organisations.review", load=Organisation, arg="org_id")
def reject(organisation: Organisation):
    return _review(organisation, services.reject_organisation, _l("%(name)s rejected."))


@blueprint.post("/organisations/<id:org_id>/events")
@requires("organisations.edit", load=Organisation, arg="org_id")
def add_event(organisation: Organisation):
    form = PastEventForm()

    def operation():
        services.add_past_event(
            organisation,
            year=form.year.data,
            kind=form.kind.data,
            title=form.title.data,
            role=form.role.data,
            held_in_beijing=form.held_in_beijing.data,
        )

    if submit(form, operation):
        flash(_("Past event added."), "success")
        return redirect(url_for(".detail", org_id=organisation.id, _anchor="past-events"))
    return _render_detail(organisation, form_status(form), event_form=form)


@blueprint.post("/organisations/<id:org_id>/events/<id:event_id>/delete")
@requires("organisations.edit", load=PastEvent, arg="event_id", within=("org_id", "organisation_id"))
def delete_event(past_event: PastEvent):
    organisation = past_event.organisation
    if submit(ConfirmForm(), lambda: services.remove_past_event(past_event)):
        flash(_("Past event removed."), "success")
        return redirect(url_for(".detail", org_id=organisation.id, _anchor="past-events"))
    return _render_detail(organisation, 400)


# --- the public side: registering, and correcting a rejected registration ----------------


@blueprint.route("/register", methods=["GET", "POST"])
@public
@rate_limit("REGISTRATION_RATE_LIMIT")
def register_society():
    """A society registers itself and its first user; staff approve it later."""
    form = RegistrationForm()

    def operation():
        services.register_society(
            form.organisation_fields(),
            user_name=form.user_name.data,
            email=form.email.data,
            password=form.password.data,
            ip_address=client_ip(),
        )

    if submit(form, operation):
        return redirect(url_for(".register_done"))
    return render_template("organisations/register.html", form=form), form_status(form)


@blueprint.get("/register/done")
@public
def register_done():
    return render_template("organisations/register_done.html")


def _resubmission_link(user: User) -> str | None:
    """After a right password: a rejected applicant goes to the correction form."""
    if services.may_resubmit(user):
        return url_for("organisations.resubmit", token=services.resubmission_token(user))
    return None


REFUSED_LOGIN_HANDLERS.append(_resubmission_link)


@blueprint.route("/register/resubmit/<token>", methods=["GET", "POST"])
@public
def resubmit(token: str):
    """The applicant corrects a rejected registration and sends it back for review.

    Public, because the applicant's account waits for approval and has no session; the
    token comes from a login with the right password and is spent by the resubmission.
    """
    applicant = services.applicant_for_resubmission(token)  # a ServiceError is a 400 page
    organisation = applicant.organisation
    form = ResubmissionForm(obj=organisation)
    if submit(form, lambda: services.resubmit_registration(applicant, form.organisation_fields(), form.comment.data),
              edits=organisation):
        return redirect(url_for(".register_done", resubmitted=1))
    return render_template("organisations/resubmit.html", form=form, organisation=organisation), form_status(form)
