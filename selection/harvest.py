"""Harvest the Beijing papers in ISSN journals from OpenAlex into ``works.parquet``.

The query (SPEC section 4): works with an author at one of the Beijing institutions of
the editable list, published in the year window, of type article or review, whose
primary source is a journal with an ISSN, neither retracted nor paratext. OpenAlex
cannot filter on a city, so works are asked for by institution id, at most 50 ids in
one OR filter; a work under two batches is kept once.

The work is cut into partitions, one per year and institution batch; a partition whose
first page reports more than ``split_above`` works is split into publication-date
ranges, again and again if needed, so that no cursor chain dominates the wall time.
Worker threads fetch pages under one shared rate limit, one page of a partition at a
time, always the next page of the partition with the most pages left. After every page the
partition's checkpoint (cursor, pages written) is replaced atomically, the page itself
having been written before as ``raw/<partition>.p<NNNNN>.jsonl.gz``; ``--resume`` after
a kill at any point continues each partition from its checkpoint.

At the end the sources' countries are looked up from ``/sources`` (batches of 50,
cached), every raw page is normalised (``selection.normalize``), works are deduplicated
and sorted by id and written as ``works.parquet``, then ``manifest.json``. The manifest
is written with ``status: "running"`` at the start and ``"complete"`` only last: an
output folder whose manifest does not say complete is not a harvest result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import logging
import math
import os
import queue
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.institutions import DEFAULT_INSTITUTIONS_PATH, load_institution_list
from selection.journal_groups import JournalGroupResolver, load_overrides
from selection.normalize import WorkNormalizer, check_window, passes_harvest_rules, rows_to_table, short_id
from selection.openalex import (
    PER_PAGE_MAX,
    OpenAlexClient,
    add_connection_arguments,
    client_from_args,
)
from selection.schema import WORKS_SCHEMA

log = logging.getLogger(__name__)

BATCH_SIZE_MAX = 50  # ids in one OR filter (an OpenAlex limit)
SOURCE_BATCH_SIZE = 50
DEFAULT_WORKERS = 16
DEFAULT_SPLIT_ABOVE = 10_000
MANIFEST_VERSION = 1
ROWS_PER_TABLE = 50_000  # rows normalised before they are packed into Arrow
STOP_GRACE_SECONDS = 2.0  # how long stopped workers may take to finish their page

# The top-level work fields the normaliser and the ranking read (OpenAlex cannot select
# nested fields).
WORK_SELECT = (
    "id",
    "doi",
    "title",
    "publication_year",
    "publication_date",
    "type",
    "language",
    "primary_location",
    "authorships",
    "cited_by_count",
    "counts_by_year",
    "fwci",
    "citation_normalized_percentile",
    "referenced_works_count",
    "is_retracted",
    "abstract_inverted_index",
    "primary_topic",
)
WORK_TYPES = ("article", "review")


@dataclass(frozen=True)
class HarvestSettings:
    """Everything that decides which works a harvest returns and how it runs."""

    from_year: int
    to_year: int
    institutions_path: str
    batch_size: int = BATCH_SIZE_MAX
    split_above: int = DEFAULT_SPLIT_ABOVE
    workers: int = DEFAULT_WORKERS
    disciplines: tuple[str, ...] | None = None
    disciplines_path: str | None = None
    overrides_path: str | None = None

    def query_identity(self) -> dict:
        """The settings a resumed run must share with the run it continues."""
        return {
            "from_year": self.from_year,
            "to_year": self.to_year,
            "batch_size": self.batch_size,
            "split_above": self.split_above,
            "select": list(WORK_SELECT),
        }


@dataclass(frozen=True)
class Partition:
    """One cursor chain: a year, an institution batch and a publication-date range."""

    year: int
    batch: int
    date_from: str  # ISO dates, inclusive
    date_to: str

    @property
    def key(self) -> str:
        """A file-name-safe, sortable name, e.g. ``y2021-b003-20210101-20211231``."""
        return f"y{self.year}-b{self.batch:03d}-{self.date_from.replace('-', '')}-{self.date_to.replace('-', '')}"

    def days(self) -> int:
        """How many days the date range covers."""
        return (dt.date.fromisoformat(self.date_to) - dt.date.fromisoformat(self.date_from)).days + 1

    def split(self, parts: int) -> list[Partition]:
        """Cut the date range into ``parts`` (at most one a day) contiguous ranges."""
        start = dt.date.fromisoformat(self.date_from)
        days = self.days()
        parts = max(1, min(parts, days))
        bounds = [start + dt.timedelta(days=round(i * days / parts)) for i in range(parts + 1)]
        return [
            Partition(self.year, self.batch, bounds[i].isoformat(), (bounds[i + 1] - dt.timedelta(days=1)).isoformat())
            for i in range(parts)
        ]


@dataclass
class PartitionState:
    """A partition's checkpoint: where its cursor chain stands and what it cost."""

    key: str
    partition: dict
    status: str = "pending"  # pending | running | split | done
    cursor: str | None = "*"
    pages: int = 0
    works: int = 0
    count: int | None = None
    children: list[str] = field(default_factory=list)
    source_ids: list[str] = field(default_factory=list)  # of the works on its pages
    requests: int = 0
    retries: int = 0
    cost_usd: float = 0.0

    def charge(self, page) -> None:
        """Add one fetched page's attempts and reported credits."""
        self.requests += page.attempts
        self.retries += page.attempts - 1
        self.cost_usd += float(page.meta.get("cost_usd") or 0.0)


class HarvestDir:
    """The files of one output folder: manifest, parquet, raw pages and checkpoints."""

    def __init__(self, root: Path):
        self.root = root
        self.raw = root / "raw"
        self.state = root / "state"
        self.partitions = self.state / "partitions"
        self.manifest = root / "manifest.json"
        self.works = root / "works.parquet"
        self.plan = self.state / "plan.json"
        self.sources = self.state / "source_countries.json"

    def create(self) -> None:
        """Make the folders and remove temporary files a killed run left behind."""
        for folder in (self.raw, self.partitions):
            folder.mkdir(parents=True, exist_ok=True)
        for folder in (self.root, self.raw, self.state, self.partitions):
            for leftover in folder.glob(".*.tmp"):
                leftover.unlink()

    def owns(self, path: Path) -> bool:
        """Whether a top-level entry of the folder is one a harvest writes."""
        own = {self.raw, self.state, self.manifest, self.works}
        return path in own or (path.name.startswith(".") and path.name.endswith(".tmp"))

    def raw_page(self, key: str, page: int) -> Path:
        """Where page ``page`` (0-based) of partition ``key`` is kept."""
        return self.raw / f"{key}.p{page:05d}.jsonl.gz"

    def checkpoint(self, key: str) -> Path:
        """The checkpoint file of partition ``key``."""
        return self.partitions / f"{key}.json"

    def read_manifest(self) -> dict | None:
        """The manifest, or None when there is none."""
        return read_json(self.manifest) if self.manifest.exists() else None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` at once: a reader sees the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def write_json(path: Path, value) -> None:
    """``write_atomic`` of indented JSON."""
    write_atomic(path, json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False).encode() + b"\n")


def read_json(path: Path):
    """Parse a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def institution_batches(institution_ids, batch_size: int) -> list[list[str]]:
    """The ids in numeric order, cut into OR batches of at most ``batch_size``."""
    ordered = sorted(institution_ids, key=lambda i: int(i[1:]))
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


def works_query(client: OpenAlexClient, institution_ids: list[str], partition: Partition):
    """The pyalex query of one partition (institution OR batch, year, dates, rules)."""
    # filter_or first: a later filter() merges into its OR group (scalars are unaffected),
    # whereas a list handed to filter() alone would mean AND.
    return (
        client.works()
        .filter_or(**{"authorships.institutions.id": list(institution_ids), "type": list(WORK_TYPES)})
        .filter(
            publication_year=partition.year,
            from_publication_date=partition.date_from,
            to_publication_date=partition.date_to,
            primary_location={"source": {"type": "journal", "has_issn": True}},
            is_retracted=False,
            is_paratext=False,
        )
        .select(list(WORK_SELECT))
    )


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
        for year in range(self.settings.from_year, self.settings.to_year + 1):
            for batch in range(len(self.batches)):
                self._load(Partition(year, batch, f"{year}-01-01", f"{year}-12-31"))
        self._works_fetched = sum(state.works for state in self._states.values())

    def _load(self, partition: Partition) -> None:
        path = self.out.checkpoint(partition.key)
        if path.exists():
            state = PartitionState(**read_json(path))
        else:
            state = PartitionState(key=partition.key, partition=asdict(partition))
        self._states[state.key] = state
        if state.status == "split":
            for child_key in state.children:
                self._load(Partition(**read_json(self.out.checkpoint(child_key))["partition"]))
            return
        if state.count is not None:
            self._expected_pages[state.key] = math.ceil(state.count / PER_PAGE_MAX)
        if state.status != "done":
            self._forget_pages_from(state)
            self._enqueue(partition, state)

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

    def leaf_states(self) -> list[PartitionState]:
        """The partitions that hold pages (not split), in key order."""
        return sorted((s for s in self._states.values() if s.status != "split"), key=lambda s: s.key)

    def iter_raw_works(self):
        """Every work of every raw page, partition by partition, page by page."""
        for state in self.leaf_states():
            for number in range(state.pages):
                with gzip.open(self.out.raw_page(state.key, number), "rb") as handle:
                    yield from json.loads(handle.read())["results"]

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


def lookup_source_countries(client: OpenAlexClient, source_ids, cache_path: Path, workers: int) -> dict:
    """``{source_id: country_code or None}`` from ``/sources`` in batches of 50, cached.

    Ids already in the cache file are not asked again; the cache is saved as batches
    come back, so a killed lookup resumes where it stopped.
    """
    cache = read_json(cache_path) if cache_path.exists() else {"countries": {}, "requests": 0, "cost_usd": 0.0}
    countries = cache["countries"]
    missing = sorted(set(source_ids) - set(countries))
    batches = [missing[i : i + SOURCE_BATCH_SIZE] for i in range(0, len(missing), SOURCE_BATCH_SIZE)]

    def fetch(batch: list[str]) -> tuple[list[str], object]:
        query = client.sources().filter_or(openalex=batch).select(["id", "country_code"])
        return batch, query.get(per_page=SOURCE_BATCH_SIZE)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for done, (batch, listing) in enumerate(pool.map(fetch, batches), start=1):
            found = {short_id(source["id"]): source.get("country_code") for source in listing}
            for source_id in batch:
                countries[source_id] = found.get(source_id)
            cache["requests"] += listing.page.attempts
            cache["cost_usd"] += float(listing.page.meta.get("cost_usd") or 0.0)
            if done % 20 == 0 or done == len(batches):
                write_json(cache_path, cache)
    return cache


def finalise(harvester: Harvester, settings: HarvestSettings, beijing_ids: set[str]) -> dict:
    """Normalise the raw pages into ``works.parquet``; returns the manifest's counts part."""
    out = harvester.out
    source_ids = set().union(*(s.source_ids for s in harvester.leaf_states()))
    source_cache = lookup_source_countries(harvester.client, source_ids, out.sources, settings.workers)

    resolver = JournalGroupResolver(load_overrides(settings.overrides_path), source_cache["countries"])
    normalizer = WorkNormalizer(beijing_ids, resolver, load_disciplines(settings.disciplines_path))
    tables, rows, seen = [], [], set()
    records = rule_failures = 0
    for work in harvester.iter_raw_works():
        records += 1
        work_id = short_id(work.get("id"))
        if work_id in seen:
            continue
        seen.add(work_id)
        # The server filtered already; a mirror that ignores a filter must not leak works.
        if not passes_harvest_rules(work, beijing_ids, settings.from_year, settings.to_year):
            rule_failures += 1
            continue
        rows.append(normalizer.row(work))
        if len(rows) == ROWS_PER_TABLE:
            tables.append(rows_to_table(rows))
            rows = []
    tables.append(rows_to_table(rows))
    table = pa.concat_tables(tables)
    before_filter = table.num_rows
    if settings.disciplines:
        table = table.filter(pc.is_in(table["discipline"], value_set=pa.array(settings.disciplines)))
    table = table.sort_by("work_id").cast(WORKS_SCHEMA)
    tmp = out.works.with_name(f".{out.works.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, out.works)
    return {
        "harvested_records": records,
        "duplicates_removed": records - len(seen),
        "failing_the_rules_removed": rule_failures,
        "outside_disciplines_removed": before_filter - table.num_rows,
        "works": table.num_rows,
        "by_year": _value_counts(table, "publication_year"),
        "by_discipline": _value_counts(table, "discipline"),
        "by_journal_group": _value_counts(table, "journal_group"),
        "by_journal_group_rule": _value_counts(table, "journal_group_rule"),
        "missing_fields": dict(sorted(Counter(normalizer.missing).items())),
        "source_lookups": {
            "sources": len(source_ids),
            "with_country": sum(1 for s in source_ids if source_cache["countries"].get(s)),
            "requests": source_cache["requests"],
            "cost_usd": round(source_cache["cost_usd"], 6),
        },
    }


def _value_counts(table: pa.Table, column: str) -> dict:
    counts = Counter(table[column].to_pylist())
    return {str(k): v for k, v in sorted(counts.items(), key=lambda kv: (kv[0] is None, str(kv[0])))}


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


# -- command line ---------------------------------------------------------------------


def register(subparsers) -> None:
    """``python -m selection harvest``."""
    parser = subparsers.add_parser(
        "harvest",
        help="harvest Beijing works in ISSN journals from OpenAlex into works.parquet",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--from-year", type=int, required=True, help="first publication year")
    parser.add_argument("--to-year", type=int, required=True, help="last publication year (a window of 3 to 5 years)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted harvest in --out")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help=f"worker threads, each with one page request at a time (default {DEFAULT_WORKERS})")
    parser.add_argument("--split-above", type=int, default=DEFAULT_SPLIT_ABOVE,
                        help=f"split a partition with more works into date ranges (default {DEFAULT_SPLIT_ABOVE})")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE_MAX, help="institution ids per OR filter (at most 50)")
    parser.add_argument("--institutions", type=Path, help=f"Beijing institution list (default {DEFAULT_INSTITUTIONS_PATH.name})")
    parser.add_argument("--disciplines", help="comma-separated discipline keys to keep (default: all works)")
    parser.add_argument("--disciplines-file", type=Path, help="discipline mapping TOML (default: the packaged one)")
    parser.add_argument("--journal-overrides", type=Path, help="ISSN -> CN number table (default: the packaged one)")
    parser.add_argument("--quiet", action="store_true", help="log lines instead of a progress bar")
    add_connection_arguments(parser)
    parser.set_defaults(func=run_harvest)


def settings_from_args(args: argparse.Namespace, today: dt.date | None = None) -> HarvestSettings:
    """Check the options (one SelectionError naming the fix per problem)."""
    check_window(args.from_year, args.to_year, today)
    if not 1 <= args.batch_size <= BATCH_SIZE_MAX:
        raise SelectionError(f"--batch-size must be between 1 and {BATCH_SIZE_MAX}")
    if args.workers < 1:
        raise SelectionError("--workers must be at least 1")
    if args.split_above < PER_PAGE_MAX:
        raise SelectionError(f"--split-above must be at least {PER_PAGE_MAX}")
    disciplines = None
    if args.disciplines:
        disciplines = tuple(key.strip() for key in args.disciplines.split(",") if key.strip())
        known = load_disciplines(args.disciplines_file)
        unknown = [key for key in disciplines if key not in known]
        if unknown:
            raise SelectionError(
                f"unknown discipline {', '.join(unknown)}; valid keys: {', '.join(known.keys())}"
            )
    return HarvestSettings(
        from_year=args.from_year,
        to_year=args.to_year,
        institutions_path=str(args.institutions or DEFAULT_INSTITUTIONS_PATH),
        batch_size=args.batch_size,
        split_above=args.split_above,
        workers=args.workers,
        disciplines=disciplines,
        disciplines_path=str(args.disciplines_file) if args.disciplines_file else None,
        overrides_path=str(args.journal_overrides) if args.journal_overrides else None,
    )


def prepare_output(out: HarvestDir, resume: bool) -> None:
    """Refuse to overwrite a finished harvest, to mix a new run into an old one or to
    write into a folder that holds something else."""
    entries = list(out.root.iterdir()) if out.root.exists() else []
    foreign = [p.name for p in entries if not out.owns(p)]
    if foreign:
        raise SelectionError(f"{out.root} holds other files ({foreign[0]} ...); choose a new or empty --out")
    manifest = out.read_manifest()
    if manifest and manifest.get("status") == "complete":
        raise SelectionError(f"{out.root} already holds a complete harvest; choose a new --out or delete it")
    if entries and not resume:
        raise SelectionError(f"{out.root} holds an unfinished harvest; add --resume to continue it or choose a new --out")
    out.create()
    if out.works.exists():
        out.works.unlink()


def harvest(client: OpenAlexClient, settings: HarvestSettings, out_dir: Path, resume: bool = False, quiet: bool = False) -> dict:
    """Run (or resume) a harvest into ``out_dir``; returns the final manifest."""
    out = HarvestDir(out_dir)
    institutions = load_institution_list(settings.institutions_path)
    prepare_output(out, resume)
    clock = time.monotonic()
    previous = out.read_manifest() or {}
    manifest = {
        "version": MANIFEST_VERSION,
        "status": "running",
        "settings": {
            **asdict(settings),
            "base_url": client.base_url,
            "rate": client.limiter.rate,
            "institutions": len(institutions),
        },
        "sessions": previous.get("sessions", []) + [{"started_at": _now()}],
    }
    write_json(out.manifest, manifest)
    harvester = Harvester(client, settings, out, quiet=quiet)
    try:
        harvester.plan(list(institutions), resume)
        manifest["query"] = query_description(harvester)
        harvester.run(on_tick=lambda: _close_session(out, manifest, client, clock, "running"))
        fetched = time.monotonic()
        counts = finalise(harvester, settings, set(institutions))
        manifest["sessions"][-1]["fetch_seconds"] = round(fetched - clock, 3)
        manifest["sessions"][-1]["finalise_seconds"] = round(time.monotonic() - fetched, 3)
    except KeyboardInterrupt:
        _close_session(out, manifest, client, clock, "interrupted", "interrupted; run again with --resume")
        raise
    except SelectionError as exc:
        # The messages say what to fix, and "--resume" where waiting is the fix.
        _close_session(out, manifest, client, clock, "failed", str(exc))
        raise
    partitions = harvester.partition_summary()
    manifest["counts"] = counts
    manifest["partitions"] = partitions
    manifest["requests"] = {
        "made": partitions["requests"] + counts["source_lookups"]["requests"],
        "retries": partitions["retries"],
        "this_session": client.stats.as_dict(),
    }
    manifest["credits"] = {
        "cost_usd": round(partitions["cost_usd"] + counts["source_lookups"]["cost_usd"], 6),
        "rate_limit_headers": client.stats.as_dict()["rate_limit_headers"],
    }
    manifest["files"] = {"works": out.works.name, "raw_pages": f"raw/*.jsonl.gz ({partitions['pages']} files)"}
    _close_session(out, manifest, client, clock, "complete")
    return manifest


def query_description(harvester: Harvester) -> dict:
    """The works query in words, with the URL of the first batch's first partition."""
    settings = harvester.settings
    year = settings.from_year
    example = works_query(harvester.client, harvester.batches[0] if harvester.batches else [],
                          Partition(year, 0, f"{year}-01-01", f"{year}-12-31"))
    return {
        "endpoint": "/works",
        "rules": "an author at a listed Beijing institution (exact ids, no lineage), publication year in the "
        "window, type article or review, primary source a journal with an ISSN, not retracted, not paratext",
        "institution_batches": len(harvester.batches),
        "first_partition_url": example.url,
        "select": list(WORK_SELECT),
        "per_page": PER_PAGE_MAX,
        "paging": "cursor; partitions of year x institution batch, split by publication date above split_above",
    }


def _close_session(out: HarvestDir, manifest: dict, client: OpenAlexClient, clock: float, status: str,
                   error: str | None = None) -> None:
    """Record this session's time and requests and the run's status in the manifest."""
    manifest["sessions"][-1].update(
        {
            "seconds": round(time.monotonic() - clock, 3),
            "status": status,
            "requests": client.stats.requests,
            "retries": client.stats.retries,
        }
    )
    manifest["status"] = status
    manifest["duration_seconds"] = round(sum(s.get("seconds", 0.0) for s in manifest["sessions"]), 3)
    if error:
        manifest["error"] = error
    else:
        manifest.pop("error", None)
    if status == "complete":
        manifest["finished_at"] = _now()
    write_json(out.manifest, manifest)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def run_harvest(args: argparse.Namespace) -> int:
    """The ``harvest`` subcommand."""
    logging.basicConfig(level=logging.INFO if args.quiet else logging.WARNING, format="%(asctime)s %(message)s")
    settings = settings_from_args(args)
    client = client_from_args(args)
    manifest = harvest(client, settings, args.out, resume=args.resume, quiet=args.quiet)
    counts = manifest["counts"]
    print(
        f"{args.out}: {counts['works']} works ({counts['duplicates_removed']} duplicates removed), "
        f"{manifest['requests']['made']} requests, {manifest['requests']['retries']} retries, "
        f"{manifest['credits']['cost_usd']} USD, {manifest['duration_seconds']:.1f} s"
    )
    return 0
