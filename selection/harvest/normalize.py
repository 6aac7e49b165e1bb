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
- ``authorships`` keeps every author in OpenAlex's order: short author id, display name
  (else the raw name), ORCID without ``https://orcid.org/``, ``author_position`` as given
  (first, middle, last), the corresponding flag as given, the short ids of the
  institutions and the short ids of their lineages (each id once, in order of appearance);
- a missing or unusable field becomes None and its reason is counted in
  ``WorkNormalizer.missing``; nothing raises.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable

import pyarrow as pa
import pyarrow.compute as pc

from selection.disciplines import DisciplineMap
from selection.errors import SelectionError
from selection.journal_groups import JournalGroupResolver
from selection.schema import WORKS_SCHEMA, short_id

HARVESTED_TYPES = frozenset({"article", "review"})
OPENALEX_PREFIX = "https://openalex.org/"
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")


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
        # full and short forms -> short id, so only matches are shortened
        self._beijing_by_id = {f"{OPENALEX_PREFIX}{i}": i for i in self.beijing_institution_ids}
        self._beijing_by_id.update((i, i) for i in self.beijing_institution_ids)
        self.journal_groups = journal_groups
        self.disciplines = disciplines
        self.missing: Counter[str] = Counter()
        # (institution id, its lineage) -> (short id, short lineage ids): institutions recur
        # in thousands of authorships, so each is shortened once.
        self._institutions: dict[tuple, tuple[str | None, tuple[str, ...]]] = {}

    def row(self, work: dict) -> dict:
        """One row with exactly the ``WORKS_COLUMNS`` keys, in schema order."""
        get = work.get
        source = (get("primary_location") or {}).get("source")
        if not source:
            self.missing["primary_location.source: absent"] += 1
            source = {}
        journal_group, journal_group_rule = self.journal_groups.resolve(source)
        topic = get("primary_topic")
        if topic:
            subfield_id = _subfield_id(topic)
            discipline = self.disciplines.for_subfield(subfield_id)
            if discipline is None:
                self.missing["discipline: subfield outside the mapping"] += 1
        else:
            self.missing["primary_topic: absent"] += 1
            subfield_id = discipline = None
        beijing_ids, beijing_first, beijing_corresponding, countries, authors = self._beijing_authors(get("authorships"))
        counted = self._counted
        return {
            "work_id": counted("id", short_id(get("id"))),
            "doi": counted("doi", _doi(get("doi"))),
            "title": counted("title", get("title") or get("display_name")),
            "publication_year": counted("publication_year", _integer(get("publication_year"))),
            "publication_date": self._date(get("publication_date")),
            "type": counted("type", get("type")),
            "language": counted("language", get("language")),
            "source_id": short_id(source.get("id")),
            "source_name": source.get("display_name"),
            "issn_l": source.get("issn_l"),
            "issns": source.get("issn") or [],
            "journal_group": journal_group,
            "journal_group_rule": journal_group_rule,
            "discipline": discipline,
            "subfield_id": subfield_id,
            "topic_id": short_id(topic.get("id")) if topic else None,
            "beijing_any": bool(beijing_ids),
            "beijing_first": beijing_first,
            "beijing_corresponding": beijing_corresponding,
            "beijing_institution_ids": beijing_ids,
            "countries": countries,
            "authors_count": len(authors),
            "authorships": authors,
            "cited_by_count": counted("cited_by_count", _integer(get("cited_by_count"))),
            "counts_by_year": self._counts_by_year(get("counts_by_year")),
            "fwci": counted("fwci", _number(get("fwci"))),
            "citation_normalized_percentile": counted(
                "citation_normalized_percentile", _number((get("citation_normalized_percentile") or {}).get("value"))
            ),
            "referenced_works_count": counted("referenced_works_count", _integer(get("referenced_works_count"))),
            "is_retracted": counted("is_retracted", get("is_retracted")),
            "abstract": counted("abstract", rebuild_abstract(get("abstract_inverted_index"))),
        }

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
        # passed through, not copied: Arrow reads year and cited_by_count, ignores other keys
        if counts is None:
            self.missing["counts_by_year: absent"] += 1
        return counts

    def _beijing_authors(self, authorships) -> tuple[list[str], bool, bool, list[str], list[dict]]:
        """Beijing institution ids, Beijing first author, Beijing corresponding author,
        countries and the ``authorships`` column's entries."""
        if authorships is None:
            self.missing["authorships: absent"] += 1
            authorships = ()
        elif not authorships:
            self.missing["authorships: empty"] += 1
        beijing_by_id = self._beijing_by_id
        beijing_ids: set[str] = set()
        countries: set[str] = set()
        beijing_first = beijing_corresponding = any_corresponding = False
        authors = []
        for authorship in authorships:
            authors.append(self._author(authorship))
            institutions = authorship.get("institutions") or ()
            here = {beijing_by_id[i["id"]] for i in institutions if i.get("id") in beijing_by_id}
            if "countries" in authorship:
                countries.update(authorship["countries"] or ())
            else:
                countries.update(i["country_code"] for i in institutions if i.get("country_code"))
            beijing_ids |= here
            if authorship.get("author_position") == "first":
                beijing_first = bool(here)
            if authorship.get("is_corresponding"):
                any_corresponding = True
                beijing_corresponding = beijing_corresponding or bool(here)
        if authorships and not any_corresponding:
            self.missing["is_corresponding: none flagged, first author used"] += 1
            beijing_corresponding = beijing_first
        return sorted(beijing_ids), beijing_first, beijing_corresponding, sorted(countries), authors

    def _author(self, authorship: dict) -> dict:
        """One entry of the ``authorships`` column (``selection.schema.AUTHORSHIPS_TYPE``)."""
        author = authorship.get("author") or {}
        author_id = short_id(author.get("id"))
        if author_id is None:
            self.missing["authorships.author.id: absent"] += 1
        institutions = [self._institution(institution) for institution in authorship.get("institutions") or ()]
        corresponding = authorship.get("is_corresponding")
        return {
            "author_id": author_id,
            "name": author.get("display_name") or authorship.get("raw_author_name"),
            "orcid": _orcid(author.get("orcid")),
            "position": authorship.get("author_position"),
            "is_corresponding": None if corresponding is None else bool(corresponding),
            "institution_ids": [institution_id for institution_id, _ in institutions if institution_id],
            "lineage_ids": list(dict.fromkeys(member for _, lineage in institutions for member in lineage)),
        }

    def _institution(self, institution: dict) -> tuple[str | None, tuple[str, ...]]:
        """An authorship's institution as its short id and the short ids of its lineage."""
        key = (institution.get("id"), tuple(institution.get("lineage") or ()))
        shortened = self._institutions.get(key)
        if shortened is None:
            shortened = (short_id(key[0]), tuple(short_id(member) for member in key[1] if member))
            self._institutions[key] = shortened
        return shortened


def rows_to_table(rows: list[dict]) -> pa.Table:
    """Rows from ``WorkNormalizer.row`` as a table of exactly ``WORKS_SCHEMA``."""
    columns = [pa.array([row[f.name] for row in rows], type=f.type) for f in WORKS_SCHEMA]
    return pa.Table.from_arrays(columns, schema=WORKS_SCHEMA)


# The columns whose value counts every works manifest reports, under these keys.
COUNTED_COLUMNS = {
    "by_year": "publication_year",
    "by_discipline": "discipline",
    "by_journal_group": "journal_group",
    "by_journal_group_rule": "journal_group_rule",
}


def table_counts(table: pa.Table) -> dict[str, dict[str, int]]:
    """How many works of the table have each year, discipline, journal group and group rule,
    for a manifest: ``{"by_year": {"2021": 12, ...}, ...}``, values in ascending order and
    works without a value last, under ``"null"`` (the harvest and the snapshot import agree)."""
    counts = {}
    for key, column in COUNTED_COLUMNS.items():
        entries = pc.value_counts(table[column]).to_pylist()
        entries.sort(key=lambda entry: (entry["values"] is None, entry["values"] if entry["values"] is not None else 0))
        counts[key] = {
            "null" if entry["values"] is None else str(entry["values"]): entry["counts"] for entry in entries
        }
    return counts


MIN_WINDOW_YEARS = 3  # SPEC section 4: papers of the last 3 to 5 years
MAX_WINDOW_YEARS = 5


def check_window(from_year: int, to_year: int, today: dt.date | None = None) -> None:
    """SelectionError naming the fix unless ``from_year..to_year`` is a window of 3 to 5
    publication years that does not reach into the future."""
    today = today or dt.date.today()
    if from_year > to_year:
        raise SelectionError(f"--from-year {from_year} is after --to-year {to_year}; swap them")
    if to_year > today.year:
        raise SelectionError(f"--to-year {to_year} is in the future; use {today.year} or earlier")
    window = to_year - from_year + 1
    if not MIN_WINDOW_YEARS <= window <= MAX_WINDOW_YEARS:
        raise SelectionError(
            f"the window {from_year}-{to_year} has {window} years; choose {MIN_WINDOW_YEARS} to {MAX_WINDOW_YEARS}"
        )


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


def _orcid(text: str | None) -> str | None:
    if not text:
        return None
    return text.strip().rsplit("orcid.org/", 1)[-1]


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
