"""The two tables of the data contract and how to read a ranking's output folder.

- ``WORKS_SCHEMA``: ``works.parquet``, written by the harvest, the snapshot import and the
  synthetic generator, read by the ranking;
- ``CANDIDATES_SCHEMA``: ``candidates.parquet``, written by the ranking, read by the web
  app through ``read_candidates``.

Every producer writes exactly its schema (same names, order and types) and stores the
table's name and schema version in the Parquet metadata; every consumer may rely on it.
Short OpenAlex ids are used throughout (``W123``, ``S45``, ``I67``, ``T11636``,
``A5023888391``); subfield ids are integers (``2604``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from selection.errors import SelectionError

# Parquet (Arrow schema) metadata keys naming the table and its schema version.
TABLE_KEY = b"selection.table"
VERSION_KEY = b"selection.schema_version"
WORKS_SCHEMA_VERSION = 3  # 2: authorships; 3: world flags, all topics, Beijing attribution, imports
CANDIDATES_SCHEMA_VERSION = 3  # 2: score_parts and authorships; 3: the panel's dossier, baselines, admission

JOURNAL_GROUPS = ("domestic", "international")

# Which rule decided a work's journal group (see selection.journal_groups).
JOURNAL_GROUP_RULES = ("override", "source_country", "default")

# Where a works row's values came from ("wos:" and "ris:" carry the imported file's name).
RECORD_SOURCES = ("openalex", "snapshot", "synthetic", "wos", "ris")

COUNTS_BY_YEAR_TYPE = pa.list_(
    pa.struct([("year", pa.int32()), ("cited_by_count", pa.int32())])
)

# Every author of a work, in OpenAlex's order (short ids, as everywhere).
AUTHORSHIPS_TYPE = pa.list_(
    pa.struct(
        [
            ("author_id", pa.string()),  # "A5023888391"
            ("name", pa.string()),  # display name
            ("orcid", pa.string()),  # "0000-0002-1825-0097", without https://orcid.org/
            ("position", pa.string()),  # OpenAlex author_position: "first", "middle" or "last"
            ("is_corresponding", pa.bool_()),
            ("institution_ids", pa.list_(pa.string())),  # the authorship's institutions
            ("lineage_ids", pa.list_(pa.string())),  # their lineages (themselves included), each once
            ("institution_names", pa.list_(pa.string())),  # display names, aligned with institution_ids
            ("is_beijing", pa.bool_()),  # counted as a Beijing authorship (selection.harvest.normalize)
        ]
    )
)

WORKS_SCHEMA = pa.schema(
    [
        ("work_id", pa.string()),  # "W2741809807", never null, unique in a file
        ("doi", pa.string()),  # lower-case "10.xxxx/..." without the https://doi.org/ prefix
        ("title", pa.string()),
        ("publication_year", pa.int32()),
        ("publication_date", pa.date32()),
        ("type", pa.string()),  # "article" or "review"
        ("language", pa.string()),
        ("source_id", pa.string()),  # "S137773608"
        ("source_name", pa.string()),
        ("issn_l", pa.string()),
        ("issns", pa.list_(pa.string())),
        ("journal_group", pa.string()),  # one of JOURNAL_GROUPS
        ("journal_group_rule", pa.string()),  # one of JOURNAL_GROUP_RULES
        ("discipline", pa.string()),  # key of selection.disciplines, null when unmapped
        ("subfield_id", pa.int32()),  # primary topic's subfield
        ("topic_id", pa.string()),  # primary topic, "T11636"
        ("beijing_any", pa.bool_()),  # some author has a Beijing institution
        ("beijing_first", pa.bool_()),  # the first author has one
        ("beijing_corresponding", pa.bool_()),  # a corresponding author has one
        ("beijing_institution_ids", pa.list_(pa.string())),
        ("countries", pa.list_(pa.string())),  # distinct ISO codes of all authorships
        ("authors_count", pa.int32()),
        ("authorships", AUTHORSHIPS_TYPE),
        ("cited_by_count", pa.int32()),
        ("counts_by_year", COUNTS_BY_YEAR_TYPE),
        ("fwci", pa.float64()),
        ("citation_normalized_percentile", pa.float64()),  # its "value", 0..1
        ("referenced_works_count", pa.int32()),
        ("is_retracted", pa.bool_()),
        ("abstract", pa.string()),  # rebuilt from abstract_inverted_index; may be null
        ("field_id", pa.int32()),  # primary topic's field (subfield_id // 100 in OpenAlex)
        ("topic_ids", pa.list_(pa.string())),  # every topic of the work, primary first
        ("topic_names", pa.list_(pa.string())),  # their display names, aligned
        ("topic_scores", pa.list_(pa.float64())),  # their OpenAlex scores 0..1, aligned
        ("keywords", pa.list_(pa.string())),  # OpenAlex keywords' display names (or imported keywords)
        ("funders", pa.list_(pa.string())),  # funders' display names
        ("oa_url", pa.string()),  # best open-access location, null when closed
        ("world_top_1pct", pa.bool_()),  # OpenAlex citation_normalized_percentile.is_in_top_1_percent
        ("world_top_10pct", pa.bool_()),  # ... is_in_top_10_percent; null when OpenAlex gives none
        ("beijing_author_share", pa.float64()),  # share of the authorships counted as Beijing
        ("wos_times_cited", pa.int32()),  # Web of Science TC, from import-wos; null otherwise
        ("esi_highly_cited", pa.bool_()),  # ESI Highly Cited Paper (WoS HC = Y), from import-wos
        ("esi_hot_paper", pa.bool_()),  # ESI Hot Paper (WoS HP = Y), from import-wos
        ("record_sources", pa.list_(pa.string())),  # e.g. ["openalex", "wos:savedrecs.txt"]; RECORD_SOURCES
    ],
    metadata={TABLE_KEY: b"works", VERSION_KEY: str(WORKS_SCHEMA_VERSION).encode()},
)
WORKS_COLUMNS = tuple(WORKS_SCHEMA.names)

# The ranking's indicators, in the order of their candidates columns.
INDICATORS = ("influence", "hot", "frontier", "originality")

# What an indicator's value is measured against: "world" (OpenAlex's world percentile or
# world topic counts), "national" (papers in China-published journals), "beijing" (the
# Beijing papers of the ranking's own stratum) or "harvest" (the harvested works).
BASELINES = ("world", "national", "beijing", "harvest")
# Why a candidate holds its seat: a world top-1% paper, a national top-1% paper of a
# domestic journal, or the eligibility gate (top share of its stratum in a gate indicator).
ADMISSIONS = ("world_top_1pct", "national_top_1pct", "gate")
# How far a small stratum was pooled upward before its percentiles were taken.
STRATUM_LEVELS = ("subfield", "field", "discipline", "all_disciplines")
TRACKS = ("article", "review")

# One part per indicator of a candidate's score (selection.ranking.explain.IndicatorPart):
# codes and numbers, no prose, so any language can render it.
SCORE_PARTS_TYPE = pa.list_(
    pa.struct(
        [
            ("indicator", pa.string()),  # one of INDICATORS
            ("weight", pa.float64()),
            ("value", pa.float64()),  # null without data
            ("has_value", pa.bool_()),
            ("percentile", pa.float64()),  # 0 without data
            ("top_share", pa.float64()),  # 1 - percentile: "top x of the stratum"
            ("valued_works", pa.int32()),  # works of the stratum with a value
            ("contribution", pa.float64()),  # weight x percentile
            ("baseline", pa.string()),  # what the value compares with: BASELINES
        ]
    )
)

CANDIDATES_SCHEMA = pa.schema(
    [
        ("work_id", pa.string()),
        ("discipline", pa.string()),
        ("journal_group", pa.string()),
        ("rank", pa.int32()),
        ("score", pa.float64()),
        *[
            column
            for name in INDICATORS
            for column in (
                (f"{name}_value", pa.float64()),
                (f"{name}_percentile", pa.float64()),
                (f"{name}_weight", pa.float64()),
            )
        ],
        ("stratum_works", pa.int32()),  # ranked works in the subfield x year x group stratum
        ("score_parts", SCORE_PARTS_TYPE),  # why the score is what it is, one part per indicator
        ("cluster", pa.int32()),
        ("cluster_terms", pa.string()),
        ("cluster_rank", pa.int32()),
        ("topic_id", pa.string()),
        ("topic_rank", pa.int32()),
        ("over_topic_cap", pa.bool_()),  # seated only because no other eligible work remained
        ("rank_interval_low", pa.int32()),
        ("rank_interval_high", pa.int32()),
        ("stability", pa.string()),
        ("author_rule", pa.string()),
        ("subfield_id", pa.int32()),
        ("publication_year", pa.int32()),
        ("type", pa.string()),
        ("doi", pa.string()),
        ("title", pa.string()),
        ("source_name", pa.string()),
        ("issn_l", pa.string()),
        ("beijing_first", pa.bool_()),
        ("beijing_corresponding", pa.bool_()),
        ("merged_work_ids", pa.list_(pa.string())),  # other records of the same DOI
        ("authorships", AUTHORSHIPS_TYPE),
        ("track", pa.string()),  # TRACKS: reviews are ranked among reviews and flagged
        ("admission", pa.string()),  # ADMISSIONS
        ("stratum_level", pa.string()),  # STRATUM_LEVELS
        ("citation_baseline", pa.string()),  # BASELINES: what the influence's citation part compares with
        ("cited_by_count", pa.int32()),
        ("fwci", pa.float64()),
        ("world_percentile", pa.float64()),  # OpenAlex citation_normalized_percentile
        ("world_top_1pct", pa.bool_()),
        ("world_top_10pct", pa.bool_()),
        ("national_percentile", pa.float64()),  # among papers in China-published journals, same subfield and year
        ("citing_works", pa.int32()),  # citing-side figures, null when not fetched (selection.enrich)
        ("citing_foreign_share", pa.float64()),  # share of citing works with no author in China
        ("citing_countries", pa.int32()),  # distinct countries of the citing works' authors
        ("wos_times_cited", pa.int32()),
        ("esi_highly_cited", pa.bool_()),
        ("esi_hot_paper", pa.bool_()),
        ("cn_number", pa.string()),  # 国内统一刊号, when known
        ("journal_catalogues", pa.list_(pa.string())),  # imported catalogues listing the journal (CSCD ...)
        ("journal_tier", pa.string()),  # imported tier (e.g. 中科院分区 1区), null when none imported
        ("journal_warning", pa.string()),  # imported warning-list entry, null when not listed
        ("abstract", pa.string()),
        ("keywords", pa.list_(pa.string())),
        ("topic_names", pa.list_(pa.string())),
        ("funders", pa.list_(pa.string())),
        ("oa_url", pa.string()),
        ("beijing_author_share", pa.float64()),
        ("consortium", pa.bool_()),  # many authors or countries: the Beijing share matters
        ("record_sources", pa.list_(pa.string())),
    ],
    metadata={TABLE_KEY: b"candidates", VERSION_KEY: str(CANDIDATES_SCHEMA_VERSION).encode()},
)
CANDIDATE_COLUMNS = tuple(CANDIDATES_SCHEMA.names)

# The files of a ranking's output folder that the web app imports.
CANDIDATES_FILE = "candidates.parquet"
SUMMARY_FILE = "summary.json"
CHART_FILES = ("score_distributions.png", "topic_shares.png", "indicator_correlations.png")


def short_id(openalex_id: str | None) -> str | None:
    """``https://openalex.org/W123`` -> ``W123`` (ids are case-insensitive; upper-cased);
    short ids pass through; None stays None."""
    if not openalex_id:
        return None
    return openalex_id.rsplit("/", 1)[-1].upper()


def schema_version(schema: pa.Schema, table: str) -> int | None:
    """The schema version stored in a file's schema for ``table`` ("works", "candidates"),
    or None when the file names no version (written before versions) or another table."""
    metadata = schema.metadata or {}
    if metadata.get(TABLE_KEY) != table.encode():
        return None
    try:
        return int(metadata[VERSION_KEY])
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class CandidateSet:
    """A ranking's output as the web app imports it: the candidates table, the summary
    (funnel, lists and shortfalls, settings, input checksum), the charts' paths and the
    SHA-256 of ``candidates.parquet`` (the identity of an import)."""

    folder: Path
    table: pa.Table
    summary: dict
    charts: dict[str, Path]
    sha256: str


def read_candidates(folder: str | Path) -> CandidateSet:
    """Read and check the output folder of ``python -m selection rank``.

    Raises SelectionError naming the fix when a file is missing, ``candidates.parquet`` is
    not a candidates table of ``CANDIDATES_SCHEMA_VERSION`` with exactly
    ``CANDIDATES_SCHEMA``, or the summary does not belong to it (the folder was replaced
    while it was read).
    """
    folder = Path(folder)
    rank_again = "rank the works again with this version (python -m selection rank --works ... --out DIR)"
    path = folder / CANDIDATES_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SelectionError(f"{path} not found; give the --out folder of python -m selection rank") from None
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise SelectionError(f"{path} is not a Parquet file ({exc}); {rank_again}") from None
    version = schema_version(table.schema, "candidates")
    if version != CANDIDATES_SCHEMA_VERSION:
        found = "no candidates schema version" if version is None else f"candidates schema version {version}"
        raise SelectionError(f"{path} has {found}, this platform reads version {CANDIDATES_SCHEMA_VERSION}; {rank_again}")
    if not table.schema.equals(CANDIDATES_SCHEMA):
        difference = _first_difference(table.schema, CANDIDATES_SCHEMA)
        raise SelectionError(f"{path} does not have the candidates columns ({difference}); {rank_again}")
    sha256 = hashlib.sha256(data).hexdigest()
    summary_path = folder / SUMMARY_FILE
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SelectionError(f"{summary_path} not found; {rank_again}") from None
    except ValueError as exc:
        raise SelectionError(f"{summary_path} is not JSON ({exc}); {rank_again}") from None
    if summary.get("candidates_sha256") != sha256:
        raise SelectionError(
            f"{summary_path} does not describe {path} (another ranking replaced the folder while it was read, "
            "or the files come from different runs); read it again, or rank again"
        )
    charts = {name: folder / name for name in CHART_FILES}
    missing = [name for name, chart in charts.items() if not chart.is_file()]
    if missing:
        raise SelectionError(f"{folder} lacks the chart(s) {', '.join(missing)}; {rank_again}")
    return CandidateSet(folder, table, summary, charts, sha256)


def _first_difference(found: pa.Schema, expected: pa.Schema) -> str:
    for position, field in enumerate(expected):
        if position >= len(found.names):
            return f"column {field.name} is missing"
        if found.field(position) != field:
            other = found.field(position)
            return f"column {position + 1} is {other.name} {other.type}, expected {field.name} {field.type}"
    return f"extra column {found.names[len(expected.names)]}"
