"""Starting, cancelling, resuming and reading background jobs: what the views, the workbench
and the command line call.

A job is queued in the caller's unit of work (with its audit entry) and handed to the
runner only after that commits, as mail is; a rolled-back start leaves no row, no folder and
nothing queued. Secrets given to ``start_job`` never reach the row: they wait in the job's
folder (``secrets.json``, mode 0600) until the job has finished.
"""

from __future__ import annotations

import json
import math

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.session import Session
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import selectinload

from conference_app.audit.services import (
    record,
    register_action_titles,
    register_object_type_titles,
    register_state_titles,
)
from conference_app.core.db import utcnow
from conference_app.core.mail import public_url
from conference_app.core.permissions import user_can
from conference_app.core.services import ServiceError, flush
from conference_app.extensions import db
from conference_app.jobs import kinds as _kinds  # noqa: F401  (registers the harvest)
from conference_app.jobs import runner
from conference_app.jobs.models import RESUMABLE_STATES, Job, JobState
from conference_app.jobs.registry import JOB_KINDS, log_line

SECRET_MARKERS = ("key", "secret", "password")
LOG_TAIL_LINES = 50
ENQUEUE_KEY = "jobs_to_enqueue"
CREATED_KEY = "job_folders_created"

register_object_type_titles({"Job": _l("Background job")})
register_state_titles("Job", JobState.titles())
register_action_titles({
    "job.started": _l("Background job started"),
    "job.cancelled": _l("Background job cancelled"),
    "job.cancel_requested": _l("Cancellation of a background job requested"),
    "job.resumed": _l("Background job resumed"),
})


def start_job(kind: str, params: dict, user, secrets: dict | None = None) -> Job:
    """Queue a job of ``kind`` for ``user`` (None: the command line); it is handed to the runner
    once the caller's unit of work commits. ``secrets`` reach the job as ``context.secrets``."""
    job_kind = JOB_KINDS.get(kind)
    if job_kind is None:
        raise ServiceError(_("There is no kind of background job called %(kind)s.", kind=kind))
    if not isinstance(params, dict):
        raise ServiceError(_("The parameters of a background job must be a JSON object."))
    if job_kind.check is not None:
        params = job_kind.check(dict(params))
    try:
        params = json.loads(json.dumps(params, allow_nan=False))
        secrets = json.loads(json.dumps(secrets or {}, allow_nan=False))
    except (TypeError, ValueError):
        raise ServiceError(_("The parameters of a background job must be JSON values.")) from None
    if not isinstance(secrets, dict):
        raise ServiceError(_("The secrets of a background job must be a JSON object."))
    job = Job(kind=kind, params=params, user_id=None if user is None else user.id, state=JobState.QUEUED, attempt=1,
              progress={}, outputs=[], log=log_line(f"queued by {_who(user)}"))
    db.session.add(job)
    flush()
    job.rq_job_id = _rq_job_id(job.id, job.attempt)
    folder = runner.work_dir(job.id)
    runner.remove_work_dir(folder)  # a folder of this id is left from a deleted row (SQLite reuses ids)
    folder.mkdir(parents=True)
    db.session.info.setdefault(CREATED_KEY, []).append(folder)
    if secrets:
        runner.write_secrets(folder, secrets)
    record("job.started", job, to_state=JobState.QUEUED, details={"kind": kind, "params": masked(params)},
           actor=user)
    _enqueue_after_commit(job.id, job.rq_job_id)
    return job


def start_job_by_name(kind: str, params: dict, user, secrets: dict | None = None) -> Job:
    """Start a job of ``kind`` named by a client (the JSON API): only a kind with a start
    permission that ``user`` holds; any other is a 403 ServiceError, an unknown one a 400."""
    job_kind = JOB_KINDS.get(kind)
    if job_kind is None:
        raise ServiceError(_("There is no kind of background job called %(kind)s.", kind=kind))
    if job_kind.start_permission is None or not user_can(user, job_kind.start_permission):
        raise ServiceError(_("You may not start background jobs of the kind %(kind)s.", kind=kind), 403)
    return start_job(kind, params, user, secrets=secrets)


def cancel_job(job: Job, user) -> None:
    """A queued job is cancelled at once; a running one is asked to stop, which it does at its
    next progress report or cancellation check."""
    _ensure_may(user, "jobs.control", job)
    runner.mark_stale_jobs()
    who = _who(user)
    cancelled = db.session.execute(
        update(Job).where(Job.id == job.id, Job.state == JobState.QUEUED)
        .values(state=JobState.CANCELLED, cancel_requested=True, finished_at=utcnow(),
                log=func.coalesce(Job.log, "") + log_line(f"cancelled by {who} before it started"))
        .execution_options(synchronize_session=False)).rowcount
    if cancelled:
        record("job.cancelled", job, from_state=JobState.QUEUED, to_state=JobState.CANCELLED, actor=user)
    else:
        requested = db.session.execute(
            update(Job).where(Job.id == job.id, Job.state == JobState.RUNNING, Job.cancel_requested.is_(False))
            .values(cancel_requested=True, log=func.coalesce(Job.log, "") + log_line(f"cancellation requested by {who}"))
            .execution_options(synchronize_session=False)).rowcount
        if requested:
            record("job.cancel_requested", job, actor=user)
        elif db.session.scalar(select(Job.state).where(Job.id == job.id)) != JobState.RUNNING:
            raise ServiceError(_("This job has ended: there is nothing to cancel."), 409)
    db.session.expire(job)


def resume_job(job: Job, user, secrets: dict | None = None) -> Job:
    """Queue a failed, cancelled or interrupted job of a resumable kind again: the same row
    and folder, one more attempt. ``secrets`` (optional) replace the ones it was started with."""
    _ensure_may(user, "jobs.control", job)
    runner.mark_stale_jobs()
    db.session.refresh(job)
    kind = JOB_KINDS.get(job.kind)
    if job.state not in RESUMABLE_STATES:
        raise ServiceError(_("Only a failed, cancelled or interrupted job can be resumed."), 409)
    if kind is None or not kind.resumable:
        raise ServiceError(_("This kind of job cannot be resumed: start a new one."), 409)
    previous, attempt = job.state, job.attempt + 1
    rq_job_id = _rq_job_id(job.id, attempt)
    resumed = db.session.execute(
        update(Job).where(Job.id == job.id, Job.state == previous, Job.attempt == job.attempt)
        .values(state=JobState.QUEUED, attempt=attempt, cancel_requested=False, error=None, finished_at=None,
                rq_job_id=rq_job_id, log=func.coalesce(Job.log, "") + log_line(f"resumed by {_who(user)}"))
        .execution_options(synchronize_session=False)).rowcount
    if not resumed:
        raise ServiceError(_("The job changed meanwhile: reload its page."), 409)
    if secrets:
        runner.write_secrets(runner.work_dir(job.id), secrets)
    record("job.resumed", job, from_state=previous, to_state=JobState.QUEUED, details={"attempt": attempt},
           actor=user)
    db.session.expire(job)
    _enqueue_after_commit(job.id, rq_job_id)
    return job


def job_status(job: Job) -> dict:
    """The job as JSON (its page polls it): state, progress, the log's tail, outputs, what may be done."""
    if job.state == JobState.RUNNING:
        runner.mark_stale_jobs()
    kind = JOB_KINDS.get(job.kind)
    lines = (job.log or "").splitlines()
    return {
        "id": job.id,
        "kind": job.kind,
        "title": job.title,
        "state": job.state.value,
        "state_title": job.state.title,
        "user": job.user.name if job.user is not None else None,
        "params": masked(job.params or {}),
        "attempt": job.attempt,
        "cancel_requested": job.cancel_requested,
        "error": job.error,
        "progress": progress_view(job.progress or {}),
        "log_tail": lines[-LOG_TAIL_LINES:],
        "outputs": [{"label": output["label"], "url": _output_url(job, output["path"])} for output in job.outputs or []],
        "links": kind.links(job) if kind is not None and kind.links and job.state == JobState.FINISHED else [],
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "can_cancel": job.state == JobState.QUEUED or (job.state == JobState.RUNNING and not job.cancel_requested),
        "can_resume": job.state in RESUMABLE_STATES and kind is not None and kind.resumable,
    }


def user_jobs(user, kinds=None, limit: int = 50) -> list[Job]:
    """The user's own jobs (of ``kinds`` when given), newest first."""
    runner.mark_stale_jobs()
    query = select(Job).where(Job.user_id == user.id)
    if kinds is not None:
        query = query.where(Job.kind.in_(list(kinds)))
    return list(db.session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)))


def visible_jobs(user):
    """The query of the jobs list: staff see every job, everyone else their own; newest first."""
    runner.mark_stale_jobs()
    query = select(Job).options(selectinload(Job.user)).order_by(Job.created_at.desc(), Job.id.desc())
    return query if user_can(user, "jobs.view_all") else query.where(Job.user_id == user.id)


def masked(params):
    """``params`` with the value of every key naming a key, secret or password shown as "***"."""
    if isinstance(params, dict):
        return {name: "***" if any(marker in str(name).lower() for marker in SECRET_MARKERS) else masked(value)
                for name, value in params.items()}
    if isinstance(params, list):
        return [masked(value) for value in params]
    return params


def progress_view(progress: dict) -> dict:
    """The stored report with its percentage and its numbers and ETA as text."""
    done, total, eta = progress.get("done"), progress.get("total"), progress.get("eta_seconds")
    known_total = _is_number(total) and total > 0
    percent = round(min(100.0, 100.0 * done / total), 1) if known_total and _is_number(done) else None
    text = "" if not _is_number(done) else _number(done) + (f" / {_number(total)}" if _is_number(total) else "")
    unit = progress.get("unit") or ""
    return {
        "done": done, "total": total, "unit": unit, "eta_seconds": eta, "message": progress.get("message") or "",
        "percent": percent, "text": f"{text} {unit}".strip(), "eta_text": _duration(eta) if _is_number(eta) else "",
    }


# --- helpers ---------------------------------------------------------------------------------


def _ensure_may(user, permission: str, job: Job) -> None:
    if user is not None and not user_can(user, permission, job):
        raise ServiceError(_("You may not change this job."), 403)


def _who(user) -> str:
    return "the command line" if user is None else f"{user.name} <{user.email}>"


def _rq_job_id(job_id: int, attempt: int) -> str | None:
    return f"job-{job_id}-attempt-{attempt}" if current_app.config["REDIS_URL"] else None


def _enqueue_after_commit(job_id: int, rq_job_id: str | None) -> None:
    db.session.connection()  # a transaction must be open, or a rollback would not drop the job
    db.session.info.setdefault(ENQUEUE_KEY, []).append((job_id, rq_job_id))


def _output_url(job: Job, path: str) -> str:
    """The download's path in a request; outside one (a worker, the command line) a full link."""
    if has_request_context():
        return url_for("jobs.output", job_id=job.id, path=path)
    return public_url("jobs.output", job_id=job.id, path=path)


def _iso(moment) -> str | None:
    return None if moment is None else moment.isoformat()


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session) -> None:
    session.info.pop(CREATED_KEY, None)
    queued = session.info.pop(ENQUEUE_KEY, [])
    if queued:
        app = current_app._get_current_object()
        for job_id, rq_job_id in queued:
            runner.enqueue(app, job_id, rq_job_id)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session, previous_transaction) -> None:
    """A rolled-back start queues nothing and leaves no folder (nor its secrets)."""
    session.info.pop(ENQUEUE_KEY, None)
    for folder in session.info.pop(CREATED_KEY, []):
        runner.remove_work_dir(folder)
