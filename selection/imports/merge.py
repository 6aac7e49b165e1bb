"""Imported records merged into a harvest's works table by DOI.

``merge_into_works(works, imported, kind)``:

- an imported record matches every works row of its DOI (case-insensitive; a DOI the
  harvest holds twice updates both), or, without a DOI match, the row of its own
  ``work_id`` (a record added by an earlier import);
- a match takes the record's ``wos_times_cited``, ``esi_highly_cited`` and
  ``esi_hot_paper`` where the record has a value, its ``keywords`` and ``abstract`` only
  where the row has none, and the record's source label ("wos:savedrecs.txt") is appended
  to ``record_sources`` (once); nothing else of the row changes;
- a record whose DOI or id an earlier imported record already had (the same paper in two
  exports) is a duplicate: the first one counts, the later ones are listed;
- an unmatched record is added as a new row when it is in a domestic journal, has a
  Beijing author and is an article or review (the harvest's own rules), so domestic papers
  OpenAlex missed join the harvest; a row added without a subfield takes the most common
  subfield, field and discipline of the harvested works of its journal (same ISSN-L);
- every unmatched record is listed (file, id, DOI, title, journal group, whether it was
  added and why not), ``MergeReport.unmatched_csv()`` writes that list.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from selection.errors import SelectionError
from selection.schema import WORKS_COLUMNS, WORKS_SCHEMA

IMPORT_KINDS = ("wos", "ris")
UNMATCHED_COLUMNS = ("file", "record_id", "doi", "title", "journal_group", "reason", "added")
ADDED_TYPES = ("article", "review")
REASON_NO_DOI = "no DOI"
REASON_NOT_IN_HARVEST = "DOI not in the harvest"
REASON_DUPLICATE = "duplicate of an earlier imported record"
# The columns a match may change.
MERGED_COLUMNS = ("wos_times_cited", "esi_highly_cited", "esi_hot_paper", "keywords", "abstract", "record_sources")


@dataclass
class FileCounts:
    """How the records of one imported file fared."""

    file: str
    read: int = 0
    matched: int = 0
    added: int = 0
    unmatched: int = 0
    duplicates: int = 0


@dataclass(frozen=True)
class UnmatchedRecord:
    """An imported record that matched no harvested work (added or not), or a duplicate."""

    file: str
    record_id: str
    doi: str | None
    title: str | None
    journal_group: str | None
    reason: str
    added: bool


@dataclass
class MergeReport:
    """Counts per file and in all, the harvest rows updated and the records not merged."""

    kind: str
    files: list[FileCounts] = field(default_factory=list)
    unmatched: list[UnmatchedRecord] = field(default_factory=list)
    rows_updated: int = 0
    highly_cited_matched: int = 0

    def total(self, name: str) -> int:
        """The sum of one count ("read", "matched", "added", "unmatched", "duplicates")."""
        return sum(getattr(counts, name) for counts in self.files)

    @property
    def read(self) -> int:
        return self.total("read")

    @property
    def matched(self) -> int:
        return self.total("matched")

    @property
    def added(self) -> int:
        return self.total("added")

    @property
    def unmatched_count(self) -> int:
        return self.total("unmatched")

    def unmatched_csv(self) -> bytes:
        """The unmatched and duplicate records as UTF-8 CSV (with a BOM, so Excel reads the
        Chinese titles), columns ``UNMATCHED_COLUMNS``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(UNMATCHED_COLUMNS)
        for entry in self.unmatched:
            writer.writerow([entry.file, entry.record_id, entry.doi or "", entry.title or "", entry.journal_group or "",
                             entry.reason, "yes" if entry.added else "no"])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _label_file(label: str, kind: str) -> str:
    return label.split(":", 1)[1] if label.startswith(f"{kind}:") else label


def merge_into_works(
    works: pa.Table, imported: list[dict], source_label_kind: str
) -> tuple[pa.Table, MergeReport]:
    """The works table with the imported rows merged (module docstring) and the report.

    ``imported``: rows from ``wos_record_to_work`` / ``ris_record_to_work``, whose
    ``record_sources[0]`` names their file ("wos:FILE"). ``works`` must have the
    ``WORKS_COLUMNS``; the result has exactly ``WORKS_SCHEMA`` with its metadata.
    """
    if source_label_kind not in IMPORT_KINDS:
        raise SelectionError(f"import kind {source_label_kind!r} is not one of {', '.join(IMPORT_KINDS)}")
    missing = [name for name in WORKS_COLUMNS if name not in works.column_names]
    if missing:
        raise SelectionError(
            f"the works table lacks column(s) {', '.join(missing)}; rebuild it with python -m selection renormalise"
        )
    works = works.select(list(WORKS_COLUMNS)).cast(WORKS_SCHEMA)
    by_doi: dict[str, list[int]] = defaultdict(list)
    for row, doi in enumerate(pc.utf8_lower(works["doi"]).to_pylist()):
        if doi:
            by_doi[doi.strip()].append(row)
    by_id = {work_id: row for row, work_id in enumerate(works["work_id"].to_pylist())}
    columns = {name: works[name].to_pylist() for name in MERGED_COLUMNS}
    report = MergeReport(source_label_kind)
    counts: dict[str, FileCounts] = {}
    seen: set[str] = set()
    added_rows: list[dict] = []
    updated: set[int] = set()
    for record in imported:
        label = (record.get("record_sources") or [f"{source_label_kind}:?"])[0]
        file_counts = counts.setdefault(label, FileCounts(_label_file(label, source_label_kind)))
        file_counts.read += 1
        doi = (record.get("doi") or "").strip().lower() or None
        identities = {f"id:{record['work_id']}"} | ({f"doi:{doi}"} if doi else set())
        if identities & seen:
            file_counts.duplicates += 1
            report.unmatched.append(_unmatched(file_counts.file, record, REASON_DUPLICATE, False))
            continue
        seen |= identities
        rows = by_doi.get(doi, []) if doi else []
        if not rows and record["work_id"] in by_id:
            rows = [by_id[record["work_id"]]]
        if rows:
            file_counts.matched += 1
            report.highly_cited_matched += bool(record.get("esi_highly_cited"))
            for row in rows:
                _update(columns, row, record, label)
                updated.add(row)
            continue
        file_counts.unmatched += 1
        refusal = _refusal(record)
        reason = REASON_NO_DOI if not doi else REASON_NOT_IN_HARVEST
        if refusal is None:
            file_counts.added += 1
            added_rows.append(dict(record))
        report.unmatched.append(_unmatched(file_counts.file, record, reason if refusal is None
                                           else f"{reason}; not added: {refusal}", refusal is None))
    report.files = list(counts.values())
    report.rows_updated = len(updated)
    merged = works
    for name in MERGED_COLUMNS:
        merged = merged.set_column(WORKS_SCHEMA.get_field_index(name), WORKS_SCHEMA.field(name),
                                   pa.array(columns[name], type=WORKS_SCHEMA.field(name).type))
    if added_rows:
        _fill_subfields(added_rows, works)
        merged = pa.concat_tables([merged, rows_table(added_rows)])
    return merged.replace_schema_metadata(WORKS_SCHEMA.metadata), report


def _update(columns: dict[str, list], row: int, record: dict, label: str) -> None:
    for name in ("wos_times_cited", "esi_highly_cited", "esi_hot_paper"):
        if record.get(name) is not None:
            columns[name][row] = record[name]
    if not columns["keywords"][row] and record.get("keywords"):
        columns["keywords"][row] = list(record["keywords"])
    if not columns["abstract"][row] and record.get("abstract"):
        columns["abstract"][row] = record["abstract"]
    sources = list(columns["record_sources"][row] or [])
    if label not in sources:
        columns["record_sources"][row] = [*sources, label]


def _refusal(record: dict) -> str | None:
    """Why an unmatched record is not added as a new row (None: it is added)."""
    if record.get("journal_group") != "domestic":
        return "international journal"
    if not record.get("beijing_any"):
        return "no Beijing address"
    if record.get("type") not in ADDED_TYPES:
        return f"type {record.get('type') or 'unknown'}"
    return None


def _unmatched(file: str, record: dict, reason: str, added: bool) -> UnmatchedRecord:
    return UnmatchedRecord(file, record["work_id"], record.get("doi"), record.get("title"),
                           record.get("journal_group"), reason, added)


def _fill_subfields(rows: list[dict], works: pa.Table) -> None:
    """Rows without a subfield take the most common subfield, field and discipline of the
    harvested works of their journal (same ISSN-L, else an ISSN in common)."""
    if all(row.get("subfield_id") is not None for row in rows):
        return
    by_issn: dict[str, Counter] = defaultdict(Counter)
    classified = works.select(["issn_l", "issns", "subfield_id", "field_id", "discipline"]).to_pylist()
    for work in classified:
        if work["subfield_id"] is None:
            continue
        key = (work["subfield_id"], work["field_id"], work["discipline"])
        for issn in {work["issn_l"], *(work["issns"] or ())} - {None}:
            by_issn[issn][key] += 1
    for row in rows:
        if row.get("subfield_id") is not None:
            continue
        votes = Counter()
        for issn in [row.get("issn_l"), *(row.get("issns") or ())]:
            if issn in by_issn:
                votes.update(by_issn[issn])
        if votes:
            (subfield_id, field_id, discipline), _ = min(votes.items(), key=lambda item: (-item[1], item[0][0]))
            row.update(subfield_id=subfield_id, field_id=field_id, discipline=discipline)


def rows_table(rows: list[dict]) -> pa.Table:
    """Works rows (dicts with the ``WORKS_COLUMNS`` keys) as a table of exactly ``WORKS_SCHEMA``."""
    arrays = [pa.array([row[f.name] for row in rows], type=f.type) for f in WORKS_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=WORKS_SCHEMA)
