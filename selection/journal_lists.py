"""The user's journal table: CN numbers, catalogues, tiers and warning lists per ISSN.

The project ships no third-party list. A user imports the lists they hold (CSCD, 科技核心,
北大核心, 中科院分区, 预警名单 ...; CSV or XLSX, Chinese or English headers) into one CSV,
``journals.csv``, with the columns ``TABLE_COLUMNS``:

- ``issn``: one row per ISSN (a journal's print and electronic ISSN are two rows with the
  same values); empty for a journal known only by CN number or title until a later import
  (or ``--works``) gives its ISSN;
- ``cn_number`` (国内统一刊号), ``title``, ``language`` (``zh``, ``en`` or empty);
- ``catalogues``: ``;``-joined list names (``CSCD-2025;科技核心-2025``);
- ``tier``, ``warning``: ``; ``-joined ``NAME: VALUE`` entries (``中科院分区-2025: 1区 Top``);
- ``source``: ``;``-joined imports that wrote the row (``catalogue:CSCD-2025``, ``openalex``).

Importing a list named NAME replaces what an earlier import of NAME wrote, so a corrected
file or a repeated import leaves no stale entry. ``JournalTable.columns`` gives the works
their journal columns (vectorised); ``as_resolver_overrides`` feeds
``selection.journal_groups.JournalGroupResolver`` (a CN number makes a journal domestic).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from selection.errors import SelectionError
from selection.files import write_atomic
from selection.journal_groups import normalize_cn_number, normalize_issn

TABLE_COLUMNS = ("issn", "cn_number", "title", "language", "catalogues", "tier", "warning", "source")
KINDS = ("catalogue", "tier", "warning")
LANGUAGES = ("zh", "en")
OPENALEX_SOURCE = "openalex"
JOURNAL_COLUMNS = ("cn_number", "journal_catalogues", "journal_tier", "journal_warning", "journal_language", "domestic")

# Recognised headers per role, after _header_key (lower case, no spaces or punctuation, no
# "(2025)"), in order of preference. A role's column is the header matching the earliest alias.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "issn": ("issn", "issn/eissn", "issneissn", "printissn", "pissn", "issn号", "国际标准刊号", "国际标准连续出版物号",
             "国际刊号", "eissn", "electronicissn", "onlineissn", "issnonline", "电子issn", "电子版issn"),
    "cn": ("cn", "cn号", "cn刊号", "cnnumber", "cnno", "国内统一刊号", "国内统一连续出版物号", "统一刊号", "国内刊号"),
    "mixed": ("刊号", "issn/cn", "cn/issn"),  # cells like "ISSN 1000-3290 CN 11-1958/O4"
    "title": ("journal", "title", "journaltitle", "journalname", "fulljournaltitle", "sourcetitle", "英文刊名",
              "英文名称", "期刊英文名", "外文刊名", "刊名", "期刊名称", "期刊名", "刊物名称", "中文刊名", "期刊中文名",
              "中文名称", "名称", "期刊"),
    "language": ("语种", "语言", "文种", "出版语种", "language"),
    "tier": ("大类分区", "中科院分区", "cas分区", "t分区", "分区", "jcr分区", "分区等级", "分级", "等级", "级别",
             "tier", "quartile", "jcrquartile", "ifquartile", "ccf推荐类型", "ccf推荐类别", "推荐类别", "类别"),
    "top": ("top", "top期刊"),
    "warning": ("预警等级", "预警级别", "风险等级", "预警原因", "预警类型", "预警", "warninglevel", "warning", "reason"),
}
# Roles whose column may be found by a header that only starts with an alias ("ifquartile1").
PREFIX_ROLES = ("tier", "warning")
ISSN_COLUMN_ROLES = ("issn", "mixed")
IDENTITY_ROLES = ("issn", "mixed", "cn", "title")
HEADER_SEARCH_ROWS = 10
SHOWN_INVALID = 5

_ISSN_TOKEN = re.compile(r"\d{4}-?\d{3}[\dX]")
_CN_IN_TEXT = re.compile(r"(?:CN\s*[:：]?\s*)?(\d{1,2}\s*-\s*\d{4}\s*/\s*[A-Z][A-Z0-9]*)")
_ISSN_CELL_REST = re.compile(r"^[\s/,;|()\[\]A-Z:.-]*$")  # labels ("ISSN", "print") and separators
_EMPTY_CELLS = frozenset({"", "-", "--", "—", "n/a", "na", "none", "null", "无", "暂无", "/"})
_LANGUAGE_VALUES = {
    "zh": ("zh", "chi", "chinese", "中文", "汉语", "中", "中文版"),
    "en": ("en", "eng", "english", "英文", "英语", "英", "英文版"),
}
_TOP_VALUES = frozenset({"是", "y", "yes", "true", "1", "top"})
_CAS_TIER = re.compile(r"^([1-4])\s*(?:区)?\s*(?:\[[^\]]*\])?$")


# --- the table -----------------------------------------------------------------------------


@dataclass
class JournalRow:
    """One row of ``journals.csv``; list fields hold the entries (see the module docstring)."""

    issn: str = ""
    cn_number: str = ""
    title: str = ""
    language: str = ""
    catalogues: list[str] = field(default_factory=list)
    tier: list[str] = field(default_factory=list)
    warning: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)

    @property
    def domestic(self) -> bool:
        """A CN number, or OpenAlex places the journal in China."""
        return bool(self.cn_number) or OPENALEX_SOURCE in self.source

    def copy(self) -> JournalRow:
        return replace(self, catalogues=list(self.catalogues), tier=list(self.tier), warning=list(self.warning),
                       source=list(self.source))


class JournalTable:
    """The rows of a user journal table (``load_journal_table``, ``write_journal_table``)."""

    def __init__(self, rows: Iterable[JournalRow] = ()):
        """Rows in a fixed order (ISSN rows first), each row's entries sorted, so that a repeated
        import writes the same bytes."""
        self.rows = sorted(rows, key=lambda row: (not row.issn, row.issn, row.cn_number, row.title))
        for row in self.rows:
            for entries in (row.catalogues, row.tier, row.warning, row.source):
                entries.sort()
        self._lookup: _Lookup | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def as_resolver_overrides(self) -> dict[str, str]:
        """ISSN -> CN number of the rows having both, for ``JournalGroupResolver`` (merge it over
        ``load_overrides()``: ``{**load_overrides(), **table.as_resolver_overrides()}``)."""
        return {row.issn: row.cn_number for row in self.rows if row.issn and row.cn_number}

    def columns(self, issn_l, issns) -> pd.DataFrame:
        """The journal columns ``JOURNAL_COLUMNS`` of works given their ``issn_l`` and ``issns``
        (sequences or Series, aligned; lists may be None): one row per work, same order (and the
        index of ``issn_l`` when it is a Series).

        A work matches every table row of its ISSNs; scalar columns come from the ``issn_l`` row
        first, catalogues are the sorted union, ``domestic`` is true when any matched row is. Works are
        reduced to their distinct ISSN sets first, then matched with Arrow/numpy (no Python loop
        per work). Works of one journal share one catalogue list object: copy it before changing it.
        """
        index = issn_l.index if isinstance(issn_l, pd.Series) else None
        first = pc.fill_null(_arrow(issn_l, pa.string()), "")
        lists = _without_null_items(_arrow(issns, pa.list_(pa.string())))
        if len(first) != len(lists):
            raise SelectionError(f"issn_l has {len(first)} values but issns {len(lists)}; pass aligned columns")
        key = pc.binary_join_element_wise(first, pc.binary_join(lists, ";"), "|")
        codes = pc.dictionary_encode(key).indices.to_numpy(zero_copy_only=False)
        # dictionary codes run 0..k-1 in order of first appearance: code c's first work is first_work[c]
        _, first_work = np.unique(codes, return_index=True)
        per_journal = self._columns_of_distinct(first.take(first_work), lists.take(first_work))
        return pd.DataFrame({
            name: pd.Series(per_journal[name][codes], index=index, dtype=bool if name == "domestic" else object)
            for name in JOURNAL_COLUMNS
        }, index=index)

    def _columns_of_distinct(self, first: pa.Array, lists: pa.Array) -> dict[str, np.ndarray]:
        """``columns`` for distinct journals (numpy arrays, one value per journal)."""
        count = len(first)
        lookup = self._lookup_arrays()
        parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
        journal = np.concatenate([np.arange(count), parents]).astype(np.int64)
        priority = np.concatenate([np.zeros(count, np.int8), np.ones(len(parents), np.int8)])
        candidates = pa.concat_arrays([first, pc.list_flatten(lists)])
        candidates = pc.replace_substring_regex(pc.utf8_upper(pc.utf8_trim_whitespace(candidates)),
                                                r"^(\d{4})(\d{3}[\dX])$", r"\1-\2")
        rows = pc.fill_null(pc.index_in(candidates, value_set=lookup.issns), -1).to_numpy(zero_copy_only=False)
        matched = rows >= 0
        journal, priority, rows = journal[matched], priority[matched], rows[matched].astype(np.int64)
        order = np.lexsort((priority, journal))
        journal, rows = journal[order], rows[order]

        result: dict[str, np.ndarray] = {}
        for name, values in lookup.scalars.items():
            column = np.full(count, None, dtype=object)
            present = lookup.present[name][rows]
            chosen, first_index = np.unique(journal[present], return_index=True)
            column[chosen] = values[rows[present][first_index]]
            result[name] = column
        result["domestic"] = np.bincount(journal, weights=lookup.domestic[rows], minlength=count) > 0
        result["journal_catalogues"] = _catalogue_unions(count, journal, rows, lookup)
        return result

    def _lookup_arrays(self) -> _Lookup:
        """The ISSN rows as arrays, built once."""
        if self._lookup is None:
            rows = [row for row in self.rows if row.issn]
            scalars = {
                "cn_number": _objects([row.cn_number or None for row in rows]),
                "journal_tier": _objects([_join_entries(row.tier) or None for row in rows]),
                "journal_warning": _objects([_join_entries(row.warning) or None for row in rows]),
                "journal_language": _objects([row.language or None for row in rows]),
            }
            catalogue_names, catalogue_masks = _catalogue_masks(rows)
            self._lookup = _Lookup(
                issns=pa.array([row.issn for row in rows], pa.string()),
                scalars=scalars,
                present={name: pd.notna(values) for name, values in scalars.items()},
                domestic=np.array([row.domestic for row in rows], dtype=np.float64),
                catalogue_names=catalogue_names,
                catalogue_masks=catalogue_masks,
            )
        return self._lookup


@dataclass(frozen=True)
class _Lookup:
    """A table's ISSN rows as arrays: row i has ISSN issns[i]; bit j of catalogue_masks[i] says
    it is in catalogue_names[j]."""

    issns: pa.Array
    scalars: dict[str, np.ndarray]
    present: dict[str, np.ndarray]
    domestic: np.ndarray
    catalogue_names: list[str]
    catalogue_masks: np.ndarray


def _objects(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _catalogue_unions(count: int, journal: np.ndarray, rows: np.ndarray, lookup: _Lookup) -> np.ndarray:
    """Per journal the sorted union of its matched rows' catalogues: each row's catalogues are a
    bit mask over the table's distinct catalogue entries, OR-ed per journal (``journal`` sorted);
    each distinct mask becomes one list."""
    column = np.empty(count, dtype=object)
    column.fill([])  # one shared empty list (see JournalTable.columns)
    if not len(rows) or not len(lookup.catalogue_names):
        return column
    starts = np.flatnonzero(np.r_[True, journal[1:] != journal[:-1]])
    masks = np.bitwise_or.reduceat(lookup.catalogue_masks[rows], starts, axis=0)
    distinct, which = np.unique(masks, axis=0, return_inverse=True)
    bits = np.unpackbits(np.ascontiguousarray(distinct, dtype="<u8").view(np.uint8), axis=1, bitorder="little")
    lists = [[lookup.catalogue_names[i] for i in np.flatnonzero(row_bits)] for row_bits in bits]
    column[journal[starts]] = _objects(lists)[which.reshape(-1)]
    return column


def _catalogue_masks(rows: list[JournalRow]) -> tuple[list[str], np.ndarray]:
    """The table's distinct catalogue entries (sorted) and each row's entries as bits of uint64 words."""
    names = sorted({entry for row in rows for entry in row.catalogues})
    position = {name: i for i, name in enumerate(names)}
    masks = np.zeros((len(rows), max(1, -(-len(names) // 64))), dtype=np.uint64)
    for i, row in enumerate(rows):
        for entry in row.catalogues:
            masks[i, position[entry] // 64] |= np.uint64(1) << np.uint64(position[entry] % 64)
    return names, masks


def _arrow(values, type_: pa.DataType) -> pa.Array:
    """A Series or sequence as one Arrow array of ``type_`` (NaN and None are null)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.ArrowDtype):
        array = pa.array(values)
    elif isinstance(values, (pa.Array, pa.ChunkedArray)):
        array = values
    else:
        items = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else values
        array = pa.array(items if isinstance(items, np.ndarray) else list(items), type=type_, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array if array.type == type_ else array.cast(type_)


def _without_null_items(lists: pa.Array) -> pa.Array:
    """List array with null lists as empty and null items as "" (so joins and keys stay exact)."""
    offsets = lists.offsets.to_numpy(zero_copy_only=False)
    flat = pc.fill_null(lists.values.slice(offsets[0], offsets[-1] - offsets[0]), "")
    return pa.ListArray.from_arrays(pa.array(offsets - offsets[0], pa.int32()), flat)


def _join_entries(entries: Sequence[str]) -> str:
    return "; ".join(entries)


def _split_entries(text: str) -> list[str]:
    return [entry.strip() for entry in (text or "").split(";") if entry.strip()]


def entry_name(entry: str) -> str:
    """``"中科院分区-2025: 1区"`` -> ``"中科院分区-2025"``; a bare name is its own name."""
    return entry.split(":", 1)[0].strip()


def title_key(title: str) -> str:
    """A journal title reduced for matching: NFKC, case-folded, ``&`` as ``and``, letters,
    digits and Han characters only (``"NUMERICAL HEAT TRANSFER PART A-APPLICATIONS"`` equals
    ``"Numerical Heat Transfer, Part A: Applications"``)."""
    text = unicodedata.normalize("NFKC", title or "").casefold().replace("&", " and ")
    text = re.sub(r"^the\s+", "", text.strip())
    return "".join(character for character in text if character.isalnum())


def load_journal_table(path: str | Path) -> JournalTable:
    """Read ``journals.csv``; raises SelectionError naming the line of a bad ISSN or CN number,
    a repeated ISSN, or a header without the ``TABLE_COLUMNS``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SelectionError(f"journal table {path} not found; create it with "
                             "`python -m selection journals import ... --table {path}`") from None
    except UnicodeDecodeError:
        raise SelectionError(f"journal table {path} is not UTF-8; write it with `journals import`") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [column for column in TABLE_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise SelectionError(f"{path}: header must have the columns {','.join(TABLE_COLUMNS)} "
                             f"(missing {', '.join(missing)})")
    rows, seen = [], set()
    for record in reader:
        where = f"{path}, line {reader.line_num}"
        issn_text = (record["issn"] or "").strip()
        issn = normalize_issn(issn_text) if issn_text else ""
        if issn is None:
            raise SelectionError(f"{where}: {issn_text!r} is not a valid ISSN (NNNN-NNNC, check digit)")
        cn_text = (record["cn_number"] or "").strip()
        cn_number = normalize_cn_number(cn_text) if cn_text else ""
        if cn_number is None:
            raise SelectionError(f"{where}: CN number {cn_text!r} must look like 11-5639/O4")
        language = (record["language"] or "").strip()
        if language not in ("", *LANGUAGES):
            raise SelectionError(f"{where}: language {language!r} must be zh, en or empty")
        if issn and issn in seen:
            raise SelectionError(f"{where}: ISSN {issn} is listed twice; keep one row per ISSN")
        seen.add(issn)
        rows.append(JournalRow(
            issn=issn, cn_number=cn_number, title=(record["title"] or "").strip(), language=language,
            catalogues=_split_entries(record["catalogues"]), tier=_split_entries(record["tier"]),
            warning=_split_entries(record["warning"]), source=_split_entries(record["source"]),
        ))
    return JournalTable(rows)


def write_journal_table(table: JournalTable, path: str | Path) -> None:
    """Write ``journals.csv`` (UTF-8, ``TABLE_COLUMNS``) atomically."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TABLE_COLUMNS)
    for row in table.rows:
        writer.writerow([row.issn, row.cn_number, row.title, row.language, ";".join(row.catalogues),
                         _join_entries(row.tier), _join_entries(row.warning), ";".join(row.source)])
    write_atomic(path, buffer.getvalue().encode("utf-8"))


# --- reading a user's list -----------------------------------------------------------------


@dataclass(frozen=True)
class ListEntry:
    """A valid row of an imported list: its ISSNs, CN number, titles (stored one first),
    language and value (the tier, the warning, or a catalogue's sub-label)."""

    line: int
    issns: tuple[str, ...]
    cn_number: str
    titles: tuple[str, ...]
    language: str
    value: str


@dataclass
class JournalList:
    """What ``read_journal_list`` found in one file."""

    path: Path
    file_format: str  # "CSV (UTF-8)", "XLSX sheet 'Sheet1'" ...
    header_line: int
    columns_used: dict[str, list[str]]  # role -> headers used
    rows_read: int = 0
    entries: list[ListEntry] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


@dataclass(frozen=True)
class ColumnChoice:
    """Headers the user names instead of the detected ones."""

    issn: str | None = None
    cn: str | None = None
    title: str | None = None
    value: str | None = None


def read_journal_list(path: str | Path, kind: str, choice: ColumnChoice | None = None,
                      sheet: str | None = None) -> JournalList:
    """Read a CSV or XLSX journal list of ``kind`` (``KINDS``): find the header (within the
    first rows), detect the columns (``HEADER_ALIASES``), validate every row.

    Raises SelectionError for a file that is not CSV/XLSX, is empty, has no ISSN, CN number or
    title column, has no tier column for a tier list, or names a column it lacks.
    """
    path = Path(path)
    if kind not in KINDS:
        raise SelectionError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    file_format, lines = _read_cells(path, sheet)
    header_line, header, roles = _find_header(path, lines, kind, choice or ColumnChoice())
    result = JournalList(path, file_format, header_line,
                         {role: [header[i] for i in columns] for role, columns in roles.items()})
    seen_values: dict[str, tuple[int, str]] = {}
    for line, cells in lines:
        if line <= header_line or not any(cell.strip() for cell in cells):
            continue
        result.rows_read += 1
        try:
            entry = _entry_of(line, cells, header, roles, kind)
        except _InvalidRow as invalid:
            result.invalid.append((line, str(invalid)))
            continue
        repeated = next(((issn, *seen_values[issn]) for issn in entry.issns if issn in seen_values), None)
        if repeated and repeated[2] != entry.value:
            result.invalid.append((line, f"ISSN {repeated[0]} is listed again with another value "
                                         f"(line {repeated[1]}: {repeated[2]!r})"))
            continue
        seen_values.update({issn: (line, entry.value) for issn in entry.issns})
        result.entries.append(entry)
    if not result.rows_read:
        raise SelectionError(f"{path}: no data rows below the header on line {header_line}; pass a list with rows")
    return result


class _InvalidRow(Exception):
    """Why a row of a list is refused (reported with its line, never fatal)."""


def _read_cells(path: Path, sheet: str | None) -> tuple[str, list[tuple[int, list[str]]]]:
    """(format description, [(line or row number, cells)]) of a CSV or XLSX file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SelectionError(f"{path} not found; pass an existing CSV or XLSX file") from None
    except IsADirectoryError:
        raise SelectionError(f"{path} is a folder; pass a CSV or XLSX file") from None
    if not data.strip():
        raise SelectionError(f"{path} is empty; pass a CSV or XLSX list with a header row")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(path, sheet)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SelectionError(f"{path} is an old Excel (.xls) workbook; save it as .xlsx or CSV")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding = data.decode("utf-16"), "UTF-16"
    elif b"\x00" in data[:4096]:
        raise SelectionError(f"{path} is not a CSV or XLSX file (binary content); export the list as CSV or XLSX")
    else:
        try:
            text, encoding = data.decode("utf-8-sig"), "UTF-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("gb18030"), "GB18030"
            except UnicodeDecodeError:
                raise SelectionError(f"{path} is neither UTF-8 nor GB18030 text; save it as UTF-8 CSV") from None
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines, start = [], 1
    try:
        for cells in reader:
            lines.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise SelectionError(f"{path}, line {reader.line_num}: not readable as CSV ({exc}); check its quoting") from None
    shown = {",": "", "\t": ", tab-separated", ";": ", semicolon-separated"}[delimiter]
    return f"CSV ({encoding}{shown})", lines


def _read_xlsx(path: Path, sheet: str | None) -> tuple[str, list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook  # only an XLSX import needs it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SelectionError(f"{path} is not a readable XLSX workbook ({exc}); save it again as .xlsx or CSV") from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise SelectionError(f"{path} has no sheet {sheet!r}; sheets: {', '.join(workbook.sheetnames)}")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        lines = [(number, [_cell_text(value) for value in values])
                 for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()
    return f"XLSX sheet {worksheet.title!r}", lines


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = re.sub(r"[(（][^)）]*[)）]", "", text)
    return re.sub(r"[\s_\-.:：*]+", "", text)


def _find_header(path: Path, lines, kind: str, choice: ColumnChoice):
    """(line, header cells, role -> column indexes) of the first of the first rows that holds
    an ISSN, CN number or title column (or every column the user named)."""
    named = {role: name for role, name in (("issn", choice.issn), ("cn", choice.cn), ("title", choice.title),
                                           (kind if kind != "catalogue" else "value", choice.value)) if name}
    for line, cells in lines[:HEADER_SEARCH_ROWS]:
        header = [cell.strip() for cell in cells]
        if named and not all(name in header for name in named.values()):
            continue
        roles = _detect_roles(header, kind, named)
        if named or any(role in roles for role in IDENTITY_ROLES):
            return line, header, _check_roles(path, line, header, roles, kind)
    first = next((cells for _, cells in lines if any(c.strip() for c in cells)), [])
    if named:
        raise SelectionError(f"{path}: no row of the first {HEADER_SEARCH_ROWS} has the column(s) "
                             f"{', '.join(map(repr, named.values()))}; check the names")
    raise SelectionError(
        f"{path}: no ISSN, CN number or journal title column in the first {HEADER_SEARCH_ROWS} rows "
        f"(first row: {', '.join(repr(c) for c in first[:8])}); name it with --issn-column, --cn-column or "
        f"--title-column"
    )


def _detect_roles(header: list[str], kind: str, named: dict[str, str]) -> dict[str, list[int]]:
    keys = [_header_key(cell) for cell in header]
    roles: dict[str, list[int]] = {}
    for role, aliases in HEADER_ALIASES.items():
        if role in named or (role in ("tier", "top") and kind != "tier") or (role == "warning" and kind != "warning"):
            continue
        if role in ("issn", "title"):  # every ISSN column (print, electronic) and title column counts
            found = sorted({i for alias in aliases for i, key in enumerate(keys) if key == alias},
                           key=lambda i: next(n for n, alias in enumerate(aliases) if keys[i] == alias))
        else:
            found = next(([i] for alias in aliases for i, key in enumerate(keys) if key == alias), [])
            if not found and role in PREFIX_ROLES:
                found = next(([i] for alias in aliases for i, key in enumerate(keys)
                              if key.startswith(alias) and len(alias) > 2), [])
        if found:
            roles[role] = found
    for role, name in named.items():
        roles[role if role != "value" else "catalogue_value"] = [header.index(name)]
    return roles


def _check_roles(path: Path, line: int, header: list[str], roles: dict[str, list[int]], kind: str):
    if not any(role in roles for role in IDENTITY_ROLES):
        raise SelectionError(f"{path}, line {line}: no ISSN, CN number or title column among the named ones; "
                             "name one with --issn-column, --cn-column or --title-column")
    if kind == "tier" and "tier" not in roles:
        raise SelectionError(f"{path}, line {line}: no tier column (分区, 大类分区, 等级, tier, quartile ...) in "
                             f"{', '.join(map(repr, header))}; name it with --value-column")
    return roles


def _entry_of(line: int, cells: list[str], header: list[str], roles: dict[str, list[int]], kind: str) -> ListEntry:
    def cell(index: int) -> str:
        return unicodedata.normalize("NFKC", cells[index]).strip() if index < len(cells) else ""

    issns: list[str] = []
    for role in ISSN_COLUMN_ROLES:
        for index in roles.get(role, []):
            issns += _issns_of(cell(index), mixed=role == "mixed")
    cn_numbers = [_cn_of(cell(index)) for index in roles.get("cn", [])]
    cn_numbers += [_cn_in_mixed(cell(index)) for index in roles.get("mixed", [])]
    cn_number = next((cn for cn in cn_numbers if cn), "")
    titles = tuple(dict.fromkeys(cell(i) for i in roles.get("title", []) if cell(i)))
    if not issns and not cn_number and not titles:
        raise _InvalidRow("no ISSN, CN number or title")
    language = next((_language_of(cell(i)) for i in roles.get("language", [])), "")
    value = _value_of(kind, roles, header, cell)
    return ListEntry(line, tuple(dict.fromkeys(issns)), cn_number, titles, language, value)


def _issns_of(text: str, mixed: bool) -> list[str]:
    """The valid ISSNs of a cell ("2649-664X/2649-6100", "ISSN 1000-3290 CN 11-1958/O4" in a
    mixed column); raises _InvalidRow for a malformed one or a wrong check digit."""
    upper = text.upper()
    if upper.lower() in _EMPTY_CELLS:
        return []
    if mixed:
        upper = _CN_IN_TEXT.sub(" ", upper).replace("CN", " ")
    tokens = _ISSN_TOKEN.findall(upper)
    if mixed and not tokens and not re.search(r"\d", upper):
        return []
    if not tokens or not _ISSN_CELL_REST.match(_ISSN_TOKEN.sub(" ", upper)):
        raise _InvalidRow(f"{text!r} is not an ISSN (NNNN-NNNC)")
    issns = []
    for token in tokens:
        issn = normalize_issn(token)
        if issn is None:
            raise _InvalidRow(f"ISSN {token!r} has a wrong check digit")
        issns.append(issn)
    return issns


def _cn_of(text: str) -> str:
    if text.lower() in _EMPTY_CELLS:
        return ""
    cn_number = normalize_cn_number(text)
    if cn_number is None:
        raise _InvalidRow(f"CN number {text!r} must look like 11-5639/O4")
    return cn_number


def _cn_in_mixed(text: str) -> str:
    match = _CN_IN_TEXT.search(text.upper())
    if match:
        return _cn_of(match.group(1))
    if "CN" in text.upper():
        raise _InvalidRow(f"CN number in {text!r} must look like 11-5639/O4")
    return ""


def _language_of(text: str) -> str:
    lowered = text.lower()
    return next((code for code, values in _LANGUAGE_VALUES.items() if lowered in values), "")


def _value_of(kind: str, roles: dict[str, list[int]], header: list[str], cell) -> str:
    """The row's tier, warning or catalogue sub-label, cleaned (``;`` would split entries)."""
    role = {"catalogue": "catalogue_value"}.get(kind, kind)
    index = next(iter(roles.get(role, [])), None)
    value = cell(index).replace(";", ",") if index is not None else ""
    if kind == "tier":
        if not value:
            raise _InvalidRow(f"empty tier in column {header[index]!r}")
        cas = _CAS_TIER.match(value)
        if cas and "分区" in header[index]:
            value = f"{cas.group(1)}区"
        top = next(iter(roles.get("top", [])), None)
        if top is not None and cell(top).lower() in _TOP_VALUES:
            value += " Top"
    return value


# --- merging into the table ----------------------------------------------------------------


@dataclass(frozen=True)
class HarvestJournals:
    """The distinct journals of a works table (one row per source): ``source_id, issn_l, issns,
    source_name, journal_group, journal_group_rule, language`` (the commonest work language)."""

    frame: pd.DataFrame

    def title_issns(self) -> dict[str, list[tuple[str, ...]]]:
        """``title_key(source_name)`` -> the ISSNs of each journal with that name (one journal
        unless the name is ambiguous)."""
        journals: dict[str, list[tuple[str, ...]]] = {}
        for name, first, others in zip(self.frame["source_name"], self.frame["issn_l"], self.frame["issns"]):
            key = title_key(name or "")
            issns = tuple(dict.fromkeys(_clean_issns([first, *(others if others is not None else [])])))
            if key and issns:
                journals.setdefault(key, []).append(issns)
        return journals


WORKS_COLUMNS_READ = ("source_id", "issn_l", "issns", "source_name", "journal_group", "journal_group_rule",
                      "language")


def read_harvest_journals(works_path: str | Path) -> HarvestJournals:
    """The distinct journals of ``works.parquet``; SelectionError when it is not a works table."""
    works_path = Path(works_path)
    try:
        schema = pq.read_schema(works_path)
    except FileNotFoundError:
        raise SelectionError(f"works table {works_path} not found; pass a harvest's works.parquet") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise SelectionError(f"{works_path} is not a Parquet works table ({exc})") from None
    missing = [name for name in WORKS_COLUMNS_READ if name not in schema.names]
    if missing:
        raise SelectionError(f"{works_path} lacks the works columns {', '.join(missing)}; pass a works.parquet")
    works = pq.read_table(works_path, columns=list(WORKS_COLUMNS_READ)).to_pandas()
    works["journal"] = works["source_id"].fillna(works["issn_l"])
    works = works[works["journal"].notna()]
    language = (works.assign(language=works["language"].fillna(""))
                .groupby(["journal", "language"]).size().reset_index(name="n")
                .sort_values(["journal", "n"], ascending=[True, False]).drop_duplicates("journal")
                .set_index("journal")["language"])
    journals = works.drop_duplicates("journal").set_index("journal")
    journals["language"] = language.reindex(journals.index).to_numpy()
    return HarvestJournals(journals.reset_index(drop=True)[list(WORKS_COLUMNS_READ)])


def _clean_issns(values: Iterable) -> list[str]:
    cleaned = []
    for value in values:
        issn = normalize_issn(value) if isinstance(value, str) else None
        if issn:
            cleaned.append(issn)
    return cleaned


@dataclass
class MergeCounts:
    """What a merge changed: rows new, updated, removed (absorbed or no longer listed), and
    entries matched only by title through the harvest or kept without an ISSN."""

    new: int = 0
    updated: int = 0
    removed: int = 0
    matched_by_harvest_title: int = 0
    without_issn: int = 0
    matched_rows: int = 0
    ambiguous: list[tuple[Path, int, str, int]] = field(default_factory=list)  # (file, line, title, journals)


def merge_journal_lists(table: JournalTable, lists: Sequence[JournalList], kind: str, name: str,
                        harvest: HarvestJournals | None = None) -> tuple[JournalTable, MergeCounts]:
    """The table with the lists of ``kind`` named ``name`` merged in, replacing what an earlier
    import of ``name`` wrote (a row left with no source is dropped).

    An entry with ISSNs applies to their rows (created when missing) and to the rows of its CN
    number, and absorbs rows without ISSN of its CN number or title. An entry without ISSN
    applies to the rows of its CN number, else of its title, else to the harvest's journals of
    its title (``harvest``), else to a new row without ISSN.
    """
    check_list_name(name)
    source = f"{kind}:{name}"
    rows, origins = _copies(table)
    emptied = set()
    for row in rows:
        if _remove_list(row, kind, name, source) and not row.source:
            emptied.add(id(row))
    index = _RowIndex(rows)
    harvest_titles = harvest.title_issns() if harvest is not None else {}
    entries = [(journal_list.path, entry) for journal_list in lists for entry in journal_list.entries]
    # a title shared by several entries of the import names no single journal
    shared_titles = {key for key, n in Counter(key for _, entry in entries for key in _title_keys(entry)).items()
                     if n > 1}
    counts = MergeCounts()
    for path, entry in entries:
        titles = [title for title in entry.titles if title_key(title) not in shared_titles]
        issns = list(entry.issns)
        title_rows = index.by_titles(titles)
        if not issns and not index.by_cn(entry.cn_number) and not title_rows:
            found = [journal for title in titles for journal in harvest_titles.get(title_key(title), [])]
            if len(set(found)) == 1:
                issns = list(found[0])
                counts.matched_by_harvest_title += 1
            elif found:
                counts.ambiguous.append((path, entry.line, entry.titles[0], len(set(found))))
        if issns:
            targets = [index.issn_row(issn) for issn in issns]
            for other in index.by_cn(entry.cn_number) + title_rows:
                if not other.issn and (not other.cn_number or other.cn_number == (entry.cn_number or other.cn_number)):
                    for target in targets:
                        _absorb(target, other)
                    index.drop(other)
            targets += [other for other in index.by_cn(entry.cn_number) if all(other is not t for t in targets)]
        else:
            targets = index.by_cn(entry.cn_number)
            if not targets and title_rows:
                if _journal_count(title_rows) == 1:
                    targets = title_rows
                else:
                    counts.ambiguous.append((path, entry.line, entry.titles[0], _journal_count(title_rows)))
            if not targets:
                targets = [index.add(JournalRow())]
                counts.without_issn += 1
        for target in targets:
            _apply(target, entry, kind, name, source)
            index.update(target)
        counts.matched_rows += len(targets)
    merged = JournalTable(row for row in index.rows() if id(row) not in emptied or row.source)
    _count_changes(origins, merged, counts)
    return merged, counts


def _title_keys(entry: ListEntry) -> set[str]:
    return {key for key in map(title_key, entry.titles) if key}


def _journal_count(rows: list[JournalRow]) -> int:
    """How many journals the rows are: rows sharing a CN number or an exact title are one
    (a journal's print and electronic ISSN rows were written from one entry)."""
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of: dict[str, int] = {}
    for i, row in enumerate(rows):
        for label in (f"cn:{row.cn_number}" if row.cn_number else "", f"title:{row.title.strip()}"):
            if label and label != "title:":
                parent[root(i)] = root(first_of.setdefault(label, i))
    return len({root(i) for i in range(len(rows))})


class _RowIndex:
    """The rows of a merge, found by ISSN, CN number and title key (by identity, never equality)."""

    def __init__(self, rows: list[JournalRow]):
        self._rows: dict[int, JournalRow] = {}
        self._issn: dict[str, JournalRow] = {}
        self._cn: dict[str, dict[int, JournalRow]] = {}
        self._title: dict[str, dict[int, JournalRow]] = {}
        for row in rows:
            self.add(row)

    def rows(self) -> list[JournalRow]:
        return list(self._rows.values())

    def add(self, row: JournalRow) -> JournalRow:
        self._rows[id(row)] = row
        if row.issn:
            self._issn[row.issn] = row
        self.update(row)
        return row

    def update(self, row: JournalRow) -> None:
        """Index the row's current CN number and title (both only ever set, never cleared)."""
        if row.cn_number:
            self._cn.setdefault(row.cn_number, {})[id(row)] = row
        if title_key(row.title):
            self._title.setdefault(title_key(row.title), {})[id(row)] = row

    def drop(self, row: JournalRow) -> None:
        """Forget the row (the lookups skip rows no longer held)."""
        self._rows.pop(id(row), None)

    def issn_row(self, issn: str) -> JournalRow:
        return self._issn.get(issn) or self.add(JournalRow(issn=issn))

    def by_cn(self, cn_number: str) -> list[JournalRow]:
        found = self._cn.get(cn_number, {}) if cn_number else {}
        return [row for row in found.values() if row.cn_number == cn_number and id(row) in self._rows]

    def by_titles(self, titles: Iterable[str]) -> list[JournalRow]:
        found: dict[int, JournalRow] = {}
        for title in titles:
            found.update(self._title.get(title_key(title), {}))
        return [row for key, row in found.items() if key in self._rows]


def check_list_name(name: str) -> None:
    """A list name is kept in ``;``/``:``-separated cells: refuse one that would break them."""
    if not name.strip() or re.search(r"[;:\n\r]", name):
        raise SelectionError(f"list name {name!r} must be non-empty without ';' or ':' (e.g. CSCD-2025)")


def _remove_list(row: JournalRow, kind: str, name: str, source: str) -> bool:
    """Take out what an import of ``name`` wrote; True when the row had it."""
    column = {"catalogue": "catalogues", "tier": "tier", "warning": "warning"}[kind]
    had = source in row.source
    setattr(row, column, [entry for entry in getattr(row, column) if entry_name(entry) != name])
    row.source = [entry for entry in row.source if entry != source]
    return had


def _apply(row: JournalRow, entry: ListEntry, kind: str, name: str, source: str) -> None:
    if entry.cn_number:
        row.cn_number = entry.cn_number
    if entry.titles and not row.title:
        row.title = entry.titles[0]
    if entry.language:
        row.language = entry.language
    if kind == "catalogue":
        _add(row.catalogues, f"{name}: {entry.value}" if entry.value else name)
    else:
        column = row.tier if kind == "tier" else row.warning
        column[:] = [existing for existing in column if entry_name(existing) != name]
        column.append(f"{name}: {entry.value}" if entry.value else name)
    _add(row.source, source)


def _absorb(target: JournalRow, other: JournalRow) -> None:
    """Take an ISSN-less row's values into the ISSN row of the same journal."""
    target.cn_number = target.cn_number or other.cn_number
    target.title = target.title or other.title
    target.language = target.language or other.language
    for column in ("catalogues", "tier", "warning", "source"):
        names = {entry_name(entry) for entry in getattr(target, column)}
        getattr(target, column).extend(e for e in getattr(other, column) if entry_name(e) not in names)


def _add(entries: list[str], entry: str) -> None:
    if entry not in entries:
        entries.append(entry)


def _copies(table: JournalTable) -> tuple[list[JournalRow], dict[int, JournalRow]]:
    """Copies of the table's rows to merge into, and each copy's original (by the copy's id)."""
    copies = [row.copy() for row in table.rows]
    return copies, {id(copy): row for copy, row in zip(copies, table.rows)}


def _count_changes(origins: dict[int, JournalRow], after: JournalTable, counts: MergeCounts) -> None:
    """New rows (no original), updated rows (differ from theirs), removed originals."""
    kept = [origins.get(id(row)) for row in after.rows]
    counts.new = sum(original is None for original in kept)
    counts.updated = sum(original is not None and original != row for original, row in zip(kept, after.rows))
    counts.removed = len(origins) - (len(kept) - counts.new)


def add_openalex_journals(table: JournalTable, harvest: HarvestJournals) -> tuple[JournalTable, MergeCounts, int]:
    """The table plus a row (source ``openalex``, no CN number) per ISSN of each harvest journal
    that OpenAlex places in China (``journal_group_rule == "source_country"`` and domestic);
    the language is the commonest of its works' (zh or en) when the row has none. Returns the
    table, the counts and the number of such journals."""
    frame = harvest.frame
    chinese = frame[(frame["journal_group_rule"] == "source_country") & (frame["journal_group"] == "domestic")]
    rows, origins = _copies(table)
    index = _RowIndex(rows)
    for first, others, name, language in zip(chinese["issn_l"], chinese["issns"], chinese["source_name"],
                                             chinese["language"]):
        code = (language or "").lower().split("-")[0]
        for issn in dict.fromkeys(_clean_issns([first, *(others if others is not None else [])])):
            row = index.issn_row(issn)
            row.title = row.title or (name or "")
            row.language = row.language or (code if code in LANGUAGES else "")
            _add(row.source, OPENALEX_SOURCE)
    merged = JournalTable(index.rows())
    counts = MergeCounts()
    _count_changes(origins, merged, counts)
    return merged, counts, len(chinese)


@dataclass(frozen=True)
class HarvestCoverage:
    """How many of a harvest's journals the table matches by ISSN, and how many of those it
    makes domestic."""

    journals: int
    matched: int
    domestic: int


def harvest_coverage(table: JournalTable, harvest: HarvestJournals) -> HarvestCoverage:
    """Harvest journals with an ISSN in the table, and those of them the table makes domestic."""
    frame = harvest.frame
    issns = {row.issn for row in table.rows if row.issn}
    matched = np.array([bool(issns.intersection(_clean_issns([first, *(others if others is not None else [])])))
                        for first, others in zip(frame["issn_l"], frame["issns"])], dtype=bool)
    domestic = table.columns(frame["issn_l"], frame["issns"])["domestic"].to_numpy()
    return HarvestCoverage(len(frame), int(matched.sum()), int((matched & domestic).sum()))


# --- command line --------------------------------------------------------------------------


def register(subparsers) -> None:
    """``python -m selection journals import|from-openalex``: grow the user's journal table."""
    parser = subparsers.add_parser(
        "journals",
        help="import journal lists (CN numbers, catalogues, tiers, warning lists) into a journal table",
        description="Maintain the user's journal table (journals.csv): import lists the user holds "
                    "(CSV or XLSX) or add the harvest's journals OpenAlex places in China.",
    )
    commands = parser.add_subparsers(dest="journals_command", required=True)
    importer = commands.add_parser(
        "import", help="merge CSV/XLSX journal lists into the table",
        description="Read the lists, detect their columns (ISSN, eISSN, CN / 国内统一刊号, 刊名, 分区, 预警 ...), "
                    "validate every row and merge the valid ones; importing NAME again replaces it.",
    )
    importer.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CSV or XLSX list(s), one list NAME")
    importer.add_argument("--kind", required=True, choices=KINDS, help="what the list says about its journals")
    importer.add_argument("--name", required=True, help="the list's name as shown, e.g. CSCD-2025, 中科院分区-2025")
    importer.add_argument("--table", required=True, type=Path, help="journal table CSV to update (created if absent)")
    importer.add_argument("--works", type=Path, help="works.parquet: match titles to its journals, report coverage")
    importer.add_argument("--sheet", help="XLSX sheet to read (default: the first)")
    importer.add_argument("--issn-column", help="header of the ISSN column, when not detected")
    importer.add_argument("--cn-column", help="header of the CN number column, when not detected")
    importer.add_argument("--title-column", help="header of the journal title column, when not detected")
    importer.add_argument("--value-column", help="header of the tier / warning column (catalogue: a sub-label)")
    importer.set_defaults(func=run_import)
    openalex = commands.add_parser(
        "from-openalex", help="add the harvest's journals OpenAlex places in China",
        description="Add a row (source openalex, no CN number) per ISSN of each harvested journal whose "
                    "OpenAlex source country is CN.",
    )
    openalex.add_argument("--works", required=True, type=Path, help="the harvest's works.parquet")
    openalex.add_argument("--table", required=True, type=Path, help="journal table CSV to update (created if absent)")
    openalex.set_defaults(func=run_from_openalex)


def _table_or_empty(path: Path) -> JournalTable:
    return load_journal_table(path) if path.exists() else JournalTable()


def run_import(args: argparse.Namespace) -> int:
    """The ``journals import`` subcommand: read and check everything, then write once."""
    check_list_name(args.name)
    table = _table_or_empty(args.table)
    choice = ColumnChoice(args.issn_column, args.cn_column, args.title_column, args.value_column)
    lists = [read_journal_list(path, args.kind, choice, args.sheet) for path in args.files]
    harvest = read_harvest_journals(args.works) if args.works else None
    merged, counts = merge_journal_lists(table, lists, args.kind, args.name, harvest)
    write_journal_table(merged, args.table)
    print(f"journals import: {args.kind} list {args.name!r} into {args.table}")
    for journal_list in lists:
        print(format_list_report(journal_list))
    print(format_merge_report(merged, counts))
    if harvest is not None:
        print(format_coverage(args.works, harvest_coverage(merged, harvest)))
    return 0


def run_from_openalex(args: argparse.Namespace) -> int:
    """The ``journals from-openalex`` subcommand."""
    table = _table_or_empty(args.table)
    harvest = read_harvest_journals(args.works)
    merged, counts, chinese = add_openalex_journals(table, harvest)
    write_journal_table(merged, args.table)
    print(f"journals from-openalex: {chinese} of {len(harvest.frame)} harvested journals have source country CN")
    print(format_merge_report(merged, counts))
    print(format_coverage(args.works, harvest_coverage(merged, harvest)))
    return 0


def format_list_report(journal_list: JournalList) -> str:
    """Lines saying how a file was read, which columns were used and which rows were refused."""
    used = "; ".join(f"{role.replace('catalogue_value', 'value')} <- {', '.join(map(repr, headers))}"
                     for role, headers in journal_list.columns_used.items())
    lines = [
        f"  {journal_list.path}: {journal_list.file_format}, header on line {journal_list.header_line}; "
        f"columns: {used}",
        f"    rows read {journal_list.rows_read}, valid {len(journal_list.entries)}, "
        f"invalid {len(journal_list.invalid)}",
    ]
    reasons = Counter(bool(entry.issns) for entry in journal_list.entries)
    if reasons[False]:
        lines.append(f"    {reasons[False]} valid rows have no ISSN: matched by CN number or title")
    lines += [f"    line {line}: {why}" for line, why in journal_list.invalid[:SHOWN_INVALID]]
    if len(journal_list.invalid) > SHOWN_INVALID:
        lines.append(f"    ... and {len(journal_list.invalid) - SHOWN_INVALID} more invalid rows")
    return "\n".join(lines)


def format_merge_report(table: JournalTable, counts: MergeCounts) -> str:
    with_issn = sum(bool(row.issn) for row in table.rows)
    text = (f"  table: {len(table)} rows ({with_issn} with ISSN, {sum(bool(r.cn_number) for r in table.rows)} "
            f"with CN number); new {counts.new}, updated {counts.updated}, removed {counts.removed}")
    if counts.matched_by_harvest_title:
        text += f"; {counts.matched_by_harvest_title} entries matched the harvest's journals by title"
    if counts.without_issn:
        text += f"; {counts.without_issn} entries kept without ISSN (matched on a later import)"
    lines = [text]
    for path, line, title, journals in counts.ambiguous[:SHOWN_INVALID]:
        lines.append(f"    {path.name}, line {line}: title {title!r} names {journals} journals; "
                     "not matched by title (add its ISSN to the file)")
    if len(counts.ambiguous) > SHOWN_INVALID:
        lines.append(f"    ... and {len(counts.ambiguous) - SHOWN_INVALID} more ambiguous titles")
    return "\n".join(lines)


def format_coverage(works_path: Path, coverage: HarvestCoverage) -> str:
    return (f"  harvest {works_path}: {coverage.journals} journals, {coverage.matched} matched by the table "
            f"(by ISSN), {coverage.domestic} of them domestic")
