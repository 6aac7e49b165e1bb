"""Job kinds for the tests of the machinery (registered once, when this module is imported)."""

from __future__ import annotations

import threading

from conference_app.jobs.registry import JobContext, job_kind

RELEASE = threading.Event()  # lets a waiting job finish
STARTED = threading.Event()  # set once a waiting job runs


@job_kind("test.count", "Count", resumable=False, start_permission="jobs.view")
def count(context: JobContext) -> list[dict]:
    """Count to params["steps"], one progress report and log line each; write the count and
    whether the secret arrived."""
    steps = context.params["steps"]
    for step in range(1, steps + 1):
        context.log(f"step {step}")
        context.progress(step, steps, unit="steps", message=f"step {step} of {steps}")
    (context.work_dir / "count.txt").write_text(f"{steps} {context.secrets.get('token') == 'tok-s3cret-value'}\n")
    return [{"label": "count.txt", "path": "count.txt"}]


@job_kind("test.wait", "Wait", resumable=True)
def wait(context: JobContext) -> None:
    """Report progress until RELEASE is set (a cancellation stops it at a report)."""
    STARTED.set()
    while not RELEASE.wait(0.02):
        context.progress(0, 1, message="waiting")


@job_kind("test.flaky", "Flaky", resumable=True)
def flaky(context: JobContext) -> list[dict]:
    """The first attempt writes its half into the folder and fails; the next one finishes it."""
    half = context.work_dir / "half.txt"
    if context.attempt == 1:
        half.write_text("first half\n")
        raise ValueError("the first attempt fails on purpose")
    (context.work_dir / "whole.txt").write_text(half.read_text() + f"second half, attempt {context.attempt}\n")
    return [{"label": "whole.txt", "path": "whole.txt"}]


@job_kind("test.broken", "Broken", resumable=False)
def broken(context: JobContext) -> list[dict]:
    """Names an output outside its folder."""
    return [{"label": "passwd", "path": "../../../../etc/passwd"}]
