"""Ranking speed and memory on 1,000,000 synthetic works (16 disciplines, 2 journal groups).

One run, three processes so that each figure is its own:

1. generate: ``selection.synthetic.works_table`` (enough draws for 1,000,000 eligible
   works), written to a temporary works.parquet;
2. read: ``pandas.read_parquet`` of the whole file, the cost of merely reading it;
3. rank: what ``python -m selection rank --works works.parquet --out DIR`` does, timed
   from before its imports to the last output file (reading the columns it needs,
   ranking, writing candidates.parquet, candidates.xlsx, summary.json and the charts),
   with the peak resident memory of that process.

Prints the figures and the ratio rank / read; exits 1 when a target is missed.
Usage: ``.venv/bin/python benchmarks/rank.py [--works 1000000] [--keep DIR]``.
Targets on the project's 2-core machine: <= 30 s, <= 4 GiB, ratio <= 5.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

WALL_TARGET_SECONDS = 30.0
MEMORY_TARGET_GIB = 4.0
RATIO_TARGET = 5.0
ELIGIBLE_SHARE_GUESS = 0.8  # share of drawn synthetic works that pass the harvest rules


def generate(works: int, path: Path) -> dict:
    """Write exactly ``works`` harvest-eligible synthetic works to ``path``."""
    import pyarrow.parquet as pq

    from selection.synthetic import works_table

    draws = math.ceil(works / ELIGIBLE_SHARE_GUESS)
    table = works_table(draws, seed=0)
    while len(table) < works:
        draws = math.ceil(draws * 1.2)
        table = works_table(draws, seed=0)
    pq.write_table(table.slice(0, works), path)
    return {"rows": works, "bytes": path.stat().st_size}


def read(path: Path) -> dict:
    """Time ``pandas.read_parquet`` of the whole file."""
    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_parquet(path)
    return {"seconds": time.perf_counter() - started, "rows": len(frame)}


def rank(path: Path, out: Path) -> dict:
    """The rank command's work, timed from its imports on, with a breakdown."""
    started = time.perf_counter()
    from selection.disciplines import load_disciplines
    from selection.ranking.rank import load_works, rank_works
    from selection.ranking.report import file_sha256, write_report
    from selection.ranking.settings import load_rank_settings

    imported = time.perf_counter()
    settings, disciplines = load_rank_settings(), load_disciplines()
    works = load_works(path)
    loaded = time.perf_counter()
    result = rank_works(works, settings, disciplines)
    ranked = time.perf_counter()
    write_report(result, disciplines, {"path": str(path), "sha256": file_sha256(path), "rows": len(works)}, out)
    written = time.perf_counter()
    return {
        "seconds": written - started,
        "import_seconds": imported - started,
        "load_seconds": loaded - imported,
        "rank_seconds": ranked - loaded,
        "write_seconds": written - ranked,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,  # KiB on Linux
        "candidates": len(result.candidates),
        "full_lists": sum(entry["shortfall"] == 0 for entry in result.lists),
        "lists": len(result.lists),
    }


def in_child(step: str, *arguments: str) -> dict:
    """Run one step in a fresh interpreter and return the JSON it prints."""
    completed = subprocess.run(
        [sys.executable, __file__, "--step", step, *arguments], check=True, capture_output=True, text=True
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the outputs here instead of a temporary folder")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("arguments", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        steps = {"generate": lambda: generate(int(args.arguments[0]), Path(args.arguments[1])),
                 "read": lambda: read(Path(args.arguments[0])),
                 "rank": lambda: rank(Path(args.arguments[0]), Path(args.arguments[1]))}
        print(json.dumps(steps[args.step]()))
        return 0

    with tempfile.TemporaryDirectory(prefix="rank-benchmark-") as folder:
        works_path = Path(folder) / "works.parquet"
        out = args.keep or Path(folder) / "out"
        generated = in_child("generate", str(args.works), str(works_path))
        print(f"works.parquet: {generated['rows']:,} works, {generated['bytes'] / 2**20:.0f} MiB")
        reading = in_child("read", str(works_path))
        ranking = in_child("rank", str(works_path), str(out))

    ratio = ranking["seconds"] / reading["seconds"]
    print(f"read (pandas.read_parquet, all columns): {reading['seconds']:.2f} s")
    print(
        f"rank command: {ranking['seconds']:.2f} s wall "
        f"(imports {ranking['import_seconds']:.2f}, read needed columns {ranking['load_seconds']:.2f}, "
        f"rank {ranking['rank_seconds']:.2f}, write outputs {ranking['write_seconds']:.2f})"
    )
    print(f"peak memory of the rank process: {ranking['peak_rss_gib']:.2f} GiB")
    print(f"ratio rank / read: {ratio:.2f}")
    print(f"candidates: {ranking['candidates']:,}; lists at full quota: {ranking['full_lists']} of {ranking['lists']}")
    missed = [
        name
        for name, value, target in (
            ("wall time", ranking["seconds"], WALL_TARGET_SECONDS),
            ("peak memory", ranking["peak_rss_gib"], MEMORY_TARGET_GIB),
            ("ratio", ratio, RATIO_TARGET),
        )
        if value > target
    ]
    print("targets (<= 30 s, <= 4 GiB, ratio <= 5): " + (f"MISSED {', '.join(missed)}" if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
