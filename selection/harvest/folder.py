"""The output folder of a harvest, the rules for writing into it, and reading back what
a run left there (partition checkpoints, raw pages)."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from selection.errors import SelectionError
from selection.files import read_json
from selection.harvest.partitions import Partition, PartitionState


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
        self.institutions = self.state / "institutions.csv"  # the list the harvest used

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

    @staticmethod
    def root_partitions(years: range, batches: int) -> list[Partition]:
        """The year x batch partitions every harvest starts from, whole years."""
        return [Partition(year, batch, f"{year}-01-01", f"{year}-12-31") for year in years for batch in range(batches)]

    def load_states(self, years: range, batches: int) -> dict[str, PartitionState]:
        """Every partition's state by key: each year x batch partition from its checkpoint
        (pending when it has none yet) and, below a split one, its children's."""
        states: dict[str, PartitionState] = {}
        pending = self.root_partitions(years, batches)
        while pending:
            partition = pending.pop()
            path = self.checkpoint(partition.key)
            if path.exists():
                state = PartitionState(**read_json(path))
            else:
                state = PartitionState(key=partition.key, partition=asdict(partition))
            states[state.key] = state
            if state.status == "split":
                # A parent names its children only once all their checkpoints exist.
                pending += [Partition(**read_json(self.checkpoint(key))["partition"]) for key in state.children]
        return states

    def iter_raw_works(self, leaves: list[PartitionState]) -> Iterator[dict]:
        """Every work of the raw pages of ``leaves``, partition by partition, page by page;
        SelectionError naming the page when one is missing or damaged."""
        for state in leaves:
            for number in range(state.pages):
                path = self.raw_page(state.key, number)
                try:
                    with gzip.open(path, "rb") as handle:
                        results = json.loads(handle.read())["results"]
                except FileNotFoundError:
                    raise SelectionError(f"raw page {path} is missing; harvest again into a new folder") from None
                except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError) as exc:
                    raise SelectionError(f"raw page {path} is damaged ({exc}); harvest again into a new folder") from None
                yield from results


def leaf_states(states: dict[str, PartitionState]) -> list[PartitionState]:
    """The partitions that hold pages (not split), in key order."""
    return sorted((state for state in states.values() if state.status != "split"), key=lambda state: state.key)


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
