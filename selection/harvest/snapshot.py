"""``python -m selection import-snapshot``: works.parquet from an OpenAlex snapshot on disk.

The snapshot layout is ``SNAPSHOT_DIR/data/works/updated_date=YYYY-MM-DD/part_NNN.gz``
(gzipped JSON lines; ``SNAPSHOT_DIR/works/...`` is accepted too). Two engines give the
same table:

- ``duckdb`` (the default): DuckDB reads every part file, on all cores, keeps the lines
  that name a listed Beijing institution, picks each work's latest version and applies the
  harvest rules in SQL (``HARVEST_RULES_SQL``, the same rules as
  ``normalize.passes_harvest_rules``); only the kept works are parsed into Python and
  normalised.
- ``lines``: the files are streamed line by line in Python, so memory holds only the kept
  works; a line is parsed only when it names a listed Beijing institution id.

Duplicates: a work can sit in several ``updated_date`` partitions; among the versions that
name a listed Beijing institution the one with the latest ``updated_date`` wins (ties: the
newest partition, then the higher part file), before the harvest rules are applied to it.
A version that no longer names any Beijing institution is not seen by that pre-filter, so
in that rare case an older version would be kept. The ``lines`` engine normalises every
candidate version as it reads, so when a later-read partition holds a newer version its
missing-field counts include the replaced one; the ``duckdb`` engine normalises the
winners only.

Journal groups use ``SNAPSHOT_DIR/data/sources/...`` country codes when present.
Writes ``DIR/works.parquet`` and ``DIR/manifest.json``, each atomically.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
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
    HARVESTED_TYPES,
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
ENGINES = ("duckdb", "lines")
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


def _lines_table(
    normalizer: WorkNormalizer, work_parts: list[tuple[str, Path]], beijing_ids: frozenset[str], from_year: int,
    to_year: int,
) -> tuple[pa.Table, Counter]:
    """The ``lines`` engine: every part file streamed line by line; the table and the counts."""
    picker = _VersionPicker(normalizer, beijing_ids, from_year, to_year)
    for partition_date, path in work_parts:
        for number, line in enumerate(_lines(path), start=1):
            try:
                picker.offer(line, partition_date)
            except json.JSONDecodeError as exc:
                raise _not_json(path, number, exc) from None
    return picker.table(), picker.counts


# The harvest rules of ``normalize.passes_harvest_rules`` over a work's JSON text ``json``:
# ``truthy`` is Python's truth of a JSON value, ``$beijing`` the short institution ids,
# ``$types`` the harvested types, ``$from_year`` / ``$to_year`` the window.
HARVEST_RULES_SQL = """
    NOT truthy(json_extract(json, '$.is_retracted'))
    AND NOT truthy(json_extract(json, '$.is_paratext'))
    AND list_contains($types, json_extract_string(json, '$.type'))
    AND json_type(json, '$.publication_year') IN ('BIGINT', 'UBIGINT')
    AND json_extract(json, '$.publication_year')::HUGEINT BETWEEN $from_year AND $to_year
    AND json_extract_string(json, '$.primary_location.source.type') = 'journal'
    AND (truthy(json_extract(json, '$.primary_location.source.issn_l'))
         OR truthy(json_extract(json, '$.primary_location.source.issn')))
    AND list_has_any(
        list_transform(json_extract_string(json, '$.authorships[*].institutions[*].id'),
                       lambda institution: upper(regexp_extract(institution, '[^/]*$'))),
        $beijing)
"""
_TRUTHY_SQL = """CREATE TEMP MACRO truthy(value) AS
    value IS NOT NULL AND value::VARCHAR NOT IN ('null', 'false', '0', '0.0', '-0', '""', '[]', '{}')"""
# One pass over every line, read as plain text (no JSON parsing): per file its count of
# non-blank lines and the lines naming a listed Beijing id as ``openalex.org/<id>"`` (the
# ``lines`` engine's pre-filter, on the same text; ``$named`` is one RE2 alternation).
_SCAN_SQL = r"""CREATE TEMP TABLE scanned AS
    SELECT filename, count(*) AS lines, list(json) FILTER (WHERE regexp_matches(json, $named)) AS named
    FROM read_csv($files, columns = {'json': 'VARCHAR'}, delim = $delimiter, quote = '', escape = '', header = false,
                  compression = 'gzip', filename = true, max_line_size = 16777216, auto_detect = false)
    WHERE json IS NOT NULL AND NOT regexp_full_match(json, '\s*')
    GROUP BY filename"""
_VERSIONS_SQL = """CREATE TEMP TABLE versions AS
    SELECT named.json, files.file_rank,
           upper(regexp_extract(nullif(json_extract_string(named.json, '$.id'), ''), '[^/]*$')) AS work_id,
           coalesce(nullif(json_extract_string(named.json, '$.updated_date'), ''), files.partition_date) AS updated
    FROM (SELECT filename, unnest(named) AS json FROM scanned) AS named JOIN files USING (filename)"""
_KEPT_SQL = f"""SELECT json FROM (
        SELECT json, row_number() OVER (PARTITION BY work_id ORDER BY updated DESC, file_rank) AS version
        FROM versions)
    WHERE version = 1 AND {HARVEST_RULES_SQL}"""


def duckdb_kept_works(
    work_parts: list[tuple[str, Path]], beijing_ids: frozenset[str], from_year: int, to_year: int,
    threads: int | None = None,
) -> tuple[Iterator[str], Counter]:
    """The JSON text of each work the import keeps (its latest version, passing the harvest
    rules), read by DuckDB on ``threads`` threads (default: every core), and the counts of
    the scan (lines read, lines naming Beijing institutions, duplicate versions)."""
    import duckdb

    connection = duckdb.connect(config={"threads": threads or os.cpu_count() or 1})
    try:
        connection.execute("CREATE TEMP TABLE files (filename VARCHAR, partition_date VARCHAR, file_rank INTEGER)")
        connection.executemany(
            "INSERT INTO files VALUES (?, ?, ?)",
            [(str(path), date, rank) for rank, (date, path) in enumerate(work_parts)],
        )
        connection.execute(_TRUTHY_SQL)
        beijing = sorted(beijing_ids)
        named_pattern = r"openalex\.org/(?:" + "|".join(re.escape(i) for i in beijing) + ')"'
        # JSON text holds no raw control character, so \x01 never splits a line.
        connection.execute(_SCAN_SQL, {"files": [str(path) for _, path in work_parts], "named": named_pattern,
                                       "delimiter": "\x01"})
        connection.execute(_VERSIONS_SQL)
        lines_read, named, distinct_ids = connection.execute(
            "SELECT (SELECT sum(lines) FROM scanned), count(*), "
            "count(DISTINCT work_id) + (count(*) FILTER (WHERE work_id IS NULL) > 0)::INTEGER FROM versions"
        ).fetchone()
    except duckdb.Error as exc:
        connection.close()
        raise _scan_error(work_parts, exc) from None
    counts = Counter(lines_read=int(lines_read or 0), lines_naming_beijing_institutions=named)
    if named > distinct_ids:
        counts["duplicate_versions"] = named - distinct_ids
    parameters = {"beijing": beijing, "types": sorted(HARVESTED_TYPES), "from_year": from_year, "to_year": to_year}

    def kept() -> Iterator[str]:
        try:
            result = connection.execute(_KEPT_SQL, parameters)
            while batch := result.fetchmany(10_000):
                for (text,) in batch:
                    yield text
        finally:
            connection.close()

    return kept(), counts


def _scan_error(work_parts: list[tuple[str, Path]], exc: Exception) -> SelectionError:
    """The error of the part file DuckDB could not read, as the line-by-line reader words it."""
    for _, path in work_parts:
        try:
            for _ in _records(path):
                pass
        except SelectionError as error:
            return error
    return SelectionError(f"DuckDB cannot read the snapshot ({exc}); re-download the part files it names")


def _duckdb_table(normalizer: WorkNormalizer, texts: Iterator[str]) -> pa.Table:
    """The kept works, normalised, sorted by work id, exactly ``WORKS_SCHEMA``."""
    tables, rows = [], []
    for text in texts:
        rows.append(normalizer.row(json.loads(text)))
        if len(rows) >= ROWS_PER_CHUNK:
            tables.append(rows_to_table(rows))
            rows = []
    if rows:
        tables.append(rows_to_table(rows))
    if not tables:
        return WORKS_SCHEMA.empty_table()
    return pa.concat_tables(tables).sort_by("work_id")


def import_snapshot(
    snapshot_dir: str | Path,
    out_dir: str | Path,
    from_year: int,
    to_year: int,
    beijing_institution_ids: set[str],
    journal_overrides: dict[str, str],
    disciplines_path: str | Path | None = None,
    engine: str = "duckdb",
    threads: int | None = None,
) -> dict:
    """Filter, deduplicate and normalise the snapshot's works into ``out_dir`` with
    ``engine`` (``duckdb`` on ``threads`` threads, default every core, or ``lines``);
    returns the manifest (also written as ``manifest.json``)."""
    if engine not in ENGINES:
        raise SelectionError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if threads is not None and threads < 1:
        raise SelectionError("--threads must be at least 1 (or left out: every core)")
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
        beijing_institution_ids, JournalGroupResolver(journal_overrides, source_countries), load_disciplines(disciplines_path),
        record_source="snapshot",
    )
    beijing_ids = frozenset(short_id(i) for i in beijing_institution_ids)
    if engine == "duckdb":
        texts, scan_counts = duckdb_kept_works(work_parts, beijing_ids, from_year, to_year, threads)
        table = _duckdb_table(normalizer, texts)
    else:
        table, scan_counts = _lines_table(normalizer, work_parts, beijing_ids, from_year, to_year)
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
        "engine": engine,
        **({"threads": threads or os.cpu_count() or 1} if engine == "duckdb" else {}),
        **dict(sorted(scan_counts.items())),
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
    parser.add_argument("--engine", choices=ENGINES, default="duckdb",
                        help="duckdb: SQL over all part files on all cores (default); lines: Python, line by line")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: every core)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    manifest = import_snapshot(
        args.snapshot_dir,
        args.out,
        args.from_year,
        args.to_year,
        set(load_institution_list(args.institutions)),
        load_overrides(args.overrides),
        engine=args.engine,
        threads=args.threads,
    )
    print(
        f"{manifest['works']} works from {manifest['lines_read']} lines in {len(manifest['files_read'])} files "
        f"-> {args.out / 'works.parquet'} ({manifest['duration_seconds']} s)"
    )
    return 0
