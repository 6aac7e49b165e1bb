"""``python -m selection import-snapshot``: works.parquet from an OpenAlex snapshot on disk.

The snapshot layout is ``SNAPSHOT_DIR/data/works/updated_date=YYYY-MM-DD/part_NNN.gz``
(gzipped JSON lines; ``SNAPSHOT_DIR/works/...`` is accepted too). Files are streamed line
by line, so memory holds only the kept works, never a whole file.

- Cheap pre-filter: a line is parsed only when it names a listed Beijing institution id.
- Duplicates: a work can sit in several ``updated_date`` partitions; partitions are read
  newest first and the version with the latest ``updated_date`` wins, before the harvest
  rules (``normalize.passes_harvest_rules``) are applied to it. A version that no longer
  names any Beijing institution is not seen by the pre-filter, so in that rare case an
  older version would be kept; and when a later-read partition holds a newer version
  (its own ``updated_date`` is later), the missing-field counts include the replaced one.
- Journal groups use ``SNAPSHOT_DIR/data/sources/...`` country codes when present.

Writes ``DIR/works.parquet`` and ``DIR/manifest.json``, each atomically.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.files import write_atomic, write_json
from selection.harvest.normalize import (
    WorkNormalizer,
    check_window,
    passes_harvest_rules,
    rows_to_table,
    table_counts,
)
from selection.institutions import load_institution_list
from selection.journal_groups import JournalGroupResolver, load_overrides
from selection.schema import WORKS_SCHEMA, short_id

ROWS_PER_CHUNK = 50_000
DEFAULT_WINDOW_YEARS = 5
_PARTITION = re.compile(r"^updated_date=(\d{4}-\d{2}-\d{2})$")
_INSTITUTION_ID = re.compile(rb'openalex\.org/(I\d+)"')
_SEQUENCE = "_sequence"  # which version of a work a buffered row came from


def snapshot_part_files(snapshot_dir: Path, entity: str) -> list[tuple[str, Path]]:
    """``(updated_date, path)`` of the part files of one entity, newest partition first;
    empty when the entity folder is absent."""
    for folder in (snapshot_dir / "data" / entity, snapshot_dir / entity):
        if folder.is_dir():
            break
    else:
        return []
    parts = []
    for partition in folder.iterdir():
        match = _PARTITION.match(partition.name)
        if match and partition.is_dir():
            parts += [(match.group(1), path) for path in partition.glob("part_*.gz")]
    return sorted(parts, key=lambda part: (part[0], part[1].name), reverse=True)


def read_source_countries(parts: list[tuple[str, Path]]) -> dict[str, str | None]:
    """Short source id -> country code from the sources part files (newest version wins)."""
    countries: dict[str, str | None] = {}
    for _, path in parts:
        for source in _records(path):
            countries.setdefault(short_id(source.get("id")), source.get("country_code"))
    return countries


def _lines(path: Path) -> Iterator[bytes]:
    try:
        with gzip.open(path, "rb") as handle:
            for line in handle:
                if line.strip():
                    yield line
    except (OSError, EOFError) as exc:
        raise SelectionError(f"cannot read {path}: {exc}; re-download that part file") from None


def _records(path: Path) -> Iterator[dict]:
    for number, line in enumerate(_lines(path), start=1):
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise _not_json(path, number, exc) from None


def _not_json(path: Path, number: int, exc: json.JSONDecodeError) -> SelectionError:
    return SelectionError(f"{path}: record {number} is not JSON ({exc}); re-download that part file")


class _VersionPicker:
    """Keeps the latest version of each work and the harvest-eligible rows among them."""

    def __init__(self, normalizer: WorkNormalizer, beijing_ids: frozenset[str], from_year: int, to_year: int):
        self.normalizer = normalizer
        self.beijing_ids = beijing_ids
        self.beijing_id_bytes = frozenset(i.encode() for i in beijing_ids)
        self.window = (from_year, to_year)
        self.latest: dict[str, tuple[str, int]] = {}  # work id -> (updated_date, sequence)
        self.superseded: set[int] = set()
        self.sequence = 0
        self.rows: list[dict] = []
        self.tables: list[pa.Table] = []
        self.counts = Counter()

    def offer(self, line: bytes, partition_date: str) -> None:
        """Consider one JSON line of a works part file (partitions come newest first)."""
        self.counts["lines_read"] += 1
        if not self.beijing_id_bytes.intersection(_INSTITUTION_ID.findall(line)):
            return
        self.counts["lines_naming_beijing_institutions"] += 1
        work = json.loads(line)
        work_id = short_id(work.get("id"))
        updated = work.get("updated_date") or partition_date
        known = self.latest.get(work_id)
        if known is not None:
            self.counts["duplicate_versions"] += 1
            if known[0] >= updated:
                return
            self.superseded.add(known[1])
        self.sequence += 1
        self.latest[work_id] = (updated, self.sequence)
        if passes_harvest_rules(work, self.beijing_ids, *self.window):
            row = self.normalizer.row(work)
            row[_SEQUENCE] = self.sequence
            self.rows.append(row)
            if len(self.rows) >= ROWS_PER_CHUNK:
                self._flush()

    def _flush(self) -> None:
        if self.rows:
            sequences = pa.array([row[_SEQUENCE] for row in self.rows], pa.int64())
            self.tables.append(rows_to_table(self.rows).append_column(_SEQUENCE, sequences))
            self.rows = []

    def table(self) -> pa.Table:
        """The kept works, sorted by work id, exactly ``WORKS_SCHEMA``."""
        self._flush()
        if not self.tables:
            return WORKS_SCHEMA.empty_table()
        table = pa.concat_tables(self.tables)
        if self.superseded:
            stale = pc.is_in(table[_SEQUENCE], value_set=pa.array(sorted(self.superseded), pa.int64()))
            table = table.filter(pc.invert(stale))
        return table.drop_columns([_SEQUENCE]).sort_by("work_id")


def import_snapshot(
    snapshot_dir: str | Path,
    out_dir: str | Path,
    from_year: int,
    to_year: int,
    beijing_institution_ids: set[str],
    journal_overrides: dict[str, str],
    disciplines_path: str | Path | None = None,
) -> dict:
    """Filter, deduplicate and normalise the snapshot's works into ``out_dir``; returns
    the manifest (also written as ``manifest.json``)."""
    started = time.monotonic()
    snapshot_dir, out_dir = Path(snapshot_dir), Path(out_dir)
    check_window(from_year, to_year)
    if not snapshot_dir.is_dir():
        raise SelectionError(f"snapshot folder {snapshot_dir} not found; pass the folder that holds data/works")
    work_parts = snapshot_part_files(snapshot_dir, "works")
    if not work_parts:
        raise SelectionError(
            f"no works part files under {snapshot_dir}; expected data/works/updated_date=YYYY-MM-DD/part_NNN.gz"
        )
    source_parts = snapshot_part_files(snapshot_dir, "sources")
    source_countries = read_source_countries(source_parts)
    normalizer = WorkNormalizer(
        beijing_institution_ids, JournalGroupResolver(journal_overrides, source_countries), load_disciplines(disciplines_path)
    )
    picker = _VersionPicker(normalizer, normalizer.beijing_institution_ids, from_year, to_year)
    for partition_date, path in work_parts:
        for number, line in enumerate(_lines(path), start=1):
            try:
                picker.offer(line, partition_date)
            except json.JSONDecodeError as exc:
                raise _not_json(path, number, exc) from None
    table = picker.table()
    if table.num_rows == 0:
        raise SelectionError(
            f"no work in {snapshot_dir} passed the harvest rules for {from_year}-{to_year}; "
            "check --institutions (the Beijing ids) and the years"
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / "works.parquet", lambda temporary: pq.write_table(table, temporary))
    manifest = {
        "command": "import-snapshot",
        "snapshot_dir": str(snapshot_dir),
        "from_year": from_year,
        "to_year": to_year,
        "beijing_institutions": len(beijing_institution_ids),
        "files_read": [str(path.relative_to(snapshot_dir)) for _, path in [*work_parts, *source_parts]],
        "sources_with_country": sum(1 for country in source_countries.values() if country),
        **dict(sorted(picker.counts.items())),
        "works": table.num_rows,
        **table_counts(table),
        "missing_fields": dict(sorted(normalizer.missing.items())),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "duration_seconds": round(time.monotonic() - started, 3),
    }
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def register(subparsers) -> None:
    """``python -m selection import-snapshot``."""
    this_year = dt.date.today().year
    parser = subparsers.add_parser(
        "import-snapshot",
        help="build works.parquet from an OpenAlex snapshot on disk",
        description=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("snapshot_dir", type=Path, metavar="SNAPSHOT_DIR", help="folder holding data/works/updated_date=*/")
    parser.add_argument("--out", type=Path, required=True, help="output folder for works.parquet and manifest.json")
    parser.add_argument("--from-year", type=int, default=this_year - DEFAULT_WINDOW_YEARS,
                        help=f"first publication year (default {this_year - DEFAULT_WINDOW_YEARS})")
    parser.add_argument("--to-year", type=int, default=this_year - 1, help=f"last publication year (default {this_year - 1})")
    parser.add_argument("--institutions", type=Path, help="Beijing institution list CSV (default: the packaged one)")
    parser.add_argument("--overrides", type=Path, help="journal override CSV, ISSN -> CN number (default: the packaged one)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    manifest = import_snapshot(
        args.snapshot_dir,
        args.out,
        args.from_year,
        args.to_year,
        set(load_institution_list(args.institutions)),
        load_overrides(args.overrides),
    )
    print(
        f"{manifest['works']} works from {manifest['lines_read']} lines in {len(manifest['files_read'])} files "
        f"-> {args.out / 'works.parquet'} ({manifest['duration_seconds']} s)"
    )
    return 0
