"""Organisation pages: staff list and review, each organisation's page, self-registration."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from conference_app.audit.services import action_title
from conference_app.core.db import paginate
from conference_app.core.forms import form_status, submit
from conference_app.core.layout import register_nav_item
from conference_app.core.permissions import (
    Role,
    ensure_can,
    public,
    register,
    requires,
    same_organisation,
    same_organisation_admin,
    user_can,
)
from conference_app.extensions import db
from conference_app.organisations import services
from conference_app.organisations.forms import (
    ConfirmForm,
    OrganisationFilterForm,
    PastEventForm,
    RegistrationForm,
    ReviewForm,
    SocietyOrganisationForm,
    StaffOrganisationForm,
)
from conference_app.organisations.models import Organisation, OrganisationStatus, PastEvent

blueprint = Blueprint("organisations", __name__)

PER_PAGE = 20

register("organisations.list", _l("List all organisations"), {Role.STAFF})
register("organisations.create", _l("Add organisations"), {Role.STAFF})
register("organisations.review", _l("Approve or reject registrations"), {Role.STAFF})
# Not a route: decides which edit form a user gets (identity and BAST-verified facts).
register("organisations.edit_all", _l("Edit every field of an organisation"), {Role.STAFF})
register(
    "organisations.view",
    _l("View an organisation"),
    {Role.STAFF},
    owner_roles={Role.SOCIETY},
    owner_check=same_organisation,
)
register("organisations.own", _l("Open one's own organisation"), {Role.SOCIETY})
register(
    "organisations.edit",
    _l("Edit an organisation and its past events"),
    {Role.STAFF},
    owner_roles={Role.SOCIETY},
    owner_check=same_organisation_admin,
)
register_nav_item(_l("Organisations"), "organisations.index", "organisations.list", order=20)
register_nav_item(_l("My organisation"), "organisations.mine", "organisations.own", order=20)


def _organisation(org_id: int, permission: str) -> Organisation:
    organisation = db.get_or_404(Organisation, org_id)
    ensure_can(permission, organisation)
    return organisation


def _render_detail(organisation: Organisation, status: int = 200, **forms):
    can_edit = user_can(current_user, "organisations.edit", organisation)
    can_review = user_can(current_user, "organisations.review", organisation)
    return (
        render_template(
            "organisations/detail.html",
            organisation=organisation,
            can_edit=can_edit,
            can_review=can_review,
            event_form=forms.get("event_form") or PastEventForm(formdata=None),
            review_form=forms.get("review_form") or ReviewForm(formdata=None),
            history=services.review_history(organisation) if can_review else [],
            action_title=action_title,
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


@blueprint.route("/organisations/new", methods=["GET", "POST"])
@requires("organisations.create")
def create():
    form = StaffOrganisationForm()
    organisation = None

    def operation():
        nonlocal organisation
        organisation = services.create_organisation(form.organisation_fields())

    if submit(form, operation):
        db.session.commit()
        flash(_("Organisation added."), "success")
        return redirect(url_for(".detail", org_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=None), form_status(form)


@blueprint.get("/organisations/mine")
@requires("organisations.own")
def mine():
    """A society user's own organisation."""
    if current_user.organisation_id is None:
        abort(404)
    return redirect(url_for(".detail", org_id=current_user.organisation_id))


@blueprint.get("/organisations/<id:org_id>")
@requires("organisations.view")
def detail(org_id: int):
    return _render_detail(_organisation(org_id, "organisations.view"))


@blueprint.route("/organisations/<id:org_id>/edit", methods=["GET", "POST"])
@requires("organisations.edit")
def edit(org_id: int):
    """Staff edit every field; a society's administrator only its contacts."""
    organisation = _organisation(org_id, "organisations.edit")
    if user_can(current_user, "organisations.edit_all", organisation):
        form, allowed = StaffOrganisationForm(obj=organisation), services.ORGANISATION_FIELDS
    else:
        form, allowed = SocietyOrganisationForm(obj=organisation), services.SOCIETY_EDITABLE_FIELDS
    if submit(form, lambda: services.update_organisation(organisation, form.organisation_fields(), allowed)):
        db.session.commit()
        flash(_("Changes saved."), "success")
        return redirect(url_for(".detail", org_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=organisation), form_status(form)


def _review(org_id: int, decide, done_message):
    """Run a staff decision (``decide(organisation, reviewer, comment)``) from the review form."""
    organisation = _organisation(org_id, "organisations.review")
    form = ReviewForm()
    if submit(form, lambda: decide(organisation, current_user, form.comment.data)):
        db.session.commit()
        flash(done_message % {"name": organisation.name_zh}, "success")
        return redirect(url_for(".detail", org_id=organisation.id))
    return _render_detail(organisation, 400, review_form=form)


@blueprint.post("/organisations/<id:org_id>/approve")
@requires("organisations.review")
def approve(org_id: int):
    return _review(org_id, services.approve_organisation, _l("%(name)s approved; its users can now log in."))


@blueprint.post("/organisations/<id:org_id>/reject")
@requires("organisations.review")
def reject(org_id: int):
    return _review(org_id, services.reject_organisation, _l("%(name)s rejected."))


@blueprint.post("/organisations/<id:org_id>/events")
@requires("organisations.edit")
def add_event(org_id: int):
    organisation = _organisation(org_id, "organisations.edit")
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
        db.session.commit()
        flash(_("Past event added."), "success")
        return redirect(url_for(".detail", org_id=organisation.id, _anchor="past-events"))
    return _render_detail(organisation, 400, event_form=form)


@blueprint.post("/organisations/<id:org_id>/events/<id:event_id>/delete")
@requires("organisations.edit")
def delete_event(org_id: int, event_id: int):
    organisation = _organisation(org_id, "organisations.edit")
    event = db.session.get(PastEvent, event_id)
    if event is None or event.organisation_id != organisation.id:
        abort(404)
    form = ConfirmForm()
    if submit(form, lambda: services.remove_past_event(event)):
        db.session.commit()
        flash(_("Past event removed."), "success")
        return redirect(url_for(".detail", org_id=organisation.id, _anchor="past-events"))
    return _render_detail(organisation, 400)


@blueprint.route("/register", methods=["GET", "POST"])
@public
def register_society():
    """A society registers itself and its first user; staff approve it later."""
    form = RegistrationForm()

    def operation():
        services.register_society(
            form.organisation_fields(),
            user_name=form.user_name.data,
            email=form.email.data,
            password=form.password.data,
        )

    if submit(form, operation):
        db.session.commit()
        return redirect(url_for(".register_done"))
    return render_template("organisations/register.html", form=form), form_status(form)


@blueprint.get("/register/done")
@public
def register_done():
    return render_template("organisations/register_done.html")
