"""Seeded synthetic OpenAlex data: a whole world as JSON, or a works table straight away.

One set of parameters and one vectorised draw (``_draw_works``) feed two outputs:

- ``generate_world`` turns the draw into OpenAlex-shaped JSON (institutions, sources,
  works) for the demo, the local test server and the snapshot tests, with traps the
  harvest rules must reject;
- ``works_frame`` turns the same draw into the ``works.parquet`` columns with numpy and
  pyarrow (no JSON), keeping the harvest-eligible works: a million rows in seconds.

For the same ``n_works`` and seed, normalising the eligible JSON works gives exactly the
rows of ``works_frame``.

Topics are real OpenAlex topics drawn from ``topics.csv`` of the shared data when it is
found (``$SHARED_DATA/openalex/topics/topics.csv``, else ``../shared/data`` beside the
repository). Without it (a fresh machine) each real subfield gets one stand-in topic with
the id ``T9<subfield id>``; subfield, field and domain ids are real either way. The two
sources give different (each deterministic) worlds.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy import stats

from selection.disciplines import load_disciplines
from selection.journal_groups import JournalGroupResolver
from selection.schema import COUNTS_BY_YEAR_TYPE, WORKS_SCHEMA

OPENALEX = "https://openalex.org/"
CAS_NAME = "Chinese Academy of Sciences"

# --- the taxonomy: real ids ------------------------------------------------------------

DOMAINS = {1: "Life Sciences", 2: "Social Sciences", 3: "Physical Sciences", 4: "Health Sciences"}
# field id: (name, domain id, subfield ids as field * 100 + n)
FIELDS = {
    11: ("Agricultural and Biological Sciences", 1, (0, *range(2, 12))),
    12: ("Arts and Humanities", 2, (0, *range(2, 14))),
    13: ("Biochemistry, Genetics and Molecular Biology", 1, tuple(range(2, 16))),
    14: ("Business, Management and Accounting", 2, tuple(range(2, 11))),
    15: ("Chemical Engineering", 3, (2, 3, 4, 6, 7, 8)),
    16: ("Chemistry", 3, tuple(range(2, 8))),
    17: ("Computer Science", 3, tuple(range(2, 13))),
    18: ("Decision Sciences", 2, (0, 2, 3, 4)),
    19: ("Earth and Planetary Sciences", 3, (2, 4, 6, 7, 8, 10, 11, 12)),
    20: ("Economics, Econometrics and Finance", 2, (0, 2, 3)),
    21: ("Energy", 3, (0, 2, 3, 4, 5)),
    22: ("Engineering", 3, (0, *range(2, 17))),
    23: ("Environmental Science", 3, tuple(range(2, 13))),
    24: ("Immunology and Microbiology", 1, tuple(range(2, 7))),
    25: ("Materials Science", 3, (0, *range(2, 9))),
    26: ("Mathematics", 3, (2, 4, 5, 7, 8, 10, 11, 12, 13, 14)),
    27: ("Medicine", 4, (*range(2, 9), *range(11, 19), 20, 21, *range(23, 44), *range(45, 49))),
    28: ("Neuroscience", 1, tuple(range(2, 10))),
    29: ("Nursing", 4, (10, 11, 16, 22)),
    30: ("Pharmacology, Toxicology and Pharmaceutics", 1, tuple(range(2, 6))),
    31: ("Physics and Astronomy", 3, tuple(range(2, 10))),
    32: ("Psychology", 2, (0, *range(2, 8))),
    33: ("Social Sciences", 2, (0, *range(2, 23))),
    34: ("Veterinary", 4, (2, 4)),
    35: ("Dentistry", 4, (0, 4, 5, 6)),
    36: ("Health Professions", 4, (0, 3, 4, 5, 7, 8, 9, 11, 12, 14, 16)),
}
SOCIAL_SCIENCES_WEIGHT = 0.25  # Beijing science works are mostly outside the social sciences

# --- citation and authorship parameters -------------------------------------------------

# Expected citations per year of age, by field: medicine and biology cite more than mathematics.
CITATIONS_PER_YEAR = {
    11: 3.5, 12: 0.8, 13: 6.5, 14: 3.0, 15: 5.5, 16: 6.0, 17: 4.5, 18: 3.0, 19: 3.5, 20: 2.5,
    21: 7.5, 22: 4.0, 23: 5.5, 24: 6.0, 25: 7.0, 26: 1.5, 27: 5.0, 28: 5.5, 29: 2.0, 30: 5.0,
    31: 3.5, 32: 3.0, 33: 2.0, 34: 1.8, 35: 2.0, 36: 2.0,
}
CITATION_AGE_EXPONENT = 1.2  # cumulative citations grow a little faster than age
CITATION_DISPERSION = 0.7  # negative-binomial shape: small means heavy skew
AUTHORS_MEAN = {26: 2.5, 12: 1.6, 33: 2.5, 20: 2.2, 27: 8.0, 13: 7.0, 28: 6.5, 24: 7.0, 31: 6.0}
DEFAULT_AUTHORS_MEAN = 5.0
REFERENCES_MEAN = 45.0
REVIEW_SHARE = 0.12
SECOND_AFFILIATION_SHARE = 0.08
NO_AFFILIATION_SHARE = 0.03
FIRST_AUTHOR_IS_BEIJING_SHARE = 0.6
# the other authors: Beijing, other Chinese, CAS institutes outside Beijing, foreign
COAUTHOR_KIND_SHARES = (0.45, 0.25, 0.05, 0.25)
# corresponding author: first, last, none flagged
CORRESPONDING_SHARES = (0.45, 0.45, 0.10)
# source category of a work: domestic, Chinese journal registered abroad, international, multidisciplinary
SOURCE_CATEGORY_SHARES = (0.20, 0.10, 0.62, 0.08)
CHINESE_LANGUAGE_SHARE_IN_DOMESTIC = 0.4
NULL_SHARES = {"doi": 0.03, "abstract": 0.10, "primary_topic": 0.01, "fwci": 0.02, "percentile": 0.03}
TRAP_SHARE = 0.02  # of each trap kind, when with_traps

TRAP_KINDS = (
    "cas_outside_beijing",  # only authors at CAS institutes outside Beijing (CAS in their lineage)
    "non_journal_source",  # repository, conference, ebook platform or no source
    "journal_without_issn",
    "outside_window",
    "retracted",
    "paratext",
    "other_type",  # preprint, letter, editorial, book-chapter
    "two_beijing_institutions",  # eligible: authors at two different Beijing institutions
)
ELIGIBLE_TRAPS = frozenset({"two_beijing_institutions"})
OTHER_TYPES = ("preprint", "letter", "editorial", "book-chapter")

WORDS = (
    "adaptive analysis atlas beam boundary catalytic cell chiral climate coherent control coupling "
    "crystal dynamics efficient emission enzyme evolution field flow framework genome graph "
    "imaging inference interface ion lattice layer learning magnetic mapping mechanism membrane "
    "model molecular network neural nonlinear optical pathway phase plasma protein quantum "
    "receptor regulation response robust sensing signal soil spectral stable structure surface "
    "synthesis system thermal tissue topology transfer transport tumor wave"
).split()
GIVEN_NAMES = "Wei Fang Jing Lei Min Yan Jun Hua Xin Tao Li Ning Hao Yu Qiang Mei Bo Chen Ying Lin".split()
FAMILY_NAMES = "Wang Li Zhang Liu Chen Yang Zhao Huang Zhou Wu Xu Sun Hu Zhu Gao Lin He Guo Ma Luo".split()

# --- institutions and sources -----------------------------------------------------------

# display_name, type, city, region, country code, country, latitude, longitude, in CAS lineage
INSTITUTIONS = (
    ("Tsinghua University", "education", "Beijing", "Beijing", "CN", "China", 40.00, 116.33, False),
    ("Peking University", "education", "Beijing", "Beijing", "CN", "China", 39.99, 116.31, False),
    ("Beihang University", "education", "Beijing", "Beijing", "CN", "China", 39.98, 116.35, False),
    ("Beijing Institute of Technology", "education", "Beijing", "Beijing", "CN", "China", 39.96, 116.31, False),
    ("Beijing Normal University", "education", "Beijing", "Beijing", "CN", "China", 39.96, 116.37, False),
    ("Peking Union Medical College Hospital", "healthcare", "Beijing", "Beijing", "CN", "China", 39.91, 116.42, False),
    ("Chinese PLA General Hospital", "healthcare", "Beijing", "Beijing", "CN", "China", 39.91, 116.28, False),
    ("Beijing Tiantan Hospital", "healthcare", "Beijing", "Beijing", "CN", "China", 39.83, 116.29, False),
    (CAS_NAME, "government", "Beijing", "Beijing", "CN", "China", 39.92, 116.33, False),
    ("Institute of Physics", "facility", "Beijing", "Beijing", "CN", "China", 39.99, 116.33, True),
    ("Institute of Chemistry", "facility", "Beijing", "Beijing", "CN", "China", 39.99, 116.32, True),
    ("Institute of Atmospheric Physics", "facility", "Beijing", "Beijing", "CN", "China", 39.98, 116.38, True),
    ("University of Chinese Academy of Sciences", "education", "Beijing", "Beijing", "CN", "China", 40.41, 116.68, True),
    ("Shanghai Institute of Organic Chemistry", "facility", "Shanghai", "Shanghai", "CN", "China", 31.20, 121.44, True),
    ("Hefei Institutes of Physical Science", "facility", "Hefei", "Anhui", "CN", "China", 31.91, 117.16, True),
    ("Lanzhou Institute of Chemical Physics", "facility", "Lanzhou", "Gansu", "CN", "China", 36.05, 103.85, True),
    ("Dalian Institute of Chemical Physics", "facility", "Dalian", "Liaoning", "CN", "China", 38.89, 121.55, True),
    ("Fudan University", "education", "Shanghai", "Shanghai", "CN", "China", 31.30, 121.50, False),
    ("Zhejiang University", "education", "Hangzhou", "Zhejiang", "CN", "China", 30.26, 120.12, False),
    ("Nankai University", "education", "Tianjin", "Tianjin", "CN", "China", 39.10, 117.17, False),
    ("Wuhan University", "education", "Wuhan", "Hubei", "CN", "China", 30.54, 114.36, False),
    ("University of Oxford", "education", "Oxford", "England", "GB", "United Kingdom", 51.75, -1.25, False),
    ("Massachusetts Institute of Technology", "education", "Cambridge", "Massachusetts", "US", "United States", 42.36, -71.09, False),
    ("The University of Tokyo", "education", "Tokyo", None, "JP", "Japan", 35.71, 139.76, False),
    ("Max Planck Society", "nonprofit", "Munich", "Bavaria", "DE", "Germany", 48.14, 11.58, False),
    ("National University of Singapore", "education", "Singapore", None, "SG", "Singapore", 1.30, 103.78, False),
    ("University of Toronto", "education", "Toronto", "Ontario", "CA", "Canada", 43.66, -79.40, False),
)
INSTITUTION_KINDS = ("beijing", "other_cn", "cas_outside_beijing", "foreign")

# Source categories; a journal of a domain, or of all (domain None).
DOMESTIC, CHINESE_ABROAD, INTERNATIONAL, MULTIDISCIPLINARY = range(4)
_DOMAIN_WORDS = {1: "Life Sciences", 2: "Social Sciences", 3: "Physical Sciences", 4: "Medicine"}
_ABROAD_PUBLISHERS = (("Springer Nature", "GB"), ("Elsevier BV", "NL"))
_INTERNATIONAL_PUBLISHERS = (("Elsevier BV", "NL"), ("Wiley", "US"), ("Springer Nature", "DE"))


@dataclass(frozen=True)
class _SourceSpec:
    display_name: str
    type: str
    country_code: str | None
    host_organization_name: str
    domain_id: int | None
    category: int | None  # None for the trap sources
    has_issn: bool = True


def _source_specs() -> list[_SourceSpec]:
    specs = []
    for domain_id, word in _DOMAIN_WORDS.items():
        specs += [
            _SourceSpec(f"Chinese Journal of {word}", "journal", "CN", "Science Press", domain_id, DOMESTIC),
            _SourceSpec(f"Acta {word} Sinica", "journal", "CN", "Higher Education Press", domain_id, DOMESTIC),
        ]
        publisher, country = _ABROAD_PUBLISHERS[domain_id % 2]
        specs.append(_SourceSpec(f"{word} China", "journal", country, publisher, domain_id, CHINESE_ABROAD))
        for prefix, (publisher, country) in zip(("International Journal of", "Annals of", "Letters in"), _INTERNATIONAL_PUBLISHERS):
            specs.append(_SourceSpec(f"{prefix} {word}", "journal", country, publisher, domain_id, INTERNATIONAL))
    specs += [
        _SourceSpec("National Frontier Review", "journal", "CN", "Oxford University Press", None, MULTIDISCIPLINARY),
        _SourceSpec("Reports of Synthetic Science", "journal", "GB", "Springer Nature", None, MULTIDISCIPLINARY),
        _SourceSpec("Beijing Bulletin of Research", "journal", "CN", "Science Press", None, None, has_issn=False),
        _SourceSpec("SynthArXiv", "repository", None, "Synthetic Library", None, None, has_issn=False),
        _SourceSpec("Proceedings of the Synthetic Conference on Learning", "conference", "US", "Synthetic Society", None, None, has_issn=False),
        _SourceSpec("Synthetic Books Online", "ebook platform", "DE", "Synthetic Press", None, None, has_issn=False),
    ]
    return specs


def _issn(serial: int) -> str:
    """A well-formed ISSN (correct check digit) in the 9xxx range, unique per serial."""
    digits = f"{9000000 + serial * 37:07d}"
    weighted = sum(int(digit) * weight for digit, weight in zip(digits, range(8, 1, -1)))
    check = (11 - weighted % 11) % 11
    return f"{digits[:4]}-{digits[4:]}{'X' if check == 10 else check}"


def _institution_records() -> list[dict]:
    cas_id = f"{OPENALEX}I{9100000001 + [row[0] for row in INSTITUTIONS].index(CAS_NAME)}"
    records = []
    for index, (name, kind, city, region, code, country, lat, lon, in_cas) in enumerate(INSTITUTIONS):
        openalex_id = f"{OPENALEX}I{9100000001 + index}"
        records.append(
            {
                "id": openalex_id,
                "display_name": name,
                "ror": f"https://ror.org/09s{index:06d}",
                "country_code": code,
                "type": kind,
                "geo": {"city": city, "region": region, "country_code": code, "country": country,
                        "latitude": lat, "longitude": lon},
                "lineage": [openalex_id, cas_id] if in_cas else [openalex_id],
            }
        )
    return records


def _institution_kind(record: dict) -> str:
    if record["geo"]["city"] == "Beijing":
        return "beijing"
    if record["country_code"] != "CN":
        return "foreign"
    return "cas_outside_beijing" if len(record["lineage"]) > 1 else "other_cn"


def _source_records() -> tuple[list[dict], dict[str, str]]:
    """The source dicts and the override table (ISSN -> CN number) of the Chinese
    journals registered abroad."""
    records, overrides = [], {}
    for index, spec in enumerate(_source_specs()):
        issns = [_issn(2 * index), _issn(2 * index + 1)] if spec.has_issn else None
        records.append(
            {
                "id": f"{OPENALEX}S{9200000001 + index}",
                "display_name": spec.display_name,
                "issn_l": issns[0] if issns else None,
                "issn": issns,
                "type": spec.type,
                "country_code": spec.country_code,
                "host_organization_name": spec.host_organization_name,
            }
        )
        if spec.category == CHINESE_ABROAD:
            overrides[issns[0]] = f"10-{9000 + index}/N"
    return records, overrides


# --- topics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Topics:
    """Parallel arrays, one entry per topic."""

    topic_ids: list[str]  # short, "T11636"
    names: list[str]
    subfield_ids: np.ndarray
    subfield_names: list[str]
    field_ids: np.ndarray
    weights: np.ndarray  # sampling probabilities


def default_topics_path() -> Path:
    """Where ``topics.csv`` of the shared data would be."""
    shared = os.environ.get("SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(shared) / "openalex" / "topics" / "topics.csv"


@functools.lru_cache(maxsize=4)
def _load_topics(path: Path | None) -> _Topics:
    rows = []
    if path is not None and path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows.append((row["topic_id"], row["topic_name"], int(row["subfield_id"]), row["subfield_name"],
                             int(row["field_id"]), float(row["topic_works_count"]) ** 0.5))
    else:
        for field_id, (field_name, _, suffixes) in FIELDS.items():
            for suffix in suffixes:
                subfield_id = field_id * 100 + suffix
                rows.append((f"T9{subfield_id}", f"Stand-in topic of subfield {subfield_id}", subfield_id,
                             f"{field_name} subfield {subfield_id}", field_id, 1.0))
    field_ids = np.array([row[4] for row in rows])
    weights = np.array([row[5] for row in rows])
    weights[np.isin(field_ids, [f for f, spec in FIELDS.items() if spec[1] == 2])] *= SOCIAL_SCIENCES_WEIGHT
    return _Topics(
        topic_ids=[row[0] for row in rows],
        names=[row[1] for row in rows],
        subfield_ids=np.array([row[2] for row in rows]),
        subfield_names=[row[3] for row in rows],
        field_ids=field_ids,
        weights=weights / weights.sum(),
    )


# --- the draw ---------------------------------------------------------------------------


@dataclass
class _WorkDraws:
    """Every random choice for n works, as arrays (works: n; authors: A; affiliations: R)."""

    from_year: int
    to_year: int
    reference_year: int  # citations are counted up to this year (the harvest year)
    topic: np.ndarray  # index into _Topics
    has_topic: np.ndarray
    year: np.ndarray
    day_of_year: np.ndarray
    type_index: np.ndarray  # 0 article, 1 review, 2.. OTHER_TYPES
    source: np.ndarray  # index into the sources, -1 for none
    language_zh: np.ndarray
    trap: np.ndarray  # index into TRAP_KINDS, -1 for none
    citations: np.ndarray
    counts_by_year: np.ndarray  # (n, years) citations per year, column j = reference_year - j
    fwci: np.ndarray  # nan when null
    percentile: np.ndarray  # nan when null
    references: np.ndarray
    has_doi: np.ndarray
    title_words: np.ndarray  # (n, 8) word indices
    abstract_words: np.ndarray  # (n, 16) word indices
    has_abstract: np.ndarray
    updated_day: np.ndarray
    author_offsets: np.ndarray  # n + 1
    author_name: np.ndarray  # A
    corresponding: np.ndarray  # A bool
    affiliation_offsets: np.ndarray  # A + 1
    affiliation_institution: np.ndarray  # R, index into INSTITUTIONS


def _draw_works(n: int, seed: int, from_year: int, to_year: int, with_traps: bool, topics: _Topics) -> _WorkDraws:
    rng = np.random.default_rng(seed)
    institutions = _institution_records()
    kinds = np.array([INSTITUTION_KINDS.index(_institution_kind(r)) for r in institutions])
    specs = _source_specs()

    trap_shares = np.full(len(TRAP_KINDS), TRAP_SHARE if with_traps else 0.0)
    trap = rng.choice(len(TRAP_KINDS) + 1, size=n, p=[1 - trap_shares.sum(), *trap_shares]) - 1
    is_trap = {kind: trap == TRAP_KINDS.index(kind) for kind in TRAP_KINDS}

    topic = rng.choice(len(topics.topic_ids), size=n, p=topics.weights)
    field_id = topics.field_ids[topic]
    domain_id = _by_field({f: spec[1] for f, spec in FIELDS.items()})[field_id]

    year = rng.integers(from_year, to_year + 1, size=n)
    outside = is_trap["outside_window"]
    year[outside] = np.where(rng.random(outside.sum()) < 0.5, from_year - 1 - rng.integers(0, 2, outside.sum()), to_year + 1)
    reference_year = to_year + 1

    type_index = (rng.random(n) < REVIEW_SHARE).astype(np.int64)
    type_index[is_trap["other_type"]] = 2 + rng.integers(0, len(OTHER_TYPES), is_trap["other_type"].sum())

    source = _draw_sources(rng, n, domain_id, specs, is_trap)
    domestic_source = np.array([s.category == DOMESTIC for s in specs] + [False])[source]
    language_zh = domestic_source & (rng.random(n) < CHINESE_LANGUAGE_SHARE_IN_DOMESTIC)

    citations, counts_by_year, fwci, percentile = _draw_citations(rng, field_id, year, reference_year)
    author_offsets, author_name, corresponding, affiliation_offsets, affiliation_institution = _draw_authorships(
        rng, field_id, kinds, is_trap
    )
    return _WorkDraws(
        from_year=from_year,
        to_year=to_year,
        reference_year=reference_year,
        topic=topic,
        has_topic=rng.random(n) >= NULL_SHARES["primary_topic"],
        year=year,
        day_of_year=rng.integers(0, 365, size=n),
        type_index=type_index,
        source=source,
        language_zh=language_zh,
        trap=trap,
        citations=citations,
        counts_by_year=counts_by_year,
        fwci=np.where(rng.random(n) < NULL_SHARES["fwci"], np.nan, fwci),
        percentile=np.where(rng.random(n) < NULL_SHARES["percentile"], np.nan, percentile),
        references=rng.poisson(REFERENCES_MEAN, size=n),
        has_doi=rng.random(n) >= NULL_SHARES["doi"],
        title_words=rng.integers(0, len(WORDS), size=(n, 8)),
        abstract_words=rng.integers(0, len(WORDS), size=(n, 16)),
        has_abstract=rng.random(n) >= NULL_SHARES["abstract"],
        updated_day=rng.integers(0, 300, size=n),
        author_offsets=author_offsets,
        author_name=author_name,
        corresponding=corresponding,
        affiliation_offsets=affiliation_offsets,
        affiliation_institution=affiliation_institution,
    )


def _by_field(values: dict[int, float]) -> np.ndarray:
    """A lookup array indexed by field id."""
    table = np.zeros(max(FIELDS) + 1, dtype=np.asarray(list(values.values())).dtype)
    for field_id, value in values.items():
        table[field_id] = value
    return table


def _draw_sources(rng, n: int, domain_id: np.ndarray, specs: list[_SourceSpec], is_trap: dict) -> np.ndarray:
    category = rng.choice(len(SOURCE_CATEGORY_SHARES), size=n, p=SOURCE_CATEGORY_SHARES)
    source = np.empty(n, dtype=np.int64)
    for domain in DOMAINS:
        for cat in (DOMESTIC, CHINESE_ABROAD, INTERNATIONAL, MULTIDISCIPLINARY):
            candidates = [
                index for index, spec in enumerate(specs)
                if spec.category == cat and (cat == MULTIDISCIPLINARY or spec.domain_id == domain)
            ]
            chosen = (domain_id == domain) & (category == cat)
            source[chosen] = rng.choice(candidates, size=chosen.sum())
    # -1 stands for a work without a primary source
    non_journal = [index for index, spec in enumerate(specs) if spec.type != "journal"] + [-1]
    source[is_trap["non_journal_source"]] = rng.choice(non_journal, size=is_trap["non_journal_source"].sum())
    no_issn_journal = next(i for i, spec in enumerate(specs) if spec.type == "journal" and not spec.has_issn)
    source[is_trap["journal_without_issn"]] = no_issn_journal
    return source


def _draw_citations(rng, field_id: np.ndarray, year: np.ndarray, reference_year: int):
    """Citations (negative binomial around a field-and-age mean), their split by year,
    fwci (citations over the field-year mean) and the percentile of that count."""
    n = len(year)
    expected = _by_field(CITATIONS_PER_YEAR)[field_id] * (reference_year - year + 0.5) ** CITATION_AGE_EXPONENT
    shape = CITATION_DISPERSION
    citations = rng.poisson(expected * rng.gamma(shape, 1 / shape, size=n))
    fwci = np.round(citations / expected, 3)
    distribution = stats.nbinom(shape, shape / (shape + expected))
    percentile = np.round(distribution.cdf(citations - 1) + 0.5 * distribution.pmf(citations), 6)

    # column j holds the citations of year reference_year - j; later years weigh more
    width = int(reference_year - year.min() + 1)
    years_since = (reference_year - np.arange(width))[None, :] - year[:, None]
    weights = np.where(years_since >= 0, years_since + 1.0, 0.0)
    weights[:, 0] *= 0.5  # the current year is under way
    counts = np.zeros((n, width), dtype=np.int64)
    remaining, weight_left = citations.copy(), weights.sum(axis=1)
    for column in range(width):
        share = np.divide(weights[:, column], weight_left, out=np.zeros(n), where=weight_left > 0)
        counts[:, column] = rng.binomial(remaining, np.clip(share, 0, 1))
        remaining -= counts[:, column]
        weight_left -= weights[:, column]
    return citations, counts, fwci, percentile


def _draw_authorships(rng, field_id: np.ndarray, kinds: np.ndarray, is_trap: dict):
    n = len(field_id)
    means = _by_field({f: AUTHORS_MEAN.get(f, DEFAULT_AUTHORS_MEAN) for f in FIELDS})[field_id]
    authors = np.clip(1 + rng.poisson(means - 1), 1, 30)
    two_beijing = is_trap["two_beijing_institutions"]
    authors[two_beijing] = np.maximum(authors[two_beijing], 2)
    author_offsets = np.concatenate([[0], np.cumsum(authors)])
    total = int(author_offsets[-1])
    work_of_author = np.repeat(np.arange(n), authors)

    by_kind = [np.flatnonzero(kinds == k) for k in range(len(INSTITUTION_KINDS))]
    beijing = by_kind[INSTITUTION_KINDS.index("beijing")]
    institution = np.empty(total, dtype=np.int64)
    kind = rng.choice(len(COAUTHOR_KIND_SHARES), size=total, p=COAUTHOR_KIND_SHARES)
    for k, members in enumerate(by_kind):
        institution[kind == k] = rng.choice(members, size=(kind == k).sum())

    beijing_slot = np.where(rng.random(n) < FIRST_AUTHOR_IS_BEIJING_SHARE, 0, rng.integers(0, authors))
    forced = author_offsets[:-1] + beijing_slot
    beijing_pick = rng.integers(0, len(beijing), size=n)
    institution[forced] = beijing[beijing_pick]
    other_pick = (beijing_pick + 1 + rng.integers(0, len(beijing) - 1, size=n)) % len(beijing)
    second_slot = author_offsets[:-1] + (beijing_slot + 1) % authors
    institution[second_slot[two_beijing]] = beijing[other_pick[two_beijing]]
    cas_only = is_trap["cas_outside_beijing"][work_of_author]
    cas_outside = by_kind[INSTITUTION_KINDS.index("cas_outside_beijing")]
    institution[cas_only] = rng.choice(cas_outside, size=cas_only.sum())

    keeps_institution = np.ones(total, dtype=bool)
    keeps_institution[rng.random(total) < NO_AFFILIATION_SHARE] = False
    keeps_institution[forced] = True
    keeps_institution[second_slot[two_beijing]] = True
    second = keeps_institution & ~cas_only & (rng.random(total) < SECOND_AFFILIATION_SHARE)
    second_institution = (institution + 1 + rng.integers(0, len(kinds) - 1, size=total)) % len(kinds)
    per_author = keeps_institution.astype(np.int64) + second
    affiliation_offsets = np.concatenate([[0], np.cumsum(per_author)])
    affiliation_institution = np.empty(int(affiliation_offsets[-1]), dtype=np.int64)
    affiliation_institution[affiliation_offsets[:-1][keeps_institution]] = institution[keeps_institution]
    affiliation_institution[affiliation_offsets[:-1][second] + 1] = second_institution[second]

    corresponding = np.zeros(total, dtype=bool)
    rule = rng.choice(len(CORRESPONDING_SHARES), size=n, p=CORRESPONDING_SHARES)
    corresponding[author_offsets[:-1][rule == 0]] = True
    corresponding[author_offsets[1:][rule == 1] - 1] = True
    author_name = rng.integers(0, len(GIVEN_NAMES) * len(FAMILY_NAMES), size=total)
    return author_offsets, author_name, corresponding, affiliation_offsets, affiliation_institution


# --- output 1: the world as OpenAlex JSON -----------------------------------------------


@dataclass
class SyntheticWorld:
    """OpenAlex-shaped records of one seeded draw.

    ``beijing_institution_ids`` are short ids (``I9100000001``); ``journal_overrides`` maps
    the ISSNs of the Chinese journals registered abroad to CN numbers (the shape of
    ``journal_groups.load_overrides``); ``traps`` lists the short work ids of each trap
    kind; ``eligible_work_ids`` are the works a correct harvest keeps, computed from the
    draw, independently of the JSON.
    """

    institutions: list[dict]
    sources: list[dict]
    works: list[dict]
    beijing_institution_ids: list[str]
    journal_overrides: dict[str, str]
    traps: dict[str, list[str]] = field(default_factory=dict)
    eligible_work_ids: set[str] = field(default_factory=set)

    def source_countries(self) -> dict[str, str | None]:
        """Short source id -> country code, as a harvest learns it from ``/sources``."""
        return {_short(source["id"]): source["country_code"] for source in self.sources}


def generate_world(
    n_works: int,
    seed: int = 0,
    from_year: int = 2021,
    to_year: int = 2025,
    with_traps: bool = True,
    topics_path: str | Path | None = None,
) -> SyntheticWorld:
    """A deterministic world of ``n_works`` works (same arguments, same output).

    With ``with_traps`` about 2 % of the works fall in each of ``TRAP_KINDS``; all but
    ``two_beijing_institutions`` are works a harvest must leave out. ``topics_path``
    defaults to ``default_topics_path()``.
    """
    topics = _load_topics(Path(topics_path) if topics_path else default_topics_path())
    draws = _draw_works(n_works, seed, from_year, to_year, with_traps, topics)
    institutions = _institution_records()
    sources, overrides = _source_records()
    work_ids = _work_ids(n_works)
    works = [_work_json(i, seed, draws, topics, institutions, sources) for i in range(n_works)]
    return SyntheticWorld(
        institutions=institutions,
        sources=sources,
        works=works,
        beijing_institution_ids=[_short(r["id"]) for r in institutions if _institution_kind(r) == "beijing"],
        journal_overrides=overrides,
        traps={kind: [work_ids[i] for i in np.flatnonzero(draws.trap == k)] for k, kind in enumerate(TRAP_KINDS)},
        eligible_work_ids={work_ids[i] for i in np.flatnonzero(_eligible(draws))},
    )


def _short(openalex_id: str) -> str:
    return openalex_id.rsplit("/", 1)[-1]


def _work_ids(n: int) -> list[str]:
    return [f"W{9000000001 + i}" for i in range(n)]


def _doi(seed: int, index: int) -> str:
    return f"10.99999/synth.{seed}.{index}"


def _publication_date(draws: _WorkDraws, i: int) -> dt.date:
    return dt.date(int(draws.year[i]), 1, 1) + dt.timedelta(days=int(draws.day_of_year[i]))


def _work_json(i: int, seed: int, draws: _WorkDraws, topics: _Topics, institutions: list[dict], sources: list[dict]) -> dict:
    doi_url = f"https://doi.org/{_doi(seed, i)}" if draws.has_doi[i] else None
    title = " ".join(WORDS[w] for w in draws.title_words[i]).capitalize()
    trap = TRAP_KINDS[draws.trap[i]] if draws.trap[i] >= 0 else None
    source = sources[draws.source[i]] if draws.source[i] >= 0 else None
    return {
        "id": f"{OPENALEX}W{9000000001 + i}",
        "doi": doi_url,
        "title": title,
        "display_name": title,
        "publication_year": int(draws.year[i]),
        "publication_date": _publication_date(draws, i).isoformat(),
        "type": ("article", "review", *OTHER_TYPES)[draws.type_index[i]],
        "language": "zh" if draws.language_zh[i] else "en",
        "primary_location": {
            "is_oa": False,
            "landing_page_url": doi_url,
            "source": None if source is None else {
                key: source[key] for key in ("id", "display_name", "issn_l", "issn", "type", "host_organization_name")
            },
        },
        "authorships": _authorships_json(i, draws, institutions),
        "cited_by_count": int(draws.citations[i]),
        "counts_by_year": [
            {"year": draws.reference_year - j, "cited_by_count": int(count)}
            for j, count in enumerate(draws.counts_by_year[i]) if count
        ],
        "fwci": None if np.isnan(draws.fwci[i]) else float(draws.fwci[i]),
        "citation_normalized_percentile": _percentile_json(draws.percentile[i]),
        "primary_topic": _topic_json(topics, int(draws.topic[i])) if draws.has_topic[i] else None,
        "referenced_works_count": int(draws.references[i]),
        "is_retracted": trap == "retracted",
        "is_paratext": trap == "paratext",
        "abstract_inverted_index": _inverted_index(draws.abstract_words[i]) if draws.has_abstract[i] else None,
        "updated_date": (dt.datetime(draws.reference_year, 1, 1, 3) + dt.timedelta(days=int(draws.updated_day[i]))).isoformat(),
        "created_date": f"{int(draws.year[i])}-01-01T00:00:00",
    }


def _authorships_json(i: int, draws: _WorkDraws, institutions: list[dict]) -> list[dict]:
    first, end = draws.author_offsets[i], draws.author_offsets[i + 1]
    authorships = []
    for author in range(first, end):
        affiliated = [
            institutions[k]
            for k in draws.affiliation_institution[draws.affiliation_offsets[author]:draws.affiliation_offsets[author + 1]]
        ]
        name_index = int(draws.author_name[author])
        name = f"{GIVEN_NAMES[name_index % len(GIVEN_NAMES)]} {FAMILY_NAMES[name_index // len(GIVEN_NAMES)]}"
        home = int(draws.affiliation_institution[draws.affiliation_offsets[author]]) if affiliated else 99
        position = "first" if author == first else "last" if author == end - 1 else "middle"
        authorships.append(
            {
                "author_position": position,
                "author": {"id": f"{OPENALEX}A{9300000000 + name_index * 100 + home}", "display_name": name, "orcid": None},
                "institutions": [
                    {key: record[key] for key in ("id", "display_name", "ror", "country_code", "type", "lineage")}
                    for record in affiliated
                ],
                "countries": sorted({record["country_code"] for record in affiliated}),
                "is_corresponding": bool(draws.corresponding[author]),
                "raw_author_name": name,
                "raw_affiliation_strings": [
                    f"{r['display_name']}, {r['geo']['city']}, {r['geo']['country']}" for r in affiliated
                ],
            }
        )
    return authorships


def _percentile_json(value: float) -> dict | None:
    if np.isnan(value):
        return None
    return {"value": float(value), "is_in_top_1_percent": bool(value >= 0.99), "is_in_top_10_percent": bool(value >= 0.9)}


def _topic_json(topics: _Topics, t: int) -> dict:
    field_id = int(topics.field_ids[t])
    field_name, domain_id, _ = FIELDS[field_id]
    return {
        "id": f"{OPENALEX}{topics.topic_ids[t]}",
        "display_name": topics.names[t],
        "score": 0.99,
        "subfield": {"id": f"{OPENALEX}subfields/{int(topics.subfield_ids[t])}", "display_name": topics.subfield_names[t]},
        "field": {"id": f"{OPENALEX}fields/{field_id}", "display_name": field_name},
        "domain": {"id": f"{OPENALEX}domains/{domain_id}", "display_name": DOMAINS[domain_id]},
    }


def _inverted_index(word_indices: np.ndarray) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for position, word in enumerate(word_indices):
        index.setdefault(WORDS[word], []).append(position)
    return index


def _eligible(draws: _WorkDraws) -> np.ndarray:
    """The harvest rules on the draw: a Beijing affiliation, a year in the window, article
    or review, a journal with an ISSN, neither retracted nor paratext."""
    specs = _source_specs()
    journal_with_issn = np.array([s.type == "journal" and s.has_issn for s in specs] + [False])[draws.source]
    rejected_traps = [TRAP_KINDS.index(kind) for kind in ("retracted", "paratext")]
    return (
        _has_beijing_affiliation(draws)
        & (draws.year >= draws.from_year) & (draws.year <= draws.to_year)
        & (draws.type_index <= 1)
        & journal_with_issn
        & ~np.isin(draws.trap, rejected_traps)
    )


def _beijing_flags() -> np.ndarray:
    return np.array([_institution_kind(r) == "beijing" for r in _institution_records()])


def _has_beijing_affiliation(draws: _WorkDraws) -> np.ndarray:
    n = len(draws.year)
    work_of_affiliation = np.repeat(np.repeat(np.arange(n), np.diff(draws.author_offsets)), np.diff(draws.affiliation_offsets))
    hits = np.bincount(work_of_affiliation, weights=_beijing_flags()[draws.affiliation_institution], minlength=n)
    return hits > 0


# --- output 2: the works table, vectorised ----------------------------------------------


def works_table(
    n_works: int, seed: int = 0, from_year: int = 2021, to_year: int = 2025, topics_path: str | Path | None = None
) -> pa.Table:
    """The harvest-eligible works of ``generate_world(n_works, seed, ...)`` as a table of
    exactly ``WORKS_SCHEMA``, built with numpy and pyarrow (no JSON)."""
    topics = _load_topics(Path(topics_path) if topics_path else default_topics_path())
    draws = _draw_works(n_works, seed, from_year, to_year, True, topics)
    keep = np.flatnonzero(_eligible(draws))
    columns = {**_bibliographic_columns(draws, seed, keep), **_classification_columns(draws, topics, keep),
               **_authorship_columns(draws, keep), **_citation_columns(draws, keep)}
    return pa.Table.from_arrays([columns[f.name] for f in WORKS_SCHEMA], schema=WORKS_SCHEMA)


def works_frame(
    n_works: int, seed: int = 0, from_year: int = 2021, to_year: int = 2025, topics_path: str | Path | None = None
) -> pd.DataFrame:
    """``works_table`` as a DataFrame with Arrow-backed dtypes (``pd.ArrowDtype`` of each
    schema type), which ``write_works_parquet`` writes back losslessly."""
    return works_table(n_works, seed, from_year, to_year, topics_path).to_pandas(types_mapper=pd.ArrowDtype)


def write_works_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a works DataFrame as ``works.parquet`` of exactly ``WORKS_SCHEMA``, atomically
    (a temporary file beside it, then a rename)."""
    path = Path(path)
    table = pa.Table.from_pandas(frame, schema=WORKS_SCHEMA, preserve_index=False)
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary)
    os.replace(temporary, path)


def _joined_words(word_indices: np.ndarray) -> pa.Array:
    """Rows of word indices -> ``"word word ..."`` strings, first letter capitalised."""
    rows, width = word_indices.shape
    words = pa.array(WORDS).take(pa.array(word_indices.ravel()))
    lists = pa.ListArray.from_arrays(pa.array(np.arange(rows + 1, dtype=np.int32) * width), words)
    return pc.binary_join(lists, " ")


def _prefixed_numbers(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


def _null_where(array: pa.Array, present: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(present), array, pa.scalar(None, array.type))


def _bibliographic_columns(draws: _WorkDraws, seed: int, keep: np.ndarray) -> dict[str, pa.Array]:
    sources, _ = _source_records()
    source = pa.array(draws.source[keep])
    title = pc.utf8_capitalize(_joined_words(draws.title_words[keep]))
    days = np.array(draws.year[keep] - 1970, dtype="datetime64[Y]").astype("datetime64[D]") + draws.day_of_year[keep]
    return {
        "work_id": _prefixed_numbers("W", keep + 9000000001),
        "doi": _null_where(_prefixed_numbers(f"10.99999/synth.{seed}.", keep), draws.has_doi[keep]),
        "title": title,
        "publication_year": pa.array(draws.year[keep], pa.int32()),
        "publication_date": pa.array(days.astype(np.int32), pa.int32()).view(pa.date32()),
        "type": pa.array(["article", "review", *OTHER_TYPES]).take(pa.array(draws.type_index[keep])),
        "language": pa.array(["en", "zh"]).take(pa.array(draws.language_zh[keep].astype(np.int64))),
        "source_id": pa.array([_short(s["id"]) for s in sources]).take(source),
        "source_name": pa.array([s["display_name"] for s in sources]).take(source),
        "issn_l": pa.array([s["issn_l"] for s in sources], pa.string()).take(source),
        "issns": pa.array([s["issn"] for s in sources], pa.list_(pa.string())).take(source),
        "abstract": _null_where(_joined_words(draws.abstract_words[keep]), draws.has_abstract[keep]),
    }


def _classification_columns(draws: _WorkDraws, topics: _Topics, keep: np.ndarray) -> dict[str, pa.Array]:
    sources, overrides = _source_records()
    resolver = JournalGroupResolver(overrides, {_short(s["id"]): s["country_code"] for s in sources})
    decisions = [resolver.resolve(s) for s in sources]
    disciplines = load_disciplines()
    source, topic, has_topic = pa.array(draws.source[keep]), pa.array(draws.topic[keep]), draws.has_topic[keep]
    by_topic = {
        "discipline": pa.array([disciplines.for_subfield(int(s)) for s in topics.subfield_ids], pa.string()),
        "subfield_id": pa.array(topics.subfield_ids, pa.int32()),
        "topic_id": pa.array(topics.topic_ids),
    }
    return {
        "journal_group": pa.array([group for group, _ in decisions]).take(source),
        "journal_group_rule": pa.array([rule for _, rule in decisions]).take(source),
        **{name: _null_where(values.take(topic), has_topic) for name, values in by_topic.items()},
    }


def _distinct_per_work(n: int, work: np.ndarray, item: np.ndarray, labels: list[str]) -> pa.Array:
    """For each work, the distinct labels of its items, in label order, as a list array."""
    keys = np.unique(work * len(labels) + item)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(keys // len(labels), minlength=n))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(labels).take(pa.array(keys % len(labels))))


def _authorship_columns(draws: _WorkDraws, keep: np.ndarray) -> dict[str, pa.Array]:
    n = len(draws.year)
    institutions = _institution_records()
    authors = np.diff(draws.author_offsets)
    work_of_author = np.repeat(np.arange(n), authors)
    author_of_affiliation = np.repeat(np.arange(int(draws.author_offsets[-1])), np.diff(draws.affiliation_offsets))
    work_of_affiliation = work_of_author[author_of_affiliation]
    beijing_affiliation = _beijing_flags()[draws.affiliation_institution]
    author_has_beijing = np.bincount(author_of_affiliation, weights=beijing_affiliation,
                                     minlength=len(work_of_author)) > 0
    first_author = draws.author_offsets[:-1]
    beijing_first = author_has_beijing[first_author]
    flagged = np.bincount(work_of_author, weights=draws.corresponding, minlength=n) > 0
    beijing_flagged = np.bincount(work_of_author, weights=draws.corresponding & author_has_beijing, minlength=n) > 0

    beijing_ids = [_short(r["id"]) for r in institutions]
    countries = sorted({r["country_code"] for r in institutions})
    country_of_institution = np.array([countries.index(r["country_code"]) for r in institutions])
    beijing_lists = _distinct_per_work(
        n, work_of_affiliation[beijing_affiliation], draws.affiliation_institution[beijing_affiliation], beijing_ids
    )
    country_lists = _distinct_per_work(
        n, work_of_affiliation, country_of_institution[draws.affiliation_institution], countries
    )
    take = pa.array(keep)
    return {
        "beijing_any": pa.array((np.bincount(work_of_affiliation, weights=beijing_affiliation, minlength=n) > 0)[keep]),
        "beijing_first": pa.array(beijing_first[keep]),
        "beijing_corresponding": pa.array(np.where(flagged, beijing_flagged, beijing_first)[keep]),
        "beijing_institution_ids": beijing_lists.take(take),
        "countries": country_lists.take(take),
        "authors_count": pa.array(authors[keep], pa.int32()),
    }


def _citation_columns(draws: _WorkDraws, keep: np.ndarray) -> dict[str, pa.Array]:
    counts = draws.counts_by_year[keep]
    nonzero = counts > 0
    years = np.broadcast_to(draws.reference_year - np.arange(counts.shape[1]), counts.shape)[nonzero]
    entries = pa.StructArray.from_arrays(
        [pa.array(years, pa.int32()), pa.array(counts[nonzero], pa.int32())],
        fields=list(COUNTS_BY_YEAR_TYPE.value_type),
    )
    offsets = np.concatenate([[0], np.cumsum(nonzero.sum(axis=1))]).astype(np.int32)
    return {
        "cited_by_count": pa.array(draws.citations[keep], pa.int32()),
        "counts_by_year": pa.ListArray.from_arrays(pa.array(offsets), entries, type=COUNTS_BY_YEAR_TYPE),
        "fwci": pa.array(draws.fwci[keep], pa.float64(), from_pandas=True),
        "citation_normalized_percentile": pa.array(draws.percentile[keep], pa.float64(), from_pandas=True),
        "referenced_works_count": pa.array(draws.references[keep], pa.int32()),
        "is_retracted": pa.array(np.zeros(len(keep), dtype=bool)),
    }
