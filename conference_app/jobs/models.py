"""A background job: what it runs with, whose it is, where it stands, what it wrote."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference_app.core.db import AuditedMixin, TimestampMixin, TitledEnum, UTCDateTime
from conference_app.core.enums import TitledStrEnum
from conference_app.extensions import db


class JobState(TitledStrEnum):
    QUEUED = "queued", _l("Queued")
    RUNNING = "running", _l("Running")
    FINISHED = "finished", _l("Finished")
    FAILED = "failed", _l("Failed")
    CANCELLED = "cancelled", _l("Cancelled")
    # Its worker stopped answering (killed, crashed, shut down) while it ran.
    INTERRUPTED = "interrupted", _l("Interrupted")


ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RUNNING})
# A job that ended in one of these may be resumed when its kind is resumable.
RESUMABLE_STATES = frozenset({JobState.FAILED, JobState.CANCELLED, JobState.INTERRUPTED})


class Job(AuditedMixin, TimestampMixin, db.Model):
    """One job of a registered kind (``registry.job_kind``), its attempts sharing one folder."""

    __tablename__ = "jobs"
    # The runner moves these without anyone's decision (started, progressed, ended); starting,
    # cancelling and resuming are decisions and write their own entries.
    __audit_exempt__ = frozenset({"updated_at", "state", "progress", "log", "outputs", "error", "heartbeat_at",
                                  "started_at", "finished_at"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(80), nullable=False)
    params: Mapped[dict] = mapped_column(JSON, nullable=False)  # never a secret: those stay in the job's folder
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    state: Mapped[JobState] = mapped_column(TitledEnum(JobState, 20), default=JobState.QUEUED, nullable=False,
                                            index=True)
    # {done, total, unit, eta_seconds, message}, as the job last reported it
    progress: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    log: Mapped[str] = mapped_column(Text, default="", nullable=False)
    outputs: Mapped[list] = mapped_column(JSON, default=list, nullable=False)  # [{label, path below the folder}]
    error: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, default=1, nullable=False)  # 1, then one more per resume
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # of the latest attempt
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rq_job_id: Mapped[str | None] = mapped_column(String(64))  # the latest attempt's RQ job, with REDIS_URL

    user = relationship("User")

    @property
    def owner_user_id(self) -> int | None:
        return self.user_id

    @property
    def title(self) -> str:
        """The kind's title in the reader's language (its code when no kind of that name is registered)."""
        from conference_app.jobs.registry import JOB_KINDS

        kind = JOB_KINDS.get(self.kind)
        return str(kind.title) if kind is not None else self.kind

    @property
    def audit_label(self) -> str:
        return f"{self.title} #{self.id}"
