"""RIS exports of CNKI (中国知网) and Wanfang (万方) -> rows of ``works.parquet``.

``read_ris_files`` reads the files with ``rispy``; ``ris_record_to_work`` turns one record
(rispy's dict with its field names, or a mapping of raw RIS tags) into one row:

- ``work_id``: "RIS:" + the first 16 hex digits of the SHA-256 of the lower-case DOI, or,
  without a DOI, of "title|year|journal" (so the same paper imported again keeps its id);
- ``title``: TI, else T1; ``doi``: DO, lower-case; ``abstract``: AB, else N2;
  ``publication_year``: PY, else Y1 (the first four digits); ``publication_date``: DA / Y1 /
  PY when it holds a whole date ("2023/05/12", "2023-05-12"), else null;
- ``source_name``: JO, else JF, T2, JA, J2; ``issns``: SN split on ";" or ",", normalised,
  invalid ones dropped; ``issn_l`` the first;
- ``journal_group``: "domestic" by rule "override" when an ISSN is in the override table;
  "domestic" by rule "source_country" when the journal is Chinese: its name holds Han
  characters, the record gives a CN number (国内统一刊号, CN tag, or "CN 11-1234/X" in a note)
  or its language is Chinese; else "international" by rule "default";
- ``type``: "article" for JOUR / EJOUR records, "review" when the title says 综述, 述评, 研究进展 or
  "review", the RIS type lower-cased otherwise (not ranked);
- ``language``: "zh" for 中文 / chi / zho / Chinese, "en" for English, else lower-cased;
  without LA: "zh" when the title holds Han characters;
- ``authorships``: AU, else A1 (each entry may hold several names split by ";" or "，");
  ``institution_names`` the AD addresses, given to every author (RIS does not say whose
  address is whose); ``is_beijing`` when one of them is placed in Beijing
  (``beijing_places.places_beijing``: "北京大学" or "Beijing 100871" yes); positions
  first / middle / last; ``is_corresponding`` null; the work's Beijing flags follow (the
  first author stands in as the corresponding author); ``countries`` ["CN"] for a
  domestic record with an address, else empty;
- ``keywords``: KW entries split on ";", "；", "," and "，"; ``funders``: from a note (N1)
  that starts with 基金 or "Fund" (the text after the colon, split on ";" / "；");
- ``discipline`` / ``subfield_id`` / ``field_id``: null (RIS has no subject codes; the
  merge takes them from harvested works of the same journal); ``cited_by_count`` and the
  Web of Science columns null; ``is_retracted`` False; ``record_sources``
  ``[source_label]`` ("ris:cnki.ris").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import rispy
from rispy.config import TAG_KEY_MAPPING

from selection.beijing_places import places_beijing
from selection.disciplines import DisciplineMap
from selection.errors import SelectionError
from selection.imports.wos import file_labels, normalize_doi
from selection.journal_groups import load_overrides, normalize_cn_number, normalize_issn

_HAN = re.compile(r"[\u4e00-\u9fff]")
_SPLIT = re.compile(r"[;；,，]")
_NAME_SPLIT = re.compile(r"[;；，]")
_START = re.compile(r"^TY  - ", re.MULTILINE)
_CN_IN_TEXT = re.compile(r"CN\s*\d{2}\s*-\s*\d{4}\s*/\s*[A-Z][A-Z0-9]*", re.IGNORECASE)
_CHINESE_LANGUAGES = {"zh", "chi", "zho", "chinese", "中文", "汉语", "cn"}
_ARTICLE_TYPES = {"jour", "ejour", "journal article"}


@lru_cache(maxsize=1)
def _default_overrides() -> dict[str, str]:
    return load_overrides()


def read_ris_files(paths: Sequence[str | Path]) -> list[tuple[str, list[dict]]]:
    """Read RIS files with ``rispy``: one ``(label, records)`` per file (label: the file's
    name, its path when two files share one).

    Raises SelectionError naming the file (and line when known) when a file cannot be read,
    is not UTF-8 text, holds no "TY  - " record, has a record cut off before "ER  -", or a
    record without a title.
    """
    paths = [Path(path) for path in paths]
    if not paths:
        raise SelectionError("name at least one RIS file")
    return [(label, _read_one(path)) for label, path in zip(file_labels(paths), paths)]


def _read_one(path: Path) -> list[dict]:
    fix = "export the records again as RIS (CNKI: 导出 -> RefWorks/EndNote RIS; Wanfang: 导出 -> RIS)"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SelectionError(f"{path} not found; name an existing RIS file") from None
    except OSError as exc:
        raise SelectionError(f"{path} cannot be read ({exc.strerror or exc}); check the path and permissions") from None
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SelectionError(f"{path}, line {line}: not UTF-8 text; {fix} in UTF-8") from None
    if "\x00" in content:
        raise SelectionError(f"{path}: binary data, not a RIS text file; {fix}")
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    starts = [content.count("\n", 0, match.start()) + 1 for match in _START.finditer(content)]
    if not starts:
        raise SelectionError(f"{path}: no RIS record (no line starting with 'TY  - '); {fix}")
    records = rispy.loads(content)
    if len(records) != len(starts):
        unfinished = starts[len(records)] if len(records) < len(starts) else starts[-1]
        raise SelectionError(f"{path}, line {unfinished}: a record that does not end with 'ER  -'; {fix}")
    for record, line in zip(records, starts):
        if not _first(record, "title", "primary_title"):
            raise SelectionError(f"{path}, line {line}: a record without a title (TI or T1); {fix}")
    return records


def _names_of_tags(record: Mapping) -> dict:
    """A record with raw RIS tags ("TI", "AU") renamed to rispy's names ("title", "authors")."""
    renamed = {}
    for key, value in record.items():
        name = TAG_KEY_MAPPING.get(key, key) if len(key) == 2 and key.isupper() else key
        renamed.setdefault(name, value)
    return renamed


def _values(value) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list | tuple) else [value]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def _first(record: Mapping, *names: str) -> str | None:
    for name in names:
        values = _values(record.get(name))
        if values:
            return " ".join(values) if name in ("abstract", "notes_abstract") else values[0]
    return None


def ris_work_id(doi: str | None, title: str | None, year: int | None, journal: str | None) -> str:
    """"RIS:" + a stable hash of the DOI, or of title, year and journal."""
    basis = doi or "|".join([(title or "").strip().lower(), str(year or ""), (journal or "").strip().lower()])
    return "RIS:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def ris_record_to_work(
    record: Mapping, disciplines: DisciplineMap, source_label: str, *, overrides: Mapping[str, str] | None = None,
) -> dict:
    """One works row (exactly the ``WORKS_COLUMNS`` keys, in order) for one RIS record; the
    module docstring states the mapping. ``disciplines`` is accepted for symmetry with
    ``wos_record_to_work``: RIS records carry no subject to map."""
    del disciplines  # RIS has no subject codes; merge_into_works fills them from the journal
    record = _names_of_tags(record)
    overrides = _default_overrides() if overrides is None else overrides
    title = _first(record, "title", "primary_title")
    doi = normalize_doi(_first(record, "doi"))
    year_text = _first(record, "year", "publication_year", "date") or ""
    year_match = re.search(r"\d{4}", year_text)
    year = int(year_match.group()) if year_match else None
    journal = _first(record, "journal_name", "alternate_title3", "secondary_title", "alternate_title2",
                     "alternate_title1")
    issns = list(dict.fromkeys(
        issn for text in _values(record.get("issn")) for part in _SPLIT.split(text) if (issn := normalize_issn(part))
    ))
    notes = _values(record.get("notes"))
    cn_number = _cn_number(_values(record.get("call_number")) + notes)
    language = _language(_first(record, "language"), title)
    group, rule = _journal_group(issns, journal, cn_number, language, overrides)
    addresses = [a for text in _values(record.get("author_address")) for a in re.split(r"[;；]", text) if a.strip()]
    addresses = [a.strip() for a in addresses]
    authors = [n.strip() for text in _values(record.get("authors") or record.get("first_authors"))
               for n in _NAME_SPLIT.split(text) if n.strip()]
    beijing = any(places_beijing(address) is True for address in addresses)
    authorships = [
        {
            "author_id": None,
            "name": name,
            "orcid": None,
            "position": "first" if i == 0 else ("last" if i == len(authors) - 1 else "middle"),
            "is_corresponding": None,
            "institution_ids": [],
            "lineage_ids": [],
            "institution_names": addresses,
            "is_beijing": beijing,
        }
        for i, name in enumerate(authors)
    ]
    keywords = [k.strip() for text in _values(record.get("keywords")) for k in _SPLIT.split(text) if k.strip()]
    return {
        "work_id": ris_work_id(doi, title, year, journal),
        "doi": doi,
        "title": title,
        "publication_year": year,
        "publication_date": _date(_first(record, "date", "publication_year", "year")),
        "type": _type(_first(record, "type_of_reference"), title),
        "language": language,
        "source_id": None,
        "source_name": journal,
        "issn_l": issns[0] if issns else None,
        "issns": issns,
        "journal_group": group,
        "journal_group_rule": rule,
        "discipline": None,
        "subfield_id": None,
        "topic_id": None,
        "beijing_any": beijing,
        "beijing_first": beijing and bool(authorships),
        "beijing_corresponding": beijing and bool(authorships),
        "beijing_institution_ids": [],
        "countries": ["CN"] if group == "domestic" and addresses else [],
        "authors_count": len(authorships),
        "authorships": authorships,
        "cited_by_count": None,
        "counts_by_year": None,
        "fwci": None,
        "citation_normalized_percentile": None,
        "referenced_works_count": None,
        "is_retracted": False,
        "abstract": _first(record, "abstract", "notes_abstract"),
        "field_id": None,
        "topic_ids": [],
        "topic_names": [],
        "topic_scores": [],
        "keywords": list(dict.fromkeys(keywords)),
        "funders": _funders(notes),
        "oa_url": None,
        "world_top_1pct": None,
        "world_top_10pct": None,
        "beijing_author_share": (1.0 if beijing else 0.0) if authorships else None,
        "wos_times_cited": None,
        "esi_highly_cited": None,
        "esi_hot_paper": None,
        "record_sources": [source_label],
    }


def _cn_number(texts: list[str]) -> str | None:
    for text in texts:
        number = normalize_cn_number(text)
        if number:
            return number
        match = _CN_IN_TEXT.search(text)
        if match and (number := normalize_cn_number(match.group())):
            return number
    return None


def _language(language: str | None, title: str | None) -> str | None:
    if language:
        lowered = language.strip().lower()
        if lowered in _CHINESE_LANGUAGES:
            return "zh"
        return "en" if lowered in ("en", "eng", "english", "英文") else lowered
    return "zh" if title and _HAN.search(title) else None


def _journal_group(issns, journal, cn_number, language, overrides) -> tuple[str, str]:
    if any(issn in overrides for issn in issns):
        return "domestic", "override"
    if (journal and _HAN.search(journal)) or cn_number or language == "zh":
        return "domestic", "source_country"
    return "international", "default"


def _type(reference_type: str | None, title: str | None) -> str | None:
    kind = (reference_type or "").strip().lower()
    if kind in _ARTICLE_TYPES or not kind:
        if title and (re.search(r"综述|述评|研究进展", title) or re.search(r"\breview\b", title, re.IGNORECASE)):
            return "review"
        return "article" if kind else None
    return kind


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    match = re.match(r"^\s*(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})", text)
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _funders(notes: list[str]) -> list[str]:
    funders = []
    for note in notes:
        match = re.match(r"^\s*(?:基金|资助|fund)[^:：]*[:：](.*)$", note, re.IGNORECASE | re.DOTALL)
        if match:
            funders += [name.strip() for name in re.split(r"[;；]", match.group(1)) if name.strip()]
    return list(dict.fromkeys(funders))
