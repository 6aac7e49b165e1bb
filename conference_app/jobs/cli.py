"""``flask --app conference_app worker [--burst]``: run the background jobs queued in Redis."""

from __future__ import annotations

import click
from flask import current_app

from conference_app.core.cli import OneLineCommand, fail
from conference_app.core.db import unit_of_work
from conference_app.extensions import db
from conference_app.jobs import runner


@click.command("worker", cls=OneLineCommand)
@click.option("--burst", is_flag=True, help="Run the jobs queued now, then stop (instead of waiting for more).")
def worker(burst: bool) -> None:
    """Run background jobs from the Redis queue "jobs" (REDIS_URL), one at a time."""
    from redis.exceptions import RedisError
    from rq import Queue, SimpleWorker

    app = current_app._get_current_object()
    url = app.config["REDIS_URL"]
    if not url:
        fail("no Redis is configured (REDIS_URL is empty): jobs run in a thread of the web process, "
             "no worker is needed")
    connection = runner.redis_connection(app)
    try:
        connection.ping()
    except RedisError as error:
        fail(f"cannot reach Redis at {runner.redis_address(url)}: {error}")
    with unit_of_work():
        interrupted = runner.mark_stale_jobs()
    if interrupted:
        click.echo(f"jobs {', '.join(map(str, interrupted))} had lost their worker: interrupted, to be resumed")
    runner.use_app(app)
    db.session.remove()  # the jobs open their own sessions
    # A SimpleWorker runs each job in this process: the app is built once, and killing the
    # worker stops its job too (which then shows as interrupted and can be resumed).
    SimpleWorker([Queue(runner.QUEUE_NAME, connection=connection)], connection=connection).work(burst=burst)


commands = [worker]
