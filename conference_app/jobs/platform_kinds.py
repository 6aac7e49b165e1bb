"""Job kinds of the layers below jobs, which cannot import it: the delivery of core's mail
outbox (``mail``) and the audit log's large exports (``audit_export``)."""

from __future__ import annotations

from sqlalchemy import select

from conference_app.audit import export as audit_export
from conference_app.core import outbox
from conference_app.extensions import db
from conference_app.jobs import services
from conference_app.jobs.models import Job, JobState
from conference_app.jobs.registry import job_kind


def start_delivery() -> None:
    """A queued ``mail`` job, unless one is queued already (it reads the outbox once it runs)."""
    queued = select(Job.id).where(Job.kind == outbox.JOB_KIND, Job.state == JobState.QUEUED).limit(1)
    if db.session.scalar(queued) is None:
        services.start_job(outbox.JOB_KIND, {}, None)


def start_export(params: dict, user) -> Job:
    """The ``audit_export`` job of an export too large to build in the request."""
    return services.start_job(audit_export.JOB_KIND, params, user)


job_kind(outbox.JOB_KIND, outbox.JOB_TITLE)(outbox.delivery_job)
job_kind(audit_export.JOB_KIND, audit_export.JOB_TITLE, check=audit_export.check_job_params)(audit_export.export_job)
outbox.deliver_with(start_delivery)
audit_export.export_with(start_export)
