"""The jobs list, a job's page (polling its status), its outputs, cancel and resume."""

import json
from pathlib import PurePosixPath

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from conference_app.core.db import paginate
from conference_app.core.permissions import requires, user_can
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.jobs import platform_kinds as _platform_kinds  # noqa: F401  (mail delivery, audit exports)
from conference_app.jobs import runner, services
from conference_app.jobs.models import Job, JobState

blueprint = Blueprint("jobs", __name__, url_prefix="/jobs")
PER_PAGE = 30


@blueprint.route("/")
@requires("jobs.view")
def index():
    page = paginate(services.visible_jobs(current_user), PER_PAGE)
    return render_template("jobs/index.html", page=page, everyone=user_can(current_user, "jobs.view_all"))


@blueprint.route("/<id:job_id>")
@requires("jobs.view", load=Job, arg="job_id")
def detail(job: Job):
    status = services.job_status(job)
    return render_template("jobs/detail.html", job=job, status=status,
                           params_text=json.dumps(status["params"], ensure_ascii=False, indent=2),  # Chinese as is
                           may_control=user_can(current_user, "jobs.control", job))


@blueprint.route("/<id:job_id>/status.json")
@requires("jobs.view", load=Job, arg="job_id")
def status(job: Job):
    return jsonify(services.job_status(job))


@blueprint.route("/<id:job_id>/outputs/<path:path>")
@requires("jobs.view", load=Job, arg="job_id")
def output(job: Job, path: str):
    file = runner.output_file(job, path)
    if file is None:
        abort(404)
    return send_file(file, as_attachment=True, download_name=PurePosixPath(path).name)


@blueprint.post("/<id:job_id>/cancel")
@requires("jobs.control", load=Job, arg="job_id")
def cancel(job: Job):
    return _control(job, services.cancel_job, lambda: _("Job cancelled.") if job.state == JobState.CANCELLED else
                    _("Cancellation requested: the job stops at its next step."))


@blueprint.post("/<id:job_id>/resume")
@requires("jobs.control", load=Job, arg="job_id")
def resume(job: Job):
    return _control(job, services.resume_job, lambda: _("Job resumed: it is queued again."))


def _control(job: Job, action, done_message):
    """Run ``action(job, user)``; flash its refusal or ``done_message()`` and go back to the job."""
    try:
        action(job, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(done_message(), "success")
    return redirect(url_for("jobs.detail", job_id=job.id))


from conference_app.jobs import api  # noqa: E402  (its routes, after the pages')

blueprints = [blueprint, api.api_blueprint]
