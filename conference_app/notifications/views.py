"""A user's notifications, and the staff's log of sent mail and mail outbox."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from conference_app.core.db import paginate
from conference_app.core.forms import submit
from conference_app.core.outbox import OutboxMessage
from conference_app.core.permissions import requires
from conference_app.notifications import services
from conference_app.notifications.forms import (
    DeliverMailForm,
    MailLogFilterForm,
    MarkReadForm,
    OutboxFilterForm,
    RetryMailForm,
)

blueprint = Blueprint("notifications", __name__, url_prefix="/notifications")
PER_PAGE = 30


@blueprint.route("/")
@requires("notifications.own")
def inbox():
    page = paginate(services.inbox(current_user), PER_PAGE)
    return render_template("notifications/inbox.html", page=page, form=MarkReadForm(),
                           unread=services.unread_count(current_user))


@blueprint.route("/read", methods=["POST"])
@requires("notifications.own")
def mark_read():
    submit(MarkReadForm(), lambda: services.mark_all_read(current_user))
    return redirect(url_for("notifications.inbox"))


@blueprint.route("/sent-mail")
@requires("notifications.mail_log")
def mail_log():
    form = MailLogFilterForm(formdata=request.args)
    search = form.q.data if form.validate() else None
    page = paginate(services.mail_log(search), PER_PAGE)
    return render_template("notifications/mail_log.html", page=page, form=form)


@blueprint.route("/outbox")
@requires("notifications.outbox")
def outbox():
    form = OutboxFilterForm(formdata=request.args)
    valid = form.validate()
    page = paginate(services.outbox_query(form.state.data if valid else None, form.q.data if valid else None),
                    PER_PAGE)
    return render_template("notifications/outbox.html", page=page, form=form, counts=services.outbox_counts(),
                           retry_form=RetryMailForm(), deliver_form=DeliverMailForm())


@blueprint.post("/outbox/<id:message_id>/retry")
@requires("notifications.outbox", load=OutboxMessage, arg="message_id")
def retry_mail(outbox_message: OutboxMessage):
    form = RetryMailForm()
    if submit(form, lambda: services.retry_mail(outbox_message, current_user)):
        flash(_("The mail is queued for delivery again."), "success")
    for error in form.form_errors:
        flash(error, "danger")
    return redirect(url_for("notifications.outbox"))


@blueprint.post("/outbox/deliver")
@requires("notifications.outbox")
def deliver_mail():
    form, waiting = DeliverMailForm(), []
    if submit(form, lambda: waiting.append(services.deliver_waiting_mail(current_user))):
        flash(_("Delivery of %(count)d waiting messages started.", count=waiting[0]), "success")
    for error in form.form_errors:
        flash(error, "danger")
    return redirect(url_for("notifications.outbox"))
