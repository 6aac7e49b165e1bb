"""OpenAlex work JSON -> one row of ``works.parquet`` (``selection.schema.WORKS_SCHEMA``).

The same code serves the API harvest, the snapshot import and the synthetic generator, so
a work means the same wherever it came from:

- ids are short (``W123``, ``S45``, ``I67``, ``T11636``); the DOI is lower-case without
  ``https://doi.org/``; the subfield and field ids are integers;
- who counts as a Beijing author is decided per authorship (``BeijingAttribution``, below);
  ``beijing_any``, ``beijing_first``, ``beijing_corresponding``, ``beijing_institution_ids``,
  ``beijing_author_share`` and each authorship's ``is_beijing`` follow that decision;
- the corresponding author is the authorship flagged ``is_corresponding``; when OpenAlex
  flags none, the first author stands in (a convention of many journals, and a single
  author is both) and the reason is counted;
- ``authorships`` keeps every author in OpenAlex's order: short author id, display name
  (else the raw name), ORCID without ``https://orcid.org/``, ``author_position`` as given
  (first, middle, last), the corresponding flag as given, the short ids of the
  institutions and their display names (aligned), the short ids of their lineages (each id
  once, in order of appearance) and ``is_beijing``;
- ``topic_ids`` / ``topic_names`` / ``topic_scores`` hold every topic, the primary first
  (the primary topic alone when the record has no ``topics``); ``keywords`` the keywords'
  display names; ``funders`` the funders' display names (``funders``, else the older
  ``grants`` or ``awards`` of the record); ``oa_url`` the best open-access location (its PDF,
  else its landing page, else ``open_access.oa_url``); ``world_top_1pct`` /
  ``world_top_10pct`` OpenAlex's ``citation_normalized_percentile`` flags (null when absent);
  the Web of Science columns are null (``import-wos`` fills them) and ``record_sources`` is
  the normaliser's ``record_source``;
- a missing or unusable field becomes None (an empty list for list columns) and its reason
  is counted in ``WorkNormalizer.missing``; nothing raises.

Who counts as a Beijing author (one authorship at a time; its "strings" are its
``raw_affiliation_strings`` and ``affiliations[].raw_affiliation_string``, the place rules
are ``selection.beijing_places.places_beijing``):

- only institutions whose id is directly on the authorship and on the Beijing list count,
  never through the lineage (the lineage of the Chinese Academy of Sciences covers
  institutes all over China);
- an institution's own strings are those OpenAlex links to it (``affiliations[].
  institution_ids``), else all the authorship's strings; of their affiliations, those that
  name it (its display name, not inside a longer name such as "University of Chinese
  Academy of Sciences" for CAS) when any do, else all;
- a listed institution counts unless its own strings place it outside Beijing and none
  places it in Beijing (a Shenzhen or Zhuhai campus, an address abroad); no string: it counts;
- an umbrella institution (``selection/data/umbrella_institutions.csv``: the CAS
  headquarters, UCAS, ministries, national companies) counts only when one of its own
  strings places it in Beijing ("Institute of Physics, CAS, Beijing", "Haidian", a 100xxx
  postcode, a Beijing CAS institute by name); "Chinese Academy of Sciences" alone does not.

``passes_harvest_rules`` stays broad (any listed id, umbrellas included): the harvest keeps
every candidate, and the ranking's author rule reads the attribution above.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from selection.beijing_places import affiliation_parts, places_beijing
from selection.disciplines import DisciplineMap
from selection.errors import SelectionError
from selection.institutions import load_umbrella_institutions
from selection.journal_groups import JournalGroupResolver
from selection.schema import RECORD_SOURCES, WORKS_SCHEMA, short_id

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


class BeijingAttribution:
    """Which listed Beijing institutions of an authorship make it a Beijing authorship (the
    rules of the module docstring); ``decisions`` counts why listed ids did or did not count."""

    def __init__(self, beijing_institution_ids: Iterable[str], umbrella_institutions: Mapping[str, str]):
        self.beijing_institution_ids = frozenset(short_id(i) for i in beijing_institution_ids)
        self.umbrella_names = {short_id(i): name for i, name in umbrella_institutions.items()}
        self._umbrella_plain_names = [_plain_name(name) for name in self.umbrella_names.values()]
        # full and short forms -> short id, so only matches are shortened
        self._listed = {f"{OPENALEX_PREFIX}{i}": i for i in self.beijing_institution_ids}
        self._listed.update((i, i) for i in self.beijing_institution_ids)
        self.decisions: Counter[str] = Counter()

    def counted_ids(self, authorship: dict) -> list[str]:
        """The short ids of the authorship's listed Beijing institutions that count, in order."""
        institutions = authorship.get("institutions") or ()
        listed = {}
        for institution in institutions:
            institution_id = self._listed.get(institution.get("id"))
            if institution_id is not None:
                listed.setdefault(institution_id, institution)
        if not listed:
            return []
        names = [_plain_name(i.get("display_name")) for i in institutions] + self._umbrella_plain_names
        counted = []
        for institution_id, institution in listed.items():
            umbrella = institution_id in self.umbrella_names
            name = _plain_name(institution.get("display_name")) or _plain_name(self.umbrella_names.get(institution_id))
            verdicts = {places_beijing(part) for part in _own_parts(authorship, institution_id, name, names)}
            if True in verdicts:
                decision, counts = "in Beijing", True
            elif False in verdicts:
                decision, counts = "elsewhere", False
            else:
                decision, counts = "place unknown", not umbrella
            self.decisions[f"{'umbrella' if umbrella else 'listed'} id, strings {decision}"] += 1
            if counts:
                counted.append(institution_id)
        return counted


@lru_cache(maxsize=65536)
def _plain_name(name: str | None) -> str:
    """A display name as affiliation strings write it: lower case, without OpenAlex's
    trailing "(China)"."""
    return re.sub(r"\s*\([^)]*\)$", "", name or "").strip().lower()


def _own_parts(authorship: dict, institution_id: str, name: str, names: list[str]) -> list[str]:
    """The affiliations that speak of one institution of the authorship (module docstring):
    of the strings OpenAlex links to it (else all the authorship's strings), those naming
    it when any do, else all."""
    linked, every = [], []
    for affiliation in authorship.get("affiliations") or ():
        text = affiliation.get("raw_affiliation_string")
        if text:
            every.append(text)
            if any(short_id(i) == institution_id for i in affiliation.get("institution_ids") or ()):
                linked.append(text)
    every.extend(authorship.get("raw_affiliation_strings") or ())
    parts = list(dict.fromkeys(part for text in (linked or every) for part in affiliation_parts(text)))
    if not name:
        return parts
    longer = [other for other in names if name in other and other != name]
    naming = [part for part in parts if name in _without(part.lower(), longer)]
    return naming or parts


def _without(text: str, names: list[str]) -> str:
    for name in names:
        text = text.replace(name, " ")
    return text


class WorkNormalizer:
    """Turns work JSON into rows; counts in ``missing`` why fields became None and in
    ``attribution.decisions`` how listed Beijing ids were attributed.

    ``umbrella_institutions``: short id -> display name of the ids that need a Beijing
    affiliation string (default: ``selection/data/umbrella_institutions.csv``).
    ``record_source``: what the rows' ``record_sources`` say ("openalex"; the snapshot
    import passes "snapshot").
    """

    def __init__(
        self,
        beijing_institution_ids: Iterable[str],
        journal_groups: JournalGroupResolver,
        disciplines: DisciplineMap,
        *,
        umbrella_institutions: Mapping[str, str] | None = None,
        record_source: str = "openalex",
    ):
        if record_source not in RECORD_SOURCES and not record_source.startswith(("wos:", "ris:")):
            raise SelectionError(
                f"record source {record_source!r} is not one of {', '.join(RECORD_SOURCES)} (or wos:/ris: FILE)"
            )
        if umbrella_institutions is None:
            umbrella_institutions = {i: e.display_name for i, e in load_umbrella_institutions().items()}
        self.attribution = BeijingAttribution(beijing_institution_ids, umbrella_institutions)
        self.beijing_institution_ids = self.attribution.beijing_institution_ids
        self.umbrella_institution_ids = frozenset(self.attribution.umbrella_names)
        self.record_source = record_source
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
        beijing = self._beijing_authors(get("authorships"))
        topic_ids, topic_names, topic_scores = self._topics(get("topics"), topic)
        percentile = get("citation_normalized_percentile") or {}
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
            "beijing_any": bool(beijing.institution_ids),
            "beijing_first": beijing.first,
            "beijing_corresponding": beijing.corresponding,
            "beijing_institution_ids": beijing.institution_ids,
            "countries": beijing.countries,
            "authors_count": len(beijing.authors),
            "authorships": beijing.authors,
            "cited_by_count": counted("cited_by_count", _integer(get("cited_by_count"))),
            "counts_by_year": self._counts_by_year(get("counts_by_year")),
            "fwci": counted("fwci", _number(get("fwci"))),
            "citation_normalized_percentile": counted("citation_normalized_percentile", _number(percentile.get("value"))),
            "referenced_works_count": counted("referenced_works_count", _integer(get("referenced_works_count"))),
            "is_retracted": counted("is_retracted", get("is_retracted")),
            "abstract": counted("abstract", rebuild_abstract(get("abstract_inverted_index"))),
            "field_id": _field_id(topic, subfield_id) if topic else None,
            "topic_ids": topic_ids,
            "topic_names": topic_names,
            "topic_scores": topic_scores,
            "keywords": self._keywords(get("keywords")),
            "funders": self._funders(work),
            "oa_url": _oa_url(get("best_oa_location"), get("open_access")),
            "world_top_1pct": _flag(percentile.get("is_in_top_1_percent")),
            "world_top_10pct": _flag(percentile.get("is_in_top_10_percent")),
            "beijing_author_share": beijing.share,
            "wos_times_cited": None,
            "esi_highly_cited": None,
            "esi_hot_paper": None,
            "record_sources": [self.record_source],
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

    def _topics(self, topics, primary) -> tuple[list[str], list[str | None], list[float | None]]:
        """Every topic's short id, display name and score, the primary topic first."""
        if topics is None:
            self.missing["topics: absent"] += 1
        ordered = [primary, *(topics or ())] if primary else list(topics or ())
        ids, names, scores = [], [], []
        for topic in ordered:
            topic_id = short_id((topic or {}).get("id"))
            if topic_id and topic_id not in ids:
                ids.append(topic_id)
                names.append(topic.get("display_name"))
                scores.append(_number(topic.get("score")))
        return ids, names, scores

    def _keywords(self, keywords) -> list[str]:
        """The keywords' display names (older records: ``keyword``, or plain strings)."""
        if keywords is None:
            self.missing["keywords: absent"] += 1
            return []
        names = (k if isinstance(k, str) else (k or {}).get("display_name") or (k or {}).get("keyword") for k in keywords)
        return list(dict.fromkeys(name for name in names if name))

    def _funders(self, work: dict) -> list[str]:
        """The funders' display names, each once: ``funders``, else ``grants`` or ``awards``."""
        for key, name_key in (("funders", "display_name"), ("grants", "funder_display_name"),
                              ("awards", "funder_display_name")):
            names = [(entry or {}).get(name_key) for entry in work.get(key) or ()]
            if any(names):
                return list(dict.fromkeys(name for name in names if name))
        if all(work.get(key) is None for key in ("funders", "grants", "awards")):
            self.missing["funders: absent"] += 1
        return []

    def _beijing_authors(self, authorships) -> _BeijingAuthors:
        """The Beijing flags, ids and share, the countries and the ``authorships`` column's entries."""
        if authorships is None:
            self.missing["authorships: absent"] += 1
            authorships = ()
        elif not authorships:
            self.missing["authorships: empty"] += 1
        counted_ids = self.attribution.counted_ids
        beijing_ids: set[str] = set()
        countries: set[str] = set()
        beijing_first = beijing_corresponding = any_corresponding = False
        beijing_authorships = 0
        authors = []
        for authorship in authorships:
            here = counted_ids(authorship)
            authors.append(self._author(authorship, bool(here)))
            institutions = authorship.get("institutions") or ()
            if "countries" in authorship:
                countries.update(authorship["countries"] or ())
            else:
                countries.update(i["country_code"] for i in institutions if i.get("country_code"))
            beijing_ids.update(here)
            beijing_authorships += bool(here)
            if authorship.get("author_position") == "first":
                beijing_first = bool(here)
            if authorship.get("is_corresponding"):
                any_corresponding = True
                beijing_corresponding = beijing_corresponding or bool(here)
        if authorships and not any_corresponding:
            self.missing["is_corresponding: none flagged, first author used"] += 1
            beijing_corresponding = beijing_first
        share = beijing_authorships / len(authors) if authors else None
        return _BeijingAuthors(sorted(beijing_ids), beijing_first, beijing_corresponding, share, sorted(countries), authors)

    def _author(self, authorship: dict, is_beijing: bool) -> dict:
        """One entry of the ``authorships`` column (``selection.schema.AUTHORSHIPS_TYPE``)."""
        author = authorship.get("author") or {}
        author_id = short_id(author.get("id"))
        if author_id is None:
            self.missing["authorships.author.id: absent"] += 1
        institutions = [
            (self._institution(institution), institution.get("display_name"))
            for institution in authorship.get("institutions") or ()
        ]
        identified = [(ids, name) for ids, name in institutions if ids[0]]
        corresponding = authorship.get("is_corresponding")
        return {
            "author_id": author_id,
            "name": author.get("display_name") or authorship.get("raw_author_name"),
            "orcid": _orcid(author.get("orcid")),
            "position": authorship.get("author_position"),
            "is_corresponding": None if corresponding is None else bool(corresponding),
            "institution_ids": [institution_id for (institution_id, _), _ in identified],
            "lineage_ids": list(dict.fromkeys(member for (_, lineage), _ in institutions for member in lineage)),
            "institution_names": [name for _, name in identified],
            "is_beijing": is_beijing,
        }

    def _institution(self, institution: dict) -> tuple[str | None, tuple[str, ...]]:
        """An authorship's institution as its short id and the short ids of its lineage."""
        key = (institution.get("id"), tuple(institution.get("lineage") or ()))
        shortened = self._institutions.get(key)
        if shortened is None:
            shortened = (short_id(key[0]), tuple(short_id(member) for member in key[1] if member))
            self._institutions[key] = shortened
        return shortened


@dataclass(frozen=True)
class _BeijingAuthors:
    """What ``WorkNormalizer._beijing_authors`` finds in a work's authorships."""

    institution_ids: list[str]
    first: bool
    corresponding: bool
    share: float | None
    countries: list[str]
    authors: list[dict]


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
    ``authorships[].institutions[].id`` (never via lineage; umbrella ids included, whatever
    the affiliation strings say: the harvest stays broad and the ranking's author rule reads
    the per-authorship attribution of ``WorkNormalizer``); ``publication_year`` in
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


def _field_id(topic: dict, subfield_id: int | None) -> int | None:
    """The topic's field id (``fields/23`` -> 23), else its subfield's hundreds."""
    field_id = _integer(short_id((topic.get("field") or {}).get("id")))
    if field_id is None and subfield_id is not None:
        field_id = subfield_id // 100
    return field_id


def _oa_url(best_location: dict | None, open_access: dict | None) -> str | None:
    best_location = best_location or {}
    return best_location.get("pdf_url") or best_location.get("landing_page_url") or (open_access or {}).get("oa_url")


def _flag(value) -> bool | None:
    return value if isinstance(value, bool) else None
