"""Web of Science records -> rows of ``works.parquet`` (``selection.schema.WORKS_SCHEMA``).

``read_wos_files`` reads plain-text ("FN Clarivate ... ER ... EF") and tab-delimited exports
with ``wosfile``; ``wos_record_to_work`` turns one record, a ``wosfile.Record`` or a mapping
of WoS tags (the shared data's JSON lines, where AU, AF and C1 are lists), into one row.
The mapping, column by column:

- ``work_id``: the accession number UT ("WOS:000460411100001"); ``doi``: DI, lower-case,
  without a ``https://doi.org/`` prefix; ``title`` TI; ``abstract`` AB;
- ``type`` from DT: "Article" and "Article; ..." (Early Access, Data Paper, Proceedings
  Paper published as an article ...) -> "article", "Review" and "Review; ..." -> "review",
  any other type (a pure "Proceedings Paper", "Editorial Material", "Letter", "Reprint" ...)
  -> its first part lower-cased ("proceedings paper"), which the ranking does not rank; no DT
  (tab-delimited exports without the column): "article" when the record has an ISSN (SN or
  EI), else null; ``is_retracted`` True only when DT says "Retracted Publication";
- ``publication_year`` PY; ``publication_date`` PY with the month and day of PD ("MAR 6",
  "2024 JUN 14", "OCT 1 2019", "MAR-APR" -> March); a month without a day -> its first day;
  a season ("SPR") or no PD -> null;
- ``language`` LA as an ISO 639-1 code ("English" -> "en", "Chinese" -> "zh", as OpenAlex
  writes it), another language lower-cased;
- ``source_id`` null (no OpenAlex source); ``source_name`` SO; ``issns`` SN then EI, each
  normalised (``journal_groups.normalize_issn``), invalid ones dropped; ``issn_l`` the first;
- ``journal_group``: "domestic" by rule "override" when an ISSN is in the override table;
  else by rule "source_country" from the publisher: "domestic" when its address PA names
  China or its city PI is a mainland Chinese city, unless PA is in Hong Kong, Macao or
  Taiwan (not mainland; the shared data's ``_derived.publisher_in_china`` counts Hong Kong
  too), else "international"; no PA and no PI: "international" by rule "default";
- ``subfield_id`` / ``field_id`` / ``discipline`` from the WoS categories WC through
  ``selection/data/wos_categories.csv`` (category -> closest OpenAlex / ASJC subfield):
  the first category whose subfield lies in a discipline, else the first category that
  maps (discipline null); ``field_id`` is the subfield's hundreds; ``topic_id`` null and
  ``topic_ids`` / ``topic_names`` / ``topic_scores`` empty (WoS has no OpenAlex topics);
- ``authorships``: one per AF name (else AU), in order; ``name`` the full name, ``author_id``
  and ``orcid`` null (ORCID from OI "Name/0000-..." when the export has it);
  ``position`` first / middle / last (a single author is first); ``institution_ids`` and
  ``lineage_ids`` empty (WoS has no OpenAlex ids) and ``institution_names`` the C1
  addresses naming the author ("[names] address"; C1 brackets give full or short names);
  ``is_corresponding`` when RP names the author ("Name (corresponding author), address",
  older exports "reprint author", the Chinese interface "(通讯作者)，"; RP gives short AU
  names, matched by position);
  ``is_beijing`` when one of the author's addresses (C1, and their RP address) is in
  Beijing: in China and placed in Beijing by ``beijing_places.places_beijing``, which says
  "Beijing 100084" yes and "Beijing Normal Univ, Zhuhai" no;
- ``beijing_any``: a Beijing authorship, or a Beijing C1 address naming no author;
  ``beijing_first``: the first author's; ``beijing_corresponding``: a corresponding author's
  (no RP: the first author stands in, as in the OpenAlex normaliser);
  ``beijing_institution_ids`` empty; ``beijing_author_share`` Beijing authorships / authors;
- ``countries``: ISO codes of every C1 address's last part ("Peoples R China" -> CN, "USA"
  and "CA 94720 USA" -> US, "England" -> GB; Hong Kong and Macao addresses -> HK, MO);
  ``authors_count``: the authors;
- ``cited_by_count`` = ``wos_times_cited`` = TC; ``esi_highly_cited`` HC == "Y" and
  ``esi_hot_paper`` HP == "Y" (null when the export has no such tag);
  ``referenced_works_count`` NR; ``counts_by_year``, ``fwci``,
  ``citation_normalized_percentile``, ``world_top_1pct``, ``world_top_10pct``, ``oa_url`` null;
- ``keywords``: DE, else ID, split on ";"; ``funders``: FU's funder names without their
  grant numbers in brackets; ``record_sources``: ``[source_label]`` ("wos:savedrecs.txt").
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import wosfile
from wosfile.read import sniff_encoding

from selection.beijing_places import OUTSIDE_PLACES, places_beijing
from selection.disciplines import DisciplineMap
from selection.errors import SelectionError
from selection.journal_groups import load_overrides, normalize_issn

DEFAULT_CATEGORIES_PATH = Path(__file__).parent.parent / "data" / "wos_categories.csv"
CATEGORY_COLUMNS = ("wos_category", "subfield_id", "note")

_TAG = re.compile(r"^[A-Z][A-Z0-9]$")
_MONTHS = {name: number for number, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_LANGUAGES = {
    "english": "en", "chinese": "zh", "german": "de", "french": "fr", "spanish": "es", "russian": "ru",
    "japanese": "ja", "korean": "ko", "portuguese": "pt", "italian": "it", "polish": "pl", "turkish": "tr",
    "czech": "cs", "dutch": "nl", "hungarian": "hu", "persian": "fa", "arabic": "ar", "ukrainian": "uk",
}
# WoS writes countries as the last part of an address; names as WoS spells them.
_COUNTRIES = {
    "peoples r china": "CN", "china": "CN", "pr china": "CN", "usa": "US", "england": "GB", "scotland": "GB",
    "wales": "GB", "north ireland": "GB", "northern ireland": "GB", "uk": "GB", "united kingdom": "GB",
    "ireland": "IE", "germany": "DE", "france": "FR", "italy": "IT", "spain": "ES", "portugal": "PT",
    "netherlands": "NL", "belgium": "BE", "switzerland": "CH", "austria": "AT", "sweden": "SE", "norway": "NO",
    "denmark": "DK", "finland": "FI", "iceland": "IS", "poland": "PL", "czech republic": "CZ", "czechia": "CZ",
    "slovakia": "SK", "hungary": "HU", "greece": "GR", "turkey": "TR", "turkiye": "TR", "russia": "RU",
    "ukraine": "UA", "belarus": "BY", "romania": "RO", "bulgaria": "BG", "serbia": "RS", "croatia": "HR",
    "slovenia": "SI", "bosnia & herceg": "BA", "north macedonia": "MK", "macedonia": "MK", "albania": "AL",
    "estonia": "EE", "latvia": "LV", "lithuania": "LT", "luxembourg": "LU", "cyprus": "CY", "malta": "MT",
    "israel": "IL", "iran": "IR", "iraq": "IQ", "saudi arabia": "SA", "u arab emirates": "AE", "qatar": "QA",
    "kuwait": "KW", "oman": "OM", "bahrain": "BH", "jordan": "JO", "lebanon": "LB", "syria": "SY", "yemen": "YE",
    "egypt": "EG", "morocco": "MA", "tunisia": "TN", "algeria": "DZ", "libya": "LY", "south africa": "ZA",
    "nigeria": "NG", "kenya": "KE", "ethiopia": "ET", "ghana": "GH", "tanzania": "TZ", "uganda": "UG",
    "cameroon": "CM", "senegal": "SN", "zimbabwe": "ZW", "zambia": "ZM", "rwanda": "RW", "sudan": "SD",
    "india": "IN", "pakistan": "PK", "bangladesh": "BD", "sri lanka": "LK", "nepal": "NP", "afghanistan": "AF",
    "japan": "JP", "south korea": "KR", "north korea": "KP", "taiwan": "TW", "singapore": "SG",
    "malaysia": "MY", "thailand": "TH", "vietnam": "VN", "viet nam": "VN", "indonesia": "ID",
    "philippines": "PH", "cambodia": "KH", "laos": "LA", "myanmar": "MM", "mongolia": "MN", "kazakhstan": "KZ",
    "uzbekistan": "UZ", "kyrgyzstan": "KG", "tajikistan": "TJ", "turkmenistan": "TM", "azerbaijan": "AZ",
    "georgia": "GE", "armenia": "AM", "australia": "AU", "new zealand": "NZ", "papua n guinea": "PG", "fiji": "FJ",
    "canada": "CA", "mexico": "MX", "brazil": "BR", "argentina": "AR", "chile": "CL", "colombia": "CO",
    "peru": "PE", "venezuela": "VE", "ecuador": "EC", "uruguay": "UY", "paraguay": "PY", "bolivia": "BO",
    "cuba": "CU", "costa rica": "CR", "panama": "PA", "guatemala": "GT", "jamaica": "JM", "puerto rico": "PR",
    "trinidad tobago": "TT", "dominican rep": "DO", "hong kong": "HK", "macau": "MO", "macao": "MO",
    "brunei": "BN", "botswana": "BW", "namibia": "NA", "mozambique": "MZ", "malawi": "MW", "madagascar": "MG",
    "mauritius": "MU", "benin": "BJ", "burkina faso": "BF", "mali": "ML", "niger": "NE", "cote ivoire": "CI",
    "togo": "TG", "gabon": "GA", "angola": "AO", "somalia": "SO", "eritrea": "ER", "dem rep congo": "CD",
    "rep congo": "CG", "bhutan": "BT", "maldives": "MV", "moldova": "MD", "montenegro": "ME", "kosovo": "XK",
    "monaco": "MC", "liechtenstein": "LI", "palestine": "PS", "el salvador": "SV", "honduras": "HN",
    "nicaragua": "NI", "haiti": "HT", "barbados": "BB", "bahamas": "BS", "guyana": "GY", "suriname": "SR",
    "new caledonia": "NC", "fr polynesia": "PF", "greenland": "GL", "south sudan": "SS",
}
_NOT_MAINLAND = ("HONG KONG", "KOWLOON", "SHATIN", "MACAU", "MACAO", "TAIWAN", "TAIPEI")
_MAINLAND_CITIES = frozenset(
    {"BEIJING"} | {place.upper() for place in OUTSIDE_PLACES if place.upper() not in _NOT_MAINLAND
                   and place not in ("Hsinchu", "Tainan", "Taichung", "Kaohsiung")}
)
# "Name (corresponding author), address"; older exports "reprint author", the Chinese interface "(通讯作者)，"
_CORRESPONDING = re.compile(r"\s*[(（](?:corresponding author|reprint author|通讯作者)[)）]\s*[,，]?\s*", re.IGNORECASE)
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")


def items(value) -> list[str]:
    """A multi-valued WoS field as a list: lists pass through, text is split on ";"."""
    if value is None:
        return []
    parts = value if isinstance(value, list | tuple) else str(value).split(";")
    return [part.strip() for part in parts if part and part.strip()]


def text(value) -> str | None:
    """A single-valued field as stripped text (a list is joined with spaces); None when empty."""
    if isinstance(value, list | tuple):
        value = " ".join(str(part) for part in value)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def integer(value) -> int | None:
    """A count field ("67", 67) as an int; None when empty or not a number."""
    value = text(value)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def normalize_doi(value) -> str | None:
    """``"10.1038/S41467-019-09042-Y"`` or a doi.org URL -> ``"10.1038/s41467-019-09042-y"``."""
    doi = text(value)
    if doi is None:
        return None
    doi = doi.lower()
    for prefix in _DOI_PREFIXES:
        if doi.startswith(prefix):
            doi = doi[len(prefix):]
    return doi.strip() or None


@lru_cache(maxsize=4)
def load_wos_categories(path: str | Path | None = None) -> dict[str, int]:
    """WoS category (lower-case) -> OpenAlex/ASJC subfield id from the mapping CSV.

    Raises SelectionError naming the file and line of a bad row."""
    path = Path(path) if path is not None else DEFAULT_CATEGORIES_PATH
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != CATEGORY_COLUMNS:
                raise SelectionError(f"{path}: header must be {','.join(CATEGORY_COLUMNS)}")
            categories: dict[str, int] = {}
            for row in reader:
                where = f"{path}, line {reader.line_num}"
                name = (row["wos_category"] or "").strip().lower()
                try:
                    subfield_id = int(row["subfield_id"])
                except (TypeError, ValueError):
                    raise SelectionError(f"{where}: subfield_id {row['subfield_id']!r} is not an integer") from None
                if not name or not 1000 <= subfield_id <= 9999:
                    raise SelectionError(f"{where}: give a category name and a subfield id between 1000 and 9999")
                if categories.setdefault(name, subfield_id) != subfield_id:
                    raise SelectionError(f"{where}: category {row['wos_category']!r} is listed twice")
            return categories
    except FileNotFoundError:
        raise SelectionError(f"WoS category mapping {path} not found; pass an existing CSV") from None


@lru_cache(maxsize=1)
def _default_overrides() -> dict[str, str]:
    return load_overrides()


def read_wos_files(paths: Sequence[str | Path]) -> list[tuple[str, list[dict]]]:
    """Read WoS exports (plain text or tab-delimited) with ``wosfile``: one ``(label,
    records)`` per file, the label being the file's name (its path when two files share a
    name) and each record a ``wosfile.Record``.

    Raises SelectionError naming the file (and line when known) for an unreadable or
    malformed file: not a WoS export, a record cut off before ER or EF, a field line without
    a tag, a tab-delimited header without UT or with a column that is no WoS tag, a record
    without UT.
    """
    paths = [Path(path) for path in paths]
    if not paths:
        raise SelectionError("name at least one Web of Science export file")
    labels = file_labels(paths)
    return [(label, _read_one(path)) for label, path in zip(labels, paths)]


def file_labels(paths: Sequence[Path]) -> list[str]:
    """Each file's name, or its path as given when another file has the same name."""
    names = [path.name for path in paths]
    return [path.name if names.count(path.name) == 1 else str(path) for path in paths]


def _read_one(path: Path) -> list[dict]:
    fix = "export the records again from Web of Science as plain text or tab-delimited"
    try:
        with open(path, "rb") as handle:
            encoding = sniff_encoding(handle)
        with open(path, encoding=encoding) as handle:
            try:
                reader_class = wosfile.get_reader(handle)
            except wosfile.ReadError:
                raise SelectionError(f"{path} is not a Web of Science export (neither 'FN ' plain text nor "
                                     f"tab-delimited); {fix}") from None
            return _records(path, reader_class(handle), fix)
    except FileNotFoundError:
        raise SelectionError(f"{path} not found; name an existing export file") from None
    except UnicodeError as exc:
        raise SelectionError(f"{path} is not UTF-8 or UTF-16 text ({exc.__class__.__name__}); {fix}") from None
    except OSError as exc:
        raise SelectionError(f"{path} cannot be read ({exc.strerror or exc}); check the path and permissions") from None


def _records(path: Path, reader, fix: str) -> list[dict]:
    tab = isinstance(reader, wosfile.TabDelimitedReader)
    if tab:
        header = [name for name in reader.reader.fieldnames or () if name]
        bad = [name for name in header if not _TAG.match(name.lstrip("\ufeff"))]
        if bad or "UT" not in header:
            problem = f"columns that are no WoS tags ({', '.join(map(repr, bad[:3]))})" if bad else "no UT column"
            raise SelectionError(f"{path}, line 1: the tab-delimited header has {problem}; {fix}")
    records = []
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # wosfile warns about tags it does not know
                raw = next(reader)
        except StopIteration:
            break
        except (wosfile.ReadError, ValueError) as exc:
            line = reader.reader.line_num if tab else reader.current_line
            message = str(exc) if isinstance(exc, wosfile.ReadError) else "a field line without a tag and value"
            raise SelectionError(f"{path}, line {line}: {message}; {fix}") from None
        raw.pop("", None)  # the column after a trailing tab of the header
        where = f"{path}, line {reader.reader.line_num if tab else reader.current_line}"
        unknown = [tag for tag in raw if not _TAG.match(tag or "")]
        if unknown:
            raise SelectionError(f"{where}: {unknown[0]!r} is not a WoS field tag; {fix}")
        if tab and any(value is None for value in raw.values()):
            raise SelectionError(f"{where}: the row has fewer fields than the header; {fix}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            record = wosfile.Record(raw)
        if not text(record.get("UT")):
            raise SelectionError(f"{where}: a record without an accession number (UT); {fix}")
        records.append(record)
    return records


def wos_record_to_work(
    record: Mapping, disciplines: DisciplineMap, source_label: str, *,
    overrides: Mapping[str, str] | None = None, categories: Mapping[str, int] | None = None,
) -> dict:
    """One works row (exactly the ``WORKS_COLUMNS`` keys, in order) for one WoS record; the
    module docstring states the mapping. ``overrides`` (ISSN -> CN number) and ``categories``
    default to the packaged tables. SelectionError for a record without UT."""
    get = record.get
    work_id = text(get("UT"))
    if work_id is None:
        raise SelectionError(f"a {source_label} record has no accession number (UT); export it again with UT")
    overrides = _default_overrides() if overrides is None else overrides
    categories = load_wos_categories() if categories is None else categories
    issns = list(dict.fromkeys(i for i in (normalize_issn(v) for v in items(get("SN")) + items(get("EI"))) if i))
    group, rule = journal_group(issns, text(get("PA")), text(get("PI")), overrides)
    subfield_id, discipline = category_subfield(items(get("WC")), disciplines, categories)
    year = integer(get("PY"))
    authors = wos_authorships(record)
    keywords = items(get("DE")) or items(get("ID"))
    times_cited = integer(get("TC"))
    document_type = text(get("DT"))
    return {
        "work_id": work_id,
        "doi": normalize_doi(get("DI")),
        "title": text(get("TI")),
        "publication_year": year,
        "publication_date": publication_date(year, text(get("PD"))),
        "type": work_type(document_type, bool(issns)),
        "language": language_code(text(get("LA"))),
        "source_id": None,
        "source_name": text(get("SO")),
        "issn_l": issns[0] if issns else None,
        "issns": issns,
        "journal_group": group,
        "journal_group_rule": rule,
        "discipline": discipline,
        "subfield_id": subfield_id,
        "topic_id": None,
        "beijing_any": authors.beijing_any,
        "beijing_first": authors.beijing_first,
        "beijing_corresponding": authors.beijing_corresponding,
        "beijing_institution_ids": [],
        "countries": authors.countries,
        "authors_count": len(authors.authorships),
        "authorships": authors.authorships,
        "cited_by_count": times_cited,
        "counts_by_year": None,
        "fwci": None,
        "citation_normalized_percentile": None,
        "referenced_works_count": integer(get("NR")),
        "is_retracted": "retracted publication" in (document_type or "").lower(),
        "abstract": text(get("AB")),
        "field_id": subfield_id // 100 if subfield_id is not None else None,
        "topic_ids": [],
        "topic_names": [],
        "topic_scores": [],
        "keywords": list(dict.fromkeys(keywords)),
        "funders": funder_names(text(get("FU"))),
        "oa_url": None,
        "world_top_1pct": None,
        "world_top_10pct": None,
        "beijing_author_share": authors.share,
        "wos_times_cited": times_cited,
        "esi_highly_cited": flag(get("HC")),
        "esi_hot_paper": flag(get("HP")),
        "record_sources": [source_label],
    }


def flag(value) -> bool | None:
    """An ESI flag ("Y" / "N"); None when the tag is absent or empty."""
    value = text(value)
    return None if value is None else value.upper() == "Y"


def work_type(document_type: str | None, has_issn: bool) -> str | None:
    """DT -> the works ``type`` (module docstring)."""
    if document_type is None:
        return "article" if has_issn else None
    first = items(document_type)[0].lower() if items(document_type) else ""
    if first in ("article", "review"):
        return first
    return first or None


def publication_date(year: int | None, pd_text: str | None) -> dt.date | None:
    """PY with PD's month and day ("MAR 6", "2024 JUN 14", "MAR-APR"); None when PD names
    no month (a season, nothing) or the day does not exist."""
    if year is None or not pd_text:
        return None
    tokens = [token for token in re.split(r"[\s\-./]+", pd_text.upper()) if token and not re.fullmatch(r"\d{4}", token)]
    if not tokens or tokens[0][:3] not in _MONTHS:
        return None
    month = _MONTHS[tokens[0][:3]]
    day = next((int(token) for token in tokens[1:] if token.isdigit()), 1)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def language_code(language: str | None) -> str | None:
    """LA -> ISO 639-1 ("English" -> "en"); an unlisted language lower-cased."""
    if language is None:
        return None
    first = items(language)[0].lower()
    return _LANGUAGES.get(first, first)


def journal_group(
    issns: Iterable[str], publisher_address: str | None, publisher_city: str | None, overrides: Mapping[str, str]
) -> tuple[str, str]:
    """``(journal_group, journal_group_rule)`` of a WoS record (module docstring)."""
    if any(issn in overrides for issn in issns):
        return "domestic", "override"
    if publisher_address is None and publisher_city is None:
        return "international", "default"
    address = (publisher_address or "").upper()
    city = (publisher_city or "").strip().upper()
    if any(place in address for place in _NOT_MAINLAND) or city in _NOT_MAINLAND:
        return "international", "source_country"
    if re.search(r"\bCHINA\b", address) or city in _MAINLAND_CITIES:
        return "domestic", "source_country"
    return "international", "source_country"


def category_subfield(
    wos_categories: list[str], disciplines: DisciplineMap, categories: Mapping[str, int]
) -> tuple[int | None, str | None]:
    """The subfield and discipline of a record's WoS categories: the first category whose
    subfield is in a discipline, else the first that maps (no discipline), else nothing."""
    mapped = [categories[name.lower()] for name in wos_categories if name.lower() in categories]
    for subfield_id in mapped:
        discipline = disciplines.for_subfield(subfield_id)
        if discipline is not None:
            return subfield_id, discipline
    return (mapped[0], None) if mapped else (None, None)


def funder_names(funding: str | None) -> list[str]:
    """FU "NSFC [51974020, 123]; Fundamental Research Funds [FRF-1]" -> the names, each once."""
    if not funding:
        return []
    without_grants = re.sub(r"\[[^\]]*\]", "", funding)
    return list(dict.fromkeys(name.strip() for name in without_grants.split(";") if name.strip()))


def address_country(address: str) -> str | None:
    """The ISO code of a WoS address's country (its last comma-separated part)."""
    parts = [part.strip().rstrip(".").strip() for part in address.split(",")]
    if not parts:
        return None
    last = parts[-1].lower()
    if last in ("peoples r china", "china", "pr china"):
        earlier = " ".join(parts[:-1]).lower()
        if "hong kong" in earlier or "kowloon" in earlier:
            return "HK"
        if "macau" in earlier or "macao" in earlier:
            return "MO"
        return "CN"
    if last in _COUNTRIES:
        return _COUNTRIES[last]
    words = last.split()
    if words and words[-1] == "usa":  # "CA 94720 USA"
        return "US"
    if words and words[-1] == "canada":
        return "CA"
    for size in (3, 2, 1):  # "Bayern 80333 Germany"-like endings
        tail = " ".join(words[-size:])
        if tail in _COUNTRIES:
            return _COUNTRIES[tail]
    return None


def address_in_beijing(address: str) -> bool:
    """A WoS address in Beijing: in (mainland) China and placed in Beijing by ``places_beijing``."""
    return address_country(address) == "CN" and places_beijing(address.rstrip(".")) is True


def split_addresses(value) -> list[tuple[list[str], str]]:
    """C1 as ``(names, address)`` pairs; names empty for an address without "[names]".

    A list holds one address per item (the shared data); text (``wosfile`` joins the lines
    with "; ") is split before each "[" and, without brackets, on "; "."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        entries = [str(entry) for entry in value]
    else:
        entries = []
        for chunk in re.split(r";\s*(?=\[)", str(value)):
            chunk = chunk.strip()
            if chunk.startswith("["):
                names_part, _, rest = chunk.partition("]")
                addresses = [a for a in rest.split("; ") if a.strip()] or [""]
                entries.append(f"{names_part}] {addresses[0].strip()}")
                entries += addresses[1:]  # addresses after a bracketed one without names of their own
            else:
                entries += [a for a in chunk.split("; ") if a.strip()]
    pairs = []
    for entry in entries:
        entry = entry.strip()
        match = re.match(r"^\[([^\]]*)\]\s*(.*)$", entry)
        if match:
            pairs.append(([n.strip() for n in match.group(1).split(";") if n.strip()], match.group(2).strip()))
        elif entry:
            pairs.append(([], entry))
    return pairs


def corresponding_entries(reprint: str | None) -> list[tuple[list[str], str]]:
    """RP as ``(names, address)`` pairs: "A, X; B, Y (corresponding author), address.; ..."."""
    if not reprint:
        return []
    entries = []
    for chunk in re.split(r"(?<=\.);\s*", reprint):
        parts = _CORRESPONDING.split(chunk, maxsplit=1)
        if len(parts) == 2:
            names, address = parts
            entries.append(([n.strip() for n in names.split(";") if n.strip()], address.strip()))
    return entries


def _name_key(name: str) -> str:
    return re.sub(r"[\s.]+", " ", name.lower()).strip()


def _orcids(record: Mapping) -> dict[str, str]:
    orcids = {}
    for entry in items(record.get("OI")):
        name, _, orcid = entry.rpartition("/")
        if name and re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", orcid.strip()):
            orcids[_name_key(name)] = orcid.strip()
    return orcids


class WosAuthors:
    """What ``wos_authorships`` finds: the ``authorships`` entries and the work's Beijing
    flags, share and countries."""

    def __init__(self, authorships, beijing_any, beijing_first, beijing_corresponding, share, countries):
        self.authorships = authorships
        self.beijing_any = beijing_any
        self.beijing_first = beijing_first
        self.beijing_corresponding = beijing_corresponding
        self.share = share
        self.countries = countries


def wos_authorships(record: Mapping) -> WosAuthors:
    """The authorships of a WoS record from AF/AU, C1 and RP (module docstring)."""
    full = items(record.get("AF"))
    short = items(record.get("AU"))
    names = full or short
    if short and len(short) != len(names):
        short = []  # positions cannot be matched
    keys = [{_name_key(n) for n in (name, short[i] if short else None) if n} for i, name in enumerate(names)]
    addresses = split_addresses(record.get("C1"))
    corresponding = corresponding_entries(text(record.get("RP")))
    orcids = _orcids(record)
    authorships = []
    for position, name in enumerate(names):
        own = [address for named, address in addresses if keys[position] & {_name_key(n) for n in named}]
        reprint = [address for named, address in corresponding if keys[position] & {_name_key(n) for n in named}]
        places = list(dict.fromkeys(a.rstrip(".") for a in own if a))
        beijing = any(address_in_beijing(a) for a in own + reprint)
        authorships.append({
            "author_id": None,
            "name": name,
            "orcid": orcids.get(_name_key(name)) or (orcids.get(_name_key(short[position])) if short else None),
            "position": "first" if position == 0 else ("last" if position == len(names) - 1 else "middle"),
            "is_corresponding": bool(reprint) if corresponding else None,
            "institution_ids": [],
            "lineage_ids": [],
            "institution_names": places,
            "is_beijing": beijing,
        })
    unnamed_beijing = any(not named and address_in_beijing(address) for named, address in addresses)
    beijing_any = any(a["is_beijing"] for a in authorships) or unnamed_beijing
    beijing_first = bool(authorships) and authorships[0]["is_beijing"]
    if corresponding:
        beijing_corresponding = any(a["is_beijing"] for a in authorships if a["is_corresponding"])
    else:
        beijing_corresponding = beijing_first
    share = sum(a["is_beijing"] for a in authorships) / len(authorships) if authorships else None
    countries = sorted({code for _, address in addresses if (code := address_country(address))})
    return WosAuthors(authorships, beijing_any, beijing_first, beijing_corresponding, share, countries)
