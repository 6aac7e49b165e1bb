"""A user's notifications, and the staff's log of sent mail."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from conference_app.core.db import paginate
from conference_app.core.forms import submit
from conference_app.core.permissions import requires
from conference_app.notifications import services
from conference_app.notifications.forms import MailLogFilterForm, MarkReadForm

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
