"""Pages anyone may open: the registrant's own registration page (QR code, cancel)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import public
from conference_app.events.forms import ConfirmForm
from conference_app.events.models import RegistrationStatus
from conference_app.events.services import registrations
from conference_app.events.views import blueprint


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
