"""The fixed parts of a synthetic world: the real OpenAlex taxonomy ids, institutions,
sources, topics and the word lists titles and abstracts are made of."""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OPENALEX = "https://openalex.org/"
ORCID = "https://orcid.org/"
# Synthetic ids sit in number ranges of their own: W9000000001..., I91..., S92..., A93...
FIRST_WORK_NUMBER = 9000000001
DOI_PREFIX = "10.99999/synth."  # then "<seed>.<work index>"
# Open-access copies: the publisher's PDF ("<prefix><work id>.pdf") or a repository's landing page
OA_PDF_PREFIX = "https://oa.synthetic.example.org/pdf/"
REPOSITORY_PREFIX = "https://repository.synthetic.example.org/records/"
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
class SourceSpec:
    """What a source is; ``source_records`` makes the OpenAlex dict."""

    display_name: str
    type: str
    country_code: str | None
    host_organization_name: str
    domain_id: int | None
    category: int | None  # None for the trap sources
    has_issn: bool = True


def source_specs() -> list[SourceSpec]:
    """The sources of every world: per domain two domestic journals, one Chinese journal
    registered abroad and three international ones; two multidisciplinary journals; and
    the trap sources (a journal without ISSN, a repository, a conference, an ebook platform)."""
    specs = []
    for domain_id, word in _DOMAIN_WORDS.items():
        specs += [
            SourceSpec(f"Chinese Journal of {word}", "journal", "CN", "Science Press", domain_id, DOMESTIC),
            SourceSpec(f"Acta {word} Sinica", "journal", "CN", "Higher Education Press", domain_id, DOMESTIC),
        ]
        publisher, country = _ABROAD_PUBLISHERS[domain_id % 2]
        specs.append(SourceSpec(f"{word} China", "journal", country, publisher, domain_id, CHINESE_ABROAD))
        for prefix, (publisher, country) in zip(("International Journal of", "Annals of", "Letters in"), _INTERNATIONAL_PUBLISHERS):
            specs.append(SourceSpec(f"{prefix} {word}", "journal", country, publisher, domain_id, INTERNATIONAL))
    specs += [
        SourceSpec("National Frontier Review", "journal", "CN", "Oxford University Press", None, MULTIDISCIPLINARY),
        SourceSpec("Reports of Synthetic Science", "journal", "GB", "Springer Nature", None, MULTIDISCIPLINARY),
        SourceSpec("Beijing Bulletin of Research", "journal", "CN", "Science Press", None, None, has_issn=False),
        SourceSpec("SynthArXiv", "repository", None, "Synthetic Library", None, None, has_issn=False),
        SourceSpec("Proceedings of the Synthetic Conference on Learning", "conference", "US", "Synthetic Society", None, None, has_issn=False),
        SourceSpec("Synthetic Books Online", "ebook platform", "DE", "Synthetic Press", None, None, has_issn=False),
    ]
    return specs


def make_issn(serial: int) -> str:
    """A well-formed ISSN (correct check digit) in the 9xxx range, unique per serial."""
    digits = f"{9000000 + serial * 37:07d}"
    weighted = sum(int(digit) * weight for digit, weight in zip(digits, range(8, 1, -1)))
    check = (11 - weighted % 11) % 11
    return f"{digits[:4]}-{digits[4:]}{'X' if check == 10 else check}"


def institution_records() -> list[dict]:
    """``INSTITUTIONS`` as OpenAlex institution dicts; CAS institutes carry CAS in their lineage."""
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


def institution_kind(record: dict) -> str:
    """One of ``INSTITUTION_KINDS``."""
    if record["geo"]["city"] == "Beijing":
        return "beijing"
    if record["country_code"] != "CN":
        return "foreign"
    return "cas_outside_beijing" if len(record["lineage"]) > 1 else "other_cn"


def source_records() -> tuple[list[dict], dict[str, str]]:
    """The source dicts and the override table (ISSN -> CN number) of the Chinese
    journals registered abroad."""
    records, overrides = [], {}
    for index, spec in enumerate(source_specs()):
        issns = [make_issn(2 * index), make_issn(2 * index + 1)] if spec.has_issn else None
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

STAND_IN_TOPICS_PER_SUBFIELD = 4
# Yearly growth of a topic's publications (log scale): within a subfield the topics spread
# evenly from the slowest (shrinking) to the fastest, in an order shuffled per subfield.
SLOWEST_GROWTH, FASTEST_GROWTH = -0.25, 0.45
SINGLE_TOPIC_GROWTH = 0.1  # a subfield's only topic grows a little
VOCABULARY_SIZE = 6  # words of WORDS a topic's titles, abstracts and keywords lean on


@dataclass(frozen=True)
class Topics:
    """Parallel arrays, one entry per topic."""

    topic_ids: list[str]  # short, "T11636"
    names: list[str]
    subfield_ids: np.ndarray
    subfield_names: list[str]
    field_ids: np.ndarray
    weights: np.ndarray  # sampling probabilities
    growth: np.ndarray  # yearly growth of the topic's publications, log scale
    vocabulary: np.ndarray  # (topics, VOCABULARY_SIZE) distinct indices into WORDS


def default_topics_path() -> Path:
    """Where ``topics.csv`` of the shared data would be."""
    repository = Path(__file__).resolve().parents[2]
    shared = os.environ.get("SHARED_DATA") or repository.parent / "shared" / "data"
    return Path(shared) / "openalex" / "topics" / "topics.csv"


@functools.lru_cache(maxsize=4)
def load_topics(path: Path | None) -> Topics:
    """Real topics from ``topics.csv`` (weighted by the square root of their works count),
    or ``STAND_IN_TOPICS_PER_SUBFIELD`` stand-in topics per real subfield when the file is
    absent (ids ``T9<subfield id><k>``, equal weights). Either way each topic gets a growth
    rate (``topic_growth``) and a vocabulary (``topic_vocabulary``)."""
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
                for k in range(1, STAND_IN_TOPICS_PER_SUBFIELD + 1):
                    rows.append((f"T9{subfield_id}{k}", f"Stand-in topic {k} of subfield {subfield_id}", subfield_id,
                                 f"{field_name} subfield {subfield_id}", field_id, 1.0))
    subfield_ids = np.array([row[2] for row in rows])
    field_ids = np.array([row[4] for row in rows])
    weights = np.array([row[5] for row in rows])
    weights[np.isin(field_ids, [f for f, spec in FIELDS.items() if spec[1] == 2])] *= SOCIAL_SCIENCES_WEIGHT
    return Topics(
        topic_ids=[row[0] for row in rows],
        names=[row[1] for row in rows],
        subfield_ids=subfield_ids,
        subfield_names=[row[3] for row in rows],
        field_ids=field_ids,
        weights=weights / weights.sum(),
        growth=topic_growth(subfield_ids),
        vocabulary=topic_vocabulary(len(rows)),
    )


def topic_growth(subfield_ids: np.ndarray) -> np.ndarray:
    """Per topic: its yearly growth, spread evenly over ``SLOWEST_GROWTH..FASTEST_GROWTH``
    among the topics of its subfield, in an order fixed by the subfield id (a subfield of
    one topic: ``SINGLE_TOPIC_GROWTH``)."""
    growth = np.full(len(subfield_ids), SINGLE_TOPIC_GROWTH)
    for subfield_id in np.unique(subfield_ids):
        members = np.flatnonzero(subfield_ids == subfield_id)
        if len(members) > 1:
            order = np.random.default_rng(int(subfield_id)).permutation(len(members))
            growth[members[order]] = np.linspace(SLOWEST_GROWTH, FASTEST_GROWTH, len(members))
    return growth


def topic_vocabulary(count: int) -> np.ndarray:
    """Per topic: ``VOCABULARY_SIZE`` distinct word indices ``(start + step * j) % len(WORDS)``,
    with a step no difference of fewer than ``VOCABULARY_SIZE`` steps brings back to the start."""
    steps = np.array([s for s in range(1, len(WORDS)) if all((s * d) % len(WORDS) for d in range(1, VOCABULARY_SIZE))])
    topic = np.arange(count)
    start = (topic * 7) % len(WORDS)
    step = steps[(topic * 11 + topic // len(WORDS)) % len(steps)]
    return (start[:, None] + step[:, None] * np.arange(VOCABULARY_SIZE)[None, :]) % len(WORDS)


# --- funders ----------------------------------------------------------------------------

# display name, share of the works it funds
CHINESE_FUNDERS = (
    ("National Natural Science Foundation of China", 0.62),
    ("National Key Research and Development Program of China", 0.24),
    ("Beijing Natural Science Foundation", 0.14),
    ("Fundamental Research Funds for the Central Universities", 0.18),
    ("China Postdoctoral Science Foundation", 0.09),
)
CAS_FUNDER = ("Chinese Academy of Sciences", 0.25)  # of the works with an author in the CAS lineage
# a foreign funder for a work with an author of its country: name, country, domains it funds (None: all)
FOREIGN_FUNDERS = (
    ("National Science Foundation", "US", (2, 3)),
    ("National Institutes of Health", "US", (1, 4)),
    ("Engineering and Physical Sciences Research Council", "GB", None),
    ("Japan Society for the Promotion of Science", "JP", None),
    ("Deutsche Forschungsgemeinschaft", "DE", None),
    ("National Research Foundation Singapore", "SG", None),
    ("Natural Sciences and Engineering Research Council of Canada", "CA", None),
)
FOREIGN_FUNDER_SHARE = 0.45  # of the works with an author in the funder's country
FIRST_FUNDER_NUMBER = 9400000001


def funder_names() -> list[str]:
    """Every funder's display name, in the order of a work's ``funders``."""
    return [name for name, _ in CHINESE_FUNDERS] + [CAS_FUNDER[0]] + [name for name, _, _ in FOREIGN_FUNDERS]
