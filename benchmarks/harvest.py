"""Harvest pacing and throughput against a local OpenAlex server that enforces the rate.

Starts two servers (``python -m tests.selection.rate_enforcing``: the mock server, which
answers 429 with a whole-second ``Retry-After`` to any request beyond ``--rate`` in any
one-second window, as a rate-limited API does), each with a synthetic world and
500-1500 ms per page (OpenAlex pages of 200 full records take about a second): a small
world for a harvest of about 20 pages and a large one for about 500. In one run:

1. plain pyalex, sequential cursor paging of one partition's query (pyalex's own
   ``Works().paginate()``; a transport adapter sends its https://api.openalex.org
   requests to the local server) for a few seconds;
2. ``selection.harvest.run.harvest`` of the small and of the large world at ``--rate``:
   requests, 429s the server answered, and how busy the limit was (the server's count of
   arrivals from the first to the last request of the harvest, against rate x that span);
   works/s of the fetch phase against the ceiling (rate x 200 works) and sequential paging;
3. parse-and-normalise throughput of the harvested raw pages on one core, against plain
   ``json.loads`` of the same bytes.

Usage: ``.venv/bin/python benchmarks/harvest.py [--small-works 4800] [--large-works 120000] [--rate 10]``.
Targets: no 429, the limit >= 0.85 busy on both harvests, the large harvest >= 0.85 of the
ceiling and >= 5x sequential paging.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyalex
import pyalex.api
import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from selection.disciplines import load_disciplines  # noqa: E402
from selection.harvest.normalize import WorkNormalizer, rows_to_table  # noqa: E402
from selection.harvest.partitions import Partition, works_query  # noqa: E402
from selection.harvest.run import harvest  # noqa: E402
from selection.harvest.settings import DEFAULT_SPLIT_ABOVE, DEFAULT_WORKERS, HarvestSettings  # noqa: E402
from selection.institutions import beijing_institutions_from_openalex, write_institution_list  # noqa: E402
from selection.journal_groups import JournalGroupResolver, load_overrides  # noqa: E402
from selection.openalex.client import PER_PAGE_MAX, OpenAlexClient  # noqa: E402
from selection.openalex.ratelimit import RateLimiter  # noqa: E402
from tests.selection.rate_enforcing import ARRIVALS_PATH  # noqa: E402

BUSY_TARGET = 0.85
CEILING_TARGET = 0.85
SEQUENTIAL_TARGET = 5.0


class LocalServerAdapter(requests.adapters.HTTPAdapter):
    """Sends requests for https://api.openalex.org to the local server instead."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url

    def send(self, request, **kwargs):
        request.url = request.url.replace(pyalex.config.openalex_url, self.base_url, 1)
        return super().send(request, **kwargs)


def start_server(works: int, args) -> subprocess.Popen:
    """A rate-enforcing mock server in its own process (its JSON work must not share our GIL)."""
    command = [
        sys.executable, "-m", "tests.selection.rate_enforcing", "--synthetic", str(works), "--seed", str(args.seed),
        "--latency", str(args.latency[0]), str(args.latency[1]), "--enforce-rate", str(args.rate),
        "--daily-budget", "1000000", "--warm",
    ]
    shared = Path(os.environ.get("SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    if (shared / "openalex").is_dir():
        # Its real records carry every field the harvest selects (the synthetic ones may lack some).
        command += ["--shared-data", str(shared)]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, env=environment)


def server_url(process: subprocess.Popen) -> str:
    """The URL the server prints once its world is built."""
    line = process.stdout.readline()
    if not line.startswith("serving on "):
        process.kill()
        raise SystemExit(f"the mock server did not start: {line!r}")
    return line.split()[-1]


def sequential_pyalex(base_url: str, institution_ids: list[str], year: int, seconds: float) -> float:
    """Works/s of plain pyalex paging one partition's query, for about ``seconds``."""
    plain_query = pyalex.Works(params=works_query(OpenAlexClient(base_url), institution_ids,
                                                  Partition(year, 0, f"{year}-01-01", f"{year}-12-31")).params)

    def local_session():
        session = requests.Session()
        session.mount(pyalex.config.openalex_url, LocalServerAdapter(base_url))
        return session

    original = pyalex.api._get_requests_session
    pyalex.api._get_requests_session = local_session
    try:
        works, started = 0, time.monotonic()
        for page in plain_query.paginate(per_page=PER_PAGE_MAX, n_max=None):
            works += len(page)
            if time.monotonic() - started >= seconds:
                break
        return works / (time.monotonic() - started)
    finally:
        pyalex.api._get_requests_session = original


def arrivals(base_url: str, mailto: str) -> list[tuple[float, int]]:
    """``(arrival time, status)`` of every request the server received from ``mailto``."""
    response = requests.get(base_url + ARRIVALS_PATH, params={"mailto": mailto}, timeout=30)
    response.raise_for_status()
    return [tuple(item) for item in response.json()["arrivals"]]


def busy_share(times: list[float], rate: float) -> float:
    """How busy the requests kept the limit: n requests over their span, against the rate."""
    if len(times) < 2:
        return 1.0
    return (len(times) - 1) / ((max(times) - min(times)) * rate)


def run_harvest(label: str, base_url: str, limiter: RateLimiter, args, tmp: Path) -> tuple[dict, float, Path]:
    """One harvest of a server's Beijing works; prints its figures; (manifest, busy share, folder)."""
    mailto = f"{label}@benchmark.test"
    client = OpenAlexClient(base_url, limiter=limiter, mailto=mailto)
    institutions = beijing_institutions_from_openalex(client)
    institutions_path = tmp / f"{label}-beijing.csv"
    write_institution_list(institutions, institutions_path)
    listing_requests = client.stats.requests
    settings = HarvestSettings(from_year=2021, to_year=2025, institutions_path=str(institutions_path),
                               split_above=args.split_above, workers=args.workers)
    out = tmp / label
    first_total = []
    manifest = harvest(client, settings, out, quiet=True,
                       on_progress=lambda progress: first_total.append(progress.works_total) if not first_total else None)
    # The fetch phase's requests: after the institution list's, before the source lookups.
    fetch_arrivals = arrivals(base_url, mailto)[listing_requests:listing_requests + manifest["partitions"]["requests"]]
    refused = sum(1 for _, status in arrivals(base_url, mailto) if status == 429)
    busy = busy_share([when for when, _ in fetch_arrivals], args.rate)
    session = manifest["sessions"][-1]
    fetched = manifest["counts"]["harvested_records"]
    ceiling = args.rate * PER_PAGE_MAX
    print(
        f"{label} harvest: {fetched:,} works, {manifest['partitions']['pages']} pages, "
        f"{manifest['requests']['made']} requests ({manifest['partitions']['leaves']} chains), "
        f"{refused} answered 429 (target 0); "
        f"limit busy {busy:.2f} (target >= {BUSY_TARGET}); fetch {session['fetch_seconds']:.1f} s = "
        f"{fetched / session['fetch_seconds']:,.0f} works/s = {fetched / session['fetch_seconds'] / ceiling:.2f} "
        f"of the ceiling; first progress report's total {first_total[0] if first_total else None}",
        flush=True,
    )
    return manifest, busy if refused == 0 else 0.0, out


def parse_throughput(raw_dir: Path, beijing_ids: set[str], pages: int) -> tuple[float, float, int]:
    """Works/s of ``json.loads`` alone and of ``json.loads`` + normalise + Arrow, one thread,
    over the first ``pages`` raw pages."""
    bodies = [gzip.decompress(path.read_bytes()) for path in sorted(raw_dir.glob("*.jsonl.gz"))[:pages]]
    started = time.perf_counter()
    works = sum(len(json.loads(body)["results"]) for body in bodies)
    loads_seconds = time.perf_counter() - started

    normalizer = WorkNormalizer(beijing_ids, JournalGroupResolver(load_overrides(), {}), load_disciplines())
    started = time.perf_counter()
    rows = [normalizer.row(work) for body in bodies for work in json.loads(body)["results"]]
    rows_to_table(rows)
    normalise_seconds = time.perf_counter() - started
    return works / loads_seconds, works / normalise_seconds, works


def main() -> int:
    """Run the measurements and print them; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small-works", type=int, default=4800, help="synthetic works of the small world (~20 pages)")
    parser.add_argument("--large-works", type=int, default=120_000, help="synthetic works of the large world (~500 pages)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second, the server's limit and ours")
    parser.add_argument("--workers", type=int, default=20, help=f"worker threads (the harvest's default: {DEFAULT_WORKERS})")
    parser.add_argument("--split-above", type=int, default=DEFAULT_SPLIT_ABOVE)
    parser.add_argument("--latency", type=float, nargs=2, default=(0.5, 1.5), metavar=("MIN", "MAX"))
    parser.add_argument("--sequential-seconds", type=float, default=8.0)
    parser.add_argument("--parse-pages", type=int, default=100, help="raw pages timed for parsing")
    args = parser.parse_args()

    print(f"starting two rate-enforcing mock servers ({args.small_works} and {args.large_works} synthetic works, "
          f"{args.rate:g} requests/s) ...", flush=True)
    small_server = start_server(args.small_works, args)
    large_server = start_server(args.large_works, args)
    try:
        small_url, large_url = server_url(small_server), server_url(large_server)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            limiters = {url: RateLimiter(args.rate) for url in (small_url, large_url)}  # one per server, as its limit
            _, small_busy, _ = run_harvest("small", small_url, limiters[small_url], args, tmp)
            manifest, large_busy, out = run_harvest("large", large_url, limiters[large_url], args, tmp)
            session = manifest["sessions"][-1]
            rate = manifest["counts"]["harvested_records"] / session["fetch_seconds"]
            ceiling = args.rate * PER_PAGE_MAX

            institutions = beijing_institutions_from_openalex(OpenAlexClient(large_url, limiter=limiters[large_url]))
            time.sleep(1.5)  # let the server's window empty: pyalex below has no limiter
            sequential = sequential_pyalex(large_url, sorted(institutions)[:50], 2023, args.sequential_seconds)
            print(f"plain pyalex, sequential cursor paging: {sequential:,.0f} works/s", flush=True)
            print(f"large harvest: ratio to the ceiling ({args.rate:g} req/s x {PER_PAGE_MAX} = {ceiling:,.0f} works/s): "
                  f"{rate / ceiling:.2f} (target >= {CEILING_TARGET}); ratio to sequential pyalex paging: "
                  f"{rate / sequential:.1f}x (target >= {SEQUENTIAL_TARGET:g}x)")
            loads_rate, normalise_rate, works = parse_throughput(out / "raw", set(institutions), args.parse_pages)
            print(
                f"one core, {works:,} works: json.loads {loads_rate:,.0f} works/s; json.loads + normalise + Arrow "
                f"{normalise_rate:,.0f} works/s ({normalise_rate / loads_rate:.2f} of json.loads)"
            )
    finally:
        for server in (small_server, large_server):
            server.terminate()
            server.wait(timeout=30)
    met = (
        min(small_busy, large_busy) >= BUSY_TARGET
        and rate / ceiling >= CEILING_TARGET
        and rate / sequential >= SEQUENTIAL_TARGET
    )
    print("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
