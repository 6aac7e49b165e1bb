"""The jobs' part of the JSON API (``/api/v1``, ``docs/api.md``): with a bearer token of scope
``jobs``, the token user's background jobs (staff: everyone's), one job's status, starting a
job of a kind the user may start (``start_permission`` of its kind: harvests and rankings for
analysts) and cancelling one. The token acts as its user: someone else's job is a 403."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conference_app.accounts.models import TokenScope
from conference_app.accounts.tokens import token_scope
from conference_app.core.api import (
    BeijingDateTime,
    ErrorBody,
    Text,
    api_blueprint,
    api_operation,
    json_object,
    model_response,
    page_argument,
)
from conference_app.core.db import MAX_PAGE
from conference_app.core.permissions import requires
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.jobs import services
from conference_app.jobs.models import Job, JobState

api_blueprint = api_blueprint("jobs_api", __name__)
JOBS_PER_PAGE = 50


class JobListQuery(BaseModel):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="The page, 50 jobs a page, newest first.")


class JobStart(BaseModel):
    """What to start: a kind by its name, its parameters, and its secrets (an API key), which are
    kept out of the job's record and never answered back."""

    model_config = ConfigDict(strict=True)

    kind: Text = Field(max_length=80, description="The kind's name, e.g. `harvest` or `rank`.")
    params: dict[str, Any] = Field(default_factory=dict, description="The kind's parameters (docs/api.md).")
    secrets: dict[str, Text] = Field(default_factory=dict, description="Secret settings such as `api_key`.")


class JobProgress(BaseModel):
    done: float | None
    total: float | None
    unit: str
    eta_seconds: float | None = Field(description="Seconds the job expects still to need, or null.")
    message: str
    percent: float | None = Field(description="done / total in percent, or null when the total is not known.")


class JobOutput(BaseModel):
    label: str
    url: str = Field(description="Its download address (the job's page, logged in).")


class JobObject(BaseModel):
    """A background job and where it stands."""

    id: int
    kind: str
    title: str = Field(description="The kind's title in the token user's language.")
    state: JobState
    attempt: int = Field(description="1, and one more each time it was resumed.")
    cancel_requested: bool
    params: dict[str, Any] = Field(description="Its parameters; a value whose name says key, secret or password "
                                               "is `***`.")
    progress: JobProgress
    error: str | None
    outputs: list[JobOutput]
    log_tail: list[str] = Field(description="The last lines of its log.")
    created_at: BeijingDateTime
    started_at: BeijingDateTime | None
    finished_at: BeijingDateTime | None
    can_cancel: bool
    can_resume: bool


class JobPage(BaseModel):
    jobs: list[JobObject]
    page: int
    per_page: int
    total: int


def _job_object(job: Job) -> JobObject:
    status = services.job_status(job)
    progress = {name: status["progress"][name] for name in JobProgress.model_fields}
    return JobObject(**{name: status[name] for name in JobObject.model_fields
                        if name not in ("progress", "created_at", "started_at", "finished_at")},
                     progress=progress, created_at=job.created_at, started_at=job.started_at,
                     finished_at=job.finished_at)


def _start_body() -> JobStart:
    try:
        return JobStart.model_validate(json_object())
    except ValidationError as error:
        member = ".".join(str(part) for part in error.errors()[0]["loc"]) or "kind"
        raise ServiceError(_("The member %(member)s of the request is missing or malformed: send "
                             "{\"kind\": \"...\", \"params\": {...}}.", member=member)) from None


@api_blueprint.get("/jobs")
@api_operation(summary="The token user's background jobs, newest first", query=JobListQuery,
               responses={200: JobPage}, tags=["jobs"], description="Staff see every user's jobs.")
@requires("jobs.view")
@token_scope(TokenScope.JOBS)
def jobs():
    page_number = JobListQuery(page=page_argument()).page
    page = db.paginate(services.visible_jobs(current_user), page=page_number, per_page=JOBS_PER_PAGE,
                       error_out=False)
    return model_response(JobPage(jobs=[_job_object(job) for job in page.items], page=page_number,
                                  per_page=JOBS_PER_PAGE, total=page.total))


@api_blueprint.post("/jobs")
@api_operation(summary="Start a background job", request=JobStart, responses={201: JobObject}, tags=["jobs"],
               description="The job is queued and runs on a worker; poll `GET /api/v1/jobs/{job_id}`. "
                           "400: an unknown kind or parameters the kind refuses (the message names the first); "
                           "403: a kind the token user may not start.")
@requires("jobs.view")
@token_scope(TokenScope.JOBS)
def start():
    body = _start_body()
    job = services.start_job_by_name(body.kind, body.params, current_user._get_current_object(), body.secrets)
    return model_response(_job_object(job), 201)


@api_blueprint.get("/jobs/<id:job_id>")
@api_operation(summary="One background job: state, progress, log tail, outputs", responses={200: JobObject},
               tags=["jobs"])
@requires("jobs.view", load=Job, arg="job_id")
@token_scope(TokenScope.JOBS)
def job(job: Job):
    return model_response(_job_object(job))


@api_blueprint.post("/jobs/<id:job_id>/cancel")
@api_operation(summary="Cancel a background job", responses={200: JobObject, 409: ErrorBody}, tags=["jobs"],
               description="A queued job is cancelled at once, a running one stops at its next step "
                           "(`cancel_requested`); 409: the job has ended.")
@requires("jobs.control", load=Job, arg="job_id")
@token_scope(TokenScope.JOBS)
def cancel(job: Job):
    services.cancel_job(job, current_user._get_current_object())
    return model_response(_job_object(job))
