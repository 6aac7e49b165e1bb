"""OpenAlex work JSON -> one row of ``works.parquet`` (``selection.schema.WORKS_SCHEMA``).

The same code serves the API harvest, the snapshot import and the synthetic generator, so
a work means the same wherever it came from:

- ids are short (``W123``, ``S45``, ``I67``, ``T11636``); the DOI is lower-case without
  ``https://doi.org/``; the subfield id is an integer;
- Beijing means one of the given institution ids appears directly in
  ``authorships[].institutions[].id``, never through the lineage (the lineage of the
  Chinese Academy of Sciences covers institutes all over China);
- the corresponding author is the authorship flagged ``is_corresponding``; when OpenAlex
  flags none, the first author stands in (a convention of many journals, and a single
  author is both) and the reason is counted;
- a missing or unusable field becomes None and its reason is counted in
  ``WorkNormalizer.missing``; nothing raises.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable

import pyarrow as pa

from selection.disciplines import DisciplineMap
from selection.journal_groups import JournalGroupResolver
from selection.schema import WORKS_SCHEMA

HARVESTED_TYPES = frozenset({"article", "review"})
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")


def short_id(openalex_id: str | None) -> str | None:
    """``https://openalex.org/W123`` -> ``W123``; short ids pass through; None stays None."""
    if not openalex_id:
        return None
    return openalex_id.rsplit("/", 1)[-1]


def rebuild_abstract(inverted_index: dict[str, list[int]] | None) -> str | None:
    """The abstract text from OpenAlex's ``abstract_inverted_index`` (word -> positions)."""
    if not inverted_index:
        return None
    positioned = [(position, word) for word, positions in inverted_index.items() for position in positions]
    positioned.sort()
    return " ".join(word for _, word in positioned)


class WorkNormalizer:
    """Turns work JSON into rows; counts in ``missing`` why fields became None."""

    def __init__(
        self,
        beijing_institution_ids: Iterable[str],
        journal_groups: JournalGroupResolver,
        disciplines: DisciplineMap,
    ):
        self.beijing_institution_ids = frozenset(short_id(i) for i in beijing_institution_ids)
        self.journal_groups = journal_groups
        self.disciplines = disciplines
        self.missing: Counter[str] = Counter()

    def row(self, work: dict) -> dict:
        """One row with exactly the ``WORKS_COLUMNS`` keys."""
        source = (work.get("primary_location") or {}).get("source")
        if not source:
            self.missing["primary_location.source: absent"] += 1
            source = {}
        journal_group, journal_group_rule = self.journal_groups.resolve(source)
        topic = work.get("primary_topic")
        if topic:
            subfield_id = _subfield_id(topic)
            discipline = self.disciplines.for_subfield(subfield_id)
            if discipline is None:
                self.missing["discipline: subfield outside the mapping"] += 1
        else:
            self.missing["primary_topic: absent"] += 1
            subfield_id = discipline = None
        row = {
            "work_id": self._counted("id", short_id(work.get("id"))),
            "doi": self._counted("doi", _doi(work.get("doi"))),
            "title": self._counted("title", work.get("title") or work.get("display_name")),
            "publication_year": self._counted("publication_year", _integer(work.get("publication_year"))),
            "publication_date": self._date(work.get("publication_date")),
            "type": self._counted("type", work.get("type")),
            "language": self._counted("language", work.get("language")),
            "source_id": short_id(source.get("id")),
            "source_name": source.get("display_name"),
            "issn_l": source.get("issn_l"),
            "issns": list(source.get("issn") or ()),
            "journal_group": journal_group,
            "journal_group_rule": journal_group_rule,
            "discipline": discipline,
            "subfield_id": subfield_id,
            "topic_id": short_id(topic.get("id")) if topic else None,
            "cited_by_count": self._counted("cited_by_count", _integer(work.get("cited_by_count"))),
            "counts_by_year": self._counts_by_year(work.get("counts_by_year")),
            "fwci": self._counted("fwci", _number(work.get("fwci"))),
            "citation_normalized_percentile": self._counted(
                "citation_normalized_percentile",
                _number((work.get("citation_normalized_percentile") or {}).get("value")),
            ),
            "referenced_works_count": self._counted(
                "referenced_works_count", _integer(work.get("referenced_works_count"))
            ),
            "is_retracted": self._counted("is_retracted", work.get("is_retracted")),
            "abstract": self._counted("abstract", rebuild_abstract(work.get("abstract_inverted_index"))),
        }
        row.update(self._authorship_columns(work.get("authorships")))
        return {column: row[column] for column in WORKS_SCHEMA.names}

    def _counted(self, name: str, value):
        if value is None:
            self.missing[f"{name}: absent"] += 1
        return value

    def _date(self, text) -> dt.date | None:
        if not text:
            self.missing["publication_date: absent"] += 1
            return None
        try:
            return dt.date.fromisoformat(text[:10])
        except (TypeError, ValueError):
            self.missing["publication_date: unparseable"] += 1
            return None

    def _counts_by_year(self, counts) -> list[dict] | None:
        if counts is None:
            self.missing["counts_by_year: absent"] += 1
            return None
        return [{"year": c.get("year"), "cited_by_count": c.get("cited_by_count")} for c in counts]

    def _authorship_columns(self, authorships) -> dict:
        if authorships is None:
            self.missing["authorships: absent"] += 1
            authorships = ()
        elif not authorships:
            self.missing["authorships: empty"] += 1
        beijing_ids: set[str] = set()
        countries: set[str] = set()
        beijing_first = beijing_corresponding = False
        any_corresponding = False
        for authorship in authorships:
            here = set()
            for institution in authorship.get("institutions") or ():
                institution_id = short_id(institution.get("id"))
                if institution_id in self.beijing_institution_ids:
                    here.add(institution_id)
                if "countries" not in authorship and institution.get("country_code"):
                    countries.add(institution["country_code"])
            countries.update(authorship.get("countries") or ())
            beijing_ids |= here
            if authorship.get("author_position") == "first":
                beijing_first = bool(here)
            if authorship.get("is_corresponding"):
                any_corresponding = True
                beijing_corresponding = beijing_corresponding or bool(here)
        if authorships and not any_corresponding:
            self.missing["is_corresponding: none flagged, first author used"] += 1
            beijing_corresponding = beijing_first
        return {
            "beijing_any": bool(beijing_ids),
            "beijing_first": beijing_first,
            "beijing_corresponding": beijing_corresponding,
            "beijing_institution_ids": sorted(beijing_ids),
            "countries": sorted(countries),
            "authors_count": len(authorships),
        }


def rows_to_table(rows: list[dict]) -> pa.Table:
    """Rows from ``WorkNormalizer.row`` as a table of exactly ``WORKS_SCHEMA``."""
    columns = [pa.array([row[f.name] for row in rows], type=f.type) for f in WORKS_SCHEMA]
    return pa.Table.from_arrays(columns, schema=WORKS_SCHEMA)


def passes_harvest_rules(
    work: dict, beijing_institution_ids: Collection[str], from_year: int, to_year: int
) -> bool:
    """Would the harvest keep this work? The rules, as a local predicate:

    a Beijing institution (short id in ``beijing_institution_ids``) directly among
    ``authorships[].institutions[].id`` (never via lineage); ``publication_year`` in
    ``from_year..to_year``; type article or review; primary source a journal with an ISSN
    (``issn_l`` or ``issn``); neither retracted nor paratext.
    """
    if work.get("is_retracted") or work.get("is_paratext"):
        return False
    if work.get("type") not in HARVESTED_TYPES:
        return False
    year = work.get("publication_year")
    if not isinstance(year, int) or not from_year <= year <= to_year:
        return False
    source = (work.get("primary_location") or {}).get("source") or {}
    if source.get("type") != "journal" or not (source.get("issn_l") or source.get("issn")):
        return False
    return any(
        short_id(institution.get("id")) in beijing_institution_ids
        for authorship in work.get("authorships") or ()
        for institution in authorship.get("institutions") or ()
    )


def _doi(text: str | None) -> str | None:
    if not text:
        return None
    doi = text.strip().lower()
    for prefix in _DOI_PREFIXES:
        if doi.startswith(prefix):
            return doi[len(prefix):]
    return doi


def _subfield_id(topic: dict) -> int | None:
    return _integer(short_id((topic.get("subfield") or {}).get("id")))


def _integer(value) -> int | None:
    return _converted(value, int)


def _number(value) -> float | None:
    return _converted(value, float)


def _converted(value, convert):
    if value is None or isinstance(value, bool):
        return None
    try:
        return convert(value)
    except (TypeError, ValueError):
        return None
