"""The public notices (立项公示): every notice, and a notice's approved projects by category
with, while it is open, the form of a signed written objection. Objections are never shown
here: staff read and handle them."""

from __future__ import annotations

from itertools import groupby

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import public
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.programs.forms.public import ObjectionForm
from conference_app.programs.models import Notice
from conference_app.programs.services import notices
from conference_app.programs.views import blueprint


@blueprint.get("/notices/", endpoint="notices")
@public
def notices_list():
    """Every public notice, newest first, saying whether it is open for objections."""
    today = beijing_today()
    rows = [(notice, notices.is_open(notice, today)) for notice in notices.public_notices()]
    return render_template("programs/public/notices.html", rows=rows, today=today)


def _render_notice(notice: Notice, projects: list, form: ObjectionForm, status: int = 200):
    by_category = [(category, list(items)) for category, items in
                   groupby(projects, key=lambda application: application.category)]
    today = beijing_today()
    return render_template("programs/public/notice.html", notice=notice, by_category=by_category,
                           is_open=notices.is_open(notice, today), not_started=today < notice.starts_on,
                           form=form), status


@blueprint.route("/notices/<id:notice_id>", methods=["GET", "POST"])
@public
def notice(notice_id: int):
    """A notice's projects; while it is open, a signed objection is received (POST)."""
    found = db.session.get(Notice, notice_id)
    if found is None:
        abort(404)
    projects = notices.notice_projects(found)
    form = ObjectionForm(projects=projects)
    if not form.is_submitted():
        return _render_notice(found, projects, form)
    if submit(form, lambda: notices.submit_objection(found, form.objection_fields())):
        flash(_("Thank you: your objection is received. Program staff will look into it and may contact you."),
              "success")
        return redirect(url_for(".notice", notice_id=found.id, _anchor="objection"))
    return _render_notice(found, projects, form, form_status(form))
