"""Grouped OpenAlex queries under a request budget, checkpointed page by page.

A task is one pyalex query with a ``group_by`` (or a plain count). Its pages are fetched
with cursor paging (OpenAlex sorts the groups by key then) and every page received is
appended to the phase's log (``state/<phase>.jsonl``) before the next one is asked for, so
a run stopped by the budget, a kill or an error resumes each task at its next cursor.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from selection.errors import SelectionError
from selection.openalex.client import PER_PAGE_MAX, OpenAlexClient

PER_PAGE = PER_PAGE_MAX  # groups per page (OpenAlex returns at most 200)


class BudgetSpent(Exception):
    """The session's request budget is spent (or the run is stopping): end the task here."""


class Budget:
    """At most ``limit`` requests this session (None: no limit), counted on the client.

    ``take()`` is called before every request; retries of a request count once they
    happen, so the budget can be passed by the retries of the requests under way.
    """

    def __init__(self, client: OpenAlexClient, limit: int | None):
        self.client = client
        self.limit = limit
        self.start = client.stats.requests
        self.spent = False
        self._started = 0
        self._halted = False
        self._lock = threading.Lock()

    def used(self) -> int:
        """Requests made this session (attempts, retries included)."""
        return self.client.stats.requests - self.start

    def take(self) -> None:
        """Claim one request; BudgetSpent when none is left or the run is stopping."""
        with self._lock:
            if self._halted:
                raise BudgetSpent
            if self.limit is not None and max(self._started, self.used()) >= self.limit:
                self.spent = True
                raise BudgetSpent
            self._started += 1

    def halt(self) -> None:
        """Stop every task at its next request (an error or an interrupt elsewhere)."""
        with self._lock:
            self._halted = True


@dataclass
class TaskState:
    """What the log says of one task: groups so far, the last ``meta.count``, the next cursor."""

    groups: dict[str, int] = field(default_factory=dict)
    count: int | None = None
    cursor: str = "*"
    done: bool = False


class TaskLog:
    """The append-only JSON-lines log of one phase's pages; thread-safe.

    A line is ``{"task", "cursor", "next", "count", "groups", "done"}``: the page fetched
    with ``cursor``. A torn last line (a kill while writing) is ignored.
    """

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self.states: dict[str, TaskState] = {}
        if path.exists():
            self._load()

    def _load(self) -> None:
        lines = self.path.read_bytes().split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                self._apply(entry)
            except (ValueError, KeyError, TypeError):
                if number == len(lines):  # a torn last line: that page is asked for again
                    break
                raise SelectionError(
                    f"{self.path} is damaged at line {number}; delete it to fetch that phase again"
                ) from None

    def _apply(self, entry: dict) -> None:
        state = self.states.setdefault(entry["task"], TaskState())
        if state.done or entry["cursor"] != state.cursor:
            return  # a page fetched twice (two sessions on one folder): the first one counts
        for key, count in entry["groups"].items():
            state.groups[key] = state.groups.get(key, 0) + int(count)
        state.count = entry["count"]
        state.cursor = entry["next"]
        state.done = bool(entry["done"])

    def state(self, task: str) -> TaskState:
        """The task's state (a fresh one when the log has none)."""
        with self._lock:
            return self.states.setdefault(task, TaskState())

    def record(self, task: str, cursor: str, next_cursor: str | None, count: int, groups: dict[str, int],
               done: bool) -> None:
        """Append one page and apply it to the task's state."""
        entry = {"task": task, "cursor": cursor, "next": next_cursor, "count": count, "groups": groups, "done": done}
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            self._apply(entry)


@dataclass(frozen=True)
class GroupedTask:
    """One grouped query: ``build(client)`` returns the pyalex query (filters only)."""

    key: str
    group_by: str
    build: Callable[[OpenAlexClient], object]


@dataclass(frozen=True)
class CountTask:
    """One count: ``meta.count`` of ``build(client)`` (one request, one result asked for)."""

    key: str
    build: Callable[[OpenAlexClient], object]


def group_key(key: str) -> str:
    """A group's key without the OpenAlex prefix: ``https://openalex.org/countries/CN`` -> ``CN``."""
    return str(key).rsplit("/", 1)[-1]


def run_grouped(client: OpenAlexClient, task: GroupedTask, log: TaskLog, budget: Budget) -> TaskState:
    """Fetch the task's remaining pages (all groups, cursor paging); its final state.

    A page with fewer than ``PER_PAGE`` groups, or without ``next_cursor``, is the last.
    Raises BudgetSpent when the budget ends it first (the pages so far stay in the log).
    """
    state = log.state(task.key)
    while not state.done:
        budget.take()
        cursor = state.cursor
        listing = task.build(client).group_by(task.group_by).get(per_page=PER_PAGE, cursor=cursor)
        page = listing.page
        groups: dict[str, int] = {}
        for group in page.data.get("group_by") or []:
            key = group_key(group["key"])
            groups[key] = groups.get(key, 0) + int(group["count"])
        next_cursor = page.meta.get("next_cursor")
        done = not next_cursor or len(page.data.get("group_by") or []) < PER_PAGE
        log.record(task.key, cursor, None if done else next_cursor, int(page.meta.get("count") or 0), groups, done)
    return state


def run_count(client: OpenAlexClient, task: CountTask, log: TaskLog, budget: Budget) -> TaskState:
    """The task's ``meta.count`` (one request unless the log has it already)."""
    state = log.state(task.key)
    if not state.done:
        budget.take()
        listing = task.build(client).select(["id"]).get(per_page=1)
        log.record(task.key, state.cursor, None, int(listing.page.meta.get("count") or 0), {}, True)
    return state


def run_jobs(jobs: list[Callable[[], None]], budget: Budget, workers: int) -> None:
    """Run the jobs on ``workers`` threads; a job ending with BudgetSpent just ends.

    The first error (or an interrupt) halts the others at their next request and is
    raised once every thread has stopped.
    """

    def guarded(job: Callable[[], None]) -> None:
        try:
            job()
        except BudgetSpent:
            pass

    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures = [pool.submit(guarded, job) for job in jobs]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:
            budget.halt()
            raise
        failed = [f for f in done if f.exception() is not None]
        if failed:
            budget.halt()
            for future in futures:
                future.cancel()
            raise failed[0].exception()
