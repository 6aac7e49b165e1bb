"""``python -m selection import-wos`` and ``import-ris``: imported records merged into a
harvest's works.parquet by DOI.

Every file is parsed first; a malformed one is one ``error: ...`` line (exit 2) and nothing
is written. Then the merged table replaces ``--works`` (or goes to ``--out``) atomically,
with the works schema and its metadata, and the records that matched nothing are listed in
``<works stem>.<kind>_unmatched.csv`` beside it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.files import write_atomic
from selection.imports.merge import MergeReport, merge_into_works
from selection.imports.ris import read_ris_files, ris_record_to_work
from selection.imports.wos import read_wos_files, wos_record_to_work
from selection.journal_groups import load_overrides
from selection.schema import WORKS_SCHEMA, WORKS_SCHEMA_VERSION, schema_version


def read_works_table(path: Path) -> pa.Table:
    """A works.parquet of the current schema version; SelectionError naming the fix otherwise."""
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise SelectionError(f"works file {path} not found; pass the works.parquet of a harvest with --works") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise SelectionError(f"works file {path} is not a Parquet file ({exc}); pass a works.parquet") from None
    version = schema_version(table.schema, "works")
    if version != WORKS_SCHEMA_VERSION or not table.schema.remove_metadata().equals(WORKS_SCHEMA.remove_metadata()):
        found = "no works schema version" if version is None else f"works schema version {version}"
        raise SelectionError(
            f"{path} has {found} or other columns; this platform merges into version {WORKS_SCHEMA_VERSION}: "
            "rebuild it with python -m selection renormalise HARVEST_DIR"
        )
    return table


def import_records(
    kind: str, files: list[Path], works_path: Path, out: Path | None, overrides_path: Path | None = None,
    disciplines_path: Path | None = None,
) -> tuple[MergeReport, Path, Path]:
    """Parse ``files`` (kind "wos" or "ris"), merge them into the works table and write the
    result and the unmatched list. Returns the report, the works path written and the CSV's."""
    disciplines = load_disciplines(disciplines_path)
    overrides = load_overrides(overrides_path)
    reader: Callable
    if kind == "wos":
        reader, convert = read_wos_files, wos_record_to_work
    else:
        reader, convert = read_ris_files, ris_record_to_work
    parsed = reader(files)
    works = read_works_table(works_path)
    rows = [
        convert(record, disciplines, f"{kind}:{label}", overrides=overrides)
        for label, records in parsed
        for record in records
    ]
    merged, report = merge_into_works(works, rows, kind)
    target = out or works_path
    target.parent.mkdir(parents=True, exist_ok=True)
    unmatched_path = target.with_name(f"{target.stem}.{kind}_unmatched.csv")
    write_atomic(target, lambda temporary: pq.write_table(merged, temporary))
    write_atomic(unmatched_path, report.unmatched_csv())
    return report, target, unmatched_path


def register(subparsers) -> None:
    """``python -m selection import-wos`` and ``import-ris``."""
    for kind, name, what in (
        ("wos", "import-wos", "Web of Science exports (plain text or tab-delimited)"),
        ("ris", "import-ris", "RIS files (CNKI, Wanfang)"),
    ):
        parser = subparsers.add_parser(
            name,
            help=f"merge {what} into a works.parquet by DOI",
            description=__doc__.split("\n\n", 1)[1],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("files", type=Path, nargs="+", metavar="FILE", help=f"{what} to import")
        parser.add_argument("--works", type=Path, required=True, help="the harvest's works.parquet")
        parser.add_argument("--out", type=Path, help="write the merged table here (default: replace --works)")
        parser.add_argument("--overrides", type=Path, help="journal override CSV (default: the packaged one)")
        parser.add_argument("--disciplines", type=Path, help="disciplines TOML (default: the packaged one)")
        parser.set_defaults(func=_runner(kind))


def _runner(kind: str):
    def run(args: argparse.Namespace) -> int:
        report, target, unmatched_path = import_records(
            kind, args.files, args.works, args.out, args.overrides, args.disciplines
        )
        for counts in report.files:
            print(f"{counts.file}: {counts.read} read, {counts.matched} matched, {counts.added} added, "
                  f"{counts.unmatched} unmatched, {counts.duplicates} duplicates")
        print(f"{report.matched} matched ({report.rows_updated} works updated, {report.highly_cited_matched} ESI "
              f"highly cited), {report.added} added, {report.unmatched_count} unmatched -> {target}")
        print(f"unmatched records: {unmatched_path}")
        return 0

    return run
