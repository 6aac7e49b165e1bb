"""Fetching the pages of a harvest: worker threads under one rate limit, one page of a
partition at a time, a checkpoint after every page.

A cursor chain is sequential, so a harvest with fewer chains than workers cannot keep the
rate limit busy: at planning such a harvest's year x batch partitions are cut into
date ranges up front (``presplit_pieces``). The first page of every chain, whose
``meta.count`` is the chain's total, is queued before any further page, so the harvest's
total is known after one page per chain, and every progress report (``HarvestProgress``)
carries it.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import queue
import threading
import time
from dataclasses import asdict, dataclass

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


class HarvestStopped(KeyboardInterrupt):
    """Raised by ``Harvester.run`` once its ``should_stop()`` says so: the harvest ends as after
    Ctrl-C (its workers stopped, the run recorded interrupted, the folder resumable)."""


@dataclass(frozen=True)
class HarvestProgress:
    """Where a running harvest stands; ``works_total`` is None until every chain's first page is in."""

    works_done: int
    works_total: int | None
    pages_done: int
    pages_left: int | None
    requests: int
    elapsed_seconds: float
    rate: float  # the limit, requests a second

    @property
    def eta_seconds(self) -> float | None:
        """Seconds still needed at the rate limit (the harvest keeps it busy)."""
        return None if self.pages_left is None else self.pages_left / self.rate

    def describe(self) -> str:
        """One line for a log or the manifest."""
        total = "?" if self.works_total is None else f"{self.works_total}"
        eta = "?" if self.eta_seconds is None else f"{self.eta_seconds:.0f} s"
        speed = self.requests / max(1e-9, self.elapsed_seconds)
        return f"{self.works_done}/{total} works, {self.pages_done} pages, {speed:.1f} req/s, ETA {eta}"

    def as_dict(self) -> dict:
        """A JSON-ready copy for the manifest."""
        return {
            "works_done": self.works_done, "works_total": self.works_total, "pages_done": self.pages_done,
            "pages_left": self.pages_left, "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1),
        }


def presplit_pieces(roots: int, workers: int) -> int:
    """Into how many date ranges each of ``roots`` partitions is cut up front so that the
    workers have a chain each (1: no cut)."""
    return 1 if roots >= workers else math.ceil(workers / max(1, roots))


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
        self._turns = 0  # first pages go in the order they were queued
        self._done = threading.Condition()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._states: dict[str, PartitionState] = {}
        self._paginators: dict[str, object] = {}
        self._works_fetched = 0
        self._roots: list[str] = []
        self._bar: tqdm | None = None
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
        roots = self.out.root_partitions(self.settings.years(), len(self.batches))
        self._roots = [root.key for root in roots]
        pieces = presplit_pieces(len(roots), self.settings.workers)
        if pieces > 1:
            for root in roots:
                if not self.out.checkpoint(root.key).exists():
                    self._write_split(PartitionState(key=root.key, partition=asdict(root)), root.split(pieces))
        self._states = self.out.load_states(self.settings.years(), len(self.batches))
        for state in _interleaved(leaf_states(self._states), self._states):
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
        first (their first page tells the count, and whether to split), in the order
        queued, then those with the most pages left: the shared rate limit goes to the longest chains, so chains
        end together and the run does not trail off with a few chains at one page per
        round trip.
        """
        if state.count is None:
            remaining = math.inf
        else:
            remaining = math.ceil((state.count - state.works) / PER_PAGE_MAX)
        with self._done:
            self._outstanding += 1
            turn = self._turns = self._turns + 1
        self._queue.put((-remaining, turn if state.count is None else 0, state.key, partition))

    # -- running --------------------------------------------------------------------

    def run(self, on_progress=None, tick_seconds: float = 5.0, should_stop=None) -> None:
        """Fetch every pending partition; raises the first worker error.

        ``on_progress`` gets a ``HarvestProgress`` from this thread as soon as the total is
        known, then every ``tick_seconds`` while workers run, and once at the end.
        ``should_stop()`` (optional) is asked twice a second; once it says True the harvest
        stops as on Ctrl-C, raising ``HarvestStopped``.
        On Ctrl-C the workers are told to stop and given a moment (together, not each:
        workers waiting on slow responses must not delay the exit once per worker);
        whatever they were writing is atomic, so the folder stays resumable either way.
        """
        self._started = time.monotonic()
        self._bar = tqdm(
            total=None,
            initial=self._works_fetched,
            unit="work",
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
            self._wait(on_progress, tick_seconds, should_stop)
        finally:
            self._stop.set()
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            for worker in workers:
                worker.join(timeout=max(0.0, deadline - time.monotonic()))
            self._bar.close()
        if self._error is not None:
            raise self._error

    def _wait(self, on_progress, tick_seconds: float, should_stop) -> None:
        last_report = None
        with self._done:
            while self._outstanding and not self._stop.is_set():
                self._done.wait(timeout=0.5)
                if should_stop is not None and should_stop():
                    raise HarvestStopped()
                if last_report is None or time.monotonic() - last_report >= tick_seconds:
                    if self._report(on_progress):
                        last_report = time.monotonic()
            if self._error is None and not self._stop.is_set():
                self._report(on_progress)

    def _report(self, on_progress) -> bool:
        """Hand out a progress report once the total is known; whether one was made."""
        progress = self.progress()
        if progress.works_total is None:
            return False
        if self.quiet:
            log.info("harvest: %s", progress.describe())
        if on_progress is not None:
            on_progress(progress)
        return True

    def progress(self) -> HarvestProgress:
        """Works and pages done, the total (None while a chain has no first page yet), pages left."""
        with self._lock:
            tallies = [self._tally(self._states[key], None) for key in self._roots]
            works_done = self._works_fetched
            pages_done = sum(state.pages for state in self._states.values())
        known = None not in tallies
        return HarvestProgress(
            works_done=works_done,
            works_total=round(sum(t[0] for t in tallies)) if known else None,
            pages_done=pages_done,
            pages_left=sum(t[1] for t in tallies) if known else None,
            requests=self.client.stats.requests,
            elapsed_seconds=time.monotonic() - self._started,
            rate=self.client.limiter.rate,
        )

    def _tally(self, state: PartitionState, share: float | None) -> tuple[float, int] | None:
        """(works expected, pages left) of a partition and those under it; None while unknown.

        ``share`` is the parent's count divided among its date ranges, the estimate for a
        range not yet counted (the ranges of a counted partition hold exactly its works).
        """
        if state.status == "split":
            child_share = state.count / len(state.children) if state.count is not None else share
            parts = [self._tally(self._states[key], child_share) for key in state.children if key in self._states]
            if None in parts or len(parts) < len(state.children):
                return None
            if state.count is not None and any(self._states[key].count is None for key in state.children):
                return float(state.count), sum(part[1] for part in parts)
            return sum(part[0] for part in parts), sum(part[1] for part in parts)
        if state.status == "done":
            return float(state.works), 0
        count = state.count if state.count is not None else share
        if count is None:
            return None
        return max(float(count), float(state.works)), max(1, math.ceil((count - state.works) / PER_PAGE_MAX))

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                _, _, key, partition = self._queue.get(timeout=0.2)
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
        # The longest chains take their turn at the rate limit first, so that the chains end
        # together and the run does not trail off with a few long chains.
        remaining = math.inf if state.count is None else (state.count - state.works) / PER_PAGE_MAX
        with self.client.priority(min(remaining, 1e9)):
            page = next(paginator).page
        state.charge(page)
        if state.count is None:
            state.count = int(page.meta.get("count") or 0)
            if self._should_split(partition, state.count):
                del self._paginators[state.key]
                parts = max(2, math.ceil(2 * state.count / self.settings.split_above))
                log.debug("split %s (%d works) into %d date ranges", state.key, state.count, parts)
                self._enqueue_children(self._write_split(state, partition.split(parts)))
                return False
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

    def _write_split(self, state: PartitionState, children: list[Partition]) -> list[PartitionState]:
        """Write the children's checkpoints, then the parent's naming them; the children's states."""
        child_states = []
        for child in children:
            child_state = PartitionState(key=child.key, partition=asdict(child))
            write_json(self.out.checkpoint(child.key), asdict(child_state))
            child_states.append(child_state)
        state.status = "split"
        state.children = [child.key for child in children]
        # The parent's checkpoint names its children only once they all exist on disk.
        write_json(self.out.checkpoint(state.key), asdict(state))
        return child_states

    def _enqueue_children(self, child_states: list[PartitionState]) -> None:
        with self._lock:
            for child_state in child_states:
                self._states[child_state.key] = child_state
        for child_state in child_states:
            self._enqueue(Partition(**child_state.partition), child_state)

    def _advance(self, works: int) -> None:
        with self._lock:
            self._works_fetched += works
        progress = self.progress()
        with self._lock:
            if progress.works_total is not None and self._bar.total != progress.works_total:
                self._bar.total = progress.works_total
            self._bar.set_postfix_str(f"{progress.pages_done} pages, ETA {progress.eta_seconds or 0:.0f} s"
                                      if progress.eta_seconds is not None else f"{progress.pages_done} pages",
                                      refresh=False)
            self._bar.update(works)

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


def _interleaved(leaves: list[PartitionState], states: dict[str, PartitionState]) -> list[PartitionState]:
    """``leaves`` with the first date range of every year first, then every second one ...:
    the years' sizes differ, and a big year's ranges, whose second pages wait for their
    first, should not all come last."""
    position = {key: index for state in states.values() for index, key in enumerate(state.children or [])}
    return sorted(leaves, key=lambda state: (position.get(state.key, 0), state.key))


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
