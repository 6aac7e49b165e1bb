"""The enrichment folder: its three tables (schemas, writing, reading back) and its files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from selection.errors import SelectionError
from selection.files import read_json, write_atomic
from selection.schema import TABLE_KEY, VERSION_KEY

ENRICHMENT_SCHEMA_VERSION = 1


def _schema(name: str, columns: list[tuple[str, pa.DataType]]) -> pa.Schema:
    return pa.schema(columns, metadata={TABLE_KEY: name.encode(), VERSION_KEY: str(ENRICHMENT_SCHEMA_VERSION).encode()})


# World works per primary topic and publication year (articles and reviews, all of OpenAlex).
TOPIC_GROWTH_SCHEMA = _schema(
    "topic_growth",
    [("topic_id", pa.string()), ("publication_year", pa.int32()), ("works", pa.int64())],
)
# Articles and reviews in China-published journals: how many have each citation count, per
# subfield and year.
NATIONAL_BASELINE_SCHEMA = _schema(
    "national_baseline",
    [("subfield_id", pa.int32()), ("publication_year", pa.int32()), ("cited_by_count", pa.int32()), ("works", pa.int64())],
)
# Who cites a work in contention; null where not fetched (budget).
CITING_SCHEMA = _schema(
    "citing",
    [("work_id", pa.string()), ("citing_works", pa.int32()), ("citing_no_china_works", pa.int32()),
     ("citing_countries", pa.int32())],
)
SCHEMAS = {"topic_growth": TOPIC_GROWTH_SCHEMA, "national_baseline": NATIONAL_BASELINE_SCHEMA, "citing": CITING_SCHEMA}


class EnrichDir:
    """The files of one enrichment folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.manifest = self.root / "manifest.json"
        self.state = self.root / "state"

    def table(self, name: str) -> Path:
        """``<name>.parquet`` of the folder (a key of ``SCHEMAS``)."""
        return self.root / f"{name}.parquet"

    def log(self, phase: str) -> Path:
        """The page log of a phase."""
        return self.state / f"{phase}.jsonl"

    def read_manifest(self) -> dict | None:
        """The manifest, or None when there is none."""
        return read_json(self.manifest) if self.manifest.exists() else None

    def prepare(self, resume: bool) -> dict:
        """Check the folder may be written (``--resume`` for an existing enrichment, nothing
        foreign in it); returns the previous manifest (empty when new)."""
        manifest = self.read_manifest()
        if manifest is not None and not resume:
            raise SelectionError(
                f"{self.root} already holds an enrichment; add --resume to continue or extend it, or choose a new --out"
            )
        if manifest is None and self.root.exists():
            own = {self.state.name, *(self.table(name).name for name in SCHEMAS)}
            foreign = sorted(p.name for p in self.root.iterdir() if p.name not in own and not p.name.endswith(".tmp"))
            if foreign:
                raise SelectionError(f"{self.root} holds other files ({foreign[0]} ...); choose a new or empty --out")
        self.state.mkdir(parents=True, exist_ok=True)
        for leftover in [*self.root.glob(".*.tmp"), *self.state.glob(".*.tmp")]:
            leftover.unlink()
        return manifest or {}


def write_table(frame: pd.DataFrame, name: str, path: Path) -> int:
    """Write ``frame`` as ``path`` with exactly ``SCHEMAS[name]``, atomically; its rows."""
    schema = SCHEMAS[name]
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    table = table.replace_schema_metadata(schema.metadata)
    write_atomic(path, lambda temporary: pq.write_table(table, temporary))
    return table.num_rows


def empty_frame(name: str) -> pd.DataFrame:
    """A table of ``SCHEMAS[name]`` without rows, with the dtypes ``read_table`` gives."""
    return _to_pandas(SCHEMAS[name].empty_table(), name)


def read_table(path: Path, name: str) -> pd.DataFrame:
    """One enrichment table; SelectionError when its columns are not ``SCHEMAS[name]``'s."""
    schema = SCHEMAS[name]
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise SelectionError(f"{path} is not a readable Parquet file ({exc}); run selection enrich again") from None
    if table.schema.names != schema.names:
        raise SelectionError(
            f"{path} has the columns {', '.join(table.schema.names)}, not {', '.join(schema.names)}; "
            "write it with python -m selection enrich"
        )
    try:
        table = table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SelectionError(f"{path} has columns of the wrong type ({exc}); write it with python -m selection enrich") from None
    return _to_pandas(table, name)


def _to_pandas(table: pa.Table, name: str) -> pd.DataFrame:
    if name == "citing":  # nulls where not fetched
        return table.to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)
    return table.to_pandas()


@dataclass(frozen=True)
class Enrichment:
    """What ``python -m selection enrich`` left in a folder; each table empty (right
    columns) when its file is absent, ``manifest`` empty when there is none."""

    topic_growth: pd.DataFrame
    national_baseline: pd.DataFrame
    citing: pd.DataFrame
    manifest: dict


def read_enrichment(folder: str | Path) -> Enrichment:
    """Read an enrichment folder; SelectionError when it is missing or a file has wrong columns."""
    out = EnrichDir(Path(folder))
    if not out.root.is_dir():
        raise SelectionError(f"{out.root} is not a folder; pass the --out of python -m selection enrich")
    tables = {
        name: read_table(out.table(name), name) if out.table(name).exists() else empty_frame(name) for name in SCHEMAS
    }
    return Enrichment(**tables, manifest=out.read_manifest() or {})
