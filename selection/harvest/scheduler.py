"""Fetching the pages of a harvest: worker threads under one rate limit, one page of a
partition at a time, a checkpoint after every page."""

from __future__ import annotations

import gzip
import json
import logging
import math
import queue
import threading
import time
from dataclasses import asdict

from tqdm import tqdm

from selection.errors import SelectionError
from selection.files import read_json, write_atomic, write_json
from selection.harvest.folder import HarvestDir, leaf_states
from selection.harvest.partitions import Partition, PartitionState, institution_batches, works_query
from selection.harvest.settings import HarvestSettings
from selection.openalex.client import PER_PAGE_MAX, OpenAlexClient
from selection.schema import short_id

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 2.0  # how long stopped workers may take to finish their page


class Harvester:
    """Runs the partitions of one harvest folder with worker threads, then finalises."""

    def __init__(self, client: OpenAlexClient, settings: HarvestSettings, out: HarvestDir, quiet: bool = False):
        self.client = client
        self.settings = settings
        self.out = out
        self.quiet = quiet
        self.batches: list[list[str]] = []
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._outstanding = 0
        self._done = threading.Condition()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._states: dict[str, PartitionState] = {}
        self._paginators: dict[str, object] = {}
        self._works_fetched = 0
        self._expected_pages: dict[str, int] = {}
        self._progress: tqdm | None = None
        self._started = time.monotonic()

    # -- planning -------------------------------------------------------------------

    def plan(self, beijing_ids: list[str], resume: bool) -> None:
        """Fix the institution batches and load or create the partition checkpoints."""
        identity = {**self.settings.query_identity(), "institution_ids": sorted(beijing_ids)}
        if resume and self.out.plan.exists():
            saved = read_json(self.out.plan)
            if saved["identity"] != identity:
                raise SelectionError(
                    f"{self.out.root} holds a harvest with other settings or another institution list; "
                    "use the same options to resume, or choose a new --out"
                )
            self.batches = saved["batches"]
        else:
            self.batches = institution_batches(beijing_ids, self.settings.batch_size)
            write_json(self.out.plan, {"identity": identity, "batches": self.batches})
        self._states = self.out.load_states(self.settings.years(), len(self.batches))
        for state in leaf_states(self._states):
            if state.count is not None:
                self._expected_pages[state.key] = math.ceil(state.count / PER_PAGE_MAX)
            if state.status != "done":
                self._forget_pages_from(state)
                self._enqueue(Partition(**state.partition), state)
        self._works_fetched = sum(state.works for state in self._states.values())

    def _forget_pages_from(self, state: PartitionState) -> None:
        """Delete raw pages a killed run wrote after the partition's last checkpoint."""
        for path in self.out.raw.glob(f"{state.key}.p*.jsonl.gz"):
            if int(path.name[len(state.key) + 2 : -len(".jsonl.gz")]) >= state.pages:
                path.unlink()

    def _enqueue(self, partition: Partition, state: PartitionState) -> None:
        """Queue the partition's next page.

        The queue holds one page per unfinished partition. Partitions of unknown size come
        first (their first page tells whether to split), then those with the most pages
        left: the shared rate limit goes to the longest chains, so chains end together
        and the run does not trail off with a few chains at one page per round trip.
        """
        if state.count is None:
            remaining = math.inf
        else:
            remaining = math.ceil((state.count - state.works) / PER_PAGE_MAX)
        with self._done:
            self._outstanding += 1
        self._queue.put((-remaining, state.key, partition))

    # -- running --------------------------------------------------------------------

    def run(self, on_tick=None, tick_seconds: float = 5.0) -> None:
        """Fetch every pending partition; raises the first worker error.

        ``on_tick`` is called from this thread every ``tick_seconds`` while workers run.
        On Ctrl-C the workers are told to stop and given a moment (together, not each:
        workers waiting on slow responses must not delay the exit once per worker);
        whatever they were writing is atomic, so the folder stays resumable either way.
        """
        self._progress = tqdm(
            total=sum(self._expected_pages.values()) or None,
            initial=sum(s.pages for s in self._states.values()),
            unit="page",
            disable=self.quiet,
            dynamic_ncols=True,
            leave=False,
        )
        workers = [
            threading.Thread(target=self._work, name=f"harvest-{i}", daemon=True)
            for i in range(self.settings.workers)
        ]
        for worker in workers:
            worker.start()
        try:
            self._wait(on_tick, tick_seconds)
        finally:
            self._stop.set()
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            for worker in workers:
                worker.join(timeout=max(0.0, deadline - time.monotonic()))
            self._progress.close()
        if self._error is not None:
            raise self._error

    def _wait(self, on_tick, tick_seconds: float) -> None:
        last_tick = time.monotonic()
        with self._done:
            while self._outstanding and not self._stop.is_set():
                self._done.wait(timeout=0.5)
                if time.monotonic() - last_tick >= tick_seconds:
                    last_tick = time.monotonic()
                    if self.quiet:
                        log.info("harvest: %d/%s pages, %s", self._progress.n, self._progress.total, self._progress_text())
                    if on_tick is not None:
                        on_tick()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                _, key, partition = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                state = self._states[key]
                if self._fetch_page(partition, state) and not self._stop.is_set():
                    self._enqueue(partition, state)
            except BaseException as exc:  # noqa: BLE001 (any failure stops the whole run)
                with self._lock:
                    self._error = self._error or exc
                self._stop.set()
            finally:
                with self._done:
                    self._outstanding -= 1
                    self._done.notify_all()

    def _fetch_page(self, partition: Partition, state: PartitionState) -> bool:
        """Fetch the partition's next page, write it, checkpoint; True while pages remain.

        Each partition keeps its pyalex cursor paginator between pages; only one page
        of a partition is ever queued or in flight.
        """
        paginator = self._paginators.get(state.key)
        if paginator is None:
            query = works_query(self.client, self.batches[partition.batch], partition)
            paginator = query.paginate(per_page=PER_PAGE_MAX, cursor=state.cursor, n_max=None)
            self._paginators[state.key] = paginator
        page = next(paginator).page
        state.charge(page)
        if state.count is None:
            state.count = int(page.meta.get("count") or 0)
            if self._should_split(partition, state.count):
                del self._paginators[state.key]
                self._split(partition, state)
                return False
            self._expect_pages(state)
        if page.results:
            write_atomic(self.out.raw_page(state.key, state.pages), _one_line_gzip(page))
            state.pages += 1
            state.works += len(page.results)
            state.source_ids = sorted(set(state.source_ids).union(_source_ids(page.results)))
        state.cursor = page.meta.get("next_cursor")
        # OpenAlex ends a chain with an empty page; a short page or the count (as of this
        # page: it may move while a chain runs) spares that request.
        latest_count = int(page.meta.get("count") or state.count)
        finished = (
            not page.results
            or state.cursor is None
            or len(page.results) < PER_PAGE_MAX
            or state.works >= latest_count
        )
        state.status = "done" if finished else "running"
        write_json(self.out.checkpoint(state.key), asdict(state))
        self._advance(len(page.results))
        if finished:
            del self._paginators[state.key]
        return not finished

    def _should_split(self, partition: Partition, count: int) -> bool:
        return count > self.settings.split_above and partition.days() > 1

    def _split(self, partition: Partition, state: PartitionState) -> None:
        parts = max(2, math.ceil(2 * state.count / self.settings.split_above))
        children = partition.split(parts)
        child_states = []
        for child in children:
            child_state = PartitionState(key=child.key, partition=asdict(child))
            write_json(self.out.checkpoint(child.key), asdict(child_state))
            child_states.append(child_state)
        state.status = "split"
        state.children = [child.key for child in children]
        # The parent's checkpoint names its children only once they all exist on disk.
        write_json(self.out.checkpoint(state.key), asdict(state))
        log.debug("split %s (%d works) into %d date ranges", state.key, state.count, len(children))
        for child, child_state in zip(children, child_states):
            with self._lock:
                self._states[child.key] = child_state
            self._enqueue(child, child_state)

    def _expect_pages(self, state: PartitionState) -> None:
        with self._lock:
            self._expected_pages[state.key] = max(1, math.ceil(state.count / PER_PAGE_MAX))
            self._progress.total = sum(self._expected_pages.values())

    def _advance(self, works: int) -> None:
        with self._lock:
            self._works_fetched += works
            self._progress.set_postfix_str(self._progress_text(), refresh=False)
            self._progress.update(1)

    def _progress_text(self) -> str:
        elapsed = max(1e-9, time.monotonic() - self._started)
        return f"{self._works_fetched} works, {self.client.stats.requests / elapsed:.1f} req/s"

    # -- finishing ------------------------------------------------------------------

    def partition_summary(self) -> dict:
        """Counts and costs over all partitions, for the manifest."""
        states = list(self._states.values())
        return {
            "total": len(states),
            "split": sum(s.status == "split" for s in states),
            "leaves": sum(s.status != "split" for s in states),
            "pages": sum(s.pages for s in states),
            "requests": sum(s.requests for s in states),
            "retries": sum(s.retries for s in states),
            "cost_usd": round(sum(s.cost_usd for s in states), 6),
        }


def _source_ids(works: list[dict]) -> set[str]:
    ids = set()
    for work in works:
        source = (work.get("primary_location") or {}).get("source") or {}
        if source.get("id"):
            ids.add(short_id(source["id"]))
    return ids


def _one_line_gzip(page) -> bytes:
    body = page.body if b"\n" not in page.body else json.dumps(page.data, separators=(",", ":")).encode()
    return gzip.compress(body + b"\n", compresslevel=1)
