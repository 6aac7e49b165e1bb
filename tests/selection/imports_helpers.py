"""Helpers of the import tests: the real WoS records of the shared data, written back to the
export formats Web of Science produces, and a harvest table built from them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selection.disciplines import load_disciplines
from selection.imports.merge import rows_table
from selection.imports.wos import wos_record_to_work
from tests.conftest import shared_data_dir

WOS_RECORDS_FILE = Path("papers") / "wos_beijing_2019_2025.jsonl.gz"
HIGHLY_CITED_IN_DATA = 17  # PROVENANCE.md: HC = Y on 17 records


def load_wos_records() -> list[dict]:
    """The shared data's WoS records (JSON, tags as keys), or skip the test with the reason."""
    path = shared_data_dir() / WOS_RECORDS_FILE
    if not path.is_file():
        pytest.skip(f"real WoS records not found at {path} (set SHARED_DATA to the shared/data folder)")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _tags(record: dict) -> dict:
    """The WoS tags of a JSON record (our own keys such as ``_source`` left out), PT first."""
    tags = {"PT": record.get("PT", "J")}
    tags.update((tag, value) for tag, value in record.items() if not tag.startswith("_") and tag != "PT")
    return tags


def _one_line(value) -> str:
    return " ".join(str(value).split())


def plain_text_export(records: list[dict]) -> str:
    """The records as a WoS plain-text export ("FN ... VR 1.0 ... ER ... EF"): a list value
    is one item per line, continuation lines indented by three spaces, as WoS writes them."""
    lines = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    for record in records:
        for tag, value in _tags(record).items():
            values = [_one_line(v) for v in value] if isinstance(value, list) else [_one_line(value)]
            values = [v for v in values if v] or None
            if values is None:
                continue
            lines.append(f"{tag} {values[0]}")
            lines += [f"   {v}" for v in values[1:]]
        lines += ["ER", ""]
    lines += ["EF", ""]
    return "\n".join(lines)


def tab_delimited_export(records: list[dict]) -> str:
    """The records as a WoS tab-delimited export: one header of tags, one row per record, a
    list value joined with "; ", the trailing tab WoS writes."""
    header: list[str] = []
    for record in records:
        header += [tag for tag in _tags(record) if tag not in header]
    rows = ["\t".join(header) + "\t"]
    for record in records:
        tags = _tags(record)
        cells = []
        for tag in header:
            value = tags.get(tag)
            if isinstance(value, list):
                cells.append("; ".join(map(_one_line, value)))
            else:
                cells.append("" if value is None else _one_line(value))
        rows.append("\t".join(cells) + "\t")
    return "\n".join(rows) + "\n"


def harvest_rows(records: list[dict]) -> list[dict]:
    """Works rows as a harvest would hold the papers: converted from the WoS records, then
    the Web of Science values blanked and an OpenAlex-like id and source given."""
    disciplines = load_disciplines()
    rows = []
    for number, record in enumerate(records, start=1):
        row = wos_record_to_work(record, disciplines, "openalex")
        row.update(work_id=f"W{9_000_000 + number}", wos_times_cited=None, esi_highly_cited=None,
                   esi_hot_paper=None, record_sources=["openalex"], keywords=[], abstract=None)
        rows.append(row)
    return rows


def write_works(rows: list[dict], path: Path) -> Path:
    """The rows as a works.parquet of exactly the works schema (with its metadata)."""
    table: pa.Table = rows_table(rows)
    pq.write_table(table, path)
    return path
