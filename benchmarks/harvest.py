"""Harvest throughput against the local OpenAlex server, at OpenAlex's pace.

Starts ``python -m selection.openalex.mockserver`` with a synthetic world and 500-1500 ms per page
(OpenAlex pages of 200 full records take about a second), then measures in one run:

1. plain pyalex, sequential cursor paging of one partition's query (pyalex's own
   ``Works().paginate()``; a transport adapter sends its https://api.openalex.org
   requests to the local server) for a few seconds;
2. ``selection.harvest.run.harvest`` under a 10 requests/s limit: works/s of the fetch phase, its
   ratio to the ceiling (rate x 200 works) and to the sequential figure;
3. parse-and-normalise throughput of the harvested raw pages on one core, against plain
   ``json.loads`` of the same bytes.

Usage: ``.venv/bin/python benchmarks/harvest.py [--works 60000] [--rate 10] [--workers 20]``.
Targets: >= 0.85 of the ceiling, >= 5x sequential paging.
"""

from __future__ import annotations

import argparse
import gzip
import json
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
from selection.harvest.settings import HarvestSettings  # noqa: E402
from selection.institutions import beijing_institutions_from_openalex, write_institution_list  # noqa: E402
from selection.journal_groups import JournalGroupResolver, load_overrides  # noqa: E402
from selection.openalex.client import PER_PAGE_MAX, OpenAlexClient  # noqa: E402

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


def start_server(args) -> tuple[subprocess.Popen, str]:
    """The mock server in its own process (its JSON work must not share our GIL)."""
    command = [
        sys.executable, "-m", "selection.openalex.mockserver", "--synthetic", str(args.works), "--seed", str(args.seed),
        "--latency", str(args.latency[0]), str(args.latency[1]),
    ]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("serving on "):
        process.kill()
        raise SystemExit(f"the mock server did not start: {line!r}")
    return process, line.split()[-1]


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
    """Run the three measurements and print them; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--works", type=int, default=60_000, help="synthetic works the server holds")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second")
    parser.add_argument("--workers", type=int, default=20)
    # The synthetic world has one institution batch, so 5 root partitions of ~10,000
    # works: 6000 splits them into ~20 chains, enough to keep 10 requests in flight.
    parser.add_argument("--split-above", type=int, default=6000)
    parser.add_argument("--latency", type=float, nargs=2, default=(0.5, 1.5), metavar=("MIN", "MAX"))
    parser.add_argument("--sequential-seconds", type=float, default=8.0)
    parser.add_argument("--parse-pages", type=int, default=100, help="raw pages timed for parsing")
    args = parser.parse_args()

    print(f"starting the mock server with {args.works} synthetic works ...", flush=True)
    server, base_url = start_server(args)
    try:
        client = OpenAlexClient(base_url, rate=args.rate)
        institutions = beijing_institutions_from_openalex(client)
        print(f"{len(institutions)} Beijing institutions (geo) on the server", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            institutions_path = Path(tmp) / "beijing.csv"
            write_institution_list(institutions, institutions_path)

            sequential = sequential_pyalex(base_url, sorted(institutions)[:50], 2023, args.sequential_seconds)
            print(f"plain pyalex, sequential cursor paging: {sequential:,.0f} works/s", flush=True)

            settings = HarvestSettings(
                from_year=2021, to_year=2025, institutions_path=str(institutions_path),
                split_above=args.split_above, workers=args.workers,
            )
            manifest = harvest(OpenAlexClient(base_url, rate=args.rate), settings, Path(tmp) / "out", quiet=True)
            session = manifest["sessions"][-1]
            fetched = manifest["counts"]["harvested_records"]
            rate = fetched / session["fetch_seconds"]
            ceiling = args.rate * PER_PAGE_MAX
            end_to_end = manifest["counts"]["works"] / session["seconds"]
            print(
                f"harvest: {fetched:,} works in {session['fetch_seconds']:.1f} s of fetching "
                f"({manifest['requests']['made']} requests, {manifest['partitions']['total']} partitions, "
                f"{args.workers} workers, split above {args.split_above}, latency {args.latency[0]:g}-{args.latency[1]:g} s); "
                f"finalise {session['finalise_seconds']:.1f} s"
            )
            print(f"harvest fetch rate: {rate:,.0f} works/s")
            print(f"ratio to the ceiling ({args.rate:g} req/s x {PER_PAGE_MAX} = {ceiling:,.0f} works/s): "
                  f"{rate / ceiling:.2f} (target >= {CEILING_TARGET})")
            print(f"ratio to sequential pyalex paging: {rate / sequential:.1f}x (target >= {SEQUENTIAL_TARGET:g}x)")
            print(f"end to end incl. source lookups, normalising and writing: {end_to_end:,.0f} works/s")

            loads_rate, normalise_rate, works = parse_throughput(Path(tmp) / "out" / "raw", set(institutions), args.parse_pages)
            print(
                f"one core, {works:,} works: json.loads {loads_rate:,.0f} works/s; json.loads + normalise + Arrow "
                f"{normalise_rate:,.0f} works/s ({normalise_rate / loads_rate:.2f} of json.loads)"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    met = rate / ceiling >= CEILING_TARGET and rate / sequential >= SEQUENTIAL_TARGET
    print("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
