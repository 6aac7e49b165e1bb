"""Snapshot import throughput: DuckDB on all cores against line-by-line Python, same files.

Builds an OpenAlex-shaped snapshot in a temporary folder from the synthetic world
(``selection.synthetic.generate_world`` JSON): ``--works`` lines in ``--parts`` gzipped part
files of one ``updated_date`` partition, plus an older partition holding a second version
of some works. The world's works are copied under fresh ids until there are enough lines;
in all but ``--beijing-share`` of the copies the Beijing institutions are swapped for
unlisted ones (in a real snapshot a few percent of the works name a Beijing institution).
Then, in one run, ``import_snapshot`` with the ``lines`` engine and with the ``duckdb``
engine (every core), and prints for each the lines read per second, the works kept, and the
ratio; the two tables must be equal.

Usage: ``.venv/bin/python benchmarks/snapshot.py [--works 260000] [--parts 16] [--beijing-share 0.05]``.
Target: DuckDB across all cores beats line-by-line (ratio > 1), and both give the same table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from selection.harvest.snapshot import import_snapshot  # noqa: E402
from selection.synthetic import generate_world  # noqa: E402

LATEST, OLDER = "2026-11-01", "2025-10-01"
UNLISTED_INSTITUTION = "https://openalex.org/I9999999999"


def build_snapshot(root: Path, args) -> tuple[set[str], dict[str, str], int]:
    """Write the snapshot; the Beijing ids, the journal overrides and the lines written."""
    world = generate_world(args.world_works, seed=args.seed)
    beijing = sorted(f"https://openalex.org/{i}" for i in world.beijing_institution_ids)
    # Each world work as JSON text, as it is and with every Beijing id swapped for an unlisted one.
    texts = [(work["id"], json.dumps(work)) for work in world.works]
    unlisted = []
    for work_id, text in texts:
        for institution in beijing:
            text = text.replace(f'"{institution}"', f'"{UNLISTED_INSTITUTION}"')
        unlisted.append(text)
    rng = random.Random(args.seed)
    folder = root / "data" / "works" / f"updated_date={LATEST}"
    folder.mkdir(parents=True)
    handles = [gzip.open(folder / f"part_{number:03d}.gz", "wt", encoding="utf-8", compresslevel=3)
               for number in range(args.parts)]
    older = []
    for line in range(args.works):
        work_id, text = texts[line % len(texts)]
        named = rng.random() < args.beijing_share
        text = (text if named else unlisted[line % len(texts)]).replace(
            f'"{work_id}"', f'"https://openalex.org/W{10_000_000_000 + line}"')
        if named and rng.random() < 0.1:
            older.append(text.replace('"title": "', '"title": "An older title: ', 1)
                         .replace('"updated_date": "', f'"updated_date": "{OLDER}T00:00:00", "was": "', 1))
        handles[line % args.parts].write(text + "\n")
    for handle in handles:
        handle.close()
    with gzip.open(_older_part(root), "wt", encoding="utf-8", compresslevel=3) as handle:
        for text in older:
            handle.write(text + "\n")
    return set(world.beijing_institution_ids), world.journal_overrides, args.works + len(older)


def _older_part(root: Path) -> Path:
    folder = root / "data" / "works" / f"updated_date={OLDER}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "part_000.gz"


def main() -> int:
    """Build the snapshot, import it with both engines, print the figures; exit 1 when DuckDB loses."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--works", type=int, default=260_000, help="lines of the latest partition")
    parser.add_argument("--parts", type=int, default=16, help="part files of the latest partition")
    parser.add_argument("--beijing-share", type=float, default=0.05, help="share of lines naming a Beijing institution")
    parser.add_argument("--world-works", type=int, default=5000, help="synthetic works copied to fill the lines")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: every core)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        beijing, overrides, lines = build_snapshot(root / "snapshot", args)
        size = sum(path.stat().st_size for path in (root / "snapshot").rglob("*.gz"))
        print(f"snapshot: {lines:,} lines in {args.parts + 1} part files, {size / 1e6:,.0f} MB gzipped, "
              f"built in {time.perf_counter() - started:.1f} s", flush=True)
        seconds = {}
        for engine in ("lines", "duckdb"):
            started = time.perf_counter()
            manifest = import_snapshot(root / "snapshot", root / engine, 2021, 2025, beijing, overrides,
                                       engine=engine, threads=args.threads)
            seconds[engine] = time.perf_counter() - started
            cores = f", {manifest['threads']} threads of {os.cpu_count()} cores" if engine == "duckdb" else ", one core"
            print(f"{engine:>6}: {seconds[engine]:6.1f} s, {manifest['lines_read'] / seconds[engine]:,.0f} lines/s, "
                  f"{manifest['works']:,} works kept ({manifest['works'] / seconds[engine]:,.0f} works/s){cores}",
                  flush=True)
        same = pq.read_table(root / "lines" / "works.parquet").equals(pq.read_table(root / "duckdb" / "works.parquet"))
    ratio = seconds["lines"] / seconds["duckdb"]
    print(f"DuckDB / line-by-line throughput: {ratio:.2f}x (target > 1: DuckDB across all cores beats line-by-line); "
          f"tables equal: {same}")
    met = ratio > 1 and same
    print("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
