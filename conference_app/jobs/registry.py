"""The kinds of job, and what a job's function is handed: its parameters, folder and reports.

A domain registers a kind with ``@job_kind("harvest", _l("Harvest"), resumable=True)`` on a
function ``fn(context) -> outputs``; the runner calls it with a ``JobContext`` inside a unit
of work of its own (what it writes through ``db.session`` commits when it returns and is
rolled back when it raises). Progress and log lines go to the job's row on a connection of
their own, so a report never commits the job's unfinished work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from conference_app.core.timeutil import beijing_now
from conference_app.extensions import db
from conference_app.jobs.models import Job

WRITE_INTERVAL_SECONDS = 1.0  # progress and log are written at most this often (the last report always)
MAX_LINE_CHARS = 2000


class JobCancelled(Exception):
    """Raised in a job whose cancellation was requested; the runner records it cancelled."""


@dataclass(frozen=True)
class JobKind:
    """A registered kind: ``function(context)`` returns its outputs ``[{"label", "path"}]`` (paths
    below ``context.work_dir``) or None; ``check(params)`` returns the parameters to store or raises
    a ServiceError naming the problem (``start_job`` calls it). ``start_permission`` names the
    permission a user needs to start it by name (the JSON API); a kind without one is started
    only by its own pages and services (an import, a mail delivery). ``links(job)`` lists pages of
    the app a finished job made (``[{"label", "url"}]``, a round it imported), shown with its outputs."""

    name: str
    title: Any
    function: Callable[[JobContext], list[dict] | None]
    resumable: bool = False
    check: Callable[[dict], dict] | None = None
    start_permission: str | None = None
    links: Callable[[Job], list[dict]] | None = None


JOB_KINDS: dict[str, JobKind] = {}


def job_kind(name: str, title, resumable: bool = False, check: Callable[[dict], dict] | None = None,
             start_permission: str | None = None, links: Callable[[Job], list[dict]] | None = None):
    """Register the decorated function as the job kind ``name`` (once, at import time)."""

    def decorate(function: Callable[[JobContext], list[dict] | None]):
        if name in JOB_KINDS:
            raise ValueError(f"job kind {name!r} registered twice")
        JOB_KINDS[name] = JobKind(name, title, function, resumable, check, start_permission, links)
        return function

    return decorate


def _plain(number):
    """A number as JSON stores it (numpy's too); None stays None."""
    return number if number is None or type(number) in (int, float) else float(number)


def log_line(text: str) -> str:
    """One line of a job's log: Beijing time, then the text on one line."""
    one_line = " ".join(str(text).splitlines())[:MAX_LINE_CHARS]
    return f"{beijing_now():%Y-%m-%d %H:%M:%S} {one_line}\n"


class JobContext:
    """What a job's function gets. ``progress`` and ``log`` may be called from any thread."""

    def __init__(self, job_id: int, params: dict, work_dir: Path, attempt: int, secrets: dict | None = None,
                 user_id: int | None = None) -> None:
        self.job_id = job_id
        self.params = params
        self.work_dir = work_dir
        self.attempt = attempt
        self.secrets = dict(secrets or {})  # from the folder's secrets.json, never from the row
        self.user_id = user_id
        self._engine = db.engine
        self._lock = threading.Lock()
        self._progress: dict | None = None  # the latest report not yet written
        self._lines: list[str] = []
        self._last_write = -float("inf")
        self._last_cancel_check = -float("inf")
        self._cancel = threading.Event()
        self._logger = current_app.logger

    @property
    def user(self):
        """The user who started the job (None for one started from the command line)."""
        from conference_app.accounts.models import User

        return db.session.get(User, self.user_id) if self.user_id is not None else None

    def progress(self, done: float, total: float | None = None, unit: str = "", eta_seconds: float | None = None,
                 message: str = "") -> None:
        """Report where the job stands; raises JobCancelled once its cancellation was requested."""
        done, total, eta_seconds = _plain(done), _plain(total), _plain(eta_seconds)
        report = {"done": done, "total": total, "unit": str(unit), "eta_seconds": eta_seconds, "message": str(message)}
        last = total is not None and done >= total
        with self._lock:
            self._progress = report
            due = last or time.monotonic() - self._last_write >= WRITE_INTERVAL_SECONDS
        if due:
            self.flush()
        self.raise_if_cancelled()

    def log(self, line: str) -> None:
        """Append a line to the job's log (kept with the job, shown on its page)."""
        with self._lock:
            self._lines.append(log_line(line))
            due = time.monotonic() - self._last_write >= WRITE_INTERVAL_SECONDS
        if due:
            self.flush()

    def cancelled(self) -> bool:
        """Whether the job should stop: its cancellation was requested, or it was resumed
        elsewhere (a newer attempt owns its folder). Asks the database at most once a second."""
        if not self._cancel.is_set() and time.monotonic() - self._last_cancel_check >= WRITE_INTERVAL_SECONDS:
            self.check_cancellation()
        return self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled():
            raise JobCancelled()

    # -- for the runner ---------------------------------------------------------------

    def flush(self) -> None:
        """Write the pending report and log lines now (the runner does at the end); a write the
        database refuses (SQLite busy) is kept for the next one."""
        with self._lock:
            progress, lines = self._progress, self._lines
            self._progress, self._lines = None, []
            self._last_write = time.monotonic()
        if progress is None and not lines:
            return
        values: dict[str, Any] = {}
        if progress is not None:
            values["progress"] = progress
        if lines:
            values["log"] = func.coalesce(Job.log, "") + "".join(lines)
        try:
            with self._engine.begin() as connection:
                connection.execute(update(Job).where(Job.id == self.job_id, Job.attempt == self.attempt)
                                   .values(**values))
        except SQLAlchemyError:
            self._logger.warning("job %s: progress not written now, kept for the next report", self.job_id,
                                 exc_info=True)
            with self._lock:
                self._progress = self._progress or progress
                self._lines = lines + self._lines

    def check_cancellation(self) -> None:
        """Read whether the job was cancelled or resumed elsewhere (the heartbeat does too)."""
        self._last_cancel_check = time.monotonic()
        try:
            with self._engine.connect() as connection:
                row = connection.execute(select(Job.cancel_requested, Job.attempt)
                                         .where(Job.id == self.job_id)).first()
        except SQLAlchemyError:
            self._logger.warning("job %s: cancellation not checked now", self.job_id, exc_info=True)
            return
        if row is None or row.cancel_requested or row.attempt != self.attempt:
            self.stop()

    def stop(self) -> None:
        """From now on the job reads as cancelled."""
        self._cancel.set()
