"""Running jobs: on an RQ worker with ``REDIS_URL``, else in one thread of the web process.

``enqueue`` (called after the commit that queued the job) hands the job's id to the RQ queue
"jobs" or to the process's worker thread. ``run_job`` claims the job (queued -> running, one
conditional update, so a job cancelled meanwhile or taken by another worker is skipped),
beats a heartbeat from a thread of its own, calls the kind's function and records how it
ended: finished with its outputs, failed with the message (and the traceback's tail in the
log), cancelled, or interrupted when the worker itself is stopped. A worker that dies
without a word leaves its job running with an old heartbeat: ``mark_stale_jobs`` (run when
jobs are listed or shown, and when a worker starts) then calls it interrupted, to be resumed.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import threading
import traceback
from datetime import timedelta
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from flask import Flask, current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from conference_app.core.db import unit_of_work, utcnow
from conference_app.extensions import db
from conference_app.jobs.models import Job, JobState
from conference_app.jobs.registry import JOB_KINDS, JobCancelled, JobContext, log_line

QUEUE_NAME = "jobs"
SECRETS_FILE = "secrets.json"
EXTENSION_KEY = "conference_app.jobs"
TRACEBACK_LINES = 20
RQ_RESULT_TTL_SECONDS = 24 * 3600  # RQ's own record of a run; the job's row is what counts

_local_lock = threading.Lock()
_worker_app: Flask | None = None


# --- the job's folder ------------------------------------------------------------------


def work_dir(job_id: int) -> Path:
    """INSTANCE_DIR/jobs/<id>/: the job's files, kept across its attempts."""
    return Path(current_app.config["INSTANCE_DIR"]) / "jobs" / str(job_id)


def write_secrets(folder: Path, secrets: dict) -> None:
    """Keep ``secrets`` in the folder's secrets.json, readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRETS_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an older file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(secrets, handle)


def read_secrets(folder: Path) -> dict:
    path = folder / SECRETS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def remove_secrets(folder: Path) -> None:
    (folder / SECRETS_FILE).unlink(missing_ok=True)


def remove_work_dir(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def output_file(job: Job, path: str) -> Path | None:
    """The file of one of the job's declared outputs, or None (not declared, or not a file
    inside its folder): a download never reaches anything else of the folder."""
    if path not in {output.get("path") for output in job.outputs or []}:
        return None
    root = work_dir(job.id).resolve()
    candidate = (root / path).resolve()
    return candidate if root in candidate.parents and candidate.is_file() else None


def checked_outputs(outputs, folder: Path) -> list[dict]:
    """The function's outputs as stored; ValueError naming the first that is not a file of the folder."""
    checked = []
    root = folder.resolve()
    for output in outputs or []:
        if not isinstance(output, dict) or not isinstance(output.get("path"), str):
            raise ValueError(f"an output must be {{'label': ..., 'path': ...}}, got {output!r}")
        path = PurePosixPath(output["path"])
        target = (root / path).resolve()
        if path.is_absolute() or root not in target.parents or not target.is_file() or path.name == SECRETS_FILE:
            raise ValueError(f"output {output['path']!r} is not a file in the job's folder")
        checked.append({"label": str(output.get("label") or path.name), "path": path.as_posix()})
    return checked


# --- crash recovery ------------------------------------------------------------------------


def mark_stale_jobs() -> list[int]:
    """Running jobs whose heartbeat is older than JOB_STALE_SECONDS become interrupted (their
    worker died); their ids. Written through the session: the caller's unit of work commits."""
    seconds = current_app.config["JOB_STALE_SECONDS"]
    stale = (Job.state == JobState.RUNNING,
             or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < utcnow() - timedelta(seconds=seconds)))
    ids = list(db.session.scalars(select(Job.id).where(*stale)))  # a read first: nothing to lock most times
    if not ids:
        return []
    line = log_line(f"interrupted: no heartbeat for {seconds} s, its worker stopped; resume the job to continue")
    db.session.execute(update(Job).where(Job.id.in_(ids), *stale)
                       .values(state=JobState.INTERRUPTED, finished_at=utcnow(), log=func.coalesce(Job.log, "") + line)
                       .execution_options(synchronize_session=False))
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Job) and obj.id in ids:
            db.session.expire(obj)
    return ids


# --- running one job -----------------------------------------------------------------------


class Heartbeat(threading.Thread):
    """Writes the job's heartbeat every JOB_HEARTBEAT_SECONDS while it runs and passes on a
    requested cancellation. A job marked interrupted while it still runs (its heartbeat was
    late) is running again; one resumed elsewhere (a newer attempt) is told to stop."""

    def __init__(self, context: JobContext, interval: float) -> None:
        super().__init__(name=f"job-{context.job_id}-heartbeat", daemon=True)
        self.context = context
        self.interval = interval
        self._stopped = threading.Event()
        self._engine = db.engine
        self._logger = current_app.logger

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.beat()
            except SQLAlchemyError:
                self._logger.warning("job %s: heartbeat not written", self.context.job_id, exc_info=True)

    def beat(self) -> None:
        context = self.context
        mine = (Job.id == context.job_id, Job.attempt == context.attempt)
        with self._engine.begin() as connection:
            now = utcnow()
            beating = connection.execute(update(Job).where(*mine, Job.state == JobState.RUNNING)
                                         .values(heartbeat_at=now)).rowcount
            if not beating:
                beating = connection.execute(
                    update(Job).where(*mine, Job.state == JobState.INTERRUPTED).values(
                        state=JobState.RUNNING, heartbeat_at=now, finished_at=None,
                        log=func.coalesce(Job.log, "") + log_line("running again: its heartbeat was late"))).rowcount
        if not beating:
            context.stop()
        else:
            context.check_cancellation()

    def stop(self) -> None:
        self._stopped.set()


def _claim(job_id: int) -> bool:
    """Queued -> running in one conditional update: False when the job is not queued."""
    now = utcnow()
    with db.engine.begin() as connection:
        return bool(connection.execute(
            update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED)
            .values(state=JobState.RUNNING, started_at=now, heartbeat_at=now, finished_at=None, error=None)
        ).rowcount)


def _end(context: JobContext, state: JobState, lines: list[str], **values) -> None:
    """Record how this attempt ended (unless a newer attempt owns the job now)."""
    context.flush()
    text = "".join(log_line(line) for line in lines)
    with db.engine.begin() as connection:
        connection.execute(
            update(Job).where(Job.id == context.job_id, Job.attempt == context.attempt,
                              Job.state.in_([JobState.RUNNING, JobState.INTERRUPTED]))
            .values(state=state, finished_at=utcnow(), log=func.coalesce(Job.log, "") + text, **values))


def run_job(job_id: int) -> JobState | None:
    """Run queued job ``job_id`` here (in an app context); how it ended, or None when it was not
    queued (cancelled before it started, or another worker took it)."""
    if not _claim(job_id):
        return None
    job = db.session.get(Job, job_id)
    kind = JOB_KINDS.get(job.kind)
    folder = work_dir(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    context = JobContext(job.id, dict(job.params or {}), folder, job.attempt, read_secrets(folder), job.user_id)
    db.session.rollback()  # the read is done: hold no transaction while the job runs
    if kind is None:
        _end(context, JobState.FAILED, [f"failed: no job kind {job.kind!r} in this worker"],
             error=f"unknown job kind {job.kind!r}")
        return JobState.FAILED
    context.log(f"attempt {context.attempt} started on {socket.gethostname()} (process {os.getpid()})")
    heartbeat = Heartbeat(context, current_app.config["JOB_HEARTBEAT_SECONDS"])
    heartbeat.start()
    try:
        with unit_of_work():
            outputs = kind.function(context)
        stored = checked_outputs(outputs, folder)
    except JobCancelled:
        _end(context, JobState.CANCELLED, ["cancelled"])
        if not kind.resumable:
            remove_secrets(folder)
        return JobState.CANCELLED
    except Exception as error:  # noqa: BLE001 (any failure of the job is recorded, never raised)
        message = str(error) or type(error).__name__
        tail = traceback.format_exc().rstrip().splitlines()[-TRACEBACK_LINES:]
        _end(context, JobState.FAILED, [f"failed: {message}", *tail], error=message)
        if not kind.resumable:
            remove_secrets(folder)
        return JobState.FAILED
    except BaseException:
        # The worker is being stopped (a cold shutdown, Ctrl-C): the job can be resumed.
        _end(context, JobState.INTERRUPTED, ["interrupted: the worker stopped during the job; resume it to continue"])
        raise
    finally:
        heartbeat.stop()
        db.session.remove()
    _end(context, JobState.FINISHED, ["finished"], outputs=stored)
    remove_secrets(folder)
    return JobState.FINISHED


# --- queues ----------------------------------------------------------------------------------


def enqueue(app: Flask, job_id: int, rq_job_id: str | None) -> None:
    """Hand a committed queued job to RQ (``REDIS_URL``) or to this process's job thread. A job
    Redis refuses is recorded failed with the reason (resume it once Redis is back)."""
    if not app.config["REDIS_URL"]:
        local_worker(app).submit(job_id)
        return
    from redis.exceptions import RedisError

    try:
        rq_queue(app).enqueue("conference_app.jobs.runner.run_job_in_app", job_id, job_id=rq_job_id,
                              job_timeout=app.config["JOB_TIMEOUT_SECONDS"], result_ttl=RQ_RESULT_TTL_SECONDS,
                              failure_ttl=RQ_RESULT_TTL_SECONDS, description=f"job {job_id}")
    except RedisError as error:
        app.logger.exception("job %s could not be queued", job_id)
        message = f"could not be queued: Redis at {redis_address(app.config['REDIS_URL'])} answered {error}"
        with db.engine.begin() as connection:
            connection.execute(update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED).values(
                state=JobState.FAILED, finished_at=utcnow(), error=message,
                log=func.coalesce(Job.log, "") + log_line(f"failed: {message}")))


def redis_connection(app: Flask):
    """The app's Redis client for the job queue (one per process)."""
    from redis import Redis

    url = app.config["REDIS_URL"]
    with _local_lock:
        connections = app.extensions.setdefault(EXTENSION_KEY + ".redis", {})
        if url not in connections:
            connections[url] = Redis.from_url(url)
        return connections[url]


def rq_queue(app: Flask):
    from rq import Queue

    return Queue(QUEUE_NAME, connection=redis_connection(app))


def redis_address(url: str) -> str:
    """Host, port and database of a Redis URL, without its password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or ''}"


def use_app(app: Flask) -> None:
    """The app the jobs of this worker process run in (``flask worker`` sets it once)."""
    global _worker_app
    _worker_app = app


def run_job_in_app(job_id: int) -> str | None:
    """What RQ runs: ``run_job`` in the worker's app (built once per worker process by the
    ``flask worker`` command, which starts the RQ worker)."""
    if _worker_app is None:
        raise RuntimeError("jobs run on the worker that `flask --app conference_app worker` starts")
    with _worker_app.app_context():
        state = run_job(job_id)
    return None if state is None else state.value


class LocalWorker:
    """The web process's one job thread (no ``REDIS_URL``): runs the job ids handed to it in
    order. When it starts it takes the jobs a stopped process left: running ones whose
    heartbeat is stale become interrupted, queued ones are run."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._queue: queue.Queue[int] = queue.Queue()
        self._pending = 0
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="jobs", daemon=True)

    def start(self) -> LocalWorker:
        with self._changed:
            self._pending += 1  # taking over what a stopped process left counts as work too
        self._thread.start()
        return self

    def submit(self, job_id: int) -> None:
        with self._changed:
            self._pending += 1
        self._queue.put(job_id)

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """Whether every job handed over so far has run, waiting at most ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _run(self) -> None:
        with self.app.app_context():
            try:
                with unit_of_work():
                    mark_stale_jobs()
                    left = list(db.session.scalars(select(Job.id).where(Job.state == JobState.QUEUED)
                                                   .order_by(Job.id)))
            except SQLAlchemyError:
                self.app.logger.exception("jobs left by a stopped process were not looked up")
                left = []
        for job_id in left:
            self.submit(job_id)
        self._done_one()
        while True:
            job_id = self._queue.get()
            try:
                with self.app.app_context():
                    run_job(job_id)
            except Exception:  # noqa: BLE001 (the thread serves the next job whatever happened)
                self.app.logger.exception("job %s: the runner failed", job_id)
            finally:
                self._done_one()

    def _done_one(self) -> None:
        with self._changed:
            self._pending -= 1
            self._changed.notify_all()


def local_worker(app: Flask) -> LocalWorker:
    """The process's job thread, started on first use (in the serving process, after any fork)."""
    with _local_lock:
        worker = app.extensions.get(EXTENSION_KEY)
        if worker is None:
            worker = app.extensions[EXTENSION_KEY] = LocalWorker(app).start()
        return worker


def wait_until_idle(app: Flask, timeout: float | None = None) -> bool:
    """Whether the process's job thread has run everything handed to it (True when there is none)."""
    worker = app.extensions.get(EXTENSION_KEY)
    return True if worker is None else worker.wait_until_idle(timeout)
